/* SPDX-License-Identifier: MIT */
#include <errno.h>
#include <json-c/json.h>
#include <string.h>
#if defined(__SSE2__) && (defined(__x86_64__) || defined(__i386__))
#include <emmintrin.h>
#include <tmmintrin.h>
#define HAVE_TEDDY 1
#endif

#include "log-scan.h"

#define DEFAULT_MAX_LINE (64 * 1024)
#define MAX_NEEDLES 8
/* A CRI prefix ("2024-08-09T04:06:19.986123456Z stderr F ") is never longer than this. */
#define CRI_PREFIX_MAX 80

typedef struct Needle {
        unsigned char first, last; /* lower case */
        size_t len;
        char word[16]; /* lower case */
} Needle;

typedef struct Buf {
        char *data;
        size_t len;
} Buf;

struct LogScanner {
        LogScanOptions o;
        log_event_fn fn;
        void *userdata;
        LogScanStats stats;
        Needle needles[MAX_NEEDLES];
        size_t n_needles, needle_max;
        bool teddy; /* more than two words and SSSE3: find_teddy() */
        uint8_t teddy_lo[3][16], teddy_hi[3][16]; /* per word byte, per nibble: the words it fits */

        LogFormat format; /* detected when o.format is AUTO */
        bool in_partial, skipping, dropping;
        Buf join; /* capacity max_line */

        bool event_open;
        LogLineInfo info;
        int64_t fallback_time_ms;
        Buf line;
        bool line_cut;
        Buf *context; /* o.context entries */
        size_t n_context;
        json_tokener *tok; /* docker records */
};

static void buf_set(Buf *b, const char *data, size_t len) {
        if (len > 0)
                memcpy(b->data, data, len);
        b->len = len;
}

static void add_needles(LogScanner *s) {
        for (LogLevel l = 1; l <= VIGIL__LOG_LEVEL__LOG_LEVEL_FATAL; l++) {
                if (!(s->o.levels & LOG_LEVEL_BIT(l)))
                        continue;
                for (const char *const *w = log_line_level_words(l); w && *w; w++) {
                        if (s->n_needles >= MAX_NEEDLES)
                                return;
                        Needle *n = &s->needles[s->n_needles++];
                        n->len = strlen(*w);
                        for (size_t i = 0; i < n->len; i++)
                                n->word[i] = (char)((unsigned char)(*w)[i] | 0x20);
                        n->first = (unsigned char)n->word[0];
                        n->last = (unsigned char)n->word[n->len - 1];
                        s->needle_max = MAX(s->needle_max, n->len);
                }
        }
}

static inline bool needle_at(const Needle *n, const char *p) {
        for (size_t i = 0; i < n->len; i++)
                if (((unsigned char)p[i] | 0x20) != (unsigned char)n->word[i])
                        return false;
        return true;
}

#ifdef __SSE2__
/* The first of the positions p + bit (bits: a mask of 16) where a whole word starts, or NULL. */
static inline const char *verify_candidates(const LogScanner *s, const char *p, unsigned bits) {
        while (bits) {
                unsigned j = (unsigned)__builtin_ctz(bits);
                for (size_t k = 0; k < s->n_needles; k++)
                        if (needle_at(&s->needles[k], p + j))
                                return p + j;
                bits &= bits - 1;
        }
        return NULL;
}
#endif

#ifdef HAVE_TEDDY
/*
 * Many words at once, after Hyperscan's "Teddy": each word gets a bit; for each of the first three
 * bytes of the words, two 16-entry tables give, per low and per high nibble of an input byte, the
 * words whose byte there has that nibble. Two table lookups (pshufb) and an AND tell, for 16 input
 * bytes at a time, which words could start at each of them; the few positions left are checked
 * whole. The cost no longer grows with the number of words.
 */
static void teddy_init(LogScanner *s) {
        memset(s->teddy_lo, 0, sizeof(s->teddy_lo));
        memset(s->teddy_hi, 0, sizeof(s->teddy_hi));
        for (size_t k = 0; k < s->n_needles; k++)
                for (size_t j = 0; j < 3; j++) {
                        uint8_t c = (uint8_t)s->needles[k].word[j];
                        s->teddy_lo[j][c & 0xf] |= (uint8_t)(1u << k);
                        s->teddy_hi[j][c >> 4] |= (uint8_t)(1u << k);
                }
        s->teddy = s->n_needles > 2 && __builtin_cpu_supports("ssse3");
}

