/* SPDX-License-Identifier: MIT */
/*
 * faultfs: a read-only pass-through FUSE file system that injects faults (delays, errors, requests that are
 * never answered) chosen at run time through a control file, so the integration tests can put vigil in
 * front of a misbehaving cache mount. See README.md.
 */
#define FUSE_USE_VERSION 31

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <fuse.h>
#include <pthread.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/statvfs.h>
#include <time.h>
#include <unistd.h>

#define _unused_ __attribute__((unused))

enum op { OP_GETATTR, OP_READDIR, OP_OPEN, OP_READ, OP_STATFS, OP_ACCESS, OP_OPENDIR, OP_READLINK, _OP_MAX };

static const char *const op_names[_OP_MAX] = {
        [OP_GETATTR] = "getattr",
        [OP_READDIR] = "readdir",
        [OP_OPEN] = "open",
        [OP_READ] = "read",
        [OP_STATFS] = "statfs",
        [OP_ACCESS] = "access",
        [OP_OPENDIR] = "opendir",
        [OP_READLINK] = "readlink",
};

#define OPS_ALL ((1u << _OP_MAX) - 1)

enum mode { MODE_PASS, MODE_SLOW, MODE_ERRNO, MODE_HANG };

struct fault {
        enum mode mode;
        long arg; /* milliseconds for MODE_SLOW, errno for MODE_ERRNO */
        unsigned ops;
};

static struct {
        char *path;
        pthread_mutex_t lock;
        bool loaded; /* version describes the file that fault was parsed from */
        struct stat version;
        struct fault fault;
} control = {
        .lock = PTHREAD_MUTEX_INITIALIZER,
        .fault = {.mode = MODE_PASS},
};

static int src_fd = -1;

static int parse_long(const char *s, long min, long max, long *ret) {
        char *end;
        long v;

        errno = 0;
        v = strtol(s, &end, 10);
        if (errno != 0 || end == s || *end != '\0' || v < min || v > max)
                return -EINVAL;
        *ret = v;
        return 0;
}

static int parse_ops(char *list, unsigned *ret) {
        char *save = NULL;
        unsigned ops = 0;

        for (char *name = strtok_r(list, ",", &save); name; name = strtok_r(NULL, ",", &save)) {
                int i;

                for (i = 0; i < _OP_MAX; i++)
                        if (strcmp(name, op_names[i]) == 0)
                                break;
                if (i == _OP_MAX)
                        return -EINVAL;
                ops |= 1u << i;
        }
        if (ops == 0)
                return -EINVAL;
        *ret = ops;
        return 0;
}

/* Parses "MODE [ARG] [ops=OP,...]"; an empty line means pass. */
static int parse_fault(char *line, struct fault *ret) {
        struct fault f = {.mode = MODE_PASS, .ops = OPS_ALL};
        static const char *const ws = " \t\r";
        char *save = NULL, *word;

        word = strtok_r(line, ws, &save);
        if (!word) {
                *ret = f;
                return 0;
        }
        if (strcmp(word, "pass") == 0)
                f.mode = MODE_PASS;
        else if (strcmp(word, "eio") == 0) {
                f.mode = MODE_ERRNO;
                f.arg = EIO;
        } else if (strcmp(word, "hang") == 0)
                f.mode = MODE_HANG;
        else if (strcmp(word, "slow") == 0 || strcmp(word, "errno") == 0) {
                bool slow = word[0] == 's';
                const char *arg = strtok_r(NULL, ws, &save);

                f.mode = slow ? MODE_SLOW : MODE_ERRNO;
                if (!arg || parse_long(arg, slow ? 0 : 1, slow ? 24L * 3600 * 1000 : 4095, &f.arg) < 0)
                        return -EINVAL;
        } else
                return -EINVAL;

        word = strtok_r(NULL, ws, &save);
        if (word && strncmp(word, "ops=", 4) == 0) {
                if (parse_ops(word + 4, &f.ops) < 0)
                        return -EINVAL;
                word = strtok_r(NULL, ws, &save);
        }
        if (word)
                return -EINVAL;
        *ret = f;
        return 0;
}

