/* SPDX-License-Identifier: MIT */
/*
 * The UFS operation suite (ufs-suite.h): Alluxio's ufsTest operations over ufs.h. Each test gets its
 * own directory "<run dir>/<testName>" and names its paths relative to it. File contents come from a
 * pattern generator addressed by offset (a counter-based splitmix64 stream seeded by the file's path),
 * so data of any size is written and verified in bounded memory, and a range read at any offset is
 * checked without producing the bytes before it.
 */
#include <inttypes.h>
#include <stdarg.h>
#include <strings.h>
#include <sys/random.h>
#include <time.h>

#include "ufs-suite.h"

#define DEFAULT_LIST_RETRY_TIMEOUT (180 * USEC_PER_SEC)
#define DEFAULT_LARGE_DIR_FILES 100
#define DEFAULT_LARGE_FILE_SIZE (20ULL * 1024 * 1024)

#define SMALL_SIZE 4099 /* a page and a bit: a size that is a multiple of nothing */
#define VERIFY_CHUNK (64 * 1024)
#define RETRY_WAIT_MIN (100 * USEC_PER_MSEC)
#define RETRY_WAIT_MAX USEC_PER_SEC
#define MTIME_SKEW (5 * USEC_PER_MINUTE) /* an object store's clock against ours */
#define DEEP_LEVELS 8
#define LARGE_NAME_MAX 16 /* "file-" and an unsigned */
#define PATH_SLOTS 4

/* The UFS answered, but not what it should have. */
#define TEST_FAILED (-EBADMSG)

enum {
        NEEDS_DIRECTORIES = 1 << 0,
        NEEDS_MULTIPART = 1 << 1,
};

typedef struct Test {
        Ufs *u;
        const char *dir; /* the test's own directory, relative to the root */
        usec_t list_retry_timeout;
        unsigned large_dir_files;
        uint64_t large_file_size;
        const volatile sig_atomic_t *cancel;
        bool cancelled; /* a check saw the cancel */
        char reason[1024];
        char paths[PATH_SLOTS][4096]; /* see t_p() */
        unsigned next_path;
} Test;

#define TRY(expr)                                                                                           \
        do {                                                                                                \
                int _r_ = (expr);                                                                           \
                if (_r_ < 0)                                                                                \
                        return _r_;                                                                         \
        } while (0)

/* Runs a UFS call unless the run was cancelled (then -ECANCELED without calling). */
#define CALL(t, expr) (t_cancel_seen(t) ? -ECANCELED : (expr))

/* ---------------------------------------------------------------------------------- failures */

static int t_fail(Test *t, int r, const char *fmt, ...) _printf_(3, 4);
static int t_fail(Test *t, int r, const char *fmt, ...) {
        va_list ap;
        va_start(ap, fmt);
        vsnprintf(t->reason, sizeof(t->reason), fmt, ap);
        va_end(ap);
        return r < 0 ? r : TEST_FAILED;
}

static bool t_cancel_seen(Test *t) {
        if (t->cancel && *t->cancel)
                t->cancelled = true;
        return t->cancelled;
}

/* How rel is shown in reasons: relative to the test's directory, "." for the directory itself. */
static const char *shown(const char *rel) {
        return isempty(rel) ? "." : rel;
}

/* "CODE: words" of the failure r of the last UFS call, into buf. */
static const char *error_words(Test *t, int r, char *buf, size_t size) {
        const char *code = ufs_error_code(t->u), *words = ufs_error(t->u);
        if (isempty(code))
                code = strerrorname_np(-r) ?: "error";
        if (isempty(words))
                words = strerror(-r);
        if (startswith(words, code))
                snprintf(buf, size, "%s", words);
        else
                snprintf(buf, size, "%s: %s", code, words);
        return buf;
}

/* Fails t because op on rel returned r (< 0). */
static int t_op_failed(Test *t, const char *op, const char *rel, int r) {
        char buf[sizeof(t->u->error) + sizeof(t->u->error_code) + 8];
        if (r == -ECANCELED && t_cancel_seen(t))
                return t_fail(t, r, "cancelled at %s(%s)", op, shown(rel));
        return t_fail(t, r, "%s(%s): %s", op, shown(rel), error_words(t, r, buf, sizeof(buf)));
}

/* op on rel returned r, and should have failed with expected. */
static int t_expect_errno(Test *t, const char *op, const char *rel, int r, int expected) {
        char buf[sizeof(t->u->error) + sizeof(t->u->error_code) + 8];
        if (r == expected)
                return 0;
        if (r >= 0)
                return t_fail(t, TEST_FAILED, "%s(%s) succeeded, expected it to fail with %s", op,
                        shown(rel), strerrorname_np(-expected));
        if (r == -ECANCELED && t_cancel_seen(t))
                return t_op_failed(t, op, rel, r);
        return t_fail(t, TEST_FAILED, "%s(%s): expected %s, got %s", op, shown(rel),
                strerrorname_np(-expected), error_words(t, r, buf, sizeof(buf)));
}

/* ---------------------------------------------------------------------------------- paths, patterns */

/*
 * The path of rel below the test's directory, relative to the root, in one of a few rotating buffers
 * of t: valid until PATH_SLOTS more calls.
 */
static const char *t_p(Test *t, const char *rel) {
        char *buf = t->paths[t->next_path++ % PATH_SLOTS];
        snprintf(buf, sizeof(t->paths[0]), "%s%s%s", t->dir, isempty(rel) ? "" : "/", rel);
        return buf;
}

static uint64_t fnv1a(uint64_t h, const char *s) {
        for (; *s; s++)
                h = (h ^ (uint8_t)*s) * 0x100000001b3ULL;
        return h;
}

/* The pattern seed of the file rel: its path, so that every file of a run differs. */
static uint64_t t_seed(Test *t, const char *rel) {
        return fnv1a(fnv1a(fnv1a(0xcbf29ce484222325ULL, t->dir), "/"), rel);
}

static uint64_t mix64(uint64_t x) {
        x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9ULL;
        x = (x ^ (x >> 27)) * 0x94d049bb133111ebULL;
        return x ^ (x >> 31);
}

/* Bytes offset..offset+n of the pattern seed: byte i is byte i % 8 of the (i / 8)th splitmix64 word. */
static void pattern_fill(uint64_t seed, uint64_t offset, uint8_t *buf, size_t n) {
        for (size_t i = 0; i < n;) {
                uint64_t pos = offset + i;
                uint64_t w = mix64(seed + (pos >> 3) * 0x9e3779b97f4a7c15ULL);
                for (unsigned b = pos & 7; b < 8 && i < n; b++, i++)
                        buf[i] = (uint8_t)(w >> (8 * b));
        }
}

typedef struct Source {
        Test *t;
        uint64_t seed;
        uint64_t size;
        uint64_t pos;
        uint64_t fail_at; /* the source breaks down after giving this many bytes; UINT64_MAX: never */
} Source;

static ssize_t source_fill(void *userdata, void *buf, size_t n) {
        Source *s = userdata;
        if (t_cancel_seen(s->t))
                return -ECANCELED;
        if (s->pos >= s->fail_at)
                return -ECONNABORTED;
        n = (size_t)MIN((uint64_t)n, MIN(s->size, s->fail_at) - s->pos);
        pattern_fill(s->seed, s->pos, buf, n);
        s->pos += n;
        return (ssize_t)n;
}