__attribute__((target("ssse3"))) static const char *find_teddy(
        const LogScanner *s, const char *p, const char *stop) {
        const __m128i fold = _mm_set1_epi8(0x20), low = _mm_set1_epi8(0x0f);
        __m128i lo[3], hi[3];
        for (size_t j = 0; j < 3; j++) {
                lo[j] = _mm_loadu_si128((const __m128i *)s->teddy_lo[j]);
                hi[j] = _mm_loadu_si128((const __m128i *)s->teddy_hi[j]);
        }
        for (; p + 16 <= stop; p += 16) {
                __m128i m = _mm_set1_epi8(-1);
                for (size_t j = 0; j < 3; j++) {
                        __m128i v = _mm_or_si128(_mm_loadu_si128((const __m128i *)(p + j)), fold);
                        __m128i l = _mm_shuffle_epi8(lo[j], _mm_and_si128(v, low));
                        __m128i h = _mm_shuffle_epi8(hi[j], _mm_and_si128(_mm_srli_epi16(v, 4), low));
                        m = _mm_and_si128(m, _mm_and_si128(l, h));
                }
                unsigned bits =
                        (unsigned)_mm_movemask_epi8(_mm_cmpeq_epi8(m, _mm_setzero_si128())) ^ 0xffffu;
                const char *hit = verify_candidates(s, p, bits);
                if (hit)
                        return hit;
        }
        return p;
}
#endif

int log_scanner_new(const LogScanOptions *o, log_event_fn fn, void *userdata, LogScanner **ret) {
        _cleanup_(log_scanner_freep) LogScanner *s = calloc(1, sizeof(LogScanner));

        if (!s)
                return -ENOMEM;
        s->o = *o;
        if (s->o.levels == 0)
                s->o.levels = LOG_LEVEL_BIT(VIGIL__LOG_LEVEL__LOG_LEVEL_WARN) |
                        LOG_LEVEL_BIT(VIGIL__LOG_LEVEL__LOG_LEVEL_ERROR) |
                        LOG_LEVEL_BIT(VIGIL__LOG_LEVEL__LOG_LEVEL_FATAL);
        if (s->o.max_line == 0)
                s->o.max_line = DEFAULT_MAX_LINE;
        s->fn = fn;
        s->userdata = userdata;
        s->format = s->o.format;
        add_needles(s);
#ifdef HAVE_TEDDY
        teddy_init(s);
#endif
        s->join.data = malloc(s->o.max_line);
        s->line.data = malloc(s->o.max_line);
        s->context = calloc(MAX(s->o.context, 1u), sizeof(Buf));
        if (!s->join.data || !s->line.data || !s->context)
                return -ENOMEM;
        /* Context buffers are allocated when first used: most scanners never attach a line. */
        *ret = TAKE_PTR(s);
        return 0;
}

LogScanner *log_scanner_free(LogScanner *s) {
        if (!s)
                return NULL;
        for (size_t i = 0; s->context && i < MAX(s->o.context, 1u); i++)
                free(s->context[i].data);
        free(s->context);
        if (s->tok)
                json_tokener_free(s->tok);
        free(s->join.data);
        free(s->line.data);
        return mfree(s);
}

/* ---- finding candidate lines fast ---- */

