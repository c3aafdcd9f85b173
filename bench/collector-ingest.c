/* SPDX-License-Identifier: MIT */
/*
 * collector-ingest: how fast does vigil-collector take reports, durably?
 *
 * Starts a collector on loopback with a fresh database (WAL, synchronous=FULL), then 10,000
 * simulated nodes post realistic reports (10 checks each) as fast as it acknowledges them, over
 * keep-alive connections driven by one curl multi handle. Prints reports/s and latency
 * percentiles, then the time of GET /v1/cluster over those nodes. Then wrk, a much cheaper load
 * generator, against the same collector for the same time, twice: posting distinct reports of the
 * same 10,000 nodes with increasing seqs (every post applied and committed durably: the collector's
 * ingest rate with less of the shared CPUs going to the client), and posting one fixed report
 * (after the first post every one is a duplicate: HTTP, decoding and the writer queue, no SQLite
 * write), for the ceiling of the HTTP stack. Stops everything it started. Figures are printed,
 * never asserted.
 */
#include <curl/curl.h>
#include <fcntl.h>
#include <ftw.h>
#include <getopt.h>
#include <inttypes.h>
#include <netinet/in.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/wait.h>

#include "macros.h"
#include "time-util.h"
#include "vigil.pb-c.h"

#ifndef BENCH_LUA
#define BENCH_LUA "bench/collector-ingest.lua"
#endif

#define N_CHECKS 10
#define WRK_THREADS 2

typedef struct Options {
        const char *collector;
        const char *vigilctl;
        const char *wrk;
        const char *lua;
        const char *dir;
        unsigned seconds;
        unsigned nodes;
        unsigned connections;
        bool keep;
} Options;

/* One simulated node's report, re-packed with a new seq for each post. */
typedef struct SimNode {
        char name[32];
        char boot_id[40];
        uint64_t seq;
} SimNode;

typedef struct Slot {
        CURL *easy;
        usec_t started;
        uint8_t *body;
        size_t body_alloc;
        long status;
} Slot;

typedef struct Stats {
        uint32_t *lat_us;
        size_t n, alloc;
        uint64_t errors, non200;
} Stats;

static size_t discard_cb(char *data, size_t size, size_t nmemb, void *userdata) {
        return size * nmemb;
}

static int pick_port(void) {
        struct sockaddr_in a = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
        socklen_t l = sizeof(a);
        _cleanup_(closep) int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
        if (fd < 0 || bind(fd, (struct sockaddr *)&a, sizeof(a)) < 0 ||
                getsockname(fd, (struct sockaddr *)&a, &l) < 0)
                return -errno;
        return ntohs(a.sin_port);
}

/* GET url; returns the HTTP status (0 when no answer), the body size and the time taken. */
static long http_get(const char *url, size_t *ret_size, usec_t *ret_time) {
        CURL *e = curl_easy_init();
        long status = 0;
        curl_off_t size = 0;
        usec_t t0 = now_usec(CLOCK_MONOTONIC);

        curl_easy_setopt(e, CURLOPT_URL, url);
        curl_easy_setopt(e, CURLOPT_WRITEFUNCTION, discard_cb);
        curl_easy_setopt(e, CURLOPT_TIMEOUT_MS, 30000L);
        if (curl_easy_perform(e) == CURLE_OK) {
                curl_easy_getinfo(e, CURLINFO_RESPONSE_CODE, &status);
                curl_easy_getinfo(e, CURLINFO_SIZE_DOWNLOAD_T, &size);
        }
        if (ret_time)
                *ret_time = now_usec(CLOCK_MONOTONIC) - t0;
        if (ret_size)
                *ret_size = (size_t)size;
        curl_easy_cleanup(e);
        return status;
}