typedef struct Verifier {
        Test *t;
        uint64_t seed;
        uint64_t pos; /* offset of the next byte in the file */
        uint64_t got;
        uint8_t *scratch; /* VERIFY_CHUNK bytes */
        bool mismatch;
        uint64_t bad_at;
        uint8_t expected, actual;
} Verifier;

static int verifier_sink(void *userdata, const void *buf, size_t n) {
        Verifier *v = userdata;
        const uint8_t *p = buf;

        if (t_cancel_seen(v->t))
                return -ECANCELED;
        while (n > 0) {
                size_t k = MIN(n, (size_t)VERIFY_CHUNK);
                pattern_fill(v->seed, v->pos, v->scratch, k);
                if (memcmp(p, v->scratch, k) != 0) {
                        size_t i = 0;
                        while (p[i] == v->scratch[i])
                                i++;
                        v->mismatch = true;
                        v->bad_at = v->pos + i;
                        v->expected = v->scratch[i];
                        v->actual = p[i];
                        return TEST_FAILED;
                }
                v->pos += k;
                v->got += k;
                p += k;
                n -= k;
        }
        return 0;
}

/* ---------------------------------------------------------------------------------- checked operations */

static int t_create_seeded(
        Test *t, const char *rel, uint64_t size, bool known_size, bool parents, uint64_t seed) {
        Source s = {.t = t, .seed = seed, .size = size, .fail_at = UINT64_MAX};
        int r = CALL(t,
                ufs_create(
                        t->u, t_p(t, rel), known_size ? size : UFS_SIZE_UNKNOWN, parents, source_fill, &s));
        return r < 0 ? t_op_failed(t, "ufs_create", rel, r) : 0;
}

/* Creates rel with size bytes of its own pattern, announcing the size. */
static int t_create(Test *t, const char *rel, uint64_t size, bool parents) {
        return t_create_seeded(t, rel, size, true, parents, t_seed(t, rel));
}

/*
 * Reads length bytes (UFS_SIZE_UNKNOWN: to the end) of rel from offset and checks them against the
 * pattern seed of a file of size bytes: every byte, and that no more and no fewer come.
 */
static int t_verify(
        Test *t, const char *rel, uint64_t seed, uint64_t size, uint64_t offset, uint64_t length) {
        _cleanup_(freep) uint8_t *scratch = malloc(VERIFY_CHUNK);
        uint64_t expect = offset >= size ? 0 : MIN(length, size - offset);
        Verifier v = {.t = t, .seed = seed, .pos = offset, .scratch = scratch};
        int r;

        if (!scratch)
                return t_fail(t, -ENOMEM, "out of memory");
        r = CALL(t, ufs_read(t->u, t_p(t, rel), offset, length, verifier_sink, &v));
        if (v.mismatch)
                return t_fail(t, TEST_FAILED,
                        "ufs_read(%s): byte %" PRIu64 " is 0x%02x, expected 0x%02x: "
                        "the data read back differs from the data written",
                        rel, v.bad_at, v.actual, v.expected);
        if (r < 0)
                return t_op_failed(t, "ufs_read", rel, r);
        if (v.got != expect)
                return t_fail(t, TEST_FAILED,
                        "ufs_read(%s) from byte %" PRIu64 ": got %" PRIu64 " bytes, expected %" PRIu64, rel,
                        offset, v.got, expect);
        return 0;
}

/* Reads all of rel and checks it is the pattern of rel itself, of size bytes. */
static int t_verify_all(Test *t, const char *rel, uint64_t size) {
        return t_verify(t, rel, t_seed(t, rel), size, 0, UFS_SIZE_UNKNOWN);
}

static int t_stat(Test *t, const char *rel, UfsStat *ret) {
        int r = CALL(t, ufs_stat(t->u, t_p(t, rel), ret));
        return r < 0 ? t_op_failed(t, "ufs_stat", rel, r) : 0;
}

static int t_expect_file(Test *t, const char *rel, uint64_t size) {
        UfsStat st;
        TRY(t_stat(t, rel, &st));
        if (st.is_dir)
                return t_fail(t, TEST_FAILED,
                        "ufs_stat(%s): a directory, expected a file of %" PRIu64 " bytes", rel, size);
        if (st.size != size)
                return t_fail(t, TEST_FAILED, "ufs_stat(%s): %" PRIu64 " bytes, expected %" PRIu64, rel,
                        st.size, size);
        return 0;
}

static int t_expect_dir(Test *t, const char *rel) {
        UfsStat st;
        TRY(t_stat(t, rel, &st));
        if (!st.is_dir)
                return t_fail(t, TEST_FAILED,
                        "ufs_stat(%s): a file of %" PRIu64 " bytes, expected a directory", shown(rel),
                        st.size);
        return 0;
}

static int t_expect_absent(Test *t, const char *rel) {
        UfsStat st;
        int r = CALL(t, ufs_stat(t->u, t_p(t, rel), &st));
        if (r == 0)
                return t_fail(t, TEST_FAILED, "ufs_stat(%s): %s exists, expected no such path", rel,
                        st.is_dir ? "a directory" : "a file");
        return t_expect_errno(t, "ufs_stat", rel, r, -ENOENT);
}

static int t_mkdirs(Test *t, const char *rel, bool parents) {
        int r = CALL(t, ufs_mkdirs(t->u, t_p(t, rel), parents));
        return r < 0 ? t_op_failed(t, "ufs_mkdirs", rel, r) : 0;
}

static int t_delete(Test *t, const char *rel) {
        int r = CALL(t, ufs_delete(t->u, t_p(t, rel)));
        return r < 0 ? t_op_failed(t, "ufs_delete", rel, r) : 0;
}

static int t_delete_dir(Test *t, const char *rel, bool recursive) {
        int r = CALL(t, ufs_delete_dir(t->u, t_p(t, rel), recursive));
        return r < 0 ? t_op_failed(t, recursive ? "ufs_delete_dir(recursive)" : "ufs_delete_dir", rel, r)
                     : 0;
}

static int t_rename(Test *t, const char *from, const char *to) {
        char what[512];
        int r = CALL(t, ufs_rename(t->u, t_p(t, from), t_p(t, to)));
        snprintf(what, sizeof(what), "%s, %s", from, to);
        return r < 0 ? t_op_failed(t, "ufs_rename", what, r) : 0;
}

/* ---------------------------------------------------------------------------------- listings */

typedef struct Expect {
        const char *name;
        bool is_dir;
        uint64_t size; /* files only */
} Expect;

#define DIR_(n)                                                                                             \
        { .name = (n), .is_dir = true }
#define FILE_(n, s)                                                                                         \
        { .name = (n), .size = (s) }

static int expect_compare(const void *a, const void *b) {
        return strcmp(((const Expect *)a)->name, ((const Expect *)b)->name);
}

/*
 * The first difference between listing l and exp (sorted), in words into buf; false when they agree.
 * Sizes are compared for files, mtimes not at all.
 */
