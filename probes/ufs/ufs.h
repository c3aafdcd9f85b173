/* SPDX-License-Identifier: MIT */
#pragma once

/*
 * The UFS access layer: one small interface over the under-file-systems vigil checks, so that the
 * operation suite (ufs-suite.h), the throughput test (ufs-io.h) and the agent's light probe
 * (ufs-probe.h) are written once. A scheme is one file implementing UfsOps: ufs-file.c (file:// on a
 * local or NFS-mounted directory) and ufs-s3.c (s3:// through libcurl with its AWS SigV4 signing).
 * A third scheme (WebHDFS) is one new file and one line in ufs.c.
 *
 * Paths. A Ufs is opened on a root URI ("s3://bucket/prefix", "file:///data/ufs"); every operation
 * takes a path relative to that root, '/'-separated, without a leading '/', never containing "." or
 * ".." components ("" is the root itself). A trailing '/' is ignored.
 *
 * Directories. file:// has real directories. s3:// has keys: a directory is a key prefix ending in
 * '/', either explicit (an empty "dir/" marker object, what ufs_mkdirs writes, as Alluxio does) or
 * implicit (some key below it exists). ufs_has_directories() tells which kind the scheme is.
 *
 * Errors are -errno, the same mapping for every scheme:
 *   -ENOENT     no such file, key or directory (S3 NoSuchKey, NoSuchUpload)
 *   -ENXIO      no such bucket (S3 NoSuchBucket)
 *   -EEXIST     exists already (create without overwrite, mkdirs without parents on an existing path)
 *   -ENOTDIR / -EISDIR / -ENOTEMPTY   as POSIX says
 *   -EACCES     credentials refused (AccessDenied, InvalidAccessKeyId, SignatureDoesNotMatch, EACCES)
 *   -EAGAIN     throttled (SlowDown, HTTP 503)
 *   -ETIMEDOUT, -ECONNREFUSED, -EHOSTUNREACH, -ECONNRESET   transport (curl_code_to_errno())
 *   -EPROTO     a malformed answer (bad XML, missing fields)
 *   -EOPNOTSUPP the scheme has no such operation (multipart on file://)
 *   -EIO        anything else (S3 InternalError, other 5xx, EIO from the file system)
 * After a failure ufs_error() gives the operator words, always naming the place: the S3 error code
 * and message ("NoSuchBucket: The specified bucket does not exist (bucket bkt)"), the request and the
 * transport's words ("PUT s3://bkt/k: Recv failure: Connection reset by peer"), or for file:// the
 * operation, the path and strerror ("stat dir/f: No such file or directory"). An error a UfsReadFn
 * or UfsWriteFn returned is passed back as it is, its words left to the caller (the callback knows
 * what went wrong).
 *
 * Threads: a Ufs is not shared between threads; open one per thread (ufs-io does). libcurl must have
 * been initialised (http_global_init()) before the first s3:// open.
 */

#include <signal.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "macros.h"
#include "time-util.h"

#define UFS_SIZE_UNKNOWN UINT64_MAX
#define UFS_DEFAULT_PART_SIZE (8ULL * 1024 * 1024)
#define UFS_MIN_PART_SIZE (5ULL * 1024 * 1024) /* S3: every part but the last */

/* A parsed root URI. */
typedef struct UfsUri {
        char *scheme; /* "s3", "file": lower case */
        char *bucket; /* s3: the bucket; NULL for file:// */
        char *path; /* s3: the key prefix, no leading or trailing '/', may be ""; file: absolute,
                     * no trailing '/' except for "/" itself */
} UfsUri;

/*
 * Parses "s3://bucket[/prefix]", "s3a://..." (same as s3), "file:///abs/path" or a plain absolute path
 * (taken as file://). Rejects an empty bucket, a bucket name S3 would refuse (3-63 characters of
 * a-z 0-9 . -), "." or ".." components, an unknown scheme and a relative path, with -EINVAL and
 * *ret_reason set (owned by the caller) when ret_reason is not NULL.
 */
int ufs_uri_parse(const char *s, UfsUri **ret, char **ret_reason);
UfsUri *ufs_uri_free(UfsUri *u);
DEFINE_TRIVIAL_CLEANUP_FUNC(UfsUri *, ufs_uri_free);

/* "s3://bucket/prefix" / "file:///path": the canonical form, owned by the caller. */
char *ufs_uri_to_string(const UfsUri *u);