/* Packs the report of node n (seq already advanced) into *buf. */
static size_t pack_report(const SimNode *node, uint64_t post, uint8_t **buf, size_t *alloc) {
        static const struct {
                const char *name, *target, *message;
                uint64_t latency_us;
        } checks[N_CHECKS] = {
                {"fuse.mount", "/mnt/alluxio", "mounted (fuse.alluxio-fuse), statfs 0.4 ms", 420},
                {"fuse.read", "/mnt/alluxio/.vigil-canary", "read 4096 bytes in 1.2 ms", 1210},
                {"fuse.mount", "/mnt/fluid/dataset", "mounted (fuse.juicefs), statfs 0.6 ms", 610},
                {"fuse.read", "/mnt/fluid/dataset/.vigil-canary", "read 4096 bytes in 2.3 ms", 2300},
                {"csi.probe", "unix:///var/lib/kubelet/plugins/csi.alluxio.com/csi.sock", "Probe: ready",
                        800},
                {"logs.errors", "alluxio-fuse", "0 errors in the last 5 min", 150},
                {"logs.errors", "alluxio-worker", "0 errors in the last 5 min", 140},
                {"metrics.hit_rate", "http://127.0.0.1:30000/metrics", "cache hit rate 93.1 %", 2100},
                {"metrics.ufs_latency", "http://127.0.0.1:30000/metrics", "UFS read p99 41 ms", 2100},
                {"metrics.cache_used", "http://127.0.0.1:30000/metrics",
                        "cache 71 % used (714 GiB of 1 TiB)", 2100},
        };
        Vigil__NodeReport r = VIGIL__NODE_REPORT__INIT;
        Vigil__CheckResult c[N_CHECKS], *cp[N_CHECKS];
        Vigil__Detail d[3], *dp[3] = {&d[0], &d[1], &d[2]};
        Vigil__FuseDetails fuse = VIGIL__FUSE_DETAILS__INIT;
        Vigil__FuseOperation ops[5], *opp[5];
        static const char *const op_names[5] = {"statfs", "stat", "readdir", "open", "read"};

        for (size_t i = 0; i < 3; i++)
                vigil__detail__init(&d[i]);
        d[0].key = (char *)"waiting";
        d[0].value_case = VIGIL__DETAIL__VALUE_INT_VALUE;
        d[0].int_value = 0;
        d[1].key = (char *)"fs_type";
        d[1].value_case = VIGIL__DETAIL__VALUE_STRING_VALUE;
        d[1].string_value = (char *)"fuse.alluxio-fuse";
        d[2].key = (char *)"hit_rate";
        d[2].value_case = VIGIL__DETAIL__VALUE_DOUBLE_VALUE;
        d[2].double_value = 0.931;
        d[2].unit = (char *)"ratio";
        for (size_t i = 0; i < 5; i++) {
                vigil__fuse_operation__init(&ops[i]);
                ops[i].name = (char *)op_names[i];
                ops[i].latency_us = 80 + 40 * i;
                ops[i].finished = true;
                opp[i] = &ops[i];
        }
        fuse.fs_type = (char *)"fuse.alluxio-fuse";
        fuse.source = (char *)"alluxio-fuse";
        fuse.dev_minor = 52;
        fuse.waiting = 0;
        fuse.n_operations = 5;
        fuse.operations = opp;

        r.node = (char *)node->name;
        r.cluster = (char *)"bench";
        r.agent_version = (char *)"0.1.0";
        r.boot_id = (char *)node->boot_id;
        r.seq = node->seq;
        r.time_unix_ms = (int64_t)(now_usec(CLOCK_REALTIME) / USEC_PER_MSEC);
        r.interval_ms = 5000;
        r.kernel_boot_id = (char *)"6c1e3a4e-8f1b-4a8e-9d1c-2f4b5a6c7d8e";
        for (size_t i = 0; i < N_CHECKS; i++) {
                vigil__check_result__init(&c[i]);
                c[i].name = (char *)checks[i].name;
                c[i].target = (char *)checks[i].target;
                c[i].message = (char *)checks[i].message;
                c[i].status = VIGIL__STATUS__STATUS_OK;
                c[i].latency_us = checks[i].latency_us + post % 97;
                if (startswith(checks[i].name, "fuse.")) {
                        c[i].fuse = &fuse;
                        c[i].n_details = 2;
                        c[i].details = dp;
                } else if (startswith(checks[i].name, "metrics.")) {
                        c[i].n_details = 1;
                        c[i].details = &dp[2];
                }
                cp[i] = &c[i];
        }
        /* About one post in a hundred changes a status, so events are written as in real life. */
        if (post % 100 == 7 && node->seq % 2 == 0) {
                c[7].status = VIGIL__STATUS__STATUS_WARN;
                c[7].message = (char *)"cache hit rate 41.0 % (below 60 %)";
        }
        r.n_checks = N_CHECKS;
        r.checks = cp;

        size_t n = vigil__node_report__get_packed_size(&r);
        if (n > *alloc) {
                free(*buf);
                *buf = malloc(n);
                *alloc = *buf ? n : 0;
                if (!*buf)
                        return 0;
        }
        return vigil__node_report__pack(&r, *buf);
}

