/* SPDX-License-Identifier: MIT */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>

#include <cmocka.h>

#include "ufs.h"

static void parse_ok(
        const char *s, const char *scheme, const char *bucket, const char *path, const char *canonical) {
        _cleanup_(ufs_uri_freep) UfsUri *u = NULL;
        _cleanup_(freep) char *reason = NULL;
        assert_int_equal(ufs_uri_parse(s, &u, &reason), 0);
        assert_string_equal(u->scheme, scheme);
        if (bucket)
                assert_string_equal(u->bucket, bucket);
        else
                assert_null(u->bucket);
        assert_string_equal(u->path, path);
        _cleanup_(freep) char *c = ufs_uri_to_string(u);
        assert_string_equal(c, canonical);
}

static void parse_fails(const char *s, const char *reason_part) {
        UfsUri *u = NULL;
        _cleanup_(freep) char *reason = NULL;
        assert_int_equal(ufs_uri_parse(s, &u, &reason), -EINVAL);
        assert_null(u);
        assert_non_null(reason);
        if (!strstr(reason, reason_part))
                fail_msg("reason \"%s\" lacks \"%s\"", reason, reason_part);
}

static void s3_uris_give_bucket_and_prefix(void **state) {
        parse_ok("s3://bucket", "s3", "bucket", "", "s3://bucket");
        parse_ok("s3://bucket/", "s3", "bucket", "", "s3://bucket");
        parse_ok("s3://my.bucket-1/a/b/", "s3", "my.bucket-1", "a/b", "s3://my.bucket-1/a/b");
        parse_ok("S3://bucket/x", "s3", "bucket", "x", "s3://bucket/x");
        parse_ok("s3a://bucket/x y/z", "s3", "bucket", "x y/z", "s3://bucket/x y/z");
}

static void file_uris_and_plain_paths_are_absolute(void **state) {
        parse_ok("file:///data/ufs", "file", NULL, "/data/ufs", "file:///data/ufs");
        parse_ok("file:///data/ufs/", "file", NULL, "/data/ufs", "file:///data/ufs");
        parse_ok("file://localhost/data", "file", NULL, "/data", "file:///data");
        parse_ok("/mnt/nfs/ufs", "file", NULL, "/mnt/nfs/ufs", "file:///mnt/nfs/ufs");
        parse_ok("file:///", "file", NULL, "/", "file:///");
}

static void bad_uris_say_what_is_wrong(void **state) {
        parse_fails("", "empty");
        parse_fails("relative/path", "absolute path");
        parse_fails("s3://", "no bucket");
        parse_fails("s3:///key", "no bucket");
        parse_fails("s3://Bad_Bucket/x", "not a valid bucket name");
        parse_fails("s3://ab", "not a valid bucket name");
        parse_fails("s3://bucket/a/../b", "components");
        parse_fails("s3://bucket/a//b", "components");
        parse_fails("file://host/data", "absolute path");
        parse_fails("file:///a/./b", "components");
        parse_fails("hdfs://nn:8020/x", "unsupported scheme \"hdfs\"");
}

static void relative_paths_are_checked(void **state) {
        assert_int_equal(ufs_path_check(""), 0);
        assert_int_equal(ufs_path_check("a/b"), 0);
        assert_int_equal(ufs_path_check("a/b/"), 0);
        assert_int_equal(ufs_path_check("/a"), -EINVAL);
        assert_int_equal(ufs_path_check("a/../b"), -EINVAL);
        assert_int_equal(ufs_path_check(".."), -EINVAL);
        assert_int_equal(ufs_path_check("a//b"), -EINVAL);
        assert_int_equal(ufs_path_check(NULL), -EINVAL);
}

static void paths_join_without_doubled_slashes(void **state) {
        const struct {
                const char *base, *path, *joined;
        } cases[] = {
                {"", "c", "c"},
                {"a/b", "c", "a/b/c"},
                {"a/b/", "c/", "a/b/c"},
                {"a", "", "a"},
                {"", "", ""},
        };
        for (size_t i = 0; i < ELEMENTSOF(cases); i++) {
                _cleanup_(freep) char *j = ufs_path_join(cases[i].base, cases[i].path);
                assert_string_equal(j, cases[i].joined);
        }
}

static void lists_sort_and_keep_a_directory_over_a_file_of_its_name(void **state) {
        UfsList l = {};
        /* more than the first allocation, out of order, with duplicates as s3 listings give them */
        for (int i = 99; i >= 0; i--) {
                char name[16];
                snprintf(name, sizeof(name), "f%03d", i);
                assert_int_equal(ufs_list_add(&l, name, false, i, 0), 0);
        }
        assert_int_equal(ufs_list_add(&l, "d", false, 7, 0), 0);
        assert_int_equal(ufs_list_add(&l, "d", true, 0, 0), 0);
        assert_int_equal(ufs_list_add(&l, "d", true, 0, 0), 0);
        ufs_list_sort(&l);
        assert_int_equal(l.n, 101);
        assert_string_equal(l.entries[0].name, "d");
        assert_true(l.entries[0].is_dir);
        assert_string_equal(l.entries[1].name, "f000");
        assert_string_equal(l.entries[100].name, "f099");
        assert_int_equal(l.entries[100].size, 99);
        ufs_list_done(&l);
        assert_int_equal(l.n, 0);
        assert_null(l.entries);
}

int main(void) {
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(s3_uris_give_bucket_and_prefix),
                cmocka_unit_test(file_uris_and_plain_paths_are_absolute),
                cmocka_unit_test(bad_uris_say_what_is_wrong),
                cmocka_unit_test(relative_paths_are_checked),
                cmocka_unit_test(paths_join_without_doubled_slashes),
                cmocka_unit_test(lists_sort_and_keep_a_directory_over_a_file_of_its_name),
        };
        return cmocka_run_group_tests(tests, NULL, NULL);
}
