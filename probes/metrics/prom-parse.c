/* SPDX-License-Identifier: MIT */
/*
 * The Prometheus text format parser. Lines are cut with memchr() where the caller's buffer holds
 * them whole and copied only when a line spans two feeds; a line is scanned once, left to right,
 * with a character class table, names and unescaped label values written NUL-terminated into a
 * scratch buffer that is reused from line to line (never more than twice the longest line), so a
 * sample costs no allocation. Values take an exact fast path for plain decimals (Clinger: an
 * integer mantissa of at most 2^53 times or over a power of ten of at most 10^22 is one correctly
 * rounded operation); the rest goes to strtod_l() in the C locale, after our own syntax check so
 * that it sees only what Go's strconv.ParseFloat (Prometheus's parser) accepts.
 */
#include <inttypes.h>
#include <locale.h>
#include <math.h>
#include <stdarg.h>

#include "prom-parse.h"

#define PROM_MAX_LINE_DEFAULT (64u * 1024u)

/* Character classes of the grammar. */
enum {
        C_BLANK = 1 << 0, /* ' ', '\t' */
        C_NAME_START = 1 << 1, /* [a-zA-Z_:] */
        C_NAME = 1 << 2, /* [a-zA-Z0-9_:] */
        C_LNAME_START = 1 << 3, /* [a-zA-Z_] */
        C_LNAME = 1 << 4, /* [a-zA-Z0-9_] */
        C_VSPECIAL = 1 << 5, /* what ends a plain run in a label value: '"', '\\', NUL, >= 0x80 */
        C_DIGIT = 1 << 6,
};

#define C_LETTER (C_NAME_START | C_NAME | C_LNAME_START | C_LNAME)

static const uint8_t char_class[256] = {
        [' '] = C_BLANK,
        ['\t'] = C_BLANK,
        ['a' ... 'z'] = C_LETTER,
        ['A' ... 'Z'] = C_LETTER,
        ['_'] = C_LETTER,
        [':'] = C_NAME_START | C_NAME,
        ['0' ... '9'] = C_NAME | C_LNAME | C_DIGIT,
        ['"'] = C_VSPECIAL,
        ['\\'] = C_VSPECIAL,
        [0] = C_VSPECIAL,
        [0x80 ... 0xff] = C_VSPECIAL,
};

static inline bool is_class(char c, uint8_t cls) {
        return char_class[(uint8_t)c] & cls;
}

struct PromParser {
        size_t max_line;
        prom_sample_fn fn;
        void *userdata;

        /* The start of a line that the last feed did not complete; at most max_line bytes. */
        char *line;
        size_t line_len, line_cap;

        /* Names, label values and number copies of the current line, NUL-terminated. */
        char *scratch;
        size_t scratch_cap;
        PromLabel *labels;
        size_t labels_cap;
        /* Beside each label, its name's length and first bytes: duplicates are found without strcmp. */
        uint32_t *label_keys;
        size_t label_keys_cap;

        /* The family of the last HELP or TYPE line, until a sample of another name. */
        char *family;
        size_t family_len, family_cap;
        bool has_family;
        PromType family_type;

        uint64_t line_no; /* lines started so far */
        uint64_t n_samples;
        int error; /* sticky */
        /* The label names of the last sample, by position, when up to 8 bytes: the samples of a
         * family mostly repeat them, and one compare of a word then stands in for a scan. */
        uint64_t lname_word[16];
        uint8_t lname_len[16]; /* 0: none */
        bool eof_seen; /* "# EOF": only blank lines may follow */
        bool finished;
        locale_t c_locale; /* for strtod_l(), made on first use */
        char message[256];
};

static int grow_slow(void **buf, size_t *cap, size_t need, size_t elem) {
        size_t n = MAX(need, *cap * 2);
        n = MAX(n, (size_t)64);
        void *b = reallocarray(*buf, n, elem);
        if (!b)
                return -ENOMEM;
        *buf = b;
        *cap = n;
        return 0;
}

/* Makes room for need elements of elem bytes in *buf; buffers only grow, so mostly there is. */
static inline int grow(void **buf, size_t *cap, size_t need, size_t elem) {
        if (_likely_(need <= *cap))
                return 0;
        return grow_slow(buf, cap, need, elem);
}

