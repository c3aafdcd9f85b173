/* SPDX-License-Identifier: MIT */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>

#include <cmocka.h>

#include "test-util.h"

#include "macros.h"
#include "mountinfo.h"

static void parses_fuse_line_with_optional_fields(void **state) {
        MountEntry e;
        const char *line =
                "36 35 0:52 / /mnt/alluxio rw,nosuid,nodev,relatime shared:1 master:2 - fuse.alluxio-fuse "
                "alluxio-fuse rw,user_id=0,group_id=0\n";
        assert_int_equal(mountinfo_parse_line(line, &e), 0);
        assert_int_equal(e.major, 0);
        assert_int_equal(e.minor, 52);
        assert_string_equal(e.mount_point, "/mnt/alluxio");
        assert_string_equal(e.fs_type, "fuse.alluxio-fuse");
        assert_string_equal(e.source, "alluxio-fuse");
        assert_true(mount_entry_is_fuse(&e));
        mount_entry_done(&e);
}

static void unescapes_space_tab_newline_backslash(void **state) {
        MountEntry e;
        const char *line = "40 35 0:60 / /mnt/my\\040data\\011x\\012y\\134z rw - fuse bind\\040src rw\n";
        assert_int_equal(mountinfo_parse_line(line, &e), 0);
        assert_string_equal(e.mount_point, "/mnt/my data\tx\ny\\z");
        assert_string_equal(e.source, "bind src");
        assert_true(mount_entry_is_fuse(&e));
        mount_entry_done(&e);
}

static void recognises_fuse_types_only(void **state) {
        MountEntry e = {.fs_type = (char *)"fuse"};
        assert_true(mount_entry_is_fuse(&e));
        e.fs_type = (char *)"fuseblk";
        assert_true(mount_entry_is_fuse(&e));
        e.fs_type = (char *)"fuse.bindfs";
        assert_true(mount_entry_is_fuse(&e));
        e.fs_type = (char *)"fusectl";
        assert_false(mount_entry_is_fuse(&e));
        e.fs_type = (char *)"ext4";
        assert_false(mount_entry_is_fuse(&e));
}

static void rejects_malformed_lines(void **state) {
        MountEntry e;
        assert_int_equal(mountinfo_parse_line("", &e), -EINVAL);
        assert_int_equal(mountinfo_parse_line("36 35 0:52 / /mnt rw shared:1\n", &e), -EINVAL);
        assert_int_equal(mountinfo_parse_line("36 35 x / /mnt rw - fuse src rw\n", &e), -EINVAL);
        assert_int_equal(mountinfo_parse_line("36 35 0:1 / /mnt rw -\n", &e), -EINVAL);
}

static const char table[] = "1 0 8:1 / / rw - ext4 /dev/sda1 rw\n"
                            "2 1 0:40 / /mnt rw - tmpfs tmpfs rw\n"
                            "3 2 0:41 / /mnt/fuse rw - fuse.bindfs /src rw\n"
                            "4 3 0:42 / /mnt/fuse rw - fuse.faultfs faultfs rw\n"
                            "5 1 0:43 / /mnt2 rw - fuse.x y rw\n";

static void finds_topmost_of_stacked_mounts(void **state) {
        _cleanup_(freep) char *path = test_write_temp(table);
        MountEntry e;
        assert_int_equal(mountinfo_find(path, "/mnt/fuse", &e), 1);
        assert_string_equal(e.fs_type, "fuse.faultfs");
        assert_int_equal(e.minor, 42);
        mount_entry_done(&e);
        unlink(path);
}

static void reports_enclosing_mount_when_not_a_mount_point(void **state) {
        _cleanup_(freep) char *path = test_write_temp(table);
        MountEntry e;
        assert_int_equal(mountinfo_find(path, "/mnt/other", &e), 0);
        assert_string_equal(e.mount_point, "/mnt");
        assert_string_equal(e.fs_type, "tmpfs");
        mount_entry_done(&e);
        /* "/mnt2" is not inside "/mnt" */
        assert_int_equal(mountinfo_find(path, "/mnt2x", &e), 0);
        assert_string_equal(e.mount_point, "/");
        mount_entry_done(&e);
        unlink(path);
}

static void normalises_paths_without_touching_them(void **state) {
        char *p;
        assert_int_equal(path_normalize("//mnt/./alluxio//", &p), 0);
        assert_string_equal(p, "/mnt/alluxio");
        free(p);
        assert_int_equal(path_normalize("/", &p), 0);
        assert_string_equal(p, "/");
        free(p);
        assert_int_equal(path_normalize("mnt", &p), -EINVAL);
        assert_int_equal(path_normalize("/mnt/../etc", &p), -EINVAL);
        assert_int_equal(path_normalize("", &p), -EINVAL);
}

int main(void) {
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(parses_fuse_line_with_optional_fields),
                cmocka_unit_test(unescapes_space_tab_newline_backslash),
                cmocka_unit_test(recognises_fuse_types_only),
                cmocka_unit_test(rejects_malformed_lines),
                cmocka_unit_test(finds_topmost_of_stacked_mounts),
                cmocka_unit_test(reports_enclosing_mount_when_not_a_mount_point),
                cmocka_unit_test(normalises_paths_without_touching_them),
        };
        return cmocka_run_group_tests(tests, NULL, NULL);
}
