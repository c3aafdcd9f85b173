/* SPDX-License-Identifier: MIT */
#include <dirent.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stddef.h>
#include <sys/stat.h>
#include <sys/statfs.h>

#include "fuse-probe.h"
#include "fusectl.h"
#include "json-util.h"
#include "mountinfo.h"

#define DEFAULT_WARN_LATENCY (500 * USEC_PER_MSEC)
#define DEFAULT_READDIR_ENTRIES 16
#define CANARY_READ_MAX 4096

typedef struct FuseProbe {
        char *path; /* normalised mount path */
        FuseShared *shared; /* MAP_SHARED, survives fork */
        bool mounted;
        MountEntry mount; /* valid when mounted */
        char *not_mounted; /* why not, when !mounted */
        int64_t waiting; /* fusectl's counter at the deadline, -1 when not taken */
} FuseProbe;

static const char *const op_names[_FUSE_OP_MAX] = {
        [FUSE_OP_STATFS] = "statfs",
        [FUSE_OP_STAT] = "stat",
        [FUSE_OP_READDIR] = "readdir",
        [FUSE_OP_OPEN] = "open",
        [FUSE_OP_READ] = "read",
};

/* --- settings ----------------------------------------------------------------------------- */

static const ConfigOption fuse_options[] = {
        {"canary", 0, CONFIG_STRING, offsetof(FuseSettings, canary), "FILE",
                "file to read through the mount (relative to the mount root)"},
        {"expect", 0, CONFIG_STRING, offsetof(FuseSettings, expect), "TEXT",
                "expected first bytes of the canary"},
        {"warn_latency", 0, CONFIG_DURATION, offsetof(FuseSettings, warn_latency), "DURATION",
                "an operation slower than this is WARN"},
        {"readdir_entries", 0, CONFIG_UINT, offsetof(FuseSettings, readdir_entries), "N",
                "directory entries to read from the mount root"},
};

static void fuse_settings_init(void *p) {
        FuseSettings *s = p;
        *s = (FuseSettings){
                .warn_latency = DEFAULT_WARN_LATENCY, .readdir_entries = DEFAULT_READDIR_ENTRIES};
}

static void fuse_settings_done(void *p) {
        FuseSettings *s = p;
        s->canary = mfree(s->canary);
        s->expect = mfree(s->expect);
}

static int fuse_settings_check(const char *target, const void *p, char **ret_reason) {
        const FuseSettings *s = p;
        if (s->expect && !s->canary)
                return asprintf(ret_reason, "'expect' needs a 'canary' file") < 0 ? -ENOMEM : -EINVAL;
        if (s->expect && strlen(s->expect) >= CANARY_READ_MAX)
                return asprintf(ret_reason, "'expect' is longer than %d bytes", CANARY_READ_MAX - 1) < 0
                        ? -ENOMEM
                        : -EINVAL;
        if (s->canary && (strstr(s->canary, "..") || isempty(s->canary)))
                return asprintf(ret_reason, "'canary' must be a path inside the mount without '..'") < 0
                        ? -ENOMEM
                        : -EINVAL;
        return 0;
}

/* --- instance ----------------------------------------------------------------------------- */

static void *fuse_probe_free(void *p) {
        FuseProbe *f = p;
        if (!f)
                return NULL;
        if (f->shared)
                probe_shared_free(f->shared, sizeof(FuseShared));
        mount_entry_done(&f->mount);
        free(f->not_mounted);
        free(f->path);
        return mfree(f);
}

static int fuse_probe_init(const char *target, void **ret_state) {
        FuseProbe *f = calloc(1, sizeof(FuseProbe));
        int r;

        if (!f)
                return -ENOMEM;
        r = path_normalize(target, &f->path);
        if (r < 0) {
                fuse_probe_free(f);
                return r;
        }
        f->shared = probe_shared_new(sizeof(FuseShared));
        if (!f->shared) {
                r = -errno;
                fuse_probe_free(f);
                return r;
        }
        /* Best effort: without fusectl the result just lacks the "waiting" counter. */
        (void)fusectl_ensure();
        *ret_state = f;
        return 0;
}