static bool list_differs(const UfsList *l, const Expect *exp, size_t n, char *buf, size_t size) {
        size_t i = 0, j = 0;
        int k = -1;

        while (i < l->n || j < n) {
                int c = i >= l->n ? 1 : j >= n ? -1 : strcmp(l->entries[i].name, exp[j].name);
                const UfsEntry *e = i < l->n ? &l->entries[i] : NULL;
                if (c < 0) {
                        k = snprintf(buf, size, "'%s' is listed, expected no such entry", e->name);
                        break;
                }
                if (c > 0) {
                        k = snprintf(buf, size, "'%s' (a %s) is missing", exp[j].name,
                                exp[j].is_dir ? "directory" : "file");
                        break;
                }
                if (e->is_dir != exp[j].is_dir) {
                        k = snprintf(buf, size, "'%s' is a %s, expected a %s", e->name,
                                e->is_dir ? "directory" : "file", exp[j].is_dir ? "directory" : "file");
                        break;
                }
                if (!e->is_dir && e->size != exp[j].size) {
                        k = snprintf(buf, size, "'%s' has %" PRIu64 " bytes, expected %" PRIu64, e->name,
                                e->size, exp[j].size);
                        break;
                }
                i++, j++;
        }
        if (k < 0)
                return false;
        if ((size_t)k < size)
                snprintf(buf + k, size - k, " (%zu entries listed, %zu expected)", l->n, n);
        return true;
}

/* Sleeps before the next attempt of a retried check: false when the deadline has passed or the run was
 * cancelled. Backs off from 100 ms to 1 s. */
static bool t_retry_wait(Test *t, usec_t deadline, usec_t *wait) {
        usec_t now = now_usec(CLOCK_MONOTONIC);
        if (now >= deadline || t_cancel_seen(t))
                return false;
        usec_t d = MIN(*wait, deadline - now);
        struct timespec ts = {.tv_sec = d / USEC_PER_SEC, .tv_nsec = (d % USEC_PER_SEC) * 1000};
        (void)nanosleep(&ts, NULL);
        *wait = MIN(*wait * 2, RETRY_WAIT_MAX);
        return true;
}

/*
 * Lists rel and checks it shows exactly exp (n entries, any order). An object store may show what
 * was written only after a while: a listing that differs, or a directory not found, is retried until
 * the list retry timeout has passed.
 */
static int t_list_expect(Test *t, const char *rel, bool recursive, const Expect *exp, size_t n) {
        _cleanup_(freep) Expect *sorted = malloc(MAX(n, (size_t)1) * sizeof(Expect));
        const char *op = recursive ? "ufs_list(recursive)" : "ufs_list";
        usec_t deadline = now_usec(CLOCK_MONOTONIC) + t->list_retry_timeout, wait = RETRY_WAIT_MIN;
        char diff[512];

        if (!sorted)
                return t_fail(t, -ENOMEM, "out of memory");
        if (n > 0)
                memcpy(sorted, exp, n * sizeof(Expect));
        qsort(sorted, n, sizeof(Expect), expect_compare);

        for (;;) {
                UfsList l = {};
                int r = CALL(t, ufs_list(t->u, t_p(t, rel), recursive, &l));
                if (r == 0) {
                        bool differs = list_differs(&l, sorted, n, diff, sizeof(diff));
                        ufs_list_done(&l);
                        if (!differs)
                                return 0;
                } else if (r == -ENOENT)
                        error_words(t, r, diff, sizeof(diff));
                else
                        return t_op_failed(t, op, rel, r);
                if (!t_retry_wait(t, deadline, &wait))
                        break;
        }
        if (t->cancelled)
                return t_fail(t, -ECANCELED, "cancelled at %s(%s)", op, shown(rel));
        return t_fail(t, TEST_FAILED, "%s(%s): %s, still after %s of retries", op, shown(rel), diff,
                FORMAT_DURATION(t->list_retry_timeout));
}

/*
 * A large directory at rel: t->large_dir_files entries, files "file-NNNNN" of a few bytes each and,
 * every tenth, a directory "sub-NNNNN" holding one file (written with make_parents, no mkdirs), as
 * Alluxio's large directories mix both. The expected direct listing goes to *ret (names in *ret_names;
 * both owned by the caller).
 */
static int t_make_large_dir(Test *t, const char *rel, Expect **ret, char **ret_names) {
        size_t n = t->large_dir_files;
        _cleanup_(freep) Expect *exp = calloc(n, sizeof(Expect));
        _cleanup_(freep) char *names = malloc(n * LARGE_NAME_MAX);
        char path[512];

        if (!exp || !names)
                return t_fail(t, -ENOMEM, "out of memory");
        TRY(t_mkdirs(t, rel, false));
        for (size_t i = 0; i < n; i++) {
                char *name = names + i * LARGE_NAME_MAX;
                bool dir = i % 10 == 9;
                snprintf(name, LARGE_NAME_MAX, "%s-%05u", dir ? "sub" : "file", (unsigned)i);
                exp[i] = (Expect){.name = name, .is_dir = dir, .size = dir ? 0 : i % 37 + 1};
                if (dir) {
                        snprintf(path, sizeof(path), "%s/%s/file", rel, name);
                        TRY(t_create(t, path, SMALL_SIZE, true));
                } else {
                        snprintf(path, sizeof(path), "%s/%s", rel, name);
                        TRY(t_create(t, path, exp[i].size, false));
                }
        }
        *ret = TAKE_PTR(exp);
        *ret_names = TAKE_PTR(names);
        return 0;
}

/* ---------------------------------------------------------------------------------- the tests */

/* A writer that breaks down midway leaves nothing behind; a complete one leaves the whole file. */
/*
 * A create whose data source fails midway leaves nothing. The size is not announced: on s3 that is
 * the multipart path, whose abort the test checks (a single PUT cut off is S3's to discard, and
 * s3rver, the test server, keeps the partial object).
 */
static int create_atomic_test(Test *t) {
        uint64_t size = 3 * 1024 * 1024;
        Source s = {.t = t, .seed = t_seed(t, "file"), .size = size, .fail_at = 1024 * 1024 + 5};
        int r = CALL(t, ufs_create(t->u, t_p(t, "file"), UFS_SIZE_UNKNOWN, false, source_fill, &s));
        if (r >= 0)
                return t_fail(t, TEST_FAILED,
                        "ufs_create(file) succeeded although its data source failed after %" PRIu64 " bytes",
                        s.fail_at);
        if (t_cancel_seen(t))
                return t_op_failed(t, "ufs_create", "file", r);
        TRY(t_expect_absent(t, "file"));
        /* nor a temporary file or a partial upload listed beside it */
        TRY(t_list_expect(t, "", false, NULL, 0));
        TRY(t_create(t, "file", size, false));
        TRY(t_expect_file(t, "file", size));
        return t_verify_all(t, "file", size);
}

static int create_empty_test(Test *t) {
        TRY(t_create(t, "file", 0, false));
        TRY(t_expect_file(t, "file", 0));
        return t_verify_all(t, "file", 0);
}

static int create_no_parent_test(Test *t) {
        Source s = {.t = t, .seed = t_seed(t, "dir/file"), .size = SMALL_SIZE, .fail_at = UINT64_MAX};
        int r = CALL(t, ufs_create(t->u, t_p(t, "dir/file"), SMALL_SIZE, false, source_fill, &s));
        TRY(t_expect_errno(t, "ufs_create", "dir/file", r, -ENOENT));
        TRY(t_expect_absent(t, "dir/file"));
        return t_expect_absent(t, "dir");
}

static int create_parent_test(Test *t) {
        TRY(t_create(t, "dir1/dir2/file", SMALL_SIZE, true));
        TRY(t_expect_file(t, "dir1/dir2/file", SMALL_SIZE));
        TRY(t_expect_dir(t, "dir1"));
        TRY(t_expect_dir(t, "dir1/dir2"));
        return t_verify_all(t, "dir1/dir2/file", SMALL_SIZE);
}

static int create_open_test(Test *t) {
        TRY(t_create(t, "file", SMALL_SIZE, false));
        return t_verify_all(t, "file", SMALL_SIZE);
}

