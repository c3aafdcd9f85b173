/* SPDX-License-Identifier: MIT */
/*
 * The Prometheus text format parser. Lines are cut with memchr() where the caller's buffer holds
 * them whole and copied only when a line spans two feeds; a line is scanned once, left to right,
 * with a character class table (and SSE2 where there is), names and unescaped label values written
 * NUL-terminated into a scratch buffer that is reused from line to line (never more than twice the
 * longest line), so a sample costs no allocation. The runs of a label value are cut at the special
 * bytes of a bitmap made 64 bytes at a time; the metric name and the label names of the last sample
 * are remembered, and a sample that repeats them (most do) is compared rather than scanned. Values
 * take an exact fast path for plain decimals (Clinger: an integer mantissa of at most 2^53 times or
 * over a power of ten of at most 10^22 is one correctly rounded operation); the rest goes to
 * strtod_l() in the C locale, after our own syntax check so that it sees only what Go's
 * strconv.ParseFloat (Prometheus's parser) accepts.
 */
#include <inttypes.h>
#include <locale.h>
#include <math.h>
#include <stdarg.h>
#ifdef __SSE2__
#include <emmintrin.h>
#endif

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

/* What an escape in a label value stands for, by the byte after the '\\'; 0: not an escape. */
static const char unescape[256] = {
        ['\\'] = '\\',
        ['"'] = '"',
        ['n'] = '\n',
};

static inline bool is_class(char c, uint8_t cls) {
        return char_class[(uint8_t)c] & cls;
}

/* A metric name remembered, its first 32 bytes compared as four words, and whether it starts with
 * the family's name. */
typedef struct MetricName {
        char name[40]; /* NUL-padded */
        uint64_t mask[4]; /* the bytes of each word that are the name's */
        size_t len; /* 0: none */
        bool prefix;
} MetricName;

typedef struct LabelName {
        char name[16]; /* NUL-padded: its first 8 bytes are the word compared */
        uint64_t mask; /* the bytes of the word that are the name's */
        size_t len; /* 0: none */
} LabelName;

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
        size_t room; /* the longest sample line the three are made for */

        /* The family of the last HELP or TYPE line, until a sample of another name. */
        char *family;
        size_t family_len, family_cap;
        bool has_family;
        PromType family_type;

        uint64_t line_no; /* lines started so far */
        uint64_t n_samples;
        int error; /* sticky */
        /* The name of the last sample, up to 32 bytes: the samples of a family mostly come in runs
         * of one name (its buckets, a counter's series), and a compare of four words then stands in
         * for the compare with the family's name, the scan and the copy of the name. Forgotten when
         * the family changes. */
        MetricName last_name;
        /* The label names of the last sample with labels, by position, when up to 8 bytes: the
         * samples of a family mostly repeat them, and one compare of a word then stands in for the
         * scan and the copy of a name (the label points at the name here), and, while every name of a
         * sample is the last one's at its place, for the look whether a name came twice. */
        LabelName lnames[16];
        /* How many of lnames[] are the names of that sample, all checked to differ. */
        size_t n_lnames_distinct;
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

/* Whether s[*i] is c, blanks before it passed (*i moved on to it, or to where it was not found):
 * blanks are allowed around the tokens of a label set, and a page seldom has them. */
static inline bool at_after_blanks(const char *s, size_t *i, size_t n, char c) {
        if (_likely_(*i < n && s[*i] == c))
                return true;
        *i = skip_blanks(s, *i, n);
        return *i < n && s[*i] == c;
}

