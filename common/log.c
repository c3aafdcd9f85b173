/* SPDX-License-Identifier: MIT */
#include <stdarg.h>
#include <sys/stat.h>

#include "log.h"

static const char *program = "vigil";
static int max_level = LOG_INFO;
static int stderr_is_journal = -1;

void log_set_program(const char *name) {
        program = name;
}

void log_set_max_level(int level) {
        max_level = level;
}

int log_get_max_level(void) {
        return max_level;
}

int log_level_from_string(const char *s) {
        static const struct {
                const char *name;
                int level;
        } table[] = {
                {"debug", LOG_DEBUG},
                {"info", LOG_INFO},
                {"notice", LOG_NOTICE},
                {"warning", LOG_WARNING},
                {"err", LOG_ERR},
                {"error", LOG_ERR},
                {"crit", LOG_CRIT},
        };
        for (size_t i = 0; i < ELEMENTSOF(table); i++)
                if (streq(s, table[i].name))
                        return table[i].level;
        return -EINVAL;
}

/* systemd sets JOURNAL_STREAM to "dev:ino" of the stream it connected to stderr. */
static bool detect_journal(void) {
        const char *e = getenv("JOURNAL_STREAM");
        struct stat st;
        unsigned long dev, ino;
        if (!e || sscanf(e, "%lu:%lu", &dev, &ino) != 2 || fstat(STDERR_FILENO, &st) < 0)
                return false;
        return st.st_dev == dev && st.st_ino == ino;
}

int log_internal(int level, int error, const char *format, ...) {
        char buf[2048];
        va_list ap;
        int saved = errno;

        if (stderr_is_journal < 0)
                stderr_is_journal = detect_journal();
        if (error != 0)
                errno = -error;
        va_start(ap, format);
        vsnprintf(buf, sizeof(buf), format, ap);
        va_end(ap);
        if (stderr_is_journal)
                fprintf(stderr, "<%d>%s\n", level, buf);
        else
                fprintf(stderr, "%s: %s\n", program, buf);
        errno = saved;
        return error;
}