static int fuse_probe_start(void *state, const void *settings) {
        FuseProbe *f = state;
        MountEntry m = {};
        int r;

        mount_entry_done(&f->mount);
        f->not_mounted = mfree(f->not_mounted);
        f->waiting = -1;
        memset(f->shared, 0, sizeof(FuseShared));

        r = mountinfo_find(NULL, f->path, &m);
        if (r == 1 && mount_entry_is_fuse(&m)) {
                f->mount = m;
                f->mounted = true;
                return 0;
        }
        f->mounted = false;
        if (r == 1)
                r = asprintf(&f->not_mounted, "not a FUSE mount: %s is a %s mount of %s", f->path, m.fs_type,
                        m.source);
        else if (r == 0)
                r = asprintf(&f->not_mounted,
                        "not mounted: nothing is mounted on %s (it lies on the %s mount of %s at %s)",
                        f->path, m.fs_type, m.source, m.mount_point);
        else
                r = asprintf(&f->not_mounted, "not mounted: cannot read the mount table: %s", strerror(-r));
        mount_entry_done(&m);
        return r < 0 ? -ENOMEM : 1;
}

/* --- child -------------------------------------------------------------------------------- */

static void op_begin(FuseShared *sh, int op) {
        op_record_begin(&sh->ops[op]);
}

/* Records the end of op from a syscall's return value r (errno on failure); true on success. */
static bool op_end(FuseShared *sh, int op, int r) {
        return op_record_end(&sh->ops[op], r < 0 ? errno : 0);
}

static int read_canary(FuseShared *sh, const char *path, const FuseSettings *s) {
        _cleanup_(closep) int fd = -EBADF;
        char buf[CANARY_READ_MAX];
        char full[PATH_MAX];

        if (s->canary[0] == '/')
                snprintf(full, sizeof(full), "%s", s->canary);
        else
                snprintf(full, sizeof(full), "%s/%s", streq(path, "/") ? "" : path, s->canary);

        op_begin(sh, FUSE_OP_OPEN);
        fd = open(full, O_RDONLY | O_CLOEXEC | O_NOCTTY);
        if (!op_end(sh, FUSE_OP_OPEN, fd))
                return 0;
        /* Without this the read could be answered from the page cache and prove nothing. */
        (void)posix_fadvise(fd, 0, 0, POSIX_FADV_DONTNEED);
        op_begin(sh, FUSE_OP_READ);
        ssize_t n = pread(fd, buf, sizeof(buf), 0);
        if (!op_end(sh, FUSE_OP_READ, (int)MIN(n, 0)))
                return 0;
        sh->canary_bytes = (int32_t)n;
        size_t k = MIN((size_t)n, (size_t)FUSE_SAMPLE_MAX - 1);
        memcpy(sh->canary_sample, buf, k);
        sh->canary_sample[k] = 0;
        if (s->expect) {
                size_t l = strlen(s->expect);
                sh->canary_mismatch = (size_t)n < l || memcmp(buf, s->expect, l) != 0;
        }
        return 0;
}

static int fuse_probe_run(void *state, const void *settings) {
        FuseProbe *f = state;
        const FuseSettings *s = settings;
        FuseShared *sh = f->shared;
        struct statfs sfs;
        struct stat st;

        op_begin(sh, FUSE_OP_STATFS);
        if (!op_end(sh, FUSE_OP_STATFS, statfs(f->path, &sfs)))
                return 0;
        op_begin(sh, FUSE_OP_STAT);
        if (!op_end(sh, FUSE_OP_STAT, stat(f->path, &st)))
                return 0;

        /* getdents64() into the stack rather than opendir(): its 32 KiB buffer, fresh heap in a
         * forked child, cost a page fault a page, each cycle. */
        op_begin(sh, FUSE_OP_READDIR);
        _cleanup_(closep) int dfd = open(f->path, O_RDONLY | O_DIRECTORY | O_CLOEXEC | O_NOCTTY);
        ssize_t n = dfd < 0 ? -1 : 0;
        unsigned seen = 0;
        while (dfd >= 0 && seen < s->readdir_entries) {
                _Alignas(struct dirent64) char buf[4096];
                n = getdents64(dfd, buf, sizeof(buf));
                if (n <= 0)
                        break;
                for (ssize_t at = 0; at < n && seen < s->readdir_entries;
                        at += ((struct dirent64 *)(buf + at))->d_reclen)
                        seen++;
                sh->entries = (int32_t)seen;
        }
        if (!op_end(sh, FUSE_OP_READDIR, (int)MIN(n, 0)))
                return 0;

        if (s->canary)
                read_canary(sh, f->path, s);
        return 0;
}

