/* SPDX-License-Identifier: MIT */
/*
 * prom-count: parses a Prometheus text page (a file, or stdin) with vigil's parser
 * (probes/metrics/prom-parse.c), fed in chunks as a scrape would, for the conformance tests.
 *
 *   prom-count [--dump] [--chunk BYTES] [--max-line BYTES] [FILE]
 *
 * Prints "samples N" on success and exits 0; on a parse error prints "error: line N: ..." and
 * exits 1 (the samples before it are still counted on the line before); 2 on bad usage or a read
 * error. --dump first prints each sample as one JSON object per line: name, family, type, labels
 * (an object), value (a string: Go's spelling of NaN, +Inf, -Inf, else %.17g) and timestamp_ms
 * when there is one.
 */
#include <fcntl.h>
#include <getopt.h>
#include <inttypes.h>
#include <math.h>

#include <json-c/json.h>

#include "macros.h"
#include "metrics/prom-parse.h"

static const char *const type_names[] = {"untyped", "counter", "gauge", "histogram", "summary"};

static void json_object_putp(json_object **o) {
        if (*o)
                json_object_put(*o);
}

static int dump_sample(const PromSample *s, void *userdata) {
        _cleanup_(json_object_putp) json_object *o = json_object_new_object(),
                                                *labels = json_object_new_object();
        char value[64];

        if (!o || !labels)
                return -ENOMEM;
        for (size_t i = 0; i < s->n_labels; i++)
                if (json_object_object_add(
                            labels, s->labels[i].name, json_object_new_string(s->labels[i].value)) < 0)
                        return -ENOMEM;
        if (isnan(s->value))
                snprintf(value, sizeof(value), "NaN");
        else if (isinf(s->value))
                snprintf(value, sizeof(value), "%sInf", s->value > 0 ? "+" : "-");
        else
                snprintf(value, sizeof(value), "%.17g", s->value);

        if (json_object_object_add(o, "name", json_object_new_string(s->name)) < 0 ||
                json_object_object_add(o, "family", json_object_new_string(s->family)) < 0 ||
                json_object_object_add(o, "type", json_object_new_string(type_names[s->type])) < 0 ||
                json_object_object_add(o, "labels", TAKE_PTR(labels)) < 0 ||
                json_object_object_add(o, "value", json_object_new_string(value)) < 0 ||
                json_object_object_add(o, "line", json_object_new_int64((int64_t)s->line)) < 0)
                return -ENOMEM;
        if (s->has_timestamp &&
                json_object_object_add(o, "timestamp_ms", json_object_new_int64(s->timestamp_ms)) < 0)
                return -ENOMEM;
        if (puts(json_object_to_json_string_ext(
                    o, JSON_C_TO_STRING_PLAIN | JSON_C_TO_STRING_NOSLASHESCAPE)) < 0)
                return -EIO;
        return 0;
}

static void help(void) {
        printf("usage: prom-count [--dump] [--chunk BYTES] [--max-line BYTES] [FILE]\n");
}

int main(int argc, char *argv[]) {
        static const struct option options[] = {
                {"dump", no_argument, NULL, 'd'},
                {"chunk", required_argument, NULL, 'c'},
                {"max-line", required_argument, NULL, 'm'},
                {"help", no_argument, NULL, 'h'},
                {},
        };
        _cleanup_(prom_parser_freep) PromParser *p = NULL;
        _cleanup_(closep) int fd = -EBADF;
        _cleanup_(freep) char *buf = NULL;
        size_t chunk = 4096, max_line = 0;
        bool dump = false;
        int c, r;

        while ((c = getopt_long(argc, argv, "dc:m:h", options, NULL)) >= 0)
                switch (c) {
                case 'd':
                        dump = true;
                        break;
                case 'c':
                case 'm': {
                        char *end;
                        errno = 0;
                        unsigned long long v = strtoull(optarg, &end, 10);
                        if (errno != 0 || *end || v == 0 || v > SIZE_MAX / 4) {
                                fprintf(stderr, "prom-count: bad size '%s'\n", optarg);
                                return 2;
                        }
                        *(c == 'c' ? &chunk : &max_line) = (size_t)v;
                        break;
                }
                case 'h':
                        help();
                        return 0;
                default:
                        return 2;
                }
        if (argc - optind > 1) {
                help();
                return 2;
        }
        if (optind < argc) {
                fd = open(argv[optind], O_RDONLY | O_CLOEXEC);
                if (fd < 0) {
                        fprintf(stderr, "prom-count: cannot open %s: %m\n", argv[optind]);
                        return 2;
                }
        } else
                fd = dup(STDIN_FILENO);

        buf = malloc(chunk);
        r = buf ? prom_parser_new(max_line, dump ? dump_sample : NULL, NULL, &p) : -ENOMEM;
        if (r < 0) {
                fprintf(stderr, "prom-count: %s\n", strerror(-r));
                return 2;
        }
        for (;;) {
                ssize_t n = read(fd, buf, chunk);
                if (n < 0) {
                        if (errno == EINTR)
                                continue;
                        fprintf(stderr, "prom-count: read: %m\n");
                        return 2;
                }
                r = n == 0 ? prom_parser_finish(p) : prom_parser_feed(p, buf, (size_t)n);
                if (r < 0 || n == 0)
                        break;
        }
        printf("samples %" PRIu64 "\n", prom_parser_samples(p));
        if (r < 0) {
                printf("error: %s\n", prom_parser_error(p) ?: strerror(-r));
                return 1;
        }
        return 0;
}
