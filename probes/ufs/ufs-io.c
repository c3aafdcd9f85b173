/* SPDX-License-Identifier: MIT */
#include <inttypes.h>
#include <math.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdatomic.h>

#include "ufs-io.h"

/*
 * The data: a 1 MiB block of pseudo-random bytes repeated, the first 8 bytes of every MiB replaced by
 * a stamp of the thread and the MiB's index, so a misplaced, repeated or mixed-up MiB is caught on
 * read-back at the cost of a memcmp.
 */
#define PATTERN_BLOCK (1024 * 1024)
#define STAMP_SIZE 8

typedef struct Pattern {
        uint8_t block[PATTERN_BLOCK];
} Pattern;

static void pattern_init(Pattern *p) {
        uint64_t x = 0x9E3779B97F4A7C15ULL;
        for (size_t i = 0; i < PATTERN_BLOCK; i += 8) {
                x ^= x << 13;
                x ^= x >> 7;
                x ^= x << 17;
                memcpy(p->block + i, &x, 8);
        }
}

/* The longest run of the stream of thread at pos (at most n bytes) that comes from one place: *ret_src
 * points into the block or into stamp (filled here). */
static size_t pattern_run(const Pattern *p, unsigned thread, uint64_t pos, size_t n,
        uint8_t stamp[STAMP_SIZE], const uint8_t **ret_src) {
        uint64_t in = pos % PATTERN_BLOCK;
        if (in < STAMP_SIZE) {
                uint64_t s = (pos / PATTERN_BLOCK) ^ ((uint64_t)thread << 48) ^ 0x5649474C00000000ULL;
                memcpy(stamp, &s, STAMP_SIZE);
                *ret_src = stamp + in;
                return MIN(n, STAMP_SIZE - in);
        }
        *ret_src = p->block + in;
        return MIN(n, PATTERN_BLOCK - in);
}

/* ---------------------------------------------------------------------------------- threads */

typedef struct Run Run;

typedef struct IoThread {
        Run *run;
        unsigned index;
        Ufs *ufs;
        char *path; /* relative to the root */
        pthread_t tid;
        bool started;
        uint64_t pos; /* bytes moved in the current phase */
        usec_t begin, end;
        int error; /* of the current phase, -errno */
        char *error_text;
        bool wrote; /* the write phase succeeded: read it back */
} IoThread;

struct Run {
        const UfsIoOptions *o;
        uint64_t io_size;
        Pattern *pattern;
        UfsIoMode mode;
        atomic_uint_fast64_t done; /* bytes of the current phase, all threads */
        pthread_mutex_t lock;
        pthread_cond_t cond;
        unsigned running;
};

static bool cancelled(const Run *run) {
        return run->o->cancel && *run->o->cancel;
}

static ssize_t io_fill(void *userdata, void *buf, size_t n) {
        IoThread *t = userdata;
        Run *run = t->run;
        if (cancelled(run))
                return -ECANCELED;
        n = MIN(n, run->io_size - t->pos);
        uint8_t *dst = buf, stamp[STAMP_SIZE];
        for (size_t done = 0; done < n;) {
                const uint8_t *src;
                size_t k = pattern_run(run->pattern, t->index, t->pos + done, n - done, stamp, &src);
                memcpy(dst + done, src, k);
                done += k;
        }
        t->pos += n;
        atomic_fetch_add(&run->done, n);
        return (ssize_t)n;
}

static int io_check(void *userdata, const void *buf, size_t n) {
        IoThread *t = userdata;
        Run *run = t->run;
        if (cancelled(run))
                return -ECANCELED;
        if (n > run->io_size - t->pos)
                return -EFBIG;
        const uint8_t *got = buf;
        uint8_t stamp[STAMP_SIZE];
        for (size_t done = 0; done < n;) {
                const uint8_t *src;
                size_t k = pattern_run(run->pattern, t->index, t->pos + done, n - done, stamp, &src);
                if (memcmp(got + done, src, k) != 0)
                        return -EBADMSG;
                done += k;
        }
        t->pos += n;
        atomic_fetch_add(&run->done, n);
        return 0;
}

