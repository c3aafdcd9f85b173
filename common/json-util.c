/* SPDX-License-Identifier: MIT */
#include "json-util.h"
#include "status.h"

const char *errno_to_name(int e) {
        if (e <= 0)
                return NULL;
        return strerrorname_np(e);
}

json_object *json_new_double_digits(double v, int digits) {
        char buf[64];
        snprintf(buf, sizeof(buf), "%.*f", digits, v);
        return json_object_new_double_s(v, buf);
}

json_object *json_new_ms(uint64_t usec) {
        char buf[32];
        snprintf(buf, sizeof(buf), "%.3f", usec / 1000.0);
        return json_object_new_double_s(usec / 1000.0, buf);
}

static json_object *detail_value(const Vigil__Detail *d) {
        switch (d->value_case) {
        case VIGIL__DETAIL__VALUE_INT_VALUE:
                return json_object_new_int64(d->int_value);
        case VIGIL__DETAIL__VALUE_DOUBLE_VALUE:
                return json_object_new_double(d->double_value);
        case VIGIL__DETAIL__VALUE_STRING_VALUE:
                return json_object_new_string(d->string_value);
        case VIGIL__DETAIL__VALUE_BOOL_VALUE:
                return json_object_new_boolean(d->bool_value);
        default:
                return json_object_new_null();
        }
}

static json_object *fuse_to_json(const Vigil__FuseDetails *f) {
        json_object *o = json_object_new_object(), *ops = json_object_new_array();
        if (!o || !ops) {
                json_object_put(o);
                json_object_put(ops);
                return NULL;
        }
        json_object_object_add(o, "fs_type", json_object_new_string(f->fs_type));
        json_object_object_add(o, "source", json_object_new_string(f->source));
        json_object_object_add(o, "dev_minor", json_object_new_int64(f->dev_minor));
        if (f->waiting >= 0)
                json_object_object_add(o, "waiting", json_object_new_int64(f->waiting));
        for (size_t i = 0; i < f->n_operations; i++) {
                const Vigil__FuseOperation *op = f->operations[i];
                json_object *j = json_object_new_object();
                if (!j)
                        break;
                json_object_object_add(j, "name", json_object_new_string(op->name));
                json_object_object_add(j, "latency_ms", json_new_ms(op->latency_us));
                if (op->errno_value)
                        json_object_object_add(j, "errno",
                                json_object_new_string(strempty(errno_to_name(op->errno_value))));
                json_object_object_add(j, "finished", json_object_new_boolean(op->finished));
                json_object_array_add(ops, j);
        }
        json_object_object_add(o, "operations", ops);
        if (f->hung_for_us) {
                json_object_object_add(o, "hung_for_s", json_object_new_double(f->hung_for_us / 1e6));
                json_object_object_add(o, "hung_in", json_object_new_string(f->hung_in));
        }
        if (f->stuck_pid)
                json_object_object_add(o, "stuck_pid", json_object_new_int(f->stuck_pid));
        return o;
}

/* The rates of a metrics.scrape result; hit_rate only when there is one. */
static json_object *metrics_to_json(const Vigil__MetricsDetails *m) {
        json_object *o = json_object_new_object(), *ops = json_object_new_object(),
                    *errors = json_object_new_array(), *missing = json_object_new_array();
        if (!o || !ops || !errors || !missing) {
                json_object_put(o);
                json_object_put(ops);
                json_object_put(errors);
                json_object_put(missing);
                return NULL;
        }
        json_object_object_add(o, "role", json_object_new_string(m->role));
        json_object_object_add(o, "interval_s", json_object_new_double(m->interval_s));
        json_object_object_add(o, "requests_per_s", json_object_new_double(m->requests_per_s));
        json_object_object_add(
                o, "cached_read_bytes_per_s", json_object_new_double(m->cached_read_bytes_per_s));
        json_object_object_add(o, "ufs_read_bytes_per_s", json_object_new_double(m->ufs_read_bytes_per_s));
        json_object_object_add(o, "ufs_write_bytes_per_s", json_object_new_double(m->ufs_write_bytes_per_s));
        if (m->has_hit_rate)
                json_object_object_add(o, "hit_rate", json_object_new_double(m->hit_rate));
        for (size_t i = 0; i < m->n_fuse_ops_per_s; i++)
                json_object_object_add(
                        ops, m->fuse_ops_per_s[i]->key, json_object_new_double(m->fuse_ops_per_s[i]->per_s));
        json_object_object_add(o, "fuse_ops_per_s", ops);
        json_object_object_add(o, "fuse_concurrency", json_object_new_double(m->fuse_concurrency));
        for (size_t i = 0; i < m->n_ufs_errors; i++) {
                const Vigil__UfsErrorRate *e = m->ufs_errors[i];
                json_object *j = json_object_new_object();
                if (!j)
                        break;
                json_object_object_add(j, "ufs", json_object_new_string(e->ufs));
                json_object_object_add(j, "error_code", json_object_new_string(e->error_code));
                json_object_object_add(j, "per_s", json_object_new_double(e->per_s));
                json_object_object_add(j, "expected", json_object_new_boolean(e->expected));
                json_object_array_add(errors, j);
        }
        json_object_object_add(o, "ufs_errors", errors);
        for (size_t i = 0; i < m->n_missing; i++)
                json_object_array_add(missing, json_object_new_string(m->missing[i]));
        json_object_object_add(o, "missing", missing);
        json_object_object_add(o, "samples", json_object_new_uint64(m->samples));
        json_object_object_add(o, "page_bytes", json_object_new_uint64(m->page_bytes));
        return o;
}

