/* SPDX-License-Identifier: MIT */
/*
 * file:// (ufs-file.c) through the public ufs.h calls, each operation and its error paths, and the
 * operation suite (ufs-suite.c) run against a temp dir: passing, cancelled, and on a broken root.
 */
#include <fcntl.h>
#include <ftw.h>
#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stddef.h>
#include <sys/stat.h>

#include <cmocka.h>

#include "test-util.h"

#include "macros.h"
#include "ufs-suite.h"
#include "ufs.h"

#define MiB (1024 * 1024)

typedef struct Fixture {
        char *tmp; /* the test's temp dir */
        char *root; /* tmp/root: the UFS root */
        Ufs *u;
        char paths[4][4096];
        unsigned next_path;
} Fixture;

/* ---------------------------------------------------------------------------------- helpers */

static int rm_one(const char *path, const struct stat *st, int flag, struct FTW *ftw) {
        return remove(path) < 0 && errno != ENOENT ? -1 : 0;
}

static void rm_rf(const char *path) {
        (void)nftw(path, rm_one, 16, FTW_DEPTH | FTW_PHYS);
}

static Ufs *open_root(const char *root) {
        UfsUri uri = {.scheme = (char *)"file", .path = (char *)root};
        _cleanup_(freep) char *reason = NULL;
        Ufs *u = NULL;
        assert_int_equal(ufs_open(&uri, NULL, &u, &reason), 0);
        return u;
}

static int setup(void **state) {
        Fixture *f = calloc(1, sizeof(Fixture));
        assert_non_null(f);
        f->tmp = strdup("/tmp/vigil-ufs-file-XXXXXX");
        assert_non_null(mkdtemp(f->tmp));
        assert_true(asprintf(&f->root, "%s/root", f->tmp) > 0);
        assert_int_equal(mkdir(f->root, 0755), 0);
        f->u = open_root(f->root);
        *state = f;
        return 0;
}

static int teardown(void **state) {
        Fixture *f = *state;
        ufs_close(f->u);
        rm_rf(f->tmp);
        free(f->root);
        free(f->tmp);
        free(f);
        return 0;
}

/* The absolute path of rel below the root ("": the root), in one of a few rotating buffers. */
static const char *abs_path(Fixture *f, const char *rel) {
        char *buf = f->paths[f->next_path++ % ELEMENTSOF(f->paths)];
        snprintf(buf, sizeof(f->paths[0]), "%s%s%s", f->root, isempty(rel) ? "" : "/", rel);
        return buf;
}

static void put_file_at(const char *path) {
        int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
        assert_true(fd >= 0);
        close(fd);
}

