/* SPDX-License-Identifier: MIT */
/*
 * file://: a UFS on a local or NFS-mounted directory. Every operation opens the root afresh (it need
 * not exist when the Ufs is opened, and a test may remove and remake it) and works relative to it
 * with the *at() calls. Paths come checked by ufs.c: no "." or "..", no leading '/'. Symlinks inside
 * the tree are followed where the caller names them (stat, read, list of the named directory), but
 * recursive list and delete never descend through one, so they cannot wander out of the tree.
 */
#include <dirent.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <sys/random.h>
#include <sys/stat.h>

#include "ufs.h"

#define FILE_CHUNK_SIZE (1024 * 1024)
#define FILE_TMP_INFIX ".vigil-tmp-"
#define FILE_TMP_ATTEMPTS 64

typedef struct FileUfs {
        char *root; /* absolute, no trailing '/' except for "/" itself */
} FileUfs;

static FileUfs *file_of(Ufs *u) {
        return u->data;
}

/* The path for the *at() calls: "" (the root) is ".". */
static const char *at_path(const char *path) {
        return isempty(path) ? "." : path;
}

/*
 * Records the failure r of what on path, naming path relative to the root as the operator gave it, or
 * the root's own absolute path when path is the root. Returns r.
 */
static int fail_path(Ufs *u, int r, const char *what, const char *path) {
        if (isempty(path))
                return ufs_fail(u, r, NULL, "%s the root %s: %m", what, file_of(u)->root);
        return ufs_fail(u, r, NULL, "%s %s: %m", what, path);
}

/* A copy of path without trailing '/' (ufs.c only checks it). */
static int path_normalize(const char *path, char **ret) {
        size_t n = strlen(path);
        while (n > 0 && path[n - 1] == '/')
                n--;
        char *p = strndup(path, n);
        if (!p)
                return -ENOMEM;
        *ret = p;
        return 0;
}

static void stat_to_ufs(const struct stat *st, UfsStat *ret) {
        bool dir = S_ISDIR(st->st_mode);
        *ret = (UfsStat){
                .is_dir = dir,
                .size = dir ? 0 : (uint64_t)st->st_size,
                .mtime = (usec_t)st->st_mtim.tv_sec * USEC_PER_SEC + (usec_t)st->st_mtim.tv_nsec / 1000,
        };
}

/*
 * mkdir -p of path relative to dirfd (or absolute with AT_FDCWD): each missing component is made, an
 * existing directory (or a symlink to one) is fine. A component that exists as something else is
 * -ENOTDIR, or -EEXIST when it is the last one.
 */
static int mkdir_parents_at(int dirfd, const char *path) {
        _cleanup_(freep) char *p = strdup(path);
        if (!p)
                return -ENOMEM;

        for (char *c = p + (*p == '/');; c++) {
                bool last = *c == 0;
                if (*c != '/' && !last)
                        continue;
                char saved = *c;
                *c = 0;
                if (mkdirat(dirfd, p, 0777) < 0) {
                        struct stat st;
                        if (errno != EEXIST)
                                return -errno;
                        if (fstatat(dirfd, p, &st, 0) < 0)
                                return -errno;
                        if (!S_ISDIR(st.st_mode))
                                return last ? -EEXIST : -ENOTDIR;
                }
                if (last)
                        return 0;
                *c = saved;
        }
}

/*
 * Opens the root directory (O_PATH) for the *at() calls. With create, a missing root is made first
 * (mkdir -p): writes with make_parents may be the first thing done on a new root.
 */
static int root_open(Ufs *u, bool create, int *ret_fd) {
        const char *root = file_of(u)->root;
        int fd = open(root, O_PATH | O_DIRECTORY | O_CLOEXEC);
        if (fd < 0 && errno == ENOENT && create) {
                int r = mkdir_parents_at(AT_FDCWD, root);
                if (r < 0)
                        return ufs_fail(u, r, NULL, "make the root %s: %m", root);
                fd = open(root, O_PATH | O_DIRECTORY | O_CLOEXEC);
        }
        if (fd < 0)
                return ufs_fail(u, -errno, NULL, "open the root %s: %m", root);
        *ret_fd = fd;
        return 0;
}

/* ---------------------------------------------------------------------------------- open */

