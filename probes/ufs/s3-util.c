/* SPDX-License-Identifier: MIT */
#include <ctype.h>
#include <curl/curl.h>
#include <ini.h>
#include <inttypes.h>
#include <libxml/parser.h>
#include <libxml/tree.h>
#include <pthread.h>
#include <pwd.h>
#include <stdarg.h>

#include "s3.h"

/* ---------------------------------------------------------------------------------- helpers */

/* Overwrites a secret before it is freed, so that it does not linger in freed heap. */
static char *secret_free(char *s) {
        if (s)
                explicit_bzero(s, strlen(s));
        return mfree(s);
}

static int strdup_to(char **dst, const char *src) {
        char *c = NULL;
        if (src) {
                c = strdup(src);
                if (!c)
                        return -ENOMEM;
        }
        free(*dst);
        *dst = c;
        return 0;
}

/* getenv() with "" taken as unset, as the AWS CLI does. */
static const char *env(const char *name) {
        const char *v = getenv(name);
        return isempty(v) ? NULL : v;
}

/* ~/.aws/<name>, or the file $var names. Owned by the caller; NULL on OOM or without a home. */
static char *aws_file(const char *var, const char *name) {
        const char *home, *v = env(var);
        char *p = NULL;

        if (v)
                return strdup(v);
        home = env("HOME");
        if (!home) {
                struct passwd *pw = getpwuid(getuid());
                home = pw ? pw->pw_dir : NULL;
        }
        if (!home || asprintf(&p, "%s/.aws/%s", home, name) < 0)
                return NULL;
        return p;
}

/* ---------------------------------------------------------------------------------- INI profiles */

/* The keys of one profile of an AWS credentials or config file. */
typedef struct Profile {
        bool found;
        char *access_key;
        char *secret_key;
        char *session_token;
        char *region;
} Profile;

static void profile_done(Profile *p) {
        p->access_key = secret_free(p->access_key);
        p->secret_key = secret_free(p->secret_key);
        p->session_token = secret_free(p->session_token);
        p->region = mfree(p->region);
        p->found = false;
}

/* Stands for the value of a line too long for inih, kept aside in ProfileReader.long_value. */
#define LONG_VALUE_MARK "\x1f"

typedef struct ProfileReader {
        FILE *f;
        char *line;
        size_t line_size;
        char *long_value;
        const char *section; /* the one wanted */
        const char *alt_section; /* also taken ("profile default" in a config file), may be NULL */
        Profile *profile;
        int r;
} ProfileReader;

/*
 * Feeds inih one line at a time. Debian's libinih is built with a 200-byte line buffer, shorter than
 * a session token line: such a line goes to inih as "key=" LONG_VALUE_MARK with its value kept aside,
 * rather than being cut (inih would take the first 199 bytes as the value and the rest as a broken
 * line).
 */
static char *profile_reader_line(char *str, int num, void *stream) {
        ProfileReader *p = stream;
        ssize_t n = getline(&p->line, &p->line_size, p->f);

        if (n < 0)
                return NULL;
        p->long_value = secret_free(p->long_value);
        if (n < num) {
                memcpy(str, p->line, n + 1);
                return str;
        }

        const char *s = p->line + strspn(p->line, " \t");
        const char *sep = strpbrk(s, "=:");
        if (*s == ';' || *s == '#' || s != p->line || !sep || sep - s + 3 > num) {
                /* a long comment, a long continuation line (values we never read), or no key at all:
                 * a comment for inih, so that it neither errs nor cuts */
                snprintf(str, num, "#\n");
                return str;
        }
        const char *v = sep + 1;
        v += strspn(v, " \t");
        size_t l = strlen(v);
        while (l > 0 && isspace((unsigned char)v[l - 1]))
                l--;
        p->long_value = strndup(v, l);
        if (!p->long_value) {
                p->r = -ENOMEM;
                snprintf(str, num, "#\n");
                return str;
        }
        snprintf(str, num, "%.*s=" LONG_VALUE_MARK "\n", (int)(sep - s), s);
        return str;
}

static int profile_reader_handler(void *userdata, const char *section, const char *key, const char *value) {
        ProfileReader *p = userdata;
        char **dst = NULL;

        if (!streq(section, p->section) && !(p->alt_section && streq(section, p->alt_section)))
                return 1;
        p->profile->found = true;
        if (streq(value, LONG_VALUE_MARK) && p->long_value)
                value = p->long_value;
        if (strcasecmp(key, "aws_access_key_id") == 0)
                dst = &p->profile->access_key;
        else if (strcasecmp(key, "aws_secret_access_key") == 0)
                dst = &p->profile->secret_key;
        else if (strcasecmp(key, "aws_session_token") == 0)
                dst = &p->profile->session_token;
        else if (strcasecmp(key, "region") == 0)
                dst = &p->profile->region;
        if (dst) {
                *dst = secret_free(*dst);
                if (!isempty(value) && !(*dst = strdup(value)))
                        p->r = -ENOMEM;
        }
        return 1;
}