static void put(Fixture *f, const char *rel, const char *text) {
        _cleanup_(closep) int fd = open(abs_path(f, rel), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
        assert_true(fd >= 0);
        assert_int_equal(write(fd, text, strlen(text)), (ssize_t)strlen(text));
}

static void mkdir_abs(Fixture *f, const char *rel) {
        assert_int_equal(mkdir(abs_path(f, rel), 0755), 0);
}

static bool exists(Fixture *f, const char *rel) {
        struct stat st;
        return lstat(abs_path(f, rel), &st) == 0;
}

/* The whole content of rel through the UFS, NUL-terminated. */
static char *get(Fixture *f, const char *rel) {
        char *data = NULL;
        size_t n;
        assert_int_equal(ufs_read_buffer(f->u, rel, 0, UFS_SIZE_UNKNOWN, 64 * MiB, &data, &n), 0);
        return data;
}

/* Entries in the directory rel (absolute when it starts with '/'), "." and ".." not counted. */
static size_t count_entries(Fixture *f, const char *rel) {
        _cleanup_(closedirp) DIR *d = opendir(rel[0] == '/' ? rel : abs_path(f, rel));
        struct dirent *de;
        size_t n = 0;
        assert_non_null(d);
        while ((de = readdir(d)))
                if (!streq(de->d_name, ".") && !streq(de->d_name, ".."))
                        n++;
        return n;
}

static void assert_error_names(Fixture *f, const char *code, const char *rel) {
        if (!streq(ufs_error_code(f->u), code))
                fail_msg("error code \"%s\", expected \"%s\" (%s)", ufs_error_code(f->u), code,
                        ufs_error(f->u));
        if (!strstr(ufs_error(f->u), rel))
                fail_msg("error \"%s\" does not name \"%s\"", ufs_error(f->u), rel);
        if (strstr(ufs_error(f->u), f->root) && !streq(rel, f->root))
                fail_msg("error \"%s\" names the root, not the path relative to it", ufs_error(f->u));
}

static void pattern(uint8_t *buf, size_t n, unsigned seed) {
        for (size_t i = 0; i < n; i++)
                buf[i] = (uint8_t)((i * 131 + seed + (i >> 12)) & 0xff);
}

typedef struct Source {
        const uint8_t *data;
        size_t size;
        size_t pos;
        size_t chunk; /* at most this much per call; 0: as much as asked */
        size_t fail_at; /* fail with fail_with once pos reaches it; 0: never */
        int fail_with;
        size_t calls;
} Source;

static ssize_t source_fill(void *userdata, void *buf, size_t n) {
        Source *s = userdata;
        s->calls++;
        if (s->fail_at && s->pos >= s->fail_at)
                return s->fail_with;
        n = MIN(n, s->size - s->pos);
        if (s->chunk)
                n = MIN(n, s->chunk);
        if (s->fail_at)
                n = MIN(n, s->fail_at - s->pos);
        memcpy(buf, s->data + s->pos, n);
        s->pos += n;
        return (ssize_t)n;
}

typedef struct Sink {
        uint8_t *data;
        size_t size;
        size_t calls;
        size_t max_chunk;
        int fail_with; /* returned from the second call on */
} Sink;

static int sink_take(void *userdata, const void *buf, size_t n) {
        Sink *s = userdata;
        if (s->fail_with && s->calls > 0)
                return s->fail_with;
        s->calls++;
        s->max_chunk = MAX(s->max_chunk, n);
        s->data = realloc(s->data, s->size + n);
        assert_non_null(s->data);
        memcpy(s->data + s->size, buf, n);
        s->size += n;
        return 0;
}

/* ---------------------------------------------------------------------------------- open */

static void file_scheme_has_directories_and_no_multipart(void **state) {
        Fixture *f = *state;
        assert_string_equal(ufs_scheme(f->u), "file");
        assert_true(ufs_has_directories(f->u));
        assert_false(ufs_has_multipart(f->u));
}

static void open_refuses_a_relative_root(void **state) {
        UfsUri uri = {.scheme = (char *)"file", .path = (char *)"relative/dir"};
        _cleanup_(freep) char *reason = NULL;
        Ufs *u = NULL;
        assert_int_equal(ufs_open(&uri, NULL, &u, &reason), -EINVAL);
        assert_null(u);
        assert_non_null(reason);
        assert_non_null(strstr(reason, "absolute"));
}

static void open_does_not_need_the_root_to_exist(void **state) {
        Fixture *f = *state;
        _cleanup_(ufs_closep) Ufs *u = open_root(abs_path(f, "not/yet"));
        UfsStat st;
        assert_int_equal(ufs_stat(u, "x", &st), -ENOENT);
        assert_non_null(strstr(ufs_error(u), "not/yet"));
}

static void multipart_operations_are_not_supported(void **state) {
        Fixture *f = *state;
        char *id = NULL;
        size_t n = 7;
        assert_int_equal(ufs_multipart_create(f->u, "file", &id), -EOPNOTSUPP);
        assert_null(id);
        assert_int_equal(ufs_multipart_count(f->u, "", &n), -EOPNOTSUPP);
        assert_int_equal(n, 7);
}

/* ---------------------------------------------------------------------------------- create */

static void create_then_read_gives_the_same_bytes(void **state) {
        Fixture *f = *state;
        size_t size = 3 * MiB + 517;
        _cleanup_(freep) uint8_t *data = malloc(size);
        pattern(data, size, 1);
        Source s = {.data = data, .size = size};
        Sink k = {};

        assert_int_equal(ufs_create(f->u, "file", size, false, source_fill, &s), 0);
        assert_int_equal(ufs_read(f->u, "file", 0, UFS_SIZE_UNKNOWN, sink_take, &k), 0);
        assert_int_equal(k.size, size);
        assert_memory_equal(k.data, data, size);
        free(k.data);
}

static void create_of_unknown_size_takes_all_the_data(void **state) {
        Fixture *f = *state;
        size_t size = 2 * MiB + 3;
        _cleanup_(freep) uint8_t *data = malloc(size);
        pattern(data, size, 2);
        Source s = {.data = data, .size = size, .chunk = 4000};
        struct stat st;

        assert_int_equal(ufs_create(f->u, "file", UFS_SIZE_UNKNOWN, false, source_fill, &s), 0);
        assert_int_equal(stat(abs_path(f, "file"), &st), 0);
        assert_int_equal(st.st_size, size);
}

static void create_replaces_an_existing_file(void **state) {
        Fixture *f = *state;
        put(f, "file", "old content, longer than the new");
        assert_int_equal(ufs_create_buffer(f->u, "file", "new", 3, false), 0);
        _cleanup_(freep) char *got = get(f, "file");
        assert_string_equal(got, "new");
}

static void create_without_parents_under_a_missing_directory_fails_enoent(void **state) {
        Fixture *f = *state;
        assert_int_equal(ufs_create_buffer(f->u, "dir/file", "x", 1, false), -ENOENT);
        assert_error_names(f, "ENOENT", "dir/file");
        assert_false(exists(f, "dir"));
}

static void create_with_parents_makes_the_missing_directories_and_root(void **state) {
        Fixture *f = *state;
        rm_rf(f->root);
        assert_int_equal(ufs_create_buffer(f->u, "a/b/file", "x", 1, true), 0);
        _cleanup_(freep) char *got = get(f, "a/b/file");
        assert_string_equal(got, "x");
}

static void create_below_a_file_fails_enotdir(void **state) {
        Fixture *f = *state;
        put(f, "file", "x");
        assert_int_equal(ufs_create_buffer(f->u, "file/inner", "y", 1, false), -ENOTDIR);
        assert_int_equal(ufs_create_buffer(f->u, "file/inner", "y", 1, true), -ENOTDIR);
        assert_int_equal(ufs_create_buffer(f->u, "file/a/inner", "y", 1, true), -ENOTDIR);
        assert_error_names(f, "ENOTDIR", "file");
}

static void create_over_a_directory_fails_eisdir_leaving_no_temp_file(void **state) {
        Fixture *f = *state;
        mkdir_abs(f, "dir");
        assert_int_equal(ufs_create_buffer(f->u, "dir", "y", 1, false), -EISDIR);
        assert_error_names(f, "EISDIR", "dir");
        assert_int_equal(count_entries(f, ""), 1);
}

static void create_with_fewer_bytes_than_announced_fails_eio_leaving_nothing(void **state) {
        Fixture *f = *state;
        uint8_t data[100] = {};
        Source s = {.data = data, .size = sizeof(data)};
        assert_int_equal(ufs_create(f->u, "file", sizeof(data) + 1, false, source_fill, &s), -EIO);
        assert_error_names(f, "EIO", "file");
        assert_int_equal(count_entries(f, ""), 0);
}

static void create_with_more_bytes_than_announced_fails_eio_leaving_nothing(void **state) {
        Fixture *f = *state;
        uint8_t data[100] = {};
        Source s = {.data = data, .size = sizeof(data)};
        assert_int_equal(ufs_create(f->u, "file", sizeof(data) - 1, false, source_fill, &s), -EIO);
        assert_int_equal(count_entries(f, ""), 0);
}

static void create_fill_error_aborts_and_leaves_no_temp_file(void **state) {
        Fixture *f = *state;
        size_t size = 3 * MiB;
        _cleanup_(freep) uint8_t *data = calloc(1, size);
        Source s = {.data = data, .size = size, .fail_at = MiB + 10, .fail_with = -ECONNRESET};

        assert_int_equal(ufs_create(f->u, "file", size, false, source_fill, &s), -ECONNRESET);
        /* it stopped at the failure instead of asking on */
        assert_int_equal(s.calls, 3);
        assert_error_names(f, "ECONNRESET", "file");
        assert_int_equal(count_entries(f, ""), 0);
}

static void create_failure_keeps_the_old_file(void **state) {
        Fixture *f = *state;
        uint8_t data[10] = "0123456789";
        Source s = {.data = data, .size = sizeof(data), .fail_at = 5, .fail_with = -EPIPE};

        put(f, "file", "old");
        assert_int_equal(ufs_create(f->u, "file", sizeof(data), false, source_fill, &s), -EPIPE);
        _cleanup_(freep) char *got = get(f, "file");
        assert_string_equal(got, "old");
        assert_int_equal(count_entries(f, ""), 1);
}

#define ATOMIC_GENERATIONS 40

typedef struct AtomicReader {
        const char *path;
        atomic_bool stop;
        unsigned whole; /* complete versions seen */
        unsigned torn; /* anything else: partial, mixed, wrong size */
        unsigned missing;
} AtomicReader;

/* Generation g of the file: 256 KiB + g * 4099 bytes, all of value g. */
static size_t generation_size(unsigned g) {
        return 256 * 1024 + g * 4099;
}

static void *atomic_reader(void *p) {
        AtomicReader *a = p;
        uint8_t *buf = malloc(generation_size(ATOMIC_GENERATIONS) + 1);
        while (!atomic_load(&a->stop)) {
                int fd = open(a->path, O_RDONLY | O_CLOEXEC);
                if (fd < 0) {
                        a->missing++;
                        continue;
                }
                size_t n = 0;
                ssize_t k;
                while ((k = read(fd, buf + n, generation_size(ATOMIC_GENERATIONS) + 1 - n)) > 0)
                        n += (size_t)k;
                close(fd);
                bool ok = n > 0 && buf[0] < ATOMIC_GENERATIONS && n == generation_size(buf[0]);
                for (size_t i = 0; ok && i < n; i++)
                        ok = buf[i] == buf[0];
                if (ok)
                        a->whole++;
                else
                        a->torn++;
        }
        free(buf);
        return NULL;
}

static void create_is_atomic_for_a_concurrent_reader(void **state) {
        Fixture *f = *state;
        _cleanup_(freep) uint8_t *data = malloc(generation_size(ATOMIC_GENERATIONS));
        AtomicReader a = {.path = abs_path(f, "file")};
        pthread_t th;

        assert_int_equal(pthread_create(&th, NULL, atomic_reader, &a), 0);
        for (unsigned g = 0; g < ATOMIC_GENERATIONS; g++) {
                memset(data, g, generation_size(g));
                /* small pieces: many writes, a wide window for a reader to catch a partial file */
                Source s = {.data = data, .size = generation_size(g), .chunk = 4096};
                assert_int_equal(ufs_create(f->u, "file", s.size, false, source_fill, &s), 0);
        }
        atomic_store(&a.stop, true);
        assert_int_equal(pthread_join(th, NULL), 0);
        assert_int_equal(a.torn, 0);
        assert_true(a.whole > 0);
        assert_int_equal(count_entries(f, ""), 1);
}

/* ---------------------------------------------------------------------------------- read */

static void read_from_an_offset_gives_the_tail(void **state) {
        Fixture *f = *state;
        char *data = NULL;
        size_t n;
        put(f, "file", "0123456789");
        assert_int_equal(ufs_read_buffer(f->u, "file", 4, UFS_SIZE_UNKNOWN, 100, &data, &n), 0);
        assert_string_equal(data, "456789");
        assert_int_equal(n, 6);
        free(data);
}

static void read_with_a_length_gives_the_range(void **state) {
        Fixture *f = *state;
        char *data = NULL;
        size_t n;
        put(f, "file", "0123456789");
        assert_int_equal(ufs_read_buffer(f->u, "file", 2, 3, 100, &data, &n), 0);
        assert_string_equal(data, "234");
        free(data);
        assert_int_equal(ufs_read_buffer(f->u, "file", 8, 100, 100, &data, &n), 0);
        assert_string_equal(data, "89");
        free(data);
}

static void read_at_or_past_the_end_gives_nothing(void **state) {
        Fixture *f = *state;
        Sink k = {};
        put(f, "file", "0123456789");
        assert_int_equal(ufs_read(f->u, "file", 10, UFS_SIZE_UNKNOWN, sink_take, &k), 0);
        assert_int_equal(ufs_read(f->u, "file", 1000, 5, sink_take, &k), 0);
        assert_int_equal(ufs_read(f->u, "file", UINT64_MAX - 1, UFS_SIZE_UNKNOWN, sink_take, &k), 0);
        assert_int_equal(k.size, 0);
}

static void read_streams_in_chunks_of_at_most_one_mib(void **state) {
        Fixture *f = *state;
        size_t size = 3 * MiB + 1;
        _cleanup_(freep) uint8_t *data = malloc(size);
        pattern(data, size, 3);
        Sink k = {};
        assert_int_equal(ufs_create_buffer(f->u, "file", data, size, false), 0);
        assert_int_equal(ufs_read(f->u, "file", 0, UFS_SIZE_UNKNOWN, sink_take, &k), 0);
        assert_int_equal(k.size, size);
        assert_true(k.calls >= 4);
        assert_true(k.max_chunk <= MiB);
        free(k.data);
}

static void read_stops_at_a_sink_error_and_returns_it(void **state) {
        Fixture *f = *state;
        size_t size = 3 * MiB;
        _cleanup_(freep) uint8_t *data = calloc(1, size);
        Sink k = {.fail_with = -ENOSPC};
        assert_int_equal(ufs_create_buffer(f->u, "file", data, size, false), 0);
        assert_int_equal(ufs_read(f->u, "file", 0, UFS_SIZE_UNKNOWN, sink_take, &k), -ENOSPC);
        assert_int_equal(k.calls, 1);
        free(k.data);
}

static void read_of_a_missing_file_fails_enoent(void **state) {
        Fixture *f = *state;
        Sink k = {};
        assert_int_equal(ufs_read(f->u, "dir/missing", 0, UFS_SIZE_UNKNOWN, sink_take, &k), -ENOENT);
        assert_error_names(f, "ENOENT", "dir/missing");
}

static void read_of_a_directory_fails_eisdir(void **state) {
        Fixture *f = *state;
        Sink k = {};
        mkdir_abs(f, "dir");
        assert_int_equal(ufs_read(f->u, "dir", 0, UFS_SIZE_UNKNOWN, sink_take, &k), -EISDIR);
        assert_error_names(f, "EISDIR", "dir");
}

/* ---------------------------------------------------------------------------------- stat */

static void stat_reports_file_size_and_mtime(void **state) {
        Fixture *f = *state;
        struct timespec ts[2] = {
                {.tv_sec = 1700000000, .tv_nsec = 123456789}, {.tv_sec = 1700000000, .tv_nsec = 123456789}};
        UfsStat st;
        put(f, "file", "12345");
        assert_int_equal(utimensat(AT_FDCWD, abs_path(f, "file"), ts, 0), 0);
        assert_int_equal(ufs_stat(f->u, "file", &st), 0);
        assert_false(st.is_dir);
        assert_int_equal(st.size, 5);
        assert_int_equal(st.mtime, 1700000000ULL * 1000000 + 123456);
}

static void stat_reports_directories_and_the_root(void **state) {
        Fixture *f = *state;
        UfsStat st;
        mkdir_abs(f, "dir");
        put(f, "dir/file", "12345");
        assert_int_equal(ufs_stat(f->u, "dir", &st), 0);
        assert_true(st.is_dir);
        assert_int_equal(st.size, 0);
        assert_true(st.mtime > 0);
        assert_int_equal(ufs_stat(f->u, "", &st), 0);
        assert_true(st.is_dir);
}

static void stat_of_a_missing_path_fails_enoent(void **state) {
        Fixture *f = *state;
        UfsStat st = {.size = 42};
        assert_int_equal(ufs_stat(f->u, "a/missing", &st), -ENOENT);
        assert_int_equal(st.size, 42);
        assert_error_names(f, "ENOENT", "a/missing");
}

static void stat_below_a_file_fails_enotdir(void **state) {
        Fixture *f = *state;
        UfsStat st;
        put(f, "file", "x");
        assert_int_equal(ufs_stat(f->u, "file/inner", &st), -ENOTDIR);
        assert_error_names(f, "ENOTDIR", "file/inner");
}

static void trailing_slash_is_ignored(void **state) {
        Fixture *f = *state;
        UfsStat st;
        UfsList l = {};
        mkdir_abs(f, "dir");
        put(f, "dir/file", "x");
        assert_int_equal(ufs_stat(f->u, "dir/", &st), 0);
        assert_true(st.is_dir);
        assert_int_equal(ufs_list(f->u, "dir/", false, &l), 0);
        assert_int_equal(l.n, 1);
        ufs_list_done(&l);
        assert_int_equal(ufs_rename(f->u, "dir/", "moved/"), 0);
        assert_true(exists(f, "moved/file"));
}

static void missing_root_fails_enoent_naming_the_root(void **state) {
        Fixture *f = *state;
        UfsStat st;
        UfsList l = {};
        rm_rf(f->root);
        assert_int_equal(ufs_stat(f->u, "file", &st), -ENOENT);
        assert_error_names(f, "ENOENT", f->root);
        assert_int_equal(ufs_list(f->u, "", false, &l), -ENOENT);
        assert_int_equal(ufs_create_buffer(f->u, "file", "x", 1, false), -ENOENT);
        assert_false(exists(f, ""));
}

static void root_that_is_a_file_fails_enotdir(void **state) {
        Fixture *f = *state;
        UfsStat st;
        rm_rf(f->root);
        put(f, "", "x");
        assert_int_equal(ufs_stat(f->u, "file", &st), -ENOTDIR);
        assert_error_names(f, "ENOTDIR", f->root);
        assert_int_equal(ufs_mkdirs(f->u, "dir", true), -ENOTDIR);
        assert_int_equal(ufs_create_buffer(f->u, "file", "x", 1, true), -ENOTDIR);
}

/* ---------------------------------------------------------------------------------- delete */

static void delete_removes_a_file(void **state) {
        Fixture *f = *state;
        put(f, "file", "x");
        assert_int_equal(ufs_delete(f->u, "file"), 0);
        assert_false(exists(f, "file"));
}

static void delete_of_a_missing_file_fails_enoent(void **state) {
        Fixture *f = *state;
        assert_int_equal(ufs_delete(f->u, "missing"), -ENOENT);
        assert_error_names(f, "ENOENT", "missing");
}

static void delete_of_a_directory_fails_eisdir(void **state) {
        Fixture *f = *state;
        mkdir_abs(f, "dir");
        assert_int_equal(ufs_delete(f->u, "dir"), -EISDIR);
        assert_error_names(f, "EISDIR", "dir");
        assert_true(exists(f, "dir"));
}

static void delete_dir_removes_an_empty_directory(void **state) {
        Fixture *f = *state;
        mkdir_abs(f, "dir");
        assert_int_equal(ufs_delete_dir(f->u, "dir", false), 0);
        assert_false(exists(f, "dir"));
}

static void delete_dir_of_a_non_empty_directory_fails_enotempty(void **state) {
        Fixture *f = *state;
        mkdir_abs(f, "dir");
        put(f, "dir/file", "x");
        assert_int_equal(ufs_delete_dir(f->u, "dir", false), -ENOTEMPTY);
        assert_error_names(f, "ENOTEMPTY", "dir");
        assert_true(exists(f, "dir/file"));
}

static void delete_dir_recursive_removes_the_whole_tree(void **state) {
        Fixture *f = *state;
        mkdir_abs(f, "dir");
        mkdir_abs(f, "dir/a");
        mkdir_abs(f, "dir/a/b");
        mkdir_abs(f, "dir/empty");
        put(f, "dir/file", "x");
        put(f, "dir/a/b/file", "y");
        put(f, "other", "z");
        assert_int_equal(ufs_delete_dir(f->u, "dir", true), 0);
        assert_false(exists(f, "dir"));
        assert_true(exists(f, "other"));
}

static void delete_dir_recursive_does_not_follow_symlinks(void **state) {
        Fixture *f = *state;
        _cleanup_(freep) char *outside = NULL;
        assert_true(asprintf(&outside, "%s/outside", f->tmp) > 0);
        assert_int_equal(mkdir(outside, 0755), 0);
        mkdir_abs(f, "dir");
        put(f, "dir/file", "x");
        assert_int_equal(symlink(outside, abs_path(f, "dir/link")), 0);
        _cleanup_(freep) char *kept = NULL;
        assert_true(asprintf(&kept, "%s/keep", outside) > 0);
        _cleanup_(closep) int fd = open(kept, O_WRONLY | O_CREAT | O_CLOEXEC, 0644);
        assert_true(fd >= 0);

        assert_int_equal(ufs_delete_dir(f->u, "dir", true), 0);
        assert_false(exists(f, "dir"));
        assert_int_equal(access(kept, F_OK), 0);
}

static void delete_dir_of_a_file_fails_enotdir(void **state) {
        Fixture *f = *state;
        put(f, "file", "x");
        assert_int_equal(ufs_delete_dir(f->u, "file", false), -ENOTDIR);
        assert_error_names(f, "ENOTDIR", "file");
        assert_int_equal(ufs_delete_dir(f->u, "file", true), -ENOTDIR);
        assert_true(exists(f, "file"));
}

static void delete_dir_of_a_missing_directory_fails_enoent(void **state) {
        Fixture *f = *state;
        assert_int_equal(ufs_delete_dir(f->u, "missing", false), -ENOENT);
        assert_int_equal(ufs_delete_dir(f->u, "missing", true), -ENOENT);
        assert_error_names(f, "ENOENT", "missing");
}

static void delete_dir_recursive_of_the_root_removes_it(void **state) {
        Fixture *f = *state;
        mkdir_abs(f, "dir");
        put(f, "dir/file", "x");
        assert_int_equal(ufs_delete_dir(f->u, "", false), -ENOTEMPTY);
        assert_int_equal(ufs_delete_dir(f->u, "", true), 0);
        assert_int_equal(access(f->root, F_OK), -1);
}

/* ---------------------------------------------------------------------------------- mkdirs */

static void mkdirs_with_parents_makes_every_level(void **state) {
        Fixture *f = *state;
        struct stat st;
        assert_int_equal(ufs_mkdirs(f->u, "a/b/c", true), 0);
        assert_int_equal(stat(abs_path(f, "a/b/c"), &st), 0);
        assert_true(S_ISDIR(st.st_mode));
}

static void mkdirs_with_parents_of_an_existing_directory_succeeds(void **state) {
        Fixture *f = *state;
        mkdir_abs(f, "a");
        assert_int_equal(ufs_mkdirs(f->u, "a", true), 0);
        assert_int_equal(ufs_mkdirs(f->u, "", true), 0);
}

static void mkdirs_without_parents_of_an_existing_path_fails_eexist(void **state) {
        Fixture *f = *state;
        mkdir_abs(f, "a");
        assert_int_equal(ufs_mkdirs(f->u, "a", false), -EEXIST);
        assert_error_names(f, "EEXIST", "a");
        assert_int_equal(ufs_mkdirs(f->u, "", false), -EEXIST);
}

static void mkdirs_without_parents_under_a_missing_directory_fails_enoent(void **state) {
        Fixture *f = *state;
        assert_int_equal(ufs_mkdirs(f->u, "a/b", false), -ENOENT);
        assert_error_names(f, "ENOENT", "a/b");
        assert_false(exists(f, "a"));
        assert_int_equal(ufs_mkdirs(f->u, "a", false), 0);
        assert_int_equal(ufs_mkdirs(f->u, "a/b", false), 0);
}

static void mkdirs_over_a_file_fails(void **state) {
        Fixture *f = *state;
        put(f, "file", "x");
        assert_int_equal(ufs_mkdirs(f->u, "file", true), -EEXIST);
        assert_int_equal(ufs_mkdirs(f->u, "file", false), -EEXIST);
        assert_int_equal(ufs_mkdirs(f->u, "file/a", true), -ENOTDIR);
        assert_error_names(f, "ENOTDIR", "file/a");
        assert_int_equal(ufs_mkdirs(f->u, "file/a", false), -ENOTDIR);
}

static void mkdirs_with_parents_makes_a_missing_root(void **state) {
        Fixture *f = *state;
        rm_rf(f->root);
        assert_int_equal(ufs_mkdirs(f->u, "a", false), -ENOENT);
        assert_int_equal(ufs_mkdirs(f->u, "a", true), 0);
        assert_true(exists(f, "a"));
        rm_rf(f->root);
        assert_int_equal(ufs_mkdirs(f->u, "", true), 0);
        assert_int_equal(access(f->root, F_OK), 0);
}

/* ---------------------------------------------------------------------------------- list */

static void list_gives_the_direct_entries_sorted_with_types_and_sizes(void **state) {
        Fixture *f = *state;
        UfsList l = {};
        mkdir_abs(f, "b-dir");
        put(f, "b-dir/inner", "not listed");
        put(f, "c-file", "12345");
        put(f, "a-file", "1");
        assert_int_equal(ufs_list(f->u, "", false, &l), 0);
        assert_int_equal(l.n, 3);
        assert_string_equal(l.entries[0].name, "a-file");
        assert_false(l.entries[0].is_dir);
        assert_int_equal(l.entries[0].size, 1);
        assert_string_equal(l.entries[1].name, "b-dir");
        assert_true(l.entries[1].is_dir);
        assert_int_equal(l.entries[1].size, 0);
        assert_string_equal(l.entries[2].name, "c-file");
        assert_int_equal(l.entries[2].size, 5);
        assert_true(l.entries[2].mtime > 0);
        ufs_list_done(&l);
}

static void list_recursive_gives_everything_below(void **state) {
        Fixture *f = *state;
        const char *const want[] = {"a", "a/b", "a/b/file", "a/empty", "file"};
        UfsList l = {};
        mkdir_abs(f, "dir");
        mkdir_abs(f, "dir/a");
        mkdir_abs(f, "dir/a/b");
        mkdir_abs(f, "dir/a/empty");
        put(f, "dir/a/b/file", "123");
        put(f, "dir/file", "1");
        assert_int_equal(ufs_list(f->u, "dir", true, &l), 0);
        assert_int_equal(l.n, ELEMENTSOF(want));
        for (size_t i = 0; i < l.n; i++)
                assert_string_equal(l.entries[i].name, want[i]);
        assert_true(l.entries[1].is_dir);
        assert_false(l.entries[2].is_dir);
        assert_int_equal(l.entries[2].size, 3);
        ufs_list_done(&l);
}

static void list_of_an_empty_directory_is_empty(void **state) {
        Fixture *f = *state;
        UfsList l = {};
        mkdir_abs(f, "dir");
        assert_int_equal(ufs_list(f->u, "dir", false, &l), 0);
        assert_int_equal(l.n, 0);
        assert_int_equal(ufs_list(f->u, "dir", true, &l), 0);
        assert_int_equal(l.n, 0);
        ufs_list_done(&l);
}

static void list_of_a_missing_directory_fails_enoent(void **state) {
        Fixture *f = *state;
        UfsList l = {};
        assert_int_equal(ufs_list(f->u, "missing", false, &l), -ENOENT);
        assert_error_names(f, "ENOENT", "missing");
        assert_int_equal(l.n, 0);
}

static void list_of_a_file_fails_enotdir(void **state) {
        Fixture *f = *state;
        UfsList l = {};
        put(f, "file", "x");
        assert_int_equal(ufs_list(f->u, "file", false, &l), -ENOTDIR);
        assert_error_names(f, "ENOTDIR", "file");
        assert_int_equal(ufs_list(f->u, "file", true, &l), -ENOTDIR);
}

static void list_recursive_does_not_follow_symlinks(void **state) {
        Fixture *f = *state;
        _cleanup_(freep) char *outside = NULL;
        UfsList l = {};
        assert_true(asprintf(&outside, "%s/outside", f->tmp) > 0);
        assert_int_equal(mkdir(outside, 0755), 0);
        _cleanup_(freep) char *inner = NULL;
        assert_true(asprintf(&inner, "%s/secret", outside) > 0);
        _cleanup_(closep) int fd = open(inner, O_WRONLY | O_CREAT | O_CLOEXEC, 0644);
        assert_true(fd >= 0);
        assert_int_equal(symlink(outside, abs_path(f, "link")), 0);
        /* a symlink back up: following it would never end */
        assert_int_equal(symlink(f->root, abs_path(f, "loop")), 0);

        assert_int_equal(ufs_list(f->u, "", true, &l), 0);
        assert_int_equal(l.n, 2);
        assert_string_equal(l.entries[0].name, "link");
        assert_true(l.entries[0].is_dir); /* as ufs_stat() sees it */
        assert_string_equal(l.entries[1].name, "loop");
        ufs_list_done(&l);
}

/* ---------------------------------------------------------------------------------- rename */

static void rename_moves_a_file(void **state) {
        Fixture *f = *state;
        mkdir_abs(f, "dir");
        put(f, "file", "content");
        assert_int_equal(ufs_rename(f->u, "file", "dir/moved"), 0);
        assert_false(exists(f, "file"));
        _cleanup_(freep) char *got = get(f, "dir/moved");
        assert_string_equal(got, "content");
}

static void rename_moves_a_directory_with_its_contents(void **state) {
        Fixture *f = *state;
        mkdir_abs(f, "src");
        mkdir_abs(f, "src/sub");
        put(f, "src/sub/file", "deep");
        assert_int_equal(ufs_rename(f->u, "src", "dst"), 0);
        assert_false(exists(f, "src"));
        _cleanup_(freep) char *got = get(f, "dst/sub/file");
        assert_string_equal(got, "deep");
}

static void rename_onto_an_existing_file_fails_eexist(void **state) {
        Fixture *f = *state;
        put(f, "a", "first");
        put(f, "b", "second");
        assert_int_equal(ufs_rename(f->u, "a", "b"), -EEXIST);
        assert_error_names(f, "EEXIST", "b");
        _cleanup_(freep) char *a = get(f, "a");
        _cleanup_(freep) char *b = get(f, "b");
        assert_string_equal(a, "first");
        assert_string_equal(b, "second");
}

static void rename_onto_an_existing_directory_fails_eexist(void **state) {
        Fixture *f = *state;
        mkdir_abs(f, "src");
        put(f, "src/file", "x");
        mkdir_abs(f, "empty");
        assert_int_equal(ufs_rename(f->u, "src", "empty"), -EEXIST);
        assert_true(exists(f, "src/file"));
        put(f, "file", "y");
        assert_int_equal(ufs_rename(f->u, "file", "empty"), -EEXIST);
}

static void rename_of_a_missing_path_fails_enoent(void **state) {
        Fixture *f = *state;
        assert_int_equal(ufs_rename(f->u, "missing", "other"), -ENOENT);
        assert_error_names(f, "ENOENT", "missing");
}

static void rename_into_a_missing_directory_fails_enoent(void **state) {
        Fixture *f = *state;
        put(f, "file", "x");
        assert_int_equal(ufs_rename(f->u, "file", "dir/file"), -ENOENT);
        assert_true(exists(f, "file"));
}

/* ---------------------------------------------------------------------------------- suite */

typedef struct Run {
        unsigned started, passed, failed, skipped;
        char *failures; /* "name: reason\n"... */
        char *skips;
        const char *cancel_at; /* set cancel when this test starts */
        volatile sig_atomic_t cancel;
        char *last_started;
        /* clean-up failure: turn the root into a file when this test is done */
        const char *break_root_after;
        Fixture *f;
} Run;

static void append(char **s, const char *name, const char *reason) {
        char *n = NULL;
        assert_true(asprintf(&n, "%s%s: %s\n", strempty(*s), name, strempty(reason)) > 0);
        free(*s);
        *s = n;
}

static void run_start(void *userdata, const char *name) {
        Run *r = userdata;
        r->started++;
        free(r->last_started);
        r->last_started = strdup(name);
        if (r->cancel_at && streq(name, r->cancel_at))
                r->cancel = 1;
}

static void run_done(void *userdata, const UfsSuiteResult *res) {
        Run *r = userdata;
        if (res->skipped) {
                r->skipped++;
                append(&r->skips, res->name, res->reason);
        } else if (res->passed)
                r->passed++;
        else {
                r->failed++;
                assert_non_null(res->reason);
                append(&r->failures, res->name, res->reason);
        }
        if (r->break_root_after && streq(res->name, r->break_root_after)) {
                _cleanup_(freep) char *moved = NULL;
                assert_true(asprintf(&moved, "%s/moved", r->f->tmp) > 0);
                assert_int_equal(rename(r->f->root, moved), 0);
                put(r->f, "", "");
        }
}

static void run_done_free(Run *r) {
        free(r->failures);
        free(r->skips);
        free(r->last_started);
}

static int suite(Fixture *f, Run *run, char *const *names, const UfsSuiteOptions *o, bool *ret_cancelled) {
        UfsSuiteOptions opts = o ? *o : (UfsSuiteOptions){};
        UfsSuiteCallbacks cb = {.start = run_start, .done = run_done, .userdata = run};
        opts.cancel = &run->cancel;
        run->f = f;
        return ufs_suite_run(f->u, names, &opts, &cb, ret_cancelled);
}

static void suite_lists_every_alluxio_test_once_in_order(void **state) {
        size_t n = 0;
        while (ufs_suite_test_names[n])
                n++;
        assert_int_equal(n, 45);
        assert_string_equal(ufs_suite_test_names[0], "createAtomicTest");
        assert_string_equal(ufs_suite_test_names[n - 1], "createAndAbortMultipartFileTest");
        for (size_t i = 0; i < n; i++)
                for (size_t j = i + 1; j < n; j++)
                        assert_string_not_equal(ufs_suite_test_names[i], ufs_suite_test_names[j]);
}

static void suite_knows_test_names_with_or_without_the_suffix(void **state) {
        assert_true(ufs_suite_has_test("createAtomicTest"));
        assert_true(ufs_suite_has_test("createAtomic"));
        assert_true(ufs_suite_has_test("objectNestedDirsListStatusRecursive"));
        assert_false(ufs_suite_has_test("createAtomicTes"));
        assert_false(ufs_suite_has_test("Test"));
        assert_false(ufs_suite_has_test(""));
        assert_false(ufs_suite_has_test("noSuchTest"));
}

static void suite_passes_on_a_temp_dir_and_leaves_nothing(void **state) {
        Fixture *f = *state;
        Run run = {};
        bool cancelled = true;

        /* the run makes the missing root, too */
        rm_rf(f->root);
        int r = suite(f, &run, NULL, NULL, &cancelled);
        if (r != 0)
                fail_msg("%d failed:\n%s", r, run.failures);
        assert_false(cancelled);
        assert_int_equal(run.started, 43);
        assert_int_equal(run.passed, 43);
        assert_int_equal(run.skipped, 2);
        assert_non_null(strstr(run.skips, "createFileLessThanOnePartTest: does not apply"));
        assert_non_null(strstr(run.skips, "createAndAbortMultipartFileTest: does not apply"));
        assert_int_equal(count_entries(f, ""), 0);
        run_done_free(&run);
}

static void suite_runs_only_the_named_tests(void **state) {
        Fixture *f = *state;
        char *names[] = {(char *)"listStatus", (char *)"createAtomicTest",
                (char *)"createAndAbortMultipartFile", NULL};
        Run run = {};
        assert_int_equal(suite(f, &run, names, NULL, NULL), 0);
        assert_int_equal(run.started, 2);
        assert_int_equal(run.passed, 2);
        assert_int_equal(run.skipped, 1);
        assert_int_equal(count_entries(f, ""), 0);
        run_done_free(&run);
}

static void suite_refuses_an_unknown_test_name(void **state) {
        Fixture *f = *state;
        char *names[] = {(char *)"createAtomic", (char *)"createAtomical", NULL};
        Run run = {};
        assert_int_equal(suite(f, &run, names, NULL, NULL), -EINVAL);
        assert_non_null(strstr(ufs_error(f->u), "createAtomical"));
        assert_int_equal(run.started, 0);
        assert_int_equal(count_entries(f, ""), 0);
        run_done_free(&run);
}

static void suite_cancelled_midway_stops_and_leaves_no_run_directory(void **state) {
        Fixture *f = *state;
        Run run = {.cancel_at = "deleteFileTest"};
        bool cancelled = false;

        assert_int_equal(suite(f, &run, NULL, NULL, &cancelled), 1);
        assert_true(cancelled);
        /* the ten before it ran, the one cancelled failed, none after it started */
        assert_int_equal(run.started, 11);
        assert_int_equal(run.passed, 10);
        assert_string_equal(run.last_started, "deleteFileTest");
        assert_non_null(strstr(run.failures, "deleteFileTest: cancelled"));
        assert_int_equal(count_entries(f, ""), 0);
        run_done_free(&run);
}

/* A cancel that comes while data streams: the fill sees it, the create stops. */
static volatile sig_atomic_t *cancel_flag;
static int cancelling_create(
        Ufs *u, const char *path, uint64_t size, bool make_parents, UfsReadFn fill, void *userdata) {
        if (size > MiB)
                *cancel_flag = 1;
        return ufs_file_ops.create(u, path, size, make_parents, fill, userdata);
}

static void suite_cancelled_during_a_write_stops_and_leaves_no_run_directory(void **state) {
        Fixture *f = *state;
        UfsOps ops = ufs_file_ops;
        Run run = {};
        bool cancelled = false;

        ops.create = cancelling_create;
        cancel_flag = &run.cancel;
        f->u->ops = &ops;
        assert_int_equal(suite(f, &run, NULL, NULL, &cancelled), 1);
        f->u->ops = &ufs_file_ops;
        assert_true(cancelled);
        assert_int_equal(run.failed, 1);
        assert_non_null(strstr(run.failures, "createAtomicTest: cancelled at ufs_create(file)"));
        assert_int_equal(count_entries(f, ""), 0);
        run_done_free(&run);
}

static void suite_cancelled_before_it_starts_runs_nothing(void **state) {
        Fixture *f = *state;
        Run run = {.cancel = 1};
        bool cancelled = false;
        assert_int_equal(suite(f, &run, NULL, NULL, &cancelled), 0);
        assert_true(cancelled);
        assert_int_equal(run.started + run.skipped, 0);
        assert_int_equal(count_entries(f, ""), 0);
        run_done_free(&run);
}

static void suite_on_a_root_that_is_a_file_fails_cleanly(void **state) {
        Fixture *f = *state;
        Run run = {};
        rm_rf(f->root);
        put(f, "", "not a directory");

        assert_int_equal(suite(f, &run, NULL, NULL, NULL), -ENOTDIR);
        assert_int_equal(run.started + run.skipped, 0);
        assert_non_null(strstr(ufs_error(f->u), "cannot make the run directory vigil-ufs-test-"));
        assert_non_null(strstr(ufs_error(f->u), f->root));
        assert_string_equal(ufs_error_code(f->u), "ENOTDIR");
        _cleanup_(freep) char *content = NULL;
        _cleanup_(ufs_closep) Ufs *parent = open_root(f->tmp);
        size_t n;
        assert_int_equal(ufs_read_buffer(parent, "root", 0, UFS_SIZE_UNKNOWN, 100, &content, &n), 0);
        assert_string_equal(content, "not a directory");
        run_done_free(&run);
}

static void suite_clean_up_failure_names_the_run_directory(void **state) {
        Fixture *f = *state;
        char *names[] = {(char *)"createOpen", NULL};
        Run run = {.break_root_after = "createOpenTest"};
        UfsList l = {};

        assert_int_equal(suite(f, &run, names, NULL, NULL), -ENOTDIR);
        assert_int_equal(run.passed, 1);
        _cleanup_(ufs_closep) Ufs *moved = open_root(f->tmp);
        assert_int_equal(ufs_list(moved, "moved", false, &l), 0);
        assert_int_equal(l.n, 1);
        if (!strstr(ufs_error(f->u), l.entries[0].name))
                fail_msg("\"%s\" does not name the run directory %s", ufs_error(f->u), l.entries[0].name);
        assert_non_null(strstr(ufs_error(f->u), "cannot remove the run directory"));
        ufs_list_done(&l);
        run_done_free(&run);
}

/* A read that flips one byte of every file at offset 100: what a bad cache or disk would do. */
typedef struct Corrupter {
        UfsWriteFn sink;
        void *userdata;
        uint64_t pos;
} Corrupter;

static int corrupt_sink(void *userdata, const void *buf, size_t n) {
        Corrupter *c = userdata;
        _cleanup_(freep) uint8_t *copy = malloc(MAX(n, (size_t)1));
        memcpy(copy, buf, n);
        if (c->pos <= 100 && 100 < c->pos + n)
                copy[100 - c->pos] ^= 0x01;
        c->pos += n;
        return c->sink(c->userdata, copy, n);
}

static int corrupting_read(
        Ufs *u, const char *path, uint64_t offset, uint64_t length, UfsWriteFn sink, void *userdata) {
        Corrupter c = {.sink = sink, .userdata = userdata, .pos = offset};
        return ufs_file_ops.read(u, path, offset, length, corrupt_sink, &c);
}

static void suite_reports_data_read_back_wrong(void **state) {
        Fixture *f = *state;
        char *names[] = {(char *)"createOpen", (char *)"createOpenAtPosition", (char *)"listStatus", NULL};
        UfsOps ops = ufs_file_ops;
        Run run = {};

        ops.read = corrupting_read;
        f->u->ops = &ops;
        assert_int_equal(suite(f, &run, names, NULL, NULL), 2);
        f->u->ops = &ufs_file_ops;
        assert_int_equal(run.passed, 1);
        assert_non_null(strstr(run.failures, "createOpenTest: ufs_read(file): byte 100 is "));
        assert_non_null(strstr(run.failures, "differs from the data written"));
        assert_int_equal(count_entries(f, ""), 0);
        run_done_free(&run);
}

/* A listing that leaves out the last entry, as a stale index would. */
static int short_list(Ufs *u, const char *path, bool recursive, UfsList *ret) {
        int r = ufs_file_ops.list(u, path, recursive, ret);
        if (r >= 0 && ret->n > 0)
                free(ret->entries[--ret->n].name);
        return r;
}

static void suite_reports_a_listing_that_stays_wrong_after_retries(void **state) {
        Fixture *f = *state;
        char *names[] = {(char *)"listStatus", NULL};
        UfsSuiteOptions o = {.list_retry_timeout = 400 * USEC_PER_MSEC};
        UfsOps ops = ufs_file_ops;
        Run run = {};

        ops.list = short_list;
        f->u->ops = &ops;
        usec_t start = now_usec(CLOCK_MONOTONIC);
        assert_int_equal(suite(f, &run, names, &o, NULL), 1);
        usec_t took = now_usec(CLOCK_MONOTONIC) - start;
        f->u->ops = &ufs_file_ops;
        assert_true(took >= o.list_retry_timeout);
        assert_non_null(strstr(run.failures,
                "listStatusTest: ufs_list(.): 'file-b' (a file) is missing "
                "(2 entries listed, 3 expected), still after"));
        assert_int_equal(count_entries(f, ""), 0);
        run_done_free(&run);
}

static void peek_reads_the_root_itself_and_names_what_is_wrong(void **state) {
        Fixture *f = *state;
        UfsStat st = {};

        put(f, "a", "x");
        assert_int_equal(ufs_peek(f->u, &st), 0);
        assert_true(st.is_dir);
        rm_rf(f->root);
        assert_int_equal(ufs_peek(f->u, &st), -ENOENT);
        assert_non_null(strstr(ufs_error(f->u), f->root));
        assert_string_equal(ufs_error_code(f->u), "ENOENT");
        put_file_at(f->root);
        assert_int_equal(ufs_peek(f->u, &st), -ENOTDIR);
}

int main(void) {
#define T(name) cmocka_unit_test_setup_teardown(name, setup, teardown)
        const struct CMUnitTest tests[] = {
                T(file_scheme_has_directories_and_no_multipart),
                T(peek_reads_the_root_itself_and_names_what_is_wrong),
                T(open_refuses_a_relative_root),
                T(open_does_not_need_the_root_to_exist),
                T(multipart_operations_are_not_supported),
                T(create_then_read_gives_the_same_bytes),
                T(create_of_unknown_size_takes_all_the_data),
                T(create_replaces_an_existing_file),
                T(create_without_parents_under_a_missing_directory_fails_enoent),
                T(create_with_parents_makes_the_missing_directories_and_root),
                T(create_below_a_file_fails_enotdir),
                T(create_over_a_directory_fails_eisdir_leaving_no_temp_file),
                T(create_with_fewer_bytes_than_announced_fails_eio_leaving_nothing),
                T(create_with_more_bytes_than_announced_fails_eio_leaving_nothing),
                T(create_fill_error_aborts_and_leaves_no_temp_file),
                T(create_failure_keeps_the_old_file),
                T(create_is_atomic_for_a_concurrent_reader),
                T(read_from_an_offset_gives_the_tail),
                T(read_with_a_length_gives_the_range),
                T(read_at_or_past_the_end_gives_nothing),
                T(read_streams_in_chunks_of_at_most_one_mib),
                T(read_stops_at_a_sink_error_and_returns_it),
                T(read_of_a_missing_file_fails_enoent),
                T(read_of_a_directory_fails_eisdir),
                T(stat_reports_file_size_and_mtime),
                T(stat_reports_directories_and_the_root),
                T(stat_of_a_missing_path_fails_enoent),
                T(stat_below_a_file_fails_enotdir),
                T(trailing_slash_is_ignored),
                T(missing_root_fails_enoent_naming_the_root),
                T(root_that_is_a_file_fails_enotdir),
                T(delete_removes_a_file),
                T(delete_of_a_missing_file_fails_enoent),
                T(delete_of_a_directory_fails_eisdir),
                T(delete_dir_removes_an_empty_directory),
                T(delete_dir_of_a_non_empty_directory_fails_enotempty),
                T(delete_dir_recursive_removes_the_whole_tree),
                T(delete_dir_recursive_does_not_follow_symlinks),
                T(delete_dir_of_a_file_fails_enotdir),
                T(delete_dir_of_a_missing_directory_fails_enoent),
                T(delete_dir_recursive_of_the_root_removes_it),
                T(mkdirs_with_parents_makes_every_level),
                T(mkdirs_with_parents_of_an_existing_directory_succeeds),
                T(mkdirs_without_parents_of_an_existing_path_fails_eexist),
                T(mkdirs_without_parents_under_a_missing_directory_fails_enoent),
                T(mkdirs_over_a_file_fails),
                T(mkdirs_with_parents_makes_a_missing_root),
                T(list_gives_the_direct_entries_sorted_with_types_and_sizes),
                T(list_recursive_gives_everything_below),
                T(list_of_an_empty_directory_is_empty),
                T(list_of_a_missing_directory_fails_enoent),
                T(list_of_a_file_fails_enotdir),
                T(list_recursive_does_not_follow_symlinks),
                T(rename_moves_a_file),
                T(rename_moves_a_directory_with_its_contents),
                T(rename_onto_an_existing_file_fails_eexist),
                T(rename_onto_an_existing_directory_fails_eexist),
                T(rename_of_a_missing_path_fails_enoent),
                T(rename_into_a_missing_directory_fails_enoent),
                T(suite_lists_every_alluxio_test_once_in_order),
                T(suite_knows_test_names_with_or_without_the_suffix),
                T(suite_passes_on_a_temp_dir_and_leaves_nothing),
                T(suite_runs_only_the_named_tests),
                T(suite_refuses_an_unknown_test_name),
                T(suite_cancelled_midway_stops_and_leaves_no_run_directory),
                T(suite_cancelled_during_a_write_stops_and_leaves_no_run_directory),
                T(suite_cancelled_before_it_starts_runs_nothing),
                T(suite_on_a_root_that_is_a_file_fails_cleanly),
                T(suite_clean_up_failure_names_the_run_directory),
                T(suite_reports_data_read_back_wrong),
                T(suite_reports_a_listing_that_stays_wrong_after_retries),
        };
#undef T
        return cmocka_run_group_tests(tests, NULL, NULL);
}