static int create_open_empty_test(Test *t) {
        TRY(t_create(t, "file", 0, false));
        TRY(t_verify_all(t, "file", 0));
        return t_verify(t, "file", t_seed(t, "file"), 0, 0, 10);
}

static int create_open_at_position_test(Test *t) {
        uint64_t size = SMALL_SIZE, seed = t_seed(t, "file");
        const uint64_t positions[] = {0, 1, 7, 8, size / 2, size - 1, size, size + 10};

        TRY(t_create(t, "file", size, false));
        for (size_t i = 0; i < ELEMENTSOF(positions); i++)
                TRY(t_verify(t, "file", seed, size, positions[i], UFS_SIZE_UNKNOWN));
        return 0;
}

/* Of a size not announced: s3 streams it as a multipart upload. */
static int create_open_large_test(Test *t) {
        uint64_t size = t->large_file_size;
        TRY(t_create_seeded(t, "file", size, false, false, t_seed(t, "file")));
        TRY(t_expect_file(t, "file", size));
        return t_verify_all(t, "file", size);
}

/* Of a size announced: s3 streams it as one PUT. */
static int create_open_existing_large_file_test(Test *t) {
        uint64_t size = t->large_file_size;
        TRY(t_create(t, "file", size, false));
        TRY(t_expect_file(t, "file", size));
        return t_verify_all(t, "file", size);
}

/* Range reads that skip over data, also across the end. */
static int create_open_skip_test(Test *t) {
        uint64_t size = t->large_file_size, seed = t_seed(t, "file");
        const uint64_t len = 64 * 1024;
        const uint64_t offsets[] = {
                0, size / 3, size / 2 + 1, size - MIN(size, len / 2), size - MIN(size, 1), size};

        TRY(t_create(t, "file", size, false));
        for (size_t i = 0; i < ELEMENTSOF(offsets); i++)
                TRY(t_verify(t, "file", seed, size, offsets[i], len));
        return 0;
}

static int delete_file_test(Test *t) {
        TRY(t_create(t, "file", SMALL_SIZE, false));
        TRY(t_delete(t, "file"));
        TRY(t_expect_absent(t, "file"));
        return t_expect_errno(t, "ufs_delete", "file", CALL(t, ufs_delete(t->u, t_p(t, "file"))), -ENOENT);
}

static int delete_dir_test(Test *t) {
        TRY(t_mkdirs(t, "dir1", false));
        TRY(t_create(t, "dir1/file", SMALL_SIZE, false));
        TRY(t_mkdirs(t, "dir1/sub", false));
        TRY(t_create(t, "dir1/sub/file", SMALL_SIZE, false));
        TRY(t_mkdirs(t, "dir2", false));

        TRY(t_expect_errno(t, "ufs_delete_dir", "dir1", CALL(t, ufs_delete_dir(t->u, t_p(t, "dir1"), false)),
                -ENOTEMPTY));
        TRY(t_expect_file(t, "dir1/sub/file", SMALL_SIZE));
        TRY(t_delete_dir(t, "dir1", true));
        TRY(t_expect_absent(t, "dir1/sub/file"));
        TRY(t_expect_absent(t, "dir1/sub"));
        TRY(t_expect_absent(t, "dir1/file"));
        TRY(t_expect_absent(t, "dir1"));

        TRY(t_delete_dir(t, "dir2", false));
        TRY(t_expect_absent(t, "dir2"));
        return t_expect_errno(
                t, "ufs_delete_dir", "dir2", CALL(t, ufs_delete_dir(t->u, t_p(t, "dir2"), false)), -ENOENT);
}

static int delete_large_directory_test(Test *t) {
        _cleanup_(freep) Expect *exp = NULL;
        _cleanup_(freep) char *names = NULL;

        TRY(t_make_large_dir(t, "dir", &exp, &names));
        TRY(t_delete_dir(t, "dir", true));
        TRY(t_expect_absent(t, "dir"));
        TRY(t_expect_absent(t, "dir/file-00000"));
        return t_list_expect(t, "", false, NULL, 0);
}

static int create_delete_file_conjuction_test(Test *t) {
        uint64_t again = t_seed(t, "file") ^ 0x5a5a5a5a5a5a5a5aULL;

        TRY(t_create(t, "file", SMALL_SIZE, false));
        TRY(t_expect_file(t, "file", SMALL_SIZE));
        TRY(t_delete(t, "file"));
        TRY(t_expect_absent(t, "file"));
        /* other content and size under the same name: nothing of the first file may come back */
        TRY(t_create_seeded(t, "file", SMALL_SIZE + 1, true, false, again));
        TRY(t_expect_file(t, "file", SMALL_SIZE + 1));
        TRY(t_verify(t, "file", again, SMALL_SIZE + 1, 0, UFS_SIZE_UNKNOWN));
        TRY(t_delete(t, "file"));
        return t_expect_absent(t, "file");
}

static int create_then_delete_existing_directory_test(Test *t) {
        TRY(t_mkdirs(t, "dir", false));
        TRY(t_expect_dir(t, "dir"));
        TRY(t_delete_dir(t, "dir", false));
        return t_expect_absent(t, "dir");
}

static int exists_test(Test *t) {
        TRY(t_expect_absent(t, "file"));
        TRY(t_expect_absent(t, "dir"));
        TRY(t_create(t, "file", SMALL_SIZE, false));
        TRY(t_mkdirs(t, "dir", false));
        TRY(t_expect_file(t, "file", SMALL_SIZE));
        return t_expect_dir(t, "dir");
}

static int get_directory_status_test(Test *t) {
        UfsStat st;
        TRY(t_mkdirs(t, "dir", false));
        TRY(t_stat(t, "dir", &st));
        if (!st.is_dir)
                return t_fail(t, TEST_FAILED, "ufs_stat(dir): a file, expected a directory");
        if (st.size != 0)
                return t_fail(t, TEST_FAILED, "ufs_stat(dir): size %" PRIu64 ", expected 0 for a directory",
                        st.size);
        return 0;
}

static int create_then_get_existing_directory_status_test(Test *t) {
        TRY(t_mkdirs(t, "dir", false));
        TRY(t_expect_dir(t, "dir"));
        /* mkdir -p of what exists is fine, a plain mkdir is not */
        TRY(t_mkdirs(t, "dir", true));
        TRY(t_expect_errno(
                t, "ufs_mkdirs", "dir", CALL(t, ufs_mkdirs(t->u, t_p(t, "dir"), false)), -EEXIST));
        return t_expect_dir(t, "dir");
}

static int get_file_size_test(Test *t) {
        const uint64_t sizes[] = {0, 1, 4096, SMALL_SIZE, 1024 * 1024 + 3};
        char name[64];

        for (size_t i = 0; i < ELEMENTSOF(sizes); i++) {
                snprintf(name, sizeof(name), "file-%" PRIu64, sizes[i]);
                TRY(t_create(t, name, sizes[i], false));
                TRY(t_expect_file(t, name, sizes[i]));
        }
        return 0;
}

static int create_then_get_existing_file_status_test(Test *t) {
        UfsStat st;
        TRY(t_create(t, "file", SMALL_SIZE, false));
        TRY(t_expect_file(t, "file", SMALL_SIZE));
        TRY(t_stat(t, "file", &st));
        if (st.mtime == 0)
                return t_fail(t, TEST_FAILED, "ufs_stat(file): no modification time");
        return 0;
}