/*
 * Reads profile name from an AWS credentials file (sections are profile names) or config file
 * ("[profile NAME]", and "[default]" for the default profile). *ret->found tells whether the
 * section exists. -errno when the file cannot be read (-ENOENT: no such file). Syntax errors in other
 * lines are ignored, as they do not concern this profile.
 */
static int profile_read(const char *path, const char *name, bool config_file, Profile *ret) {
        _cleanup_(freep) char *section = NULL;
        Profile profile = {};

        if (config_file && !streq(name, "default")) {
                if (asprintf(&section, "profile %s", name) < 0)
                        return -ENOMEM;
        } else if (!(section = strdup(name)))
                return -ENOMEM;

        _cleanup_(fclosep) FILE *f = fopen(path, "re");
        if (!f)
                return -errno;
        ProfileReader p = {
                .f = f,
                .section = section,
                .alt_section = config_file && streq(name, "default") ? "profile default" : NULL,
                .profile = &profile,
        };
        int line = ini_parse_stream(profile_reader_line, &p, profile_reader_handler, &p);
        free(p.line);
        secret_free(p.long_value);
        if (p.r >= 0 && line < 0)
                p.r = -EIO;
        if (p.r < 0) {
                profile_done(&profile);
                return p.r;
        }
        *ret = profile;
        return 0;
}

/* ---------------------------------------------------------------------------------- credentials */

void s3_credentials_done(S3Credentials *c) {
        if (!c)
                return;
        c->access_key = secret_free(c->access_key);
        c->secret_key = secret_free(c->secret_key);
        c->session_token = secret_free(c->session_token);
        c->source = mfree(c->source);
}

static int credentials_set(S3Credentials *c, const char *access_key, const char *secret_key,
        const char *session_token, const char *source) {
        if (strdup_to(&c->access_key, access_key) < 0 || strdup_to(&c->secret_key, secret_key) < 0 ||
                strdup_to(&c->session_token, isempty(session_token) ? NULL : session_token) < 0 ||
                strdup_to(&c->source, source) < 0)
                return -ENOMEM;
        return 0;
}

/* Takes the keys of profile p read from path when it has them: 1 taken, 0 not there, -EINVAL half. */
static int credentials_from_profile(const Profile *p, const char *path, const char *name,
        const UfsOptions *o, S3Credentials *c, char **ret_reason) {
        _cleanup_(freep) char *source = NULL;

        if (!p->found || (!p->access_key && !p->secret_key))
                return 0;
        if (!p->access_key || !p->secret_key)
                return ufs_reason(ret_reason, -EINVAL, "profile \"%s\" in %s has %s but no %s", name, path,
                        p->access_key ? "aws_access_key_id" : "aws_secret_access_key",
                        p->access_key ? "aws_secret_access_key" : "aws_access_key_id");
        if (asprintf(&source, "%s [%s]", path, name) < 0)
                return -ENOMEM;
        if (credentials_set(c, p->access_key, p->secret_key, o->session_token ?: p->session_token, source) <
                0)
                return -ENOMEM;
        return 1;
}

