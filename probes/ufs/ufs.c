/* SPDX-License-Identifier: MIT */
#include <ctype.h>
#include <inttypes.h>
#include <stdarg.h>
#include <strings.h>

#include "ufs.h"

static const UfsOps *const ufs_schemes[] = {
        &ufs_file_ops,
        &ufs_s3_ops,
};

int ufs_reason(char **ret_reason, int r, const char *fmt, ...) {
        if (ret_reason) {
                va_list ap;
                va_start(ap, fmt);
                if (vasprintf(ret_reason, fmt, ap) < 0)
                        *ret_reason = NULL;
                va_end(ap);
        }
        return r;
}

/* ---------------------------------------------------------------------------------- URIs */

/* "." and ".." components, empty components ("a//b") are refused; leading and trailing '/' are
 * the caller's to strip. */
static bool path_components_ok(const char *p) {
        for (const char *c = p; *c;) {
                size_t n = strcspn(c, "/");
                if (n == 0 || (n == 1 && c[0] == '.') || (n == 2 && c[0] == '.' && c[1] == '.'))
                        return false;
                c += n;
                if (*c == '/')
                        c++;
        }
        return true;
}

/* S3's bucket naming rules, the part a typo breaks: 3-63 of a-z 0-9 . - starting and ending with a
 * letter or digit. */
static bool bucket_name_ok(const char *b) {
        size_t n = strlen(b);
        if (n < 3 || n > 63)
                return false;
        for (size_t i = 0; i < n; i++)
                if (!(islower((unsigned char)b[i]) || isdigit((unsigned char)b[i]) || b[i] == '.' ||
                            b[i] == '-'))
                        return false;
        return isalnum((unsigned char)b[0]) && isalnum((unsigned char)b[n - 1]);
}

/* A copy of s[0..n) with leading and trailing '/' removed. */
static char *strip_slashes(const char *s, size_t n) {
        while (n > 0 && *s == '/')
                s++, n--;
        while (n > 0 && s[n - 1] == '/')
                n--;
        return strndup(s, n);
}

int ufs_uri_parse(const char *s, UfsUri **ret, char **ret_reason) {
        if (!s || !*s)
                return ufs_reason(ret_reason, -EINVAL, "empty UFS path");

        _cleanup_(ufs_uri_freep) UfsUri *u = calloc(1, sizeof(*u));
        if (!u)
                return -ENOMEM;

        const char *sep = strstr(s, "://");
        const char *rest;
        if (!sep) {
                if (s[0] != '/')
                        return ufs_reason(ret_reason, -EINVAL,
                                "%s: not a URI (s3://bucket/prefix, file:///path) nor an absolute path", s);
                u->scheme = strdup("file");
                rest = s;
        } else {
                u->scheme = strndup(s, sep - s);
                if (!u->scheme)
                        return -ENOMEM;
                for (char *c = u->scheme; *c; c++)
                        *c = tolower((unsigned char)*c);
                if (streq(u->scheme, "s3a") || streq(u->scheme, "s3n"))
                        strcpy(u->scheme, "s3");
                rest = sep + 3;
        }
        if (!u->scheme)
                return -ENOMEM;

        if (streq(u->scheme, "file")) {
                /* file:///path; "file://localhost/path" is the same place */
                if (strncmp(rest, "localhost/", 10) == 0)
                        rest += 9;
                if (rest[0] != '/')
                        return ufs_reason(ret_reason, -EINVAL,
                                "%s: a file URI needs an absolute path (file:///path)", s);
                _cleanup_(freep) char *p = strip_slashes(rest, strlen(rest));
                if (!p)
                        return -ENOMEM;
                if (!path_components_ok(p))
                        return ufs_reason(
                                ret_reason, -EINVAL, "%s: empty, \".\" or \"..\" path components", s);
                if (asprintf(&u->path, "/%s", p) < 0)
                        return -ENOMEM;
        } else if (streq(u->scheme, "s3")) {
                size_t bn = strcspn(rest, "/");
                if (bn == 0)
                        return ufs_reason(ret_reason, -EINVAL, "%s: no bucket (s3://bucket/prefix)", s);
                u->bucket = strndup(rest, bn);
                if (!u->bucket)
                        return -ENOMEM;
                if (!bucket_name_ok(u->bucket))
                        return ufs_reason(ret_reason, -EINVAL,
                                "%s: \"%s\" is not a valid bucket name (3-63 characters of a-z, 0-9, '.' "
                                "and '-')",
                                s, u->bucket);
                u->path = strip_slashes(rest + bn, strlen(rest + bn));
                if (!u->path)
                        return -ENOMEM;
                if (!path_components_ok(u->path))
                        return ufs_reason(
                                ret_reason, -EINVAL, "%s: empty, \".\" or \"..\" key components", s);
        } else
                return ufs_reason(
                        ret_reason, -EINVAL, "%s: unsupported scheme \"%s\" (s3, file)", s, u->scheme);

        *ret = TAKE_PTR(u);
        return 0;
}

