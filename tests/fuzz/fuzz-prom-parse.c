/* SPDX-License-Identifier: MIT */
/*
 * libFuzzer target of the Prometheus text format parser (probes/metrics/prom-parse.c). The input
 * is the page. Besides memory errors and undefined behaviour (ASan, UBSan) it checks that:
 *  - the page fed whole, in two or three pieces cut where a hash of it says, and byte by byte gives
 *    the same samples (a digest of every field), the same count, return and error message;
 *  - prom_parse_buffer() agrees with the parser whenever no line was too long;
 *  - every sample is well formed: a valid metric name, its family a prefix of it, valid label
 *    names, unique, no NUL in what the strings claim, a line number within the page;
 *  - every error has a "line N: " message, N within the page.
 */
#include <inttypes.h>
#include <math.h>
#include <stdint.h>

#include "metrics/prom-parse.h"

typedef struct Result {
        uint64_t digest;
        uint64_t samples;
        uint64_t max_line_no;
        int r;
        char error[256];
} Result;

static uint64_t fnv(uint64_t h, const void *data, size_t n) {
        const uint8_t *b = data;
        for (size_t i = 0; i < n; i++)
                h = (h ^ b[i]) * 0x100000001b3u;
        return h;
}

static bool metric_name_valid(const char *s, bool label) {
        if (!*s)
                return false;
        for (const char *c = s; *c; c++) {
                bool alpha = (*c >= 'a' && *c <= 'z') || (*c >= 'A' && *c <= 'Z') || *c == '_' ||
                        (!label && *c == ':');
                if (!alpha && !(c > s && *c >= '0' && *c <= '9'))
                        return false;
        }
        return true;
}

static int on_sample(const PromSample *s, void *userdata) {
        Result *res = userdata;
        uint64_t h = res->digest;

        if (!metric_name_valid(s->name, false) || !s->family ||
                strncmp(s->name, s->family, strlen(s->family)) != 0)
                abort();
        if (s->type > PROM_SUMMARY ||
                (s->type == PROM_UNTYPED && s->family != s->name && !streq(s->family, s->name)))
                abort();
        if (s->n_labels > 0 && !s->labels)
                abort();
        /* A family's own name, or one of the suffixes its type allows. */
        const char *suffix = s->name + strlen(s->family);
        if (*suffix) {
                bool ok = streq(suffix, "_created") ||
                        (s->type == PROM_COUNTER && streq(suffix, "_total")) ||
                        ((s->type == PROM_HISTOGRAM || s->type == PROM_SUMMARY) &&
                                (streq(suffix, "_sum") || streq(suffix, "_count"))) ||
                        (s->type == PROM_HISTOGRAM && streq(suffix, "_bucket"));
                if (!ok || s->type == PROM_UNTYPED || s->type == PROM_GAUGE)
                        abort();
        }
        for (size_t i = 0; i < s->n_labels; i++) {
                if (!metric_name_valid(s->labels[i].name, true) || !s->labels[i].value)
                        abort();
                for (size_t k = 0; k < i; k++)
                        if (streq(s->labels[i].name, s->labels[k].name))
                                abort();
        }
        if (s->line == 0)
                abort();

        h = fnv(h, s->name, strlen(s->name) + 1);
        h = fnv(h, s->family, strlen(s->family) + 1);
        h = fnv(h, &s->type, sizeof(s->type));
        for (size_t i = 0; i < s->n_labels; i++) {
                h = fnv(h, s->labels[i].name, strlen(s->labels[i].name) + 1);
                h = fnv(h, s->labels[i].value, strlen(s->labels[i].value) + 1);
        }
        double v = isnan(s->value) ? NAN : s->value; /* one NaN */
        h = fnv(h, &v, sizeof(v));
        h = fnv(h, &s->has_timestamp, sizeof(s->has_timestamp));
        if (s->has_timestamp)
                h = fnv(h, &s->timestamp_ms, sizeof(s->timestamp_ms));
        h = fnv(h, &s->line, sizeof(s->line));
        res->digest = h;
        res->samples++;
        res->max_line_no = MAX(res->max_line_no, s->line);
        return 0;
}

