/* SPDX-License-Identifier: MIT */
#include <inttypes.h>

#include "ctl.h"
#include "json-util.h"

enum {
        COL_SERIES,
        COL_NOW,
        COL_HOUR,
        COL_DAY_AGO,
        COL_WEEK_AGO,
        COL_DAY,
        COL_WEEK,
        _COL_MAX,
};

static const char *const heads[_COL_MAX] = {
        "SERIES", "NOW", "LAST HOUR", "DAY AGO", "WEEK AGO", "DAY CHANGE", "WEEK CHANGE"};

typedef enum Unit {
        UNIT_RATE, /* "12/s" */
        UNIT_BYTES, /* "120 MB/s" */
        UNIT_PLAIN, /* "12" */
        UNIT_RATIO, /* "87.5 %" */
} Unit;

typedef struct Row {
        char cell[_COL_MAX][64];
} Row;

typedef struct Table {
        Row *rows;
        size_t n, alloc;
        bool any_significant;
} Table;

static Row *table_add(Table *t) {
        if (t->n == t->alloc) {
                size_t a = MAX(t->alloc * 2, (size_t)16);
                Row *p = reallocarray(t->rows, a, sizeof(Row));
                if (!p)
                        return NULL;
                t->rows = p;
                t->alloc = a;
        }
        Row *r = &t->rows[t->n++];
        for (size_t c = 0; c < _COL_MAX; c++)
                snprintf(r->cell[c], sizeof(r->cell[c]), c == COL_SERIES ? "" : "-");
        return r;
}

static void format_value(char *buf, size_t size, Unit unit, double v) {
        char n[64];

        switch (unit) {
        case UNIT_RATE:
                snprintf(buf, size, "%s/s", ctl_format_number(n, sizeof(n), v));
                break;
        case UNIT_BYTES:
                ctl_format_bytes_per_s(buf, size, v);
                break;
        case UNIT_PLAIN:
                ctl_format_number(buf, size, v);
                break;
        case UNIT_RATIO:
                snprintf(buf, size, "%.1f %%", v * 100);
                break;
        }
}

/* A cell from o[key] when it is a number; left as it is ("-") otherwise. */
static void value_cell(char *buf, size_t size, Unit unit, json_object *o, const char *key) {
        double v;
        if (ctl_get_number(o, key, &v))
                format_value(buf, size, unit, v);
}

/* "-7.7 %", "+2.1 pts", "new" (a rate that grew from 0), followed by " *" when significant. */
static void change_cell(Table *t, char *buf, size_t size, Unit unit, json_object *c) {
        double v;

        if (!c)
                return;
        if (!ctl_get_number(c, unit == UNIT_RATIO ? "change_pts" : "change", &v))
                snprintf(buf, size, "new");
        else if (unit == UNIT_RATIO)
                snprintf(buf, size, "%+.1f pts", v);
        else
                snprintf(buf, size, "%+.1f %%", v * 100);
        if (json_object_get_boolean(json_object_object_get(c, "significant"))) {
                strncat(buf, " *", size - strlen(buf) - 1);
                t->any_significant = true;
        }
}

/* A row with history: the current value (now[now_key]), the three windows and the two changes of cmp. */
static int history_row(
        Table *t, const char *label, Unit unit, json_object *now, const char *now_key, json_object *cmp) {
        Row *r = table_add(t);

        if (!r)
                return -ENOMEM;
        snprintf(r->cell[COL_SERIES], sizeof(r->cell[COL_SERIES]), "%s", label);
        value_cell(r->cell[COL_NOW], sizeof(r->cell[COL_NOW]), unit, now, now_key);
        value_cell(r->cell[COL_HOUR], sizeof(r->cell[COL_HOUR]), unit, cmp, "hour");
        value_cell(r->cell[COL_DAY_AGO], sizeof(r->cell[COL_DAY_AGO]), unit, cmp, "day_ago");
        value_cell(r->cell[COL_WEEK_AGO], sizeof(r->cell[COL_WEEK_AGO]), unit, cmp, "week_ago");
        change_cell(t, r->cell[COL_DAY], sizeof(r->cell[COL_DAY]), unit, ctl_get_object(cmp, "day"));
        change_cell(t, r->cell[COL_WEEK], sizeof(r->cell[COL_WEEK]), unit, ctl_get_object(cmp, "week"));
        return 0;
}

