/* SPDX-License-Identifier: MIT */
#pragma once

/*
 * The pure parts of the s3:// scheme (ufs-s3.c), apart so that unit tests reach them without a
 * server: where the credentials and the region come from, how a request URL is spelled, what
 * libcurl's SigV4 signer is told, and the XML S3 answers with (libxml2).
 *
 * Signing is libcurl's (CURLOPT_AWS_SIGV4 with s3_sigv4_provider()). libcurl 7.88 signs the path and
 * the query exactly as they stand in the URL, so the URL must already be in canonical form: every
 * key byte but A-Z a-z 0-9 - . _ ~ and '/' percent-encoded (upper-case hex), and the query
 * parameters encoded the same way (with '/' too), sorted by name, each with its '=' ("uploads=").
 * s3_url() builds exactly that.
 */

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "macros.h"
#include "time-util.h"
#include "ufs.h"

/* The keys a request is signed with. All owned by the struct. */
typedef struct S3Credentials {
        char *access_key;
        char *secret_key;
        char *session_token; /* NULL when none */
        char *source; /* where they came from, for messages: "options", "environment",
                       * "/root/.aws/credentials [prod]" */
} S3Credentials;

/* Releases the members of c (not c), wiping the secrets first. */
void s3_credentials_done(S3Credentials *c);

/*
 * Finds the credentials the way the AWS CLI does:
 *   1. o->access_key and o->secret_key (both or neither), with o->session_token;
 *   2. $AWS_ACCESS_KEY_ID and $AWS_SECRET_ACCESS_KEY, with o->session_token or $AWS_SESSION_TOKEN;
 *      skipped when o->profile names a profile (an explicit profile overrides the environment, as
 *      `aws --profile` does; $AWS_PROFILE does not);
 *   3. the profile (o->profile, $AWS_PROFILE, "default") in the credentials file (o->credentials_file,
 *      $AWS_SHARED_CREDENTIALS_FILE, ~/.aws/credentials), with its aws_session_token unless
 *      o->session_token is given;
 *   4. the same profile in the config file ($AWS_CONFIG_FILE, ~/.aws/config; "[profile NAME]",
 *      "[default]").
 * Values longer than inih's line limit (session tokens are ~1 KiB) are read whole.
 * -EINVAL with *ret_reason (owned by the caller; ret_reason may be NULL) when no source has them,
 * when a source has only half a key pair, or when an explicitly named profile is nowhere.
 */
int s3_credentials_resolve(const UfsOptions *o, S3Credentials *ret, char **ret_reason);

/*
 * The region: o->region, $AWS_REGION, $AWS_DEFAULT_REGION, the profile's "region" in the config file,
 * "us-east-1". -EINVAL with *ret_reason when it has characters other than A-Z a-z 0-9 - _ . (it is
 * part of the signer's provider string). *ret_region is owned by the caller.
 */
int s3_region_resolve(const UfsOptions *o, char **ret_region, char **ret_reason);

/* "aws:amz:<region>:s3", what CURLOPT_AWS_SIGV4 takes; owned by the caller; NULL on OOM. */
char *s3_sigv4_provider(const char *region);

/*
 * Percent-encodes s per SigV4: every byte but A-Z a-z 0-9 - . _ ~ (and '/' when keep_slash) becomes
 * %XX with upper-case hex. Owned by the caller; NULL on OOM.
 */
char *s3_uri_encode(const char *s, bool keep_slash);

/* Decodes %XX escapes (encoding-type=url listings); -EINVAL for a malformed escape. '+' stays. */
int s3_uri_decode(const char *s, char **ret);

/* A query parameter; value NULL is the same as "" (a bare "?uploads" is sent as "uploads="). */
typedef struct S3Param {
        const char *name;
        const char *value;
} S3Param;

/* The canonical query string of params: each name and value encoded, sorted by name then value,
 * joined by '&'; "" when n is 0. Owned by the caller. 0 or -ENOMEM. */
int s3_canonical_query(const S3Param *params, size_t n, char **ret);

/* Where requests go: the bucket's URL parts. */
typedef struct S3Target {
        char *scheme; /* "https" or "http" */
        char *host; /* "s3.eu-west-1.amazonaws.com", "127.0.0.1:4568", "[::1]:9000": with the port when
                     * the endpoint gave one */
        char *base_path; /* the endpoint's path without a trailing '/': "" or "/s3" */
        char *bucket;
        bool path_style; /* true: scheme://host/bucket/key; false: scheme://bucket.host/key */
} S3Target;

