/* SPDX-License-Identifier: MIT */
/*
 * bench/log-scan driver, two commands (bench/log-scan runs them and GNU grep, and prints the table):
 *
 *   log-scan generate FILE BYTES [--seed N]
 *     writes a log4j-style log of about BYTES bytes (whole records; the exact size is printed):
 *     98.4 % INFO, 1 % DEBUG, 0.5 % WARN (a quarter of them with an exception and a few frames),
 *     0.1 % ERROR each followed by an exception line, 5-15 "\tat ..." frames and in a third of them
 *     a "Caused by:" chain. WARN and ERROR appear in capitals only as the level of their record, so
 *     `grep -c 'WARN\|ERROR'` counts exactly the events the scanner should find. About 1 % of the
 *     INFO lines say "0 errors" (lower case: a hit for the scanner's case-insensitive search that
 *     it must classify and drop, as in real logs).
 *
 *   log-scan scan FILE [--format auto|plain] [--levels LIST] [--context N] [--buffer BYTES]
 *     reads FILE with read() into one buffer (1 MiB), offers the untaken tail again with the next
 *     read as log-scan.h asks, feeds log_scanner_feed() and counts the events. Prints one line of
 *     key=value figures: the bytes, the seconds on CLOCK_MONOTONIC from open() to the last event,
 *     MB/s (10^6 bytes), events by level, lines, and the CPU seconds used.
 */
#include <fcntl.h>
#include <getopt.h>
#include <inttypes.h>
#include <stdarg.h>
#include <sys/resource.h>
#include <time.h>

#include "log-scan.h"
#include "macros.h"
#include "time-util.h"

/* ---- generate ---- */

#define OUT_BUF (4 * 1024 * 1024)
#define RECORD_MAX (16 * 1024) /* one record with its stack trace is far shorter */

typedef struct Gen {
        uint64_t rng;
        int64_t time_ms;
        int64_t stamp_sec; /* the second stamp[] shows */
        char stamp[24]; /* "2024-07-04 17:29:53" */
        char *p; /* write position in the output buffer */
        uint64_t records, warn, error, debug, info_errors_word, lines;
} Gen;

static uint64_t gen_next(Gen *g) {
        /* splitmix64: deterministic, so every run scans the same bytes for a given seed */
        uint64_t z = (g->rng += 0x9e3779b97f4a7c15ULL);
        z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
        z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
        return z ^ (z >> 31);
}

static unsigned below(Gen *g, unsigned n) {
        return (unsigned)(gen_next(g) % n);
}

#define PICK(g, a) ((a)[below((g), ELEMENTSOF(a))])

static const char *const datasets[] = {
        "sales/2024/07",
        "clicks_raw",
        "events/dt=2024-07-04",
        "orders_v2",
        "tenant_a/logs",
        "ml/features/user_embeddings",
        "inventory",
        "tpcds_sf1000/store_sales",
        "finance/ledger",
        "ads/impressions/hour=17",
};
static const char *const users[] = {"alluxio", "hive", "spark", "presto", "etl-runner", "trino"};
static const char *const tenants[] = {"analytics", "ml-platform", "ads", "finance", "search"};

static void gen_printf(Gen *g, const char *fmt, ...) _printf_(2, 3);
static void gen_printf(Gen *g, const char *fmt, ...) {
        va_list ap;
        va_start(ap, fmt);
        int n = vsnprintf(g->p, RECORD_MAX, fmt, ap);
        va_end(ap);
        g->p += MIN(n, RECORD_MAX - 1);
}

/* Starts a record line: the time, then the level and logger in one of log4j's two layouts. */
static void gen_head(Gen *g, const char *level, const char *thread, const char *logger) {
        int64_t sec = g->time_ms / 1000;
        if (sec != g->stamp_sec) {
                time_t t = (time_t)sec;
                struct tm tm;
                gmtime_r(&t, &tm);
                strftime(g->stamp, sizeof(g->stamp), "%Y-%m-%d %H:%M:%S", &tm);
                g->stamp_sec = sec;
        }
        if (thread)
                gen_printf(g, "%s,%03d [%s] %s %s - ", g->stamp, (int)(g->time_ms % 1000), thread, level,
                        logger);
        else
                gen_printf(g, "%s,%03d %s %s - ", g->stamp, (int)(g->time_ms % 1000), level, logger);
}