static void thread_fail(IoThread *t, int r, const char *fmt, ...) _printf_(3, 4);
static void thread_fail(IoThread *t, int r, const char *fmt, ...) {
        va_list ap;
        _cleanup_(freep) char *what = NULL;
        va_start(ap, fmt);
        if (vasprintf(&what, fmt, ap) < 0)
                what = NULL;
        va_end(ap);
        t->error = r;
        free(t->error_text);
        if (asprintf(&t->error_text, "thread %u %s", t->index, what ?: "failed") < 0)
                t->error_text = NULL;
}

/* Records a failed ufs_create() or ufs_read() of the thread's file: ufs_error() names the operation
 * and the place itself; an error of our own callback has no words there. */
static void thread_fail_ufs(IoThread *t, int r, const char *op) {
        if (r == -ECANCELED)
                thread_fail(t, r, "%s %s: cancelled", op, t->path);
        else if (!isempty(ufs_error(t->ufs)))
                thread_fail(t, r, "%s: %s", op, ufs_error(t->ufs));
        else
                thread_fail(t, r, "%s %s: %s", op, t->path, strerror(-r));
}

static void *io_thread(void *userdata) {
        IoThread *t = userdata;
        Run *run = t->run;
        int r;

        t->pos = 0;
        t->error = 0;
        t->begin = now_usec(CLOCK_MONOTONIC);
        if (run->mode == UFS_IO_WRITE) {
                r = ufs_create(t->ufs, t->path, run->io_size, true, io_fill, t);
                if (r < 0)
                        thread_fail_ufs(t, r, "write");
                else
                        t->wrote = true;
        } else {
                r = ufs_read(t->ufs, t->path, 0, UFS_SIZE_UNKNOWN, io_check, t);
                if (r == -EBADMSG)
                        thread_fail(t, r,
                                "read %s: data read back differs from what was written, near byte %" PRIu64,
                                t->path, t->pos);
                else if (r < 0)
                        thread_fail_ufs(t, r, "read");
                else if (t->pos != run->io_size)
                        thread_fail(t, -EIO, "read %s: %" PRIu64 " bytes back of %" PRIu64 " written",
                                t->path, t->pos, run->io_size);
        }
        t->end = now_usec(CLOCK_MONOTONIC);

        pthread_mutex_lock(&run->lock);
        run->running--;
        pthread_cond_signal(&run->cond);
        pthread_mutex_unlock(&run->lock);
        return NULL;
}

static void report_progress(Run *run, usec_t begin) {
        if (!run->o->progress)
                return;
        UfsIoProgress p = {
                .mode = run->mode,
                .done = atomic_load(&run->done),
                .elapsed = now_usec(CLOCK_MONOTONIC) - begin,
        };
        /* writes of every thread, or reads of those that wrote */
        p.total = run->io_size * run->o->threads;
        run->o->progress(run->o->userdata, &p);
}

