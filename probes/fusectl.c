/* SPDX-License-Identifier: MIT */
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
        snprintf(path, sizeof(path), "%s/%u/waiting", dir ?: FUSECTL_DIR, minor);
        _cleanup_(fclosep) FILE *f = fopen(path, "re");
        if (!f)
                return -errno;
        if (!fgets(buf, sizeof(buf), f))
                return -EIO;
        char *end;
        errno = 0;
        long long v = strtoll(buf, &end, 10);
        if (errno != 0 || end == buf || v < 0)
                return -EINVAL;
        *ret = v;
        return 0;
}