static int stats_add(Stats *s, usec_t lat) {
        if (s->n == s->alloc) {
                size_t a = MAX(s->alloc * 2, (size_t)65536);
                uint32_t *p = realloc(s->lat_us, a * sizeof(uint32_t));
                if (!p)
                        return -ENOMEM;
                s->lat_us = p;
                s->alloc = a;
        }
        s->lat_us[s->n++] = (uint32_t)MIN(lat, (usec_t)UINT32_MAX);
        return 0;
}

static int cmp_u32(const void *a, const void *b) {
        uint32_t x = *(const uint32_t *)a, y = *(const uint32_t *)b;
        return (x > y) - (x < y);
}

static int cmp_usec(const void *a, const void *b) {
        usec_t x = *(const usec_t *)a, y = *(const usec_t *)b;
        return (x > y) - (x < y);
}

static double pct_ms(const Stats *s, double p) {
        if (s->n == 0)
                return 0;
        size_t i = (size_t)(p * (double)(s->n - 1) + 0.5);
        return s->lat_us[i] / 1000.0;
}

static int start_post(CURLM *multi, Slot *slot, const char *url, SimNode *nodes, unsigned n_nodes,
        uint64_t post, struct curl_slist *headers) {
        SimNode *node = &nodes[post % n_nodes];
        node->seq++;
        size_t n = pack_report(node, post, &slot->body, &slot->body_alloc);
        if (n == 0)
                return -ENOMEM;
        curl_easy_setopt(slot->easy, CURLOPT_URL, url);
        curl_easy_setopt(slot->easy, CURLOPT_HTTPHEADER, headers);
        curl_easy_setopt(slot->easy, CURLOPT_POSTFIELDS, slot->body);
        curl_easy_setopt(slot->easy, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)n);
        slot->started = now_usec(CLOCK_MONOTONIC);
        return curl_multi_add_handle(multi, slot->easy) == CURLM_OK ? 0 : -EIO;
}