/* The end of the characters of a metric name ([a-zA-Z0-9_:]) from s[i] on. */
static inline size_t scan_name_rest(const char *s, size_t i, size_t n) {
#ifdef __SSE2__
        /* Sixteen at a time: a letter is a byte whose lower case is within 'a'..'z', a digit one within
         * '0'..'9'; such a range check is one signed compare once the range is moved to the bottom
         * (-128), where bytes >= 0x80 never land. */
        while (i + 16 <= n) {
                __m128i x = _mm_loadu_si128((const __m128i *)(s + i));
                __m128i lower = _mm_or_si128(x, _mm_set1_epi8(0x20));
                __m128i alpha = _mm_cmplt_epi8(
                        _mm_add_epi8(lower, _mm_set1_epi8((char)(0x80 - 'a'))), _mm_set1_epi8(-128 + 26));
                __m128i digit = _mm_cmplt_epi8(
                        _mm_add_epi8(x, _mm_set1_epi8((char)(0x80 - '0'))), _mm_set1_epi8(-128 + 10));
                __m128i other = _mm_or_si128(
                        _mm_cmpeq_epi8(x, _mm_set1_epi8('_')), _mm_cmpeq_epi8(x, _mm_set1_epi8(':')));
                unsigned m = ~(unsigned)_mm_movemask_epi8(_mm_or_si128(_mm_or_si128(alpha, digit), other)) &
                        0xffffu;
                if (m != 0)
                        return i + (size_t)__builtin_ctz(m);
                i += 16;
        }
#endif
        return scan_class(s, i, n, C_NAME);
}

#define ONES UINT64_C(0x0101010101010101)
#define HIGHS UINT64_C(0x8080808080808080)

/*
 * Room to copy fast. The scratch buffer holds twice the line (parse_line()), and what a line's strings
 * take never runs ahead of what was read of it plus one NUL: where w is at most from + 1 bytes into
 * the scratch buffer and from + k <= n, k bytes may be read at s + from and written at w (k of 16 or
 * 32 here, fixed sizes copied inline with no loop). A copy may write past its end: the NUL and the
 * next string write over that.
 */

/* Copies fewer than 16 bytes, reading and writing none past them: two copies of a power of two
 * that overlap, so a length costs no loop. */
static inline void copy_small(char *w, const char *s, size_t len) {
        if (len >= 8) {
                memcpy(w, s, 8);
                memcpy(w + len - 8, s + len - 8, 8);
        } else if (len >= 4) {
                memcpy(w, s, 4);
                memcpy(w + len - 4, s + len - 4, 4);
        } else if (len > 0) {
                w[0] = s[0];
                w[len / 2] = s[len / 2];
                w[len - 1] = s[len - 1];
        }
}

/* Copies s[from, to) to w, which may be long, or near the line's end. */
static char *copy_long(char *w, const char *s, size_t from, size_t to, size_t n) {
        size_t len = to - from, k = 0;

        if (from + 16 > n) {
                if (len < 16)
                        copy_small(w, s + from, len);
                else
                        memcpy(w, s + from, len);
                return w + len;
        }
        do {
                memcpy(w + k, s + from + k, 16);
                k += 16;
        } while (k < len && from + k + 16 <= n);
        /* The rest is in the last 16 bytes of the line: copy the 16 that end with it. */
        if (k < len)
                memcpy(w + len - 16, s + to - 16, 16);
        return w + len;
}

/* Copies s[from, to) to w; returns the end of the copy. Names and runs of values are mostly short:
 * a copy of 16 or 32 bytes, however many of them are the run's, and no loop. */
static inline char *copy_run(char *w, const char *s, size_t from, size_t to, size_t n) {
        size_t len = to - from;

        if (_likely_(from + 32 <= n)) {
                if (_likely_(len <= 32)) {
                        memcpy(w, s + from, 16);
                        memcpy(w + 16, s + from + 16, 16);
                        return w + len;
                }
        } else if (len < 16) {
                /* Near the end of the line (a last label's value, "le"). */
                copy_small(w, s + from, len);
                return w + len;
        }
        return copy_long(w, s, from, to, n);
}

/*
 * The bytes that end a plain run in a label value, '"', '\\', NUL and those >= 0x80, as a bitmap of
 * 64 bytes of the line from base. Were the end of a run found by loading the bytes where the run
 * starts, each run would wait for the load and compares that found the end of the one before, a
 * chain of some 15 cycles (five escapes in a sample then cost a fifth of its time); the loads of a
 * bitmap do not depend on where a run starts, and the next special byte is a count of trailing
 * zeros away.
 */
