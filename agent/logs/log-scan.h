/* SPDX-License-Identifier: MIT */
#pragma once

/*
 * The scanner: turns the bytes of one log stream into events. It is fed chunks as they are read
 * and consumes whole lines, returning how much it took; the caller keeps the rest (an unfinished
 * last line) and offers it again with more data. So the caller's read offset plus the scanner's
 * carry-over (log_scanner_save()) is the whole position in the stream: nothing is read twice or
 * skipped across restarts.
 *
 * Framing:
 *   PLAIN   one line per record line ("\n"; a trailing "\r" is dropped)
 *   CRI     "<RFC3339Nano> <stdout|stderr> <P|F> <text>": P parts are joined until F
 *   DOCKER  json-file: {"log":"text\n","stream":"stderr","time":"..."}; a "log" without the
 *           final "\n" is a partial part, joined like CRI's P
 *   AUTO    decided by the first line (and again after log_scanner_reset())
 *
 * An event is a record line whose level is in the mask, plus up to `context` following lines that
 * belong to it (log-line.h: continuations), like grep -A N but never crossing into the next
 * record. It is emitted once its context is complete, the next record starts, or
 * log_scanner_flush() is called.
 *
 * Bounded memory whatever the input: a line (or joined CRI line) longer than max_line is cut at
 * max_line, marked cut, and the rest dropped as it streams by; at most (context + 1) lines of
 * max_line are held. Lines are found with a vectorised search for the level words, so the bytes
 * of uninteresting PLAIN lines are looked at once, without per-line work.
 */

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "log-line.h"
#include "macros.h"

typedef enum LogFormat {
        LOG_FORMAT_AUTO,
        LOG_FORMAT_PLAIN,
        LOG_FORMAT_CRI,
        LOG_FORMAT_DOCKER,
} LogFormat;

typedef struct LogEvent {
        LogLevel level;
        int64_t time_ms; /* from the line; 0 when it has none */
        const char *line; /* the record's text (for CRI/docker: the payload), not NUL-terminated */
        size_t line_len;
        size_t msg_offset; /* the message within line (log-line.h) */
        size_t msg_len;
        bool line_cut;
        const char *const *context; /* n_context lines, each NUL-terminated (cut at max_line) */
        size_t n_context;
} LogEvent;

/* Called for each event; everything in e is borrowed for the duration of the call. */
typedef void (*log_event_fn)(const LogEvent *e, void *userdata);

typedef struct LogScanOptions {
        LogFormat format;
        LogLevelMask levels; /* 0: WARN and ERROR (and FATAL) */
        unsigned context; /* continuation lines attached to an event */
        size_t max_line; /* 0: 64 KiB */
} LogScanOptions;

typedef struct LogScanStats {
        uint64_t lines; /* logical lines (joined CRI parts count once) */
        uint64_t bytes; /* consumed */
        uint64_t lines_cut;
        uint64_t malformed; /* CRI/docker records that did not parse (taken as plain text) */
} LogScanStats;

typedef struct LogScanner LogScanner;

int log_scanner_new(const LogScanOptions *o, log_event_fn fn, void *userdata, LogScanner **ret);
LogScanner *log_scanner_free(LogScanner *s);
DEFINE_TRIVIAL_CLEANUP_FUNC(LogScanner *, log_scanner_free);

/*
 * Consumes the complete lines of buf[0..len) and returns the number of bytes taken (the caller
 * offers buf[taken..] again later, with more). With eof set the stream is finished (a rotated file
 * read to its end): an unfinished last line is taken as a line too. A line longer than max_line is
 * taken in pieces even without its end (the first piece cut and marked, the rest dropped).
 */
size_t log_scanner_feed(LogScanner *s, const char *buf, size_t len, bool eof);

/*
 * Feeds one complete record that arrived framed (a journald entry's MESSAGE, without its final
 * newline): its first line starts a record even without a level or time of its own, level and
 * time_ms (0: none) standing in for them; the lines after it are its context. The event, if its
 * level is in the mask, is emitted before this returns; nothing is carried over.
 */
void log_scanner_feed_record(LogScanner *s, const char *text, size_t len, LogLevel level, int64_t time_ms);

/* Emits an open event now (its context is whatever was collected). */
void log_scanner_flush(LogScanner *s);

/* Whether an event is still collecting its context. */
bool log_scanner_event_open(const LogScanner *s);

/* Emits an open event, then forgets the carry-over and the detected format: the next byte starts
 * a new stream. */
void log_scanner_reset(LogScanner *s);

/* The carry-over (an open event, a CRI line being joined) as a LogCarry; *ret malloc'd. */
int log_scanner_save(const LogScanner *s, uint8_t **ret, size_t *ret_size);
/* Restores what log_scanner_save() wrote; -EBADMSG when it does not decode. */
int log_scanner_load(LogScanner *s, const uint8_t *buf, size_t size);

/* The format in use (AUTO until the first line decided it). */
LogFormat log_scanner_format(const LogScanner *s);
void log_scanner_get_stats(const LogScanner *s, LogScanStats *ret);