int prom_parser_new(size_t max_line, prom_sample_fn fn, void *userdata, PromParser **ret) {
        if (!ret)
                return -EINVAL;
        if (max_line == 0)
                max_line = PROM_MAX_LINE_DEFAULT;
        /* The scratch buffer holds twice a line: keep its size computable. */
        if (max_line > SIZE_MAX / 4)
                return -EINVAL;

        PromParser *p = calloc(1, sizeof(PromParser));
        if (!p)
                return -ENOMEM;
        p->max_line = max_line;
        p->fn = fn;
        p->userdata = userdata;
        *ret = p;
        return 0;
}

PromParser *prom_parser_free(PromParser *p) {
        if (!p)
                return NULL;
        free(p->line);
        free(p->scratch);
        free(p->labels);
        free(p->label_keys);
        free(p->family);
        if (p->c_locale)
                freelocale(p->c_locale);
        return mfree(p);
}

const char *prom_parser_error(const PromParser *p) {
        return p && p->error != 0 && p->message[0] ? p->message : NULL;
}

uint64_t prom_parser_samples(const PromParser *p) {
        return p ? p->n_samples : 0;
}

/* Records the error of the current line: the message, and the code every later call returns. */
_printf_(3, 4) static int fail(PromParser *p, int r, const char *fmt, ...) {
        int k = snprintf(p->message, sizeof(p->message), "line %" PRIu64 ": ", p->line_no);
        va_list ap;
        va_start(ap, fmt);
        (void)vsnprintf(p->message + k, sizeof(p->message) - (size_t)k, fmt, ap);
        va_end(ap);
        p->error = r;
        return r;
}

/* A token of the input for an error message: at most 48 bytes, anything unprintable as \xNN. */
static const char *quote(char *buf, size_t size, const char *s, size_t n) {
        size_t k = 0;
        for (size_t i = 0; i < n && k + 8 < size; i++) {
                uint8_t c = (uint8_t)s[i];
                if (i >= 48) {
                        k += (size_t)snprintf(buf + k, size - k, "...");
                        break;
                }
                if (c >= 0x20 && c < 0x7f && c != '\\')
                        buf[k++] = (char)c;
                else
                        k += (size_t)snprintf(buf + k, size - k, "\\x%02x", c);
        }
        buf[k] = 0;
        return buf;
}

#define QUOTE(s, n) quote((char[208]){}, 208, (s), (n))
/* The character at s[i] for a message, or "end of line". */
#define CHAR_AT(s, i, n) ((i) < (n) ? QUOTE((s) + (i), 1) : "end of line")

static size_t skip_blanks(const char *s, size_t i, size_t n) {
        while (i < n && is_class(s[i], C_BLANK))
                i++;
        return i;
}

static size_t token_end(const char *s, size_t i, size_t n) {
        while (i < n && !is_class(s[i], C_BLANK))
                i++;
        return i;
}

/* The end of the characters of class cls from s[i] on; four at a time while there is room. */
static inline size_t scan_class(const char *s, size_t i, size_t n, uint8_t cls) {
        const uint8_t *u = (const uint8_t *)s;
        while (i + 4 <= n &&
                (char_class[u[i]] & char_class[u[i + 1]] & char_class[u[i + 2]] & char_class[u[i + 3]] &
                        cls))
                i += 4;
        while (i < n && is_class(s[i], cls))
                i++;
        return i;
}

static size_t scan_name_rest(const char *s, size_t i, size_t n) {
        return scan_class(s, i, n, C_NAME);
}

#define ONES UINT64_C(0x0101010101010101)
#define HIGHS UINT64_C(0x8080808080808080)

/*
 * Room to copy fast. The scratch buffer holds twice the line (parse_line()), and what a line's strings
 * take never runs ahead of what was read of it plus one NUL: where w is at most from + 1 bytes into
 * the scratch buffer and from + 16 <= n, 16 bytes may be read at s + from and written at w. A copy
 * may write past its end: the NUL and the next string write over that.
 */

/* Copies s[from, to) to w; returns the end of the copy. */
static inline char *copy_short(char *w, const char *s, size_t from, size_t to, size_t n) {
        if (to - from <= 16 && from + 16 <= n)
                memcpy(w, s + from, 16);
        else
                memcpy(w, s + from, to - from);
        return w + (to - from);
}