UfsUri *ufs_uri_free(UfsUri *u) {
        if (!u)
                return NULL;
        free(u->scheme);
        free(u->bucket);
        free(u->path);
        return mfree(u);
}

char *ufs_uri_to_string(const UfsUri *u) {
        char *s = NULL;
        int r;
        if (u->bucket)
                r = asprintf(&s, "%s://%s%s%s", u->scheme, u->bucket, *u->path ? "/" : "", u->path);
        else
                r = asprintf(&s, "%s://%s", u->scheme, u->path);
        return r < 0 ? NULL : s;
}

int ufs_path_check(const char *path) {
        if (!path || path[0] == '/')
                return -EINVAL;
        size_t n = strlen(path);
        while (n > 0 && path[n - 1] == '/')
                n--;
        _cleanup_(freep) char *p = strndup(path, n);
        if (!p)
                return -ENOMEM;
        return path_components_ok(p) ? 0 : -EINVAL;
}

char *ufs_path_join(const char *base, const char *path) {
        size_t bn = strlen(base), pn = strlen(path);
        while (bn > 0 && base[bn - 1] == '/')
                bn--;
        while (pn > 0 && path[pn - 1] == '/')
                pn--;
        char *s = NULL;
        int r;
        if (bn == 0)
                r = asprintf(&s, "%.*s", (int)pn, path);
        else if (pn == 0)
                r = asprintf(&s, "%.*s", (int)bn, base);
        else
                r = asprintf(&s, "%.*s/%.*s", (int)bn, base, (int)pn, path);
        return r < 0 ? NULL : s;
}

/* ---------------------------------------------------------------------------------- errors */

int ufs_fail(Ufs *u, int r, const char *code, const char *fmt, ...) {
        va_list ap;
        /* %m in fmt must see r, not whatever errno happens to be */
        errno = r < 0 ? -r : r;
        va_start(ap, fmt);
        vsnprintf(u->error, sizeof(u->error), fmt, ap);
        va_end(ap);
        if (!code)
                code = strerrorname_np(r < 0 ? -r : r);
        snprintf(u->error_code, sizeof(u->error_code), "%s", code ?: "EIO");
        return r;
}

void ufs_clear_error(Ufs *u) {
        u->error[0] = 0;
        u->error_code[0] = 0;
}

const char *ufs_error(const Ufs *u) {
        return u->error;
}

const char *ufs_error_code(const Ufs *u) {
        return u->error_code;
}

/* ---------------------------------------------------------------------------------- expected codes */

static bool code_in_list(const char *list, size_t len, const char *code) {
        size_t cl = strlen(code);
        for (size_t i = 0; i < len;) {
                size_t n = strcspn(list + i, ",");
                n = MIN(n, len - i);
                if (n == cl && strncmp(list + i, code, n) == 0)
                        return true;
                i += n + 1;
        }
        return false;
}