static int file_open(Ufs *u, const UfsUri *uri, const UfsOptions *o, char **ret_reason) {
        if (!uri->path || uri->path[0] != '/') {
                if (ret_reason &&
                        asprintf(ret_reason, "file:// needs an absolute path, not \"%s\"",
                                strempty(uri->path)) < 0)
                        *ret_reason = NULL;
                return -EINVAL;
        }

        _cleanup_(freep) FileUfs *f = calloc(1, sizeof(FileUfs));
        if (!f)
                return -ENOMEM;
        f->root = strdup(uri->path);
        if (!f->root)
                return -ENOMEM;
        for (size_t n = strlen(f->root); n > 1 && f->root[n - 1] == '/'; n--)
                f->root[n - 1] = 0;
        u->data = TAKE_PTR(f);
        return 0;
}

static void file_close(Ufs *u) {
        FileUfs *f = u->data;
        if (!f)
                return;
        free(f->root);
        u->data = mfree(f);
}

/* ---------------------------------------------------------------------------------- stat */

/* What every operation starts with: path in its "*at()" spelling and the root opened (made first
 * when create). */
static int file_begin(Ufs *u, const char *path, bool create, char **ret_path, int *ret_root_fd) {
        _cleanup_(freep) char *p = NULL;
        int r = path_normalize(path, &p);
        if (r < 0)
                return r;
        r = root_open(u, create, ret_root_fd);
        if (r < 0)
                return r;
        *ret_path = TAKE_PTR(p);
        return 0;
}

static int file_stat(Ufs *u, const char *path, UfsStat *ret) {
        _cleanup_(freep) char *p = NULL;
        _cleanup_(closep) int dfd = -EBADF;
        struct stat st;
        int r;

        r = file_begin(u, path, false, &p, &dfd);
        if (r < 0)
                return r;
        if (fstatat(dfd, at_path(p), &st, 0) < 0)
                return fail_path(u, -errno, "stat", p);
        stat_to_ufs(&st, ret);
        return 0;
}

/* The root's status from the directory itself: open it and read its first entry, which the file system
 * must answer (a stat may come from the kernel's attribute cache). */
static int file_peek(Ufs *u, UfsStat *ret) {
        const char *root = file_of(u)->root;
        _cleanup_(closedirp) DIR *d = NULL;
        struct stat st;

        int fd = open(root, O_RDONLY | O_DIRECTORY | O_CLOEXEC | O_NONBLOCK);
        if (fd < 0)
                return ufs_fail(u, -errno, NULL, "open the root %s: %m", root);
        d = fdopendir(fd);
        if (!d) {
                int r = -errno;
                safe_close(fd);
                return ufs_fail(u, r, NULL, "open the root %s: %m", root);
        }
        if (fstat(dirfd(d), &st) < 0)
                return ufs_fail(u, -errno, NULL, "stat the root %s: %m", root);
        errno = 0;
        if (!readdir(d) && errno != 0)
                return ufs_fail(u, -errno, NULL, "read the root %s: %m", root);
        stat_to_ufs(&st, ret);
        return 0;
}

/* ---------------------------------------------------------------------------------- create */

/* Opens a new temporary file "<path>.vigil-tmp-XXXXXX" beside path; its name goes to *ret_name. */
static int tmp_open(int dfd, const char *path, char **ret_name, int *ret_fd) {
        static const char chars[] = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789";

        for (unsigned attempt = 0; attempt < FILE_TMP_ATTEMPTS; attempt++) {
                uint8_t rnd[6];
                char suffix[sizeof(rnd) + 1];

                if (getrandom(rnd, sizeof(rnd), GRND_NONBLOCK) != (ssize_t)sizeof(rnd)) {
                        /* no entropy yet: uniqueness is all O_EXCL needs */
                        uint64_t x = now_usec(CLOCK_MONOTONIC) ^ ((uint64_t)getpid() << 20) ^ attempt;
                        memcpy(rnd, &x, sizeof(rnd));
                }
                for (size_t i = 0; i < sizeof(rnd); i++)
                        suffix[i] = chars[rnd[i] % (sizeof(chars) - 1)];
                suffix[sizeof(rnd)] = 0;

                _cleanup_(freep) char *name = NULL;
                if (asprintf(&name, "%s" FILE_TMP_INFIX "%s", path, suffix) < 0)
                        return -ENOMEM;
                int fd = openat(dfd, name, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0666);
                if (fd >= 0) {
                        *ret_name = TAKE_PTR(name);
                        *ret_fd = fd;
                        return 0;
                }
                if (errno != EEXIST)
                        return -errno;
        }
        return -EEXIST;
}

