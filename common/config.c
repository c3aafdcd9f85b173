/* SPDX-License-Identifier: MIT */
#include <getopt.h>
#include <ini.h>
#include <inttypes.h>
#include <stdarg.h>
#include <strings.h>

#include "config.h"

static int make_error(char **ret_error, const char *format, ...) _printf_(2, 3);
static int make_error(char **ret_error, const char *format, ...) {
        va_list ap;
        va_start(ap, format);
        if (ret_error && vasprintf(ret_error, format, ap) < 0)
                *ret_error = NULL;
        va_end(ap);
        return -EINVAL;
}

/* Flags show '_' as '-': key "stale_after" is --stale-after. */
static void flag_name(const char *key, char *buf, size_t size) {
        size_t i;
        for (i = 0; key[i] && i + 1 < size; i++)
                buf[i] = key[i] == '_' ? '-' : key[i];
        buf[i] = 0;
}

int parse_uint(const char *s, unsigned *ret) {
        char *end;
        if (isempty(s) || *s == '-' || *s == '+')
                return -EINVAL;
        errno = 0;
        unsigned long v = strtoul(s, &end, 10);
        if (errno != 0 || *end || v > UINT32_MAX)
                return -EINVAL;
        *ret = (unsigned)v;
        return 0;
}

int parse_size(const char *s, uint64_t *ret) {
        char *end;
        if (isempty(s) || *s == '-' || *s == '+')
                return -EINVAL;
        errno = 0;
        unsigned long long v = strtoull(s, &end, 10);
        if (errno != 0 || end == s)
                return -EINVAL;
        uint64_t mult = 1;
        switch (*end) {
        case 0:
                break;
        case 'K':
        case 'k':
                mult = 1024;
                break;
        case 'M':
        case 'm':
                mult = 1024 * 1024;
                break;
        case 'G':
        case 'g':
                mult = 1024 * 1024 * 1024;
                break;
        case 'T':
        case 't':
                mult = 1024ULL * 1024 * 1024 * 1024;
                break;
        default:
                return -EINVAL;
        }
        if (*end && end[1] && !(streq(end + 1, "iB") || streq(end + 1, "B")))
                return -EINVAL;
        if (v > UINT64_MAX / mult)
                return -ERANGE;
        *ret = v * mult;
        return 0;
}

static int parse_bool(const char *s) {
        static const char *const yes[] = {"1", "yes", "true", "on"},
                                 *const no[] = {"0", "no", "false", "off"};
        for (size_t i = 0; i < ELEMENTSOF(yes); i++) {
                if (strcasecmp(s, yes[i]) == 0)
                        return 1;
                if (strcasecmp(s, no[i]) == 0)
                        return 0;
        }
        return -EINVAL;
}

int config_set(const ConfigOption *opt, void *obj, const char *value, char **ret_error) {
        void *field = (char *)obj + opt->offset;
        _cleanup_(freep) char *reason = NULL;
        char flag[64];
        int r;

        flag_name(opt->key, flag, sizeof(flag));
        switch (opt->type) {
        case CONFIG_STRING: {
                char *copy = strdup(value);
                if (!copy)
                        return -ENOMEM;
                free(*(char **)field);
                *(char **)field = copy;
                return 0;
        }
        case CONFIG_DURATION:
                r = parse_duration(value, USEC_PER_SEC, (usec_t *)field);
                if (r < 0)
                        return make_error(ret_error,
                                "bad value for '%s' (--%s): '%s' is not a duration (e.g. 5s, 200ms, 1h)",
                                opt->key, flag, value);
                return 0;
        case CONFIG_UINT:
                if (parse_uint(value, (unsigned *)field) < 0)
                        return make_error(ret_error,
                                "bad value for '%s' (--%s): '%s' is not a non-negative integer", opt->key,
                                flag, value);
                return 0;
        case CONFIG_SIZE:
                if (parse_size(value, (uint64_t *)field) < 0)
                        return make_error(ret_error,
                                "bad value for '%s' (--%s): '%s' is not a size (e.g. 4096, 64K, 1M)",
                                opt->key, flag, value);
                return 0;
        case CONFIG_BOOL:
                r = parse_bool(value);
                if (r < 0)
                        return make_error(ret_error,
                                "bad value for '%s' (--%s): '%s' is not a boolean (yes/no)", opt->key, flag,
                                value);
                *(bool *)field = r;
                return 0;
        case CONFIG_STRV:
                return strv_extend((char ***)field, value);
        case CONFIG_CUSTOM:
                r = opt->parse(obj, value, &reason);
                if (r == -ENOMEM)
                        return r;
                if (r < 0)
                        return make_error(ret_error, "bad value for '%s' (--%s): %s", opt->key, flag,
                                reason ?: "invalid");
                return 0;
        }
        return -EINVAL;
}

static const ConfigOption *find_option(const ConfigOption *table, size_t n, const char *key) {
        for (size_t i = 0; i < n; i++)
                if (streq(table[i].key, key))
                        return &table[i];
        return NULL;
}