/* Called with control.lock held. Any failure degrades to pass: a test mid-rewrite must not see errors. */
static void control_reload(void) {
        char line[512], buf[sizeof(line)];
        ssize_t n;
        int fd;

        control.loaded = false;
        control.fault = (struct fault){.mode = MODE_PASS};
        fd = open(control.path, O_RDONLY | O_CLOEXEC);
        if (fd < 0)
                return;
        /* Remember the version actually read: a rename racing with us then causes another reload. */
        if (fstat(fd, &control.version) < 0 || (n = read(fd, line, sizeof(line) - 1)) < 0) {
                close(fd);
                return;
        }
        close(fd);
        control.loaded = true;
        line[n] = '\0';
        line[strcspn(line, "\n")] = '\0';
        memcpy(buf, line, sizeof(buf));
        if (parse_fault(buf, &control.fault) < 0) {
                fprintf(stderr, "faultfs: %s: malformed control line, behaving as 'pass': %s\n",
                        control.path, line);
                control.fault = (struct fault){.mode = MODE_PASS};
        }
}

static bool same_version(const struct stat *a, const struct stat *b) {
        return a->st_dev == b->st_dev && a->st_ino == b->st_ino && a->st_size == b->st_size &&
                a->st_mtim.tv_sec == b->st_mtim.tv_sec && a->st_mtim.tv_nsec == b->st_mtim.tv_nsec;
}

static struct fault control_get(void) {
        struct fault f = {.mode = MODE_PASS};
        struct stat st;
        bool present;

        if (!control.path)
                return f;
        /* A stat per request is cheap; parsing only happens when the file changed. */
        present = stat(control.path, &st) >= 0;
        pthread_mutex_lock(&control.lock);
        if (!present) {
                control.loaded = false;
                control.fault = f;
        } else if (!control.loaded || !same_version(&control.version, &st))
                control_reload();
        f = control.fault;
        pthread_mutex_unlock(&control.lock);
        return f;
}

static _Noreturn void hang_forever(void) {
        /* libfuse processes requests with cancellation disabled. Enable it so that, once the session ends
         * (abort, unmount, SIGTERM), the loop can still cancel and join this thread and the daemon exits,
         * without this request ever being answered. */
        pthread_setcancelstate(PTHREAD_CANCEL_ENABLE, NULL);
        for (;;)
                pause();
}

static int fault_inject(enum op op) {
        struct fault f = control_get();

        if (!(f.ops & (1u << op)))
                return 0;
        switch (f.mode) {
        case MODE_PASS:
                return 0;
        case MODE_SLOW: {
                struct timespec ts = {.tv_sec = f.arg / 1000, .tv_nsec = f.arg % 1000 * 1000000L};

                while (nanosleep(&ts, &ts) < 0 && errno == EINTR)
                        ;
                return 0;
        }
        case MODE_ERRNO:
                return (int)-f.arg;
        case MODE_HANG:
                hang_forever();
        }
        return 0;
}

/* FUSE paths are absolute; the source is reached relative to src_fd so the mount may even cover it. */
static const char *rel(const char *path) {
        return path[1] ? path + 1 : ".";
}

static void *faultfs_init(_unused_ struct fuse_conn_info *conn, struct fuse_config *cfg) {
        /* No caching anywhere, so every stat and read a test makes reaches the daemon and its faults. */
        cfg->attr_timeout = 0;
        cfg->entry_timeout = 0;
        cfg->negative_timeout = 0;
        cfg->direct_io = 1;
        cfg->kernel_cache = 0;
        cfg->use_ino = 1;
        return NULL;
}

static int faultfs_getattr(const char *path, struct stat *st, _unused_ struct fuse_file_info *fi) {
        int r = fault_inject(OP_GETATTR);

        if (r < 0)
                return r;
        return fstatat(src_fd, rel(path), st, AT_SYMLINK_NOFOLLOW) < 0 ? -errno : 0;
}

static int faultfs_access(const char *path, int mask) {
        int r = fault_inject(OP_ACCESS);

        if (r < 0)
                return r;
        return faccessat(src_fd, rel(path), mask, 0) < 0 ? -errno : 0;
}