/*
 * Whether error code of a UFS is expected under spec: entries "SCHEME:CODE,CODE" separated by
 * spaces, "*" for every scheme not named, "SCHEME:" for none; spec NULL: UFS_DEFAULT_EXPECTED_ERRORS.
 * The scheme of a UFS is what precedes "://" in it, or the whole value. Used for the codes of the
 * metrics' alluxio_ufs_error and of the UFS probe alike. Returns 1, 0, or -EINVAL for a malformed spec.
 */
#define UFS_DEFAULT_EXPECTED_ERRORS "*:404"
int ufs_error_expected(const char *spec, const char *ufs, const char *code);

/* Checks a relative path as the operations take it (see Paths above); -EINVAL when it is not one. */
int ufs_path_check(const char *path);

/* How S3 requests name the bucket. */
typedef enum UfsAddressing {
        UFS_ADDRESSING_AUTO, /* path style with an endpoint override, virtual-host style on AWS */
        UFS_ADDRESSING_PATH, /* http://host/bucket/key */
        UFS_ADDRESSING_VIRTUAL, /* http://bucket.host/key */
        _UFS_ADDRESSING_MAX,
        _UFS_ADDRESSING_INVALID = -EINVAL,
} UfsAddressing;

/* "auto", "path", "virtual"; -EINVAL for anything else (NULL is auto). */
UfsAddressing ufs_addressing_from_string(const char *s);

/* Options for opening; all may be NULL / 0 for the defaults. Borrowed during ufs_open() only. */
typedef struct UfsOptions {
        const char *endpoint; /* s3: "http://127.0.0.1:4568" or "https://minio:9000"; NULL: AWS
                               * (https://s3.<region>.amazonaws.com) */
        const char *region; /* NULL: $AWS_REGION, $AWS_DEFAULT_REGION, the profile's region, us-east-1 */
        UfsAddressing addressing; /* s3: how the bucket is addressed; 0 (auto) by default */
        const char *access_key; /* NULL: $AWS_ACCESS_KEY_ID, then the credentials file */
        const char *secret_key; /* with access_key */
        const char *session_token; /* NULL: $AWS_SESSION_TOKEN when the keys came from the environment,
                                    * aws_session_token of the profile when from the file */
        const char *profile; /* NULL: $AWS_PROFILE, then "default" */
        const char *credentials_file; /* NULL: $AWS_SHARED_CREDENTIALS_FILE, then ~/.aws/credentials */
        const char *ca_file; /* TLS: trust these CAs instead of the system's */
        bool insecure; /* TLS: do not verify the server (test endpoints only) */
        usec_t timeout; /* one request without progress: 0 = 30 s (low-speed limit, so that a 4 GiB
                         * transfer is not cut off by a whole-transfer timeout) */
        usec_t connect_timeout; /* 0 = 5 s */
        uint64_t part_size; /* s3 multipart part size for uploads of unknown size; 0 = 8 MiB; at least
                             * UFS_MIN_PART_SIZE */
        const volatile sig_atomic_t *cancel; /* when it becomes non-zero (Ctrl-C), a request in flight
                                              * fails with -ECANCELED at its next progress tick; may be
                                              * NULL */
} UfsOptions;

typedef struct Ufs Ufs;

/*
 * Opens the UFS at uri with options o (may be NULL). Does no I/O for s3:// (the first operation
 * connects); for file:// the root need not exist yet. -EINVAL (with *ret_reason) for bad options or
 * missing credentials for s3://.
 */
int ufs_open(const UfsUri *uri, const UfsOptions *o, Ufs **ret, char **ret_reason);
Ufs *ufs_close(Ufs *u);
DEFINE_TRIVIAL_CLEANUP_FUNC(Ufs *, ufs_close);

/*
 * Replaces the cancel flag of UfsOptions (NULL: none). A clean-up after a cancel sets NULL first, so
 * that the requests that remove what was made are not cancelled themselves.
 */
void ufs_set_cancel(Ufs *u, const volatile sig_atomic_t *cancel);
/* Whether the cancel flag is up; schemes check it between chunks and in transfers. */
bool ufs_cancelled(const Ufs *u);

/* The scheme's name ("s3", "file"). */
const char *ufs_scheme(const Ufs *u);
/* true for file:// (real directories: a file needs its parent; an empty directory is a thing). */
bool ufs_has_directories(const Ufs *u);
/* true for s3:// (multipart uploads exist). */
bool ufs_has_multipart(const Ufs *u);
/* The operator words of the last failure on u ("AccessDenied: Access Denied"), "" if none. */
const char *ufs_error(const Ufs *u);
/* The symbolic code of the last failure: the S3 error code ("NoSuchBucket"), "HTTP 502", or the errno
 * name ("ENOENT"); "" if none. */