/* The first position in [p, end) where some needle starts (any case), or NULL. */
static const char *find_candidate(const LogScanner *s, const char *p, const char *end) {
        if (s->n_needles == 0 || (size_t)(end - p) < s->needle_max)
                return NULL;
        const char *stop = end - s->needle_max + 1; /* every needle fits at positions < stop */
#ifdef HAVE_TEDDY
        if (s->teddy) {
                const char *q = find_teddy(s, p, stop);
                /* A hit, or where the vector loop stopped: the scalar loop below does the rest. */
                if (q + 16 <= stop)
                        return q;
                p = q;
                goto scalar;
        }
#endif
#ifdef __SSE2__
        const __m128i fold = _mm_set1_epi8(0x20);
        __m128i first[MAX_NEEDLES], last[MAX_NEEDLES];
        for (size_t k = 0; k < s->n_needles; k++) {
                first[k] = _mm_set1_epi8((char)s->needles[k].first);
                last[k] = _mm_set1_epi8((char)s->needles[k].last);
        }
        for (; p + 16 <= stop; p += 16) {
                __m128i v0 = _mm_or_si128(_mm_loadu_si128((const __m128i *)p), fold);
                __m128i m = _mm_setzero_si128();
                for (size_t k = 0; k < s->n_needles; k++) {
                        __m128i vl = _mm_or_si128(
                                _mm_loadu_si128((const __m128i *)(p + s->needles[k].len - 1)), fold);
                        m = _mm_or_si128(
                                m, _mm_and_si128(_mm_cmpeq_epi8(v0, first[k]), _mm_cmpeq_epi8(vl, last[k])));
                }
                unsigned bits = (unsigned)_mm_movemask_epi8(m);
                const char *hit = verify_candidates(s, p, bits);
                if (hit)
                        return hit;
        }
#endif
#ifdef HAVE_TEDDY
scalar:
#endif
        for (; p < stop; p++) {
                unsigned char c = (unsigned char)*p | 0x20;
                for (size_t k = 0; k < s->n_needles; k++)
                        if (c == s->needles[k].first && needle_at(&s->needles[k], p))
                                return p;
        }
        return NULL;
}

/* The number of '\n' in p[0..n). */
static uint64_t count_newlines(const char *p, size_t n) {
        uint64_t count = 0;
        size_t i = 0;
#ifdef __SSE2__
        const __m128i nl = _mm_set1_epi8('\n');
        while (i + 16 <= n) {
                /* Up to 255 blocks accumulate in byte counters (each compare adds 0 or -1). */
                __m128i acc = _mm_setzero_si128();
                size_t blocks = MIN((n - i) / 16, (size_t)255);
                for (size_t b = 0; b < blocks; b++, i += 16)
                        acc = _mm_sub_epi8(
                                acc, _mm_cmpeq_epi8(_mm_loadu_si128((const __m128i *)(p + i)), nl));
                __m128i sums = _mm_sad_epu8(acc, _mm_setzero_si128());
                count += (uint64_t)_mm_cvtsi128_si32(sums) + (uint64_t)_mm_extract_epi16(sums, 4);
        }
#endif
        for (; i < n; i++)
                count += p[i] == '\n';
        return count;
}

/* ---- events ---- */

static void emit(LogScanner *s) {
        const char *ctx[MAX(s->o.context, 1u)];

        if (!s->event_open)
                return;
        for (size_t i = 0; i < s->n_context; i++)
                ctx[i] = s->context[i].data;
        LogEvent e = {
                .level = s->info.level,
                .time_ms = s->info.time_ms ?: s->fallback_time_ms,
                .line = s->line.data,
                .line_len = s->line.len,
                .msg_offset = s->info.msg_offset,
                .msg_len = s->info.msg_len,
                .line_cut = s->line_cut,
                .context = ctx,
                .n_context = s->n_context,
        };
        s->event_open = false;
        s->n_context = 0;
        s->fn(&e, s->userdata);
}

void log_scanner_flush(LogScanner *s) {
        emit(s);
}

static int add_context(LogScanner *s, const char *text, size_t len) {
        Buf *b = &s->context[s->n_context];
        len = MIN(len, s->o.max_line - 1);
        if (!b->data && !(b->data = malloc(s->o.max_line)))
                return -ENOMEM;
        memcpy(b->data, text, len);
        b->data[len] = 0;
        b->len = len;
        s->n_context++;
        return 0;
}

/*
 * One logical line (without its newline), at most max_line bytes; cut says the original was longer.
 * record_time_ms: the CRI/docker record's time, for a text that has none.
 */
static void process_line_framed(LogScanner *s, const char *text, size_t len, bool cut,
        int64_t record_time_ms, bool framed, LogLevel framed_level) {
        LogLineInfo info;

        if (len > 0 && text[len - 1] == '\r')
                len--;
        s->stats.lines++;
        if (cut)
                s->stats.lines_cut++;
        log_line_classify(text, len, &info);
        if (framed) {
                /* The framing says a record starts here, whatever the text looks like. */
                if (!info.record)
                        info = (LogLineInfo){.record = true, .msg_len = len};
                if (info.level == 0)
                        info.level = framed_level;
        }
        if (s->event_open) {
                if (!info.record) {
                        if (s->n_context < s->o.context && add_context(s, text, len) >= 0 &&
                                s->n_context == s->o.context)
                                emit(s);
                        return;
                }
                emit(s);
        }
        if (!info.record || info.level == 0 || !(s->o.levels & LOG_LEVEL_BIT(info.level)))
                return;
        buf_set(&s->line, text, len);
        s->line_cut = cut;
        s->info = info;
        s->fallback_time_ms = record_time_ms;
        s->event_open = true;
        s->n_context = 0;
        if (s->o.context == 0)
                emit(s);
}