static int write_all(int fd, const uint8_t *buf, size_t n) {
        while (n > 0) {
                ssize_t k = write(fd, buf, n);
                if (k < 0) {
                        if (errno == EINTR)
                                continue;
                        return -errno;
                }
                buf += k;
                n -= (size_t)k;
        }
        return 0;
}

/* Streams fill into fd (the temporary file for path) and closes it; the caller removes it on failure. */
static int file_fill(Ufs *u, const char *path, int fd, uint64_t size, UfsReadFn fill, void *userdata) {
        _cleanup_(closep) int owned = fd;
        _cleanup_(freep) uint8_t *buf = malloc(FILE_CHUNK_SIZE);
        uint64_t total = 0;
        int r;

        if (!buf)
                return -ENOMEM;
        for (;;) {
                if (ufs_cancelled(u))
                        return fail_path(u, -ECANCELED, "create", path);
                ssize_t n = fill(userdata, buf, FILE_CHUNK_SIZE);
                if (n < 0)
                        return ufs_fail(u, (int)n, NULL, "create %s: the data source failed: %m", path);
                if (n == 0)
                        break;
                if ((size_t)n > FILE_CHUNK_SIZE)
                        return ufs_fail(u, -EIO, NULL, "create %s: the data source gave %zd bytes for %d",
                                path, n, FILE_CHUNK_SIZE);
                total += (uint64_t)n;
                if (size != UFS_SIZE_UNKNOWN && total > size)
                        return ufs_fail(u, -EIO, NULL,
                                "create %s: the data source gave more than the %" PRIu64 " bytes announced",
                                path, size);
                r = write_all(fd, buf, (size_t)n);
                if (r < 0)
                        return fail_path(u, r, "write", path);
        }
        if (size != UFS_SIZE_UNKNOWN && total != size)
                return ufs_fail(u, -EIO, NULL,
                        "create %s: the data source gave %" PRIu64 " bytes of the %" PRIu64 " announced",
                        path, total, size);
        /* NFS reports a failed write-back only here */
        owned = -EBADF;
        if (close(fd) < 0 && errno != EINTR)
                return fail_path(u, -errno, "write", path);
        return 0;
}

static int file_create(
        Ufs *u, const char *path, uint64_t size, bool make_parents, UfsReadFn fill, void *userdata) {
        _cleanup_(freep) char *p = NULL, *tmp = NULL;
        _cleanup_(closep) int dfd = -EBADF;
        int fd = -EBADF, r;

        /* ufs.c refuses the root ("") as a file */
        r = file_begin(u, path, make_parents, &p, &dfd);
        if (r < 0)
                return r;
        const char *slash = strrchr(p, '/');
        if (make_parents && slash) {
                _cleanup_(freep) char *parent = strndup(p, slash - p);
                if (!parent)
                        return -ENOMEM;
                r = mkdir_parents_at(dfd, parent);
                /* the parent exists as a file: for the file to create, that is "not a directory" */
                if (r < 0)
                        return fail_path(u, r == -EEXIST ? -ENOTDIR : r, "make directory", parent);
        }

        r = tmp_open(dfd, p, &tmp, &fd);
        if (r < 0)
                return fail_path(u, r, "create", p);
        r = file_fill(u, p, fd, size, fill, userdata);
        if (r >= 0 && renameat(dfd, tmp, dfd, p) < 0)
                r = fail_path(u, -errno, "create", p);
        if (r < 0)
                (void)unlinkat(dfd, tmp, 0);
        return r;
}

/* ---------------------------------------------------------------------------------- read */

