/* SPDX-License-Identifier: MIT */
#include <ctype.h>
#include <errno.h>
#include <string.h>

#include "log-line.h"
#include "macros.h"

static const char *const level_names[] = {
        [VIGIL__LOG_LEVEL__LOG_LEVEL_UNSPECIFIED] = "UNSPECIFIED",
        [VIGIL__LOG_LEVEL__LOG_LEVEL_TRACE] = "TRACE",
        [VIGIL__LOG_LEVEL__LOG_LEVEL_DEBUG] = "DEBUG",
        [VIGIL__LOG_LEVEL__LOG_LEVEL_INFO] = "INFO",
        [VIGIL__LOG_LEVEL__LOG_LEVEL_WARN] = "WARN",
        [VIGIL__LOG_LEVEL__LOG_LEVEL_ERROR] = "ERROR",
        [VIGIL__LOG_LEVEL__LOG_LEVEL_FATAL] = "FATAL",
};

static const struct {
        const char *word;
        LogLevel level;
} level_words[] = {
        {"TRACE", VIGIL__LOG_LEVEL__LOG_LEVEL_TRACE},
        {"DEBUG", VIGIL__LOG_LEVEL__LOG_LEVEL_DEBUG},
        {"INFO", VIGIL__LOG_LEVEL__LOG_LEVEL_INFO},
        {"WARN", VIGIL__LOG_LEVEL__LOG_LEVEL_WARN},
        {"WARNING", VIGIL__LOG_LEVEL__LOG_LEVEL_WARN},
        {"ERROR", VIGIL__LOG_LEVEL__LOG_LEVEL_ERROR},
        {"FATAL", VIGIL__LOG_LEVEL__LOG_LEVEL_FATAL},
        {"CRITICAL", VIGIL__LOG_LEVEL__LOG_LEVEL_FATAL},
        {"PANIC", VIGIL__LOG_LEVEL__LOG_LEVEL_FATAL},
};

/* The substrings every word of a level contains (WARNING contains WARN). */
static const char *const *const needles[] = {
        [VIGIL__LOG_LEVEL__LOG_LEVEL_TRACE] = (const char *const[]){"TRACE", NULL},
        [VIGIL__LOG_LEVEL__LOG_LEVEL_DEBUG] = (const char *const[]){"DEBUG", NULL},
        [VIGIL__LOG_LEVEL__LOG_LEVEL_INFO] = (const char *const[]){"INFO", NULL},
        [VIGIL__LOG_LEVEL__LOG_LEVEL_WARN] = (const char *const[]){"WARN", NULL},
        [VIGIL__LOG_LEVEL__LOG_LEVEL_ERROR] = (const char *const[]){"ERROR", NULL},
        [VIGIL__LOG_LEVEL__LOG_LEVEL_FATAL] = (const char *const[]){"FATAL", "CRITICAL", "PANIC", NULL},
};

const char *log_line_level_name(LogLevel l) {
        if ((unsigned)l >= ELEMENTSOF(level_names) || !level_names[l])
                return "UNSPECIFIED";
        return level_names[l];
}

LogLevel log_line_level_parse(const char *s, size_t len) {
        for (size_t i = 0; i < ELEMENTSOF(level_words); i++)
                if (strlen(level_words[i].word) == len && strncasecmp(level_words[i].word, s, len) == 0)
                        return level_words[i].level;
        return 0;
}

const char *const *log_line_level_words(LogLevel l) {
        if ((unsigned)l >= ELEMENTSOF(needles))
                return NULL;
        return needles[l];
}

int log_line_levels_parse(const char *s, LogLevelMask *ret) {
        LogLevelMask m = 0;

        for (const char *p = s;;) {
                size_t n = strcspn(p, ", ");
                if (n > 0) {
                        LogLevel l = log_line_level_parse(p, n);
                        if (l == 0)
                                return -EINVAL;
                        m |= LOG_LEVEL_BIT(l);
                }
                if (!p[n])
                        break;
                p += n + 1;
        }
        if (m == 0)
                return -EINVAL;
        *ret = m;
        return 0;
}

/* Days since 1970-01-01 of a proleptic Gregorian date (Howard Hinnant's days_from_civil). */
static int64_t days_from_civil(int64_t y, unsigned m, unsigned d) {
        y -= m <= 2;
        int64_t era = (y >= 0 ? y : y - 399) / 400;
        unsigned yoe = (unsigned)(y - era * 400);
        unsigned doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
        unsigned doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
        return era * 146097 + (int64_t)doe - 719468;
}

/* Reads exactly n digits at s[*i]; -1 when they are not all digits. */
static int digits(const char *s, size_t len, size_t *i, unsigned n) {
        int v = 0;
        if (*i + n > len)
                return -1;
        for (unsigned k = 0; k < n; k++) {
                char c = s[*i + k];
                if (c < '0' || c > '9')
                        return -1;
                v = v * 10 + (c - '0');
        }
        *i += n;
        return v;
}

static bool expect(const char *s, size_t len, size_t *i, char c) {
        if (*i >= len || s[*i] != c)
                return false;
        (*i)++;
        return true;
}

