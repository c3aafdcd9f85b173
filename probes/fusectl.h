/* SPDX-License-Identifier: MIT */
#pragma once

/*
 * The FUSE control file system (/sys/fs/fuse/connections/<minor>/), which tells how many requests
 * of a connection wait for the daemon and can abort the connection. Reading it never touches the
 * FUSE mount itself.
 */

#include <stdint.h>

#define FUSECTL_DIR "/sys/fs/fuse/connections"

/*
 * Mounts fusectl on FUSECTL_DIR when it is not mounted yet and this process may. Remembers the
 * outcome, so it tries once per process. Returns 0 when mounted, -errno otherwise.
 */
int fusectl_ensure(void);

/* Reads <dir>/<minor>/waiting (dir NULL: FUSECTL_DIR). */
int fusectl_read_waiting(const char *dir, unsigned minor, int64_t *ret);
