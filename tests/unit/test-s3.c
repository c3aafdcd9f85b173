/* SPDX-License-Identifier: MIT */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>

#include <cmocka.h>

#include <errno.h>
#include <stdio.h>
#include <sys/stat.h>

#include "http-client.h"
#include "s3.h"
#include "test-util.h"
#include "ufs.h"

/* ---------------------------------------------------------------------------------- fixtures */

/* Each credentials and region test runs with a fresh $HOME and no AWS_* variables, so that neither
 * the machine's ~/.aws nor the caller's environment shows through. */
static char home[64];

static const char *const aws_vars[] = {
        "AWS_ACCESS_KEY_ID",
        "AWS_SECRET_ACCESS_KEY",
        "AWS_SESSION_TOKEN",
        "AWS_PROFILE",
        "AWS_REGION",
        "AWS_DEFAULT_REGION",
        "AWS_SHARED_CREDENTIALS_FILE",
        "AWS_CONFIG_FILE",
};

static int env_setup(void **state) {
        snprintf(home, sizeof(home), "/tmp/vigil-unit-s3-XXXXXX");
        assert_non_null(mkdtemp(home));
        setenv("HOME", home, 1);
        for (size_t i = 0; i < ELEMENTSOF(aws_vars); i++)
                unsetenv(aws_vars[i]);
        return 0;
}

static int env_teardown(void **state) {
        char cmd[128];
        snprintf(cmd, sizeof(cmd), "rm -rf '%s'", home);
        assert_int_equal(system(cmd), 0);
        return 0;
}

/* Writes content to $HOME/.aws/<name>. */
static void write_aws_file(const char *name, const char *content) {
        char path[128];
        snprintf(path, sizeof(path), "%s/.aws", home);
        (void)mkdir(path, 0700);
        snprintf(path, sizeof(path), "%s/.aws/%s", home, name);
        FILE *f = fopen(path, "we");
        assert_non_null(f);
        assert_int_equal(fputs(content, f) >= 0, 1);
        fclose(f);
}

static S3Target *target(const char *endpoint, const char *region, const char *bucket, int path_style) {
        S3Target *t = NULL;
        assert_int_equal(s3_target_new(endpoint, region, bucket, path_style, &t, NULL), 0);
        return t;
}

static char *url(const S3Target *t, const char *key, const S3Param *params, size_t n) {
        char *u = NULL;
        assert_int_equal(s3_url(t, key, params, n, &u), 0);
        return u;
}

/* ---------------------------------------------------------------------------------- URLs */

static void url_path_style_puts_bucket_in_path(void **state) {
        _cleanup_(s3_target_freep) S3Target *t = target("http://127.0.0.1:4568", "us-east-1", "bkt", -1);
        _cleanup_(freep) char *u = url(t, "a/b.txt", NULL, 0);
        assert_true(t->path_style);
        assert_string_equal(u, "http://127.0.0.1:4568/bkt/a/b.txt");
}

static void url_virtual_host_style_is_default_for_aws(void **state) {
        _cleanup_(s3_target_freep) S3Target *t = target(NULL, "eu-west-1", "bkt", -1);
        _cleanup_(freep) char *u = url(t, "a/b.txt", NULL, 0);
        assert_false(t->path_style);
        assert_string_equal(u, "https://bkt.s3.eu-west-1.amazonaws.com/a/b.txt");
}

static void url_of_bucket_itself_has_no_key_part(void **state) {
        _cleanup_(s3_target_freep) S3Target *p = target("http://127.0.0.1:4568", "us-east-1", "bkt", 1);
        _cleanup_(s3_target_freep) S3Target *v = target(NULL, "us-east-1", "bkt", 0);
        _cleanup_(freep) char *up = url(p, "", NULL, 0), *uv = url(v, "", NULL, 0);
        assert_string_equal(up, "http://127.0.0.1:4568/bkt");
        assert_string_equal(uv, "https://bkt.s3.us-east-1.amazonaws.com/");
}

static void url_bucket_with_dot_uses_path_style_on_aws(void **state) {
        _cleanup_(s3_target_freep) S3Target *t = target(NULL, "us-west-2", "my.bucket", -1);
        _cleanup_(freep) char *u = url(t, "k", NULL, 0);
        assert_string_equal(u, "https://s3.us-west-2.amazonaws.com/my.bucket/k");
}

static void url_china_region_uses_its_domain(void **state) {
        _cleanup_(s3_target_freep) S3Target *t = target(NULL, "cn-north-1", "bkt", -1);
        _cleanup_(freep) char *u = url(t, "k", NULL, 0);
        assert_string_equal(u, "https://bkt.s3.cn-north-1.amazonaws.com.cn/k");
}

static void url_endpoint_override_keeps_port_and_path(void **state) {
        _cleanup_(s3_target_freep) S3Target *p =
                target("https://minio.example:9000/s3/", "us-east-1", "bkt", -1);
        _cleanup_(s3_target_freep) S3Target *v =
                target("https://minio.example:9000/s3/", "us-east-1", "bkt", 0);
        _cleanup_(freep) char *up = url(p, "d/k", NULL, 0), *uv = url(v, "d/k", NULL, 0);
        assert_string_equal(up, "https://minio.example:9000/s3/bkt/d/k");
        assert_string_equal(uv, "https://bkt.minio.example:9000/s3/d/k");
}