static int get_file_status_test(Test *t) {
        TRY(t_create(t, "file", SMALL_SIZE, false));
        return t_expect_file(t, "file", SMALL_SIZE);
}

static int create_then_get_existing_status_test(Test *t) {
        TRY(t_create(t, "file", SMALL_SIZE, false));
        TRY(t_mkdirs(t, "dir", false));
        TRY(t_expect_file(t, "file", SMALL_SIZE));
        return t_expect_dir(t, "dir");
}

static int get_mod_time_test(Test *t) {
        UfsStat st;
        usec_t before = now_usec(CLOCK_REALTIME);
        TRY(t_create(t, "file", SMALL_SIZE, false));
        usec_t after = now_usec(CLOCK_REALTIME);
        TRY(t_stat(t, "file", &st));

        if (st.mtime == 0)
                return t_fail(t, TEST_FAILED, "ufs_stat(file): no modification time");
        usec_t off = st.mtime < before ? before - st.mtime : st.mtime > after ? st.mtime - after : 0;
        if (off > MTIME_SKEW)
                return t_fail(t, TEST_FAILED,
                        "ufs_stat(file): the modification time is %s %s the time of writing (allowed: %s)",
                        FORMAT_DURATION(off), st.mtime < before ? "before" : "after",
                        FORMAT_DURATION(MTIME_SKEW));
        return 0;
}

static int get_non_existing_directory_status_test(Test *t) {
        UfsList l = {};
        TRY(t_expect_absent(t, "dir"));
        int r = CALL(t, ufs_list(t->u, t_p(t, "dir"), false, &l));
        ufs_list_done(&l);
        return t_expect_errno(t, "ufs_list", "dir", r, -ENOENT);
}

static int discard_sink(void *userdata, const void *buf, size_t n) {
        return 0;
}

static int get_non_existing_file_status_test(Test *t) {
        TRY(t_expect_absent(t, "file"));
        return t_expect_errno(t, "ufs_read", "file",
                CALL(t, ufs_read(t->u, t_p(t, "file"), 0, UFS_SIZE_UNKNOWN, discard_sink, NULL)), -ENOENT);
}

static int get_non_existing_path_status_test(Test *t) {
        TRY(t_expect_absent(t, "dir/sub/file"));
        return t_expect_absent(t, "dir/sub");
}

static int is_file_test(Test *t) {
        UfsStat st;
        TRY(t_create(t, "file", SMALL_SIZE, false));
        TRY(t_mkdirs(t, "dir", false));
        TRY(t_stat(t, "file", &st));
        if (st.is_dir)
                return t_fail(t, TEST_FAILED, "ufs_stat(file): a directory, expected a file");
        TRY(t_stat(t, "dir", &st));
        if (!st.is_dir)
                return t_fail(t, TEST_FAILED, "ufs_stat(dir): a file, expected a directory");
        return t_expect_absent(t, "none");
}

static int list_status_test(Test *t) {
        const Expect exp[] = {FILE_("file-a", 1), FILE_("file-b", SMALL_SIZE), DIR_("dir")};
        TRY(t_create(t, "file-a", 1, false));
        TRY(t_create(t, "file-b", SMALL_SIZE, false));
        TRY(t_mkdirs(t, "dir", false));
        TRY(t_create(t, "dir/file-c", SMALL_SIZE, false));
        return t_list_expect(t, "", false, exp, ELEMENTSOF(exp));
}

static int list_status_empty_test(Test *t) {
        TRY(t_mkdirs(t, "dir", false));
        TRY(t_list_expect(t, "dir", false, NULL, 0));
        return t_list_expect(t, "dir", true, NULL, 0);
}

static int list_status_file_test(Test *t) {
        usec_t deadline, wait = RETRY_WAIT_MIN;
        int r;

        TRY(t_create(t, "file", SMALL_SIZE, false));
        deadline = now_usec(CLOCK_MONOTONIC) + t->list_retry_timeout;
        do {
                UfsList l = {};
                r = CALL(t, ufs_list(t->u, t_p(t, "file"), false, &l));
                ufs_list_done(&l);
                /* ENOENT: the file may not be visible to listings yet */
        } while (r == -ENOENT && t_retry_wait(t, deadline, &wait));
        return t_expect_errno(t, "ufs_list", "file", t->cancelled ? -ECANCELED : r, -ENOTDIR);
}

static int list_large_directory_test(Test *t) {
        _cleanup_(freep) Expect *exp = NULL;
        _cleanup_(freep) char *names = NULL;

        TRY(t_make_large_dir(t, "dir", &exp, &names));
        return t_list_expect(t, "dir", false, exp, t->large_dir_files);
}

static int list_status_recursive_test(Test *t) {
        const Expect exp[] = {
                FILE_("file", SMALL_SIZE),
                DIR_("sub1"),
                FILE_("sub1/file", 1),
                DIR_("sub1/sub11"),
                FILE_("sub1/sub11/file", 2),
                DIR_("sub2"),
        };
        TRY(t_mkdirs(t, "dir/sub1/sub11", true));
        TRY(t_mkdirs(t, "dir/sub2", false));
        TRY(t_create(t, "dir/file", SMALL_SIZE, false));
        TRY(t_create(t, "dir/sub1/file", 1, false));
        TRY(t_create(t, "dir/sub1/sub11/file", 2, false));
        return t_list_expect(t, "dir", true, exp, ELEMENTSOF(exp));
}

static int mkdirs_test(Test *t) {
        TRY(t_mkdirs(t, "a/b/c", true));
        TRY(t_expect_dir(t, "a"));
        TRY(t_expect_dir(t, "a/b"));
        TRY(t_expect_dir(t, "a/b/c"));
        TRY(t_mkdirs(t, "a/b/c", true));
        TRY(t_expect_errno(
                t, "ufs_mkdirs", "a/b/c", CALL(t, ufs_mkdirs(t->u, t_p(t, "a/b/c"), false)), -EEXIST));
        TRY(t_mkdirs(t, "x", false));
        TRY(t_expect_dir(t, "x"));
        if (ufs_has_directories(t->u)) {
                TRY(t_expect_errno(
                        t, "ufs_mkdirs", "y/z", CALL(t, ufs_mkdirs(t->u, t_p(t, "y/z"), false)), -ENOENT));
                TRY(t_expect_absent(t, "y"));
        }
        return 0;
}

static int object_common_prefixes_is_directory_test(Test *t) {
        TRY(t_create(t, "dir/a/file", SMALL_SIZE, true));
        TRY(t_expect_dir(t, "dir"));
        TRY(t_expect_dir(t, "dir/a"));
        return t_expect_file(t, "dir/a/file", SMALL_SIZE);
}

/* Files below directories nobody made: an object store must derive them from the key names. */
static int make_common_prefixes(Test *t) {
        TRY(t_create(t, "dir/file1", 1, true));
        TRY(t_create(t, "dir/a/file2", 2, true));
        return t_create(t, "dir/b/c/file3", 3, true);
}

static int object_common_prefixes_list_status_non_recursive_test(Test *t) {
        const Expect exp[] = {DIR_("a"), DIR_("b"), FILE_("file1", 1)};
        const Expect exp_b[] = {DIR_("c")};
        TRY(make_common_prefixes(t));
        TRY(t_list_expect(t, "dir", false, exp, ELEMENTSOF(exp)));
        return t_list_expect(t, "dir/b", false, exp_b, ELEMENTSOF(exp_b));
}