/* The steps of s3_credentials_resolve(): fills *c (members freed by the caller either way). */
static int credentials_find(const UfsOptions *o, S3Credentials *c, char **ret_reason) {
        int r;

        if (o->access_key || o->secret_key) {
                if (isempty(o->access_key) || isempty(o->secret_key))
                        return ufs_reason(ret_reason, -EINVAL, "an S3 %s was given without the %s",
                                isempty(o->access_key) ? "secret key" : "access key",
                                isempty(o->access_key) ? "access key" : "secret key");
                return credentials_set(c, o->access_key, o->secret_key, o->session_token, "options");
        }

        if (!o->profile) {
                const char *id = env("AWS_ACCESS_KEY_ID"), *secret = env("AWS_SECRET_ACCESS_KEY");
                if (id || secret) {
                        if (!id || !secret)
                                return ufs_reason(ret_reason, -EINVAL, "%s is set but %s is not",
                                        id ? "AWS_ACCESS_KEY_ID" : "AWS_SECRET_ACCESS_KEY",
                                        id ? "AWS_SECRET_ACCESS_KEY" : "AWS_ACCESS_KEY_ID");
                        return credentials_set(
                                c, id, secret, o->session_token ?: env("AWS_SESSION_TOKEN"), "environment");
                }
        }

        const char *name = o->profile ?: env("AWS_PROFILE") ?: "default";
        bool named = o->profile || env("AWS_PROFILE");
        _cleanup_(freep) char *cred_path = o->credentials_file
                ? strdup(o->credentials_file)
                : aws_file("AWS_SHARED_CREDENTIALS_FILE", "credentials");
        _cleanup_(freep) char *config_path = aws_file("AWS_CONFIG_FILE", "config");
        _cleanup_(profile_done) Profile cp = {}, fp = {};
        int cred_r = -ENOENT, config_r = -ENOENT;

        if (cred_path) {
                cred_r = profile_read(cred_path, name, false, &cp);
                if (cred_r == -ENOMEM)
                        return cred_r;
                if (cred_r < 0 && o->credentials_file)
                        return ufs_reason(ret_reason, -EINVAL, "cannot read the credentials file %s: %s",
                                cred_path, strerror(-cred_r));
                if (cred_r >= 0) {
                        r = credentials_from_profile(&cp, cred_path, name, o, c, ret_reason);
                        if (r != 0)
                                return MIN(r, 0);
                }
        }
        if (config_path) {
                config_r = profile_read(config_path, name, true, &fp);
                if (config_r == -ENOMEM)
                        return config_r;
                if (config_r >= 0) {
                        r = credentials_from_profile(&fp, config_path, name, o, c, ret_reason);
                        if (r != 0)
                                return MIN(r, 0);
                }
        }

        if (named && !cp.found && !fp.found)
                return ufs_reason(ret_reason, -EINVAL,
                        "S3 credentials: profile \"%s\" not found in %s (%s) nor %s (%s)", name,
                        strempty(cred_path), cred_r < 0 ? strerror(-cred_r) : "no such profile",
                        strempty(config_path), config_r < 0 ? strerror(-config_r) : "no such profile");
        return ufs_reason(ret_reason, -EINVAL,
                "no S3 credentials: none in the options, AWS_ACCESS_KEY_ID is not set%s, and profile \"%s\" "
                "has no keys in %s (%s)",
                o->profile ? " (or not used, a profile was named)" : "", name, strempty(cred_path),
                cred_r < 0         ? strerror(-cred_r)
                        : cp.found ? "no aws_access_key_id"
                                   : "no such profile");
}

int s3_credentials_resolve(const UfsOptions *o, S3Credentials *ret, char **ret_reason) {
        _cleanup_(s3_credentials_done) S3Credentials c = {};
        int r = credentials_find(o, &c, ret_reason);
        if (r < 0)
                return r;
        *ret = c;
        c = (S3Credentials){};
        return 0;
}

/* ---------------------------------------------------------------------------------- region */

static bool region_ok(const char *s) {
        if (isempty(s))
                return false;
        for (; *s; s++)
                if (!isalnum((unsigned char)*s) && !strchr("-_.", *s))
                        return false;
        return true;
}

int s3_region_resolve(const UfsOptions *o, char **ret_region, char **ret_reason) {
        _cleanup_(profile_done) Profile p = {};
        const char *region = o->region ?: env("AWS_REGION") ?: env("AWS_DEFAULT_REGION");

        if (!region) {
                _cleanup_(freep) char *path = aws_file("AWS_CONFIG_FILE", "config");
                const char *name = o->profile ?: env("AWS_PROFILE") ?: "default";
                /* an unreadable or absent config file only means no region from it */
                if (path && profile_read(path, name, true, &p) == -ENOMEM)
                        return -ENOMEM;
                region = p.region ?: "us-east-1";
        }
        if (!region_ok(region))
                return ufs_reason(ret_reason, -EINVAL,
                        "invalid S3 region \"%s\" (letters, digits, '-', '_', '.')", region);
        char *copy = strdup(region);
        if (!copy)
                return -ENOMEM;
        *ret_region = copy;
        return 0;
}

char *s3_sigv4_provider(const char *region) {
        char *s = NULL;
        return asprintf(&s, "aws:amz:%s:s3", region) < 0 ? NULL : s;
}

/* ---------------------------------------------------------------------------------- URLs */

static bool unreserved(unsigned char c) {
        return isascii(c) && (isalnum(c) || c == '-' || c == '.' || c == '_' || c == '~');
}