static void url_endpoint_ipv6_keeps_brackets(void **state) {
        _cleanup_(s3_target_freep) S3Target *t = target("http://[::1]:4568", "us-east-1", "bkt", -1);
        _cleanup_(freep) char *u = url(t, "k", NULL, 0);
        assert_string_equal(u, "http://[::1]:4568/bkt/k");
}

static void url_endpoint_not_http_is_rejected_with_reason(void **state) {
        const char *bad[] = {"minio:9000", "ftp://host", "http://host/?x=1", "http://user@host", ""};
        for (size_t i = 0; i < ELEMENTSOF(bad); i++) {
                S3Target *t = NULL;
                _cleanup_(freep) char *reason = NULL;
                assert_int_equal(s3_target_new(bad[i], "us-east-1", "bkt", -1, &t, &reason), -EINVAL);
                assert_null(t);
                assert_non_null(strstr(reason, "S3 endpoint"));
        }
}

static void url_key_with_space_unicode_plus_equals_is_encoded(void **state) {
        _cleanup_(s3_target_freep) S3Target *t = target("http://h:1", "us-east-1", "bkt", 1);
        _cleanup_(freep) char *u = url(t, "d i r/ü日+a=b&c%d~._-/x", NULL, 0);
        assert_string_equal(u, "http://h:1/bkt/d%20i%20r/%C3%BC%E6%97%A5%2Ba%3Db%26c%25d~._-/x");
}

static void uri_encode_of_query_value_encodes_slash(void **state) {
        _cleanup_(freep) char *k = s3_uri_encode("a/b c", true), *q = s3_uri_encode("a/b c", false);
        assert_string_equal(k, "a/b%20c");
        assert_string_equal(q, "a%2Fb%20c");
}

static void uri_decode_reverses_encode_and_rejects_bad_escapes(void **state) {
        _cleanup_(freep) char *e = s3_uri_encode("x y/ü+%", false), *d = NULL, *plus = NULL;
        char *bad = NULL;
        assert_int_equal(s3_uri_decode(e, &d), 0);
        assert_string_equal(d, "x y/ü+%");
        assert_int_equal(s3_uri_decode("a+b", &plus), 0);
        assert_string_equal(plus, "a+b");
        assert_int_equal(s3_uri_decode("a%2", &bad), -EINVAL);
        assert_int_equal(s3_uri_decode("a%zz", &bad), -EINVAL);
        assert_int_equal(s3_uri_decode("a%00", &bad), -EINVAL);
        assert_null(bad);
}

static void url_query_is_sorted_and_encoded(void **state) {
        _cleanup_(s3_target_freep) S3Target *t = target("http://h:1", "us-east-1", "bkt", 1);
        const S3Param params[] = {
                {"prefix", "a b/"},
                {"list-type", "2"},
                {"continuation-token", "1/x+y=="},
                {"delimiter", "/"},
        };
        _cleanup_(freep) char *u = url(t, "", params, ELEMENTSOF(params));
        assert_string_equal(u,
                "http://h:1/"
                "bkt?continuation-token=1%2Fx%2By%3D%3D&delimiter=%2F&list-type=2&prefix=a%20b%2F");
}

static void query_bare_parameter_is_sent_with_equals(void **state) {
        const S3Param params[] = {{"uploads", NULL}, {"prefix", "k"}};
        _cleanup_(freep) char *q = NULL;
        assert_int_equal(s3_canonical_query(params, ELEMENTSOF(params), &q), 0);
        assert_string_equal(q, "prefix=k&uploads=");
}

static void query_sorts_by_byte_order_then_value(void **state) {
        const S3Param params[] = {{"b", "2"}, {"a", "z"}, {"B", "x"}, {"a", "y"}, {"a-b", ""}};
        _cleanup_(freep) char *q = NULL, *empty = NULL;
        assert_int_equal(s3_canonical_query(params, ELEMENTSOF(params), &q), 0);
        assert_string_equal(q, "B=x&a=y&a=z&a-b=&b=2");
        assert_int_equal(s3_canonical_query(NULL, 0, &empty), 0);
        assert_string_equal(empty, "");
}

static void copy_source_names_bucket_and_encoded_key(void **state) {
        _cleanup_(freep) char *s = s3_copy_source("bkt", "dir/a b+c.txt");
        assert_string_equal(s, "/bkt/dir/a%20b%2Bc.txt");
}

/* ---------------------------------------------------------------------------------- SigV4 inputs */

static void sigv4_provider_names_region_and_service_s3(void **state) {
        _cleanup_(freep) char *p = s3_sigv4_provider("eu-central-1");
        assert_string_equal(p, "aws:amz:eu-central-1:s3");
}