static int object_common_prefixes_list_status_recursive_test(Test *t) {
        const Expect exp[] = {
                DIR_("a"),
                FILE_("a/file2", 2),
                DIR_("b"),
                DIR_("b/c"),
                FILE_("b/c/file3", 3),
                FILE_("file1", 1),
        };
        TRY(make_common_prefixes(t));
        return t_list_expect(t, "dir", true, exp, ELEMENTSOF(exp));
}

/* Nested directories, one made explicitly and the others implied by a file: each listed once. */
static int object_nested_dirs_list_status_recursive_test(Test *t) {
        const Expect exp[] = {
                DIR_("d1"),
                DIR_("d1/d2"),
                DIR_("d1/d2/d3"),
                FILE_("d1/d2/d3/file", SMALL_SIZE),
                DIR_("d4"),
        };
        TRY(t_mkdirs(t, "dir/d1/d2", true));
        TRY(t_mkdirs(t, "dir/d4", false));
        TRY(t_create(t, "dir/d1/d2/d3/file", SMALL_SIZE, true));
        return t_list_expect(t, "dir", true, exp, ELEMENTSOF(exp));
}

static int rename_file_test(Test *t) {
        TRY(t_create(t, "file1", SMALL_SIZE, false));
        TRY(t_rename(t, "file1", "file2"));
        TRY(t_expect_absent(t, "file1"));
        TRY(t_expect_file(t, "file2", SMALL_SIZE));
        return t_verify(t, "file2", t_seed(t, "file1"), SMALL_SIZE, 0, UFS_SIZE_UNKNOWN);
}

/* Into another directory, and not over an existing file. */
static int rename_renamable_file_test(Test *t) {
        TRY(t_create(t, "file1", SMALL_SIZE, false));
        TRY(t_mkdirs(t, "dir", false));
        TRY(t_rename(t, "file1", "dir/file2"));
        TRY(t_expect_absent(t, "file1"));
        TRY(t_verify(t, "dir/file2", t_seed(t, "file1"), SMALL_SIZE, 0, UFS_SIZE_UNKNOWN));

        TRY(t_create(t, "file3", SMALL_SIZE + 1, false));
        TRY(t_expect_errno(t, "ufs_rename", "file3, dir/file2",
                CALL(t, ufs_rename(t->u, t_p(t, "file3"), t_p(t, "dir/file2"))), -EEXIST));
        TRY(t_verify_all(t, "file3", SMALL_SIZE + 1));
        return t_verify(t, "dir/file2", t_seed(t, "file1"), SMALL_SIZE, 0, UFS_SIZE_UNKNOWN);
}

static int rename_directory_test(Test *t) {
        const Expect exp[] = {FILE_("file1", SMALL_SIZE), DIR_("sub"), FILE_("sub/file2", 2)};
        TRY(t_mkdirs(t, "src", false));
        TRY(t_create(t, "src/file1", SMALL_SIZE, false));
        TRY(t_create(t, "src/sub/file2", 2, true));
        TRY(t_rename(t, "src", "dst"));
        TRY(t_expect_absent(t, "src/file1"));
        TRY(t_expect_absent(t, "src"));
        TRY(t_verify(t, "dst/file1", t_seed(t, "src/file1"), SMALL_SIZE, 0, UFS_SIZE_UNKNOWN));
        TRY(t_verify(t, "dst/sub/file2", t_seed(t, "src/sub/file2"), 2, 0, UFS_SIZE_UNKNOWN));
        return t_list_expect(t, "dst", true, exp, ELEMENTSOF(exp));
}

static int rename_directory_deep_test(Test *t) {
        Expect exp[2 * DEEP_LEVELS];
        char names[2 * DEEP_LEVELS][256], src[300], dst[300];
        size_t n = 0;

        char dir[128] = "";
        size_t len = 0;

        /* d1/file, d1/d2/file, ... d1/.../d8/file */
        for (unsigned i = 0; i < DEEP_LEVELS; i++) {
                len += (size_t)snprintf(dir + len, sizeof(dir) - len, "%sd%u", i == 0 ? "" : "/", i + 1);
                snprintf(names[n], sizeof(names[n]), "%s", dir);
                exp[n] = (Expect)DIR_(names[n]);
                n++;
                snprintf(names[n], sizeof(names[n]), "%s/file", dir);
                exp[n] = (Expect)FILE_(names[n], i + 1);
                n++;
        }
        TRY(t_mkdirs(t, "src", false));
        for (size_t i = 1; i < n; i += 2) {
                snprintf(src, sizeof(src), "src/%s", names[i]);
                TRY(t_create(t, src, exp[i].size, true));
        }
        TRY(t_rename(t, "src", "dst"));
        TRY(t_expect_absent(t, "src"));
        for (size_t i = 1; i < n; i += 2) {
                snprintf(src, sizeof(src), "src/%s", names[i]);
                snprintf(dst, sizeof(dst), "dst/%s", names[i]);
                TRY(t_verify(t, dst, t_seed(t, src), exp[i].size, 0, UFS_SIZE_UNKNOWN));
        }
        return t_list_expect(t, "dst", true, exp, n);
}

/* Not over an existing directory, and into another one. */
static int rename_renamable_directory_test(Test *t) {
        const Expect exp[] = {DIR_("renamed"), FILE_("renamed/file", SMALL_SIZE)};
        TRY(t_mkdirs(t, "src", false));
        TRY(t_create(t, "src/file", SMALL_SIZE, false));
        TRY(t_mkdirs(t, "existing", false));
        TRY(t_mkdirs(t, "dir", false));
        TRY(t_expect_errno(t, "ufs_rename", "src, existing",
                CALL(t, ufs_rename(t->u, t_p(t, "src"), t_p(t, "existing"))), -EEXIST));
        TRY(t_expect_file(t, "src/file", SMALL_SIZE));
        TRY(t_rename(t, "src", "dir/renamed"));
        TRY(t_expect_absent(t, "src"));
        TRY(t_verify(t, "dir/renamed/file", t_seed(t, "src/file"), SMALL_SIZE, 0, UFS_SIZE_UNKNOWN));
        return t_list_expect(t, "dir", true, exp, ELEMENTSOF(exp));
}

static int rename_large_directory_test(Test *t) {
        _cleanup_(freep) Expect *exp = NULL;
        _cleanup_(freep) char *names = NULL;
        const Expect top[] = {DIR_("dst")};

        TRY(t_make_large_dir(t, "src", &exp, &names));
        TRY(t_rename(t, "src", "dst"));
        TRY(t_list_expect(t, "dst", false, exp, t->large_dir_files));
        TRY(t_list_expect(t, "", false, top, ELEMENTSOF(top)));
        TRY(t_expect_absent(t, "src"));
        return t_verify(t, "dst/file-00000", t_seed(t, "src/file-00000"), 1, 0, UFS_SIZE_UNKNOWN);
}

/* A multipart upload failed midway must not be left running: it is billed and invisible. */
static void t_abort_quietly(Test *t, const char *rel, const char *upload_id) {
        (void)ufs_multipart_abort(t->u, t_p(t, rel), upload_id);
}

/* Starts a multipart upload of rel and uploads data (its pattern, n bytes) as part 1; on failure
 * nothing is left in progress. */
