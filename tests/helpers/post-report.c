/* SPDX-License-Identifier: MIT */
/*
 * post-report: builds a realistic vigil.NodeReport and POSTs it to a collector, for the
 * integration tests. Prints one line per post: "<HTTP status> <body>" (or "ERR <reason>" when no
 * answer came). Exits 0 when every post got a 2xx answer, 1 otherwise, 2 on bad usage.
 */
#include <getopt.h>
#include <inttypes.h>

#include <systemd/sd-id128.h>

#include "http-client.h"
#include "macros.h"
#include "status.h"
#include "vigil.pb-c.h"

typedef struct Check {
        char *name, *target, *message;
        VigilStatus status;
} Check;

/* The checks given with --check (heap strings); the built-in defaults are literals and not here. */
typedef struct CheckSet {
        Check items[64];
        size_t n;
} CheckSet;

static void check_set_done(CheckSet *s) {
        for (size_t i = 0; i < s->n; i++) {
                free(s->items[i].name);
                free(s->items[i].target);
                free(s->items[i].message);
        }
        s->n = 0;
}

static void usage(FILE *f) {
        fprintf(f,
                "Usage: post-report --collector URL --node NAME [--token T] [--cluster C] [--boot-id ID]\n"
                "                   [--seq N] [--count N] [--interval-ms MS] [--check "
                "NAME:TARGET:STATUS:MESSAGE]...\n"
                "                   [--raw-body FILE] [--content-type CT]\n");
}

/* NAME:TARGET:STATUS:MESSAGE, where TARGET and MESSAGE may contain ':' (STATUS is found by value). */
static int parse_check(const char *spec, Check *ret) {
        static const char *const names[] = {":OK:", ":WARN:", ":CRIT:", ":UNKNOWN:"};
        const char *colon = strchr(spec, ':'), *best = NULL;
        size_t best_len = 0;

        if (!colon)
                return -EINVAL;
        for (size_t i = 0; i < ELEMENTSOF(names); i++) {
                const char *p = strstr(colon, names[i]);
                if (p && (!best || p < best)) {
                        best = p;
                        best_len = strlen(names[i]);
                }
        }
        if (!best)
                return -EINVAL;
        *ret = (Check){
                .name = strndup(spec, colon - spec),
                .target = strndup(colon + 1, best - colon - 1),
                .message = strdup(best + best_len),
                .status = vigil_status_from_string(strndupa(best + 1, best_len - 2)),
        };
        return ret->name && ret->target && ret->message ? 0 : -ENOMEM;
}

static int read_file(const char *path, void **ret, size_t *ret_size) {
        _cleanup_(fclosep) FILE *f = fopen(path, "re");
        _cleanup_(freep) char *buf = NULL;
        size_t n = 0, alloc = 0;

        if (!f)
                return -errno;
        for (;;) {
                if (n == alloc) {
                        alloc = MAX(alloc * 2, (size_t)65536);
                        char *p = realloc(buf, alloc);
                        if (!p)
                                return -ENOMEM;
                        buf = p;
                }
                size_t k = fread(buf + n, 1, alloc - n, f);
                n += k;
                if (k == 0)
                        break;
        }
        if (ferror(f))
                return -EIO;
        *ret = TAKE_PTR(buf);
        *ret_size = n;
        return 0;
}