char *s3_uri_encode(const char *s, bool keep_slash) {
        static const char hex[] = "0123456789ABCDEF";
        char *out = malloc(strlen(s) * 3 + 1), *o = out;

        if (!out)
                return NULL;
        for (const unsigned char *c = (const unsigned char *)s; *c; c++) {
                if (unreserved(*c) || (keep_slash && *c == '/'))
                        *o++ = (char)*c;
                else {
                        *o++ = '%';
                        *o++ = hex[*c >> 4];
                        *o++ = hex[*c & 15];
                }
        }
        *o = 0;
        return out;
}

static int unhex(char c) {
        if (c >= '0' && c <= '9')
                return c - '0';
        if (c >= 'a' && c <= 'f')
                return c - 'a' + 10;
        if (c >= 'A' && c <= 'F')
                return c - 'A' + 10;
        return -1;
}

int s3_uri_decode(const char *s, char **ret) {
        _cleanup_(freep) char *out = malloc(strlen(s) + 1);
        char *o = out;

        if (!out)
                return -ENOMEM;
        for (const char *c = s; *c; c++) {
                if (*c != '%') {
                        *o++ = *c;
                        continue;
                }
                int h = unhex(c[1]), l = h < 0 ? -1 : unhex(c[2]);
                if (h < 0 || l < 0 || (h == 0 && l == 0))
                        return -EINVAL;
                *o++ = (char)(h << 4 | l);
                c += 2;
        }
        *o = 0;
        *ret = TAKE_PTR(out);
        return 0;
}

typedef struct EncodedParam {
        char *name;
        char *value;
} EncodedParam;

static int encoded_param_compare(const void *a, const void *b) {
        const EncodedParam *x = a, *y = b;
        int c = strcmp(x->name, y->name);
        return c != 0 ? c : strcmp(x->value, y->value);
}

int s3_canonical_query(const S3Param *params, size_t n, char **ret) {
        _cleanup_(freep) EncodedParam *e = n > 0 ? calloc(n, sizeof(EncodedParam)) : NULL;
        _cleanup_(freep) char *out = NULL;
        size_t len = 0;
        int r = -ENOMEM;

        if (n > 0 && !e)
                return -ENOMEM;
        for (size_t i = 0; i < n; i++) {
                e[i].name = s3_uri_encode(params[i].name, false);
                e[i].value = s3_uri_encode(strempty(params[i].value), false);
                if (!e[i].name || !e[i].value)
                        goto finish;
                len += strlen(e[i].name) + strlen(e[i].value) + 2;
        }
        /* SigV4 sorts by the encoded names (byte order), then by value */
        if (n > 0)
                qsort(e, n, sizeof(EncodedParam), encoded_param_compare);
        out = malloc(len + 1);
        if (!out)
                goto finish;
        char *o = out;
        for (size_t i = 0; i < n; i++)
                o += sprintf(o, "%s%s=%s", i > 0 ? "&" : "", e[i].name, e[i].value);
        *o = 0;
        *ret = TAKE_PTR(out);
        r = 0;
finish:
        for (size_t i = 0; i < n; i++) {
                free(e[i].name);
                free(e[i].value);
        }
        return r;
}

S3Target *s3_target_free(S3Target *t) {
        if (!t)
                return NULL;
        free(t->scheme);
        free(t->host);
        free(t->base_path);
        free(t->bucket);
        return mfree(t);
}

static void curl_freep(char **p) {
        curl_free(*p);
}

static void curl_url_cleanupp(CURLU **h) {
        if (*h)
                curl_url_cleanup(*h);
}