static int t_multipart_one_part(
        Test *t, const char *rel, uint8_t *data, size_t n, char **ret_upload_id, char **ret_etag) {
        _cleanup_(freep) char *upload_id = NULL, *etag = NULL;
        int r;

        pattern_fill(t_seed(t, rel), 0, data, n);
        r = CALL(t, ufs_multipart_create(t->u, t_p(t, rel), &upload_id));
        if (r < 0)
                return t_op_failed(t, "ufs_multipart_create", rel, r);
        r = CALL(t, ufs_multipart_upload_part(t->u, t_p(t, rel), upload_id, 1, data, n, &etag));
        if (r < 0) {
                r = t_op_failed(t, "ufs_multipart_upload_part", rel, r);
                t_abort_quietly(t, rel, upload_id);
                return r;
        }
        *ret_upload_id = TAKE_PTR(upload_id);
        *ret_etag = TAKE_PTR(etag);
        return 0;
}

static int create_file_less_than_one_part_test(Test *t) {
        _cleanup_(freep) char *upload_id = NULL, *etag = NULL;
        uint8_t data[SMALL_SIZE];
        int r;

        TRY(t_multipart_one_part(t, "file", data, sizeof(data), &upload_id, &etag));
        r = CALL(t, ufs_multipart_complete(t->u, t_p(t, "file"), upload_id, &etag, 1));
        if (r < 0) {
                r = t_op_failed(t, "ufs_multipart_complete", "file", r);
                t_abort_quietly(t, "file", upload_id);
                return r;
        }
        TRY(t_expect_file(t, "file", sizeof(data)));
        return t_verify_all(t, "file", sizeof(data));
}

static int create_and_abort_multipart_file_test(Test *t) {
        _cleanup_(freep) char *upload_id = NULL, *etag = NULL;
        uint8_t data[SMALL_SIZE];
        usec_t deadline, wait = RETRY_WAIT_MIN;
        size_t n = 0;
        int r;

        TRY(t_multipart_one_part(t, "file", data, sizeof(data), &upload_id, &etag));
        r = CALL(t, ufs_multipart_abort(t->u, t_p(t, "file"), upload_id));
        if (r < 0) {
                r = t_op_failed(t, "ufs_multipart_abort", "file", r);
                t_abort_quietly(t, "file", upload_id);
                return r;
        }
        TRY(t_expect_absent(t, "file"));

        deadline = now_usec(CLOCK_MONOTONIC) + t->list_retry_timeout;
        for (;;) {
                r = CALL(t, ufs_multipart_count(t->u, t_p(t, "file"), &n));
                if (r < 0)
                        return t_op_failed(t, "ufs_multipart_count", "file", r);
                if (n == 0)
                        return 0;
                if (!t_retry_wait(t, deadline, &wait))
                        break;
        }
        if (t->cancelled)
                return t_fail(t, -ECANCELED, "cancelled at ufs_multipart_count(file)");
        return t_fail(t, TEST_FAILED,
                "ufs_multipart_count(file): %zu uploads in progress after the abort, expected 0", n);
}

/* ---------------------------------------------------------------------------------- the table */

typedef struct SuiteTest {
        const char *name;
        unsigned flags;
        int (*run)(Test *t);
} SuiteTest;

/* The tests in the order they run: Alluxio's order. */
#define SUITE_TESTS(X)                                                                                      \
        X(createAtomicTest, 0, create_atomic_test)                                                          \
        X(createEmptyTest, 0, create_empty_test)                                                            \
        X(createNoParentTest, NEEDS_DIRECTORIES, create_no_parent_test)                                     \
        X(createParentTest, 0, create_parent_test)                                                          \
        X(createOpenTest, 0, create_open_test)                                                              \
        X(createOpenEmptyTest, 0, create_open_empty_test)                                                   \
        X(createOpenAtPositionTest, 0, create_open_at_position_test)                                        \
        X(createOpenLargeTest, 0, create_open_large_test)                                                   \
        X(createOpenExistingLargeFileTest, 0, create_open_existing_large_file_test)                         \
        X(createOpenSkipTest, 0, create_open_skip_test)                                                     \
        X(deleteFileTest, 0, delete_file_test)                                                              \
        X(deleteDirTest, 0, delete_dir_test)                                                                \
        X(deleteLargeDirectoryTest, 0, delete_large_directory_test)                                         \
        X(createDeleteFileConjuctionTest, 0, create_delete_file_conjuction_test)                            \
        X(createThenDeleteExistingDirectoryTest, 0, create_then_delete_existing_directory_test)             \
        X(existsTest, 0, exists_test)                                                                       \
        X(getDirectoryStatusTest, 0, get_directory_status_test)                                             \
        X(createThenGetExistingDirectoryStatusTest, 0, create_then_get_existing_directory_status_test)      \
        X(getFileSizeTest, 0, get_file_size_test)                                                           \
        X(createThenGetExistingFileStatusTest, 0, create_then_get_existing_file_status_test)                \
        X(getFileStatusTest, 0, get_file_status_test)                                                       \
        X(createThenGetExistingStatusTest, 0, create_then_get_existing_status_test)                         \
        X(getModTimeTest, 0, get_mod_time_test)                                                             \
        X(getNonExistingDirectoryStatusTest, 0, get_non_existing_directory_status_test)                     \
        X(getNonExistingFileStatusTest, 0, get_non_existing_file_status_test)                               \
        X(getNonExistingPathStatusTest, 0, get_non_existing_path_status_test)                               \
        X(isFileTest, 0, is_file_test)                                                                      \
        X(listStatusTest, 0, list_status_test)                                                              \
        X(listStatusEmptyTest, 0, list_status_empty_test)                                                   \
        X(listStatusFileTest, 0, list_status_file_test)                                                     \
        X(listLargeDirectoryTest, 0, list_large_directory_test)                                             \
        X(listStatusRecursiveTest, 0, list_status_recursive_test)                                           \
        X(mkdirsTest, 0, mkdirs_test)                                                                       \
        X(objectCommonPrefixesIsDirectoryTest, 0, object_common_prefixes_is_directory_test)                 \
        X(objectCommonPrefixesListStatusNonRecursiveTest, 0,                                                \
                object_common_prefixes_list_status_non_recursive_test)                                      \
        X(objectCommonPrefixesListStatusRecursiveTest, 0,                                                   \
                object_common_prefixes_list_status_recursive_test)                                          \
        X(objectNestedDirsListStatusRecursiveTest, 0, object_nested_dirs_list_status_recursive_test)        \
        X(renameFileTest, 0, rename_file_test)                                                              \
        X(renameRenamableFileTest, 0, rename_renamable_file_test)                                           \
        X(renameDirectoryTest, 0, rename_directory_test)                                                    \
        X(renameDirectoryDeepTest, 0, rename_directory_deep_test)                                           \
        X(renameRenamableDirectoryTest, 0, rename_renamable_directory_test)                                 \
        X(renameLargeDirectoryTest, 0, rename_large_directory_test)                                         \
        X(createFileLessThanOnePartTest, NEEDS_MULTIPART, create_file_less_than_one_part_test)              \
        X(createAndAbortMultipartFileTest, NEEDS_MULTIPART, create_and_abort_multipart_file_test)

#define SUITE_ENTRY(name, flags, fn) {#name, flags, fn},
#define SUITE_NAME(name, flags, fn) #name,

static const SuiteTest suite_tests[] = {SUITE_TESTS(SUITE_ENTRY)};
const char *const ufs_suite_test_names[] = {SUITE_TESTS(SUITE_NAME) NULL};

/* "createAtomicTest" matches "createAtomicTest" and "createAtomic", in any case. */
static bool name_matches(const char *test, const char *name) {
        size_t n = strlen(name), tn = strlen(test);
        if (n == tn)
                return strcasecmp(test, name) == 0;
        return n + 4 == tn && strncasecmp(test, name, n) == 0;
}

