/* SPDX-License-Identifier: MIT */
/*
 * vigilctl ufs-test and ufs-io-test: the UFS readiness tests operators run before trusting a cluster
 * (Alluxio's ufsTest and ufsIOTest), run from this machine straight against the UFS. They do not
 * talk to the collector, so they have options of their own.
 */
#include <inttypes.h>
#include <signal.h>
#include <stddef.h>
#include <strings.h>
#include <unistd.h>

#include "ctl.h"
#include "json-util.h"
#include "log.h"
#include "ufs-io.h"
#include "ufs-suite.h"

typedef struct CtlUfsSettings {
        char *path;
        char **tests;
        bool json;
        char *endpoint;
        char *region;
        UfsAddressing addressing;
        char *access_key;
        char *secret_key;
        char *profile;
        char *credentials_file;
        char *ca_file;
        bool insecure;
        usec_t timeout;
        uint64_t part_size;
        usec_t list_retry_timeout;
        unsigned large_dir_files;
        char *io_size;
        unsigned threads;
        bool progress;
        bool no_progress;
} CtlUfsSettings;

static int parse_addressing(void *obj, const char *value, char **ret_reason) {
        UfsAddressing a = ufs_addressing_from_string(value);
        if (a < 0) {
                *ret_reason = strdup("must be auto, path or virtual");
                return -EINVAL;
        }
        ((CtlUfsSettings *)obj)->addressing = a;
        return 0;
}

#define UFS_OPT(k, t, field, ...)                                                                           \
        { .key = k, .type = t, .offset = offsetof(CtlUfsSettings, field), __VA_ARGS__ }

const ConfigOption ctl_ufs_options[] = {
        UFS_OPT("path", CONFIG_STRING, path, .metavar = "URI",
                .help = "the UFS to test: s3://bucket/prefix or file:///dir (required)"),
        UFS_OPT("test", CONFIG_STRV, tests, .metavar = "NAME",
                .help = "ufs-test: run only this test (repeatable; createAtomic or createAtomicTest)"),
        UFS_OPT("json", CONFIG_BOOL, json, .help = "ufs-test: print the results as JSON"),
        UFS_OPT("io_size", CONFIG_STRING, io_size, .metavar = "SIZE",
                .help = "ufs-io-test: bytes each thread writes and reads back (512m, 4g)"),
        UFS_OPT("threads", CONFIG_UINT, threads, .metavar = "N", .help = "ufs-io-test: parallel threads"),
        UFS_OPT("progress", CONFIG_BOOL, progress,
                .help = "ufs-io-test: show a progress line even when stderr is not a terminal"),
        UFS_OPT("no_progress", CONFIG_BOOL, no_progress,
                .help = "ufs-io-test: never show the progress line"),
        UFS_OPT("endpoint", CONFIG_STRING, endpoint, .metavar = "URL",
                .help = "s3: the S3 endpoint (http://minio:9000); default AWS for the region"),
        UFS_OPT("region", CONFIG_STRING, region, .metavar = "REGION",
                .help = "s3: region to sign for (default: $AWS_REGION, $AWS_DEFAULT_REGION, the profile's, "
                        "us-east-1)"),
        UFS_OPT("addressing", CONFIG_CUSTOM, addressing, .metavar = "STYLE", .parse = parse_addressing,
                .help = "s3: path (http://host/bucket/key), virtual (http://bucket.host/key) or auto: path "
                        "with --endpoint, virtual for AWS"),
        UFS_OPT("access_key", CONFIG_STRING, access_key, .metavar = "KEY",
                .help = "s3: access key id (default: $AWS_ACCESS_KEY_ID, then the credentials file)"),
        UFS_OPT("secret_key", CONFIG_STRING, secret_key, .metavar = "SECRET",
                .help = "s3: secret access key (visible in ps: prefer $AWS_SECRET_ACCESS_KEY or the file)"),
        UFS_OPT("profile", CONFIG_STRING, profile, .metavar = "NAME",
                .help = "s3: profile of the credentials file (default: $AWS_PROFILE, default)"),
        UFS_OPT("credentials_file", CONFIG_STRING, credentials_file, .metavar = "FILE",
                .help = "s3: credentials file (default: $AWS_SHARED_CREDENTIALS_FILE, ~/.aws/credentials)"),
        UFS_OPT("ca_file", CONFIG_STRING, ca_file, .metavar = "FILE",
                .help = "s3: trust these CA certificates (PEM) for an https:// endpoint"),
        UFS_OPT("insecure", CONFIG_BOOL, insecure, .help = "s3: do not verify the endpoint's certificate"),
        UFS_OPT("timeout", CONFIG_DURATION, timeout, .metavar = "DURATION",
                .help = "give up on a request that makes no progress for DURATION"),
        UFS_OPT("part_size", CONFIG_SIZE, part_size, .metavar = "SIZE",
                .help = "s3: multipart part size for uploads of unknown size (at least 5M)"),
        UFS_OPT("list_retry_timeout", CONFIG_DURATION, list_retry_timeout, .metavar = "DURATION",
                .help = "ufs-test: retry listings that do not yet show a write (eventual consistency) for "
                        "up to DURATION"),
        UFS_OPT("large_dir_files", CONFIG_UINT, large_dir_files, .metavar = "N",
                .help = "ufs-test: files in the large-directory tests"),
};
const size_t ctl_ufs_options_count = ELEMENTSOF(ctl_ufs_options);