static void region_option_beats_environment(void **state) {
        _cleanup_(freep) char *r = NULL;
        setenv("AWS_REGION", "eu-west-1", 1);
        assert_int_equal(s3_region_resolve(&(UfsOptions){.region = "ap-south-1"}, &r, NULL), 0);
        assert_string_equal(r, "ap-south-1");
}

static void region_aws_region_beats_aws_default_region(void **state) {
        _cleanup_(freep) char *a = NULL, *b = NULL;
        setenv("AWS_DEFAULT_REGION", "eu-west-2", 1);
        assert_int_equal(s3_region_resolve(&(UfsOptions){}, &a, NULL), 0);
        assert_string_equal(a, "eu-west-2");
        setenv("AWS_REGION", "eu-west-3", 1);
        assert_int_equal(s3_region_resolve(&(UfsOptions){}, &b, NULL), 0);
        assert_string_equal(b, "eu-west-3");
}

static void region_from_config_file_profile(void **state) {
        _cleanup_(freep) char *d = NULL, *p = NULL;
        write_aws_file("config", "[default]\nregion = us-west-1\n\n[profile prod]\nregion=sa-east-1\n");
        assert_int_equal(s3_region_resolve(&(UfsOptions){}, &d, NULL), 0);
        assert_string_equal(d, "us-west-1");
        setenv("AWS_PROFILE", "prod", 1);
        assert_int_equal(s3_region_resolve(&(UfsOptions){}, &p, NULL), 0);
        assert_string_equal(p, "sa-east-1");
}

static void region_defaults_to_us_east_1(void **state) {
        _cleanup_(freep) char *r = NULL;
        assert_int_equal(s3_region_resolve(&(UfsOptions){}, &r, NULL), 0);
        assert_string_equal(r, "us-east-1");
}

static void region_with_colon_is_rejected(void **state) {
        _cleanup_(freep) char *reason = NULL;
        char *r = NULL;
        assert_int_equal(s3_region_resolve(&(UfsOptions){.region = "us:east"}, &r, &reason), -EINVAL);
        assert_null(r);
        assert_non_null(strstr(reason, "us:east"));
}

/* ---------------------------------------------------------------------------------- credentials */

static void credentials_options_beat_environment(void **state) {
        _cleanup_(s3_credentials_done) S3Credentials c = {};
        setenv("AWS_ACCESS_KEY_ID", "ENVKEY", 1);
        setenv("AWS_SECRET_ACCESS_KEY", "envsecret", 1);
        setenv("AWS_SESSION_TOKEN", "envtoken", 1);
        assert_int_equal(
                s3_credentials_resolve(
                        &(UfsOptions){.access_key = "FLAGKEY", .secret_key = "flagsecret"}, &c, NULL),
                0);
        assert_string_equal(c.access_key, "FLAGKEY");
        assert_string_equal(c.secret_key, "flagsecret");
        assert_null(c.session_token); /* the environment's token belongs to the environment's keys */
        assert_string_equal(c.source, "options");
}

static void credentials_options_half_pair_is_rejected(void **state) {
        _cleanup_(freep) char *reason = NULL;
        S3Credentials c = {};
        assert_int_equal(s3_credentials_resolve(&(UfsOptions){.access_key = "K"}, &c, &reason), -EINVAL);
        assert_null(c.access_key);
        assert_non_null(strstr(reason, "secret key"));
}

static void credentials_environment_beats_file(void **state) {
        _cleanup_(s3_credentials_done) S3Credentials c = {};
        write_aws_file("credentials",
                "[default]\naws_access_key_id = FILEKEY\naws_secret_access_key = filesecret\n");
        setenv("AWS_ACCESS_KEY_ID", "ENVKEY", 1);
        setenv("AWS_SECRET_ACCESS_KEY", "envsecret", 1);
        setenv("AWS_SESSION_TOKEN", "envtoken", 1);
        assert_int_equal(s3_credentials_resolve(&(UfsOptions){}, &c, NULL), 0);
        assert_string_equal(c.access_key, "ENVKEY");
        assert_string_equal(c.secret_key, "envsecret");
        assert_string_equal(c.session_token, "envtoken");
        assert_string_equal(c.source, "environment");
}

static void credentials_environment_half_pair_is_rejected(void **state) {
        _cleanup_(freep) char *reason = NULL;
        S3Credentials c = {};
        setenv("AWS_ACCESS_KEY_ID", "ENVKEY", 1);
        assert_int_equal(s3_credentials_resolve(&(UfsOptions){}, &c, &reason), -EINVAL);
        assert_non_null(strstr(reason, "AWS_SECRET_ACCESS_KEY"));
}

static void credentials_file_default_profile_with_token(void **state) {
        _cleanup_(s3_credentials_done) S3Credentials c = {};
        _cleanup_(freep) char *source = NULL;
        write_aws_file("credentials",
                "; comment\n[other]\naws_access_key_id = OTHER\naws_secret_access_key = o\n\n"
                "[default]\naws_access_key_id = FILEKEY\naws_secret_access_key = file/secret+\n"
                "aws_session_token = tok\n");
        assert_int_equal(s3_credentials_resolve(&(UfsOptions){}, &c, NULL), 0);
        assert_string_equal(c.access_key, "FILEKEY");
        assert_string_equal(c.secret_key, "file/secret+");
        assert_string_equal(c.session_token, "tok");
        assert_true(asprintf(&source, "%s/.aws/credentials [default]", home) > 0);
        assert_string_equal(c.source, source);
}

