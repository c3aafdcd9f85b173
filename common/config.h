/* SPDX-License-Identifier: MIT */
#pragma once

/*
 * A declarative option table (in the manner of Fluent Bit's config maps): one table per program
 * describes every setting once, and from it come the command-line flags (--key, with '_' shown as
 * '-'), the INI keys of the program's main section, the defaults shown in --help, and the one-line
 * error messages for bad values.
 *
 * Precedence: built-in defaults < config file < flags. Repeatable (STRV) options accumulate.
 * Errors are returned as -EINVAL with *ret_error set to an allocated one-line message naming the
 * key and the reason; the caller prints it and exits 2.
 */

#include <stddef.h>

#include "time-util.h"

typedef enum ConfigType {
        CONFIG_STRING, /* char *, owned by the object */
        CONFIG_DURATION, /* usec_t; bare numbers are seconds */
        CONFIG_UINT, /* unsigned */
        CONFIG_SIZE, /* uint64_t bytes; accepts K, M, G, T suffixes in either case (powers of 1024) */
        CONFIG_BOOL, /* bool; as a flag takes no argument */
        CONFIG_STRV, /* char **, repeatable */
        CONFIG_CUSTOM, /* parsed by .parse */
} ConfigType;

enum {
        CONFIG_ARGV_ONLY = 1 << 0, /* a flag that has no config-file key (--config, --once) */
};

typedef struct ConfigOption {
        const char *key; /* "interval": INI key `interval`, flag --interval */
        char short_flag; /* 0 for none */
        ConfigType type;
        size_t offset; /* offsetof(Settings, field) */
        const char *metavar;
        const char *help;
        unsigned flags;
        /* For CONFIG_CUSTOM: parse value into the object; return 0 or -EINVAL and a reason. */
        int (*parse)(void *obj, const char *value, char **ret_reason);
} ConfigOption;

/* Callback for INI sections other than the main one; may set *ret_reason on error. It is also
 * called once for each section header with key and value NULL (so that a section without keys
 * still counts). */
typedef int (*config_section_fn)(
        void *obj, const char *section, const char *key, const char *value, char **ret_reason);

/* Applies value to the option's field of obj. */
int config_set(const ConfigOption *opt, void *obj, const char *value, char **ret_error);

/*
 * Parses an INI file: keys in [main_section] (or before any section) go through the table, other
 * sections to section_fn (NULL: they are errors). Unknown keys are errors.
 */
int config_parse_file(const ConfigOption *table, size_t n, const char *main_section, void *obj,
        config_section_fn section_fn, const char *path, char **ret_error);

/*
 * Finds the value of --config/-c in argv without applying anything else; *ret_path is NULL
 * when absent. Does not allocate.
 */
int config_find_file_arg(int argc, char **argv, const char **ret_path);

/*
 * Applies every flag of argv. --help and --version are handled by the caller: this returns 1
 * when --help was given and 2 for --version, 0 otherwise. Positional arguments are returned in
 * *ret_args (may be NULL when none expected: then they are an error).
 */
int config_parse_argv(const ConfigOption *table, size_t n, void *obj, int argc, char **argv,
        char ***ret_args, char **ret_error);

/* Prints the options part of --help, with the current values of obj as defaults. */
void config_print_help(const ConfigOption *table, size_t n, const void *obj, FILE *f);

/* Prints the table as config-file keys ("key = VALUE  help (default: ...)"), for section settings. */
void config_print_keys(const ConfigOption *table, size_t n, const void *obj, FILE *f);

/* Frees the STRING and STRV fields of obj. */
void config_free_fields(const ConfigOption *table, size_t n, void *obj);

/* Parses "64K", "10M", "1G", or plain bytes. */
int parse_size(const char *s, uint64_t *ret);
/* Parses a decimal unsigned int. */
int parse_uint(const char *s, unsigned *ret);