int s3_target_new(const char *endpoint, const char *region, const char *bucket, int path_style,
        S3Target **ret, char **ret_reason) {
        _cleanup_(s3_target_freep) S3Target *t = calloc(1, sizeof(S3Target));
        _cleanup_(freep) char *aws = NULL;

        if (!t)
                return -ENOMEM;
        if (!(t->bucket = strdup(bucket)))
                return -ENOMEM;
        if (!endpoint) {
                if (asprintf(&aws, "https://s3.%s.amazonaws.com%s", region,
                            startswith(region, "cn-") ? ".cn" : "") < 0)
                        return -ENOMEM;
                /* a bucket with a '.' is not covered by the *.s3 wildcard certificate */
                t->path_style = path_style < 0 ? strchr(bucket, '.') != NULL : path_style > 0;
        } else
                t->path_style = path_style != 0;

        _cleanup_(curl_url_cleanupp) CURLU *h = curl_url();
        _cleanup_(curl_freep) char *scheme = NULL, *host = NULL, *port = NULL, *path = NULL, *query = NULL,
                                   *user = NULL;
        if (!h)
                return -ENOMEM;
        if (curl_url_set(h, CURLUPART_URL, endpoint ?: aws, 0) != CURLUE_OK ||
                curl_url_get(h, CURLUPART_SCHEME, &scheme, 0) != CURLUE_OK ||
                curl_url_get(h, CURLUPART_HOST, &host, 0) != CURLUE_OK ||
                !(streq(scheme, "http") || streq(scheme, "https")))
                return ufs_reason(ret_reason, -EINVAL,
                        "invalid S3 endpoint \"%s\" (expected http://host[:port] or https://...)", endpoint);
        (void)curl_url_get(h, CURLUPART_PORT, &port, 0);
        (void)curl_url_get(h, CURLUPART_PATH, &path, 0);
        (void)curl_url_get(h, CURLUPART_QUERY, &query, 0);
        (void)curl_url_get(h, CURLUPART_USER, &user, 0);
        if (query || user)
                return ufs_reason(ret_reason, -EINVAL,
                        "invalid S3 endpoint \"%s\": no query or user name allowed", endpoint);

        size_t pl = path ? strlen(path) : 0;
        while (pl > 0 && path[pl - 1] == '/')
                pl--;
        if (!(t->scheme = strdup(scheme)) || !(t->base_path = strndup(path ?: "", pl)))
                return -ENOMEM;
        if (port ? asprintf(&t->host, "%s:%s", host, port) < 0 : !(t->host = strdup(host)))
                return -ENOMEM;
        *ret = TAKE_PTR(t);
        return 0;
}

int s3_url(const S3Target *t, const char *key, const S3Param *params, size_t n_params, char **ret_url) {
        _cleanup_(freep) char *k = s3_uri_encode(key, true), *q = NULL, *url = NULL;
        int r;

        if (!k)
                return -ENOMEM;
        r = s3_canonical_query(params, n_params, &q);
        if (r < 0)
                return r;
        if (t->path_style)
                /* the bucket itself is "/bkt", not "/bkt/": the canonical path of ListObjects */
                r = asprintf(&url, "%s://%s%s/%s%s%s%s%s", t->scheme, t->host, t->base_path, t->bucket,
                        *k ? "/" : "", k, *q ? "?" : "", q);
        else
                r = asprintf(&url, "%s://%s.%s%s/%s%s%s", t->scheme, t->bucket, t->host, t->base_path, k,
                        *q ? "?" : "", q);
        if (r < 0)
                return -ENOMEM;
        *ret_url = TAKE_PTR(url);
        return 0;
}

char *s3_copy_source(const char *bucket, const char *key) {
        _cleanup_(freep) char *k = s3_uri_encode(key, true);
        char *s = NULL;
        if (!k || asprintf(&s, "/%s/%s", bucket, k) < 0)
                return NULL;
        return s;
}

int s3_time_parse(const char *s, usec_t *ret) {
        struct tm tm = {};
        unsigned frac = 0, digits = 0;
        int n = 0;

        if (sscanf(s, "%4d-%2d-%2dT%2d:%2d:%2d%n", &tm.tm_year, &tm.tm_mon, &tm.tm_mday, &tm.tm_hour,
                    &tm.tm_min, &tm.tm_sec, &n) != 6 ||
                n != 19)
                return -EINVAL;
        const char *p = s + n;
        if (*p == '.')
                for (p++; isdigit((unsigned char)*p); p++, digits++)
                        if (digits < 6)
                                frac = frac * 10 + (unsigned)(*p - '0');
        if (!streq(p, "Z") || tm.tm_mon < 1 || tm.tm_mon > 12 || tm.tm_mday < 1 || tm.tm_mday > 31 ||
                tm.tm_hour > 23 || tm.tm_min > 59 || tm.tm_sec > 60 || tm.tm_year < 1970)
                return -EINVAL;
        for (; digits < 6; digits++)
                frac *= 10;
        tm.tm_year -= 1900;
        tm.tm_mon -= 1;
        time_t t = timegm(&tm);
        if (t < 0)
                return -EINVAL;
        *ret = (usec_t)t * USEC_PER_SEC + frac;
        return 0;
}

/* ---------------------------------------------------------------------------------- errors */