const char *ufs_error_code(const Ufs *u);

typedef struct UfsStat {
        bool is_dir;
        uint64_t size; /* 0 for directories */
        usec_t mtime; /* modification time (CLOCK_REALTIME), 0 when unknown (implicit s3 directories) */
} UfsStat;

/*
 * Status of path. s3: a key is a file; otherwise "path/" (a marker) or any key below "path/" makes
 * it a directory. The root ("") is always a directory if the bucket exists. -ENOENT when none.
 */
int ufs_stat(Ufs *u, const char *path, UfsStat *ret);

/*
 * A light look at the root, what the agent's UFS probe does every cycle: the root's status, found
 * the way that makes the UFS itself answer. s3: a one-key listing below the root prefix (the status
 * of ""); file://: opens the root directory and reads its first entry (a stat alone may be answered
 * from the kernel's attribute cache, also by a hung NFS or FUSE mount).
 */
int ufs_peek(Ufs *u, UfsStat *ret);

/* Pulls up to n bytes into buf: returns the number given (0 = end of data) or -errno to abort. */
typedef ssize_t (*UfsReadFn)(void *userdata, void *buf, size_t n);
/* Takes n bytes of data read: returns 0, or -errno to abort the read (which then returns it). */
typedef int (*UfsWriteFn)(void *userdata, const void *buf, size_t n);

/*
 * Creates (or replaces) the file path with the data pulled from fill, streaming: memory stays bounded
 * whatever the size. size is the exact number of bytes fill will give, or UFS_SIZE_UNKNOWN.
 * file://: writes a temporary file beside it and renames it into place, so a reader sees the old file
 * or the whole new one (create atomic); parents must exist (-ENOENT) unless make_parents.
 * s3://: a known size up to 5 GiB is one streaming PUT; an unknown or larger size is a multipart
 * upload in part_size parts (aborted on failure). make_parents is ignored (no directories).
 * A fill that gives a different number of bytes than size fails the create with -EIO.
 */
int ufs_create(Ufs *u, const char *path, uint64_t size, bool make_parents, UfsReadFn fill, void *userdata);
/* ufs_create() of a buffer in memory. */
int ufs_create_buffer(Ufs *u, const char *path, const void *data, size_t n, bool make_parents);

/*
 * Reads length bytes of path from offset (length UFS_SIZE_UNKNOWN: to the end), streaming them to
 * sink. Reading at or past the end gives no data and returns 0. -EISDIR for a directory (file://).
 */
int ufs_read(Ufs *u, const char *path, uint64_t offset, uint64_t length, UfsWriteFn sink, void *userdata);
/* ufs_read() into a new buffer of at most max bytes (-EFBIG when there would be more). *ret_data is
 * NUL-terminated (not counted) and owned by the caller. */
int ufs_read_buffer(Ufs *u, const char *path, uint64_t offset, uint64_t length, size_t max, char **ret_data,
        size_t *ret_size);

/* Deletes the file path. -ENOENT when it does not exist (s3: checked with a HEAD first, as S3's
 * DELETE answers 204 either way); -EISDIR when it is a directory. */
int ufs_delete(Ufs *u, const char *path);

/*
 * Deletes the directory path. Not recursive: -ENOTEMPTY when it has entries (file://: rmdir;
 * s3: any key below it besides its own marker). Recursive: everything below it, then it.
 * -ENOENT when there is no such directory.
 */
int ufs_delete_dir(Ufs *u, const char *path, bool recursive);

/*
 * Makes the directory path. parents: also the missing ancestors, and an existing directory is not an
 * error (mkdir -p). Without parents: -ENOENT when the parent is missing (file:// only: s3 has no
 * parents to miss), -EEXIST when path exists. s3: writes the "path/" marker object.
 */
int ufs_mkdirs(Ufs *u, const char *path, bool parents);

typedef struct UfsEntry {
        char *name; /* relative to the listed directory, '/'-separated when recursive, no trailing '/' */
        bool is_dir;
        uint64_t size;
        usec_t mtime; /* 0 when unknown */
} UfsEntry;

typedef struct UfsList {
        UfsEntry *entries; /* sorted by name (strcmp) */
        size_t n;
} UfsList;
void ufs_list_done(UfsList *l); /* releases the members, not l */

/*
 * Lists the directory path: its direct entries, or with recursive everything below it (files and
 * directories; s3: implicit directories are derived from key names, each once). An s3 listing follows
 * continuation tokens to the end. -ENOENT when path is no directory (s3: no marker and no key below
 * it; an existing empty s3 directory has its marker), -ENOTDIR when it is a file.
 */