/* --- classification ----------------------------------------------------------------------- */

const char *fuse_errno_explain(int error) {
        switch (error) {
        case ENOTCONN:
                return "FUSE daemon gone: transport endpoint is not connected";
        case ECONNABORTED:
                return "FUSE connection aborted: transport endpoint is not connected";
        case EIO:
                return "I/O error from the FUSE file system";
        case ESTALE:
                return "stale file handle: the mount must be remounted";
        case EACCES:
        case EPERM:
                return "permission denied";
        case EHOSTDOWN:
                return "FUSE backend host is down";
        case ENOENT:
                return "no such file";
        default:
                return NULL;
        }
}

static Vigil__FuseDetails *fuse_details_new(const char *fs_type, const char *source, unsigned minor,
        int64_t waiting, const FuseShared *sh, int first_op, int end_op, usec_t now) {
        _cleanup_(freep) Vigil__FuseDetails *d = malloc(sizeof(Vigil__FuseDetails));
        if (!d)
                return NULL;
        vigil__fuse_details__init(d);
        d->waiting = waiting;
        d->dev_minor = minor;
        d->operations = calloc(end_op - first_op, sizeof(Vigil__FuseOperation *));
        d->fs_type = strdup(strempty(fs_type));
        d->source = strdup(strempty(source));
        if (!d->operations || !d->fs_type || !d->source)
                goto fail;
        for (int op = first_op; op < end_op; op++) {
                const OpRecord *rec = &sh->ops[op];
                if (rec->state == OP_NOT_STARTED)
                        continue;
                Vigil__FuseOperation *o = malloc(sizeof(Vigil__FuseOperation));
                if (!o)
                        goto fail;
                vigil__fuse_operation__init(o);
                d->operations[d->n_operations++] = o;
                if (!(o->name = strdup(op_names[op])))
                        goto fail;
                o->finished = rec->state == OP_FINISHED;
                o->latency_us = op_record_latency(rec, now);
                o->errno_value = rec->error;
        }
        return TAKE_PTR(d);
fail:
        protobuf_c_message_free_unpacked(&TAKE_PTR(d)->base, NULL);
        return NULL;
}

/* The operation a stuck child is in: the last one started and not finished. */
static int op_in_progress(const FuseShared *sh) {
        return op_records_in_progress(sh->ops, _FUSE_OP_MAX);
}

static usec_t ops_latency(const FuseShared *sh, int first, int end) {
        usec_t sum = 0;
        for (int op = first; op < end; op++)
                if (sh->ops[op].state == OP_FINISHED)
                        sum += sh->ops[op].latency_usec;
        return sum;
}

/*
 * Fills c from the operations [first, end) of one check: the first failure is CRIT, an operation
 * over the threshold WARN, else OK with ok_message.
 */
static int classify_ops(CheckResult *c, const FuseShared *sh, const FuseSettings *s, int first, int end,
        const char *ok_message) {
        int slow_op = -1;
        for (int op = first; op < end; op++) {
                const OpRecord *rec = &sh->ops[op];
                if (rec->state != OP_FINISHED)
                        continue;
                if (rec->error != 0) {
                        const char *why = fuse_errno_explain(rec->error);
                        if (why)
                                return check_set(c, VIGIL_CRIT, rec->error, NULL, "%s (%s in %s)", why,
                                        errno_to_name(rec->error), op_names[op]);
                        return check_set(c, VIGIL_CRIT, rec->error, NULL, "%s failed: %s (%s)", op_names[op],
                                strerror(rec->error), strempty(errno_to_name(rec->error)));
                }
                if (rec->latency_usec > s->warn_latency &&
                        (slow_op < 0 || rec->latency_usec > sh->ops[slow_op].latency_usec))
                        slow_op = op;
        }
        if (slow_op >= 0)
                return check_set(c, VIGIL_WARN, 0, "SLOW", "slow: %s took %s (threshold %s)",
                        op_names[slow_op], FORMAT_DURATION(sh->ops[slow_op].latency_usec),
                        FORMAT_DURATION(s->warn_latency));
        return check_set(c, VIGIL_OK, 0, NULL, "%s", ok_message);
}

