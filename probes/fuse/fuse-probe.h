/* SPDX-License-Identifier: MIT */
#pragma once

/*
 * The FUSE mount probe: checks fuse.mount (the path is a FUSE mount; statfs, stat and readdir of its
 * root answer) and, with a canary file, fuse.read (open, drop cached pages, read, compare).
 * Everything that touches the mount runs in the child (.run); the child writes what it is doing and
 * how each call went into a FuseShared page shared with the agent, so that the agent can tell which
 * call a hung child is stuck in.
 */

#include "op-record.h"
#include "probe.h"

extern const ProbeOps fuse_probe_ops;

typedef struct FuseSettings {
        char *canary; /* path relative to the mount root, or absolute; NULL: no fuse.read */
        char *expect; /* expected first bytes of the canary; NULL: any content */
        usec_t warn_latency; /* an operation slower than this is WARN */
        unsigned readdir_entries;
} FuseSettings;

enum {
        FUSE_OP_STATFS,
        FUSE_OP_STAT,
        FUSE_OP_READDIR,
        FUSE_OP_OPEN,
        FUSE_OP_READ,
        _FUSE_OP_MAX,
};

#define FUSE_SAMPLE_MAX 64

/* Written by the child, read by the agent; lives in a MAP_SHARED page. */
typedef struct FuseShared {
        OpRecord ops[_FUSE_OP_MAX];
        int32_t entries; /* directory entries read */
        int32_t canary_bytes; /* bytes read from the canary */
        int32_t canary_mismatch; /* 1: content differs from expect */
        char canary_sample[FUSE_SAMPLE_MAX]; /* first bytes read, NUL-terminated */
} FuseShared;

/*
 * Turns what a child recorded into results (exported for unit tests). mount describes the
 * mount (NULL when not mounted: then not_mounted_msg says why); waiting is the fusectl counter
 * or -1.
 */
int fuse_probe_classify(const char *target, const FuseSettings *s, const FuseShared *sh,
        const ProbeOutcome *o, const char *fs_type, const char *source, unsigned minor, int64_t waiting,
        CheckList *results);

/* The operator's words for an errno from a FUSE call ("FUSE daemon gone: ..."). */
const char *fuse_errno_explain(int error);
