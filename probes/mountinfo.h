/* SPDX-License-Identifier: MIT */
#pragma once

/*
 * /proc/self/mountinfo parsing (proc(5)). Reading mountinfo never touches a FUSE file system, so
 * this is safe in the agent's event loop, unlike stat() of a mount point.
 */

#include <stdbool.h>
#include <stddef.h>

typedef struct MountEntry {
        unsigned major, minor; /* st_dev of the mount; minor names /sys/fs/fuse/connections/<minor> */
        char *root;
        char *mount_point; /* unescaped */
        char *fs_type; /* "fuse.bindfs" */
        char *source; /* unescaped */
} MountEntry;

/* Releases the strings of e. */
void mount_entry_done(MountEntry *e);

/* Parses one line; -EINVAL when malformed. On success *ret owns its strings. */
int mountinfo_parse_line(const char *line, MountEntry *ret);

/* Decodes mountinfo's octal escapes (\040 space, \011 tab, \012 newline, \134 backslash). */
char *mountinfo_unescape(const char *s, size_t len);

/* fuse, fuseblk and fuse.* (not fusectl). */
bool mount_entry_is_fuse(const MountEntry *e);

/*
 * Looks up path (absolute, normalised) in the mountinfo file at file (NULL: /proc/self/mountinfo).
 * Returns 1 and fills *ret_mount when path is a mount point (the topmost mount when several are
 * stacked), 0 and fills *ret_mount with the mount that contains path otherwise, or -errno.
 */
int mountinfo_find(const char *file, const char *path, MountEntry *ret_mount);

/* Normalises an absolute path without touching the file system ("//a/./b/" -> "/a/b"). -EINVAL
 * for a relative path or one with "..". */
int path_normalize(const char *path, char **ret);