static void credentials_profile_option_beats_environment_keys(void **state) {
        _cleanup_(s3_credentials_done) S3Credentials c = {};
        write_aws_file(
                "credentials", "[prod]\naws_access_key_id = PRODKEY\naws_secret_access_key = prodsecret\n");
        setenv("AWS_ACCESS_KEY_ID", "ENVKEY", 1);
        setenv("AWS_SECRET_ACCESS_KEY", "envsecret", 1);
        assert_int_equal(s3_credentials_resolve(&(UfsOptions){.profile = "prod"}, &c, NULL), 0);
        assert_string_equal(c.access_key, "PRODKEY");
}

static void credentials_aws_profile_selects_file_profile(void **state) {
        _cleanup_(s3_credentials_done) S3Credentials c = {};
        write_aws_file("credentials",
                "[default]\naws_access_key_id = D\naws_secret_access_key = d\n"
                "[prod]\naws_access_key_id = P\naws_secret_access_key = p\n");
        setenv("AWS_PROFILE", "prod", 1);
        assert_int_equal(s3_credentials_resolve(&(UfsOptions){}, &c, NULL), 0);
        assert_string_equal(c.access_key, "P");
}

static void credentials_file_named_by_option_and_environment(void **state) {
        _cleanup_(s3_credentials_done) S3Credentials a = {}, b = {};
        _cleanup_(freep) char *reason = NULL;
        S3Credentials none = {};
        char path[128];
        write_aws_file("elsewhere", "[default]\naws_access_key_id = ELSE\naws_secret_access_key = e\n");
        snprintf(path, sizeof(path), "%s/.aws/elsewhere", home);
        setenv("AWS_SHARED_CREDENTIALS_FILE", path, 1);
        assert_int_equal(s3_credentials_resolve(&(UfsOptions){}, &a, NULL), 0);
        assert_string_equal(a.access_key, "ELSE");
        unsetenv("AWS_SHARED_CREDENTIALS_FILE");
        assert_int_equal(s3_credentials_resolve(&(UfsOptions){.credentials_file = path}, &b, NULL), 0);
        assert_string_equal(b.access_key, "ELSE");
        assert_int_equal(s3_credentials_resolve(
                                 &(UfsOptions){.credentials_file = "/nonexistent/creds"}, &none, &reason),
                -EINVAL);
        assert_non_null(strstr(reason, "/nonexistent/creds"));
}

static void credentials_long_session_token_is_read_whole(void **state) {
        _cleanup_(s3_credentials_done) S3Credentials c = {};
        _cleanup_(freep) char *file = NULL;
        char token[1501];
        for (size_t i = 0; i < sizeof(token) - 1; i++)
                token[i] = "ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789+/="[i % 39];
        token[sizeof(token) - 1] = 0;
        assert_true(asprintf(&file,
                            "[default]\naws_access_key_id = K\naws_session_token = %s  \n"
                            "aws_secret_access_key = s\n# %s\n",
                            token, token) > 0);
        write_aws_file("credentials", file);
        assert_int_equal(s3_credentials_resolve(&(UfsOptions){}, &c, NULL), 0);
        assert_string_equal(c.session_token, token);
        assert_string_equal(c.secret_key, "s");
}

static void credentials_from_config_file_profile(void **state) {
        _cleanup_(s3_credentials_done) S3Credentials c = {};
        write_aws_file("config",
                "[profile dev]\nregion = eu-west-1\naws_access_key_id = CFG\n"
                "aws_secret_access_key = cfgsecret\n");
        assert_int_equal(s3_credentials_resolve(&(UfsOptions){.profile = "dev"}, &c, NULL), 0);
        assert_string_equal(c.access_key, "CFG");
}

static void credentials_missing_says_where_it_looked(void **state) {
        _cleanup_(freep) char *reason = NULL;
        S3Credentials c = {};
        assert_int_equal(s3_credentials_resolve(&(UfsOptions){}, &c, &reason), -EINVAL);
        assert_null(c.access_key);
        assert_non_null(strstr(reason, "no S3 credentials"));
        assert_non_null(strstr(reason, "AWS_ACCESS_KEY_ID"));
        assert_non_null(strstr(reason, home));
        assert_non_null(strstr(reason, "No such file"));
}

static void credentials_named_profile_missing_is_named(void **state) {
        _cleanup_(freep) char *reason = NULL;
        S3Credentials c = {};
        write_aws_file("credentials", "[default]\naws_access_key_id = D\naws_secret_access_key = d\n");
        assert_int_equal(s3_credentials_resolve(&(UfsOptions){.profile = "nope"}, &c, &reason), -EINVAL);
        assert_non_null(strstr(reason, "profile \"nope\" not found"));
}