static void settings_done(CtlUfsSettings *s) {
        config_free_fields(ctl_ufs_options, ctl_ufs_options_count, s);
}

static void help(const char *verb, const CtlUfsSettings *s, FILE *f) {
        fprintf(f,
                "Usage: vigilctl ufs-test --path URI [--test NAME ...] [--json] [OPTIONS]\n"
                "       vigilctl ufs-io-test --path URI [--io-size SIZE] [--threads N] [OPTIONS]\n"
                "\n"
                "UFS readiness, run from this machine against the UFS itself (no collector needed).\n"
                "  ufs-test      the operation suite of Alluxio's ufsTest: create, open, read, list, "
                "rename,\n"
                "                delete, directories, multipart; each test in a directory of its own below\n"
                "                URI, all removed at the end (also on failure or Ctrl-C)\n"
                "  ufs-io-test   Alluxio's ufsIOTest: each thread writes a file of SIZE, then reads it "
                "back;\n"
                "                prints the JSON summary operators parse (readSpeedStat, writeSpeedStat, "
                "...)\n"
                "\n"
                "Credentials for s3://: --access-key/--secret-key, else $AWS_ACCESS_KEY_ID,\n"
                "$AWS_SECRET_ACCESS_KEY and $AWS_SESSION_TOKEN, else the profile in ~/.aws/credentials.\n"
                "\n"
                "Options:\n");
        config_print_help(ctl_ufs_options, ctl_ufs_options_count, s, f);
        fprintf(f,
                "\n"
                "Exit status: 0 all passed, 2 a test or transfer failed, 3 the test could not run\n"
                "(bad arguments, no credentials, the UFS root unusable).\n"
                "See docs/ufs.md.%s\n",
                streq(verb, "ufs-test") ? "" : "");
}

static void json_add_string(json_object *o, const char *key, const char *value) {
        json_object_object_add(o, key, json_object_new_string(value));
}

static void json_add_int(json_object *o, const char *key, int64_t value) {
        json_object_object_add(o, key, json_object_new_int64(value));
}

/* ---------------------------------------------------------------------------------- Ctrl-C */

static volatile sig_atomic_t cancel_requested = 0;

static void on_signal(int sig) {
        cancel_requested = 1;
        /* a second Ctrl-C is not polite any more */
        signal(sig, SIG_DFL);
}

static void catch_signals(void) {
        struct sigaction sa = {.sa_handler = on_signal};
        sigemptyset(&sa.sa_mask);
        sigaction(SIGINT, &sa, NULL);
        sigaction(SIGTERM, &sa, NULL);
        sigaction(SIGHUP, &sa, NULL);
}

/* ---------------------------------------------------------------------------------- ufs-test */

typedef struct SuiteOutput {
        FILE *f;
        bool json;
        json_object *tests;
        int failed, passed, skipped;
} SuiteOutput;

