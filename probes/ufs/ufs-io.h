/* SPDX-License-Identifier: MIT */
#pragma once

/*
 * The UFS throughput test, what `alluxio exec ufsIOTest` runs: each of N threads writes one file of
 * io_size bytes below a unique run directory under the root, then (once every writer finished) reads
 * it back, each transfer timed. Data streams through a 1 MiB pattern block, so memory stays bounded
 * whatever io_size is, and every byte read back is compared with what was written (a mismatch is an
 * error of that thread). The run directory is removed at the end, also after errors or a cancel.
 *
 * Each thread opens its own Ufs (a Ufs is not shared between threads).
 */

#include <signal.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "time-util.h"
#include "ufs.h"

#define UFS_IO_DEFAULT_THREADS 4
#define UFS_IO_DEFAULT_SIZE (4ULL * 1024 * 1024 * 1024)
#define UFS_IO_MAX_THREADS 256

typedef enum UfsIoMode {
        UFS_IO_WRITE,
        UFS_IO_READ,
} UfsIoMode;

/* One timed transfer of one thread. */
typedef struct UfsIoPoint {
        UfsIoMode mode;
        unsigned thread;
        double duration_s;
        uint64_t bytes;
} UfsIoPoint;

/*
 * Speeds of the transfers of one mode, in MB/s of 2^20 bytes (as ufsIOTest): max, min and avg over
 * the threads' own speeds (avg is their mean, stddev their population standard deviation);
 * cluster_avg_mbps is the aggregate, total bytes over the wall-clock time of the phase
 * (total_duration_s, first start to last end). Only successful transfers count; all 0 when none.
 */
typedef struct UfsIoStat {
        double total_duration_s;
        uint64_t total_bytes;
        double max_mbps, min_mbps, avg_mbps, cluster_avg_mbps, stddev_mbps;
} UfsIoStat;

typedef struct UfsIoSummary {
        UfsIoStat write, read;
        UfsIoPoint *points; /* successful transfers, writes then reads, by thread */
        size_t n_points;
        /* NULL-terminated, may be empty: operator words ("thread 1 write: PUT s3://b/k: ...") */
        char **errors;
        unsigned threads;
        uint64_t io_size;
        char *path; /* the root URI */
        bool cancelled;
} UfsIoSummary;
void ufs_io_summary_done(UfsIoSummary *s);

typedef struct UfsIoProgress {
        UfsIoMode mode;
        uint64_t done, total; /* bytes of this phase, all threads */
        usec_t elapsed; /* since the phase started */
} UfsIoProgress;

typedef struct UfsIoOptions {
        unsigned threads; /* 0: UFS_IO_DEFAULT_THREADS */
        uint64_t io_size; /* per thread; 0: UFS_IO_DEFAULT_SIZE */
        const volatile sig_atomic_t
                *cancel; /* non-zero: transfers stop at their next chunk; clean-up runs */
        /* Called in the calling thread about every progress_interval (0: 250 ms) while a phase runs, and
         * once at its end; may be NULL. */
        void (*progress)(void *userdata, const UfsIoProgress *p);
        void *userdata;
        usec_t progress_interval;
} UfsIoOptions;

/*
 * Runs the test against the UFS at root opened with uo. Returns 0 when the test ran (transfers that
 * failed are in ret->errors, and the caller decides what that means), or -errno when it could not
 * start: options out of range (-EINVAL), the UFS could not be opened or the run directory not made
 * (the reason in *ret_reason, owned by the caller). A clean-up that failed is one more error.
 */
int ufs_io_run(const UfsUri *root, const UfsOptions *uo, const UfsIoOptions *o, UfsIoSummary *ret,
        char **ret_reason);

/* The stats of the points of mode (see UfsIoStat); phase_s is the wall-clock time of the phase. */
void ufs_io_stat_compute(const UfsIoPoint *points, size_t n, UfsIoMode mode, double phase_s, UfsIoStat *ret);
