/* SPDX-License-Identifier: MIT */
#include <inttypes.h>

#include "ctl.h"
#include "json-util.h"

/* "==> node-a pod:ns/pod/c <== 5 errors, 2 warnings, 0 fatal; restarts 3; 12 lines cut" */
static void print_header(json_object *g, FILE *f) {
        json_object *counts = json_object_object_get(g, "counts");
        const char *source = json_get_string(g, "source", "");
        int64_t errors = json_get_int(counts, "error", 0), warnings = json_get_int(counts, "warn", 0),
                restarts = json_get_int(g, "restart_count", 0), cut = json_get_int(g, "lines_cut", 0),
                lost = json_get_int(g, "bytes_lost", 0);

        fprintf(f, "==> %s %s <== %" PRId64 " error%s, %" PRId64 " warning%s, %" PRId64 " fatal",
                json_get_string(g, "node", ""), source, errors, ctl_plural(errors), warnings,
                ctl_plural(warnings), json_get_int(counts, "fatal", 0));
        /* Only containers restart; for them "restarts 0" is news too. */
        if (startswith(source, "pod:") || restarts > 0)
                fprintf(f, "; restarts %" PRId64, restarts);
        if (cut > 0)
                fprintf(f, "; %" PRId64 " line%s cut", cut, ctl_plural(cut));
        if (lost > 0)
                fprintf(f, "; %" PRId64 " bytes lost unread", lost);
        fputc('\n', f);
}

/*
 * "[ERROR 5x 2025-11-25 13:59:55 .. 14:00:00] <sample>", then up to after_context context lines.
 * The last time drops the date when it is the first's.
 */
static void print_signature(json_object *sig, unsigned after_context, FILE *f) {
        json_object *context = ctl_get_array(sig, "context");
        int64_t first_ms = json_get_int(sig, "first_ms", 0), last_ms = json_get_int(sig, "last_ms", 0);
        char first[64], last[64];
        size_t n = context ? json_object_array_length(context) : 0;

        ctl_format_time_ms(first, sizeof(first), first_ms);
        ctl_format_time_ms(last, sizeof(last), last_ms);
        fprintf(f, "[%s %" PRId64 "x %s", json_get_string(sig, "level", "?"), json_get_int(sig, "count", 0),
                first);
        if (last_ms != first_ms)
                fprintf(f, " .. %s", strlen(first) > 11 && strncmp(first, last, 11) == 0 ? last + 11 : last);
        fprintf(f, "] %s%s\n", json_get_string(sig, "sample", ""),
                json_object_get_boolean(json_object_object_get(sig, "sample_cut")) ? " [cut]" : "");
        for (size_t i = 0; i < MIN(n, (size_t)after_context); i++)
                fprintf(f, "%s\n", strempty(json_object_get_string(json_object_array_get_idx(context, i))));
}

typedef struct LogsPrinter {
        FILE *f;
        unsigned after_context;
        bool separate; /* a signature was printed: the next group begins with "--" (as grep -A has) */
} LogsPrinter;

/* Called before whatever begins a group (a header, a signature): the separator when due. */
static void begin_group(LogsPrinter *p) {
        if (p->separate && p->after_context > 0)
                fprintf(p->f, "--\n");
        p->separate = false;
}

static void print_signatures(LogsPrinter *p, json_object *sigs) {
        for (size_t i = 0; sigs && i < json_object_array_length(sigs); i++) {
                begin_group(p);
                print_signature(json_object_array_get_idx(sigs, i), p->after_context, p->f);
                p->separate = true;
        }
}

int ctl_logs_render(json_object *logs, unsigned after_context, bool color, FILE *f) {
        json_object *groups = ctl_get_array(logs, "logs");
        LogsPrinter p = {.f = f, .after_context = after_context};
        size_t n;

        if (!groups)
                return -EBADMSG;
        n = json_object_array_length(groups);
        if (n == 0) {
                fprintf(f, "no log findings\n");
                return 0;
        }
        for (size_t i = 0; i < n; i++) {
                json_object *g = json_object_array_get_idx(groups, i),
                            *previous = json_object_object_get(g, "previous");

                begin_group(&p);
                print_header(g, f);
                print_signatures(&p, ctl_get_array(g, "signatures"));
                if (!json_object_is_type(previous, json_type_object))
                        continue;
                begin_group(&p);
                fprintf(f, "previous container (restart %" PRId64 "):\n",
                        json_get_int(previous, "restart_count", 0));
                print_signatures(&p, ctl_get_array(previous, "signatures"));
        }
        return 0;
}