int main(int argc, char **argv) {
        static const struct option longopts[] = {
                {"collector", required_argument, NULL, 'C'},
                {"token", required_argument, NULL, 't'},
                {"node", required_argument, NULL, 'n'},
                {"cluster", required_argument, NULL, 'c'},
                {"boot-id", required_argument, NULL, 'b'},
                {"seq", required_argument, NULL, 's'},
                {"count", required_argument, NULL, 'N'},
                {"interval-ms", required_argument, NULL, 'i'},
                {"check", required_argument, NULL, 'k'},
                {"raw-body", required_argument, NULL, 'r'},
                {"content-type", required_argument, NULL, 'T'},
                {"help", no_argument, NULL, 'h'},
                {},
        };
        const char *collector = NULL, *token = NULL, *node = NULL, *cluster = "test", *boot_id = NULL;
        const char *raw_path = NULL, *content_type = "application/x-protobuf";
        uint64_t seq = 1, count = 1;
        uint32_t interval_ms = 1000;
        _cleanup_(check_set_done) CheckSet parsed = {};
        Check *checks = parsed.items;
        size_t n_checks = 0;
        int c, failures = 0;

        while ((c = getopt_long(argc, argv, "h", longopts, NULL)) >= 0) {
                switch (c) {
                case 'C':
                        collector = optarg;
                        break;
                case 't':
                        token = optarg;
                        break;
                case 'n':
                        node = optarg;
                        break;
                case 'c':
                        cluster = optarg;
                        break;
                case 'b':
                        boot_id = optarg;
                        break;
                case 's':
                        seq = strtoull(optarg, NULL, 10);
                        break;
                case 'N':
                        count = strtoull(optarg, NULL, 10);
                        break;
                case 'i':
                        interval_ms = (uint32_t)strtoul(optarg, NULL, 10);
                        break;
                case 'k':
                        if (n_checks == ELEMENTSOF(parsed.items) ||
                                parse_check(optarg, &checks[n_checks]) < 0) {
                                fprintf(stderr,
                                        "post-report: bad --check '%s' (NAME:TARGET:STATUS:MESSAGE)\n",
                                        optarg);
                                return 2;
                        }
                        parsed.n = ++n_checks;
                        break;
                case 'r':
                        raw_path = optarg;
                        break;
                case 'T':
                        content_type = optarg;
                        break;
                case 'h':
                        usage(stdout);
                        return 0;
                default:
                        usage(stderr);
                        return 2;
                }
        }
        if (!collector || (!node && !raw_path)) {
                usage(stderr);
                return 2;
        }
        /* Like an agent run: a fresh boot id per invocation unless one is given, so that each
         * run is applied (give --boot-id and --seq to test duplicates). */
        char random_boot_id[SD_ID128_STRING_MAX];
        if (!boot_id) {
                sd_id128_t id;
                if (sd_id128_randomize(&id) < 0)
                        return 2;
                boot_id = sd_id128_to_string(id, random_boot_id);
        }
        if (n_checks == 0) {
                checks[n_checks++] = (Check){"fuse.mount", "/mnt/alluxio",
                        "mounted (fuse.alluxio-fuse), statfs 0.3 ms", VIGIL_OK};
                checks[n_checks++] =
                        (Check){"fuse.read", "/mnt/alluxio/.canary", "read 4096 bytes in 1.1 ms", VIGIL_OK};
                checks[n_checks++] = (Check){
                        "csi.probe", "/var/lib/kubelet/plugins/csi.alluxio.com/csi.sock", "ready", VIGIL_OK};
        }

        _cleanup_(freep) char *url = NULL;
        if (asprintf(&url, "%s/v1/reports", collector) < 0)
                return 1;
        http_global_init();

        for (uint64_t k = 0; k < count; k++) {
                _cleanup_(freep) void *body = NULL;
                size_t size = 0;
                int r;

                if (raw_path) {
                        r = read_file(raw_path, &body, &size);
                        if (r < 0) {
                                fprintf(stderr, "post-report: cannot read %s: %s\n", raw_path, strerror(-r));
                                return 2;
                        }
                } else {
                        Vigil__NodeReport report = VIGIL__NODE_REPORT__INIT;
                        Vigil__CheckResult results[64], *ptrs[64];
                        Vigil__Detail detail = VIGIL__DETAIL__INIT, *details[1] = {&detail};
                        Vigil__FuseDetails fuse = VIGIL__FUSE_DETAILS__INIT;

                        detail.key = (char *)"waiting";
                        detail.value_case = VIGIL__DETAIL__VALUE_INT_VALUE;
                        detail.int_value = 0;
                        fuse.fs_type = (char *)"fuse.alluxio-fuse";
                        fuse.source = (char *)"alluxio-fuse";
                        fuse.waiting = 0;
                        report.node = (char *)node;
                        report.cluster = (char *)cluster;
                        report.agent_version = (char *)"post-report/" VIGIL_VERSION;
                        report.boot_id = (char *)boot_id;
                        report.seq = seq + k;
                        report.time_unix_ms = (int64_t)(now_usec(CLOCK_REALTIME) / USEC_PER_MSEC);
                        report.interval_ms = interval_ms;
                        report.kernel_boot_id = (char *)"00000000-0000-4000-8000-000000000000";
                        for (size_t i = 0; i < n_checks; i++) {
                                vigil__check_result__init(&results[i]);
                                results[i].name = checks[i].name;
                                results[i].target = checks[i].target;
                                results[i].message = checks[i].message;
                                results[i].status = vigil_status_to_proto(checks[i].status);
                                results[i].latency_us = 300 + 10 * i;
                                if (startswith(checks[i].name, "fuse.")) {
                                        results[i].n_details = 1;
                                        results[i].details = details;
                                        results[i].fuse = &fuse;
                                }
                                ptrs[i] = &results[i];
                        }
                        report.n_checks = n_checks;
                        report.checks = ptrs;
                        size = vigil__node_report__get_packed_size(&report);
                        body = malloc(size ?: 1);
                        if (!body)
                                return 1;
                        vigil__node_report__pack(&report, body);
                }

                HttpRequest req = {
                        .method = "POST",
                        .url = url,
                        .content_type = content_type,
                        .body = body,
                        .body_size = size,
                        .bearer_token = token,
                        .timeout = 30 * USEC_PER_SEC,
                };
                HttpResponse resp = {};
                r = http_request(&req, &resp);
                if (r < 0) {
                        printf("ERR %s\n", strerror(-r));
                        fflush(stdout);
                        return 1;
                }
                printf("%ld %s\n", resp.status, strempty(resp.body));
                fflush(stdout);
                if (resp.status < 200 || resp.status > 299)
                        failures++;
                http_response_done(&resp);
        }
        return failures > 0 ? 1 : 0;
}