static void suite_start(void *userdata, const char *name) {
        SuiteOutput *o = userdata;
        if (!o->json) {
                fprintf(o->f, "Running test: %s...\n", name);
                fflush(o->f);
        }
}

static void suite_done(void *userdata, const UfsSuiteResult *r) {
        SuiteOutput *o = userdata;
        uint64_t ms = r->duration / USEC_PER_MSEC;

        if (r->skipped)
                o->skipped++;
        else if (r->passed)
                o->passed++;
        else
                o->failed++;

        if (o->json) {
                json_object *t = json_object_new_object();
                json_add_string(t, "name", r->name);
                json_add_string(t, "result", r->skipped ? "SKIPPED" : r->passed ? "PASSED" : "FAILED");
                json_add_int(t, "timeMs", (int64_t)ms);
                if (!r->passed && !r->skipped)
                        json_add_string(t, "reason", strempty(r->reason));
                json_object_array_add(o->tests, t);
                return;
        }
        if (r->skipped)
                fprintf(o->f, "Skipped: %s does not apply here\n", r->name);
        else if (r->passed)
                fprintf(o->f, "Passed the test! time: %" PRIu64 "ms\n", ms);
        else
                fprintf(o->f, "Failed the test! time: %" PRIu64 "ms, reason: %s\n", ms, strempty(r->reason));
        fflush(o->f);
}

static int run_suite(const CtlUfsSettings *s, Ufs *u) {
        _cleanup_json_ json_object *doc = NULL;
        SuiteOutput out = {.f = stdout, .json = s->json};
        UfsSuiteOptions so = {
                .list_retry_timeout = s->list_retry_timeout,
                .large_dir_files = s->large_dir_files,
                .cancel = &cancel_requested,
        };
        UfsSuiteCallbacks cb = {.start = suite_start, .done = suite_done, .userdata = &out};
        bool cancelled = false;

        STRV_FOREACH (t, s->tests)
                if (!ufs_suite_has_test(*t))
                        return log_error_errno(
                                -EINVAL, "ufs-test: no test called '%s' (see docs/ufs.md)", *t);
        if (s->json) {
                doc = json_object_new_object();
                out.tests = json_object_new_array();
                json_object_object_add(doc, "tests", out.tests);
        }

        int r = ufs_suite_run(u, s->tests, &so, &cb, &cancelled);
        /* before any test ran: the run directory could not be made (no bucket, no access, ...) */
        if (r < 0 && out.failed + out.passed + out.skipped == 0 && !cancelled)
                return log_error_errno(r, "ufs-test: %s", ufs_error(u));

        if (s->json) {
                json_add_string(doc, "path", s->path);
                json_add_int(doc, "passed", out.passed);
                json_add_int(doc, "failed", out.failed);
                json_add_int(doc, "skipped", out.skipped);
                json_object_object_add(doc, "cancelled", json_object_new_boolean(cancelled));
                if (r < 0)
                        json_add_string(doc, "cleanupError", ufs_error(u));
                ctl_print_json(doc, stdout);
        } else
                printf("Tests %s with %d failed.\n", cancelled ? "cancelled" : "completed", out.failed);
        /* the tests ran, but what they made could not all be removed: say where it is */
        if (r < 0)
                log_error_errno(r, "ufs-test: %s", ufs_error(u));

        if (cancelled)
                return CTL_EXIT_ERROR;
        return out.failed > 0 || r < 0 ? (int)VIGIL_CRIT : 0;
}

/* ---------------------------------------------------------------------------------- ufs-io-test */

static void io_progress(void *userdata, const UfsIoProgress *p) {
        FILE *f = userdata;
        char speed[32];
        double s = (double)p->elapsed / USEC_PER_SEC;
        fprintf(f, "\r%-5s %6.1f%%  %" PRIu64 " of %" PRIu64 " MiB  %s   ",
                p->mode == UFS_IO_WRITE ? "write" : "read", p->total ? 100.0 * p->done / p->total : 100.0,
                p->done >> 20, p->total >> 20,
                ctl_format_bytes_per_s(speed, sizeof(speed), s > 0 ? p->done / s : 0));
        fflush(f);
}