static void gen_end(Gen *g) {
        *g->p++ = '\n';
        g->lines++;
}

static void gen_info(Gen *g) {
        unsigned k = below(g, 100);
        char thread[48];

        if (k == 0) {
                /* the lower-case "errors" line */
                snprintf(thread, sizeof(thread), "UfsSyncPathCache-%u", below(g, 64));
                gen_head(g, "INFO", thread, "file.InodeSyncStream (InodeSyncStream.java:sync)");
                gen_printf(g, "Synced /data/warehouse/%s: %u inodes loaded, %u updated, 0 errors in %u ms",
                        PICK(g, datasets), below(g, 5000), below(g, 200), 1 + below(g, 3000));
                g->info_errors_word++;
                gen_end(g);
                return;
        }
        switch (k % 12) {
        case 0:
                gen_head(g, "INFO", NULL, "BlockWorker");
                gen_printf(g, "Committed block %u of session %u in %u ms", 10000 + below(g, 9000000),
                        below(g, 100000), 1 + below(g, 40));
                break;
        case 1:
                gen_head(g, "INFO", NULL, "DefaultBlockWorker");
                gen_printf(g, "Removed block %u from tier MEM (freed %u bytes, %u blocks remaining)",
                        10000 + below(g, 9000000), 1 + below(g, 67108864), below(g, 200000));
                break;
        case 2:
                gen_head(g, "INFO", "block-master-heartbeat",
                        "block.DefaultBlockMaster (DefaultBlockMaster.java:heartbeat)");
                gen_printf(g,
                        "Worker %u (worker-%02u.alluxio.svc.cluster.local:29999) heartbeat: %u blocks "
                        "added, %u "
                        "removed, capacity %u/%u MB",
                        below(g, 4096), below(g, 64), below(g, 500), below(g, 500), below(g, 65536), 65536);
                break;
        case 3:
                gen_head(g, "INFO", NULL, "UfsJournalCheckpointThread");
                gen_printf(g,
                        "Journal checkpointer for FileSystemMaster wrote checkpoint at sequence number %u "
                        "(%u "
                        "entries, %u ms)",
                        below(g, 1000000000), below(g, 5000000), 1 + below(g, 20000));
                break;
        case 4:
                snprintf(thread, sizeof(thread), "master-rpc-executor-TPE-thread-%u", below(g, 2048));
                gen_head(g, "INFO", thread, "master.AuditLog (FileSystemMasterAuditContext.java:close)");
                gen_printf(g,
                        "allowed=true ugi=%s (AUTH=SIMPLE) ip=/10.%u.%u.%u:%u cmd=getStatus "
                        "src=/data/warehouse/%s/part-%05u.parquet dst=null executionTimeUs=%u",
                        PICK(g, users), below(g, 256), below(g, 256), below(g, 256), 30000 + below(g, 30000),
                        PICK(g, datasets), below(g, 10000), 10 + below(g, 90000));
                break;
        case 5:
                gen_head(g, "INFO", NULL, "CacheManager");
                gen_printf(g, "Evicted page %u of file %016" PRIx64 " (%u bytes) to make room for %u bytes",
                        below(g, 4096), gen_next(g), 1048576, 1 + below(g, 1048576));
                break;
        case 6:
                gen_head(g, "INFO", NULL, "MetricsSystem");
                gen_printf(g, "Reported %u metrics to sink PrometheusMetricsServlet in %u ms",
                        100 + below(g, 900), below(g, 30));
                break;
        case 7:
                gen_head(g, "INFO", NULL, "FuseFileSystem");
                gen_printf(g, "Opened /mnt/alluxio-fuse/%s/part-%05u.parquet (fd %u) in %u us",
                        PICK(g, datasets), below(g, 10000), 3 + below(g, 60000), 20 + below(g, 5000));
                break;
        case 8:
                gen_head(g, "INFO", NULL, "PagedBlockStore");
                gen_printf(g,
                        "Cached block %u (%u pages) from UFS "
                        "hdfs://namenode-%u.hadoop:8020/data/warehouse/%s/"
                        "part-%05u.parquet",
                        10000 + below(g, 9000000), 1 + below(g, 64), below(g, 3), PICK(g, datasets),
                        below(g, 10000));
                break;
        case 9:
                gen_head(g, "INFO", NULL, "BlockMasterSync");
                gen_printf(g, "Heartbeat to master completed in %u ms, %u commands received",
                        1 + below(g, 50), below(g, 4));
                break;
        case 10:
                gen_head(g, "INFO", NULL, "AbstractClient");
                gen_printf(g,
                        "Alluxio client (version 2.9.3) is trying to connect with BlockMasterWorker @ "
                        "master-%u/10.%u.%u.%u:19998",
                        below(g, 3), below(g, 256), below(g, 256), below(g, 256));
                break;
        default:
                snprintf(thread, sizeof(thread), "worker-data-reader-%u", below(g, 512));
                gen_head(g, "INFO", thread, "grpc.BlockReadHandler (BlockReadHandler.java:onCompleted)");
                gen_printf(g, "Finished reading block %u: %u bytes in %u chunks for client %s@10.%u.%u.%u",
                        10000 + below(g, 9000000), below(g, 67108864), 1 + below(g, 64), PICK(g, users),
                        below(g, 256), below(g, 256), below(g, 256));
                break;
        }
        gen_end(g);
}