json_object *check_result_to_json(const Vigil__CheckResult *c) {
        json_object *o = json_object_new_object();
        if (!o)
                return NULL;
        json_object_object_add(o, "name", json_object_new_string(c->name));
        json_object_object_add(o, "target", json_object_new_string(c->target));
        json_object_object_add(o, "status",
                json_object_new_string(vigil_status_to_string(vigil_status_from_proto(c->status))));
        json_object_object_add(o, "message", json_object_new_string(c->message));
        json_object_object_add(o, "latency_ms", json_new_ms(c->latency_us));
        if (c->errno_value > 0) {
                json_object_object_add(o, "errno", json_object_new_int(c->errno_value));
                json_object_object_add(
                        o, "errno_name", json_object_new_string(strempty(errno_to_name(c->errno_value))));
        }
        if (!isempty(c->error_code))
                json_object_object_add(o, "error_code", json_object_new_string(c->error_code));
        if (c->n_details > 0) {
                json_object *d = json_object_new_object();
                for (size_t i = 0; d && i < c->n_details; i++)
                        json_object_object_add(d, c->details[i]->key, detail_value(c->details[i]));
                json_object_object_add(o, "details", d);
        }
        if (c->fuse)
                json_object_object_add(o, "fuse", fuse_to_json(c->fuse));
        if (c->metrics)
                json_object_object_add(o, "metrics", metrics_to_json(c->metrics));
        return o;
}

json_object *report_checks_to_json(const Vigil__NodeReport *r) {
        json_object *a = json_object_new_array_ext((int)r->n_checks);
        if (!a)
                return NULL;
        for (size_t i = 0; i < r->n_checks; i++) {
                json_object *c = check_result_to_json(r->checks[i]);
                if (!c) {
                        json_object_put(a);
                        return NULL;
                }
                json_object_array_add(a, c);
        }
        return a;
}

const char *json_get_string(json_object *o, const char *key, const char *def) {
        json_object *v;
        if (!o || !json_object_object_get_ex(o, key, &v) || !json_object_is_type(v, json_type_string))
                return def;
        return json_object_get_string(v);
}

int64_t json_get_int(json_object *o, const char *key, int64_t def) {
        json_object *v;
        if (!o || !json_object_object_get_ex(o, key, &v) ||
                !(json_object_is_type(v, json_type_int) || json_object_is_type(v, json_type_double)))
                return def;
        return json_object_get_int64(v);
}

double json_get_double(json_object *o, const char *key, double def) {
        json_object *v;
        if (!o || !json_object_object_get_ex(o, key, &v) ||
                !(json_object_is_type(v, json_type_int) || json_object_is_type(v, json_type_double)))
                return def;
        return json_object_get_double(v);
}

static int severity_of(json_object *check) {
        return vigil_status_severity(vigil_status_from_string(json_get_string(check, "status", "UNKNOWN")));
}

static int compare_checks(const void *a, const void *b) {
        json_object *x = *(json_object *const *)a, *y = *(json_object *const *)b;
        int d = severity_of(y) - severity_of(x);
        if (d != 0)
                return d;
        d = strcmp(json_get_string(x, "name", ""), json_get_string(y, "name", ""));
        return d ?: strcmp(json_get_string(x, "target", ""), json_get_string(y, "target", ""));
}

void checks_print_table(json_object *checks, bool sort, FILE *f) {
        size_t n = checks ? json_object_array_length(checks) : 0, wname = 5, wtarget = 6;
        _cleanup_(freep) json_object **v = calloc(n ?: 1, sizeof(json_object *));

        if (!v)
                return;
        for (size_t i = 0; i < n; i++) {
                v[i] = json_object_array_get_idx(checks, i);
                wname = MAX(wname, strlen(json_get_string(v[i], "name", "")));
                wtarget = MAX(wtarget, strlen(json_get_string(v[i], "target", "")));
        }
        if (sort)
                qsort(v, n, sizeof(json_object *), compare_checks);
        fprintf(f, "%-7s  %-*s  %-*s  %9s  %s\n", "STATUS", (int)wname, "CHECK", (int)wtarget, "TARGET",
                "LATENCY", "MESSAGE");
        for (size_t i = 0; i < n; i++) {
                char lat[32];
                snprintf(lat, sizeof(lat), "%.1f ms", json_get_double(v[i], "latency_ms", 0));
                fprintf(f, "%-7s  %-*s  %-*s  %9s  %s\n", json_get_string(v[i], "status", "?"), (int)wname,
                        json_get_string(v[i], "name", ""), (int)wtarget, json_get_string(v[i], "target", ""),
                        lat, json_get_string(v[i], "message", ""));
        }
}