int s3_error_to_errno(const char *code, long http_status) {
        static const struct {
                const char *code;
                int error;
        } table[] = {
                {"NoSuchKey", -ENOENT},
                {"NoSuchUpload", -ENOENT},
                {"NoSuchBucket", -ENXIO},
                {"AccessDenied", -EACCES},
                {"AccountProblem", -EACCES},
                {"AllAccessDisabled", -EACCES},
                {"ExpiredToken", -EACCES},
                {"InvalidAccessKeyId", -EACCES},
                {"InvalidToken", -EACCES},
                {"SignatureDoesNotMatch", -EACCES},
                {"SlowDown", -EAGAIN},
                {"ServiceUnavailable", -EAGAIN},
                {"RequestTimeout", -ETIMEDOUT},
                {"NotImplemented", -EOPNOTSUPP},
        };

        if (!isempty(code))
                for (size_t i = 0; i < ELEMENTSOF(table); i++)
                        if (streq(code, table[i].code))
                                return table[i].error;
        /* no code we know: an answer without a body (HEAD) or a proxy's page */
        switch (http_status) {
        case 401:
        case 403:
                return -EACCES;
        case 404:
                return -ENOENT;
        case 503:
                return -EAGAIN;
        default:
                return -EIO;
        }
}

/* ---------------------------------------------------------------------------------- XML */

static void xml_init_once(void) {
        xmlInitParser();
}

static void xmlFreeDocp(xmlDoc **d) {
        if (*d)
                xmlFreeDoc(*d);
}

/*
 * Parses an S3 answer. No network access, no entity expansion, no DTD, errors not printed: the
 * document comes from a server and is only read for a few elements.
 */
static int xml_parse(const char *xml, size_t n, xmlDoc **ret_doc, xmlNode **ret_root) {
        static pthread_once_t once = PTHREAD_ONCE_INIT;

        /* libxml2 2.9 initialises itself on first use unsafely; ufs-io parses in several threads */
        pthread_once(&once, xml_init_once);
        if (!xml || n == 0 || n > INT_MAX)
                return -EPROTO;
        xmlDoc *doc = xmlReadMemory(xml, (int)n, "s3.xml", NULL,
                XML_PARSE_NONET | XML_PARSE_NOERROR | XML_PARSE_NOWARNING | XML_PARSE_NOCDATA);
        if (!doc)
                return -EPROTO;
        xmlNode *root = xmlDocGetRootElement(doc);
        if (!root) {
                xmlFreeDoc(doc);
                return -EPROTO;
        }
        *ret_doc = doc;
        *ret_root = root;
        return 0;
}

/* Element names are compared without their namespace: AWS answers in the S3 2006-03-01 namespace,
 * s3rver and others in slightly different ones. */
static bool is_element(const xmlNode *node, const char *name) {
        return node->type == XML_ELEMENT_NODE && xmlStrcmp(node->name, (const xmlChar *)name) == 0;
}

static xmlNode *child(const xmlNode *parent, const char *name) {
        for (xmlNode *c = parent->children; c; c = c->next)
                if (is_element(c, name))
                        return c;
        return NULL;
}

/* The text of node as a malloc'd string (xmlChar is freed with xmlFree, not free). */
static int text(const xmlNode *node, char **ret) {
        xmlChar *c = xmlNodeGetContent(node);
        char *s = strdup(c ? (const char *)c : "");
        xmlFree(c);
        if (!s)
                return -ENOMEM;
        *ret = s;
        return 0;
}

/* The text of parent's child name: 0, -ENOENT when there is no such child, -ENOMEM. */
static int child_text(const xmlNode *parent, const char *name, char **ret) {
        xmlNode *c = child(parent, name);
        return c ? text(c, ret) : -ENOENT;
}

static int parse_bool(const char *s, bool *ret) {
        if (streq(s, "true"))
                *ret = true;
        else if (streq(s, "false"))
                *ret = false;
        else
                return -EPROTO;
        return 0;
}

static int parse_u64(const char *s, uint64_t *ret) {
        char *end;
        if (!isdigit((unsigned char)*s))
                return -EPROTO;
        errno = 0;
        unsigned long long v = strtoull(s, &end, 10);
        if (errno != 0 || *end)
                return -EPROTO;
        *ret = v;
        return 0;
}

int s3_error_parse(const char *xml, size_t n, char **ret_code, char **ret_message) {
        _cleanup_(xmlFreeDocp) xmlDoc *doc = NULL;
        _cleanup_(freep) char *code = NULL, *message = NULL;
        xmlNode *root;
        int r;

        r = xml_parse(xml, n, &doc, &root);
        if (r < 0)
                return r;
        if (!is_element(root, "Error"))
                return -ENOMSG;
        r = child_text(root, "Code", &code);
        if (r < 0)
                return r == -ENOENT ? -EPROTO : r;
        if (isempty(code))
                return -EPROTO;
        r = child_text(root, "Message", &message);
        if (r == -ENOENT && !(message = strdup("")))
                return -ENOMEM;
        if (r == -ENOMEM)
                return r;
        *ret_code = TAKE_PTR(code);
        *ret_message = TAKE_PTR(message);
        return 0;
}