static void credentials_profile_with_half_pair_is_rejected(void **state) {
        _cleanup_(freep) char *reason = NULL;
        S3Credentials c = {};
        write_aws_file("credentials", "[default]\naws_access_key_id = D\n");
        assert_int_equal(s3_credentials_resolve(&(UfsOptions){}, &c, &reason), -EINVAL);
        assert_non_null(strstr(reason, "no aws_secret_access_key"));
}

static void open_without_credentials_fails_with_reason(void **state) {
        _cleanup_(ufs_uri_freep) UfsUri *uri = NULL;
        _cleanup_(freep) char *reason = NULL;
        Ufs *u = NULL;
        assert_int_equal(ufs_uri_parse("s3://bkt/prefix", &uri, NULL), 0);
        assert_int_equal(ufs_open(uri, NULL, &u, &reason), -EINVAL);
        assert_null(u);
        assert_non_null(strstr(reason, "no S3 credentials"));
}

static void open_with_credentials_does_no_io(void **state) {
        _cleanup_(ufs_uri_freep) UfsUri *uri = NULL;
        _cleanup_(ufs_closep) Ufs *u = NULL;
        UfsOptions o = {
                .endpoint = "http://127.0.0.1:1",
                .access_key = "K",
                .secret_key = "S",
        };
        http_global_init();
        assert_int_equal(ufs_uri_parse("s3://bkt/prefix", &uri, NULL), 0);
        assert_int_equal(ufs_open(uri, &o, &u, NULL), 0);
        assert_string_equal(ufs_scheme(u), "s3");
        assert_false(ufs_has_directories(u));
        assert_true(ufs_has_multipart(u));
}

/* ---------------------------------------------------------------------------------- XML */

#define S3NS "xmlns=\"http://s3.amazonaws.com/doc/2006-03-01/\""

static int parse_list(const char *xml, S3ListPage *ret) {
        return s3_list_page_parse(xml, strlen(xml), ret);
}

static void list_page_gives_keys_sizes_and_times(void **state) {
        _cleanup_(s3_list_page_done) S3ListPage p = {};
        const char *xml =
                "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<ListBucketResult " S3NS ">"
                "<Name>bkt</Name><Prefix>d/</Prefix><KeyCount>2</KeyCount><MaxKeys>1000</MaxKeys>"
                "<IsTruncated>false</IsTruncated>"
                "<Contents><Key>d/</Key><LastModified>2023-11-25T17:37:00.000Z</LastModified>"
                "<ETag>&quot;d41d8cd98f00b204e9800998ecf8427e&quot;</ETag><Size>0</Size></Contents>"
                "<Contents><Key>d/a &amp; b.txt</Key><LastModified>2023-11-25T17:37:01.250Z</LastModified>"
                "<Size>5368709121</Size><StorageClass>STANDARD</StorageClass></Contents>"
                "</ListBucketResult>";
        assert_int_equal(parse_list(xml, &p), 0);
        assert_int_equal(p.n_objects, 2);
        assert_string_equal(p.objects[0].key, "d/");
        assert_int_equal(p.objects[0].size, 0);
        assert_int_equal(p.objects[0].mtime, 1700933820ULL * USEC_PER_SEC);
        assert_string_equal(p.objects[1].key, "d/a & b.txt");
        assert_int_equal(p.objects[1].size, 5368709121ULL);
        assert_int_equal(p.objects[1].mtime, 1700933821ULL * USEC_PER_SEC + 250 * USEC_PER_MSEC);
        assert_false(p.truncated);
        assert_null(p.next_token);
        assert_null(p.prefixes);
}

static void list_page_truncated_gives_continuation_token(void **state) {
        _cleanup_(s3_list_page_done) S3ListPage p = {};
        const char *xml = "<ListBucketResult " S3NS "><IsTruncated>true</IsTruncated>"
                          "<NextContinuationToken>1ueGcxLPRx1Tr/XYExHnhbYLgveDs2J/wm36Hy4vbOwM=</"
                          "NextContinuationToken>"
                          "<Contents><Key>k0999</Key><Size>1</Size></Contents></ListBucketResult>";
        assert_int_equal(parse_list(xml, &p), 0);
        assert_true(p.truncated);
        assert_string_equal(p.next_token, "1ueGcxLPRx1Tr/XYExHnhbYLgveDs2J/wm36Hy4vbOwM=");
        assert_int_equal(p.n_objects, 1);
        assert_int_equal(p.objects[0].mtime, 0);
}

static void list_page_truncated_without_token_is_eproto(void **state) {
        S3ListPage p = {};
        assert_int_equal(
                parse_list("<ListBucketResult><IsTruncated>true</IsTruncated></ListBucketResult>", &p),
                -EPROTO);
        assert_null(p.objects);
}