size_t log_parse_time(const char *s, size_t len, int64_t *ret_ms) {
        size_t i = 0;
        int y, mo, d, h, mi, sec, ms = 0;

        if ((y = digits(s, len, &i, 4)) < 0 || !expect(s, len, &i, '-') ||
                (mo = digits(s, len, &i, 2)) < 1 || mo > 12 || !expect(s, len, &i, '-') ||
                (d = digits(s, len, &i, 2)) < 1 || d > 31)
                return 0;
        if (i >= len || (s[i] != 'T' && s[i] != ' '))
                return 0;
        i++;
        if ((h = digits(s, len, &i, 2)) < 0 || h > 23 || !expect(s, len, &i, ':') ||
                (mi = digits(s, len, &i, 2)) < 0 || mi > 59 || !expect(s, len, &i, ':') ||
                (sec = digits(s, len, &i, 2)) < 0 || sec > 60)
                return 0;
        if (i < len && (s[i] == '.' || s[i] == ',')) {
                i++;
                unsigned n = 0;
                for (; i < len && s[i] >= '0' && s[i] <= '9'; i++, n++)
                        if (n < 3)
                                ms = ms * 10 + (s[i] - '0');
                if (n == 0)
                        return 0;
                for (; n < 3; n++)
                        ms *= 10;
        }
        int64_t offset_min = 0;
        if (i < len && s[i] == 'Z')
                i++;
        else if (i < len && (s[i] == '+' || s[i] == '-') && i + 3 <= len &&
                isdigit((unsigned char)s[i + 1])) {
                int sign = s[i] == '-' ? -1 : 1;
                size_t j = i + 1;
                int oh = digits(s, len, &j, 2), om = 0;
                if (oh >= 0) {
                        if (j < len && s[j] == ':')
                                j++;
                        if ((om = digits(s, len, &j, 2)) < 0)
                                om = 0, j = i + 3;
                        offset_min = sign * (oh * 60 + om);
                        i = j;
                }
        }
        int64_t days = days_from_civil(y, (unsigned)mo, (unsigned)d);
        *ret_ms = ((days * 86400 + h * 3600 + mi * 60 + sec) - offset_min * 60) * 1000 + ms;
        return i;
}

static size_t skip_spaces(const char *s, size_t len, size_t i) {
        while (i < len && (s[i] == ' ' || s[i] == '\t'))
                i++;
        return i;
}

/* The level word at s[i] (letters only), 0 when there is none. */
static LogLevel level_at(const char *s, size_t len, size_t *i) {
        size_t j = *i;
        while (j < len && isalpha((unsigned char)s[j]))
                j++;
        if (j == *i || j - *i > 8)
                return 0;
        LogLevel l = log_line_level_parse(s + *i, j - *i);
        if (l)
                *i = j;
        return l;
}

/* Finds the string value of "key": in a JSON line (no nesting awareness: good enough for the flat
 * records loggers write). Returns the value's offset and sets *ret_len, or 0. */
static size_t json_string_value(const char *s, size_t len, const char *key, size_t *ret_len) {
        size_t klen = strlen(key);
        const char *p = s, *end = s + len;

        while ((p = memmem(p, (size_t)(end - p), key, klen))) {
                const char *q = p + klen;
                p = q;
                if (q - klen == s || q[-klen - 1] != '"' || q >= end || *q != '"')
                        continue;
                q++;
                while (q < end && (*q == ' ' || *q == ':'))
                        q++;
                if (q >= end)
                        return 0;
                if (*q != '"') {
                        /* A bare value (a number): up to the next , or }. */
                        const char *v = q;
                        while (q < end && *q != ',' && *q != '}')
                                q++;
                        *ret_len = (size_t)(q - v);
                        return (size_t)(v - s);
                }
                const char *v = ++q;
                while (q < end && *q != '"')
                        q += *q == '\\' ? 2 : 1;
                if (q > end)
                        q = end;
                *ret_len = (size_t)(q - v);
                return (size_t)(v - s);
        }
        return 0;
}

static void classify_json(const char *line, size_t len, LogLineInfo *ret) {
        static const char *const level_keys[] = {"level", "lvl", "severity"};
        static const char *const time_keys[] = {"time", "ts", "timestamp"};
        static const char *const msg_keys[] = {"msg", "message"};
        size_t off, n;

        ret->record = true;
        for (size_t k = 0; k < ELEMENTSOF(level_keys) && ret->level == 0; k++)
                if ((off = json_string_value(line, len, level_keys[k], &n)))
                        ret->level = log_line_level_parse(line + off, n);
        for (size_t k = 0; k < ELEMENTSOF(time_keys) && ret->time_ms == 0; k++)
                if ((off = json_string_value(line, len, time_keys[k], &n))) {
                        if (n > 0 && line[off] >= '0' && line[off] <= '9' &&
                                line[off + 4 < len ? off + 4 : off] != '-') {
                                /* epoch seconds, possibly fractional */
                                char buf[32];
                                snprintf(buf, sizeof(buf), "%.*s", (int)MIN(n, sizeof(buf) - 1), line + off);
                                ret->time_ms = (int64_t)(strtod(buf, NULL) * 1000.0);
                        } else
                                (void)log_parse_time(line + off, n, &ret->time_ms);
                }
        for (size_t k = 0; k < ELEMENTSOF(msg_keys); k++)
                if ((off = json_string_value(line, len, msg_keys[k], &n))) {
                        ret->msg_offset = off;
                        ret->msg_len = n;
                        return;
                }
        ret->msg_offset = 0;
        ret->msg_len = len;
}

