/* SPDX-License-Identifier: MIT */
#pragma once

/* Helpers shared by the unit tests (include after cmocka.h). */

#include <stdlib.h>
#include <string.h>
#include <unistd.h>

/* Writes content to a new temp file; returns its malloc'd path (unlink and free it). */
static inline char *test_write_temp(const char *content) {
        char *path = strdup("/tmp/vigil-unit-XXXXXX");
        int fd = mkstemp(path);
        assert_true(fd >= 0);
        assert_int_equal(write(fd, content, strlen(content)), (ssize_t)strlen(content));
        close(fd);
        return path;
}
