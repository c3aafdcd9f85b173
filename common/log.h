/* SPDX-License-Identifier: MIT */
#pragma once

/*
 * Logging to stderr, one line per message, "<program>: <message>" (with a syslog priority
 * prefix "<N>" when stderr is the journal, so journald keeps the level).
 * Only main()-level code logs errors; library code logs at debug level at most.
 * log_*_errno(r, ...) sets errno from r so "%m" prints it, and returns r (negative) so
 * callers can write `return log_error_errno(r, "Failed to ...: %m");`.
 */

#include <syslog.h>

#include "macros.h"

void log_set_program(const char *name);
void log_set_max_level(int level);
int log_get_max_level(void);
/* Parses "debug", "info", "notice", "warning", "err"/"error", "crit"; returns level or -EINVAL. */
int log_level_from_string(const char *s);

int log_internal(int level, int error, const char *format, ...) _printf_(3, 4);

#define log_full_errno(level, error, ...)                                                                   \
        ({                                                                                                  \
                int _l = (level), _e = (error);                                                             \
                _e = _e < 0 ? _e : -_e;                                                                     \
                log_get_max_level() >= _l ? log_internal(_l, _e, __VA_ARGS__) : _e;                         \
        })
#define log_full(level, ...) ((void)log_full_errno(level, 0, __VA_ARGS__))

#define log_debug(...) log_full(LOG_DEBUG, __VA_ARGS__)
#define log_info(...) log_full(LOG_INFO, __VA_ARGS__)
#define log_notice(...) log_full(LOG_NOTICE, __VA_ARGS__)
#define log_warning(...) log_full(LOG_WARNING, __VA_ARGS__)
#define log_error(...) log_full(LOG_ERR, __VA_ARGS__)

#define log_debug_errno(e, ...) log_full_errno(LOG_DEBUG, e, __VA_ARGS__)
#define log_warning_errno(e, ...) log_full_errno(LOG_WARNING, e, __VA_ARGS__)
#define log_error_errno(e, ...) log_full_errno(LOG_ERR, e, __VA_ARGS__)
#define log_oom() log_error_errno(-ENOMEM, "Out of memory.")
