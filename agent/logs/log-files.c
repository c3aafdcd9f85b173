/* SPDX-License-Identifier: MIT */
/*
 * File sources: a bare-metal log file with its log4j rolling ("worker.log" -> "worker.log.1" ->
 * "worker.log.2"), and a Kubernetes container directory (N.log, rotated by kubelet to
 * "N.log.<YYYYMMDD-hhmmss>", later gzipped; N+1.log after a restart).
 *
 * Files are tracked by (dev, inode) and a fingerprint of their first bytes, never by name: a
 * rotation renames the file under us while we keep reading it through our descriptor to its end,
 * and only then go on to the files that came after it (ordered by modification time), so each
 * line is read once and none is skipped, however many rotations happen between two reads. The
 * unconsumed end of a file (an unfinished line) is simply read again next time: nothing but the
 * offset and the scanner's carry-over is kept, and a single read buffer is shared by all sources.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <limits.h>
#include <sys/stat.h>
#include <unistd.h>

#include "log-source.h"
#include "time-util.h"

#define FINGERPRINT_MAX 256
#define READ_BUF_MIN (256 * 1024)

typedef struct TailFile {
        int fd;
        uint64_t dev, ino;
        uint64_t offset;
        uint64_t fingerprint;
        uint32_t fingerprint_len;
        char *name;
} TailFile;

typedef struct FileSource {
        LogSource base;
        char *dir;
        char *current; /* the name being written to: "worker.log", "3.log" */
        bool pod; /* kubelet naming and restarts */
        bool from_head;
        bool appeared; /* anchor(): the files showed up after we started looking */
        size_t max_line;
        TailFile *files; /* files being read, oldest first; the last one was last seen as current */
        size_t n_files;
} FileSource;

static int stat_at(const char *dir, const char *name, struct stat *ret) {
        char path[PATH_MAX];
        if ((size_t)snprintf(path, sizeof(path), "%s/%s", dir, name) >= sizeof(path))
                return -ENAMETOOLONG;
        return stat(path, ret) < 0 ? -errno : 0;
}

static char *read_buf;
static size_t read_buf_size;

static int ensure_read_buf(size_t max_line) {
        size_t want = MAX((size_t)READ_BUF_MIN, 2 * max_line + 1024);
        if (read_buf_size >= want)
                return 0;
        char *b = realloc(read_buf, want);
        if (!b)
                return -ENOMEM;
        read_buf = b;
        read_buf_size = want;
        return 0;
}

static uint64_t fnv1a(const uint8_t *p, size_t n) {
        uint64_t h = 0xcbf29ce484222325ULL;
        for (size_t i = 0; i < n; i++)
                h = (h ^ p[i]) * 0x100000001b3ULL;
        return h;
}

/* Reads the fingerprint of fd over its first len bytes (the whole start up to FINGERPRINT_MAX when
 * len is 0). Returns the length hashed. */
static uint32_t fingerprint(int fd, uint32_t len, uint64_t *ret) {
        uint8_t buf[FINGERPRINT_MAX];
        ssize_t n = pread(fd, buf, len ?: FINGERPRINT_MAX, 0);
        if (n <= 0 || (len && (uint32_t)n != len)) {
                *ret = 0;
                return 0;
        }
        *ret = fnv1a(buf, (size_t)n);
        return (uint32_t)n;
}

static void tail_file_close(TailFile *f) {
        if (f->fd >= 0)
                close(f->fd);
        f->fd = -EBADF;
        f->name = mfree(f->name);
}

static FileSource *to_file(LogSource *s) {
        return (FileSource *)s;
}

/* Opens dir/name as the newest file of the lineage, starting at offset. */
static int add_file(FileSource *fs, const char *name, int fd, const struct stat *st, uint64_t offset) {
        TailFile *v = realloc(fs->files, sizeof(TailFile) * (fs->n_files + 1));
        if (!v)
                return -ENOMEM;
        fs->files = v;
        TailFile *f = &v[fs->n_files];
        *f = (TailFile){.fd = fd, .dev = st->st_dev, .ino = st->st_ino, .offset = offset};
        if (!(f->name = strdup(name)))
                return -ENOMEM;
        f->fingerprint_len = fingerprint(fd, 0, &f->fingerprint);
        fs->n_files++;
        return 0;
}

