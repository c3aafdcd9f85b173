/* SPDX-License-Identifier: MIT */
#pragma once

/*
 * A streaming parser of the Prometheus text exposition format 0.0.4 (and the OpenMetrics text
 * forms Prometheus accepts in it: "# EOF", counters named "_total"). Bytes are fed as they
 * arrive (a curl write callback); each complete line is parsed at once and every sample handed to
 * a callback, so a page is never held in memory: only the current line, at most max_line bytes
 * (a longer line is an error, never a reason to grow).
 *
 *   # HELP name text            (escapes \\ and \n in text)
 *   # TYPE name counter|gauge|histogram|summary|untyped
 *   name{label="value",...} value [timestamp_ms]
 *                               (value: a float, NaN, +Inf, -Inf; label values escape \\, \", \n)
 *
 * Samples of a histogram or summary family ("x_bucket", "x_sum", "x_count", or "x" with a
 * quantile label) carry the family's name and type from the preceding TYPE line; so do a counter's
 * "x_total" and every such family's "x_created" (OpenMetrics). A sample of any other name starts an
 * untyped family of its own. Errors say the line number and what is wrong: "line 12: expected '='
 * after label name 'le', got '3'".
 *
 * What is accepted is what Prometheus accepts (its parser and promtool's, checked by
 * tests/integration/test_prom_conformance.py): values as Go's strconv.ParseFloat reads them without
 * hex or '_' (NaN, Inf, +Inf, -Inf, Infinity in any case; out of range is an error), timestamps as
 * int64, label values valid UTF-8 without NUL, no label twice; and a few things more: blanks and
 * tabs around every token, "\r\n" line ends, a trailing comma in a label set, blank lines and
 * comments anywhere. Only blank lines may follow "# EOF". The parser keeps the current line (at
 * most max_line bytes, copied only when it spans two feeds) and a scratch buffer of twice it, both
 * reused: no allocation per sample.
 */

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "macros.h"

typedef enum PromType {
        PROM_UNTYPED,
        PROM_COUNTER,
        PROM_GAUGE,
        PROM_HISTOGRAM,
        PROM_SUMMARY,
} PromType;

typedef struct PromLabel {
        const char *name; /* NUL-terminated, borrowed for the callback */
        const char *value; /* unescaped, NUL-terminated */
} PromLabel;

typedef struct PromSample {
        const char *name; /* the sample's own name: "alluxio_fuse_result", "x_bucket" */
        const char *family; /* the family from TYPE ("x" for "x_bucket"); == name when none */
        PromType type; /* of the family; PROM_UNTYPED without a TYPE line */
        const PromLabel *labels;
        size_t n_labels;
        double value;
        bool has_timestamp;
        int64_t timestamp_ms;
        uint64_t line; /* 1-based */
} PromSample;

/* Called for each sample; everything is borrowed for the call. A negative return stops parsing
 * and is returned by prom_parser_feed()/prom_parser_finish(). */
typedef int (*prom_sample_fn)(const PromSample *s, void *userdata);

typedef struct PromParser PromParser;

/* max_line: the longest line accepted, without its newline (0: 64 KiB). fn may be NULL (only count).
 * 0, -EINVAL or -ENOMEM; *ret owns the parser. */
int prom_parser_new(size_t max_line, prom_sample_fn fn, void *userdata, PromParser **ret);
PromParser *prom_parser_free(PromParser *p);
DEFINE_TRIVIAL_CLEANUP_FUNC(PromParser *, prom_parser_free);

/* Parses what completes lines in buf (the rest is kept, up to max_line). 0, the callback's
 * negative value, or -EBADMSG (prom_parser_error() says why) / -E2BIG (a line too long). After an
 * error every further call returns the same error; a feed after prom_parser_finish() is -EINVAL. */
int prom_parser_feed(PromParser *p, const char *buf, size_t len);
/* The end of the page: parses a last line without a newline. Same returns. */
int prom_parser_finish(PromParser *p);

/* "line 12: ..." after an error, else NULL. Borrowed. */
const char *prom_parser_error(const PromParser *p);
uint64_t prom_parser_samples(const PromParser *p);

/* Parses a whole page in memory (tests, the fuzzer, the benchmark); no line is too long, as the page
 * is in memory already. 0, or the returns of prom_parser_feed(), or -ENOMEM. *ret_error (when
 * ret_error is not NULL) is set to a malloc'd copy of the message on a parse error or a callback's
 * stop, NULL otherwise: the caller frees it. */
int prom_parse_buffer(const char *buf, size_t len, prom_sample_fn fn, void *userdata, char **ret_error);