/* Copies a plain run of a label value from s[i] to *w, up to the first '"', '\\', NUL or byte >=
 * 0x80, or n; returns where it stopped, *w moved on. Eight bytes at a time: where every byte of v is
 * below 0x80, (v - ONES) & HIGHS flags its zero bytes (and maybe bytes after one, never before), so
 * the lowest flag is the first special byte. */
static inline size_t copy_value_run(const char *s, size_t i, size_t n, char **w) {
        char *o = *w;
        while (i + 8 <= n) {
                uint64_t x, q, b, m;
                memcpy(&x, s + i, 8);
                memcpy(o, &x, 8);
                q = x ^ (ONES * '"');
                b = x ^ (ONES * '\\');
                m = ((x - ONES) | (q - ONES) | (b - ONES) | x) & HIGHS;
                if (m != 0) {
#if __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__
                        size_t k = (size_t)__builtin_ctzll(m) / 8;
                        *w = o + k;
                        return i + k;
#else
                        break;
#endif
                }
                i += 8;
                o += 8;
        }
        while (i < n && !is_class(s[i], C_VSPECIAL))
                *o++ = s[i++];
        *w = o;
        return i;
}

/* A metric name at s[i]: its end, or i when there is none. */
static size_t scan_metric_name(const char *s, size_t i, size_t n) {
        if (i >= n || !is_class(s[i], C_NAME_START))
                return i;
        return scan_name_rest(s, i + 1, n);
}

/* Go's utf8.ValidString: no overlong forms, no surrogates, nothing above U+10FFFF. */
static bool utf8_valid(const uint8_t *s, size_t n) {
        for (size_t i = 0; i < n;) {
                uint8_t c = s[i];
                if (c < 0x80) {
                        i++;
                        continue;
                }
                size_t len;
                uint8_t lo = 0x80, hi = 0xbf;
                if (c >= 0xc2 && c <= 0xdf)
                        len = 2;
                else if (c >= 0xe0 && c <= 0xef) {
                        len = 3;
                        if (c == 0xe0)
                                lo = 0xa0;
                        else if (c == 0xed)
                                hi = 0x9f;
                } else if (c >= 0xf0 && c <= 0xf4) {
                        len = 4;
                        if (c == 0xf0)
                                lo = 0x90;
                        else if (c == 0xf4)
                                hi = 0x8f;
                } else
                        return false;
                if (n - i < len || s[i + 1] < lo || s[i + 1] > hi)
                        return false;
                for (size_t k = 2; k < len; k++)
                        if (s[i + k] < 0x80 || s[i + k] > 0xbf)
                                return false;
                i += len;
        }
        return true;
}

static bool prefix_ci(const char *s, size_t n, const char *word) {
        size_t l = strlen(word);
        if (n != l)
                return false;
        for (size_t i = 0; i < l; i++)
                if ((s[i] | 0x20) != word[i])
                        return false;
        return true;
}

static const double pow10_exact[] = {
        1e0,
        1e1,
        1e2,
        1e3,
        1e4,
        1e5,
        1e6,
        1e7,
        1e8,
        1e9,
        1e10,
        1e11,
        1e12,
        1e13,
        1e14,
        1e15,
        1e16,
        1e17,
        1e18,
        1e19,
        1e20,
        1e21,
        1e22,
};

/*
 * A sample value as Prometheus reads it (strconv.ParseFloat, without hex floats and underscores):
 * [+-]? (digits [. digits?] | . digits) ([eE] [+-]? digits)?, or [+-]? inf or infinity, or nan, in
 * any case. A finite number too large for a double is an error there as here. -EINVAL when the
 * token is not a number, -ERANGE when it overflows, -ENOMEM when the C locale cannot be made.
 */
