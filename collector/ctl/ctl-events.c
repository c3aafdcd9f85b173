/* SPDX-License-Identifier: MIT */
#include "ctl.h"
#include "json-util.h"

/* The transition column, "OK→CRIT": its width counts the arrow as one column, not three bytes. */
static size_t transition_width(json_object *e) {
        return strlen(json_get_string(e, "from", "?")) + 1 + strlen(json_get_string(e, "to", "?"));
}

int ctl_events_render(json_object *events, bool color, FILE *f) {
        json_object *a;
        size_t n, wnode = strlen("NODE"), wcheck = strlen("CHECK"), wtarget = strlen("TARGET"),
                  wtrans = strlen("FROM→TO") - 2;
        char t[64];

        if (!events || !json_object_object_get_ex(events, "events", &a) ||
                !json_object_is_type(a, json_type_array))
                return -EBADMSG;
        n = json_object_array_length(a);
        if (n == 0) {
                fprintf(f, "no events\n");
                return 0;
        }
        for (size_t i = 0; i < n; i++) {
                json_object *e = json_object_array_get_idx(a, i);
                wnode = MAX(wnode, strlen(json_get_string(e, "node", "")));
                wcheck = MAX(wcheck, strlen(json_get_string(e, "check", "")));
                wtarget = MAX(wtarget, strlen(json_get_string(e, "target", "")));
                wtrans = MAX(wtrans, transition_width(e));
        }
        fprintf(f, "%-19s  %-*s  %-*s  %-*s  FROM→TO%*s  MESSAGE\n", "TIME", (int)wnode, "NODE", (int)wcheck,
                "CHECK", (int)wtarget, "TARGET", (int)(wtrans - (strlen("FROM→TO") - 2)), "");
        for (size_t i = 0; i < n; i++) {
                json_object *e = json_object_array_get_idx(a, i);
                const char *from = json_get_string(e, "from", "?"), *to = json_get_string(e, "to", "?");

                fprintf(f, "%-19s  %-*s  %-*s  %-*s  ",
                        ctl_format_time_ms(t, sizeof(t), json_get_int(e, "time_ms", 0)), (int)wnode,
                        json_get_string(e, "node", ""), (int)wcheck, json_get_string(e, "check", ""),
                        (int)wtarget, json_get_string(e, "target", ""));
                /* Only the new status is colored: it is what the event is about. */
                fprintf(f, "%s→", from);
                ctl_print_status(f, to, 0, color);
                fprintf(f, "%*s  %s\n", (int)(wtrans - transition_width(e)), "",
                        json_get_string(e, "message", ""));
        }
        return 0;
}
