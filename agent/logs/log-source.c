/* SPDX-License-Identifier: MIT */
#include <errno.h>
#include <stdarg.h>

#include "log-source.h"
#include "time-util.h"

static void on_event(const LogEvent *e, void *userdata) {
        LogSource *s = userdata;
        /* Out of memory loses this event's grouping only; the scanner goes on. */
        (void)log_agg_add(s->agg, e, s->now_ms ?: (int64_t)(now_usec(CLOCK_REALTIME) / USEC_PER_MSEC));
}

int log_source_init(LogSource *s, const LogSourceOps *ops, const char *name, const LogSourceSettings *set) {
        int r;

        s->ops = ops;
        if (!(s->name = strdup(name)) || !(s->key = strdup(name)))
                return -ENOMEM;
        r = log_agg_new(&set->agg, &s->agg);
        if (r < 0)
                return r;
        return log_scanner_new(&set->scan, on_event, s, &s->scanner);
}

LogSource *log_source_free(LogSource *s) {
        if (!s)
                return NULL;
        if (s->ops && s->ops->done)
                s->ops->done(s);
        log_scanner_free(s->scanner);
        log_agg_free(s->agg);
        free(s->name);
        free(s->key);
        free(s->error_what);
        return mfree(s);
}

void log_source_set_error(LogSource *s, int err, const char *format, ...) {
        s->error = err;
        s->error_what = mfree(s->error_what);
        if (err < 0 && format) {
                va_list ap;
                va_start(ap, format);
                if (vasprintf(&s->error_what, format, ap) < 0)
                        s->error_what = NULL;
                va_end(ap);
        }
}

int log_source_restore(LogSource *s, const Vigil__LogPosition *p) {
        s->restart_count = p->restart_count;
        if (!p->carry)
                return 0;
        size_t size = vigil__log_carry__get_packed_size(p->carry);
        _cleanup_(freep) uint8_t *buf = malloc(MAX(size, (size_t)1));
        if (!buf)
                return -ENOMEM;
        vigil__log_carry__pack(p->carry, buf);
        return log_scanner_load(s->scanner, buf, size);
}

int log_source_new_position(LogSource *s, Vigil__LogPosition **ret) {
        _cleanup_(freep) uint8_t *buf = NULL;
        size_t size;
        Vigil__LogPosition *p;
        int r;

        if (s->event_was_open && log_scanner_event_open(s->scanner))
                log_scanner_flush(s->scanner);
        s->event_was_open = log_scanner_event_open(s->scanner);
        r = log_scanner_save(s->scanner, &buf, &size);
        if (r < 0)
                return r;
        if (!(p = malloc(sizeof(*p))))
                return -ENOMEM;
        vigil__log_position__init(p);
        p->restart_count = s->restart_count;
        p->carry = vigil__log_carry__unpack(NULL, size, buf);
        if (!p->carry) {
                vigil__log_position__free_unpacked(p, NULL);
                return -ENOMEM;
        }
        *ret = p;
        return 0;
}

int log_source_take_batch(LogSource *s, Vigil__LogSourceBatch **ret) {
        LogScanStats now, delta;
        int r;

        log_scanner_get_stats(s->scanner, &now);
        delta = (LogScanStats){
                .lines = now.lines - s->reported.lines,
                .bytes = now.bytes - s->reported.bytes,
                .lines_cut = now.lines_cut - s->reported.lines_cut,
                .malformed = now.malformed - s->reported.malformed,
        };
        r = log_agg_take_batch(s->agg, s->name, &delta, s->bytes_lost, s->restart_count, ret);
        if (r < 0)
                return r;
        if (!*ret && s->files_lost > 0)
                r = log_agg_take_batch(
                        s->agg, s->name, &(LogScanStats){.bytes = 0}, 1, s->restart_count, ret);
        if (r < 0)
                return r;
        if (*ret) {
                (*ret)->files_lost = s->files_lost;
                if (s->files_lost > 0 && s->bytes_lost == 0)
                        (*ret)->bytes_lost = 0;
        }
        s->reported = now;
        s->bytes_lost = 0;
        s->files_lost = 0;
        return 0;
}