static int parse_value(PromParser *p, const char *s, size_t n, char *tmp, double *ret) {
        size_t i = 0;
        bool neg = false;

        if (n == 0)
                return -EINVAL;
        if (s[0] == '+' || s[0] == '-') {
                neg = s[0] == '-';
                i++;
        }
        if (i < n && !is_class(s[i], C_DIGIT) && s[i] != '.') {
                if (prefix_ci(s + i, n - i, "inf") || prefix_ci(s + i, n - i, "infinity")) {
                        *ret = neg ? -INFINITY : INFINITY;
                        return 0;
                }
                if (i == 0 && prefix_ci(s, n, "nan")) {
                        *ret = NAN;
                        return 0;
                }
                return -EINVAL;
        }

        /* Up to 19 significant digits fit a uint64_t exactly; with more the syntax is still checked
         * here and strtod converts. */
        uint64_t mant = 0;
        size_t n_digits = 0, n_int = 0, n_frac = 0;
        int64_t exp10 = 0;
        for (; i < n && is_class(s[i], C_DIGIT); i++, n_int++)
                if (mant != 0 || s[i] != '0') {
                        if (n_digits++ < 19)
                                mant = mant * 10 + (uint64_t)(s[i] - '0');
                }
        if (i < n && s[i] == '.')
                for (i++; i < n && is_class(s[i], C_DIGIT); i++, n_frac++, exp10--)
                        if (mant != 0 || s[i] != '0') {
                                if (n_digits++ < 19)
                                        mant = mant * 10 + (uint64_t)(s[i] - '0');
                        }
        if (n_int + n_frac == 0)
                return -EINVAL;
        if (i < n && (s[i] == 'e' || s[i] == 'E')) {
                bool eneg = false;
                int e = 0;
                size_t start;

                i++;
                if (i < n && (s[i] == '+' || s[i] == '-')) {
                        eneg = s[i] == '-';
                        i++;
                }
                start = i;
                for (; i < n && is_class(s[i], C_DIGIT); i++)
                        if (e < 100000)
                                e = e * 10 + (s[i] - '0');
                if (i == start)
                        return -EINVAL;
                exp10 += eneg ? -e : e;
        }
        if (i != n)
                return -EINVAL;

        if (mant == 0) {
                *ret = neg ? -0.0 : 0.0;
                return 0;
        }
        if (n_digits <= 19 && mant <= (UINT64_C(1) << 53) && exp10 >= -22 && exp10 <= 22) {
                double d = (double)mant;
                d = exp10 < 0 ? d / pow10_exact[-exp10] : d * pow10_exact[exp10];
                *ret = neg ? -d : d;
                return 0;
        }

        if (!p->c_locale) {
                p->c_locale = newlocale(LC_ALL_MASK, "C", (locale_t)0);
                if (!p->c_locale)
                        return -ENOMEM;
        }
        memcpy(tmp, s, n);
        tmp[n] = 0;
        double d = strtod_l(tmp, NULL, p->c_locale);
        if (isinf(d))
                return -ERANGE;
        *ret = d;
        return 0;
}

/* [+-]? digits, an int64_t. */
static int parse_timestamp(const char *s, size_t n, int64_t *ret) {
        size_t i = 0;
        bool neg = false;
        uint64_t v = 0, limit;

        if (n > 0 && (s[0] == '+' || s[0] == '-')) {
                neg = s[0] == '-';
                i++;
        }
        if (i == n)
                return -EINVAL;
        limit = neg ? (uint64_t)INT64_MAX + 1 : (uint64_t)INT64_MAX;
        for (; i < n; i++) {
                if (!is_class(s[i], C_DIGIT))
                        return -EINVAL;
                unsigned d = (unsigned)(s[i] - '0');
                if (v > (limit - d) / 10)
                        return -ERANGE;
                v = v * 10 + d;
        }
        *ret = neg ? (int64_t)(0 - v) : (int64_t)v;
        return 0;
}

static int set_family(PromParser *p, const char *name, size_t len, PromType type) {
        int r = grow((void **)&p->family, &p->family_cap, len + 1, 1);
        if (r < 0)
                return r;
        memcpy(p->family, name, len);
        p->family[len] = 0;
        p->family_len = len;
        p->family_type = type;
        p->has_family = true;
        return 0;
}

/* Whether s[i] starts with the current family's name. Names mostly do (the family's TYPE after
 * its HELP, its samples after the TYPE): a memcmp then stands in for most of the scan. */
static inline bool family_prefix(const PromParser *p, const char *s, size_t i, size_t n) {
        return p->has_family && n - i >= p->family_len && memcmp(s + i, p->family, p->family_len) == 0;
}

/* A metric name at s[i]: its end (i when there is none), and whether it starts with the family. */
static inline size_t scan_name_with_family(
        const PromParser *p, const char *s, size_t i, size_t n, bool *ret_prefix) {
        *ret_prefix = family_prefix(p, s, i, n);
        if (*ret_prefix)
                return scan_name_rest(s, i + p->family_len, n);
        return scan_metric_name(s, i, n);
}