/* A breakdown row without history: "  read", only its current rate (an older collector's answer,
 * or the expected UFS errors, which have no history). */
static int detail_row(Table *t, const char *label, const char *suffix, double per_s) {
        Row *r = table_add(t);

        if (!r)
                return -ENOMEM;
        snprintf(r->cell[COL_SERIES], sizeof(r->cell[COL_SERIES]), "  %s%s", label, suffix);
        for (size_t c = COL_HOUR; c < _COL_MAX; c++)
                r->cell[c][0] = 0;
        format_value(r->cell[COL_NOW], sizeof(r->cell[COL_NOW]), UNIT_RATE, per_s);
        return 0;
}

/* The rows of the keys of a breakdown with history ("breakdowns" of docs/api.md), "  read". */
static int breakdown_rows(Table *t, json_object *keys) {
        int r = 0;

        for (size_t i = 0; r >= 0 && i < json_object_array_length(keys); i++) {
                json_object *k = json_object_array_get_idx(keys, i);
                char label[64];
                snprintf(label, sizeof(label), "  %s", json_get_string(k, "key", "?"));
                r = history_row(t, label, UNIT_RATE, k, "now", k);
        }
        return r;
}

static int fuse_op_rows(Table *t, json_object *current, json_object *breakdowns) {
        json_object *ops = ctl_get_array(current, "fuse_ops"), *keys = ctl_get_array(breakdowns, "fuse_ops");
        int r = 0;

        if (keys)
                return breakdown_rows(t, keys);
        for (size_t i = 0; r >= 0 && ops && i < json_object_array_length(ops); i++) {
                json_object *op = json_object_array_get_idx(ops, i);
                r = detail_row(
                        t, json_get_string(op, "operation", "?"), "", json_get_double(op, "per_s", 0));
        }
        return r;
}

/* By code with history when the collector keeps it (unexpected errors summed over the UFSes), then
 * the expected errors by UFS and code; else every error by UFS and code, current rates only. */
static int ufs_error_rows(Table *t, json_object *current, json_object *breakdowns) {
        json_object *errors = ctl_get_array(current, "ufs_errors"),
                    *keys = ctl_get_array(breakdowns, "ufs_errors");
        int r = 0;

        if (keys)
                r = breakdown_rows(t, keys);
        for (size_t i = 0; r >= 0 && errors && i < json_object_array_length(errors); i++) {
                json_object *e = json_object_array_get_idx(errors, i);
                bool expected = json_object_get_boolean(json_object_object_get(e, "expected"));
                const char *ufs = json_get_string(e, "ufs", "");
                char label[64];

                if (keys && !expected)
                        continue;
                snprintf(label, sizeof(label), "%s%s%s", ufs, isempty(ufs) ? "" : " ",
                        json_get_string(e, "error_code", "?"));
                r = detail_row(t, label, expected ? " (expected)" : "", json_get_double(e, "per_s", 0));
        }
        return r;
}

/* The rows of the table, in order; details: the breakdown rows under it (NULL: none). */
static const struct {
        const char *label;
        Unit unit;
        const char *key;
        int (*details)(Table *t, json_object *current, json_object *breakdowns);
} series_rows[] = {
        {"requests", UNIT_RATE, "requests_per_s"},
        {"FUSE operations", UNIT_RATE, "fuse_ops_per_s", fuse_op_rows},
        {"FUSE concurrency", UNIT_PLAIN, "fuse_concurrency"},
        {"cached reads", UNIT_BYTES, "cached_read_bytes_per_s"},
        {"UFS reads", UNIT_BYTES, "ufs_read_bytes_per_s"},
        {"UFS writes", UNIT_BYTES, "ufs_write_bytes_per_s"},
        {"UFS errors", UNIT_RATE, "ufs_errors_per_s", ufs_error_rows},
        {"hit rate", UNIT_RATIO, "hit_rate"},
};

static int build_table(Table *t, json_object *current, json_object *comparisons, json_object *breakdowns) {
        int r = 0;

        for (size_t i = 0; r >= 0 && i < ELEMENTSOF(series_rows); i++) {
                const char *key = series_rows[i].key;
                r = history_row(t, series_rows[i].label, series_rows[i].unit, current, key,
                        ctl_get_object(comparisons, key));
                if (r >= 0 && series_rows[i].details)
                        r = series_rows[i].details(t, current, breakdowns);
        }
        return r;
}