static void list_page_gives_common_prefixes(void **state) {
        _cleanup_(s3_list_page_done) S3ListPage p = {};
        const char *xml = "<ListBucketResult " S3NS "><Prefix>r/</Prefix><Delimiter>/</Delimiter>"
                          "<IsTruncated>false</IsTruncated><Contents><Key>r/f</Key><Size>3</Size></Contents>"
                          "<CommonPrefixes><Prefix>r/sub1/</Prefix></CommonPrefixes>"
                          "<CommonPrefixes><Prefix>r/sub2/</Prefix></CommonPrefixes></ListBucketResult>";
        assert_int_equal(parse_list(xml, &p), 0);
        assert_int_equal(p.n_objects, 1);
        assert_int_equal(strv_length(p.prefixes), 2);
        assert_string_equal(p.prefixes[0], "r/sub1/");
        assert_string_equal(p.prefixes[1], "r/sub2/");
}

static void list_page_url_encoded_keys_are_decoded(void **state) {
        _cleanup_(s3_list_page_done) S3ListPage p = {}, raw = {};
        const char *xml =
                "<ListBucketResult><EncodingType>url</EncodingType><IsTruncated>false</IsTruncated>"
                "<Contents><Key>d/a%20b%2Bc%01</Key><Size>1</Size></Contents>"
                "<CommonPrefixes><Prefix>d/%C3%BC/</Prefix></CommonPrefixes></ListBucketResult>";
        /* without EncodingType a '%' is a '%' */
        const char *plain = "<ListBucketResult><Contents><Key>d/100%25</Key><Size>1</Size></Contents>"
                            "</ListBucketResult>";
        assert_int_equal(parse_list(xml, &p), 0);
        assert_string_equal(p.objects[0].key, "d/a b+c\x01");
        assert_string_equal(p.prefixes[0], "d/ü/");
        assert_int_equal(parse_list(plain, &raw), 0);
        assert_string_equal(raw.objects[0].key, "d/100%25");
}

static void list_page_malformed_is_eproto(void **state) {
        const char *bad[] = {
                "",
                "not xml at all",
                "<ListBucketResult><Contents><Key>x</Key>", /* cut short */
                "<Error><Code>NoSuchBucket</Code></Error>", /* not a listing */
                "<ListBucketResult><Contents><Size>1</Size></Contents></ListBucketResult>", /* no Key */
                "<ListBucketResult><Contents><Key>x</Key><Size>big</Size></Contents></ListBucketResult>",
                "<ListBucketResult><Contents><Key>x</Key><Size>-1</Size></Contents></ListBucketResult>",
                "<ListBucketResult><Contents><Key>x</Key><LastModified>yesterday</LastModified></Contents>"
                "</ListBucketResult>",
                "<ListBucketResult><IsTruncated>maybe</IsTruncated></ListBucketResult>",
                "<ListBucketResult><CommonPrefixes></CommonPrefixes></ListBucketResult>",
                "<ListBucketResult><EncodingType>url</EncodingType><Contents><Key>%zz</Key></Contents>"
                "</ListBucketResult>",
        };
        for (size_t i = 0; i < ELEMENTSOF(bad); i++) {
                S3ListPage p = {};
                assert_int_equal(parse_list(bad[i], &p), -EPROTO);
                assert_null(p.objects);
        }
}

static void list_page_ignores_external_entities(void **state) {
        _cleanup_(s3_list_page_done) S3ListPage p = {};
        const char *xml = "<?xml version=\"1.0\"?><!DOCTYPE r [<!ENTITY x SYSTEM \"file:///etc/passwd\">]>"
                          "<ListBucketResult><Contents><Key>a&x;</Key><Size>1</Size></Contents>"
                          "</ListBucketResult>";
        assert_int_equal(parse_list(xml, &p), 0);
        assert_null(strstr(p.objects[0].key, "root:"));
}

static void error_document_gives_code_and_message(void **state) {
        _cleanup_(freep) char *code = NULL, *message = NULL, *c2 = NULL, *m2 = NULL;
        const char *xml =
                "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<Error><Code>NoSuchBucket</Code>"
                "<Message>The specified bucket does not exist</Message><BucketName>bkt</BucketName>"
                "<RequestId>4442587FB7D0A2F9</RequestId></Error>";
        assert_int_equal(s3_error_parse(xml, strlen(xml), &code, &message), 0);
        assert_string_equal(code, "NoSuchBucket");
        assert_string_equal(message, "The specified bucket does not exist");
        assert_int_equal(s3_error_parse("<Error><Code>SlowDown</Code></Error>", 36, &c2, &m2), 0);
        assert_string_equal(c2, "SlowDown");
        assert_string_equal(m2, "");
}

static void error_parse_tells_other_documents_and_garbage_apart(void **state) {
        const char *ok = "<CopyObjectResult><ETag>\"x\"</ETag></CopyObjectResult>";
        char *code = NULL, *message = NULL;
        assert_int_equal(s3_error_parse(ok, strlen(ok), &code, &message), -ENOMSG);
        assert_int_equal(s3_error_parse("<html>502</html", 15, &code, &message), -EPROTO);
        assert_int_equal(
                s3_error_parse("<Error><Message>m</Message></Error>", 35, &code, &message), -EPROTO);
        assert_int_equal(s3_error_parse(NULL, 0, &code, &message), -EPROTO);
        assert_null(code);
        assert_null(message);
}