/* Checks that a code list ("404,403", or nothing) has no empty items. */
static bool code_list_valid(const char *list, size_t len) {
        if (len == 0)
                return true;
        if (list[0] == ',' || list[len - 1] == ',')
                return false;
        for (size_t i = 0; i + 1 < len; i++)
                if (list[i] == ',' && list[i + 1] == ',')
                        return false;
        for (size_t i = 0; i < len; i++)
                if (!isgraph((unsigned char)list[i]) || list[i] == ':')
                        return false;
        return true;
}

int ufs_error_expected(const char *spec, const char *ufs, const char *code) {
        const char *sep = strstr(strempty(ufs), "://");
        size_t scheme_len = sep ? (size_t)(sep - ufs) : strlen(strempty(ufs));
        int found = -1, fallback = -1;

        spec = spec ?: UFS_DEFAULT_EXPECTED_ERRORS;
        code = strempty(code);
        for (const char *p = spec; *p;) {
                size_t n = strcspn(p, " \t");
                if (n == 0) {
                        p++;
                        continue;
                }
                const char *colon = memchr(p, ':', n);
                if (!colon || colon == p)
                        return -EINVAL;
                size_t name_len = colon - p;
                const char *codes = colon + 1;
                size_t codes_len = n - name_len - 1;
                if (!code_list_valid(codes, codes_len))
                        return -EINVAL;
                bool in = code_in_list(codes, codes_len, code);
                if (name_len == 1 && *p == '*')
                        fallback = in;
                else if (name_len == scheme_len && scheme_len > 0 && strncasecmp(p, ufs, scheme_len) == 0)
                        found = in;
                p += n;
        }
        return found >= 0 ? found : fallback > 0;
}

/* ---------------------------------------------------------------------------------- lists */

void ufs_list_done(UfsList *l) {
        for (size_t i = 0; i < l->n; i++)
                free(l->entries[i].name);
        l->entries = mfree(l->entries);
        l->n = 0;
}

int ufs_list_add(UfsList *l, const char *name, bool is_dir, uint64_t size, usec_t mtime) {
        /* grow by doubling: a large directory is thousands of entries */
        if ((l->n & (l->n - 1)) == 0 || l->n < 16) {
                size_t cap = l->n < 16 ? 16 : l->n * 2;
                UfsEntry *e = reallocarray(l->entries, cap, sizeof(UfsEntry));
                if (!e)
                        return -ENOMEM;
                l->entries = e;
        }
        char *copy = strdup(name);
        if (!copy)
                return -ENOMEM;
        l->entries[l->n++] = (UfsEntry){
                .name = copy,
                .is_dir = is_dir,
                .size = is_dir ? 0 : size,
                .mtime = mtime,
        };
        return 0;
}

static int entry_compare(const void *a, const void *b) {
        const UfsEntry *x = a, *y = b;
        int c = strcmp(x->name, y->name);
        if (c != 0)
                return c;
        /* directories first, so the dedup below keeps them */
        return (int)y->is_dir - (int)x->is_dir;
}

void ufs_list_sort(UfsList *l) {
        if (l->n == 0)
                return;
        qsort(l->entries, l->n, sizeof(UfsEntry), entry_compare);
        size_t w = 1;
        for (size_t i = 1; i < l->n; i++) {
                if (streq(l->entries[i].name, l->entries[w - 1].name)) {
                        free(l->entries[i].name);
                        continue;
                }
                l->entries[w++] = l->entries[i];
        }
        l->n = w;
}

/* ---------------------------------------------------------------------------------- open */

UfsAddressing ufs_addressing_from_string(const char *s) {
        static const char *const names[_UFS_ADDRESSING_MAX] = {
                [UFS_ADDRESSING_AUTO] = "auto",
                [UFS_ADDRESSING_PATH] = "path",
                [UFS_ADDRESSING_VIRTUAL] = "virtual",
        };
        if (!s)
                return UFS_ADDRESSING_AUTO;
        for (size_t i = 0; i < ELEMENTSOF(names); i++)
                if (streq(s, names[i]))
                        return (UfsAddressing)i;
        return _UFS_ADDRESSING_INVALID;
}