void s3_list_page_done(S3ListPage *p) {
        if (!p)
                return;
        for (size_t i = 0; i < p->n_objects; i++)
                free(p->objects[i].key);
        p->objects = mfree(p->objects);
        p->n_objects = 0;
        p->prefixes = strv_free(p->prefixes);
        p->next_token = mfree(p->next_token);
        p->truncated = false;
}

/* Takes a key or prefix out of a listing, decoding it when the listing is URL-encoded. */
static int listed_name(const xmlNode *node, bool url_encoded, char **ret) {
        _cleanup_(freep) char *s = NULL;
        int r = text(node, &s);
        if (r < 0)
                return r;
        if (url_encoded) {
                char *d;
                r = s3_uri_decode(s, &d);
                if (r < 0)
                        return -EPROTO;
                free(s);
                s = d;
        }
        *ret = TAKE_PTR(s);
        return 0;
}

static int list_object_parse(const xmlNode *contents, bool url_encoded, S3Object *ret) {
        _cleanup_(freep) char *key = NULL, *size = NULL, *modified = NULL;
        xmlNode *k = child(contents, "Key");
        S3Object o = {};
        int r;

        if (!k)
                return -EPROTO;
        r = listed_name(k, url_encoded, &key);
        if (r < 0)
                return r;
        r = child_text(contents, "Size", &size);
        if (r == -ENOMEM)
                return r;
        if (r >= 0 && parse_u64(size, &o.size) < 0)
                return -EPROTO;
        r = child_text(contents, "LastModified", &modified);
        if (r == -ENOMEM)
                return r;
        if (r >= 0 && s3_time_parse(modified, &o.mtime) < 0)
                return -EPROTO;
        o.key = TAKE_PTR(key);
        *ret = o;
        return 0;
}

int s3_list_page_parse(const char *xml, size_t n, S3ListPage *ret) {
        _cleanup_(xmlFreeDocp) xmlDoc *doc = NULL;
        _cleanup_(s3_list_page_done) S3ListPage p = {};
        _cleanup_(freep) char *encoding = NULL, *truncated = NULL;
        size_t n_contents = 0;
        xmlNode *root;
        int r;

        r = xml_parse(xml, n, &doc, &root);
        if (r < 0)
                return r;
        if (!is_element(root, "ListBucketResult"))
                return -EPROTO;
        r = child_text(root, "EncodingType", &encoding);
        if (r == -ENOMEM)
                return r;
        bool url_encoded = encoding && streq(encoding, "url");

        for (xmlNode *c = root->children; c; c = c->next)
                n_contents += is_element(c, "Contents");
        if (n_contents > 0 && !(p.objects = calloc(n_contents, sizeof(S3Object))))
                return -ENOMEM;

        for (xmlNode *c = root->children; c; c = c->next) {
                if (is_element(c, "Contents")) {
                        r = list_object_parse(c, url_encoded, &p.objects[p.n_objects]);
                        if (r < 0)
                                return r;
                        p.n_objects++;
                } else if (is_element(c, "CommonPrefixes")) {
                        _cleanup_(freep) char *prefix = NULL;
                        xmlNode *pn = child(c, "Prefix");
                        if (!pn)
                                return -EPROTO;
                        r = listed_name(pn, url_encoded, &prefix);
                        if (r < 0)
                                return r;
                        if (strv_extend(&p.prefixes, prefix) < 0)
                                return -ENOMEM;
                }
        }

        r = child_text(root, "IsTruncated", &truncated);
        if (r == -ENOMEM)
                return r;
        if (r >= 0 && parse_bool(truncated, &p.truncated) < 0)
                return -EPROTO;
        r = child_text(root, "NextContinuationToken", &p.next_token);
        if (r == -ENOMEM)
                return r;
        if (r >= 0 && isempty(p.next_token))
                p.next_token = mfree(p.next_token);
        if (p.truncated && !p.next_token)
                return -EPROTO;

        *ret = p;
        p = (S3ListPage){};
        return 0;
}