static int parse_type(const char *s, size_t n, PromType *ret) {
        static const struct {
                const char *word;
                PromType type;
        } types[] = {
                {"counter", PROM_COUNTER},
                {"gauge", PROM_GAUGE},
                {"histogram", PROM_HISTOGRAM},
                {"summary", PROM_SUMMARY},
                {"untyped", PROM_UNTYPED},
        };
        for (size_t k = 0; k < ELEMENTSOF(types); k++)
                if (strlen(types[k].word) == n && memcmp(types[k].word, s, n) == 0) {
                        *ret = types[k].type;
                        return 0;
                }
        return -EINVAL;
}

/* "# HELP", "# TYPE", "# EOF" or any other comment; s[i] is the '#'. */
static int parse_comment(PromParser *p, const char *s, size_t i, size_t n) {
        size_t word, word_end, name, name_end;
        bool help, prefix, same;
        int r;

        word = skip_blanks(s, i + 1, n);
        word_end = token_end(s, word, n);
        if (word_end - word == 3 && memcmp(s + word, "EOF", 3) == 0 && skip_blanks(s, word_end, n) == n) {
                p->eof_seen = true;
                return 0;
        }
        if (word_end - word != 4 || (memcmp(s + word, "HELP", 4) != 0 && memcmp(s + word, "TYPE", 4) != 0))
                return 0; /* a comment */
        help = s[word] == 'H';

        name = skip_blanks(s, word_end, n);
        name_end = scan_name_with_family(p, s, name, n, &prefix);
        if (name_end == name || (name_end < n && !is_class(s[name_end], C_BLANK)))
                return fail(p, -EBADMSG, "expected a metric name after %s, got '%s'", help ? "HELP" : "TYPE",
                        QUOTE(s + name, token_end(s, name, n) - name));

        same = prefix && name_end - name == p->family_len;
        if (help) {
                /* The text is not ours to keep; only the family it opens. */
                if (same)
                        return 0;
                r = set_family(p, s + name, name_end - name, PROM_UNTYPED);
        } else {
                size_t t = skip_blanks(s, name_end, n), t_end = token_end(s, t, n);
                PromType type;

                if (t == n)
                        return fail(p, -EBADMSG, "missing the type in TYPE line for '%s'",
                                QUOTE(s + name, name_end - name));
                if (parse_type(s + t, t_end - t, &type) < 0)
                        return fail(p, -EBADMSG, "unknown metric type '%s' for '%s'",
                                QUOTE(s + t, t_end - t), QUOTE(s + name, name_end - name));
                if (skip_blanks(s, t_end, n) != n)
                        return fail(p, -EBADMSG, "unexpected '%s' after the type of '%s'",
                                QUOTE(s + skip_blanks(s, t_end, n), n - skip_blanks(s, t_end, n)),
                                QUOTE(s + name, name_end - name));
                if (same) {
                        p->family_type = type;
                        return 0;
                }
                r = set_family(p, s + name, name_end - name, type);
        }
        if (r < 0)
                return fail(p, r, "out of memory");
        return 0;
}

/* Whether a sample name that starts with the family's belongs to it, given the suffixes its type
 * allows. */
static bool in_family(const PromParser *p, const char *name, size_t len) {
        const char *suffix = name + p->family_len;
        size_t sl = len - p->family_len;
        if (sl == 0)
                return true;

#define SUFFIX_IS(x) (sl == sizeof(x) - 1 && memcmp(suffix, x, sizeof(x) - 1) == 0)
        switch (p->family_type) {
        case PROM_COUNTER:
                return SUFFIX_IS("_total") || SUFFIX_IS("_created");
        case PROM_HISTOGRAM:
                return SUFFIX_IS("_bucket") || SUFFIX_IS("_sum") || SUFFIX_IS("_count") ||
                        SUFFIX_IS("_created");
        case PROM_SUMMARY:
                return SUFFIX_IS("_sum") || SUFFIX_IS("_count") || SUFFIX_IS("_created");
        default:
                return false;
        }
#undef SUFFIX_IS
}

/* Whether the k-th label name at s[i] is the k-th of the last sample, followed by '=' (then *ret_end is
 * its end). Compares the first 8 bytes as one little-endian word. */