static int hung_message(CheckResult *c, const FuseShared *sh, const ProbeOutcome *o, int64_t waiting) {
        int op = op_in_progress(sh);
        const char *in = op >= 0 ? op_names[op] : "start-up";
        char queued[64] = "";

        if (waiting > 0)
                snprintf(queued, sizeof(queued), "; %" PRId64 " request%s waiting", waiting,
                        waiting == 1 ? "" : "s");
        c->fuse->hung_for_us = o->elapsed;
        c->latency_us = o->elapsed;
        c->fuse->hung_in = strdup(in);
        if (!c->fuse->hung_in)
                return -ENOMEM;
        if (o->kind == PROBE_STUCK) {
                c->fuse->stuck_pid = o->pid;
                return check_set(c, VIGIL_CRIT, 0, "HUNG",
                        "hung for %s in %s: probe process %d survived SIGKILL (the daemon took the request "
                        "and never answered)%s; no new probe until it exits",
                        FORMAT_DURATION(o->elapsed), in, (int)o->pid, queued);
        }
        return check_set(c, VIGIL_CRIT, 0, "HUNG", "hung for %s in %s: FUSE daemon not answering%s",
                FORMAT_DURATION(o->elapsed), in, queued);
}

int fuse_probe_classify(const char *target, const FuseSettings *s, const FuseShared *sh,
        const ProbeOutcome *o, const char *fs_type, const char *source, unsigned minor, int64_t waiting,
        CheckList *results) {
        _cleanup_(check_freep) CheckResult *m = check_new("fuse.mount", target);
        _cleanup_(check_freep) CheckResult *rd = s->canary ? check_new("fuse.read", target) : NULL;
        usec_t now = now_usec(CLOCK_MONOTONIC);
        bool mount_done = sh->ops[FUSE_OP_READDIR].state == OP_FINISHED &&
                sh->ops[FUSE_OP_READDIR].error == 0 && sh->ops[FUSE_OP_STAT].error == 0 &&
                sh->ops[FUSE_OP_STATFS].error == 0;
        int r;

        if (!m || (s->canary && !rd))
                return -ENOMEM;
        if (!(m->fuse = fuse_details_new(
                      fs_type, source, minor, waiting, sh, FUSE_OP_STATFS, FUSE_OP_OPEN, now)))
                return -ENOMEM;
        m->latency_us = ops_latency(sh, FUSE_OP_STATFS, FUSE_OP_OPEN);
        if (rd) {
                if (!(rd->fuse = fuse_details_new(
                              fs_type, source, minor, waiting, sh, FUSE_OP_OPEN, _FUSE_OP_MAX, now)))
                        return -ENOMEM;
                rd->latency_us = ops_latency(sh, FUSE_OP_OPEN, _FUSE_OP_MAX);
        }

        switch (o->kind) {
        case PROBE_FORK_FAILED:
                r = check_set(m, VIGIL_UNKNOWN, -o->error, NULL, "cannot start the probe process: %s",
                        strerror(-o->error));
                if (r >= 0 && rd)
                        r = check_set(
                                rd, VIGIL_UNKNOWN, 0, NULL, "not run: the probe process could not start");
                break;
        case PROBE_TIMED_OUT:
        case PROBE_STUCK: {
                int op = op_in_progress(sh);
                bool in_read = op >= FUSE_OP_OPEN;
                r = hung_message(in_read && rd ? rd : m, sh, o, waiting);
                if (r < 0)
                        break;
                if (in_read && rd)
                        r = classify_ops(m, sh, s, FUSE_OP_STATFS, FUSE_OP_OPEN, "mount answers");
                else if (rd)
                        r = check_set(rd, VIGIL_UNKNOWN, 0, NULL, "not run: the mount check did not finish");
                break;
        }
        case PROBE_EXITED:
                if (o->child_code != CLD_EXITED) {
                        r = check_set(m, VIGIL_UNKNOWN, 0, "PROBE_DIED", "probe process died: %s",
                                strsignal(o->child_status));
                        if (r >= 0 && rd)
                                r = check_set(rd, VIGIL_UNKNOWN, 0, NULL, "not run: the probe process died");
                        break;
                }
                r = classify_ops(m, sh, s, FUSE_OP_STATFS, FUSE_OP_OPEN, "");
                if (r >= 0 && check_status(m) == VIGIL_OK)
                        r = check_set(m, VIGIL_OK, 0, NULL,
                                "mounted (%s); statfs, stat and readdir (%d entries) in %s", fs_type,
                                sh->entries, FORMAT_DURATION(m->latency_us));
                if (r < 0 || !rd)
                        break;
                if (!mount_done)
                        r = check_set(rd, VIGIL_UNKNOWN, 0, NULL, "not run: the mount check failed");
                else {
                        r = classify_ops(rd, sh, s, FUSE_OP_OPEN, _FUSE_OP_MAX, "");
                        if (r >= 0 && check_status(rd) == VIGIL_OK) {
                                if (sh->canary_mismatch)
                                        r = check_set(rd, VIGIL_CRIT, 0, "CONTENT_MISMATCH",
                                                "canary %s content differs: expected \"%s\", read \"%.*s\"",
                                                s->canary, s->expect,
                                                (int)MIN(strlen(s->expect), (size_t)FUSE_SAMPLE_MAX - 1),
                                                sh->canary_sample);
                                else
                                        r = check_set(rd, VIGIL_OK, 0, NULL, "read %d bytes of %s in %s%s",
                                                sh->canary_bytes, s->canary, FORMAT_DURATION(rd->latency_us),
                                                s->expect ? ", content as expected" : "");
                        }
                }
                break;
        case PROBE_NO_CHILD:
        default:
                r = -EINVAL;
        }
        if (r < 0)
                return r;
        if (waiting >= 0 && (r = check_add_int(m, "waiting", waiting, NULL)) < 0)
                return r;
        if ((r = check_list_add(results, m)) < 0)
                return r;
        TAKE_PTR(m);
        if (rd) {
                if ((r = check_list_add(results, rd)) < 0)
                        return r;
                TAKE_PTR(rd);
        }
        return 0;
}

