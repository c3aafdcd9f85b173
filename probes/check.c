/* SPDX-License-Identifier: MIT */
#include "check.h"
#include "json-util.h"

CheckResult *check_new(const char *name, const char *target) {
        _cleanup_(check_freep) CheckResult *c = malloc(sizeof(CheckResult));
        if (!c)
                return NULL;
        vigil__check_result__init(c);
        c->name = strdup(name);
        c->target = strdup(target);
        if (!c->name || !c->target)
                return NULL;
        c->status = VIGIL__STATUS__STATUS_UNKNOWN;
        return TAKE_PTR(c);
}

CheckResult *check_free(CheckResult *c) {
        if (c)
                protobuf_c_message_free_unpacked(&c->base, NULL);
        return NULL;
}

/* Replaces a string field, keeping protobuf-c's shared empty string out of free()'s way. */
static int replace_string(char **field, char *value) {
        if (!value)
                return -ENOMEM;
        if (*field != protobuf_c_empty_string)
                free(*field);
        *field = value;
        return 0;
}

int check_set(CheckResult *c, VigilStatus status, int error, const char *code, const char *format, ...) {
        char *msg = NULL;
        va_list ap;
        int r;

        va_start(ap, format);
        r = vasprintf(&msg, format, ap);
        va_end(ap);
        if (r < 0)
                return -ENOMEM;
        if ((r = replace_string(&c->message, msg)) < 0)
                return r;
        c->status = vigil_status_to_proto(status);
        c->errno_value = error > 0 ? error : 0;
        if (!code && error > 0)
                code = errno_to_name(error);
        return replace_string(&c->error_code, strdup(strempty(code)));
}

VigilStatus check_status(const CheckResult *c) {
        return vigil_status_from_proto(c->status);
}

static Vigil__Detail *add_detail(CheckResult *c, const char *key, const char *unit) {
        _cleanup_(freep) Vigil__Detail *d = malloc(sizeof(Vigil__Detail));
        if (!d)
                return NULL;
        vigil__detail__init(d);
        Vigil__Detail **v = realloc(c->details, sizeof(Vigil__Detail *) * (c->n_details + 1));
        if (!v)
                return NULL;
        c->details = v;
        d->key = strdup(key);
        if (!d->key)
                return NULL;
        if (unit && !(d->unit = strdup(unit))) {
                free(d->key);
                return NULL;
        }
        c->details[c->n_details++] = d;
        return TAKE_PTR(d);
}

int check_add_int(CheckResult *c, const char *key, int64_t value, const char *unit) {
        Vigil__Detail *d = add_detail(c, key, unit);
        if (!d)
                return -ENOMEM;
        d->value_case = VIGIL__DETAIL__VALUE_INT_VALUE;
        d->int_value = value;
        return 0;
}

int check_add_double(CheckResult *c, const char *key, double value, const char *unit) {
        Vigil__Detail *d = add_detail(c, key, unit);
        if (!d)
                return -ENOMEM;
        d->value_case = VIGIL__DETAIL__VALUE_DOUBLE_VALUE;
        d->double_value = value;
        return 0;
}

int check_add_string(CheckResult *c, const char *key, const char *value) {
        char *v = strdup(value);
        if (!v)
                return -ENOMEM;
        Vigil__Detail *d = add_detail(c, key, NULL);
        if (!d) {
                free(v);
                return -ENOMEM;
        }
        d->value_case = VIGIL__DETAIL__VALUE_STRING_VALUE;
        d->string_value = v;
        return 0;
}

int check_list_add(CheckList *l, CheckResult *c) {
        CheckResult **v = realloc(l->items, sizeof(CheckResult *) * (l->n + 1));
        if (!v)
                return -ENOMEM;
        l->items = v;
        l->items[l->n++] = c;
        return 0;
}

void check_list_clear(CheckList *l) {
        for (size_t i = 0; i < l->n; i++)
                check_free(l->items[i]);
        l->items = mfree(l->items);
        l->n = 0;
}

VigilStatus check_list_worst(const CheckList *l) {
        VigilStatus s = VIGIL_OK;
        if (l->n == 0)
                return VIGIL_UNKNOWN;
        for (size_t i = 0; i < l->n; i++)
                s = vigil_status_worst(s, check_status(l->items[i]));
        return s;
}