static void process_line(LogScanner *s, const char *text, size_t len, bool cut, int64_t record_time_ms) {
        process_line_framed(s, text, len, cut, record_time_ms, false, 0);
}

void log_scanner_feed_record(LogScanner *s, const char *text, size_t len, LogLevel level, int64_t time_ms) {
        bool first = true;

        emit(s);
        s->stats.bytes += len;
        for (const char *p = text, *end = text + len; p < end || first;) {
                const char *nl = memchr(p, '\n', (size_t)(end - p));
                size_t n = nl ? (size_t)(nl - p) : (size_t)(end - p);
                process_line_framed(s, p, MIN(n, s->o.max_line), n > s->o.max_line, time_ms, first, level);
                first = false;
                p += n + (nl ? 1 : 0);
        }
        emit(s);
}

/* ---- PLAIN ---- */

/* Takes a line that has no end within the max_line bytes at p: cut it, drop the rest. */
static void take_cut_line(LogScanner *s, const char *p) {
        process_line(s, p, s->o.max_line, true, 0);
        s->skipping = true;
}

/* Inside a line past the limit: drops up to its newline. false when that is beyond end. */
static bool skip_to_newline(LogScanner *s, const char **p, const char *end) {
        const char *nl = memchr(*p, '\n', (size_t)(end - *p));
        if (!nl)
                return false;
        s->skipping = false;
        *p = nl + 1;
        return true;
}

static size_t feed_plain(LogScanner *s, const char *buf, size_t len, bool eof) {
        const char *p = buf, *end = buf + len;

        while (p < end) {
                if (s->skipping) {
                        if (!skip_to_newline(s, &p, end))
                                return len;
                        continue;
                }
                const char *ls = p, *hit = NULL;
                if (!s->event_open) {
                        /* Lines without a level word cannot start an event: pass over them whole. */
                        hit = find_candidate(s, p, end);
                        if (!hit) {
                                const char *last = memrchr(p, '\n', (size_t)(end - p));
                                const char *rest = last ? last + 1 : p;
                                s->stats.lines += count_newlines(p, (size_t)(rest - p));
                                p = rest;
                                if ((size_t)(end - p) >= s->o.max_line) {
                                        /* no level word in its first max_line bytes: not an event */
                                        s->stats.lines++;
                                        s->stats.lines_cut++;
                                        s->skipping = true;
                                        p = end;
                                } else if (eof && p < end) {
                                        process_line(s, p, (size_t)(end - p), false, 0);
                                        p = end;
                                }
                                break;
                        }
                        const char *prev = memrchr(p, '\n', (size_t)(hit - p));
                        ls = prev ? prev + 1 : p;
                        s->stats.lines += count_newlines(p, (size_t)(ls - p));
                }
                const char *nl = memchr(hit ?: ls, '\n', (size_t)(end - (hit ?: ls)));
                if (!nl) {
                        if ((size_t)(end - ls) >= s->o.max_line) {
                                take_cut_line(s, ls);
                                p = ls + s->o.max_line;
                                continue;
                        }
                        if (eof && ls < end) {
                                process_line(s, ls, (size_t)(end - ls), false, 0);
                                p = end;
                        } else
                                p = ls;
                        break;
                }
                size_t n = (size_t)(nl - ls);
                process_line(s, ls, MIN(n, s->o.max_line), n > s->o.max_line, 0);
                p = nl + 1;
        }
        return (size_t)(p - buf);
}

/* ---- CRI and docker json-file ---- */

typedef struct Record {
        const char *payload;
        size_t len;
        bool partial;
        int64_t time_ms;
        char *owned; /* docker: the unescaped payload */
} Record;