typedef struct Specials {
        size_t base;
        uint64_t mask; /* bit k: s[base + k] is special; none at or after the line's end */
} Specials;

/* The special bytes of s[at, at + 16) as bits. */
static inline unsigned specials16(const char *s) {
#ifdef __SSE2__
        /* SSE2 is in every x86-64: a compare per special byte (signed, NUL and those >= 0x80 are
         * the bytes below 1), gathered by one movemask. */
        __m128i x = _mm_loadu_si128((const __m128i *)s);
        __m128i m = _mm_or_si128(
                _mm_or_si128(_mm_cmpeq_epi8(x, _mm_set1_epi8('"')), _mm_cmpeq_epi8(x, _mm_set1_epi8('\\'))),
                _mm_cmplt_epi8(x, _mm_set1_epi8(1)));
        return (unsigned)_mm_movemask_epi8(m);
#else
        /* Eight bytes at a time: ~((y & 0x7f) + 0x7f | y) & 0x80 is set exactly where a byte y is
         * zero (no carry leaves a byte), then a multiply gathers the flags (bit 8j + 7) to bits. */
        unsigned r = 0;
        for (size_t h = 0; h < 2; h++) {
                uint64_t x, q, b, z;
                memcpy(&x, s + 8 * h, 8);
#if __BYTE_ORDER__ == __ORDER_BIG_ENDIAN__
                x = __builtin_bswap64(x);
#endif
                q = x ^ (ONES * '"');
                b = x ^ (ONES * '\\');
                z = ~((((x & ~HIGHS) + ~HIGHS) | x) & (((q & ~HIGHS) + ~HIGHS) | q) &
                            (((b & ~HIGHS) + ~HIGHS) | b)) |
                        x;
                z &= HIGHS;
                r |= (unsigned)(((z >> 7) * UINT64_C(0x0102040810204080)) >> 56) << (8 * h);
        }
        return r;
#endif
}

/* The bitmap of the special bytes of s[base, base + 64), base + 64 <= n. */
static inline uint64_t specials64(const char *s) {
        return (uint64_t)specials16(s) | (uint64_t)specials16(s + 16) << 16 |
                (uint64_t)specials16(s + 32) << 32 | (uint64_t)specials16(s + 48) << 48;
}

/* Sets sp to the 64 bytes of the line from i, i < n. Those past the line's end are the line's last
 * 64, the bits shifted down: nothing is read past the line and no bit set at or after its end. */