/* Runs the load for o->seconds; fills st. Returns posts completed. */
static int run_load(const Options *o, const char *base, Stats *st, usec_t *ret_elapsed) {
        _cleanup_(freep) char *url = NULL;
        _cleanup_(freep) SimNode *nodes = calloc(o->nodes, sizeof(SimNode));
        _cleanup_(freep) Slot *slots = calloc(o->connections, sizeof(Slot));
        struct curl_slist *headers = NULL;
        CURLM *multi = curl_multi_init();
        uint64_t post = 0;
        unsigned running = 0;

        if (!nodes || !slots || !multi || asprintf(&url, "%s/v1/reports", base) < 0)
                return -ENOMEM;
        for (unsigned i = 0; i < o->nodes; i++) {
                snprintf(nodes[i].name, sizeof(nodes[i].name), "node-%05u", i);
                snprintf(nodes[i].boot_id, sizeof(nodes[i].boot_id), "%08x-bench-%u", (unsigned)getpid(), i);
        }
        headers = curl_slist_append(headers, "Content-Type: application/x-protobuf");
        headers = curl_slist_append(headers, "Expect:");
        curl_multi_setopt(multi, CURLMOPT_MAX_TOTAL_CONNECTIONS, (long)o->connections);
        curl_multi_setopt(multi, CURLMOPT_MAXCONNECTS, (long)o->connections);

        usec_t t0 = now_usec(CLOCK_MONOTONIC), deadline = t0 + o->seconds * USEC_PER_SEC;
        for (unsigned i = 0; i < o->connections; i++) {
                slots[i].easy = curl_easy_init();
                curl_easy_setopt(slots[i].easy, CURLOPT_WRITEFUNCTION, discard_cb);
                curl_easy_setopt(slots[i].easy, CURLOPT_PRIVATE, &slots[i]);
                curl_easy_setopt(slots[i].easy, CURLOPT_TIMEOUT_MS, 30000L);
                curl_easy_setopt(slots[i].easy, CURLOPT_TCP_NODELAY, 1L);
                if (start_post(multi, &slots[i], url, nodes, o->nodes, post++, headers) < 0)
                        return -EIO;
                running++;
        }
        while (running > 0) {
                int still, msgs;
                CURLMsg *m;
                curl_multi_perform(multi, &still);
                while ((m = curl_multi_info_read(multi, &msgs))) {
                        if (m->msg != CURLMSG_DONE)
                                continue;
                        Slot *slot;
                        usec_t now = now_usec(CLOCK_MONOTONIC);
                        curl_easy_getinfo(m->easy_handle, CURLINFO_PRIVATE, (char **)&slot);
                        if (m->data.result != CURLE_OK)
                                st->errors++;
                        else {
                                curl_easy_getinfo(m->easy_handle, CURLINFO_RESPONSE_CODE, &slot->status);
                                if (slot->status != 200)
                                        st->non200++;
                                else if (stats_add(st, now - slot->started) < 0)
                                        return -ENOMEM;
                        }
                        curl_multi_remove_handle(multi, slot->easy);
                        running--;
                        if (now < deadline && st->errors < 1000) {
                                if (start_post(multi, slot, url, nodes, o->nodes, post++, headers) < 0)
                                        return -EIO;
                                running++;
                        }
                }
                if (running > 0)
                        curl_multi_poll(multi, NULL, 0, 100, NULL);
        }
        *ret_elapsed = now_usec(CLOCK_MONOTONIC) - t0;
        for (unsigned i = 0; i < o->connections; i++) {
                curl_easy_cleanup(slots[i].easy);
                free(slots[i].body);
        }
        curl_multi_cleanup(multi);
        curl_slist_free_all(headers);
        return 0;
}

/* extra_env: NULL or a NULL-terminated list of "NAME=VALUE" added to the child's environment. */
static pid_t spawn(char *const argv[], const char *out_path, char *const *extra_env) {
        pid_t pid = fork();
        if (pid < 0)
                return -errno;
        if (pid == 0) {
                int fd = open(out_path ?: "/dev/null", O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644);
                if (fd >= 0) {
                        dup2(fd, STDOUT_FILENO);
                        dup2(fd, STDERR_FILENO);
                }
                for (size_t i = 0; extra_env && extra_env[i]; i++)
                        putenv(extra_env[i]);
                execvp(argv[0], argv);
                _exit(127);
        }
        return pid;
}

static int wait_pid(pid_t pid) {
        int status;
        while (waitpid(pid, &status, 0) < 0)
                if (errno != EINTR)
                        return -errno;
        return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
}

typedef struct WrkResult {
        int status; /* wrk's exit status; < 0: not started */
        double rate;
        char p50[32], p99[32], max[32];
        uint64_t non2xx, socket_errors;
} WrkResult;