static void error_codes_translate_to_errno(void **state) {
        assert_int_equal(s3_error_to_errno("NoSuchKey", 404), -ENOENT);
        assert_int_equal(s3_error_to_errno("NoSuchUpload", 404), -ENOENT);
        assert_int_equal(s3_error_to_errno("NoSuchBucket", 404), -ENXIO);
        assert_int_equal(s3_error_to_errno("AccessDenied", 403), -EACCES);
        assert_int_equal(s3_error_to_errno("InvalidAccessKeyId", 403), -EACCES);
        assert_int_equal(s3_error_to_errno("SignatureDoesNotMatch", 403), -EACCES);
        assert_int_equal(s3_error_to_errno("ExpiredToken", 400), -EACCES);
        assert_int_equal(s3_error_to_errno("SlowDown", 503), -EAGAIN);
        assert_int_equal(s3_error_to_errno("InternalError", 500), -EIO);
        assert_int_equal(s3_error_to_errno("NotImplemented", 501), -EOPNOTSUPP);
        /* answers without a code: the status decides */
        assert_int_equal(s3_error_to_errno(NULL, 404), -ENOENT);
        assert_int_equal(s3_error_to_errno("", 403), -EACCES);
        assert_int_equal(s3_error_to_errno(NULL, 503), -EAGAIN);
        assert_int_equal(s3_error_to_errno(NULL, 502), -EIO);
        assert_int_equal(s3_error_to_errno("SomethingNew", 400), -EIO);
}

static void upload_id_parsed_from_initiate_result(void **state) {
        _cleanup_(freep) char *id = NULL;
        char *none = NULL;
        const char *xml = "<InitiateMultipartUploadResult " S3NS "><Bucket>bkt</Bucket><Key>k</Key>"
                          "<UploadId>VXBsb2FkIElEIGZvciA2aWWpbmcncyBteS1tb3ZpZS5tMnRzIHVwbG9hZA</UploadId>"
                          "</InitiateMultipartUploadResult>";
        const char *empty =
                "<InitiateMultipartUploadResult><UploadId></UploadId></InitiateMultipartUploadResult>";
        assert_int_equal(s3_upload_id_parse(xml, strlen(xml), &id), 0);
        assert_string_equal(id, "VXBsb2FkIElEIGZvciA2aWWpbmcncyBteS1tb3ZpZS5tMnRzIHVwbG9hZA");
        assert_int_equal(s3_upload_id_parse(empty, strlen(empty), &none), -EPROTO);
        assert_null(none);
}

static void uploads_page_counts_uploads_and_gives_markers(void **state) {
        _cleanup_(s3_uploads_page_done) S3UploadsPage p = {}, q = {};
        const char *xml =
                "<ListMultipartUploadsResult " S3NS "><Bucket>bkt</Bucket><Prefix>d/</Prefix>"
                "<NextKeyMarker>d/b</NextKeyMarker><NextUploadIdMarker>id2</NextUploadIdMarker>"
                "<IsTruncated>true</IsTruncated>"
                "<Upload><Key>d/a</Key><UploadId>id1</UploadId></Upload>"
                "<Upload><Key>d/b</Key><UploadId>id2</UploadId></Upload></ListMultipartUploadsResult>";
        const char *none =
                "<ListMultipartUploadsResult><IsTruncated>false</IsTruncated></ListMultipartUploadsResult>";
        assert_int_equal(s3_uploads_page_parse(xml, strlen(xml), &p), 0);
        assert_int_equal(p.n_uploads, 2);
        assert_true(p.truncated);
        assert_string_equal(p.next_key_marker, "d/b");
        assert_string_equal(p.next_upload_id_marker, "id2");
        assert_int_equal(s3_uploads_page_parse(none, strlen(none), &q), 0);
        assert_int_equal(q.n_uploads, 0);
        assert_false(q.truncated);
}

static void copy_result_gives_etag(void **state) {
        _cleanup_(freep) char *etag = NULL;
        char *none = NULL;
        const char *xml = "<CopyObjectResult><LastModified>2023-11-25T17:37:00.000Z</LastModified>"
                          "<ETag>&quot;9b2cf535f27731c974343645a3985328&quot;</ETag></CopyObjectResult>";
        const char *err = "<Error><Code>InternalError</Code></Error>";
        assert_int_equal(s3_copy_result_parse(xml, strlen(xml), &etag), 0);
        assert_string_equal(etag, "\"9b2cf535f27731c974343645a3985328\"");
        assert_int_equal(s3_copy_result_parse(err, strlen(err), &none), -EPROTO);
}

static void complete_body_lists_parts_in_order_escaped(void **state) {
        _cleanup_(freep) char *body = NULL;
        char *etags[] = {"\"a1\"", "\"b&<2\""};
        char *none = NULL;
        size_t n;
        assert_int_equal(s3_complete_body(etags, 2, &body, &n), 0);
        assert_int_equal(n, strlen(body));
        assert_non_null(
                strstr(body, "<CompleteMultipartUpload xmlns=\"http://s3.amazonaws.com/doc/2006-03-01/\">"));
        const char *p1 = strstr(body, "<Part><PartNumber>1</PartNumber><ETag>\"a1\"</ETag></Part>");
        const char *p2 = strstr(body, "<Part><PartNumber>2</PartNumber><ETag>\"b&amp;&lt;2\"</ETag></Part>");
        assert_non_null(p1);
        assert_non_null(p2);
        assert_true(p1 < p2);
        assert_int_equal(s3_complete_body(etags, 0, &none, &n), -EINVAL);
        assert_null(none);
}