int ufs_open(const UfsUri *uri, const UfsOptions *o, Ufs **ret, char **ret_reason) {
        static const UfsOptions defaults = {};
        const UfsOps *ops = NULL;

        for (size_t i = 0; i < ELEMENTSOF(ufs_schemes); i++)
                if (streq(ufs_schemes[i]->scheme, uri->scheme))
                        ops = ufs_schemes[i];
        if (!ops)
                return ufs_reason(ret_reason, -EINVAL, "unsupported scheme \"%s\" (s3, file)", uri->scheme);
        if (o && o->part_size != 0 && o->part_size < UFS_MIN_PART_SIZE)
                return ufs_reason(ret_reason, -EINVAL,
                        "part size %" PRIu64 " is below S3's minimum of 5 MiB", o->part_size);

        _cleanup_(freep) Ufs *u = calloc(1, sizeof(*u));
        if (!u)
                return -ENOMEM;
        u->ops = ops;
        u->cancel = o ? o->cancel : NULL;
        int r = ops->open(u, uri, o ?: &defaults, ret_reason);
        if (r < 0)
                return r;
        *ret = TAKE_PTR(u);
        return 0;
}

Ufs *ufs_close(Ufs *u) {
        if (!u)
                return NULL;
        u->ops->close(u);
        return mfree(u);
}

void ufs_set_cancel(Ufs *u, const volatile sig_atomic_t *cancel) {
        u->cancel = cancel;
}

bool ufs_cancelled(const Ufs *u) {
        return u->cancel && *u->cancel;
}

const char *ufs_scheme(const Ufs *u) {
        return u->ops->scheme;
}

bool ufs_has_directories(const Ufs *u) {
        return u->ops->has_directories;
}

bool ufs_has_multipart(const Ufs *u) {
        return u->ops->has_multipart;
}

/* ---------------------------------------------------------------------------------- operations */

/* Every operation: clear the last failure, refuse a path outside the root. */
#define UFS_BEGIN(u, path)                                                                                  \
        do {                                                                                                \
                ufs_clear_error(u);                                                                         \
                if (ufs_path_check(path) < 0)                                                               \
                        return ufs_fail(u, -EINVAL, NULL, "invalid path \"%s\"", path);                     \
        } while (0)

int ufs_stat(Ufs *u, const char *path, UfsStat *ret) {
        UFS_BEGIN(u, path);
        return u->ops->stat(u, path, ret);
}

int ufs_peek(Ufs *u, UfsStat *ret) {
        ufs_clear_error(u);
        return u->ops->peek ? u->ops->peek(u, ret) : u->ops->stat(u, "", ret);
}

int ufs_create(Ufs *u, const char *path, uint64_t size, bool make_parents, UfsReadFn fill, void *userdata) {
        UFS_BEGIN(u, path);
        if (!*path)
                return ufs_fail(u, -EISDIR, NULL, "cannot create the root as a file");
        return u->ops->create(u, path, size, make_parents, fill, userdata);
}

typedef struct BufferSource {
        const uint8_t *data;
        size_t left;
} BufferSource;

static ssize_t buffer_fill(void *userdata, void *buf, size_t n) {
        BufferSource *s = userdata;
        n = MIN(n, s->left);
        memcpy(buf, s->data, n);
        s->data += n;
        s->left -= n;
        return (ssize_t)n;
}

int ufs_create_buffer(Ufs *u, const char *path, const void *data, size_t n, bool make_parents) {
        BufferSource s = {.data = data, .left = n};
        return ufs_create(u, path, n, make_parents, buffer_fill, &s);
}

int ufs_read(Ufs *u, const char *path, uint64_t offset, uint64_t length, UfsWriteFn sink, void *userdata) {
        UFS_BEGIN(u, path);
        if (length == 0)
                return 0;
        return u->ops->read(u, path, offset, length, sink, userdata);
}

typedef struct BufferSink {
        char *data;
        size_t size, max;
} BufferSink;