static inline bool lname_cached(
        const PromParser *p, size_t k, const char *s, size_t i, size_t n, size_t *ret_end) {
#if __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__
        size_t len;
        uint64_t x;

        if (k >= ELEMENTSOF(p->lname_len) || (len = p->lname_len[k]) == 0 || i + 8 > n || i + len >= n ||
                s[i + len] != '=')
                return false;
        memcpy(&x, s + i, 8);
        if (len < 8)
                x &= (UINT64_C(1) << (8 * len)) - 1;
        if (x != p->lname_word[k])
                return false;
        *ret_end = i + len;
        return true;
#else
        return false;
#endif
}

/* Remembers s[from, to), a valid label name, as the k-th of this sample. */
static inline void lname_remember(PromParser *p, size_t k, const char *s, size_t from, size_t to) {
        if (k >= ELEMENTSOF(p->lname_len))
                return;
        if (to - from > 8) {
                p->lname_len[k] = 0;
                return;
        }
        p->lname_word[k] = 0;
        memcpy(&p->lname_word[k], s + from, to - from);
        p->lname_len[k] = (uint8_t)(to - from);
}

static int parse_sample(PromParser *p, const char *s, size_t i, size_t n) {
        char *w = p->scratch; /* room for the line's strings, then a copy of the value token */
        size_t n_labels = 0, name_start = i, name_end;
        PromSample sample = {
                .line = p->line_no,
        };
        bool prefix;
        int r;

        name_end = scan_name_with_family(p, s, i, n, &prefix);
        if (name_end == i)
                return fail(p, -EBADMSG, "expected a metric name, got '%s'", CHAR_AT(s, i, n));
        sample.name = w;
        w = copy_short(w, s, name_start, name_end, n);
        *w++ = 0;
        i = skip_blanks(s, name_end, n);

        if (i < n && s[i] == '{') {
                /* Each label's names, for a quick look whether one came twice. */
                uint64_t seen = 0;

                /* Blanks are allowed around every token of a label set; a page seldom has them, so
                 * each step first looks for what comes without. */
                for (i++;;) {
                        size_t ln, ln_end;
                        const char *lname, *value;
                        bool high = false;

                        if (_unlikely_(i >= n || !is_class(s[i], C_LNAME_START))) {
                                i = skip_blanks(s, i, n);
                                if (i < n && s[i] == '}') {
                                        i++;
                                        break;
                                }
                        }
                        ln = i;
                        if (!lname_cached(p, n_labels, s, i, n, &i)) {
                                if (i < n && is_class(s[i], C_LNAME_START))
                                        i = scan_class(s, i + 1, n, C_LNAME);
                                if (i == ln)
                                        return fail(p, -EBADMSG,
                                                "expected a label name or '}' in '%s', got '%s'",
                                                sample.name, CHAR_AT(s, i, n));
                                lname_remember(p, n_labels, s, ln, i);
                        }
                        ln_end = i;
                        lname = w;
                        w = copy_short(w, s, ln, ln_end, n);
                        *w++ = 0;

                        if (_unlikely_(i >= n || s[i] != '=')) {
                                i = skip_blanks(s, i, n);
                                if (i >= n || s[i] != '=')
                                        return fail(p, -EBADMSG,
                                                "expected '=' after label name '%s', got '%s'", lname,
                                                CHAR_AT(s, i, n));
                        }
                        i++;
                        if (_unlikely_(i >= n || s[i] != '"')) {
                                i = skip_blanks(s, i, n);
                                if (i >= n || s[i] != '"')
                                        return fail(p, -EBADMSG,
                                                "expected '\"' to open the value of label '%s', got '%s'",
                                                lname, CHAR_AT(s, i, n));
                        }
                        i++;

                        value = w;
                        for (;;) {
                                i = copy_value_run(s, i, n, &w);
                                if (i >= n)
                                        return fail(p, -EBADMSG, "unterminated value of label '%s'", lname);
                                char c = s[i];
                                if (c == '"') {
                                        i++;
                                        break;
                                }
                                if (c == '\\') {
                                        if (i + 1 >= n)
                                                return fail(p, -EBADMSG, "unterminated value of label '%s'",
                                                        lname);
                                        switch (s[i + 1]) {
                                        case '\\':
                                        case '"':
                                                *w++ = s[i + 1];
                                                break;
                                        case 'n':
                                                *w++ = '\n';
                                                break;
                                        default:
                                                return fail(p, -EBADMSG,
                                                        "bad escape '\\%s' in the value of label '%s'",
                                                        QUOTE(s + i + 1, 1), lname);
                                        }
                                        i += 2;
                                } else if (c == 0)
                                        return fail(
                                                p, -EBADMSG, "NUL byte in the value of label '%s'", lname);
                                else {
                                        high = true;
                                        *w++ = c;
                                        i++;
                                }
                        }
                        *w = 0;
                        if (high && !utf8_valid((const uint8_t *)value, (size_t)(w - value)))
                                return fail(p, -EBADMSG, "invalid UTF-8 in the value of label '%s'", lname);
                        w++;

                        /* Names are at most a line long and never empty: the key of a name is its
                         * length (up to 2^16) and its first two bytes (the second may be its NUL). */
                        uint32_t key = (uint32_t)MIN(ln_end - ln, (size_t)0xffff) << 16 |
                                (uint32_t)(uint8_t)lname[0] << 8 | (uint8_t)lname[1];
                        uint64_t bit = UINT64_C(1) << ((key * UINT32_C(0x9e3779b1)) >> 26);
                        if (seen & bit)
                                for (size_t k = 0; k < n_labels; k++)
                                        if (p->label_keys[k] == key && streq(p->labels[k].name, lname))
                                                return fail(p, -EBADMSG, "duplicate label '%s' in '%s'",
                                                        lname, sample.name);
                        seen |= bit;
                        /* A line of length n holds fewer than n / 4 labels: the arrays never move. */
                        p->label_keys[n_labels] = key;
                        p->labels[n_labels++] = (PromLabel){.name = lname, .value = value};

                        if (_unlikely_(i >= n || (s[i] != ',' && s[i] != '}')))
                                i = skip_blanks(s, i, n);
                        if (i < n && s[i] == ',') {
                                i++;
                                continue;
                        }
                        if (i < n && s[i] == '}') {
                                i++;
                                break;
                        }
                        return fail(p, -EBADMSG,
                                "expected ',' or '}' after the value of label '%s', got '%s'", lname,
                                CHAR_AT(s, i, n));
                }
                i = skip_blanks(s, i, n);
        } else if (i == name_end && i < n)
                return fail(p, -EBADMSG, "unexpected '%s' after metric name '%s'", CHAR_AT(s, i, n),
                        sample.name);

        if (i >= n)
                return fail(p, -EBADMSG, "missing value for '%s'", sample.name);
        size_t v = i, v_end = token_end(s, i, n);
        r = parse_value(p, s + v, v_end - v, w, &sample.value);
        if (r == -ENOMEM)
                return fail(p, r, "out of memory");
        if (r == -ERANGE)
                return fail(p, -EBADMSG, "value '%s' of '%s' is out of range", QUOTE(s + v, v_end - v),
                        sample.name);
        if (r < 0)
                return fail(p, -EBADMSG, "bad value '%s' for '%s'", QUOTE(s + v, v_end - v), sample.name);

        i = skip_blanks(s, v_end, n);
        if (i < n) {
                size_t t = i, t_end = token_end(s, i, n);
                if (parse_timestamp(s + t, t_end - t, &sample.timestamp_ms) < 0)
                        return fail(p, -EBADMSG, "bad timestamp '%s' for '%s'", QUOTE(s + t, t_end - t),
                                sample.name);
                sample.has_timestamp = true;
                i = skip_blanks(s, t_end, n);
                if (i < n)
                        return fail(p, -EBADMSG, "unexpected '%s' after the timestamp of '%s'",
                                QUOTE(s + i, n - i), sample.name);
        }

        size_t name_len = name_end - name_start;
        if (prefix && in_family(p, sample.name, name_len)) {
                sample.family = p->family;
                sample.type = p->family_type;
        } else {
                /* A sample of another name starts a family of its own, untyped. */
                p->has_family = false;
                sample.family = sample.name;
                sample.type = PROM_UNTYPED;
        }
        sample.labels = p->labels;
        sample.n_labels = n_labels;

        p->n_samples++;
        if (p->fn) {
                r = p->fn(&sample, p->userdata);
                if (r < 0)
                        return fail(p, r, "stopped by the sample callback: %s",
                                strerrorname_np(-r) ?: "unknown error");
        }
        return 0;
}