typedef struct IniContext {
        const ConfigOption *table;
        size_t n;
        const char *main_section;
        void *obj;
        config_section_fn section_fn;
        const char *path;
        FILE *f;
        int lineno; /* of the line last read: inih calls the handler right after reading it */
        char *error;
        int r;
} IniContext;

static void section_declared(IniContext *c, const char *line);

static char *config_ini_reader(char *str, int num, void *stream) {
        IniContext *c = stream;
        char *s = fgets(str, num, c->f);
        if (s) {
                c->lineno++;
                section_declared(c, s);
        }
        return s;
}

static int config_ini_handler(void *userdata, const char *section, const char *key, const char *value) {
        IniContext *c = userdata;
        int lineno = c->lineno;
        _cleanup_(freep) char *reason = NULL;
        int r;

        if (c->r < 0)
                return 0;
        if (isempty(section) || streq(section, c->main_section)) {
                const ConfigOption *o = find_option(c->table, c->n, key);
                if (!o || (o->flags & CONFIG_ARGV_ONLY)) {
                        c->r = make_error(&c->error, "%s:%d: unknown key '%s' in [%s]", c->path, lineno, key,
                                c->main_section);
                        return 0;
                }
                r = config_set(o, c->obj, value, &reason);
                if (r < 0) {
                        c->r = r == -ENOMEM ? r
                                            : make_error(&c->error, "%s:%d: %s", c->path, lineno, reason);
                        return 0;
                }
                return 1;
        }
        if (!c->section_fn) {
                c->r = make_error(&c->error, "%s:%d: unknown section [%s]", c->path, lineno, section);
                return 0;
        }
        r = c->section_fn(c->obj, section, key, value, &reason);
        if (r < 0)
                c->r = r == -ENOMEM ? r
                                    : make_error(&c->error, "%s:%d: [%s] %s: %s", c->path, lineno, section,
                                              key, reason ?: "invalid");
        return 1;
}

/* inih says nothing of a section without keys, yet "[fuse /mnt/x]" alone declares a target: tell
 * the section callback about every section header, with key and value NULL. */
static void section_declared(IniContext *c, const char *line) {
        _cleanup_(freep) char *reason = NULL;
        const char *p = line;

        while (*p == ' ' || *p == '\t')
                p++;
        if (*p != '[' || c->r < 0 || !c->section_fn)
                return;
        const char *e = strchr(p, ']');
        if (!e)
                return;
        _cleanup_(freep) char *name = strndup(p + 1, e - p - 1);
        if (!name) {
                c->r = -ENOMEM;
                return;
        }
        if (isempty(name) || streq(name, c->main_section))
                return;
        int r = c->section_fn(c->obj, name, NULL, NULL, &reason);
        if (r < 0)
                c->r = r == -ENOMEM ? r
                                    : make_error(&c->error, "%s:%d: [%s]: %s", c->path, c->lineno, name,
                                              reason ?: "invalid");
}

int config_parse_file(const ConfigOption *table, size_t n, const char *main_section, void *obj,
        config_section_fn section_fn, const char *path, char **ret_error) {
        IniContext c = {
                .table = table,
                .n = n,
                .main_section = main_section,
                .obj = obj,
                .section_fn = section_fn,
                .path = path,
        };
        _cleanup_(fclosep) FILE *f = fopen(path, "re");
        if (!f)
                return make_error(ret_error, "cannot read config file %s: %s", path, strerror(errno));
        c.f = f;
        int line = ini_parse_stream(config_ini_reader, &c, config_ini_handler, &c);
        if (c.r < 0) {
                if (ret_error)
                        *ret_error = c.error;
                else
                        free(c.error);
                return c.r;
        }
        if (line > 0)
                return make_error(
                        ret_error, "%s:%d: syntax error (expected key = value or [section])", path, line);
        if (line < 0)
                return make_error(ret_error, "cannot read config file %s", path);
        return 0;
}

int config_find_file_arg(int argc, char **argv, const char **ret_path) {
        const char *path = NULL;
        for (int i = 1; i < argc; i++) {
                const char *v;
                if (streq(argv[i], "--"))
                        break;
                if ((v = startswith(argv[i], "--config=")))
                        path = v;
                else if ((streq(argv[i], "--config") || streq(argv[i], "-c")) && i + 1 < argc)
                        path = argv[++i];
        }
        *ret_path = path;
        return 0;
}