static int buffer_sink(void *userdata, const void *buf, size_t n) {
        BufferSink *s = userdata;
        if (n > s->max - s->size)
                return -EFBIG;
        char *d = realloc(s->data, s->size + n + 1);
        if (!d)
                return -ENOMEM;
        memcpy(d + s->size, buf, n);
        s->data = d;
        s->size += n;
        return 0;
}

int ufs_read_buffer(Ufs *u, const char *path, uint64_t offset, uint64_t length, size_t max, char **ret_data,
        size_t *ret_size) {
        _cleanup_(freep) char *owned = NULL;
        BufferSink s = {.max = max};
        int r = ufs_read(u, path, offset, length, buffer_sink, &s);
        owned = s.data;
        if (r == -EFBIG && !*u->error)
                ufs_fail(u, r, NULL, "%s: more than %zu bytes", path, max);
        if (r < 0)
                return r;
        if (!owned) {
                owned = malloc(1);
                if (!owned)
                        return -ENOMEM;
        }
        owned[s.size] = 0;
        *ret_data = TAKE_PTR(owned);
        *ret_size = s.size;
        return 0;
}

int ufs_delete(Ufs *u, const char *path) {
        UFS_BEGIN(u, path);
        if (!*path)
                return ufs_fail(u, -EISDIR, NULL, "the root is a directory");
        return u->ops->delete_file(u, path);
}

int ufs_delete_dir(Ufs *u, const char *path, bool recursive) {
        UFS_BEGIN(u, path);
        return u->ops->delete_dir(u, path, recursive);
}

int ufs_mkdirs(Ufs *u, const char *path, bool parents) {
        UFS_BEGIN(u, path);
        return u->ops->mkdirs(u, path, parents);
}

int ufs_list(Ufs *u, const char *path, bool recursive, UfsList *ret) {
        UFS_BEGIN(u, path);
        UfsList l = {};
        int r = u->ops->list(u, path, recursive, &l);
        if (r < 0) {
                ufs_list_done(&l);
                return r;
        }
        ufs_list_sort(&l);
        *ret = l;
        return 0;
}

int ufs_rename(Ufs *u, const char *from, const char *to) {
        UFS_BEGIN(u, from);
        if (ufs_path_check(to) < 0)
                return ufs_fail(u, -EINVAL, NULL, "invalid path \"%s\"", to);
        if (!*from || !*to)
                return ufs_fail(u, -EINVAL, NULL, "cannot rename the root");
        return u->ops->rename(u, from, to);
}

/* The multipart operations exist only where the scheme has them. */
#define UFS_MULTIPART(u, path, member, ...)                                                                 \
        ({                                                                                                  \
                UFS_BEGIN(u, path);                                                                         \
                u->ops->member                                                                              \
                        ? u->ops->member(u, path, __VA_ARGS__)                                              \
                        : ufs_fail(u, -EOPNOTSUPP, NULL, "%s:// has no multipart uploads", u->ops->scheme); \
        })

int ufs_multipart_create(Ufs *u, const char *path, char **ret_upload_id) {
        return UFS_MULTIPART(u, path, multipart_create, ret_upload_id);
}

int ufs_multipart_upload_part(Ufs *u, const char *path, const char *upload_id, unsigned part,
        const void *data, size_t n, char **ret_etag) {
        if (part < 1 || part > 10000)
                return ufs_fail(u, -EINVAL, NULL, "part number %u outside 1..10000", part);
        return UFS_MULTIPART(u, path, multipart_upload_part, upload_id, part, data, n, ret_etag);
}

int ufs_multipart_complete(
        Ufs *u, const char *path, const char *upload_id, char *const *etags, size_t n_parts) {
        return UFS_MULTIPART(u, path, multipart_complete, upload_id, etags, n_parts);
}

int ufs_multipart_abort(Ufs *u, const char *path, const char *upload_id) {
        return UFS_MULTIPART(u, path, multipart_abort, upload_id);
}

int ufs_multipart_count(Ufs *u, const char *path, size_t *ret_n) {
        return UFS_MULTIPART(u, path, multipart_count, ret_n);
}