int s3_upload_id_parse(const char *xml, size_t n, char **ret_upload_id) {
        _cleanup_(xmlFreeDocp) xmlDoc *doc = NULL;
        _cleanup_(freep) char *id = NULL;
        xmlNode *root;
        int r;

        r = xml_parse(xml, n, &doc, &root);
        if (r < 0)
                return r;
        if (!is_element(root, "InitiateMultipartUploadResult"))
                return -EPROTO;
        r = child_text(root, "UploadId", &id);
        if (r == -ENOMEM)
                return r;
        if (r < 0 || isempty(id))
                return -EPROTO;
        *ret_upload_id = TAKE_PTR(id);
        return 0;
}

void s3_uploads_page_done(S3UploadsPage *p) {
        if (!p)
                return;
        p->next_key_marker = mfree(p->next_key_marker);
        p->next_upload_id_marker = mfree(p->next_upload_id_marker);
        p->n_uploads = 0;
        p->truncated = false;
}

int s3_uploads_page_parse(const char *xml, size_t n, S3UploadsPage *ret) {
        _cleanup_(xmlFreeDocp) xmlDoc *doc = NULL;
        _cleanup_(s3_uploads_page_done) S3UploadsPage p = {};
        _cleanup_(freep) char *truncated = NULL;
        xmlNode *root;
        int r;

        r = xml_parse(xml, n, &doc, &root);
        if (r < 0)
                return r;
        if (!is_element(root, "ListMultipartUploadsResult"))
                return -EPROTO;
        for (xmlNode *c = root->children; c; c = c->next)
                p.n_uploads += is_element(c, "Upload");
        r = child_text(root, "IsTruncated", &truncated);
        if (r == -ENOMEM)
                return r;
        if (r >= 0 && parse_bool(truncated, &p.truncated) < 0)
                return -EPROTO;
        if (child_text(root, "NextKeyMarker", &p.next_key_marker) == -ENOMEM ||
                child_text(root, "NextUploadIdMarker", &p.next_upload_id_marker) == -ENOMEM)
                return -ENOMEM;
        if (p.truncated && isempty(p.next_key_marker) && isempty(p.next_upload_id_marker))
                return -EPROTO;
        *ret = p;
        p = (S3UploadsPage){};
        return 0;
}

int s3_copy_result_parse(const char *xml, size_t n, char **ret_etag) {
        _cleanup_(xmlFreeDocp) xmlDoc *doc = NULL;
        _cleanup_(freep) char *etag = NULL;
        xmlNode *root;
        int r;

        r = xml_parse(xml, n, &doc, &root);
        if (r < 0)
                return r;
        if (!is_element(root, "CopyObjectResult"))
                return -EPROTO;
        r = child_text(root, "ETag", &etag);
        if (r == -ENOMEM)
                return r;
        if (r < 0)
                return -EPROTO;
        *ret_etag = TAKE_PTR(etag);
        return 0;
}

int s3_complete_body(char *const *etags, size_t n, char **ret_body, size_t *ret_size) {
        _cleanup_(xmlFreeDocp) xmlDoc *doc = NULL;
        xmlChar *out = NULL;
        int size = 0;

        if (n == 0)
                return -EINVAL;
        doc = xmlNewDoc((const xmlChar *)"1.0");
        if (!doc)
                return -ENOMEM;
        xmlNode *root = xmlNewNode(NULL, (const xmlChar *)"CompleteMultipartUpload");
        if (!root)
                return -ENOMEM;
        xmlDocSetRootElement(doc, root);
        if (!xmlNewNs(root, (const xmlChar *)"http://s3.amazonaws.com/doc/2006-03-01/", NULL))
                return -ENOMEM;
        for (size_t i = 0; i < n; i++) {
                char number[24];
                if (!etags[i])
                        return -EINVAL;
                snprintf(number, sizeof(number), "%zu", i + 1);
                xmlNode *part = xmlNewChild(root, NULL, (const xmlChar *)"Part", NULL);
                /* xmlNewTextChild escapes the text; etags are quoted ("\"9b2cf5...\"") */
                if (!part ||
                        !xmlNewTextChild(
                                part, NULL, (const xmlChar *)"PartNumber", (const xmlChar *)number) ||
                        !xmlNewTextChild(part, NULL, (const xmlChar *)"ETag", (const xmlChar *)etags[i]))
                        return -ENOMEM;
        }
        xmlDocDumpMemoryEnc(doc, &out, &size, "UTF-8");
        if (!out)
                return -ENOMEM;
        char *body = strndup((const char *)out, (size_t)size);
        xmlFree(out);
        if (!body)
                return -ENOMEM;
        *ret_body = body;
        *ret_size = (size_t)size;
        return 0;
}