bool ufs_suite_has_test(const char *name) {
        for (size_t i = 0; i < ELEMENTSOF(suite_tests); i++)
                if (name_matches(suite_tests[i].name, name))
                        return true;
        return false;
}

/* ---------------------------------------------------------------------------------- the run */

/* Why test st does not apply to u, or NULL when it does. */
static const char *skip_reason(Ufs *u, const SuiteTest *st) {
        if ((st->flags & NEEDS_DIRECTORIES) && !ufs_has_directories(u))
                return "does not apply: this UFS has no real directories";
        if ((st->flags & NEEDS_MULTIPART) && !ufs_has_multipart(u))
                return "does not apply: this UFS has no multipart uploads";
        return NULL;
}

/* "vigil-ufs-test-20240709-120301-1a2b3c4d": sortable by time, unique by chance. */
static int run_dir_name(char **ret) {
        time_t now = time(NULL);
        struct tm tm;
        uint32_t rnd;

        if (!gmtime_r(&now, &tm))
                return -EOVERFLOW;
        if (getrandom(&rnd, sizeof(rnd), GRND_NONBLOCK) != (ssize_t)sizeof(rnd))
                rnd = (uint32_t)(now_usec(CLOCK_MONOTONIC) ^ ((uint64_t)getpid() << 16));
        if (asprintf(ret, "vigil-ufs-test-%04d%02d%02d-%02d%02d%02d-%08" PRIx32, tm.tm_year + 1900,
                    tm.tm_mon + 1, tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec, rnd) < 0)
                return -ENOMEM;
        return 0;
}

/* Records r on u as "<what> <run>: <the failure's own words>", keeping its code. */
static int run_dir_fail(Ufs *u, int r, const char *what, const char *run) {
        char words[sizeof(u->error)], code[sizeof(u->error_code)];
        snprintf(words, sizeof(words), "%s", isempty(ufs_error(u)) ? strerror(-r) : ufs_error(u));
        snprintf(code, sizeof(code), "%s", ufs_error_code(u));
        return ufs_fail(u, r, isempty(code) ? NULL : code, "%s %s: %s", what, run, words);
}

/* Whether r says the UFS did not answer at all: no connection, or no answer in time. */
static bool is_unreachable(int r) {
        return r == -ETIMEDOUT || r == -ECONNREFUSED || r == -EHOSTUNREACH || r == -ENETUNREACH ||
                r == -ECONNRESET || r == -EHOSTDOWN;
}

/*
 * After a test failed with r: whether the UFS is gone, told by one more look at the root that does
 * not answer either. Its words then go to why[]. Every further test would wait out the request
 * timeout as well (38 of them, 19 minutes at the default 30 s), so they are not run.
 */
static bool ufs_gone(Ufs *u, int r, char *why, size_t size) {
        UfsStat st;

        if (!is_unreachable(r))
                return false;
        r = ufs_peek(u, &st);
        if (!is_unreachable(r))
                return false;
        snprintf(why, size, "not run: the UFS stopped answering (%s: %s)", ufs_error_code(u), ufs_error(u));
        return true;
}

/* Runs one test into res; returns what it returned (negative: failed). */
static int run_one(Ufs *u, const char *run, const SuiteTest *st, const UfsSuiteOptions *o, Test *t,
        UfsSuiteResult *res) {
        _cleanup_(freep) char *dir = ufs_path_join(run, st->name);
        usec_t start = now_usec(CLOCK_MONOTONIC);
        int r;

        *t = (Test){
                .u = u,
                .dir = dir,
                .list_retry_timeout = o->list_retry_timeout ?: DEFAULT_LIST_RETRY_TIMEOUT,
                .large_dir_files = o->large_dir_files ?: DEFAULT_LARGE_DIR_FILES,
                .large_file_size = o->large_file_size ?: DEFAULT_LARGE_FILE_SIZE,
                .cancel = o->cancel,
        };
        if (!dir)
                r = t_fail(t, -ENOMEM, "out of memory");
        else {
                r = t_mkdirs(t, "", false);
                if (r >= 0)
                        r = st->run(t);
        }
        res->passed = r >= 0;
        res->duration = now_usec(CLOCK_MONOTONIC) - start;
        res->reason = res->passed ? NULL : t->reason;
        t->dir = NULL;
        return r;
}

int ufs_suite_run(Ufs *u, char *const *names, const UfsSuiteOptions *o, const UfsSuiteCallbacks *cb,
        bool *ret_cancelled) {
        static const UfsSuiteOptions default_options = {};
        static const UfsSuiteCallbacks no_callbacks = {};
        bool selected[ELEMENTSOF(suite_tests)] = {}, cancelled = false, gone = false;
        char gone_why[sizeof(u->error) + 64];
        _cleanup_(freep) char *run = NULL;
        _cleanup_(freep) Test *t = NULL;
        int n_failed = 0, r;

        o = o ?: &default_options;
        cb = cb ?: &no_callbacks;
        STRV_FOREACH (name, (char **)names) {
                bool found = false;
                for (size_t i = 0; i < ELEMENTSOF(suite_tests); i++)
                        if (name_matches(suite_tests[i].name, *name))
                                found = selected[i] = true;
                if (!found)
                        return ufs_fail(u, -EINVAL, NULL, "no such test: %s", *name);
        }
        if (!names)
                for (size_t i = 0; i < ELEMENTSOF(suite_tests); i++)
                        selected[i] = true;

        if (o->cancel && *o->cancel) {
                if (ret_cancelled)
                        *ret_cancelled = true;
                return 0;
        }

        t = malloc(sizeof(Test));
        if (!t)
                return -ENOMEM;
        r = run_dir_name(&run);
        if (r < 0)
                return r;
        r = ufs_mkdirs(u, run, true);
        if (r < 0)
                return run_dir_fail(u, r, "cannot make the run directory", run);

        for (size_t i = 0; i < ELEMENTSOF(suite_tests); i++) {
                const SuiteTest *st = &suite_tests[i];
                UfsSuiteResult res = {.name = st->name};

                if (!selected[i])
                        continue;
                if (o->cancel && *o->cancel) {
                        cancelled = true;
                        break;
                }
                res.reason = skip_reason(u, st);
                if (res.reason) {
                        res.skipped = true;
                        if (cb->done)
                                cb->done(cb->userdata, &res);
                        continue;
                }
                if (cb->start)
                        cb->start(cb->userdata, st->name);
                if (gone) {
                        res.reason = gone_why;
                        n_failed++;
                        if (cb->done)
                                cb->done(cb->userdata, &res);
                        continue;
                }
                r = run_one(u, run, st, o, t, &res);
                if (!res.passed)
                        n_failed++;
                if (cb->done)
                        cb->done(cb->userdata, &res);
                if (t->cancelled) {
                        cancelled = true;
                        break;
                }
                if (!res.passed && !(o->cancel && *o->cancel))
                        gone = ufs_gone(u, r, gone_why, sizeof(gone_why));
        }

        /* always, and without looking at the cancel, whose requests would be cancelled too: a run
         * leaves nothing behind */
        if (ret_cancelled)
                *ret_cancelled = cancelled;
        const volatile sig_atomic_t *cancel = u->cancel;
        ufs_set_cancel(u, NULL);
        r = ufs_delete_dir(u, run, true);
        ufs_set_cancel(u, cancel);
        if (r < 0 && r != -ENOENT)
                return run_dir_fail(u, r, "cannot remove the run directory", run);
        return n_failed;
}