/* "<time> <stream> <tags> <payload>" (tags "P", "F", or "P:..." in newer runtimes). */
static bool parse_cri(const char *p, size_t len, Record *ret) {
        size_t i = log_parse_time(p, len, &ret->time_ms);
        if (i == 0 || i >= len || p[i] != ' ')
                return false;
        i++;
        if (len - i >= 7 && (memcmp(p + i, "stdout ", 7) == 0 || memcmp(p + i, "stderr ", 7) == 0))
                i += 7;
        else
                return false;
        if (i >= len || (p[i] != 'P' && p[i] != 'F'))
                return false;
        ret->partial = p[i] == 'P';
        while (i < len && p[i] != ' ')
                i++;
        if (i < len)
                i++;
        ret->payload = p + i;
        ret->len = len - i;
        return true;
}

static bool parse_docker(LogScanner *s, const char *p, size_t len, Record *ret) {
        json_object *o, *v;

        if (len == 0 || p[0] != '{' || len > INT32_MAX)
                return false;
        if (!s->tok && !(s->tok = json_tokener_new()))
                return false;
        json_tokener_reset(s->tok);
        o = json_tokener_parse_ex(s->tok, p, (int)len);
        if (!o)
                return false;
        if (!json_object_object_get_ex(o, "log", &v) || !json_object_is_type(v, json_type_string)) {
                json_object_put(o);
                return false;
        }
        size_t n = (size_t)json_object_get_string_len(v);
        const char *text = json_object_get_string(v);
        ret->partial = n == 0 || text[n - 1] != '\n';
        if (!ret->partial)
                n--;
        ret->owned = strndup(text, n);
        if (json_object_object_get_ex(o, "time", &v) && json_object_is_type(v, json_type_string))
                (void)log_parse_time(
                        json_object_get_string(v), (size_t)json_object_get_string_len(v), &ret->time_ms);
        json_object_put(o);
        if (!ret->owned)
                return false;
        ret->payload = ret->owned;
        ret->len = n;
        return true;
}

/* One physical record: joins partial payloads into logical lines. */
static void process_record(LogScanner *s, const char *p, size_t len) {
        Record r = {};
        bool ok = s->format == LOG_FORMAT_CRI ? parse_cri(p, len, &r) : parse_docker(s, p, len, &r);
        if (!ok) {
                s->stats.malformed++;
                r = (Record){.payload = p, .len = len};
        }
        bool continues = s->in_partial;
        s->in_partial = r.partial;
        if (!continues)
                s->fallback_time_ms = 0;
        if (s->dropping) {
                if (!r.partial)
                        s->dropping = false;
        } else if (!r.partial && s->join.len == 0) {
                /* The usual case: a whole line in one record, no copy. */
                process_line(s, r.payload, MIN(r.len, s->o.max_line), r.len > s->o.max_line, r.time_ms);
        } else {
                size_t room = s->o.max_line - s->join.len;
                size_t take = MIN(room, r.len);
                memcpy(s->join.data + s->join.len, r.payload, take);
                s->join.len += take;
                bool cut = take < r.len;
                if (cut || !r.partial) {
                        process_line(s, s->join.data, s->join.len, cut, r.time_ms);
                        s->join.len = 0;
                        s->dropping = cut && r.partial;
                }
        }
        free(r.owned);
}

static size_t feed_records(LogScanner *s, const char *buf, size_t len, bool eof) {
        const char *p = buf, *end = buf + len;
        size_t limit = s->o.max_line + CRI_PREFIX_MAX;

        while (p < end) {
                if (s->skipping) {
                        if (!skip_to_newline(s, &p, end))
                                return len;
                        continue;
                }
                const char *nl = memchr(p, '\n', (size_t)(end - p));
                size_t n = nl ? (size_t)(nl - p) : (size_t)(end - p);
                if (!nl && n < limit && !eof)
                        break;
                if (n >= limit) {
                        /* A record longer than any line we keep: take its start, drop the rest. */
                        process_record(s, p, limit);
                        if (!nl) {
                                s->skipping = true;
                                return len;
                        }
                } else
                        process_record(s, p, n);
                p = nl ? nl + 1 : end;
        }
        return (size_t)(p - buf);
}