static json_object *speed_stat_json(const UfsIoStat *st) {
        json_object *o = json_object_new_object();
        json_object_object_add(o, "mTotalDurationSeconds", json_new_double_digits(st->total_duration_s, 6));
        json_add_int(o, "mTotalSizeBytes", (int64_t)st->total_bytes);
        json_object_object_add(o, "mMaxSpeedMbps", json_new_double_digits(st->max_mbps, 3));
        json_object_object_add(o, "mMinSpeedMbps", json_new_double_digits(st->min_mbps, 3));
        json_object_object_add(o, "mAvgSpeedMbps", json_new_double_digits(st->avg_mbps, 3));
        json_object_object_add(o, "mClusterAvgSpeedMbps", json_new_double_digits(st->cluster_avg_mbps, 3));
        json_object_object_add(o, "mStdDev", json_new_double_digits(st->stddev_mbps, 3));
        return o;
}

/* The summary with the structure of ufsIOTest's IOTaskSummary. */
json_object *ctl_ufs_io_summary_json(const UfsIoSummary *s, const char *data_size, int64_t start_ms) {
        json_object *doc = json_object_new_object(), *points = json_object_new_array(),
                    *errors = json_object_new_array(), *params = json_object_new_object(),
                    *base = json_object_new_object();

        for (size_t i = 0; i < s->n_points; i++) {
                const UfsIoPoint *p = &s->points[i];
                json_object *o = json_object_new_object();
                json_add_string(o, "mMode", p->mode == UFS_IO_WRITE ? "WRITE" : "READ");
                json_object_object_add(o, "mDurationSeconds", json_new_double_digits(p->duration_s, 6));
                json_add_int(o, "mDataSizeBytes", (int64_t)p->bytes);
                json_add_int(o, "mThread", p->thread);
                json_object_array_add(points, o);
        }
        STRV_FOREACH (e, s->errors)
                json_object_array_add(errors, json_object_new_string(*e));
        json_add_int(params, "mThreads", s->threads);
        json_add_string(params, "mDataSize", data_size);
        json_add_string(params, "mPath", s->path);
        json_add_int(base, "mStartMs", start_ms);
        json_object_object_add(base, "mDistributed", json_object_new_boolean(false));
        json_object_object_add(base, "mInProcess", json_object_new_boolean(true));

        json_object_object_add(doc, "readSpeedStat", speed_stat_json(&s->read));
        json_object_object_add(doc, "writeSpeedStat", speed_stat_json(&s->write));
        json_object_object_add(doc, "errors", errors);
        json_object_object_add(doc, "baseParameters", base);
        json_object_object_add(doc, "points", points);
        json_object_object_add(doc, "parameters", params);
        if (s->cancelled)
                json_object_object_add(doc, "cancelled", json_object_new_boolean(true));
        return doc;
}

static int run_io_test(const CtlUfsSettings *s, const UfsUri *uri, const UfsOptions *uo) {
        _cleanup_(ufs_io_summary_done) UfsIoSummary summary = {};
        _cleanup_json_ json_object *doc = NULL;
        _cleanup_(freep) char *reason = NULL;
        uint64_t io_size = 0;
        bool show = !s->no_progress && (s->progress || isatty(STDERR_FILENO));

        if (s->io_size && (parse_size(s->io_size, &io_size) < 0 || io_size == 0))
                return log_error_errno(-EINVAL, "ufs-io-test: bad --io-size '%s' (512m, 4g)", s->io_size);
        if (s->threads > UFS_IO_MAX_THREADS)
                return log_error_errno(-EINVAL, "ufs-io-test: at most %u threads", UFS_IO_MAX_THREADS);

        UfsIoOptions o = {
                .threads = s->threads,
                .io_size = io_size,
                .cancel = &cancel_requested,
                .progress = show ? io_progress : NULL,
                .userdata = stderr,
        };
        int64_t start_ms = (int64_t)(now_usec(CLOCK_REALTIME) / USEC_PER_MSEC);
        int r = ufs_io_run(uri, uo, &o, &summary, &reason);
        if (show)
                fputc('\n', stderr);
        if (r == -ENOMEM)
                return log_oom();
        if (r < 0)
                return log_error_errno(r, "ufs-io-test: %s", reason ?: "cannot start");

        doc = ctl_ufs_io_summary_json(&summary, s->io_size ?: "4g", start_ms);
        if (!doc)
                return log_oom();
        ctl_print_json(doc, stdout);
        if (summary.cancelled)
                return CTL_EXIT_ERROR;
        return strv_length(summary.errors) > 0 ? (int)VIGIL_CRIT : 0;
}