static void print_table(const Table *t, FILE *f) {
        size_t w[_COL_MAX];

        for (size_t c = 0; c < _COL_MAX; c++) {
                w[c] = strlen(heads[c]);
                for (size_t i = 0; i < t->n; i++)
                        w[c] = MAX(w[c], strlen(t->rows[i].cell[c]));
        }
        for (size_t i = 0; i <= t->n; i++) {
                const char *row[_COL_MAX];
                size_t last = _COL_MAX;

                for (size_t c = 0; c < _COL_MAX; c++)
                        row[c] = i == 0 ? heads[c] : t->rows[i - 1].cell[c];
                /* Breakdown rows without history end after their current figure. */
                while (last > 1 && isempty(row[last - 1]))
                        last--;
                /* The series left-aligned, the figures right-aligned. */
                fprintf(f, "%-*s", last > 1 ? (int)w[COL_SERIES] : 0, row[COL_SERIES]);
                for (size_t c = 1; c < last; c++)
                        fprintf(f, "  %*s", (int)w[c], row[c]);
                fputc('\n', f);
        }
}

/* "cluster: 2 nodes, 3 endpoints" or "node node-a (stale, last report 42 s ago): 2 endpoints". */
static void print_header(json_object *o, json_object *current, FILE *f) {
        const char *name = json_get_string(o, "name", NULL);
        int64_t endpoints = json_get_int(current, "endpoints", 0), nodes = json_get_int(current, "nodes", 0);
        char age[64];

        if (name) {
                fprintf(f, "node %s", name);
                if (json_object_get_boolean(json_object_object_get(o, "stale")))
                        fprintf(f, " (stale, last report %s)",
                                ctl_format_age(
                                        age, sizeof(age), json_get_double(o, "last_report_age_s", -1)));
                fprintf(f, ": %" PRId64 " metrics endpoint%s\n", endpoints, ctl_plural(endpoints));
        } else
                fprintf(f, "cluster: %" PRId64 " node%s, %" PRId64 " metrics endpoint%s\n", nodes,
                        ctl_plural(nodes), endpoints, ctl_plural(endpoints));
}

/* "history: last hour 60 points, a day ago 60, a week ago 0 (one point a minute)". */
static void print_windows(json_object *o, FILE *f) {
        json_object *windows = ctl_get_object(o, "windows");
        int64_t hour = json_get_int(ctl_get_object(windows, "hour"), "points", 0);

        if (!windows) {
                fprintf(f, "history: none yet\n");
                return;
        }
        fprintf(f,
                "history: last hour %" PRId64 " point%s, a day ago %" PRId64 ", a week ago %" PRId64
                " (one point a minute)\n",
                hour, ctl_plural(hour), json_get_int(ctl_get_object(windows, "day_ago"), "points", 0),
                json_get_int(ctl_get_object(windows, "week_ago"), "points", 0));
}

static void print_missing(json_object *current, FILE *f) {
        json_object *missing = ctl_get_array(current, "missing");
        size_t n = missing ? json_object_array_length(missing) : 0;

        for (size_t i = 0; i < n; i++)
                fprintf(f, "%s%s", i == 0 ? "not on the metrics pages (their rates read 0): " : ", ",
                        strempty(json_object_get_string(json_object_array_get_idx(missing, i))));
        if (n > 0)
                fputc('\n', f);
}

int ctl_metrics_render(json_object *metrics, bool color, FILE *f) {
        json_object *current = ctl_get_object(metrics, "current");
        json_object *settings = ctl_get_object(metrics, "settings");
        _cleanup_(freep) Row *rows = NULL;
        Table t = {};
        int r;

        if (!current)
                return -EBADMSG;
        print_header(metrics, current, f);
        if (json_get_int(current, "endpoints", 0) == 0)
                fprintf(f, "no metrics checks: the agents scrape no worker, FUSE or coordinator endpoint\n");
        print_windows(metrics, f);
        r = build_table(
                &t, current, ctl_get_object(metrics, "comparisons"), ctl_get_object(metrics, "breakdowns"));
        rows = t.rows;
        if (r < 0)
                return r;
        fputc('\n', f);
        print_table(&t, f);
        print_missing(current, f);
        if (t.any_significant)
                fprintf(f,
                        "* significant: a change of %.0f %% or more (the hit rate: of the share of reads "
                        "served by the UFS) at enough volume\n",
                        json_get_double(settings, "change", 0) * 100);
        return 0;
}
