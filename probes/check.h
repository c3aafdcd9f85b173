/* SPDX-License-Identifier: MIT */
#pragma once

/*
 * Check results as probes produce them: the wire type vigil.CheckResult itself, built with
 * these helpers so that every string and nested message is malloc'd and check_free() (protobuf-c's
 * free_unpacked) can release the whole tree.
 */

#include <stdarg.h>

#include "macros.h"
#include "status.h"
#include "time-util.h"
#include "vigil.pb-c.h"

typedef Vigil__CheckResult CheckResult;

/* New result for the check name on target, status UNKNOWN. NULL on OOM. */
CheckResult *check_new(const char *name, const char *target);
CheckResult *check_free(CheckResult *c);
DEFINE_TRIVIAL_CLEANUP_FUNC(CheckResult *, check_free);

/*
 * Sets status, errno (positive, 0 for none), symbolic error code (NULL: the errno name when errno
 * is set) and the one-line message. Returns 0 or -ENOMEM.
 */
int check_set(CheckResult *c, VigilStatus status, int error, const char *code, const char *format, ...)
        _printf_(5, 6);
VigilStatus check_status(const CheckResult *c);

int check_add_int(CheckResult *c, const char *key, int64_t value, const char *unit);
int check_add_double(CheckResult *c, const char *key, double value, const char *unit);
int check_add_string(CheckResult *c, const char *key, const char *value);

/* A growing list of results; owns them. */
typedef struct CheckList {
        CheckResult **items;
        size_t n;
} CheckList;

/* Appends c, taking ownership on success. */
int check_list_add(CheckList *l, CheckResult *c);
/* Frees every result and empties the list. */
void check_list_clear(CheckList *l);
/* The worst status in the list; UNKNOWN when empty. */
VigilStatus check_list_worst(const CheckList *l);
