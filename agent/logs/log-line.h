/* SPDX-License-Identifier: MIT */
#pragma once

/*
 * What one log line says: whether it starts a record (a new log statement) or continues the one
 * before (an exception line, a "\tat ..." frame, "Caused by: ..."), its level, its time, and the
 * signature that groups it with others of the same kind. Pure functions on borrowed bytes; the
 * scanner (log-scan.h) calls them only for the few lines that can matter.
 *
 * Record forms understood:
 *   log4j   2024-07-04 17:29:53,499 ERROR HdfsUfsStatusIterator - Failed to list ...
 *           2024-07-05 14:22:28,290 [QuotaThread] ERROR quota.QuotaCoordinator (Q.java:12) - ...
 *           (also ISO "T" separators and an optional zone after the time)
 *   JSON    {"level":"error","time":"2024-08-09T04:06:19.986Z","msg":"..."} (zap, logrus; the
 *           "level", "lvl" or "severity" key; "time", "ts" or "timestamp", RFC 3339 or epoch s)
 *   bare    ERROR something happened      (the level word first; a record without a time)
 */

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "vigil.pb-c.h"

typedef Vigil__LogLevel LogLevel;

/* Bit set of levels: 1u << LOG_LEVEL. */
typedef unsigned LogLevelMask;
#define LOG_LEVEL_BIT(l) (1u << (l))

/* "WARN", "ERROR", ...; "UNSPECIFIED" for 0. */
const char *log_line_level_name(LogLevel l);
/* Case-insensitive: TRACE, DEBUG, INFO, WARN, WARNING, ERROR, FATAL, CRITICAL and PANIC (both FATAL).
 * 0 when unknown. Every word of a level contains one of log_line_level_words(level). */
LogLevel log_line_level_parse(const char *s, size_t len);
/* "WARN,ERROR" -> mask; -EINVAL for an unknown name or an empty list. */
int log_line_levels_parse(const char *s, LogLevelMask *ret);
/* The words whose presence (any case) a line needs to have that level: NULL-terminated. */
const char *const *log_line_level_words(LogLevel l);

typedef struct LogLineInfo {
        bool record; /* starts a record: anything else continues the previous one */
        LogLevel level; /* 0 when the record has none we recognise */
        int64_t time_ms; /* 0 when the line carries no time we understand */
        size_t msg_offset; /* where the message starts (after time, thread, level, logger "- ") */
        size_t msg_len; /* its length (JSON: the "msg" value, still escaped) */
} LogLineInfo;

/* Classifies line[0..len) (no newline). Never fails: unknown text is a continuation. */
void log_line_classify(const char *line, size_t len, LogLineInfo *ret);

/* Parses RFC 3339 / ISO 8601 ("2024-08-09T04:06:19.986Z", "2024-07-04 17:29:53,499", zones
 * "Z", "+02:00", none = UTC) into Unix ms. Returns the length parsed, 0 if it is not a time. */
size_t log_parse_time(const char *s, size_t len, int64_t *ret_ms);

/*
 * The grouping signature of a message: digits runs, hex ids (0x..., 8+ hex digits with a digit,
 * UUIDs) and IPv4/IPv6 addresses become '#'; runs of whitespace one space. Writes at most
 * size - 1 bytes and a NUL to buf and returns the FNV-1a hash of level and the masked text.
 */
uint64_t log_signature(LogLevel level, const char *msg, size_t len, char *buf, size_t size);
