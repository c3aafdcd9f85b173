/* SPDX-License-Identifier: MIT */
#pragma once

/*
 * vigil-agent's settings: flags, the [agent] section of the INI file (same keys), and one
 * "[<probe> <target>]" section per probe target, e.g.
 *
 *   [agent]
 *   collector = http://collector:7070
 *   interval = 5s
 *
 *   [fuse /mnt/alluxio]
 *   canary = .vigil-canary
 *   expect = ok
 *   warn_latency = 300ms
 *   timeout = 2s
 *
 *   [metrics worker]
 *   url = http://127.0.0.1:30000/metrics
 *   expected_errors = s3:404 *:404
 */

#include "log-line.h"
#include "probe.h"

typedef struct ProbeTarget {
        const ProbeOps *ops;
        char *target; /* normalised */
        void *settings; /* ops->settings_size bytes, owned */
        usec_t timeout; /* 0: the agent's --timeout */
} ProbeTarget;

void probe_target_done(ProbeTarget *t);

/*
 * Makes a target of ops at path (normalised) with default settings and no deadline of its own
 * (timeout 0). The target is a path for the fuse and csi probes, an endpoint name ("worker",
 * "fuse-pvc-a") for the metrics probe. Returns -EINVAL for a path that is not absolute or a name that
 * is not an endpoint's, -ENOMEM.
 */
int probe_target_new(const ProbeOps *ops, const char *path, ProbeTarget *ret);

/* The same, with the deadline the probe asks for, capped below the interval (discovered targets). */
int probe_target_new_default(
        const ProbeOps *ops, const char *path, usec_t interval, usec_t fallback_timeout, ProbeTarget *ret);

typedef struct AgentConfig {
        char *config_file;
        char *collector;
        char *node;
        char *cluster;
        char **fuse;
        char **csi;
        char *csi_discover;
        char **metrics; /* ROLE=URL */
        char **ufs; /* UFS root URIs */
        usec_t interval;
        usec_t timeout;
        char *token_file;
        char *collector_ca;
        bool once;
        bool json;
        char *log_level;
        unsigned queue_max;
        usec_t ship_timeout;

        /* log tailing */
        char *pods_log_dir;
        char **pod_log; /* NAMESPACE/POD/CONTAINER globs */
        char **log_file;
        char **journal_unit;
        char *journal_dir;
        char *state_dir;
        char *log_levels;
        unsigned log_context;
        uint64_t log_max_line;
        bool log_from_head;
        unsigned log_batches_max;
        LogLevelMask log_level_mask; /* parsed log_levels */

        ProbeTarget *targets; /* every probe target, from sections and flags */
        size_t n_targets;
} AgentConfig;

/*
 * Loads defaults, then the config file (--config), then the flags. Returns 0, 1 after --help
 * (printed), 2 after --version, or -EINVAL with *ret_error set to one line naming the key and
 * the reason (the caller exits 2), -ENOMEM.
 */
int agent_config_load(int argc, char **argv, AgentConfig *ret, char **ret_error);
void agent_config_done(AgentConfig *c);