static const char *const frames[] = {
        "alluxio.underfs.hdfs.HdfsUnderFileSystem.listStatus(HdfsUnderFileSystem.java:512)",
        "alluxio.underfs.UnderFileSystemWithLogging$28.call(UnderFileSystemWithLogging.java:826)",
        "alluxio.underfs.UnderFileSystemWithLogging.call(UnderFileSystemWithLogging.java:1261)",
        "alluxio.master.file.meta.HdfsUfsStatusIterator.fetchNext(HdfsUfsStatusIterator.java:104)",
        "alluxio.master.file.InodeSyncStream.syncInodeMetadata(InodeSyncStream.java:780)",
        "alluxio.master.file.InodeSyncStream.sync(InodeSyncStream.java:465)",
        "alluxio.master.file.DefaultFileSystemMaster.syncMetadata(DefaultFileSystemMaster.java:3912)",
        "alluxio.master.quota.QuotaCoordinator.runJanitor(QuotaCoordinator.java:211)",
        "alluxio.master.quota.QuotaCoordinator.lambda$new$0(QuotaCoordinator.java:96)",
        "alluxio.worker.block.DefaultBlockWorker.commitBlock(DefaultBlockWorker.java:338)",
        "alluxio.worker.block.BlockMasterClient.commitBlock(BlockMasterClient.java:148)",
        "alluxio.AbstractClient.retryRPCInternal(AbstractClient.java:451)",
        "alluxio.AbstractClient.retryRPC(AbstractClient.java:416)",
        "org.apache.hadoop.hdfs.DFSClient.listPaths(DFSClient.java:1712)",
        "org.apache.hadoop.hdfs.DistributedFileSystem$DirListingIterator.<init>(DistributedFileSystem.java:"
        "1276)",
        "org.apache.hadoop.ipc.Client.call(Client.java:1476)",
        "org.apache.hadoop.ipc.ProtobufRpcEngine$Invoker.invoke(ProtobufRpcEngine.java:229)",
        "com.sun.proxy.$Proxy22.getListing(Unknown Source)",
        "io.grpc.stub.ClientCalls.blockingUnaryCall(ClientCalls.java:166)",
        "java.util.concurrent.Executors$RunnableAdapter.call(Executors.java:511)",
        "java.util.concurrent.FutureTask.runAndReset(FutureTask.java:308)",
        "java.util.concurrent.ScheduledThreadPoolExecutor$ScheduledFutureTask.run("
        "ScheduledThreadPoolExecutor.java:294)",
        "java.util.concurrent.ThreadPoolExecutor.runWorker(ThreadPoolExecutor.java:1149)",
        "java.util.concurrent.ThreadPoolExecutor$Worker.run(ThreadPoolExecutor.java:624)",
        "java.lang.Thread.run(Thread.java:750)",
};

static void gen_frames(Gen *g, unsigned n) {
        /* a run of the pool ending no later than Thread.run, which is always the bottom frame */
        n = MIN(n, (unsigned)ELEMENTSOF(frames));
        unsigned first = below(g, (unsigned)ELEMENTSOF(frames) - n + 1);
        for (unsigned i = 0; i < n; i++) {
                gen_printf(g, "\tat %s", frames[first + i]);
                gen_end(g);
        }
}

