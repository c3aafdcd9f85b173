/* SPDX-License-Identifier: MIT */
/*
 * The driver of bench/promparse: parses a Prometheus text page with vigil's parser
 * (probes/metrics/prom-parse.c) RUNS times and prints what one parse costs.
 *
 *   promparse [--runs N] [--chunk BYTES] FILE
 *
 * The page is read into memory first (the disk is not what is measured), then fed in chunks of
 * --chunk bytes (default 16 KiB, what curl hands a write callback) to a new parser each run, as a
 * scrape does. The callback touches every field a consumer would read (name, family, labels,
 * value), so nothing is optimised away. Prints one line of key=value: samples, bytes, lines, runs,
 * best and median wall ns per sample and MB/s (10^6 bytes), CPU ns per sample of the best run.
 */
#include <fcntl.h>
#include <getopt.h>
#include <inttypes.h>
#include <sys/stat.h>
#include <time.h>

#include "macros.h"
#include "metrics/prom-parse.h"

typedef struct Sink {
        uint64_t samples, labels, bytes_seen;
        double sum;
} Sink;

static int on_sample(const PromSample *s, void *userdata) {
        Sink *k = userdata;
        k->samples++;
        k->labels += s->n_labels;
        k->bytes_seen += (uint8_t)s->name[0] + (uint8_t)s->family[0];
        for (size_t i = 0; i < s->n_labels; i++)
                k->bytes_seen += (uint8_t)s->labels[i].value[0];
        k->sum += s->value;
        return 0;
}

static uint64_t now_ns(clockid_t clock) {
        struct timespec ts;
        clock_gettime(clock, &ts);
        return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

static int cmp_u64(const void *a, const void *b) {
        uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;
        return x < y ? -1 : x > y;
}

static int read_file(const char *path, char **ret, size_t *ret_len) {
        _cleanup_(closep) int fd = open(path, O_RDONLY | O_CLOEXEC);
        struct stat st;
        if (fd < 0 || fstat(fd, &st) < 0)
                return -errno;
        _cleanup_(freep) char *buf = malloc((size_t)st.st_size + 1);
        if (!buf)
                return -ENOMEM;
        size_t len = 0;
        while (len < (size_t)st.st_size) {
                ssize_t n = read(fd, buf + len, (size_t)st.st_size - len);
                if (n < 0 && errno == EINTR)
                        continue;
                if (n < 0)
                        return -errno;
                if (n == 0)
                        break;
                len += (size_t)n;
        }
        *ret = TAKE_PTR(buf);
        *ret_len = len;
        return 0;
}

int main(int argc, char *argv[]) {
        static const struct option options[] = {
                {"runs", required_argument, NULL, 'r'},
                {"chunk", required_argument, NULL, 'c'},
                {},
        };
        _cleanup_(freep) char *page = NULL;
        _cleanup_(freep) uint64_t *walls = NULL;
        size_t len = 0, chunk = 16384;
        unsigned runs = 5;
        uint64_t lines = 0, best_cpu = 0, best_wall = UINT64_MAX;
        Sink sink = {};
        int c, r;

        while ((c = getopt_long(argc, argv, "r:c:", options, NULL)) >= 0)
                switch (c) {
                case 'r':
                        runs = (unsigned)strtoul(optarg, NULL, 10);
                        break;
                case 'c':
                        chunk = (size_t)strtoul(optarg, NULL, 10);
                        break;
                default:
                        return 2;
                }
        if (optind + 1 != argc || runs == 0 || chunk == 0) {
                fprintf(stderr, "usage: promparse [--runs N] [--chunk BYTES] FILE\n");
                return 2;
        }
        r = read_file(argv[optind], &page, &len);
        if (r < 0) {
                fprintf(stderr, "promparse: cannot read %s: %s\n", argv[optind], strerror(-r));
                return 1;
        }
        for (size_t i = 0; i < len; i++)
                lines += page[i] == '\n';
        walls = calloc(runs, sizeof(uint64_t));
        if (!walls)
                return 1;

        for (unsigned run = 0; run < runs; run++) {
                _cleanup_(prom_parser_freep) PromParser *p = NULL;
                uint64_t w0 = now_ns(CLOCK_MONOTONIC), c0 = now_ns(CLOCK_PROCESS_CPUTIME_ID);

                sink = (Sink){};
                r = prom_parser_new(0, on_sample, &sink, &p);
                for (size_t off = 0; r >= 0 && off < len; off += chunk)
                        r = prom_parser_feed(p, page + off, MIN(chunk, len - off));
                if (r >= 0)
                        r = prom_parser_finish(p);
                uint64_t wall = now_ns(CLOCK_MONOTONIC) - w0, cpu = now_ns(CLOCK_PROCESS_CPUTIME_ID) - c0;
                if (r < 0) {
                        fprintf(stderr, "promparse: %s: %s\n", argv[optind],
                                prom_parser_error(p) ?: strerror(-r));
                        return 1;
                }
                walls[run] = wall;
                if (wall < best_wall) {
                        best_wall = wall;
                        best_cpu = cpu;
                }
        }
        qsort(walls, runs, sizeof(uint64_t), cmp_u64);
        uint64_t median = walls[runs / 2];
        double n = (double)MAX(sink.samples, (uint64_t)1);
        printf("samples=%" PRIu64 " labels=%" PRIu64 " bytes=%zu lines=%" PRIu64 " runs=%u chunk=%zu "
               "best_ns_per_sample=%.1f median_ns_per_sample=%.1f cpu_ns_per_sample=%.1f best_mb_s=%.0f "
               "checksum=%.6g/%" PRIu64 "\n",
                sink.samples, sink.labels, len, lines, runs, chunk, (double)best_wall / n,
                (double)median / n, (double)best_cpu / n, (double)len / ((double)best_wall / 1e9) / 1e6,
                sink.sum, sink.bytes_seen);
        return 0;
}