static int file_read(
        Ufs *u, const char *path, uint64_t offset, uint64_t length, UfsWriteFn sink, void *userdata) {
        _cleanup_(freep) char *p = NULL;
        _cleanup_(freep) uint8_t *buf = NULL;
        _cleanup_(closep) int dfd = -EBADF, fd = -EBADF;
        struct stat st;
        int r;

        r = file_begin(u, path, false, &p, &dfd);
        if (r < 0)
                return r;
        /* O_NONBLOCK: a FIFO left in the tree must not block the open for ever */
        fd = openat(dfd, at_path(p), O_RDONLY | O_NONBLOCK | O_NOCTTY | O_CLOEXEC);
        if (fd < 0)
                return fail_path(u, -errno, "open", p);
        if (fstat(fd, &st) < 0)
                return fail_path(u, -errno, "stat", p);
        if (S_ISDIR(st.st_mode))
                return fail_path(u, -EISDIR, "read", p);
        if (!S_ISREG(st.st_mode))
                return ufs_fail(u, -EINVAL, NULL, "read %s: not a regular file", p);
        if (fcntl(fd, F_SETFL, 0) < 0)
                return fail_path(u, -errno, "open", p);

        buf = malloc(FILE_CHUNK_SIZE);
        if (!buf)
                return -ENOMEM;
        /* past what off_t can address there is no data */
        if (offset > (uint64_t)INT64_MAX)
                return 0;
        while (length > 0) {
                if (ufs_cancelled(u))
                        return fail_path(u, -ECANCELED, "read", p);
                size_t want =
                        length == UFS_SIZE_UNKNOWN ? FILE_CHUNK_SIZE : (size_t)MIN(length, FILE_CHUNK_SIZE);
                ssize_t n = pread(fd, buf, want, (off_t)offset);
                if (n < 0) {
                        if (errno == EINTR)
                                continue;
                        return fail_path(u, -errno, "read", p);
                }
                if (n == 0)
                        break;
                /* the sink's own error is the caller's to describe (ufs_read_buffer does) */
                r = sink(userdata, buf, (size_t)n);
                if (r < 0)
                        return r;
                offset += (uint64_t)n;
                if (length != UFS_SIZE_UNKNOWN)
                        length -= (uint64_t)n;
        }
        return 0;
}

/* ---------------------------------------------------------------------------------- delete */

static int file_delete_file(Ufs *u, const char *path) {
        _cleanup_(freep) char *p = NULL;
        _cleanup_(closep) int dfd = -EBADF;
        int r;

        /* ufs.c refuses the root ("") as a file */
        r = file_begin(u, path, false, &p, &dfd);
        if (r < 0)
                return r;
        /* Linux answers EISDIR for a directory, as the contract wants */
        if (unlinkat(dfd, p, 0) < 0)
                return fail_path(u, -errno, "delete", p);
        return 0;
}

/* Whether the entry de of the directory dfd is a directory itself, not following a symlink. */
static int entry_is_dir(int dfd, const struct dirent *de, bool *ret) {
        struct stat st;
        if (de->d_type != DT_UNKNOWN) {
                *ret = de->d_type == DT_DIR;
                return 0;
        }
        if (fstatat(dfd, de->d_name, &st, AT_SYMLINK_NOFOLLOW) < 0)
                return -errno;
        *ret = S_ISDIR(st.st_mode);
        return 0;
}

/* Makes fd (a directory, owned) a DIR; on failure fd is closed and the failure recorded, the
 * operation named what ("list") on rel. */
static int dir_from_fd(Ufs *u, int fd, const char *what, const char *rel, DIR **ret) {
        DIR *d = fdopendir(fd);
        if (!d) {
                int r = -errno;
                safe_close(fd);
                return fail_path(u, r, what, rel);
        }
        *ret = d;
        return 0;
}

/* The next entry of d other than "." and "..": 1 and *ret, 0 at the end, or the recorded failure. */
static int dir_next(Ufs *u, DIR *d, const char *what, const char *rel, struct dirent **ret) {
        for (;;) {
                errno = 0;
                struct dirent *de = readdir(d);
                if (!de)
                        return errno != 0 ? fail_path(u, -errno, what, rel) : 0;
                if (streq(de->d_name, ".") || streq(de->d_name, ".."))
                        continue;
                *ret = de;
                return 1;
        }
}

/*
 * Removes everything in the directory fd (owned, closed here); rel names it relative to the root for
 * messages. Directories are entered with O_NOFOLLOW: a symlink is removed, never what it points to.
 */