/* One complete line, without its '\n'. */
static int parse_line(PromParser *p, const char *s, size_t n) {
        size_t i;
        int r;

        p->line_no++;
        if (n > p->max_line)
                return fail(p, -E2BIG, "line longer than %zu bytes", p->max_line);
        if (n > 0 && s[n - 1] == '\r')
                n--;
        i = skip_blanks(s, 0, n);
        if (i == n)
                return 0;
        if (p->eof_seen)
                return fail(p, -EBADMSG, "'%s' after '# EOF'", QUOTE(s + i, n - i));
        if (s[i] == '#')
                return parse_comment(p, s, i, n);

        /* Strings take at most n + 1 bytes, a copy of the value at most n + 1 more; a label at least
         * 4 bytes of the line. Both buffers only grow, up to what the longest line needs. */
        r = grow((void **)&p->scratch, &p->scratch_cap, 2 * n + 4, 1);
        if (r >= 0)
                r = grow((void **)&p->labels, &p->labels_cap, n / 4 + 1, sizeof(PromLabel));
        if (r >= 0)
                r = grow((void **)&p->label_keys, &p->label_keys_cap, n / 4 + 1, sizeof(uint32_t));
        if (r < 0)
                return fail(p, r, "out of memory");
        return parse_sample(p, s, i, n);
}