/* Runs wrk with the bench's Lua script (env selects its mode) and parses its summary. */
static void run_wrk(
        const Options *o, const char *url, char *const *env, const char *out_path, WrkResult *ret) {
        char duration[32], conns[32], threads[32];
        WrkResult w = {.status = -1};

        snprintf(w.p50, sizeof(w.p50), "n/a");
        snprintf(w.p99, sizeof(w.p99), "n/a");
        snprintf(w.max, sizeof(w.max), "n/a");
        snprintf(duration, sizeof(duration), "%us", o->seconds);
        snprintf(conns, sizeof(conns), "%u", o->connections);
        snprintf(threads, sizeof(threads), "-t%u", WRK_THREADS);
        char *wargv[] = {(char *)o->wrk, threads, (char *)"-c", conns, (char *)"-d", duration,
                (char *)"--latency", (char *)"-s", (char *)o->lua, (char *)url, NULL};
        unlink(out_path);
        pid_t wrk = spawn(wargv, out_path, env);
        w.status = wrk > 0 ? wait_pid(wrk) : -1;

        _cleanup_(fclosep) FILE *f = fopen(out_path, "re");
        char line[512];
        while (f && fgets(line, sizeof(line), f)) {
                char v[32];
                unsigned long long a, b, c2, d;
                if (sscanf(line, " Requests/sec: %lf", &w.rate) == 1)
                        continue;
                if (sscanf(line, " Non-2xx or 3xx responses: %llu", &a) == 1)
                        w.non2xx = a;
                else if (sscanf(line, " Socket errors: connect %llu, read %llu, write %llu, timeout %llu",
                                 &a, &b, &c2, &d) == 4)
                        w.socket_errors = a + b + c2 + d;
                else if (sscanf(line, " 50%% %31s", v) == 1)
                        snprintf(w.p50, sizeof(w.p50), "%s", v);
                else if (sscanf(line, " 99%% %31s", v) == 1)
                        snprintf(w.p99, sizeof(w.p99), "%s", v);
                else if (sscanf(line, " Latency %*s %*s %31s", v) == 1)
                        snprintf(w.max, sizeof(w.max), "%s", v);
        }
        *ret = w;
}

static void print_wrk_row(const char *label, const WrkResult *w, const char *note) {
        if (w->status == 0 && w->rate > 0)
                printf("%-44s %12.0f %10s %10s %10s   %s\n", label, w->rate, w->p50, w->p99, w->max, note);
        else
                printf("%-44s %12s   (wrk not run: %s)\n", label, "n/a",
                        w->status < 0 ? "cannot start" : "failed, see output kept with --keep");
}

static void print_wrk_output(const char *title, const char *path) {
        _cleanup_(fclosep) FILE *f = fopen(path, "re");
        char line[512];
        if (!f)
                return;
        printf("\n%s:\n", title);
        while (fgets(line, sizeof(line), f))
                printf("  %s", line);
}

/* Writes the report of SimNode template at post number post (node and seq left out) to path. */
static int write_report(const char *path, const SimNode *node, uint64_t post) {
        _cleanup_(freep) uint8_t *buf = NULL;
        size_t alloc = 0, n = pack_report(node, post, &buf, &alloc);
        _cleanup_(fclosep) FILE *f = fopen(path, "we");
        if (!f || n == 0 || fwrite(buf, 1, n, f) != n)
                return -EIO;
        return 0;
}

static int rm_entry(const char *path, const struct stat *st, int type, struct FTW *ftw) {
        return remove(path);
}

static void usage(FILE *f) {
        fprintf(f,
                "Usage: collector-ingest [--collector PATH] [--seconds N] [--nodes N] [--connections N]\n"
                "                        [--wrk PATH] [--lua FILE] [--vigilctl PATH] [--dir DIR] "
                "[--keep]\n");
}