/* ---------------------------------------------------------------------------------- main */

bool ctl_ufs_is_command(const char *verb) {
        return verb && (streq(verb, "ufs-test") || streq(verb, "ufs-io-test"));
}

int ctl_ufs_main(const char *verb, int argc, char **argv) {
        _cleanup_(settings_done) CtlUfsSettings s = {.timeout = 30 * USEC_PER_SEC};
        _cleanup_(strv_freep) char **rest = NULL;
        _cleanup_(freep) char *error = NULL, *reason = NULL;
        _cleanup_(ufs_uri_freep) UfsUri *uri = NULL;
        _cleanup_(ufs_closep) Ufs *u = NULL;
        bool io = streq(verb, "ufs-io-test");
        int r;

        /* The verb may stand anywhere among the options: parse the rest without it. */
        _cleanup_(freep) char **v = calloc(argc + 1, sizeof(char *));
        int n = 0;
        bool seen = false;
        if (!v)
                return log_oom();
        for (int i = 0; i < argc; i++) {
                if (!seen && i > 0 && streq(argv[i], verb)) {
                        seen = true;
                        continue;
                }
                v[n++] = argv[i];
        }
        r = config_parse_argv(ctl_ufs_options, ctl_ufs_options_count, &s, n, v, &rest, &error);
        if (r == -ENOMEM)
                return log_oom();
        if (r < 0)
                return log_error_errno(r, "%s: %s", verb, error ?: "bad arguments (see --help)");
        if (r == 1) {
                help(verb, &s, stdout);
                return 0;
        }
        if (r == 2) {
                printf("vigilctl %s\n", VIGIL_VERSION);
                return 0;
        }
        if (rest)
                return log_error_errno(-EINVAL, "%s: unexpected argument '%s' (see --help)", verb, rest[0]);
        if (!s.path)
                return log_error_errno(
                        -EINVAL, "%s: --path URI is required (s3://bucket/prefix, file:///dir)", verb);
        if (io && (s.tests || s.json || s.list_retry_timeout || s.large_dir_files))
                return log_error_errno(-EINVAL,
                        "ufs-io-test: --test, --json, --list-retry-timeout and "
                        "--large-dir-files apply to ufs-test only");
        if (!io && (s.io_size || s.threads || s.progress || s.no_progress))
                return log_error_errno(
                        -EINVAL, "ufs-test: --io-size, --threads and --progress apply to ufs-io-test only");
        if (s.timeout == 0)
                return log_error_errno(-EINVAL, "%s: --timeout must be more than 0", verb);

        r = ufs_uri_parse(s.path, &uri, &reason);
        if (r == -ENOMEM)
                return log_oom();
        if (r < 0)
                return log_error_errno(r, "%s: %s", verb, reason);

        UfsOptions uo = {
                .endpoint = s.endpoint,
                .region = s.region,
                .addressing = s.addressing,
                .access_key = s.access_key,
                .secret_key = s.secret_key,
                .profile = s.profile,
                .credentials_file = s.credentials_file,
                .ca_file = s.ca_file,
                .insecure = s.insecure,
                .timeout = s.timeout,
                .part_size = s.part_size,
                .cancel = &cancel_requested,
        };
        catch_signals();
        if (io)
                return run_io_test(&s, uri, &uo);

        r = ufs_open(uri, &uo, &u, &reason);
        if (r == -ENOMEM)
                return log_oom();
        if (r < 0)
                return log_error_errno(r, "ufs-test: %s", reason ?: "cannot open the UFS");
        return run_suite(&s, u);
}