static void gen_warn(Gen *g) {
        switch (below(g, 4)) {
        case 0:
                gen_head(g, "WARN", NULL, "RetryUtils");
                gen_printf(g,
                        "Failed to connect (attempt %u/%u) to worker-%02u.alluxio.svc.cluster.local:29999: "
                        "connection refused",
                        1 + below(g, 9), 10, below(g, 64));
                break;
        case 1:
                gen_head(g, "WARN", "BlockMasterSync",
                        "block.BlockMasterSync (BlockMasterSync.java:heartbeat)");
                gen_printf(g, "Heartbeat to master took %u ms, longer than the 1000 ms interval",
                        1000 + below(g, 9000));
                break;
        case 2:
                gen_head(g, "WARN", NULL, "UfsJournal");
                gen_printf(g, "Journal flush of %u entries took %u ms", 1 + below(g, 5000),
                        500 + below(g, 5000));
                break;
        default:
                gen_head(g, "WARN", NULL, "DefaultBlockWorker");
                gen_printf(g, "Block %u of session %u could not be cached: tier MEM is full (%u/%u MB used)",
                        10000 + below(g, 9000000), below(g, 100000), 65000 + below(g, 536), 65536);
                gen_end(g);
                gen_printf(g,
                        "alluxio.exception.status.ResourceExhaustedException: Failed to allocate %u bytes "
                        "on "
                        "tier MEM",
                        1 + below(g, 67108864));
                gen_end(g);
                gen_frames(g, 2 + below(g, 3));
                g->warn++;
                return;
        }
        gen_end(g);
        g->warn++;
}

static void gen_error(Gen *g) {
        switch (below(g, 3)) {
        case 0:
                gen_head(g, "ERROR", "QuotaCoordinatorTimerThread",
                        "quota.QuotaCoordinator (QuotaCoordinator.java:lambda$new$0)");
                gen_printf(g, "Failed to run quota janitor job");
                gen_end(g);
                gen_printf(g,
                        "java.io.IOException: Failed to get the quota of /tenants/%s: Connection reset by "
                        "peer",
                        PICK(g, tenants));
                break;
        case 1: {
                unsigned nn = below(g, 3);
                const char *ds = PICK(g, datasets);
                gen_head(g, "ERROR", NULL, "HdfsUfsStatusIterator");
                gen_printf(g, "Failed to list the path hdfs://namenode-%u.hadoop:8020/data/warehouse/%s", nn,
                        ds);
                gen_end(g);
                if (below(g, 2))
                        gen_printf(g,
                                "org.apache.hadoop.ipc.RemoteException(org.apache.hadoop.security."
                                "AccessControlException): "
                                "Permission denied: user=alluxio, access=READ_EXECUTE, "
                                "inode=\"/data/warehouse/%s\":hive:hive:drwx------",
                                ds);
                else
                        gen_printf(g,
                                "java.io.FileNotFoundException: File "
                                "hdfs://namenode-%u.hadoop:8020/data/warehouse/%s "
                                "does not exist.",
                                nn, ds);
                break;
        }
        default:
                gen_head(g, "ERROR", NULL, "DefaultBlockWorker");
                gen_printf(g, "Failed to commit block %u of session %u", 10000 + below(g, 9000000),
                        below(g, 100000));
                gen_end(g);
                gen_printf(g,
                        "alluxio.exception.status.UnavailableException: Failed to connect to master "
                        "(master-%u:19998) after %u attempts",
                        below(g, 3), 1 + below(g, 60));
                break;
        }
        gen_end(g);
        gen_frames(g, 5 + below(g, 11));
        if (below(g, 3) == 0) {
                gen_printf(
                        g, "Caused by: java.net.ConnectException: Connection refused (Connection refused)");
                gen_end(g);
                gen_frames(g, 3 + below(g, 4));
                gen_printf(g, "\t... %u more", 5 + below(g, 20));
                gen_end(g);
        }
        g->error++;
}

static int write_all(int fd, const char *p, size_t n) {
        while (n > 0) {
                ssize_t k = write(fd, p, n);
                if (k < 0) {
                        if (errno == EINTR)
                                continue;
                        return -errno;
                }
                p += k;
                n -= (size_t)k;
        }
        return 0;
}