static int fuse_probe_collect(void *state, const void *settings, const ProbeOutcome *o, CheckList *results) {
        FuseProbe *f = state;
        const FuseSettings *s = settings;
        int64_t waiting = -1;
        int r;

        if (o->kind == PROBE_NO_CHILD) {
                _cleanup_(check_freep) CheckResult *m = check_new("fuse.mount", f->path);
                if (!m)
                        return -ENOMEM;
                r = check_set(m, VIGIL_CRIT, 0, "NOT_MOUNTED", "%s", strempty(f->not_mounted));
                if (r < 0 || (r = check_list_add(results, m)) < 0)
                        return r;
                TAKE_PTR(m);
                if (s->canary) {
                        _cleanup_(check_freep) CheckResult *rd = check_new("fuse.read", f->path);
                        if (!rd)
                                return -ENOMEM;
                        r = check_set(rd, VIGIL_UNKNOWN, 0, NULL, "not run: the path is not a FUSE mount");
                        if (r < 0 || (r = check_list_add(results, rd)) < 0)
                                return r;
                        TAKE_PTR(rd);
                }
                return 0;
        }
        /* A killed child's request leaves the queue: at a deadline use what was queued before. */
        if (o->kind == PROBE_TIMED_OUT && f->waiting >= 0)
                waiting = f->waiting;
        else if (f->mounted)
                (void)fusectl_read_waiting(NULL, f->mount.minor, &waiting);
        return fuse_probe_classify(f->path, s, f->shared, o, f->mount.fs_type, f->mount.source,
                f->mount.minor, waiting, results);
}

static void fuse_probe_deadline(void *state) {
        FuseProbe *f = state;
        if (f->mounted)
                (void)fusectl_read_waiting(NULL, f->mount.minor, &f->waiting);
}

const ProbeOps fuse_probe_ops = {
        .name = "fuse",
        .options = fuse_options,
        .n_options = ELEMENTSOF(fuse_options),
        .settings_size = sizeof(FuseSettings),
        .settings_init = fuse_settings_init,
        .settings_done = fuse_settings_done,
        .settings_check = fuse_settings_check,
        .init = fuse_probe_init,
        .start = fuse_probe_start,
        .run = fuse_probe_run,
        .collect = fuse_probe_collect,
        .deadline = fuse_probe_deadline,
        .free = fuse_probe_free,
};