static int open_at(FileSource *fs, const char *name, struct stat *st) {
        int dfd = open(fs->dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        if (dfd < 0)
                return -errno;
        int fd = openat(dfd, name, O_RDONLY | O_CLOEXEC | O_NOCTTY | O_NONBLOCK);
        int r = fd < 0 ? -errno : 0;
        close(dfd);
        if (r < 0)
                return r;
        if (fstat(fd, st) < 0 || !S_ISREG(st->st_mode)) {
                r = S_ISREG(st->st_mode) ? -errno : -EISDIR;
                close(fd);
                return r;
        }
        return fd;
}

/* Is name a rotated file of fs->current? ("0.log.20240704-172953", "worker.log.3"; not ".gz") */
static bool is_rotated_name(const FileSource *fs, const char *name) {
        const char *rest = startswith(name, fs->current);
        size_t n;
        if (!rest || rest[0] != '.' || !rest[1])
                return false;
        n = strlen(rest);
        return !(n >= 3 && streq(rest + n - 3, ".gz"));
}

static bool is_known(const FileSource *fs, const struct stat *st) {
        for (size_t i = 0; i < fs->n_files; i++)
                if (fs->files[i].dev == (uint64_t)st->st_dev && fs->files[i].ino == (uint64_t)st->st_ino)
                        return true;
        return false;
}

typedef struct Candidate {
        char *name;
        struct stat st;
} Candidate;

static int timespec_cmp(const struct timespec *a, const struct timespec *b) {
        if (a->tv_sec != b->tv_sec)
                return a->tv_sec < b->tv_sec ? -1 : 1;
        return a->tv_nsec < b->tv_nsec ? -1 : a->tv_nsec > b->tv_nsec;
}

/* Older first, by name: log4j numbers (worker.log.2 before worker.log.1), else the suffix
 * (kubelet's timestamps). */
static int name_cmp(const char *a, const char *b) {
        const char *da = strrchr(a, '.'), *db = strrchr(b, '.');
        char *ea, *eb;
        unsigned long na = strtoul(da + 1, &ea, 10), nb = strtoul(db + 1, &eb, 10);
        if (ea != da + 1 && eb != db + 1 && !*ea && !*eb && na != nb)
                return na > nb ? -1 : 1;
        return strcmp(a, b);
}

static int candidate_cmp(const void *x, const void *y) {
        return name_cmp(((const Candidate *)x)->name, ((const Candidate *)y)->name);
}

/*
 * Appends the rotated files that came after ours (not yet known), oldest first. Where ours is
 * found under a rotated name, "after" is by name (log4j numbers, kubelet timestamps); where it is
 * gone, by modification time (strictly later: file times are only as fine as the kernel's tick).
 * With ours NULL: all of them.
 */
static int add_rotated(FileSource *fs, const struct stat *ours, const struct stat *exclude) {
        _cleanup_(closedirp) DIR *d = opendir(fs->dir);
        _cleanup_(freep) char *our_name = NULL;
        Candidate *c = NULL;
        size_t n = 0;
        int r = 0;

        if (!d)
                return -errno;
        struct dirent *de;
        while ((de = readdir(d))) {
                if (!is_rotated_name(fs, de->d_name))
                        continue;
                struct stat st;
                if (fstatat(dirfd(d), de->d_name, &st, 0) < 0 || !S_ISREG(st.st_mode))
                        continue;
                if (ours && st.st_dev == ours->st_dev && st.st_ino == ours->st_ino) {
                        free(our_name);
                        if (!(our_name = strdup(de->d_name))) {
                                r = -ENOMEM;
                                break;
                        }
                        continue;
                }
                if (is_known(fs, &st) ||
                        (exclude && st.st_dev == exclude->st_dev && st.st_ino == exclude->st_ino))
                        continue;
                Candidate *v = realloc(c, sizeof(Candidate) * (n + 1));
                if (!v || !(v[n].name = strdup(de->d_name))) {
                        c = v ?: c;
                        r = -ENOMEM;
                        break;
                }
                c = v;
                v[n++].st = st;
        }
        if (r >= 0 && n > 0)
                qsort(c, n, sizeof(Candidate), candidate_cmp);
        for (size_t i = 0; i < n && r >= 0; i++) {
                if (ours && our_name && name_cmp(c[i].name, our_name) <= 0)
                        continue;
                if (ours && !our_name && timespec_cmp(&c[i].st.st_mtim, &ours->st_mtim) <= 0)
                        continue;
                struct stat st;
                int fd = open_at(fs, c[i].name, &st);
                if (fd < 0)
                        continue; /* gone meanwhile: it was compressed; nothing we can read */
                r = add_file(fs, c[i].name, fd, &st, 0);
                if (r < 0)
                        close(fd);
        }
        for (size_t i = 0; i < n; i++)
                free(c[i].name);
        free(c);
        return r;
}

/* Where to start in a file read from its end: after its last whole line. */
static uint64_t tail_offset(int fd, const struct stat *st) {
        if (st->st_size <= 0)
                return 0;
        size_t n = (size_t)MIN((uint64_t)st->st_size, (uint64_t)64 * 1024);
        char buf[n];
        ssize_t k = pread(fd, buf, n, st->st_size - (off_t)n);
        const char *nl = k > 0 ? memrchr(buf, '\n', (size_t)k) : NULL;
        return nl ? (uint64_t)st->st_size - (uint64_t)n + (uint64_t)(nl - buf) + 1 : (uint64_t)st->st_size;
}

/*
 * Appends what came after ours: with `rotated`, the rotated files newer than ours (all of them
 * when ours is NULL), oldest first; then the current file (from its end with at_end). The current
 * file is opened before the directory is listed, so that a rotation racing with us can only show
 * up as a rotated name in that listing: no file is ever passed over. Returns the number of files
 * added, or -errno.
 */
static int add_newer(FileSource *fs, const struct stat *ours, bool rotated, bool at_end) {
        size_t before = fs->n_files;
        struct stat cst;
        int r = 0, cfd = open_at(fs, fs->current, &cst);

        if (cfd >= 0 && is_known(fs, &cst)) {
                close(cfd);
                cfd = -EBADF;
        }
        if (rotated)
                r = add_rotated(fs, ours, cfd >= 0 ? &cst : NULL);
        if (r >= 0 && cfd >= 0) {
                r = add_file(fs, fs->current, cfd, &cst, at_end ? tail_offset(cfd, &cst) : 0);
                if (r >= 0)
                        cfd = -EBADF;
        }
        if (cfd >= 0)
                close(cfd);
        if (r >= 0 && cfd < 0 && cfd != -EBADF && cfd != -ENOENT && fs->n_files == before)
                r = cfd; /* the current file is there but cannot be opened: say why */
        return r < 0 ? r : (int)(fs->n_files - before);
}

static void drop_oldest(FileSource *fs) {
        tail_file_close(&fs->files[0]);
        memmove(fs->files, fs->files + 1, sizeof(TailFile) * (fs->n_files - 1));
        fs->n_files--;
}

/* Pods: the highest N of the N.log files, or -ENOENT. */
static int newest_restart(FileSource *fs, uint32_t *ret) {
        _cleanup_(closedirp) DIR *d = opendir(fs->dir);
        bool found = false;
        uint32_t best = 0;

        if (!d)
                return -errno;
        struct dirent *de;
        while ((de = readdir(d))) {
                char *end;
                unsigned long n = strtoul(de->d_name, &end, 10);
                if (end == de->d_name || !streq(end, ".log") || n > UINT32_MAX)
                        continue;
                if (!found || n > best)
                        best = (uint32_t)n;
                found = true;
        }
        if (!found)
                return -ENOENT;
        *ret = best;
        return 0;
}

static int set_current_restart(FileSource *fs, uint32_t n) {
        char *name;
        if (asprintf(&name, "%" PRIu32 ".log", n) < 0)
                return -ENOMEM;
        free(fs->current);
        fs->current = name;
        fs->base.restart_count = n;
        return 0;
}

/*
 * The whole lineage was read to its end: looks for what comes next. Returns 1 when there is more
 * to read, 0 when caught up.
 */
static int advance(FileSource *fs) {
        TailFile *last = &fs->files[fs->n_files - 1];
        struct stat st;
        int r;

        if (fs->pod) {
                uint32_t n;
                if (newest_restart(fs, &n) >= 0 && n > fs->base.restart_count) {
                        /* The container restarted: its log was read to the end above. */
                        uint32_t from = fs->base.restart_count;
                        ssize_t k = pread(last->fd, read_buf, read_buf_size, (off_t)last->offset);
                        if (k > 0) /* a last line the container did not finish */
                                last->offset +=
                                        log_scanner_feed(fs->base.scanner, read_buf, (size_t)k, true);
                        log_scanner_flush(fs->base.scanner);
                        log_agg_note_restart(fs->base.agg, from, n);
                        log_scanner_reset(fs->base.scanner);
                        while (fs->n_files > 0)
                                drop_oldest(fs);
                        r = set_current_restart(fs, n);
                        if (r < 0)
                                return r;
                        /* All files of the new container are new: rotated ones too. */
                        r = add_newer(fs, NULL, true, false);
                        return r < 0 ? r : 1;
                }
        }
        /* Still the current file (or it was renamed and none is made yet, and no other was
         * rotated meanwhile): caught up. Otherwise: the files written after ours. */
        if (stat_at(fs->dir, fs->current, &st) >= 0 && (uint64_t)st.st_dev == last->dev &&
                (uint64_t)st.st_ino == last->ino)
                return 0;
        struct stat ours;
        if (fstat(last->fd, &ours) < 0)
                return -errno;
        r = add_newer(fs, &ours, true, false);
        return r < 0 ? r : r > 0;
}

/*
 * Opens the files to read when none is open: the current one, from its end for a source seen at
 * start-up (unless from_head), from its start otherwise; a source whose file appeared only later
 * (it was missing when we started, or everything we knew went away) also gets the rotated files
 * already there, since all of them are new to us.
 */
static int anchor(FileSource *fs) {
        int r = 0;

        if (fs->pod) {
                uint32_t n;
                r = newest_restart(fs, &n);
                if (r >= 0)
                        r = set_current_restart(fs, n);
        }
        if (r >= 0) {
                r = add_newer(fs, NULL, fs->appeared, !fs->from_head);
                if (r == 0 && fs->n_files == 0)
                        r = -ENOENT;
        }
        /* From now on whatever shows up is new: read it whole. */
        fs->from_head = fs->appeared = true;
        return r < 0 ? r : 0;
}

/*
 * Truncated in place (copytruncate), maybe already written again past our offset: what is there
 * now is new, read from 0. Told by the size, or by the first bytes no longer being those we saw.
 */
static void check_truncated(FileSource *fs, TailFile *f) {
        struct stat st;
        uint64_t fp;

        if (fstat(f->fd, &st) < 0)
                return;
        if ((uint64_t)st.st_size >= f->offset &&
                (f->fingerprint_len == 0 ||
                        (fingerprint(f->fd, f->fingerprint_len, &fp) == f->fingerprint_len &&
                                fp == f->fingerprint)))
                return;
        f->offset = 0;
        log_scanner_reset(fs->base.scanner);
        f->fingerprint_len = fingerprint(f->fd, 0, &f->fingerprint);
}

static int file_read(LogSource *s, size_t *budget) {
        FileSource *fs = to_file(s);
        int r;

        r = ensure_read_buf(fs->max_line);
        if (r < 0)
                return r;
        if (fs->n_files == 0) {
                r = anchor(fs);
                if (r < 0) {
                        log_source_set_error(s, r, "%s/%s", fs->dir, fs->current ?: "*.log");
                        return r;
                }
        }
        if (fs->n_files == 1)
                check_truncated(fs, &fs->files[0]);
        while (*budget > 0) {
                TailFile *f = &fs->files[0];
                ssize_t n = pread(f->fd, read_buf, read_buf_size, (off_t)f->offset);
                if (n < 0) {
                        log_source_set_error(s, -errno, "read %s/%s", fs->dir, f->name);
                        return -errno;
                }
                if (f->fingerprint_len < FINGERPRINT_MAX && f->offset == 0 && n > 0)
                        f->fingerprint_len = fingerprint(f->fd, 0, &f->fingerprint);
                size_t taken = log_scanner_feed(s->scanner, read_buf, (size_t)n, false);
                f->offset += taken;
                *budget -= MIN(*budget, taken);
                if ((size_t)n == read_buf_size)
                        continue; /* not at the end yet (and the scanner always takes something) */
                if (fs->n_files > 1) {
                        /* A rotated file, read to its end: finish its last line and go on. */
                        if ((size_t)n > taken)
                                f->offset += log_scanner_feed(
                                        s->scanner, read_buf + taken, (size_t)n - taken, true);
                        drop_oldest(fs);
                        continue;
                }
                r = advance(fs);
                if (r < 0) {
                        log_source_set_error(s, r, "%s/%s", fs->dir, fs->current);
                        return r;
                }
                if (r == 0) {
                        log_source_set_error(s, 0, NULL);
                        return 0;
                }
        }
        return 1;
}

static int file_position(LogSource *s, Vigil__LogPosition **ret) {
        FileSource *fs = to_file(s);
        Vigil__LogPosition *p;
        int r = log_source_new_position(s, &p);
        if (r < 0)
                return r;
        p->files = calloc(MAX(fs->n_files, (size_t)1), sizeof(Vigil__LogFilePosition *));
        if (!p->files)
                goto oom;
        for (size_t i = 0; i < fs->n_files; i++) {
                Vigil__LogFilePosition *f = malloc(sizeof(*f));
                if (!f)
                        goto oom;
                vigil__log_file_position__init(f);
                p->files[p->n_files++] = f;
                f->dev = fs->files[i].dev;
                f->ino = fs->files[i].ino;
                f->offset = fs->files[i].offset;
                f->fingerprint = fs->files[i].fingerprint;
                f->fingerprint_len = fs->files[i].fingerprint_len;
                if (!(f->name = strdup(fs->files[i].name)))
                        goto oom;
        }
        *ret = p;
        return 0;
oom:
        vigil__log_position__free_unpacked(p, NULL);
        return -ENOMEM;
}

/* Finds a saved file again: by its last name first, then among the rotated names. */
static int reopen(FileSource *fs, const Vigil__LogFilePosition *f) {
        _cleanup_(closedirp) DIR *d = NULL;
        struct stat st;
        int fd = open_at(fs, f->name, &st);

        if (fd < 0 || (uint64_t)st.st_ino != f->ino || (uint64_t)st.st_dev != f->dev) {
                if (fd >= 0)
                        close(fd);
                fd = -ENOENT;
                d = opendir(fs->dir);
                struct dirent *de;
                while (d && (de = readdir(d)))
                        if ((uint64_t)de->d_ino == f->ino &&
                                (is_rotated_name(fs, de->d_name) || streq(de->d_name, fs->current))) {
                                fd = open_at(fs, de->d_name, &st);
                                break;
                        }
                if (fd < 0)
                        return fd;
        }
        uint64_t fp;
        if ((f->fingerprint_len > 0 &&
                    (fingerprint(fd, f->fingerprint_len, &fp) != f->fingerprint_len ||
                            fp != f->fingerprint)) ||
                (uint64_t)st.st_size < f->offset) {
                close(fd); /* the inode was reused for another file, or it shrank */
                return -ESTALE;
        }
        int r = add_file(fs, f->name, fd, &st, f->offset);
        if (r < 0)
                close(fd);
        return r;
}

static int restore(FileSource *fs, const Vigil__LogPosition *p) {
        int r = log_source_restore(&fs->base, p);
        if (r < 0)
                return r;
        if (fs->pod) {
                r = set_current_restart(fs, p->restart_count);
                if (r < 0)
                        return r;
        }
        for (size_t i = 0; i < p->n_files; i++) {
                r = reopen(fs, p->files[i]);
                if (r == -ENOMEM)
                        return r;
                if (r < 0)
                        fs->base.files_lost++;
        }
        if (fs->n_files == 0) {
                /* Nothing was open when saved, or everything we were reading is gone: what is
                 * there now is new to us (anchor()). */
                fs->from_head = fs->appeared = true;
                log_scanner_reset(fs->base.scanner);
                return 0;
        }
        if (fs->base.files_lost > 0)
                log_scanner_reset(fs->base.scanner);
        /* Files rotated while we were away come after the last one we knew. */
        struct stat ours;
        if (fstat(fs->files[fs->n_files - 1].fd, &ours) < 0)
                return -errno;
        r = add_newer(fs, &ours, true, false);
        return MIN(r, 0);
}

static void file_done(LogSource *s) {
        FileSource *fs = to_file(s);
        for (size_t i = 0; i < fs->n_files; i++)
                tail_file_close(&fs->files[i]);
        free(fs->files);
        free(fs->dir);
        free(fs->current);
}

static const LogSourceOps file_ops = {
        .kind = "file",
        .read = file_read,
        .position = file_position,
        .done = file_done,
};

static int file_source_new(const char *dir, const char *current, const char *name, bool pod,
        const LogSourceSettings *set, LogState *st, LogSource **ret) {
        _cleanup_(log_source_freep) LogSource *s = NULL;
        FileSource *fs = calloc(1, sizeof(FileSource));
        Vigil__LogPosition *p = NULL;
        int r;

        if (!fs)
                return -ENOMEM;
        s = &fs->base;
        r = log_source_init(s, &file_ops, name, set);
        if (r < 0) {
                if (!s->name)
                        s->ops = NULL;
                return r;
        }
        fs->pod = pod;
        fs->from_head = set->from_head;
        fs->max_line = set->scan.max_line ?: 64 * 1024;
        if (!(fs->dir = strdup(dir)) || (current && !(fs->current = strdup(current))))
                return -ENOMEM;
        if (pod) {
                free(s->key);
                if (!(s->key = strdup(dir)))
                        return -ENOMEM;
        }
        r = log_state_get_position(st, s->key, &p);
        if (r >= 0) {
                r = restore(fs, p);
                vigil__log_position__free_unpacked(p, NULL);
                if (r < 0)
                        return r;
        } else if (r != -ENOENT && r != -EBADMSG)
                return r;
        /* Anchor the position now, so that a rotation before the first read loses nothing. A
         * file that is not there yet is looked for at each read (the error shows in the check). */
        if (fs->n_files == 0 && anchor(fs) < 0 && fs->n_files == 0)
                fs->appeared = true;
        *ret = TAKE_PTR(s);
        return 0;
}

int log_file_source_new(const char *path, const LogSourceSettings *set, LogState *st, LogSource **ret) {
        _cleanup_(freep) char *dir = NULL, *name = NULL;
        const char *slash = strrchr(path, '/');

        if (path[0] != '/' || !slash || !slash[1])
                return -EINVAL;
        if (!(dir = strndup(path, (size_t)(slash - path) ?: 1)) || asprintf(&name, "file:%s", path) < 0)
                return -ENOMEM;
        return file_source_new(dir, slash + 1, name, false, set, st, ret);
}

int log_pod_source_new(const char *container_dir, const char *name, const LogSourceSettings *set,
        LogState *st, LogSource **ret) {
        return file_source_new(container_dir, NULL, name, true, set, st, ret);
}