static int remove_contents(Ufs *u, int fd, const char *rel) {
        _cleanup_(closedirp) DIR *d = NULL;
        struct dirent *de;
        int k = dir_from_fd(u, fd, "read directory", rel, &d);

        while (k >= 0 && (k = dir_next(u, d, "read directory", rel, &de)) > 0) {
                _cleanup_(freep) char *child = ufs_path_join(rel, de->d_name);
                bool is_dir = false;
                int r;

                if (!child)
                        return -ENOMEM;
                r = entry_is_dir(dirfd(d), de, &is_dir);
                if (r == -ENOENT)
                        continue;
                if (r < 0)
                        return fail_path(u, r, "stat", child);
                if (is_dir) {
                        int sub = openat(
                                dirfd(d), de->d_name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
                        if (sub < 0)
                                return fail_path(u, -errno, "open directory", child);
                        r = remove_contents(u, sub, child);
                        if (r < 0)
                                return r;
                }
                if (unlinkat(dirfd(d), de->d_name, is_dir ? AT_REMOVEDIR : 0) < 0 && errno != ENOENT)
                        return fail_path(u, -errno, "delete", child);
        }
        return k;
}

static int file_delete_dir(Ufs *u, const char *path, bool recursive) {
        _cleanup_(freep) char *p = NULL;
        _cleanup_(closep) int dfd = -EBADF;
        const char *root = file_of(u)->root;
        int r;

        r = file_begin(u, path, false, &p, &dfd);
        if (r < 0)
                return r;

        if (recursive) {
                int fd = openat(dfd, at_path(p), O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
                if (fd < 0)
                        /* a symlink (ELOOP) is not a directory to empty */
                        return fail_path(u, errno == ELOOP ? -ENOTDIR : -errno, "delete directory", p);
                r = remove_contents(u, fd, p);
                if (r < 0)
                        return r;
        }
        /* the root itself cannot be removed through its own fd */
        r = isempty(p) ? rmdir(root) : unlinkat(dfd, p, AT_REMOVEDIR);
        if (r < 0)
                /* POSIX lets rmdir say EEXIST for a directory that is not empty */
                return fail_path(u, errno == EEXIST ? -ENOTEMPTY : -errno, "delete directory", p);
        return 0;
}

/* ---------------------------------------------------------------------------------- mkdirs */

static int file_mkdirs(Ufs *u, const char *path, bool parents) {
        _cleanup_(freep) char *p = NULL;
        _cleanup_(closep) int dfd = -EBADF;
        int r;

        r = path_normalize(path, &p);
        if (r < 0)
                return r;
        if (isempty(p) && parents)
                /* mkdir -p of the root: make it when missing */
                return root_open(u, true, &dfd);
        /* without parents a missing root is a missing parent: ENOENT */
        r = root_open(u, parents, &dfd);
        if (r < 0)
                return r;
        if (isempty(p))
                return fail_path(u, -EEXIST, "make directory", p);
        r = parents ? mkdir_parents_at(dfd, p) : (mkdirat(dfd, p, 0777) < 0 ? -errno : 0);
        if (r < 0)
                return fail_path(u, r, "make directory", p);
        return 0;
}

/* ---------------------------------------------------------------------------------- list */

/*
 * Adds the entries of the directory fd (owned, closed here) to l with names prefixed by prefix; rel
 * names it relative to the root for messages. An entry that is a symlink is listed as what it points
 * to (as ufs_stat() sees it, a dangling one as a file) but never descended into.
 */
static int list_dir(Ufs *u, int fd, const char *prefix, const char *rel, bool recursive, UfsList *l) {
        _cleanup_(closedirp) DIR *d = NULL;
        struct dirent *de;
        int k = dir_from_fd(u, fd, "list", rel, &d);

        while (k >= 0 && (k = dir_next(u, d, "list", rel, &de)) > 0) {
                _cleanup_(freep) char *name = ufs_path_join(prefix, de->d_name);
                _cleanup_(freep) char *child = ufs_path_join(rel, de->d_name);
                struct stat st;
                UfsStat s;
                int r;

                if (!name || !child)
                        return -ENOMEM;
                if (fstatat(dirfd(d), de->d_name, &st, AT_SYMLINK_NOFOLLOW) < 0) {
                        if (errno == ENOENT) /* removed since readdir */
                                continue;
                        return fail_path(u, -errno, "stat", child);
                }
                bool real_dir = S_ISDIR(st.st_mode);
                struct stat target;
                if (S_ISLNK(st.st_mode) && fstatat(dirfd(d), de->d_name, &target, 0) >= 0)
                        st = target;
                stat_to_ufs(&st, &s);
                r = ufs_list_add(l, name, s.is_dir, s.size, s.mtime);
                if (r < 0)
                        return r;
                if (recursive && real_dir) {
                        int sub = openat(
                                dirfd(d), de->d_name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
                        if (sub < 0) {
                                if (errno == ENOENT)
                                        continue;
                                return fail_path(u, -errno, "list", child);
                        }
                        r = list_dir(u, sub, name, child, recursive, l);
                        if (r < 0)
                                return r;
                }
        }
        return k;
}

static int file_list(Ufs *u, const char *path, bool recursive, UfsList *ret) {
        _cleanup_(freep) char *p = NULL;
        _cleanup_(closep) int dfd = -EBADF;
        UfsList l = {};
        int fd, r;

        r = file_begin(u, path, false, &p, &dfd);
        if (r < 0)
                return r;
        fd = openat(dfd, at_path(p), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        if (fd < 0)
                return fail_path(u, -errno, "list", p);
        r = list_dir(u, fd, "", p, recursive, &l);
        if (r < 0) {
                ufs_list_done(&l);
                return r;
        }
        ufs_list_sort(&l);
        *ret = l;
        return 0;
}

/* ---------------------------------------------------------------------------------- rename */

static int fail_rename(Ufs *u, int r, const char *from, const char *to) {
        return ufs_fail(u, r, NULL, "rename %s to %s: %m", from, to);
}

/*
 * rename without replacing, for file systems that refuse RENAME_NOREPLACE with EINVAL (NFS, FUSE ones
 * such as bindfs): a file moves with link(2), which refuses an existing target atomically; a directory
 * after a check for the target, which leaves a small race no caller of this layer meets.
 */
static int rename_noreplace_fallback(Ufs *u, int dfd, const char *from, const char *to) {
        struct stat st;

        if (fstatat(dfd, from, &st, AT_SYMLINK_NOFOLLOW) < 0)
                return fail_rename(u, -errno, from, to);
        if (!S_ISDIR(st.st_mode)) {
                if (linkat(dfd, from, dfd, to, 0) >= 0) {
                        if (unlinkat(dfd, from, 0) < 0) {
                                int r = -errno;
                                (void)unlinkat(dfd, to, 0);
                                return fail_rename(u, r, from, to);
                        }
                        return 0;
                }
                /* no hard links here (EPERM, EOPNOTSUPP, EMLINK): go the directory way */
                if (errno != EPERM && errno != EOPNOTSUPP && errno != EMLINK)
                        return fail_rename(u, -errno, from, to);
        }
        if (fstatat(dfd, to, &st, AT_SYMLINK_NOFOLLOW) >= 0)
                return fail_rename(u, -EEXIST, from, to);
        if (errno != ENOENT)
                return fail_rename(u, -errno, from, to);
        if (renameat(dfd, from, dfd, to) < 0)
                return fail_rename(u, -errno, from, to);
        return 0;
}

static int file_rename(Ufs *u, const char *from, const char *to) {
        _cleanup_(freep) char *f = NULL, *t = NULL;
        _cleanup_(closep) int dfd = -EBADF;
        int r;

        r = path_normalize(from, &f);
        if (r < 0)
                return r;
        r = path_normalize(to, &t);
        if (r < 0)
                return r;
        if (isempty(f) || isempty(t))
                return ufs_fail(u, -EINVAL, NULL, "cannot rename the root");
        r = root_open(u, false, &dfd);
        if (r < 0)
                return r;
        if (renameat2(dfd, f, dfd, t, RENAME_NOREPLACE) >= 0)
                return 0;
        /* EINVAL also means "into itself": the fallback's rename(2) then says so again */
        if (errno == EINVAL || errno == ENOSYS || errno == EOPNOTSUPP)
                return rename_noreplace_fallback(u, dfd, f, t);
        return fail_rename(u, -errno, f, t);
}

const UfsOps ufs_file_ops = {
        .scheme = "file",
        .has_directories = true,
        .has_multipart = false,
        .open = file_open,
        .close = file_close,
        .stat = file_stat,
        .peek = file_peek,
        .create = file_create,
        .read = file_read,
        .delete_file = file_delete_file,
        .delete_dir = file_delete_dir,
        .mkdirs = file_mkdirs,
        .list = file_list,
        .rename = file_rename,
};
