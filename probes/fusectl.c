/* SPDX-License-Identifier: MIT */
#include <fcntl.h>
#include <sys/mount.h>
#include <sys/stat.h>

#include "fusectl.h"
#include "macros.h"
#include "mountinfo.h"

int fusectl_ensure(void) {
        static int cached = 1;
        MountEntry m;
        int r;

        if (cached <= 0)
                return cached;
        r = mountinfo_find(NULL, FUSECTL_DIR, &m);
        if (r == 1) {
                bool ok = streq(m.fs_type, "fusectl");
                mount_entry_done(&m);
                if (ok)
                        return cached = 0;
        } else if (r == 0)
                mount_entry_done(&m);
        if (access(FUSECTL_DIR, F_OK) < 0)
                return cached = -errno;
        if (mount("fusectl", FUSECTL_DIR, "fusectl", MS_NOSUID | MS_NODEV | MS_NOEXEC, NULL) < 0)
                return cached = -errno;
        return cached = 0;
}

int fusectl_read_waiting(const char *dir, unsigned minor, int64_t *ret) {
        char path[256], buf[32];
        ssize_t n;
        snprintf(path, sizeof(path), "%s/%u/waiting", dir ?: FUSECTL_DIR, minor);
        /* read() into the stack, not stdio: this runs every cycle. */
        _cleanup_(closep) int fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY);
        if (fd < 0)
                return -errno;
        n = read(fd, buf, sizeof(buf) - 1);
        if (n < 0)
                return -errno;
        if (n == 0)
                return -EIO;
        buf[n] = 0;
        char *end;
        errno = 0;
        long long v = strtoll(buf, &end, 10);
        if (errno != 0 || end == buf || v < 0)
                return -EINVAL;
        *ret = v;
        return 0;
}