/* Runs one phase on every thread that takes part; returns the wall-clock time of the phase. */
static double run_phase(Run *run, IoThread *threads, unsigned n, UfsIoMode mode, char ***errors) {
        usec_t begin = now_usec(CLOCK_MONOTONIC), first = USEC_INFINITY, last = 0;
        usec_t interval = run->o->progress_interval ?: 250 * USEC_PER_MSEC;

        run->mode = mode;
        atomic_store(&run->done, 0);
        run->running = 0;
        for (unsigned i = 0; i < n; i++) {
                IoThread *t = &threads[i];
                t->started = false;
                if (mode == UFS_IO_READ && !t->wrote)
                        continue;
                pthread_mutex_lock(&run->lock);
                run->running++;
                pthread_mutex_unlock(&run->lock);
                int r = -pthread_create(&t->tid, NULL, io_thread, t);
                if (r < 0) {
                        pthread_mutex_lock(&run->lock);
                        run->running--;
                        pthread_mutex_unlock(&run->lock);
                        thread_fail(t, r, "could not start: %s", strerror(-r));
                        (void)strv_extend(errors, t->error_text);
                        continue;
                }
                t->started = true;
        }

        pthread_mutex_lock(&run->lock);
        while (run->running > 0) {
                struct timespec ts;
                clock_gettime(CLOCK_REALTIME, &ts);
                ts.tv_nsec += (long)(interval % USEC_PER_SEC) * 1000;
                ts.tv_sec += (time_t)(interval / USEC_PER_SEC) + ts.tv_nsec / 1000000000;
                ts.tv_nsec %= 1000000000;
                pthread_cond_timedwait(&run->cond, &run->lock, &ts);
                pthread_mutex_unlock(&run->lock);
                report_progress(run, begin);
                pthread_mutex_lock(&run->lock);
        }
        pthread_mutex_unlock(&run->lock);

        for (unsigned i = 0; i < n; i++) {
                IoThread *t = &threads[i];
                if (!t->started)
                        continue;
                pthread_join(t->tid, NULL);
                first = MIN(first, t->begin);
                last = MAX(last, t->end);
                if (t->error < 0) {
                        (void)strv_extend(errors, t->error_text ?: "thread failed");
                        if (mode == UFS_IO_WRITE)
                                t->wrote = false;
                }
        }
        return last > first ? (double)(last - first) / USEC_PER_SEC : 0;
}

/* ---------------------------------------------------------------------------------- stats */

void ufs_io_stat_compute(
        const UfsIoPoint *points, size_t n, UfsIoMode mode, double phase_s, UfsIoStat *ret) {
        UfsIoStat s = {.min_mbps = INFINITY};
        double sum = 0, sum2 = 0;
        size_t k = 0;

        for (size_t i = 0; i < n; i++) {
                if (points[i].mode != mode)
                        continue;
                double mbps =
                        points[i].duration_s > 0 ? points[i].bytes / 1048576.0 / points[i].duration_s : 0;
                s.total_bytes += points[i].bytes;
                s.max_mbps = MAX(s.max_mbps, mbps);
                s.min_mbps = MIN(s.min_mbps, mbps);
                sum += mbps;
                sum2 += mbps * mbps;
                k++;
        }
        if (k == 0) {
                *ret = (UfsIoStat){};
                return;
        }
        s.total_duration_s = phase_s;
        s.avg_mbps = sum / k;
        s.stddev_mbps = sqrt(MAX(0.0, sum2 / k - s.avg_mbps * s.avg_mbps));
        s.cluster_avg_mbps = phase_s > 0 ? s.total_bytes / 1048576.0 / phase_s : 0;
        *ret = s;
}

void ufs_io_summary_done(UfsIoSummary *s) {
        s->points = mfree(s->points);
        s->n_points = 0;
        s->errors = strv_free(s->errors);
        s->path = mfree(s->path);
}

/* ---------------------------------------------------------------------------------- the run */

static void threads_free(IoThread *threads, unsigned n) {
        if (!threads)
                return;
        for (unsigned i = 0; i < n; i++) {
                ufs_close(threads[i].ufs);
                free(threads[i].path);
                free(threads[i].error_text);
        }
        free(threads);
}

static void add_points(UfsIoSummary *s, const IoThread *threads, unsigned n, UfsIoMode mode) {
        for (unsigned i = 0; i < n; i++) {
                const IoThread *t = &threads[i];
                if (!t->started || t->error < 0)
                        continue;
                s->points[s->n_points++] = (UfsIoPoint){
                        .mode = mode,
                        .thread = t->index,
                        .duration_s = (double)(t->end - t->begin) / USEC_PER_SEC,
                        .bytes = t->pos,
                };
        }
}

