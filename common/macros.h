/* SPDX-License-Identifier: MIT */
#pragma once

/* Small helpers used everywhere: cleanup attributes, ownership hand-off, array sizes. */

#include <dirent.h>
#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define _cleanup_(f) __attribute__((cleanup(f)))
#define _unused_ __attribute__((unused))
#define _printf_(a, b) __attribute__((format(printf, a, b)))
#define _noreturn_ __attribute__((noreturn))
#define _likely_(x) __builtin_expect(!!(x), 1)
#define _unlikely_(x) __builtin_expect(!!(x), 0)

#define ELEMENTSOF(x) (sizeof(x) / sizeof((x)[0]))
#define MAX(a, b) ((a) > (b) ? (a) : (b))
#define MIN(a, b) ((a) < (b) ? (a) : (b))

/* Hand ownership on: returns the value and clears the variable so its cleanup does nothing. */
#define TAKE_GENERIC(var, type, nullvalue)                                                                  \
        ({                                                                                                  \
                type *_pvar_ = &(var);                                                                      \
                type _var_ = *_pvar_;                                                                       \
                type _nullvalue_ = nullvalue;                                                               \
                *_pvar_ = _nullvalue_;                                                                      \
                _var_;                                                                                      \
        })
#define TAKE_PTR(ptr) TAKE_GENERIC(ptr, typeof(ptr), NULL)
#define TAKE_FD(fd) TAKE_GENERIC(fd, int, -EBADF)

/* Defines fn##p(type **p) calling fn(*p) when *p is not NULL, for use with _cleanup_. */
#define DEFINE_TRIVIAL_CLEANUP_FUNC(type, func)                                                             \
        static inline void func##p(type *p) {                                                               \
                if (*p)                                                                                     \
                        *p = func(*p);                                                                      \
        }
#define DEFINE_TRIVIAL_CLEANUP_FUNC_VOID(type, func)                                                        \
        static inline void func##p(type *p) {                                                               \
                if (*p)                                                                                     \
                        func(*p);                                                                           \
        }

static inline void *mfree(void *p) {
        free(p);
        return NULL;
}

static inline void freep(void *p) {
        free(*(void **)p);
}

static inline int safe_close(int fd) {
        if (fd >= 0) {
                int saved = errno;
                (void)close(fd);
                errno = saved;
        }
        return -EBADF;
}

static inline void closep(int *fd) {
        *fd = safe_close(*fd);
}

static inline void fclosep(FILE **f) {
        if (*f)
                fclose(*f);
}

static inline bool streq(const char *a, const char *b) {
        return strcmp(a, b) == 0;
}

static inline bool streq_ptr(const char *a, const char *b) {
        if (!a || !b)
                return a == b;
        return streq(a, b);
}

static inline const char *strempty(const char *s) {
        return s ?: "";
}

static inline bool isempty(const char *s) {
        return !s || !*s;
}

/* Returns the part of s after prefix, or NULL when s does not start with it. */
static inline const char *startswith(const char *s, const char *prefix) {
        size_t l = strlen(prefix);
        return strncmp(s, prefix, l) == 0 ? s + l : NULL;
}

#define STRV_FOREACH(s, l) for (char **s = (l); s && *s; s++)

/* Frees a NULL-terminated array of strings; returns NULL. */
char **strv_free(char **l);
DEFINE_TRIVIAL_CLEANUP_FUNC(char **, strv_free);
/* Appends a copy of value; returns 0 or -ENOMEM. */
int strv_extend(char ***l, const char *value);
size_t strv_length(char *const *l);
/* A deep copy (NULL for NULL); NULL on OOM. */
char **strv_copy(char *const *l);

static inline void closedirp(DIR **d) {
        if (*d)
                closedir(*d);
}
