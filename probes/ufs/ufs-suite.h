/* SPDX-License-Identifier: MIT */
#pragma once

/*
 * The UFS operation suite, what `alluxio exec ufsTest` runs, written once over ufs.h: each test is
 * independent, works in a directory of its own below a unique run directory under the root, and
 * the run directory is removed at the end, also when a test failed or the run was cancelled.
 * The test names are Alluxio's (createAtomicTest, ..., createAndAbortMultipartFileTest), so that
 * operators find the ones they know; tests that do not apply to a scheme (createNoParentTest needs
 * real directories, the multipart tests need multipart) are skipped, not failed.
 *
 * Listing tests tolerate eventual consistency: a listing that does not yet show what was written is
 * retried until list_retry_timeout has passed.
 */

#include <signal.h>
#include <stdbool.h>
#include <stddef.h>

#include "time-util.h"
#include "ufs.h"

typedef struct UfsSuiteResult {
        const char *name; /* "createAtomicTest", static */
        bool skipped; /* does not apply to this scheme */
        bool passed;
        usec_t duration;
        const char *reason; /* when failed: operator words ("ufs_stat(dir/f): ENOENT: No such file ..."),
                             * when skipped: why ("does not apply: this UFS has no multipart uploads");
                             * borrowed for the duration of the callback */
} UfsSuiteResult;

typedef struct UfsSuiteCallbacks {
        /* Before a test runs ("Running test: createAtomicTest..."); may be NULL. */
        void (*start)(void *userdata, const char *name);
        /* After it ran or was skipped; may be NULL. */
        void (*done)(void *userdata, const UfsSuiteResult *result);
        void *userdata;
} UfsSuiteCallbacks;

typedef struct UfsSuiteOptions {
        usec_t list_retry_timeout; /* 0: 180 s, as ufsTest */
        unsigned large_dir_files; /* files in the "large directory" tests; 0: 100 */
        uint64_t large_file_size; /* bytes of the "large" file tests; 0: 20 MiB (more than two s3 parts of
                                   * the default part size, so multipart is exercised) */
        const volatile sig_atomic_t *cancel; /* when it becomes non-zero (Ctrl-C), the running test fails
                                              * at its next operation and no further test starts; the
                                              * clean-up still runs; may be NULL */
} UfsSuiteOptions;

/* All test names in the order they run; NULL-terminated, static. */
extern const char *const ufs_suite_test_names[];

/* Whether name is a test of the suite (with or without the "Test" suffix: "createAtomic" works). */
bool ufs_suite_has_test(const char *name);

/*
 * Runs the tests named in names (NULL: all) against u, in the suite's order, under a new run
 * directory "vigil-ufs-test-<time>-<random>" below the root. Reports each test through cb. Returns
 * the number of tests that failed (0..n), or -errno when the run could not start (the run directory
 * could not be made) or its clean-up failed (the run directory is named in ufs_error(u)).
 * *ret_cancelled tells whether a cancel cut the run short (may be NULL).
 */
int ufs_suite_run(Ufs *u, char *const *names, const UfsSuiteOptions *o, const UfsSuiteCallbacks *cb,
        bool *ret_cancelled);