int ufs_io_run(const UfsUri *root, const UfsOptions *uo, const UfsIoOptions *o, UfsIoSummary *ret,
        char **ret_reason) {
        UfsIoOptions opts = *o;
        opts.threads = opts.threads ?: UFS_IO_DEFAULT_THREADS;
        opts.io_size = opts.io_size ?: UFS_IO_DEFAULT_SIZE;
        if (opts.threads > UFS_IO_MAX_THREADS)
                return ufs_reason(
                        ret_reason, -EINVAL, "%u threads is more than %u", opts.threads, UFS_IO_MAX_THREADS);

        _cleanup_(ufs_closep) Ufs *main_ufs = NULL;
        int r = ufs_open(root, uo, &main_ufs, ret_reason);
        if (r < 0)
                return r;

        char run_dir[96];
        snprintf(run_dir, sizeof(run_dir), "vigil-ufs-io-test-%" PRIu64 "-%08x",
                now_usec(CLOCK_REALTIME) / USEC_PER_SEC,
                (unsigned)(now_usec(CLOCK_MONOTONIC) ^ (usec_t)getpid() << 16) & 0xffffffffu);
        r = ufs_mkdirs(main_ufs, run_dir, true);
        if (r < 0)
                return ufs_reason(ret_reason, r, "cannot make the test directory %s: %s", run_dir,
                        ufs_error(main_ufs));

        _cleanup_(freep) Pattern *pattern = malloc(sizeof(Pattern));
        IoThread *threads = calloc(opts.threads, sizeof(IoThread));
        UfsIoSummary s = {
                .threads = opts.threads,
                .io_size = opts.io_size,
                .path = ufs_uri_to_string(root),
                .points = calloc(2 * (size_t)opts.threads, sizeof(UfsIoPoint)),
                .errors = calloc(1, sizeof(char *)),
        };
        Run run = {
                .o = &opts,
                .io_size = opts.io_size,
                .pattern = pattern,
                .lock = PTHREAD_MUTEX_INITIALIZER,
                .cond = PTHREAD_COND_INITIALIZER,
        };
        if (!pattern || !threads || !s.path || !s.points || !s.errors) {
                r = -ENOMEM;
                goto finish;
        }
        pattern_init(pattern);

        for (unsigned i = 0; i < opts.threads; i++) {
                IoThread *t = &threads[i];
                char name[32];
                snprintf(name, sizeof(name), "thread-%u", i);
                t->run = &run;
                t->index = i;
                t->path = ufs_path_join(run_dir, name);
                if (!t->path) {
                        r = -ENOMEM;
                        goto finish;
                }
                r = ufs_open(root, uo, &t->ufs, ret_reason);
                if (r < 0)
                        goto finish;
        }

        double write_s = run_phase(&run, threads, opts.threads, UFS_IO_WRITE, &s.errors);
        add_points(&s, threads, opts.threads, UFS_IO_WRITE);
        double read_s = 0;
        if (!cancelled(&run)) {
                read_s = run_phase(&run, threads, opts.threads, UFS_IO_READ, &s.errors);
                add_points(&s, threads, opts.threads, UFS_IO_READ);
        }
        ufs_io_stat_compute(s.points, s.n_points, UFS_IO_WRITE, write_s, &s.write);
        ufs_io_stat_compute(s.points, s.n_points, UFS_IO_READ, read_s, &s.read);
        s.cancelled = cancelled(&run);
        r = 0;

finish:
        /* whatever happened, the files go: also after a cancel, whose requests would be cancelled too */
        ufs_set_cancel(main_ufs, NULL);
        if (ufs_delete_dir(main_ufs, run_dir, true) < 0 && r == 0) {
                _cleanup_(freep) char *e = NULL;
                if (asprintf(&e, "clean-up: could not remove %s: %s", run_dir, ufs_error(main_ufs)) >= 0)
                        (void)strv_extend(&s.errors, e);
        }
        threads_free(threads, opts.threads);
        if (r < 0) {
                ufs_io_summary_done(&s);
                return r;
        }
        *ret = s;
        return 0;
}
