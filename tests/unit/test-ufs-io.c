/* SPDX-License-Identifier: MIT */
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>

#include <cmocka.h>
#include <dirent.h>
#include <sys/stat.h>

#include "ctl.h"
#include "json-util.h"
#include "ufs-io.h"

static bool dir_is_empty(const char *path) {
        _cleanup_(closedirp) DIR *d = opendir(path);
        assert_non_null(d);
        for (struct dirent *de; (de = readdir(d));)
                if (!streq(de->d_name, ".") && !streq(de->d_name, ".."))
                        return false;
        return true;
}

static char *temp_root(void) {
        char *p = strdup("/tmp/vigil-ufs-io-XXXXXX");
        assert_non_null(mkdtemp(p));
        return p;
}

static void speeds_are_mib_per_second_over_threads_and_the_phase(void **state) {
        const UfsIoPoint points[] = {
                {.mode = UFS_IO_WRITE, .thread = 0, .duration_s = 2.0, .bytes = 200ULL << 20}, /* 100 MB/s */
                {.mode = UFS_IO_WRITE, .thread = 1, .duration_s = 4.0, .bytes = 200ULL << 20}, /* 50 MB/s */
                {.mode = UFS_IO_READ, .thread = 0, .duration_s = 1.0, .bytes = 200ULL << 20},
        };
        UfsIoStat w, r, none;

        ufs_io_stat_compute(points, ELEMENTSOF(points), UFS_IO_WRITE, 4.0, &w);
        assert_int_equal(w.total_bytes, 400ULL << 20);
        assert_true(fabs(w.max_mbps - 100.0) < 1e-9);
        assert_true(fabs(w.min_mbps - 50.0) < 1e-9);
        assert_true(fabs(w.avg_mbps - 75.0) < 1e-9);
        assert_true(fabs(w.stddev_mbps - 25.0) < 1e-9); /* population */
        assert_true(fabs(w.cluster_avg_mbps - 100.0) < 1e-9); /* 400 MiB over the 4 s phase */
        assert_true(fabs(w.total_duration_s - 4.0) < 1e-9);

        ufs_io_stat_compute(points, ELEMENTSOF(points), UFS_IO_READ, 1.0, &r);
        assert_true(fabs(r.stddev_mbps) < 1e-9);
        assert_true(fabs(r.max_mbps - 200.0) < 1e-9);

        /* no successful transfer: all zero, not NaN or infinity */
        ufs_io_stat_compute(points, 0, UFS_IO_READ, 0, &none);
        assert_true(none.min_mbps == 0 && none.max_mbps == 0 && none.avg_mbps == 0 && none.total_bytes == 0);
}

static void a_run_writes_reads_back_and_removes_everything(void **state) {
        _cleanup_(freep) char *root = temp_root();
        _cleanup_(ufs_uri_freep) UfsUri *uri = NULL;
        _cleanup_(ufs_io_summary_done) UfsIoSummary s = {};
        _cleanup_(freep) char *reason = NULL;

        assert_int_equal(ufs_uri_parse(root, &uri, NULL), 0);
        UfsIoOptions o = {.threads = 3, .io_size = 3 * 1024 * 1024 + 17};
        assert_int_equal(ufs_io_run(uri, NULL, &o, &s, &reason), 0);
        assert_int_equal(strv_length(s.errors), 0);
        assert_int_equal(s.n_points, 6);
        assert_int_equal(s.write.total_bytes, 3 * o.io_size);
        assert_int_equal(s.read.total_bytes, 3 * o.io_size);
        for (size_t i = 0; i < s.n_points; i++)
                assert_int_equal(s.points[i].bytes, o.io_size);
        assert_false(s.cancelled);
        assert_true(dir_is_empty(root));

        /* the JSON has ufsIOTest's structure */
        _cleanup_json_ json_object *doc = ctl_ufs_io_summary_json(&s, "3m", 1);
        json_object *w = json_object_object_get(doc, "writeSpeedStat"),
                    *params = json_object_object_get(doc, "parameters");
        assert_int_equal(json_get_int(w, "mTotalSizeBytes", -1), (int64_t)(3 * o.io_size));
        assert_true(json_object_object_get_ex(w, "mClusterAvgSpeedMbps", NULL));
        assert_int_equal(json_get_int(params, "mThreads", -1), 3);
        assert_string_equal(json_get_string(params, "mDataSize", ""), "3m");
        assert_int_equal(json_object_array_length(json_object_object_get(doc, "points")), 6);
        assert_int_equal(json_object_array_length(json_object_object_get(doc, "errors")), 0);
        rmdir(root);
}

static void a_cancelled_run_stops_and_removes_everything(void **state) {
        _cleanup_(freep) char *root = temp_root();
        _cleanup_(ufs_uri_freep) UfsUri *uri = NULL;
        _cleanup_(ufs_io_summary_done) UfsIoSummary s = {};
        static volatile sig_atomic_t cancel = 1;

        assert_int_equal(ufs_uri_parse(root, &uri, NULL), 0);
        UfsOptions uo = {.cancel = &cancel};
        UfsIoOptions o = {.threads = 2, .io_size = 64 * 1024 * 1024, .cancel = &cancel};
        assert_int_equal(ufs_io_run(uri, &uo, &o, &s, NULL), 0);
        assert_true(s.cancelled);
        assert_int_equal(s.n_points, 0);
        assert_int_equal(strv_length(s.errors), 2); /* each writer says it was cancelled */
        assert_non_null(strstr(s.errors[0], "cancelled"));
        assert_true(dir_is_empty(root));
        rmdir(root);
}

static void an_unusable_root_is_refused_before_any_thread_starts(void **state) {
        _cleanup_(ufs_uri_freep) UfsUri *uri = NULL;
        _cleanup_(freep) char *reason = NULL, *file = strdup("/tmp/vigil-ufs-io-file-XXXXXX");
        UfsIoSummary s = {};
        int fd = mkstemp(file);

        assert_true(fd >= 0);
        close(fd);
        assert_int_equal(ufs_uri_parse(file, &uri, NULL), 0);
        UfsIoOptions o = {.threads = 1, .io_size = 1024};
        assert_true(ufs_io_run(uri, NULL, &o, &s, &reason) < 0);
        assert_non_null(reason);
        assert_non_null(strstr(reason, "cannot make the test directory"));
        unlink(file);

        UfsIoOptions many = {.threads = UFS_IO_MAX_THREADS + 1, .io_size = 1};
        free(reason);
        reason = NULL;
        assert_int_equal(ufs_io_run(uri, NULL, &many, &s, &reason), -EINVAL);
}

int main(void) {
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(speeds_are_mib_per_second_over_threads_and_the_phase),
                cmocka_unit_test(a_run_writes_reads_back_and_removes_everything),
                cmocka_unit_test(a_cancelled_run_stops_and_removes_everything),
                cmocka_unit_test(an_unusable_root_is_refused_before_any_thread_starts),
        };
        return cmocka_run_group_tests(tests, NULL, NULL);
}