static int too_long(PromParser *p) {
        /* The line that does not fit is the next one. */
        p->line_no++;
        return fail(p, -E2BIG, "line longer than %zu bytes", p->max_line);
}

int prom_parser_feed(PromParser *p, const char *buf, size_t len) {
        const char *s = buf, *end = buf + len, *nl;
        int r;

        if (!p || (!buf && len > 0))
                return -EINVAL;
        if (p->error != 0)
                return p->error;
        if (p->finished)
                return -EINVAL;
        if (len == 0)
                return 0;

        if (p->line_len > 0) {
                /* Complete the line the last feed started. */
                nl = memchr(s, '\n', len);
                size_t part = (nl ? nl : end) - s;
                if (part > p->max_line - p->line_len)
                        return too_long(p);
                r = grow((void **)&p->line, &p->line_cap, p->line_len + part, 1);
                if (r < 0)
                        return fail(p, r, "out of memory");
                memcpy(p->line + p->line_len, s, part);
                p->line_len += part;
                if (!nl)
                        return 0;
                r = parse_line(p, p->line, p->line_len);
                p->line_len = 0;
                if (r < 0)
                        return r;
                s = nl + 1;
        }

        while (s < end && (nl = memchr(s, '\n', (size_t)(end - s)))) {
                r = parse_line(p, s, (size_t)(nl - s));
                if (r < 0)
                        return r;
                s = nl + 1;
        }

        if (s < end) {
                size_t rest = (size_t)(end - s);
                if (rest > p->max_line)
                        return too_long(p);
                r = grow((void **)&p->line, &p->line_cap, rest, 1);
                if (r < 0)
                        return fail(p, r, "out of memory");
                memcpy(p->line, s, rest);
                p->line_len = rest;
        }
        return 0;
}

int prom_parser_finish(PromParser *p) {
        int r;

        if (!p)
                return -EINVAL;
        if (p->error != 0)
                return p->error;
        if (p->finished)
                return 0;
        if (p->line_len > 0) {
                r = parse_line(p, p->line, p->line_len);
                p->line_len = 0;
                if (r < 0)
                        return r;
        }
        p->finished = true;
        return 0;
}

int prom_parse_buffer(const char *buf, size_t len, prom_sample_fn fn, void *userdata, char **ret_error) {
        _cleanup_(prom_parser_freep) PromParser *p = NULL;
        int r;

        if (ret_error)
                *ret_error = NULL;
        /* The whole buffer is in memory already: no line is too long to parse. */
        r = prom_parser_new(MAX(len, (size_t)1), fn, userdata, &p);
        if (r < 0)
                return r;
        r = prom_parser_feed(p, buf, len);
        if (r >= 0)
                r = prom_parser_finish(p);
        if (r < 0 && ret_error && prom_parser_error(p)) {
                *ret_error = strdup(prom_parser_error(p));
                if (!*ret_error)
                        return -ENOMEM;
        }
        return r < 0 ? r : 0;
}