int ufs_list(Ufs *u, const char *path, bool recursive, UfsList *ret);

/*
 * Renames the file or directory from to to; to must not exist (-EEXIST) and its parent must
 * (file://). file://: rename(2). s3: server-side copy of every key then delete (not atomic; a
 * directory is moved key by key).
 */
int ufs_rename(Ufs *u, const char *from, const char *to);

/* Multipart uploads (s3 only; -EOPNOTSUPP elsewhere). upload ids and etags are owned by the caller. */
int ufs_multipart_create(Ufs *u, const char *path, char **ret_upload_id);
/* Uploads part number part (1..10000) of n bytes. */
int ufs_multipart_upload_part(Ufs *u, const char *path, const char *upload_id, unsigned part,
        const void *data, size_t n, char **ret_etag);
/* Completes with the etags of parts 1..n_parts in order. */
int ufs_multipart_complete(
        Ufs *u, const char *path, const char *upload_id, char *const *etags, size_t n_parts);
int ufs_multipart_abort(Ufs *u, const char *path, const char *upload_id);
/* The uploads in progress under path (prefix): their number, so a test can tell an abort worked. */
int ufs_multipart_count(Ufs *u, const char *path, size_t *ret_n);

/* ---- for scheme implementations (ufs.c and ufs-<scheme>.c only) ---- */

typedef struct UfsOps {
        const char *scheme;
        bool has_directories;
        bool has_multipart;
        int (*open)(Ufs *u, const UfsUri *uri, const UfsOptions *o, char **ret_reason);
        void (*close)(Ufs *u);
        int (*stat)(Ufs *u, const char *path, UfsStat *ret);
        int (*peek)(Ufs *u, UfsStat *ret); /* optional: the status of "" */
        int (*create)(
                Ufs *u, const char *path, uint64_t size, bool make_parents, UfsReadFn fill, void *userdata);
        int (*read)(
                Ufs *u, const char *path, uint64_t offset, uint64_t length, UfsWriteFn sink, void *userdata);
        int (*delete_file)(Ufs *u, const char *path);
        int (*delete_dir)(Ufs *u, const char *path, bool recursive);
        int (*mkdirs)(Ufs *u, const char *path, bool parents);
        int (*list)(Ufs *u, const char *path, bool recursive, UfsList *ret);
        int (*rename)(Ufs *u, const char *from, const char *to);
        /* optional (NULL: -EOPNOTSUPP) */
        int (*multipart_create)(Ufs *u, const char *path, char **ret_upload_id);
        int (*multipart_upload_part)(Ufs *u, const char *path, const char *upload_id, unsigned part,
                const void *data, size_t n, char **ret_etag);
        int (*multipart_complete)(
                Ufs *u, const char *path, const char *upload_id, char *const *etags, size_t n_parts);
        int (*multipart_abort)(Ufs *u, const char *path, const char *upload_id);
        int (*multipart_count)(Ufs *u, const char *path, size_t *ret_n);
} UfsOps;

struct Ufs {
        const UfsOps *ops;
        void *data; /* the scheme's own state, set by .open, released by .close */
        const volatile sig_atomic_t *cancel; /* UfsOptions.cancel, see ufs_set_cancel() */
        char error[512]; /* see ufs_error() */
        char error_code[64];
};

extern const UfsOps ufs_file_ops;
extern const UfsOps ufs_s3_ops;

/* Records the last failure's words and code on u and returns r (a negative errno) for "return
 * ufs_fail(u, r, ...)". code NULL: the errno's name. */
int ufs_fail(Ufs *u, int r, const char *code, const char *fmt, ...) _printf_(4, 5);
/* Clears the last failure (each public operation does so first). */
void ufs_clear_error(Ufs *u);

/* Sets *ret_reason (when ret_reason is not NULL; NULL on OOM) to the formatted words and returns r: the
 * one way this layer says why it refused something. */
int ufs_reason(char **ret_reason, int r, const char *fmt, ...) _printf_(3, 4);

/* Adds a copy of e (name copied) to l; for the list implementations. */
int ufs_list_add(UfsList *l, const char *name, bool is_dir, uint64_t size, usec_t mtime);
/* Sorts l by name and drops duplicate names (keeping a directory over a file of the same name, which
 * only s3 can produce); for the list implementations. */
void ufs_list_sort(UfsList *l);

/* Joins a relative path below a base ("a/b" + "c" = "a/b/c"; "" + "c" = "c"); NULL on OOM. */
char *ufs_path_join(const char *base, const char *path);