static void time_parse_reads_s3_timestamps(void **state) {
        usec_t t = 0;
        assert_int_equal(s3_time_parse("1970-01-01T00:00:00Z", &t), 0);
        assert_int_equal(t, 0);
        assert_int_equal(s3_time_parse("2023-11-25T17:37:00.5Z", &t), 0);
        assert_int_equal(t, 1700933820ULL * USEC_PER_SEC + 500 * USEC_PER_MSEC);
        assert_int_equal(s3_time_parse("2023-11-25T17:37:00.000+01:00", &t), -EINVAL);
        assert_int_equal(s3_time_parse("2023-13-25T17:37:00Z", &t), -EINVAL);
        assert_int_equal(s3_time_parse("Sat, 25 Nov 2023 17:37:00 GMT", &t), -EINVAL);
}

int main(void) {
#define ENV_TEST(f) cmocka_unit_test_setup_teardown(f, env_setup, env_teardown)
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(url_path_style_puts_bucket_in_path),
                cmocka_unit_test(url_virtual_host_style_is_default_for_aws),
                cmocka_unit_test(url_of_bucket_itself_has_no_key_part),
                cmocka_unit_test(url_bucket_with_dot_uses_path_style_on_aws),
                cmocka_unit_test(url_china_region_uses_its_domain),
                cmocka_unit_test(url_endpoint_override_keeps_port_and_path),
                cmocka_unit_test(url_endpoint_ipv6_keeps_brackets),
                cmocka_unit_test(url_endpoint_not_http_is_rejected_with_reason),
                cmocka_unit_test(url_key_with_space_unicode_plus_equals_is_encoded),
                cmocka_unit_test(uri_encode_of_query_value_encodes_slash),
                cmocka_unit_test(uri_decode_reverses_encode_and_rejects_bad_escapes),
                cmocka_unit_test(url_query_is_sorted_and_encoded),
                cmocka_unit_test(query_bare_parameter_is_sent_with_equals),
                cmocka_unit_test(query_sorts_by_byte_order_then_value),
                cmocka_unit_test(copy_source_names_bucket_and_encoded_key),
                cmocka_unit_test(sigv4_provider_names_region_and_service_s3),
                ENV_TEST(region_option_beats_environment),
                ENV_TEST(region_aws_region_beats_aws_default_region),
                ENV_TEST(region_from_config_file_profile),
                ENV_TEST(region_defaults_to_us_east_1),
                ENV_TEST(region_with_colon_is_rejected),
                ENV_TEST(credentials_options_beat_environment),
                ENV_TEST(credentials_options_half_pair_is_rejected),
                ENV_TEST(credentials_environment_beats_file),
                ENV_TEST(credentials_environment_half_pair_is_rejected),
                ENV_TEST(credentials_file_default_profile_with_token),
                ENV_TEST(credentials_profile_option_beats_environment_keys),
                ENV_TEST(credentials_aws_profile_selects_file_profile),
                ENV_TEST(credentials_file_named_by_option_and_environment),
                ENV_TEST(credentials_long_session_token_is_read_whole),
                ENV_TEST(credentials_from_config_file_profile),
                ENV_TEST(credentials_missing_says_where_it_looked),
                ENV_TEST(credentials_named_profile_missing_is_named),
                ENV_TEST(credentials_profile_with_half_pair_is_rejected),
                ENV_TEST(open_without_credentials_fails_with_reason),
                ENV_TEST(open_with_credentials_does_no_io),
                cmocka_unit_test(list_page_gives_keys_sizes_and_times),
                cmocka_unit_test(list_page_truncated_gives_continuation_token),
                cmocka_unit_test(list_page_truncated_without_token_is_eproto),
                cmocka_unit_test(list_page_gives_common_prefixes),
                cmocka_unit_test(list_page_url_encoded_keys_are_decoded),
                cmocka_unit_test(list_page_malformed_is_eproto),
                cmocka_unit_test(list_page_ignores_external_entities),
                cmocka_unit_test(error_document_gives_code_and_message),
                cmocka_unit_test(error_parse_tells_other_documents_and_garbage_apart),
                cmocka_unit_test(error_codes_translate_to_errno),
                cmocka_unit_test(upload_id_parsed_from_initiate_result),
                cmocka_unit_test(uploads_page_counts_uploads_and_gives_markers),
                cmocka_unit_test(copy_result_gives_etag),
                cmocka_unit_test(complete_body_lists_parts_in_order_escaped),
                cmocka_unit_test(time_parse_reads_s3_timestamps),
        };
        return cmocka_run_group_tests(tests, NULL, NULL);
}