/* Parses the page in the pieces that end at cuts[] (ascending, the last one == size). */
static void run(
        const uint8_t *data, size_t size, size_t max_line, const size_t *cuts, size_t n_cuts, Result *res) {
        _cleanup_(prom_parser_freep) PromParser *p = NULL;
        size_t at = 0;
        int r;

        *res = (Result){.digest = 0xcbf29ce484222325u};
        if (prom_parser_new(max_line, on_sample, res, &p) < 0)
                abort();
        r = 0;
        for (size_t i = 0; i < n_cuts && r >= 0; i++) {
                r = prom_parser_feed(p, (const char *)data + at, cuts[i] - at);
                at = cuts[i];
        }
        if (r >= 0)
                r = prom_parser_finish(p);
        res->r = r;
        if (prom_parser_samples(p) != res->samples)
                abort();
        if (r < 0) {
                const char *e = prom_parser_error(p);
                if (!e || r == -EINVAL || strncmp(e, "line ", 5) != 0)
                        abort();
                snprintf(res->error, sizeof(res->error), "%s", e);
                /* Sticky. */
                if (prom_parser_feed(p, "x 1\n", 4) != r || prom_parser_finish(p) != r)
                        abort();
        } else if (prom_parser_error(p))
                abort();
}

static void same(const Result *a, const Result *b) {
        if (a->r != b->r || a->samples != b->samples || a->digest != b->digest || !streq(a->error, b->error))
                abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
        uint64_t h = fnv(0xcbf29ce484222325u, data, size);
        /* Mostly a small max_line so that long lines are met; sometimes the default. */
        size_t max_line = (h & 3) == 0 ? 0 : 1 + (size_t)((h >> 2) % 300);
        size_t whole[] = {size};
        size_t c1 = size ? (size_t)((h >> 16) % (size + 1)) : 0;
        size_t c2 = size ? (size_t)((h >> 40) % (size + 1)) : 0;
        size_t two[] = {c1, size};
        size_t three[] = {MIN(c1, c2), MAX(c1, c2), size};
        Result a, b;

        run(data, size, max_line, whole, 1, &a);
        uint64_t newlines = 0;
        for (size_t i = 0; i < size; i++)
                newlines += data[i] == '\n';
        if (a.max_line_no > newlines + 1)
                abort();
        if (a.r < 0) {
                unsigned long long n;
                if (sscanf(a.error, "line %llu: ", &n) != 1 || n == 0 || n > newlines + 1)
                        abort();
        }
        if (a.r != 0 && a.r != -EBADMSG && a.r != -E2BIG)
                abort();

        run(data, size, max_line, two, 2, &b);
        same(&a, &b);
        run(data, size, max_line, three, 3, &b);
        same(&a, &b);

        /* Byte by byte, on small inputs (it is quadratic in nothing, but slow per call). */
        if (size <= 512) {
                size_t *cuts = malloc((size + 1) * sizeof(size_t));
                if (!cuts)
                        abort();
                for (size_t i = 0; i < size; i++)
                        cuts[i] = i + 1;
                run(data, size, max_line, cuts, size, &b);
                free(cuts);
                same(&a, &b);
        }

        /* prom_parse_buffer() has no line limit; it agrees when no line was too long. */
        if (a.r != -E2BIG) {
                char *error = NULL;
                Result c = {.digest = 0xcbf29ce484222325u};
                int r = prom_parse_buffer((const char *)data, size, on_sample, &c, &error);
                if (r != a.r || c.samples != a.samples || c.digest != a.digest ||
                        !streq(strempty(error), a.error))
                        abort();
                free(error);
        }
        return 0;
}