/*
 * Makes the target of bucket. endpoint: "http://host:port[/path]" or NULL for AWS
 * (https://s3.<region>.amazonaws.com, .amazonaws.com.cn for cn- regions). path_style: 1 path style,
 * 0 virtual-host style (UfsOptions.addressing), or -1 for path style with an endpoint and virtual-host style
 * for AWS (path style there too for a bucket with a '.', which a virtual host's TLS certificate does not
 * cover). -EINVAL with *ret_reason for an endpoint that is not an http(s) URL or has a query.
 */
int s3_target_new(const char *endpoint, const char *region, const char *bucket, int path_style,
        S3Target **ret, char **ret_reason);
S3Target *s3_target_free(S3Target *t);
DEFINE_TRIVIAL_CLEANUP_FUNC(S3Target *, s3_target_free);

/*
 * The URL of key (not encoded; "" for the bucket itself) with params, canonical as libcurl's signer
 * needs it: "http://127.0.0.1:4568/bkt/a%20b/c?list-type=2&prefix=a%2F". Owned by the caller.
 * 0 or -ENOMEM.
 */
int s3_url(const S3Target *t, const char *key, const S3Param *params, size_t n_params, char **ret_url);

/* The x-amz-copy-source value for key in bucket: "/bucket/<encoded key>". NULL on OOM. */
char *s3_copy_source(const char *bucket, const char *key);

/* Parses an ISO 8601 UTC time as S3 gives it ("2023-11-25T17:37:00.000Z") to CLOCK_REALTIME usec.
 * -EINVAL when it is not one. */
int s3_time_parse(const char *s, usec_t *ret);

/*
 * Translates an S3 error code (NULL or "" when the answer had none, e.g. to a HEAD) and the HTTP status
 * into a negative errno, per the table in ufs.h. The only place that does so.
 */
int s3_error_to_errno(const char *code, long http_status);

/*
 * Parses an <Error> document: *ret_code and *ret_message (owned by the caller; message "" when
 * absent). -ENOMSG when the document is well-formed but not an <Error> (a CopyObject or
 * CompleteMultipartUpload answered with 200 is one or the other), -EPROTO when it is not XML or has
 * no <Code>.
 */
int s3_error_parse(const char *xml, size_t n, char **ret_code, char **ret_message);

typedef struct S3Object {
        char *key;
        uint64_t size;
        usec_t mtime; /* 0 when absent */
} S3Object;

/* One page of a ListObjectsV2 answer. */
typedef struct S3ListPage {
        S3Object *objects; /* <Contents>, in the order given */
        size_t n_objects;
        char **prefixes; /* <CommonPrefixes><Prefix>, NULL-terminated, NULL when none */
        bool truncated; /* <IsTruncated> */
        char *next_token; /* <NextContinuationToken>, NULL when none */
} S3ListPage;

/*
 * Parses a ListBucketResult (keys and prefixes URL-decoded when it says <EncodingType>url). -EPROTO
 * when it is not XML, not a ListBucketResult, an object has no <Key>, a number is not one, or it is
 * truncated without a continuation token. *ret is set only on success.
 */
int s3_list_page_parse(const char *xml, size_t n, S3ListPage *ret);
void s3_list_page_done(S3ListPage *p);

/* The <UploadId> of an InitiateMultipartUploadResult; -EPROTO when there is none. */
int s3_upload_id_parse(const char *xml, size_t n, char **ret_upload_id);

/* One page of a ListMultipartUploadsResult. */
typedef struct S3UploadsPage {
        size_t n_uploads; /* <Upload> elements */
        bool truncated;
        char *next_key_marker; /* NULL when none */
        char *next_upload_id_marker;
} S3UploadsPage;
int s3_uploads_page_parse(const char *xml, size_t n, S3UploadsPage *ret);
void s3_uploads_page_done(S3UploadsPage *p);

/* The <ETag> of a CopyObjectResult (owned by the caller); -EPROTO when it is not one. */
int s3_copy_result_parse(const char *xml, size_t n, char **ret_etag);

/* The CompleteMultipartUpload body listing parts 1..n with their etags (XML-escaped).
 * Owned by the caller. 0, -EINVAL (n is 0 or an etag NULL) or -ENOMEM. */
int s3_complete_body(char *const *etags, size_t n, char **ret_body, size_t *ret_size);