int config_parse_argv(const ConfigOption *table, size_t n, void *obj, int argc, char **argv,
        char ***ret_args, char **ret_error) {
        _cleanup_(freep) struct option *longopts = calloc(n + 3, sizeof(struct option));
        _cleanup_(freep) char *names = calloc(n, 64);
        char shortopts[3 * 64 + 8] = "+";
        size_t sl = 1;
        int r;

        if (!longopts || !names)
                return -ENOMEM;
        for (size_t i = 0; i < n; i++) {
                char *name = names + i * 64;
                flag_name(table[i].key, name, 64);
                longopts[i] = (struct option){name,
                        table[i].type == CONFIG_BOOL ? optional_argument : required_argument, NULL,
                        256 + (int)i};
                if (table[i].short_flag && sl + 3 < sizeof(shortopts)) {
                        shortopts[sl++] = table[i].short_flag;
                        if (table[i].type != CONFIG_BOOL)
                                shortopts[sl++] = ':';
                }
        }
        longopts[n] = (struct option){"help", no_argument, NULL, 'h'};
        longopts[n + 1] = (struct option){"version", no_argument, NULL, 'V'};
        strcat(shortopts, "h");

        optind = 0;
        opterr = 0;
        for (;;) {
                int longindex = -1;
                int c = getopt_long(argc, argv, shortopts, longopts, &longindex);
                if (c < 0)
                        break;
                if (c == 'h')
                        return 1;
                if (c == 'V')
                        return 2;
                if (c == '?' || c == ':') {
                        const char *bad = argv[optind - 1];
                        if (optopt && optopt < 256)
                                return make_error(ret_error, "unknown option -%c (see --help)", optopt);
                        if (optopt >= 256)
                                return make_error(ret_error, "option %s needs a value (see --help)", bad);
                        return make_error(ret_error, "unknown option %s (see --help)", bad);
                }
                const ConfigOption *o = NULL;
                if (c >= 256)
                        o = &table[c - 256];
                else
                        for (size_t i = 0; i < n; i++)
                                if (table[i].short_flag == c)
                                        o = &table[i];
                if (!o)
                        return make_error(ret_error, "unknown option (see --help)");
                r = config_set(o, obj, o->type == CONFIG_BOOL && !optarg ? "yes" : optarg, ret_error);
                if (r < 0)
                        return r;
        }
        if (optind < argc) {
                if (!ret_args)
                        return make_error(ret_error, "unexpected argument '%s' (see --help)", argv[optind]);
                char **args = NULL;
                for (int i = optind; i < argc; i++)
                        if (strv_extend(&args, argv[i]) < 0) {
                                strv_free(args);
                                return -ENOMEM;
                        }
                *ret_args = args;
        } else if (ret_args)
                *ret_args = NULL;
        return 0;
}

static void print_value(const ConfigOption *o, const void *obj, FILE *f) {
        const void *field = (const char *)obj + o->offset;
        switch (o->type) {
        case CONFIG_STRING:
                if (*(char *const *)field)
                        fprintf(f, " (default: %s)", *(char *const *)field);
                break;
        case CONFIG_DURATION:
                /* USEC_INFINITY marks "not set, derived later": the help text says how. */
                if (*(const usec_t *)field != USEC_INFINITY)
                        fprintf(f, " (default: %s)", FORMAT_DURATION(*(const usec_t *)field));
                break;
        case CONFIG_UINT:
                fprintf(f, " (default: %u)", *(const unsigned *)field);
                break;
        case CONFIG_SIZE:
                fprintf(f, " (default: %" PRIu64 ")", *(const uint64_t *)field);
                break;
        case CONFIG_BOOL:
        case CONFIG_STRV:
        case CONFIG_CUSTOM:
                break;
        }
}

static void print_rows(const ConfigOption *table, size_t n, const void *obj, bool as_keys, FILE *f) {
        for (size_t i = 0; i < n; i++) {
                char flag[64], left[128];
                const char *mv = table[i].metavar;
                flag_name(table[i].key, flag, sizeof(flag));
                if (as_keys)
                        snprintf(left, sizeof(left), "%s = %s", table[i].key, mv ?: "yes|no");
                else if (table[i].short_flag)
                        snprintf(left, sizeof(left), "-%c, --%s%s%s", table[i].short_flag, flag,
                                mv ? " " : "", strempty(mv));
                else
                        snprintf(left, sizeof(left), "    --%s%s%s", flag, mv ? " " : "", strempty(mv));
                fprintf(f, "  %-30s %s", left, table[i].help);
                if (table[i].type == CONFIG_STRV)
                        fprintf(f, " (repeatable)");
                print_value(&table[i], obj, f);
                fputc('\n', f);
        }
}

void config_print_help(const ConfigOption *table, size_t n, const void *obj, FILE *f) {
        print_rows(table, n, obj, false, f);
        fprintf(f, "  %-30s %s\n  %-30s %s\n", "-h, --help", "show this help", "    --version",
                "show the version");
}

void config_print_keys(const ConfigOption *table, size_t n, const void *obj, FILE *f) {
        print_rows(table, n, obj, true, f);
}

void config_free_fields(const ConfigOption *table, size_t n, void *obj) {
        for (size_t i = 0; i < n; i++) {
                void *field = (char *)obj + table[i].offset;
                if (table[i].type == CONFIG_STRING)
                        *(char **)field = mfree(*(char **)field);
                else if (table[i].type == CONFIG_STRV)
                        *(char ***)field = strv_free(*(char ***)field);
        }
}
