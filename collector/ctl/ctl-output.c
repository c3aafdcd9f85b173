/* SPDX-License-Identifier: MIT */
#include <math.h>

#include "ctl.h"

bool ctl_want_color(FILE *f) {
        const char *e = getenv("NO_COLOR"), *term = getenv("TERM");

        if (!isempty(e) || streq_ptr(term, "dumb"))
                return false;
        return isatty(fileno(f)) > 0;
}

int ctl_exit_code_from_string(const char *status) {
        VigilStatus s = vigil_status_from_string(status);
        return s < 0 ? (int)VIGIL_UNKNOWN : (int)s;
}

static const char *status_color(const char *status) {
        switch (vigil_status_from_string(status)) {
        case VIGIL_OK:
                return "\x1b[32m";
        case VIGIL_WARN:
                return "\x1b[33m";
        case VIGIL_CRIT:
                return "\x1b[1;31m";
        default:
                return "\x1b[35m";
        }
}

void ctl_print_status(FILE *f, const char *status, int width, bool color) {
        status = isempty(status) ? "UNKNOWN" : status;
        if (color)
                fprintf(f, "%s%s\x1b[0m%*s", status_color(status), status,
                        MAX(width - (int)strlen(status), 0), "");
        else
                fprintf(f, "%-*s", width, status);
}

int ctl_print_json(json_object *o, FILE *f) {
        const char *s = json_object_to_json_string_ext(
                o, JSON_C_TO_STRING_PRETTY | JSON_C_TO_STRING_SPACED | JSON_C_TO_STRING_NOSLASHESCAPE);
        if (!s)
                return -ENOMEM;
        fputs(s, f);
        fputc('\n', f);
        return 0;
}

const char *ctl_format_time_ms(char *buf, size_t size, int64_t time_ms) {
        time_t t = (time_t)(time_ms / 1000);
        struct tm tm;

        if (!localtime_r(&t, &tm) || strftime(buf, size, "%Y-%m-%d %H:%M:%S", &tm) == 0)
                snprintf(buf, size, "%lld", (long long)time_ms);
        return buf;
}

const char *ctl_format_age(char *buf, size_t size, double age_s) {
        char d[FORMAT_DURATION_MAX];

        if (age_s < 0 || isnan(age_s))
                snprintf(buf, size, "never");
        else
                snprintf(buf, size, "%s ago", format_duration(d, sizeof(d), (usec_t)(age_s * USEC_PER_SEC)));
        return buf;
}

int ctl_status_compare(const char *a, const char *b) {
        VigilStatus x = ctl_exit_code_from_string(a), y = ctl_exit_code_from_string(b);

        if (x == y)
                return 0;
        return vigil_status_worst(x, y) == x ? -1 : 1;
}

json_object *ctl_get_array(json_object *o, const char *key) {
        json_object *v;
        if (!o || !json_object_object_get_ex(o, key, &v) || !json_object_is_type(v, json_type_array))
                return NULL;
        return v;
}

const char *ctl_plural(int64_t n) {
        return n == 1 ? "" : "s";
}

const char *ctl_format_number(char *buf, size_t size, double v) {
        double a = fabs(v);
        int decimals = a >= 100 || a == 0 ? 0 : a >= 10 ? 1 : a >= 1 ? 2 : 3;
        char *dot;

        snprintf(buf, size, "%.*f", decimals, v);
        dot = strchr(buf, '.');
        if (dot) {
                char *end = dot + strlen(dot);
                while (end > dot + 1 && end[-1] == '0')
                        *--end = 0;
                if (end == dot + 1)
                        *dot = 0;
        }
        if (streq(buf, "-0"))
                snprintf(buf, size, "0");
        return buf;
}

const char *ctl_format_bytes_per_s(char *buf, size_t size, double v) {
        static const char *const units[] = {"B", "kB", "MB", "GB", "TB", "PB"};
        char number[64];
        size_t u = 0;

        while (fabs(v) >= 999.5 && u < ELEMENTSOF(units) - 1) {
                v /= 1000;
                u++;
        }
        snprintf(buf, size, "%s %s/s", ctl_format_number(number, sizeof(number), v), units[u]);
        return buf;
}

json_object *ctl_get_object(json_object *o, const char *key) {
        json_object *v;
        if (!o || !json_object_object_get_ex(o, key, &v) || !json_object_is_type(v, json_type_object))
                return NULL;
        return v;
}

bool ctl_get_number(json_object *o, const char *key, double *ret) {
        json_object *v;
        if (!o || !json_object_object_get_ex(o, key, &v) ||
                !(json_object_is_type(v, json_type_double) || json_object_is_type(v, json_type_int)))
                return false;
        *ret = json_object_get_double(v);
        return true;
}