static int generate(const char *path, uint64_t size, uint64_t seed) {
        _cleanup_(closep) int fd = -EBADF;
        _cleanup_(freep) char *out = NULL;
        Gen g = {.rng = seed, .time_ms = 1720114193499LL, .stamp_sec = -1};
        uint64_t written = 0;
        usec_t start = now_usec(CLOCK_MONOTONIC);
        int r;

        fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
        if (fd < 0)
                return -errno;
        out = malloc(OUT_BUF);
        if (!out)
                return -ENOMEM;
        g.p = out;
        while (written + (uint64_t)(g.p - out) < size) {
                unsigned k = below(&g, 100000);
                if (k < 100)
                        gen_error(&g);
                else if (k < 600)
                        gen_warn(&g);
                else if (k < 1600) {
                        gen_head(&g, "DEBUG", NULL, "GrpcChannelPool");
                        gen_printf(&g, "Acquired channel %u of pool worker-%02u:29999 (refcount %u)",
                                below(&g, 8), below(&g, 64), 1 + below(&g, 32));
                        gen_end(&g);
                        g.debug++;
                } else
                        gen_info(&g);
                g.records++;
                g.time_ms += below(&g, 3);
                if ((size_t)(g.p - out) > OUT_BUF - RECORD_MAX) {
                        r = write_all(fd, out, (size_t)(g.p - out));
                        if (r < 0)
                                return r;
                        written += (uint64_t)(g.p - out);
                        g.p = out;
                }
        }
        r = write_all(fd, out, (size_t)(g.p - out));
        if (r < 0)
                return r;
        written += (uint64_t)(g.p - out);
        if (fsync(fd) < 0)
                return -errno;
        double secs = (double)(now_usec(CLOCK_MONOTONIC) - start) / 1e6;
        printf("generate: bytes=%" PRIu64 " lines=%" PRIu64 " records=%" PRIu64 " error=%" PRIu64
               " warn=%" PRIu64 " debug=%" PRIu64 " info_with_lowercase_errors=%" PRIu64
               " avg_line=%.1f seconds=%.2f\n",
                written, g.lines, g.records, g.error, g.warn, g.debug, g.info_errors_word,
                (double)written / (double)g.lines, secs);
        return 0;
}

/* ---- scan ---- */

typedef struct Counts {
        uint64_t events, by_level[8], context_lines, context_bytes;
} Counts;

static void on_event(const LogEvent *e, void *userdata) {
        Counts *c = userdata;
        c->events++;
        c->by_level[(unsigned)e->level & 7]++;
        c->context_lines += e->n_context;
        /* touch what an aggregator would read, so nothing is optimised away */
        for (size_t i = 0; i < e->n_context; i++)
                c->context_bytes += strlen(e->context[i]);
}

static double timeval_s(struct timeval t) {
        return (double)t.tv_sec + (double)t.tv_usec / 1e6;
}