void log_line_classify(const char *line, size_t len, LogLineInfo *ret) {
        size_t i = 0;

        *ret = (LogLineInfo){.msg_len = len};
        if (len == 0)
                return;
        if (line[0] == '{') {
                classify_json(line, len, ret);
                return;
        }
        if (line[0] >= '0' && line[0] <= '9') {
                size_t n = log_parse_time(line, len, &ret->time_ms);
                if (n == 0) {
                        ret->time_ms = 0;
                        return;
                }
                ret->record = true;
                i = skip_spaces(line, len, n);
                if (i < len && line[i] == '[') {
                        /* [thread name], which may hold spaces */
                        const char *close = memchr(line + i, ']', len - i);
                        if (close)
                                i = skip_spaces(line, len, (size_t)(close - line) + 1);
                }
        } else if (!isupper((unsigned char)line[0]))
                return;
        size_t at = i;
        LogLevel l = level_at(line, len, &i);
        if (l == 0 || (i < len && line[i] != ' ' && line[i] != ':' && line[i] != '\t')) {
                /* A dated line without a level word is still a record; a bare one is not. */
                ret->msg_offset = at;
                ret->msg_len = len - at;
                return;
        }
        if (!ret->record) {
                /* The bare form wants the word in capitals: "Error: x" is prose, "ERROR x" a record. */
                for (size_t k = at; k < i; k++)
                        if (!isupper((unsigned char)line[k]))
                                return;
                ret->record = true;
        }
        ret->level = l;
        i = skip_spaces(line, len, i < len && line[i] == ':' ? i + 1 : i);
        /* log4j: "LEVEL logger - message" / "LEVEL logger (File.java:12) - message" */
        const char *dash = memmem(line + i, len - i, " - ", 3);
        if (dash && memchr(line + i, ' ', (size_t)(dash - line) - i + 1) && (size_t)(dash - line) - i < 200)
                i = (size_t)(dash - line) + 3;
        ret->msg_offset = i;
        ret->msg_len = len - i;
}

static bool is_hex(char c) {
        return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F');
}

#define FNV_OFFSET 0xcbf29ce484222325ULL
#define FNV_PRIME 0x100000001b3ULL

uint64_t log_signature(LogLevel level, const char *msg, size_t len, char *buf, size_t size) {
        uint64_t h = FNV_OFFSET ^ (uint64_t)level;
        size_t o = 0;

#define EMIT(ch)                                                                                            \
        do {                                                                                                \
                char _c = (ch);                                                                             \
                h = (h ^ (unsigned char)_c) * FNV_PRIME;                                                    \
                if (o + 1 < size)                                                                           \
                        buf[o++] = _c;                                                                      \
        } while (0)

        for (size_t i = 0; i < len;) {
                char c = msg[i];
                if (c == ' ' || c == '\t' || c == '\r' || c == '\n') {
                        while (i < len &&
                                (msg[i] == ' ' || msg[i] == '\t' || msg[i] == '\r' || msg[i] == '\n'))
                                i++;
                        if (o > 0 && i < len)
                                EMIT(' ');
                        continue;
                }
                if (is_hex(c)) {
                        /* A run of hex digits that holds a decimal digit: a number, id or address
                         * part. A word made of hex letters only ("dead", "face") stays. The run must
                         * not be glued to other letters ("v2", "log4j" keep their shape). */
                        size_t j = i;
                        bool digit = false;
                        while (j < len && is_hex(msg[j])) {
                                digit |= msg[j] >= '0' && msg[j] <= '9';
                                j++;
                        }
                        bool glued_before = i > 0 && isalpha((unsigned char)msg[i - 1]);
                        bool glued_after = j < len && isalpha((unsigned char)msg[j]) && msg[j] != 'x';
                        if (digit && !(glued_before && j - i < 4) && !(glued_after && j - i < 4)) {
                                EMIT('#');
                                i = j;
                                /* 0x1f: the "x" and what follows belong to the same number. */
                                if (i + 1 < len && msg[i] == 'x' && msg[i - 1] == '0' && j - i <= 1 &&
                                        is_hex(msg[i + 1])) {
                                        i++;
                                        while (i < len && is_hex(msg[i]))
                                                i++;
                                }
                                continue;
                        }
                        for (; i < j; i++)
                                EMIT(msg[i]);
                        continue;
                }
                EMIT(c);
                i++;
        }
#undef EMIT
        if (size > 0)
                buf[MIN(o, size - 1)] = 0;
        return h;
}