int main(int argc, char **argv) {
        static const struct option longopts[] = {
                {"collector", required_argument, NULL, 'C'},
                {"seconds", required_argument, NULL, 's'},
                {"nodes", required_argument, NULL, 'n'},
                {"connections", required_argument, NULL, 'c'},
                {"wrk", required_argument, NULL, 'w'},
                {"lua", required_argument, NULL, 'l'},
                {"vigilctl", required_argument, NULL, 'v'},
                {"dir", required_argument, NULL, 'd'},
                {"keep", no_argument, NULL, 'k'},
                {"help", no_argument, NULL, 'h'},
                {},
        };
        Options o = {.wrk = "wrk",
                .lua = BENCH_LUA,
                .dir = "/var/tmp",
                .seconds = 10,
                .nodes = 10000,
                .connections = 64};
        char dir[PATH_MAX], db[PATH_MAX + 32], log[PATH_MAX + 32], listen_arg[64], base[64],
                body_path[PATH_MAX + 32];
        Stats st = {};
        usec_t elapsed = 0;
        int c, port, r;

        while ((c = getopt_long(argc, argv, "h", longopts, NULL)) >= 0) {
                switch (c) {
                case 'C':
                        o.collector = optarg;
                        break;
                case 's':
                        o.seconds = (unsigned)MAX(atoi(optarg), 1);
                        break;
                case 'n':
                        o.nodes = (unsigned)MAX(atoi(optarg), 1);
                        break;
                case 'c':
                        o.connections = (unsigned)MAX(atoi(optarg), 1);
                        break;
                case 'w':
                        o.wrk = optarg;
                        break;
                case 'l':
                        o.lua = optarg;
                        break;
                case 'v':
                        o.vigilctl = optarg;
                        break;
                case 'd':
                        o.dir = optarg;
                        break;
                case 'k':
                        o.keep = true;
                        break;
                case 'h':
                        usage(stdout);
                        return 0;
                default:
                        usage(stderr);
                        return 2;
                }
        }
        if (!o.collector && optind < argc)
                o.collector = argv[optind];
        if (!o.collector) {
                usage(stderr);
                return 2;
        }
        o.connections = MIN(o.connections, o.nodes); /* never two posts of one node in flight */

        curl_global_init(CURL_GLOBAL_DEFAULT);
        signal(SIGPIPE, SIG_IGN);
        snprintf(dir, sizeof(dir), "%s/vigil-bench-XXXXXX", o.dir);
        if (!mkdtemp(dir)) {
                fprintf(stderr, "collector-ingest: cannot make a directory under %s: %m\n", o.dir);
                return 1;
        }
        snprintf(db, sizeof(db), "%s/collector.db", dir);
        snprintf(log, sizeof(log), "%s/collector.log", dir);
        port = pick_port();
        if (port < 0) {
                fprintf(stderr, "collector-ingest: no free port: %s\n", strerror(-port));
                return 1;
        }
        snprintf(listen_arg, sizeof(listen_arg), "127.0.0.1:%d", port);
        snprintf(base, sizeof(base), "http://127.0.0.1:%d", port);

        char *cargv[] = {(char *)o.collector, (char *)"--listen", listen_arg, (char *)"--db", db,
                (char *)"--log-level", (char *)"warning", NULL};
        pid_t collector = spawn(cargv, log, NULL);
        if (collector < 0) {
                fprintf(stderr, "collector-ingest: cannot start %s: %s\n", o.collector,
                        strerror(-collector));
                return 1;
        }
        usec_t deadline = now_usec(CLOCK_MONOTONIC) + 10 * USEC_PER_SEC;
        char healthz[96];
        snprintf(healthz, sizeof(healthz), "%s/healthz", base);
        while (http_get(healthz, NULL, NULL) != 200) {
                if (now_usec(CLOCK_MONOTONIC) > deadline || waitpid(collector, NULL, WNOHANG) == collector) {
                        fprintf(stderr, "collector-ingest: collector did not come up (see %s)\n", log);
                        kill(collector, SIGKILL);
                        wait_pid(collector);
                        return 1;
                }
                usleep(20000);
        }

        long ncpu = sysconf(_SC_NPROCESSORS_ONLN);
        printf("vigil collector-ingest: %u nodes, %d checks per report, %u keep-alive connections, %u s of "
               "load\n",
                o.nodes, N_CHECKS, o.connections, o.seconds);
        printf("conditions: loopback, %ld CPUs shared by client and collector, SQLite WAL synchronous=FULL "
               "on %s\n\n",
                ncpu, o.dir);
        fflush(stdout);

        r = run_load(&o, base, &st, &elapsed);
        if (r < 0) {
                fprintf(stderr, "collector-ingest: load failed: %s\n", strerror(-r));
                kill(collector, SIGKILL);
                wait_pid(collector);
                return 1;
        }
        qsort(st.lat_us, st.n, sizeof(uint32_t), cmp_u32);
        double rate = st.n / ((double)elapsed / USEC_PER_SEC);

        /* Status over all nodes: the first call renders every node's checks, later ones reuse it. */
        char cluster_url[128];
        usec_t times[7];
        size_t size = 0;
        snprintf(cluster_url, sizeof(cluster_url), "%s/v1/cluster", base);
        for (size_t i = 0; i < ELEMENTSOF(times); i++)
                if (http_get(cluster_url, &size, &times[i]) != 200)
                        times[i] = USEC_INFINITY;
        usec_t first = times[0];
        qsort(times + 1, ELEMENTSOF(times) - 1, sizeof(usec_t), cmp_usec);
        usec_t median = times[1 + (ELEMENTSOF(times) - 1) / 2];

        usec_t ctl_time = USEC_INFINITY;
        if (o.vigilctl && access(o.vigilctl, X_OK) == 0) {
                usec_t best = USEC_INFINITY;
                for (int i = 0; i < 3; i++) {
                        char *vargv[] = {
                                (char *)o.vigilctl, (char *)"--collector", base, (char *)"status", NULL};
                        usec_t t0 = now_usec(CLOCK_MONOTONIC);
                        pid_t p = spawn(vargv, NULL, NULL);
                        if (p > 0 && wait_pid(p) >= 0)
                                best = MIN(best, now_usec(CLOCK_MONOTONIC) - t0);
                }
                ctl_time = best;
        }

        /* The peer: wrk posting one fixed report for the same time. */
        char wrk_out[PATH_MAX + 32], wrk_distinct_out[PATH_MAX + 32], url[96];
        char env_body[PATH_MAX + 64], env_tmpl[PATH_MAX + 64], env_warn[PATH_MAX + 64], env_nodes[64],
                env_threads[64];
        char tmpl_path[PATH_MAX + 32], warn_path[PATH_MAX + 32];
        WrkResult wrk_fixed, wrk_distinct;
        snprintf(url, sizeof(url), "%s/v1/reports", base);
        snprintf(body_path, sizeof(body_path), "%s/report.pb", dir);
        snprintf(wrk_out, sizeof(wrk_out), "%s/wrk.txt", dir);
        (void)write_report(body_path, &(SimNode){.name = "wrk-node", .boot_id = "wrk-boot", .seq = 1}, 1);
        snprintf(env_body, sizeof(env_body), "VIGIL_BENCH_BODY=%s", body_path);
        run_wrk(&o, url, (char *[]){env_body, NULL}, wrk_out, &wrk_fixed);

        /*
         * wrk posting distinct reports (every one applied and committed): the collector's durable
         * ingest measured with a load generator that costs far less CPU than the curl one above. The
         * templates are the same reports without node name and seq, which the Lua script appends;
         * a new boot_id makes the first post of each node count as new.
         */
        snprintf(tmpl_path, sizeof(tmpl_path), "%s/template.pb", dir);
        snprintf(warn_path, sizeof(warn_path), "%s/template-warn.pb", dir);
        snprintf(wrk_distinct_out, sizeof(wrk_distinct_out), "%s/wrk-distinct.txt", dir);
        {
                SimNode t = {.name = "", .seq = 0};
                snprintf(t.boot_id, sizeof(t.boot_id), "%08x-wrk", (unsigned)getpid());
                (void)write_report(tmpl_path, &t, 1);
                (void)write_report(warn_path, &t, 7); /* seq 0, post 7: hit rate WARN */
        }
        snprintf(env_tmpl, sizeof(env_tmpl), "VIGIL_BENCH_TEMPLATE=%s", tmpl_path);
        snprintf(env_warn, sizeof(env_warn), "VIGIL_BENCH_TEMPLATE_WARN=%s", warn_path);
        snprintf(env_nodes, sizeof(env_nodes), "VIGIL_BENCH_NODES=%u", MIN(o.nodes, 100000u));
        snprintf(env_threads, sizeof(env_threads), "VIGIL_BENCH_THREADS=%u", WRK_THREADS);
        run_wrk(&o, url, (char *[]){env_tmpl, env_warn, env_nodes, env_threads, NULL}, wrk_distinct_out,
                &wrk_distinct);

        char status_path[64], status_line[256];
        long hwm_kib = -1;
        snprintf(status_path, sizeof(status_path), "/proc/%d/status", (int)collector);
        {
                _cleanup_(fclosep) FILE *f = fopen(status_path, "re");
                while (f && fgets(status_line, sizeof(status_line), f))
                        if (sscanf(status_line, "VmHWM: %ld kB", &hwm_kib) == 1)
                                break;
        }
        kill(collector, SIGTERM);
        int cstatus = wait_pid(collector);

        printf("%-44s %12s %10s %10s %10s   %s\n", "", "reports/s", "p50", "p99", "max", "target");
        printf("%-44s %12.0f %8.2fms %8.2fms %8.2fms   >= 50000/s, p99 < 5 ms\n",
                "vigil-collector, 10 checks, durable", rate, pct_ms(&st, 0.50), pct_ms(&st, 0.99),
                pct_ms(&st, 1.0));
        print_wrk_row("wrk, distinct reports, durable", &wrk_distinct, ">= 50000/s, p99 < 5 ms");
        print_wrk_row("wrk, one fixed report (duplicates)", &wrk_fixed, "(HTTP-stack ceiling)");
        printf("\nposts acknowledged: %zu in %.1f s; non-200: %" PRIu64 "; transport errors: %" PRIu64 "\n",
                st.n, (double)elapsed / USEC_PER_SEC, st.non200, st.errors);
        printf("GET /v1/cluster over %u nodes (%zu bytes): first %.1f ms, median of next %zu %.1f ms   "
               "target < 50 ms\n",
                o.nodes, size, first / 1000.0, ELEMENTSOF(times) - 1, median / 1000.0);
        if (ctl_time != USEC_INFINITY)
                printf("vigilctl status over %u nodes: %.1f ms (best of 3, process start included)\n",
                        o.nodes, ctl_time / 1000.0);
        printf("collector peak RSS: %.1f MiB; exit status after SIGTERM: %d\n", hwm_kib / 1024.0, cstatus);
        printf("wrk distinct: non-2xx: %" PRIu64 ", socket errors: %" PRIu64 "; wrk fixed: non-2xx: %" PRIu64
               ", socket errors: %" PRIu64 "\n",
                wrk_distinct.non2xx, wrk_distinct.socket_errors, wrk_fixed.non2xx, wrk_fixed.socket_errors);
        if (wrk_distinct.status == 0)
                print_wrk_output("wrk output, distinct reports", wrk_distinct_out);
        if (wrk_fixed.status == 0)
                print_wrk_output("wrk output, one fixed report", wrk_out);

        if (!o.keep)
                nftw(dir, rm_entry, 8, FTW_DEPTH | FTW_PHYS);
        else
                printf("\nkept %s\n", dir);
        free(st.lat_us);
        curl_global_cleanup();
        return 0;
}