static void detect(LogScanner *s, const char *buf, size_t len, bool eof) {
        const char *nl = memchr(buf, '\n', len);
        Record r = {};

        if (!nl && !eof && len < s->o.max_line)
                return; /* wait for a whole first line */
        size_t n = nl ? (size_t)(nl - buf) : len;
        if (parse_cri(buf, n, &r))
                s->format = LOG_FORMAT_CRI;
        else if (n > 8 && memcmp(buf, "{\"log\":", 7) == 0 && parse_docker(s, buf, n, &r))
                s->format = LOG_FORMAT_DOCKER;
        else
                s->format = LOG_FORMAT_PLAIN;
        free(r.owned);
}

size_t log_scanner_feed(LogScanner *s, const char *buf, size_t len, bool eof) {
        size_t taken;

        if (len == 0)
                return 0;
        if (s->format == LOG_FORMAT_AUTO) {
                detect(s, buf, len, eof);
                if (s->format == LOG_FORMAT_AUTO)
                        return 0;
        }
        taken = s->format == LOG_FORMAT_PLAIN ? feed_plain(s, buf, len, eof)
                                              : feed_records(s, buf, len, eof);
        s->stats.bytes += taken;
        return taken;
}

bool log_scanner_event_open(const LogScanner *s) {
        return s->event_open;
}

void log_scanner_reset(LogScanner *s) {
        emit(s);
        s->format = s->o.format;
        s->in_partial = s->skipping = s->dropping = false;
        s->join.len = 0;
        s->event_open = false;
        s->n_context = 0;
}

int log_scanner_save(const LogScanner *s, uint8_t **ret, size_t *ret_size) {
        Vigil__LogCarry c = VIGIL__LOG_CARRY__INIT;
        ProtobufCBinaryData ctx[MAX(s->o.context, 1u)];

        c.format = (uint32_t)s->format;
        c.in_partial = s->in_partial;
        c.skipping = s->skipping;
        c.dropping = s->dropping;
        c.join = (ProtobufCBinaryData){.data = (uint8_t *)s->join.data, .len = s->join.len};
        c.event_open = s->event_open;
        if (s->event_open) {
                c.line = (ProtobufCBinaryData){.data = (uint8_t *)s->line.data, .len = s->line.len};
                c.line_cut = s->line_cut;
                c.fallback_time_ms = s->fallback_time_ms;
                for (size_t i = 0; i < s->n_context; i++)
                        ctx[i] = (ProtobufCBinaryData){
                                .data = (uint8_t *)s->context[i].data, .len = s->context[i].len};
                c.context = ctx;
                c.n_context = s->n_context;
        }
        size_t size = vigil__log_carry__get_packed_size(&c);
        uint8_t *buf = malloc(MAX(size, (size_t)1));
        if (!buf)
                return -ENOMEM;
        vigil__log_carry__pack(&c, buf);
        *ret = buf;
        *ret_size = size;
        return 0;
}

int log_scanner_load(LogScanner *s, const uint8_t *buf, size_t size) {
        Vigil__LogCarry *c = vigil__log_carry__unpack(NULL, size, buf);
        int r = 0;

        if (!c)
                return -EBADMSG;
        log_scanner_reset(s);
        if (c->format > LOG_FORMAT_DOCKER || c->join.len > s->o.max_line || c->line.len > s->o.max_line) {
                r = -EBADMSG;
                goto finish;
        }
        if (c->format != LOG_FORMAT_AUTO)
                s->format = (LogFormat)c->format;
        s->in_partial = c->in_partial;
        s->skipping = c->skipping;
        s->dropping = c->dropping;
        buf_set(&s->join, (const char *)c->join.data, c->join.len);
        if (c->event_open) {
                buf_set(&s->line, (const char *)c->line.data, c->line.len);
                s->line_cut = c->line_cut;
                s->fallback_time_ms = c->fallback_time_ms;
                log_line_classify(s->line.data, s->line.len, &s->info);
                s->event_open = true;
                for (size_t i = 0; i < c->n_context && i < s->o.context; i++)
                        if (add_context(s, (const char *)c->context[i].data, c->context[i].len) < 0) {
                                r = -ENOMEM;
                                break;
                        }
        }
finish:
        vigil__log_carry__free_unpacked(c, NULL);
        return r;
}

LogFormat log_scanner_format(const LogScanner *s) {
        return s->format;
}

void log_scanner_get_stats(const LogScanner *s, LogScanStats *ret) {
        *ret = s->stats;
}