static int faultfs_readlink(const char *path, char *buf, size_t size) {
        int r = fault_inject(OP_READLINK);
        ssize_t n;

        if (r < 0)
                return r;
        n = readlinkat(src_fd, rel(path), buf, size - 1);
        if (n < 0)
                return -errno;
        buf[n] = '\0';
        return 0;
}

static int faultfs_opendir(const char *path, struct fuse_file_info *fi) {
        int r = fault_inject(OP_OPENDIR), fd;
        DIR *d;

        if (r < 0)
                return r;
        fd = openat(src_fd, rel(path), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        if (fd < 0)
                return -errno;
        d = fdopendir(fd);
        if (!d) {
                r = -errno;
                close(fd);
                return r;
        }
        fi->fh = (uintptr_t)d;
        return 0;
}

static int faultfs_readdir(_unused_ const char *path, void *buf, fuse_fill_dir_t filler,
        _unused_ off_t offset, struct fuse_file_info *fi, _unused_ enum fuse_readdir_flags flags) {
        DIR *d = (DIR *)(uintptr_t)fi->fh;
        int r = fault_inject(OP_READDIR);

        if (r < 0)
                return r;
        /* Offset 0 to the filler makes libfuse take the whole listing at once: no seekdir bookkeeping. */
        rewinddir(d);
        for (;;) {
                struct dirent *de;
                struct stat st;

                errno = 0;
                de = readdir(d);
                if (!de)
                        return -errno;
                st = (struct stat){.st_ino = de->d_ino, .st_mode = DTTOIF(de->d_type)};
                if (filler(buf, de->d_name, &st, 0, 0))
                        return 0;
        }
}

static int faultfs_releasedir(_unused_ const char *path, struct fuse_file_info *fi) {
        closedir((DIR *)(uintptr_t)fi->fh);
        return 0;
}

static int faultfs_open(const char *path, struct fuse_file_info *fi) {
        int r = fault_inject(OP_OPEN), fd;

        if (r < 0)
                return r;
        if ((fi->flags & O_ACCMODE) != O_RDONLY)
                return -EROFS;
        fd = openat(src_fd, rel(path), O_RDONLY | O_CLOEXEC);
        if (fd < 0)
                return -errno;
        fi->fh = (uint64_t)fd;
        return 0;
}

static int faultfs_read(
        _unused_ const char *path, char *buf, size_t size, off_t offset, struct fuse_file_info *fi) {
        int r = fault_inject(OP_READ);
        ssize_t n;

        if (r < 0)
                return r;
        n = pread((int)fi->fh, buf, size, offset);
        return n < 0 ? -errno : (int)n;
}

static int faultfs_release(_unused_ const char *path, struct fuse_file_info *fi) {
        close((int)fi->fh);
        return 0;
}

static int faultfs_statfs(_unused_ const char *path, struct statvfs *st) {
        int r = fault_inject(OP_STATFS);

        if (r < 0)
                return r;
        return fstatvfs(src_fd, st) < 0 ? -errno : 0;
}

static const struct fuse_operations faultfs_ops = {
        .init = faultfs_init,
        .getattr = faultfs_getattr,
        .access = faultfs_access,
        .readlink = faultfs_readlink,
        .opendir = faultfs_opendir,
        .readdir = faultfs_readdir,
        .releasedir = faultfs_releasedir,
        .open = faultfs_open,
        .read = faultfs_read,
        .release = faultfs_release,
        .statfs = faultfs_statfs,
};

/* Mount options defaulted unless given on the command line. */
static const char *const default_opts[] = {
        "fsname=faultfs",
        "subtype=faultfs",
        /* A hung request keeps its worker for ever. With libfuse's 10 workers the daemon would soon stop
         * reading requests, and one left queued in the kernel is killable, unlike one the daemon read. */
        "max_threads=1024",
        /* Set explicitly, as libfuse 3.14 otherwise warns about its own default at every start. */
        "max_idle_threads=1024",
};

#define N_DEFAULT_OPTS (sizeof(default_opts) / sizeof(default_opts[0]))

struct options {
        char *control, *source;
        unsigned mountpoints;
        bool show_help, given[N_DEFAULT_OPTS];
};

enum { KEY_HELP };

static const struct fuse_opt option_spec[] = {
        {"--control %s", offsetof(struct options, control), 0},
        FUSE_OPT_KEY("-h", KEY_HELP),
        FUSE_OPT_KEY("--help", KEY_HELP),
        FUSE_OPT_END,
};

static int opt_proc(void *data, const char *arg, int key, _unused_ struct fuse_args *outargs) {
        struct options *o = data;

        if (key == KEY_HELP) {
                o->show_help = true;
                return 0;
        }
        if (key == FUSE_OPT_KEY_NONOPT) {
                /* fuse_main only knows the mount point: keep SOURCE_DIR for ourselves. */
                if (!o->source) {
                        o->source = strdup(arg);
                        return o->source ? 0 : -1;
                }
                o->mountpoints++;
                return 1;
        }
        /* Each "-o" sub-option arrives here on its own. */
        for (size_t i = 0; i < N_DEFAULT_OPTS; i++)
                if (strncmp(arg, default_opts[i], strcspn(default_opts[i], "=") + 1) == 0)
                        o->given[i] = true;
        return 1;
}

static void print_usage(FILE *f, const char *prog) {
        fprintf(f,
                "usage: %s [--control FILE] [FUSE options] SOURCE_DIR MOUNTPOINT\n\n"
                "Read-only mirror of SOURCE_DIR, injecting the fault named by the first line of FILE:\n"
                "    pass | slow MS | eio | errno N | hang    [ops=OP[,OP...]]\n"
                "OP: getattr readdir open read statfs access opendir readlink (default: all of them)\n\n",
                prog);
}

/* The daemon chdirs to / when it is not run with -f. */
static char *absolute_path(const char *p) {
        char cwd[4096], *r;

        if (p[0] == '/')
                return strdup(p);
        if (!getcwd(cwd, sizeof(cwd)))
                return NULL;
        r = malloc(strlen(cwd) + strlen(p) + 2);
        if (r)
                sprintf(r, "%s/%s", cwd, p);
        return r;
}

int main(int argc, char *argv[]) {
        struct fuse_args args = FUSE_ARGS_INIT(argc, argv);
        struct options o = {};
        int r = 1;

        if (fuse_opt_parse(&args, &o, option_spec, opt_proc) < 0)
                goto out;
        if (o.show_help) {
                print_usage(stdout, argv[0]);
                /* fuse_main then prints only its own options, not a second (wrong) usage line. */
                if (fuse_opt_add_arg(&args, "--help") < 0)
                        goto out;
                args.argv[0][0] = '\0';
                r = fuse_main(args.argc, args.argv, &faultfs_ops, NULL);
                goto out;
        }
        if (!o.source || o.mountpoints != 1) {
                print_usage(stderr, argv[0]);
                r = 2;
                goto out;
        }
        if (o.control) {
                /* "--control=FILE" matches the "--control %s" template too, leaving the "=". */
                const char *c = o.control + (o.control[0] == '=');

                control.path = absolute_path(c);
                if (!control.path) {
                        fprintf(stderr, "faultfs: %s: %s\n", c, strerror(errno));
                        goto out;
                }
        }
        src_fd = open(o.source, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        if (src_fd < 0) {
                fprintf(stderr, "faultfs: %s: %s\n", o.source, strerror(errno));
                goto out;
        }
        for (size_t i = 0; i < N_DEFAULT_OPTS; i++)
                if (!o.given[i] &&
                        (fuse_opt_add_arg(&args, "-o") < 0 || fuse_opt_add_arg(&args, default_opts[i]) < 0))
                        goto out;
        r = fuse_main(args.argc, args.argv, &faultfs_ops, NULL);
out:
        fuse_opt_free_args(&args);
        free(o.control);
        free(o.source);
        free(control.path);
        if (src_fd >= 0)
                close(src_fd);
        return r;
}
