/* SPDX-License-Identifier: MIT */
#include "mountinfo.h"
#include "macros.h"

void mount_entry_done(MountEntry *e) {
        e->root = mfree(e->root);
        e->mount_point = mfree(e->mount_point);
        e->fs_type = mfree(e->fs_type);
        e->source = mfree(e->source);
}

static bool is_octal(char c) {
        return c >= '0' && c <= '7';
}

char *mountinfo_unescape(const char *s, size_t len) {
        char *out = malloc(len + 1), *o = out;
        if (!out)
                return NULL;
        for (size_t i = 0; i < len; i++) {
                if (s[i] == '\\' && i + 3 < len && is_octal(s[i + 1]) && is_octal(s[i + 2]) &&
                        is_octal(s[i + 3])) {
                        *o++ = (char)(((s[i + 1] - '0') << 6) | ((s[i + 2] - '0') << 3) | (s[i + 3] - '0'));
                        i += 3;
                } else
                        *o++ = s[i];
        }
        *o = 0;
        return out;
}

/* Splits the next space-separated field off *p. */
static bool next_field(const char **p, const char **ret_start, size_t *ret_len) {
        const char *s = *p;
        while (*s == ' ')
                s++;
        if (!*s || *s == '\n')
                return false;
        const char *e = s;
        while (*e && *e != ' ' && *e != '\n')
                e++;
        *ret_start = s;
        *ret_len = e - s;
        *p = e;
        return true;
}

int mountinfo_parse_line(const char *line, MountEntry *ret) {
        const char *p = line, *f[5], *s;
        size_t l[5], len;
        unsigned major, minor;
        char majmin[32];

        /* mount ID, parent ID, major:minor, root, mount point */
        for (int i = 0; i < 5; i++)
                if (!next_field(&p, &f[i], &l[i]))
                        return -EINVAL;
        if (l[2] >= sizeof(majmin))
                return -EINVAL;
        memcpy(majmin, f[2], l[2]);
        majmin[l[2]] = 0;
        if (sscanf(majmin, "%u:%u", &major, &minor) != 2)
                return -EINVAL;
        /* mount options, then optional fields up to the "-" separator */
        for (;;) {
                if (!next_field(&p, &s, &len))
                        return -EINVAL;
                if (len == 1 && *s == '-')
                        break;
        }
        const char *type, *source;
        size_t type_len, source_len;
        if (!next_field(&p, &type, &type_len) || !next_field(&p, &source, &source_len))
                return -EINVAL;

        MountEntry e = {
                .major = major,
                .minor = minor,
                .root = mountinfo_unescape(f[3], l[3]),
                .mount_point = mountinfo_unescape(f[4], l[4]),
                .fs_type = mountinfo_unescape(type, type_len),
                .source = mountinfo_unescape(source, source_len),
        };
        if (!e.root || !e.mount_point || !e.fs_type || !e.source) {
                mount_entry_done(&e);
                return -ENOMEM;
        }
        *ret = e;
        return 0;
}

bool mount_entry_is_fuse(const MountEntry *e) {
        return streq(e->fs_type, "fuse") || streq(e->fs_type, "fuseblk") || startswith(e->fs_type, "fuse.");
}

/* Whether mount point m contains path p (both normalised). */
static size_t contains(const char *m, const char *p) {
        size_t l = strlen(m);
        if (streq(m, "/"))
                return 1;
        if (strncmp(m, p, l) == 0 && (p[l] == 0 || p[l] == '/'))
                return l;
        return 0;
}

int mountinfo_find(const char *file, const char *path, MountEntry *ret_mount) {
        _cleanup_(fclosep) FILE *f = fopen(file ?: "/proc/self/mountinfo", "re");
        _cleanup_(freep) char *line = NULL;
        size_t cap = 0, best_len = 0;
        MountEntry best = {};
        int found = 0;

        if (!f)
                return -errno;
        while (getline(&line, &cap, f) > 0) {
                MountEntry e;
                if (mountinfo_parse_line(line, &e) < 0)
                        continue;
                size_t l = contains(e.mount_point, path);
                /* Later lines are mounted on top of earlier ones: ">=" keeps the topmost. */
                if (l > 0 && l >= best_len) {
                        mount_entry_done(&best);
                        best = e;
                        best_len = l;
                        found = streq(e.mount_point, path);
                } else
                        mount_entry_done(&e);
        }
        if (best_len == 0)
                return -ENOENT;
        *ret_mount = best;
        return found;
}

int path_normalize(const char *path, char **ret) {
        if (isempty(path) || path[0] != '/')
                return -EINVAL;
        char *out = malloc(strlen(path) + 2), *o = out;
        if (!out)
                return -ENOMEM;
        const char *p = path;
        while (*p) {
                while (*p == '/')
                        p++;
                if (!*p)
                        break;
                const char *e = strchrnul(p, '/');
                size_t l = e - p;
                if (l == 1 && p[0] == '.') {
                        p = e;
                        continue;
                }
                if (l == 2 && p[0] == '.' && p[1] == '.') {
                        free(out);
                        return -EINVAL;
                }
                *o++ = '/';
                memcpy(o, p, l);
                o += l;
                p = e;
        }
        if (o == out)
                *o++ = '/';
        *o = 0;
        *ret = out;
        return 0;
}
