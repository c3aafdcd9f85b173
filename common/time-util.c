/* SPDX-License-Identifier: MIT */
#include <ctype.h>
#include <inttypes.h>

#include "time-util.h"

usec_t now_usec(clockid_t clock) {
        struct timespec ts;
        if (clock_gettime(clock, &ts) < 0)
                abort(); /* cannot fail with a valid clock id */
        return (usec_t)ts.tv_sec * USEC_PER_SEC + (usec_t)ts.tv_nsec / 1000;
}

static usec_t unit_multiplier(const char *u, size_t n) {
        static const struct {
                const char *name;
                usec_t usec;
        } units[] = {
                {"us", 1},
                {"ms", USEC_PER_MSEC},
                {"s", USEC_PER_SEC},
                {"sec", USEC_PER_SEC},
                {"m", USEC_PER_MINUTE},
                {"min", USEC_PER_MINUTE},
                {"h", USEC_PER_HOUR},
                {"d", USEC_PER_DAY},
        };
        for (size_t i = 0; i < ELEMENTSOF(units); i++)
                if (strlen(units[i].name) == n && strncmp(u, units[i].name, n) == 0)
                        return units[i].usec;
        return 0;
}

int parse_duration(const char *s, usec_t default_unit, usec_t *ret_usec) {
        usec_t total = 0;
        bool any = false;

        if (!s)
                return -EINVAL;
        while (isspace((unsigned char)*s))
                s++;
        while (*s) {
                char *end;
                if (!isdigit((unsigned char)*s) && *s != '.')
                        return -EINVAL;
                errno = 0;
                double v = strtod(s, &end);
                if (errno != 0 || end == s || v < 0)
                        return -EINVAL;
                s = end;
                const char *u = s;
                while (isalpha((unsigned char)*s))
                        s++;
                usec_t mult = u == s ? default_unit : unit_multiplier(u, s - u);
                if (mult == 0)
                        return -EINVAL;
                double add = v * (double)mult;
                if (add >= (double)(UINT64_MAX / 2) || total + (usec_t)add < total)
                        return -ERANGE;
                total += (usec_t)add;
                any = true;
                while (isspace((unsigned char)*s))
                        s++;
        }
        if (!any)
                return -EINVAL;
        *ret_usec = total;
        return 0;
}

const char *format_duration(char *buf, size_t size, usec_t usec) {
        if (usec == USEC_INFINITY)
                snprintf(buf, size, "infinity");
        else if (usec < USEC_PER_MSEC)
                snprintf(buf, size, "%" PRIu64 " us", usec);
        else if (usec < USEC_PER_SEC)
                snprintf(buf, size, "%" PRIu64 " ms", usec / USEC_PER_MSEC);
        else if (usec < 10 * USEC_PER_SEC)
                snprintf(buf, size, "%.1f s", (double)usec / USEC_PER_SEC);
        else if (usec < USEC_PER_MINUTE * 2)
                snprintf(buf, size, "%" PRIu64 " s", usec / USEC_PER_SEC);
        else if (usec < USEC_PER_HOUR)
                snprintf(buf, size, "%" PRIu64 "m%02" PRIu64 "s", usec / USEC_PER_MINUTE,
                        (usec % USEC_PER_MINUTE) / USEC_PER_SEC);
        else if (usec < USEC_PER_DAY)
                snprintf(buf, size, "%" PRIu64 "h%02" PRIu64 "m", usec / USEC_PER_HOUR,
                        (usec % USEC_PER_HOUR) / USEC_PER_MINUTE);
        else
                snprintf(buf, size, "%" PRIu64 "d%" PRIu64 "h", usec / USEC_PER_DAY,
                        (usec % USEC_PER_DAY) / USEC_PER_HOUR);
        return buf;
}