static inline void specials_at(Specials *sp, const char *s, size_t i, size_t n) {
        sp->base = i;
        if (_likely_(i + 64 <= n))
                sp->mask = specials64(s + i);
        else if (n >= 64)
                sp->mask = specials64(s + n - 64) >> (i - (n - 64));
        else if (n >= 16) {
                /* The same by blocks of 16 (k < 64, as the line is shorter). */
                sp->mask = 0;
                for (size_t k = 0; i + k < n; k += 16) {
                        size_t at = MIN(i + k, n - 16);
                        sp->mask |= (uint64_t)(specials16(s + at) >> (i + k - at)) << k;
                }
        } else {
                sp->mask = 0;
                for (size_t k = 0; i + k < n; k++)
                        if (is_class(s[i + k], C_VSPECIAL))
                                sp->mask |= UINT64_C(1) << k;
        }
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
 * any case. A finite number too large for a double is an error there as here. The token is s[0, n)
 * up to the first blank; parsed as it is scanned, so the end of a number is found once; *ret_end
 * is set to the token's end on success. -EINVAL when the token is not a number, -ERANGE when it
 * overflows, -ENOMEM when the C locale cannot be made.
 */
static int parse_value(PromParser *p, const char *s, size_t n, char *tmp, size_t *ret_end, double *ret) {
        size_t i = 0, int_start, n_int, n_frac = 0;
        uint64_t mant = 0;
        int64_t exp10 = 0;
        bool neg = false;
        unsigned d;

        if (n == 0)
                return -EINVAL;
        if (s[0] == '+' || s[0] == '-') {
                neg = s[0] == '-';
                i++;
        }
        if (i < n && !is_class(s[i], C_DIGIT) && s[i] != '.') {
                size_t end = token_end(s, i, n);
                if (prefix_ci(s + i, end - i, "inf") || prefix_ci(s + i, end - i, "infinity")) {
                        *ret = neg ? -INFINITY : INFINITY;
                        *ret_end = end;
                        return 0;
                }
                if (i == 0 && prefix_ci(s, end, "nan")) {
                        *ret = NAN;
                        *ret_end = end;
                        return 0;
                }
                return -EINVAL;
        }

        /* Every digit goes into mant, without a check each: 19 of them cannot overflow it, and with
         * more the syntax is still checked here and strtod converts. */
        int_start = i;
        for (; i < n && (d = (unsigned)((uint8_t)s[i] - '0')) <= 9; i++)
                mant = mant * 10 + d;
        n_int = i - int_start;
        if (i < n && s[i] == '.') {
                size_t frac_start = ++i;
                for (; i < n && (d = (unsigned)((uint8_t)s[i] - '0')) <= 9; i++)
                        mant = mant * 10 + d;
                n_frac = i - frac_start;
                exp10 = -(int64_t)n_frac;
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
        /* The number must be the whole token. */
        if (i < n && !is_class(s[i], C_BLANK))
                return -EINVAL;

        if (_likely_(n_int + n_frac <= 19)) {
                if (mant == 0) {
                        *ret = neg ? -0.0 : 0.0;
                        *ret_end = i;
                        return 0;
                }
                /* Exact (Clinger): an integer of at most 2^53 and a power of ten of at most 10^22 are
                 * doubles, and one operation on them rounds correctly, as strtod does. */
                if (mant <= (UINT64_C(1) << 53) && exp10 >= -22 && exp10 <= 22) {
                        double v = (double)mant;
                        v = exp10 < 0 ? v / pow10_exact[-exp10] : v * pow10_exact[exp10];
                        *ret = neg ? -v : v;
                        *ret_end = i;
                        return 0;
                }
        }

        if (!p->c_locale) {
                p->c_locale = newlocale(LC_ALL_MASK, "C", (locale_t)0);
                if (!p->c_locale)
                        return -ENOMEM;
        }
        memcpy(tmp, s, i);
        tmp[i] = 0;
        double v = strtod_l(tmp, NULL, p->c_locale);
        if (isinf(v))
                return -ERANGE;
        *ret = v;
        *ret_end = i;
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

/* The length of the name at s[i] when it is the last sample's, else 0. */
static inline size_t name_cached(const PromParser *p, const char *s, size_t i, size_t n) {
        const MetricName *c = &p->last_name;
        uint64_t x[4], y[4];

        /* The 32 bytes compared are there, and the byte after the name. */
        if (c->len == 0 || i + 32 > n || i + c->len >= n || is_class(s[i + c->len], C_NAME))
                return 0;
        memcpy(x, s + i, 32);
        memcpy(y, c->name, 32);
        if ((((x[0] ^ y[0]) & c->mask[0]) | ((x[1] ^ y[1]) & c->mask[1]) | ((x[2] ^ y[2]) & c->mask[2]) |
                    ((x[3] ^ y[3]) & c->mask[3])) != 0)
                return 0;
        return c->len;
}

/* Keeps the name src[0, n) for masked compares of its first max bytes (max <= 32): NUL-padded into
 * name (of size bytes, more than max), the bytes that are the name's set in mask; *ret_len is n, or
 * 0 (none kept) when the name is longer than max. */
static void remember_name(
        char *name, size_t size, void *mask, size_t max, size_t *ret_len, const char *src, size_t n) {
        uint8_t m[32] = {};

        if (n > max) {
                *ret_len = 0;
                return;
        }
        memset(name, 0, size);
        memcpy(name, src, n);
        memset(m, 0xff, n);
        memcpy(mask, m, max);
        *ret_len = n;
}

/* Remembers s[from, to), a valid metric name, as the last sample's (prefix is set once known). */
static void name_remember(PromParser *p, const char *s, size_t from, size_t to) {
        MetricName *c = &p->last_name;
        remember_name(c->name, sizeof(c->name), c->mask, sizeof(c->mask), &c->len, s + from, to - from);
}

static int set_family(PromParser *p, const char *name, size_t len, PromType type) {
        int r = grow((void **)&p->family, &p->family_cap, len + 1, 1);
        if (r < 0)
                return r;
        memcpy(p->family, name, len);
        p->family[len] = 0;
        /* Whether the last name starts with the family's is to be seen again. */
        p->last_name.len = 0;
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

/* The length of the k-th label name at s[i] when it is the k-th of the last sample and followed by
 * '=' (so it is the whole name), else 0. One masked compare of the first 8 bytes as a word; the
 * mask is made from bytes, so it fits either byte order. */
static inline size_t lname_cached(const PromParser *p, size_t k, const char *s, size_t i, size_t n) {
        const LabelName *c;
        uint64_t x, word;

        /* The 9 bytes from s[i] are there: the word, and the '=' after a name of 8. */
        if (k >= ELEMENTSOF(p->lnames) || i + 8 >= n)
                return 0;
        c = &p->lnames[k];
        memcpy(&x, s + i, 8);
        memcpy(&word, c->name, 8);
        if (c->len == 0 || ((x ^ word) & c->mask) != 0 || s[i + c->len] != '=')
                return 0;
        return c->len;
}

/* Remembers s[from, to), a valid label name, as the k-th of this sample. */
static void lname_remember(PromParser *p, size_t k, const char *s, size_t from, size_t to) {
        LabelName *c;

        if (k >= ELEMENTSOF(p->lnames))
                return;
        c = &p->lnames[k];
        remember_name(c->name, sizeof(c->name), &c->mask, sizeof(c->mask), &c->len, s + from, to - from);
}

/* The key of a label name for the look whether one came twice: names are at most a line long and
 * never empty, so its length (up to 2^16) and its first two bytes (the second may be its NUL). */
static inline uint32_t lname_key(const char *name, size_t len) {
        return (uint32_t)MIN(len, (size_t)0xffff) << 16 | (uint32_t)(uint8_t)name[0] << 8 | (uint8_t)name[1];
}

/* A key's bit in a 64-bit set of the keys seen. */
static inline uint64_t lname_key_bit(uint32_t key) {
        return UINT64_C(1) << ((key * UINT32_C(0x9e3779b1)) >> 26);
}

/* The keys of labels[0, n), which are known to differ, into keys[]; returns their set. */
static uint64_t lname_keys(const PromLabel *labels, uint32_t *keys, size_t n) {
        uint64_t seen = 0;
        for (size_t k = 0; k < n; k++) {
                keys[k] = lname_key(labels[k].name, strlen(labels[k].name));
                seen |= lname_key_bit(keys[k]);
        }
        return seen;
}

/*
 * The label set of the sample named name whose '{' is at s[*pos]: its labels into p->labels, their
 * names and values at *wp, NUL-terminated. 0 with *pos after its '}', *wp after its strings and
 * *ret_n_labels set; or a negative errno, fail() called.
 */
static int parse_labels(PromParser *p, const char *s, size_t n, const char *name, size_t *pos, char **wp,
        size_t *ret_n_labels) {
        size_t i = *pos, n_labels = 0;
        char *w = *wp;

        /* While every name is the last sample's at its place, the names differ as those did
         * and no key is made; at the first that is not, the keys of those before it are. */
        bool same_names = true;
        uint64_t seen = 0; /* the keys' bits, for a quick look whether a name came twice */
        /* Made here, its loads run beside the first label name's. */
        Specials sp = {.base = i + 1};
        if (i + 1 < n)
                specials_at(&sp, s, i + 1, n);
        /* The special bytes of the window not passed yet. */
        uint64_t m = sp.mask;

        /* Blanks are allowed around every token of a label set; a page seldom has them, so
         * each step first looks for what comes without. */
        for (i++;;) {
                size_t len;
                const char *lname, *value;
                bool high = false;

                len = lname_cached(p, n_labels, s, i, n);
                if (_likely_(len > 0)) {
                        lname = p->lnames[n_labels].name;
                        i += len + 1; /* and the '=' seen */
                        if (_unlikely_(same_names && n_labels >= p->n_lnames_distinct)) {
                                seen = lname_keys(p->labels, p->label_keys, n_labels);
                                same_names = false;
                        }
                } else {
                        size_t ln;

                        if (i >= n || !is_class(s[i], C_LNAME_START)) {
                                i = skip_blanks(s, i, n);
                                if (i < n && s[i] == '}') {
                                        i++;
                                        break;
                                }
                        }
                        ln = i;
                        if (i < n && is_class(s[i], C_LNAME_START))
                                i = scan_class(s, i + 1, n, C_LNAME);
                        if (i == ln)
                                return fail(p, -EBADMSG, "expected a label name or '}' in '%s', got '%s'",
                                        name, CHAR_AT(s, i, n));
                        len = i - ln;
                        lname = w;
                        w = copy_run(w, s, ln, i, n);
                        *w++ = 0;
                        lname_remember(p, n_labels, s, ln, i);
                        if (same_names) {
                                seen = lname_keys(p->labels, p->label_keys, n_labels);
                                same_names = false;
                        }

                        if (!at_after_blanks(s, &i, n, '='))
                                return fail(p, -EBADMSG, "expected '=' after label name '%s', got '%s'",
                                        lname, CHAR_AT(s, i, n));
                        i++;
                }
                if (!at_after_blanks(s, &i, n, '"'))
                        return fail(p, -EBADMSG, "expected '\"' to open the value of label '%s', got '%s'",
                                lname, CHAR_AT(s, i, n));
                i++;

                /* The value, run by run between the special bytes the bitmap marks. The first
                 * left in m is its opening quote, when the window reaches that far: from the
                 * last closing quote to here all was plain (',', blanks, a name, '='). */
                value = w;
                m &= m - 1;
                for (;;) {
                        size_t j;
                        char c, e;

                        if (_unlikely_(m == 0)) {
                                /* None before the window's end: copy up to it, and look on
                                 * from there (past an escape that ended it). */
                                size_t next = MAX(i, sp.base + 64);
                                if (next >= n)
                                        return fail(p, -EBADMSG, "unterminated value of label '%s'", lname);
                                w = copy_run(w, s, i, next, n);
                                i = next;
                                specials_at(&sp, s, i, n);
                                m = sp.mask;
                                continue;
                        }
                        j = sp.base + (size_t)__builtin_ctzll(m);
                        w = copy_run(w, s, i, j, n);
                        c = s[j];
                        m &= m - 1;
                        if (c == '"') {
                                i = j + 1;
                                break;
                        }
                        if (c == '\\') {
                                if (_unlikely_(j + 1 >= n))
                                        return fail(p, -EBADMSG, "unterminated value of label '%s'", lname);
                                /* A table, not a switch: one load and one branch per escape. */
                                e = unescape[(uint8_t)s[j + 1]];
                                if (_unlikely_(e == 0))
                                        return fail(p, -EBADMSG,
                                                "bad escape '\\%s' in the value of label '%s'",
                                                QUOTE(s + j + 1, 1), lname);
                                *w++ = e;
                                i = j + 2;
                                /* The escaped byte is no special byte, even '"' or '\\' (2 << 63
                                 * is 0: a byte past the window). */
                                m &= ~(UINT64_C(2) << (j - sp.base));
                        } else if (c == 0)
                                return fail(p, -EBADMSG, "NUL byte in the value of label '%s'", lname);
                        else {
                                high = true;
                                *w++ = c;
                                i = j + 1;
                        }
                }
                *w = 0;
                if (high && !utf8_valid((const uint8_t *)value, (size_t)(w - value)))
                        return fail(p, -EBADMSG, "invalid UTF-8 in the value of label '%s'", lname);
                w++;

                if (!same_names) {
                        uint32_t *keys = p->label_keys, key = lname_key(lname, len);
                        uint64_t bit = lname_key_bit(key);
                        if (seen & bit)
                                for (size_t k = 0; k < n_labels; k++)
                                        if (keys[k] == key && streq(p->labels[k].name, lname))
                                                return fail(p, -EBADMSG, "duplicate label '%s' in '%s'",
                                                        lname, name);
                        seen |= bit;
                        keys[n_labels] = key;
                }
                /* A line of length n holds fewer than n / 4 labels: the arrays never move. */
                p->labels[n_labels++] = (PromLabel){.name = lname, .value = value};

                if (_unlikely_(i >= n || (s[i] != ',' && s[i] != '}'))) {
                        i = skip_blanks(s, i, n);
                        if (i >= n || (s[i] != ',' && s[i] != '}'))
                                return fail(p, -EBADMSG,
                                        "expected ',' or '}' after the value of label '%s', got '%s'", lname,
                                        CHAR_AT(s, i, n));
                }
                if (s[i++] == '}')
                        break;
        }
        /* lnames[] now holds this sample's names, which differ (those it does not hold, too
         * long or too many, are never met again by lname_cached()); or, when they were all the
         * last sample's, still that sample's, and no fewer ("x_sum" after "x_bucket"). */
        if (!same_names)
                p->n_lnames_distinct = MIN(n_labels, ELEMENTSOF(p->lnames));
        *pos = i;
        *wp = w;
        *ret_n_labels = n_labels;
        return 0;
}

/* Inlined into parse_line(), its one caller, whatever gcc's estimate of its size: the line's checks and
 * the sample then share one prologue, some 40 instructions a sample less. */
static inline __attribute__((always_inline)) int parse_sample(
        PromParser *p, const char *s, size_t i, size_t n) {
        char *w = p->scratch; /* room for the line's strings, then a copy of the value token */
        size_t n_labels = 0, name_start = i, name_end;
        PromSample sample = {
                .line = p->line_no,
        };
        bool prefix;
        int r;

        name_end = i + name_cached(p, s, i, n);
        if (name_end > i) {
                prefix = p->last_name.prefix;
                sample.name = p->last_name.name;
        } else {
                name_end = scan_name_with_family(p, s, i, n, &prefix);
                if (name_end == i)
                        return fail(p, -EBADMSG, "expected a metric name, got '%s'", CHAR_AT(s, i, n));
                sample.name = w;
                w = copy_run(w, s, name_start, name_end, n);
                *w++ = 0;
                name_remember(p, s, name_start, name_end);
        }
        i = skip_blanks(s, name_end, n);

        if (i < n && s[i] == '{') {
                r = parse_labels(p, s, n, sample.name, &i, &w, &n_labels);
                if (r < 0)
                        return r;
                i = skip_blanks(s, i, n);
        } else if (i == name_end && i < n)
                return fail(p, -EBADMSG, "unexpected '%s' after metric name '%s'", CHAR_AT(s, i, n),
                        sample.name);

        if (i >= n)
                return fail(p, -EBADMSG, "missing value for '%s'", sample.name);
        size_t v = i, v_end;
        r = parse_value(p, s + v, n - v, w, &v_end, &sample.value);
        if (r >= 0)
                v_end += v;
        else
                v_end = token_end(s, v, n);
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
                prefix = false;
        }
        /* For the next sample of this name: the family stays as long as it belongs to it. */
        p->last_name.prefix = prefix;
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
         * 4 bytes of the line. The buffers only grow, up to what the longest line needs. */
        if (_unlikely_(n > p->room)) {
                r = grow((void **)&p->scratch, &p->scratch_cap, 2 * n + 4, 1);
                if (r >= 0)
                        r = grow((void **)&p->labels, &p->labels_cap, n / 4 + 1, sizeof(PromLabel));
                if (r >= 0)
                        r = grow((void **)&p->label_keys, &p->label_keys_cap, n / 4 + 1, sizeof(uint32_t));
                if (r < 0)
                        return fail(p, r, "out of memory");
                p->room = n;
        }
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