static int scan(const char *path, const LogScanOptions *o, size_t buf_size) {
        _cleanup_(log_scanner_freep) LogScanner *s = NULL;
        _cleanup_(closep) int fd = -EBADF;
        _cleanup_(freep) char *buf = NULL;
        Counts c = {};
        LogScanStats st;
        struct rusage ru;
        size_t have = 0;
        int r;

        buf = malloc(buf_size);
        if (!buf)
                return -ENOMEM;
        r = log_scanner_new(o, on_event, &c, &s);
        if (r < 0)
                return r;
        usec_t start = now_usec(CLOCK_MONOTONIC);
        fd = open(path, O_RDONLY | O_CLOEXEC);
        if (fd < 0)
                return -errno;
        for (;;) {
                ssize_t n = read(fd, buf + have, buf_size - have);
                if (n < 0) {
                        if (errno == EINTR)
                                continue;
                        return -errno;
                }
                have += (size_t)n;
                bool eof = n == 0;
                size_t taken = log_scanner_feed(s, buf, have, eof);
                /* the unfinished last line is offered again, in front of the next read */
                if (taken < have)
                        memmove(buf, buf + taken, have - taken);
                have -= taken;
                if (eof)
                        break;
                if (have == buf_size)
                        return -ENOBUFS; /* cannot happen with buf_size > max_line */
        }
        log_scanner_flush(s);
        double secs = (double)(now_usec(CLOCK_MONOTONIC) - start) / 1e6;
        log_scanner_get_stats(s, &st);
        if (getrusage(RUSAGE_SELF, &ru) < 0)
                return -errno;
        printf("scan: bytes=%" PRIu64 " seconds=%.6f mb_per_s=%.1f events=%" PRIu64 " warn=%" PRIu64
               " error=%" PRIu64 " fatal=%" PRIu64 " lines=%" PRIu64 " context_lines=%" PRIu64
               " lines_cut=%" PRIu64 " format=%s cpu_user=%.3f cpu_sys=%.3f max_rss_kib=%ld\n",
                st.bytes, secs, (double)st.bytes / secs / 1e6, c.events,
                c.by_level[VIGIL__LOG_LEVEL__LOG_LEVEL_WARN], c.by_level[VIGIL__LOG_LEVEL__LOG_LEVEL_ERROR],
                c.by_level[VIGIL__LOG_LEVEL__LOG_LEVEL_FATAL], st.lines, c.context_lines, st.lines_cut,
                log_scanner_format(s) == LOG_FORMAT_PLAIN ? "plain" : "other", timeval_s(ru.ru_utime),
                timeval_s(ru.ru_stime), ru.ru_maxrss);
        return 0;
}

/* ---- main ---- */

static void usage(FILE *f) {
        fprintf(f,
                "Usage: log-scan generate FILE BYTES [--seed N]\n"
                "       log-scan scan FILE [--format auto|plain] [--levels LIST] [--context N] "
                "[--buffer BYTES]\n");
}

int main(int argc, char **argv) {
        static const struct option longopts[] = {
                {"seed", required_argument, NULL, 's'},
                {"format", required_argument, NULL, 'f'},
                {"levels", required_argument, NULL, 'l'},
                {"context", required_argument, NULL, 'c'},
                {"buffer", required_argument, NULL, 'b'},
                {"help", no_argument, NULL, 'h'},
                {},
        };
        LogScanOptions o = {.format = LOG_FORMAT_AUTO, .context = 1};
        uint64_t seed = 42;
        size_t buf_size = 1024 * 1024;
        int c, r;

        while ((c = getopt_long(argc, argv, "h", longopts, NULL)) >= 0) {
                switch (c) {
                case 's':
                        seed = strtoull(optarg, NULL, 0);
                        break;
                case 'f':
                        if (streq(optarg, "auto"))
                                o.format = LOG_FORMAT_AUTO;
                        else if (streq(optarg, "plain"))
                                o.format = LOG_FORMAT_PLAIN;
                        else {
                                usage(stderr);
                                return 2;
                        }
                        break;
                case 'l':
                        if (log_line_levels_parse(optarg, &o.levels) < 0) {
                                fprintf(stderr, "log-scan: bad --levels '%s'\n", optarg);
                                return 2;
                        }
                        break;
                case 'c':
                        o.context = (unsigned)strtoul(optarg, NULL, 10);
                        break;
                case 'b':
                        buf_size = (size_t)strtoull(optarg, NULL, 0);
                        break;
                case 'h':
                        usage(stdout);
                        return 0;
                default:
                        usage(stderr);
                        return 2;
                }
        }
        if (argc - optind == 3 && streq(argv[optind], "generate")) {
                r = generate(argv[optind + 1], strtoull(argv[optind + 2], NULL, 0), seed);
                if (r < 0) {
                        fprintf(stderr, "log-scan: cannot write %s: %s\n", argv[optind + 1], strerror(-r));
                        return 1;
                }
                return 0;
        }
        if (argc - optind == 2 && streq(argv[optind], "scan")) {
                if (buf_size <= 64 * 1024) {
                        fprintf(stderr, "log-scan: --buffer must exceed the 64 KiB longest line\n");
                        return 2;
                }
                r = scan(argv[optind + 1], &o, buf_size);
                if (r < 0) {
                        fprintf(stderr, "log-scan: cannot scan %s: %s\n", argv[optind + 1], strerror(-r));
                        return 1;
                }
                return 0;
        }
        usage(stderr);
        return 2;
}
