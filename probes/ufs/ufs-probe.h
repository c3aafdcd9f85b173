/* SPDX-License-Identifier: MIT */
#pragma once

/*
 * The UFS probe: every cycle, a light look at one UFS root from this node, what an operator's
 * `aws s3 ls s3://bucket/prefix --max-items 1` or `ls /mnt/nfs/ufs` tells: is it reachable with this
 * node's network and credentials, how fast, and with which error code if not.
 *
 * The target is the root URI in its canonical form ("s3://bucket/prefix", "file:///mnt/nfs/ufs");
 * settings per UFS in "[ufs URI]" sections or defaults for --ufs URI. The look happens in the probe
 * child (DESIGN.md section 4: an NFS root can hang like a FUSE mount; S3 is network I/O): the root's
 * status through ufs.h, which for s3 is a one-key listing of the prefix and for file a stat.
 *
 * Check (target: the URI):
 *   ufs.reachability   OK: the root answered (an expected error code such as S3's 404 for a prefix
 *                      that holds nothing yet counts as an answer); WARN: slower than latency_warn;
 *                      CRIT: an error (NoSuchBucket, AccessDenied, connection refused, ...) or a hang.
 *                      Details: scheme, latency_ms, the error code.
 * The collector compares the same UFS across nodes: failing from every node is a cluster problem,
 * from some a node problem (cluster.h).
 */

#include "probe.h"

extern const ProbeOps ufs_probe_ops;

typedef struct UfsProbeSettings {
        char *endpoint;
        char *region;
        char *addressing; /* auto, path, virtual */
        char *access_key;
        char *secret_key;
        char *profile;
        char *credentials_file;
        char *ca_file;
        usec_t request_timeout;
        usec_t latency_warn;
        char *expected_errors; /* ufs_error_expected() spec */
} UfsProbeSettings;
