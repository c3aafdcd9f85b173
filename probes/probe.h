/* SPDX-License-Identifier: MIT */
#pragma once

/*
 * The probe interface. A probe is one const ProbeOps, registered in probes/registry.c; the agent
 * makes one instance per target (a mount path, later a socket or URL) and drives it through these
 * members. Probes know nothing of the event loop, shipping or storage: they produce CheckResults.
 *
 * A cycle of an instance:
 *   .start(state, settings)   in the agent, must not touch anything that can hang;
 *                             returns 0: fork and call .run in the child, 1: no child needed
 *                             (the results are known, e.g. "not mounted"), or -errno;
 *   .run(state, settings)     in a forked child with a deadline (DESIGN.md section 4): the work
 *                             that may block for ever. It reports through memory it shares with the
 *                             agent (MAP_SHARED, set up by .init); its return value is the exit code;
 *   .collect(state, settings, outcome, results)
 *                             in the agent, after the child exited or missed its deadline, or
 *                             while an earlier child is still stuck: appends CheckResults.
 *
 * Settings are per target (an INI section "[fuse /mnt/alluxio]", or defaults for --fuse PATH):
 * .options describes them with offsets into a settings struct of .settings_size bytes that
 * .settings_init fills with defaults and .settings_done releases.
 */

#include <signal.h>
#include <sys/types.h>

#include "check.h"
#include "config.h"

typedef enum ProbeOutcomeKind {
        PROBE_NO_CHILD, /* .start returned 1 */
        PROBE_EXITED, /* the child exited (or was killed by a signal we did not send) */
        PROBE_TIMED_OUT, /* the deadline passed: the child was sent SIGKILL just now */
        PROBE_STUCK, /* a child of an earlier cycle survived SIGKILL and is still there */
        PROBE_FORK_FAILED,
} ProbeOutcomeKind;

typedef struct ProbeOutcome {
        ProbeOutcomeKind kind;
        int child_code; /* PROBE_EXITED: CLD_EXITED, CLD_KILLED, CLD_DUMPED */
        int child_status; /* exit code or signal */
        int error; /* PROBE_FORK_FAILED: -errno */
        pid_t pid; /* PROBE_TIMED_OUT / PROBE_STUCK */
        usec_t elapsed; /* since the child was started */
        usec_t timeout; /* the deadline used */
} ProbeOutcome;

typedef struct ProbeOps {
        const char *name; /* check family and INI section word: "fuse" */
        const ConfigOption *options;
        size_t n_options;
        size_t settings_size;
        void (*settings_init)(void *settings);
        void (*settings_done)(void *settings);
        /* Validates settings for target; may set *ret_reason. */
        int (*settings_check)(const char *target, const void *settings, char **ret_reason);
        /* The one spelling of a target ("/mnt/x/" and "/mnt/x" are one mount); -EINVAL, with a reason in
         * *ret_reason when that is not NULL, for a target the probe cannot take. NULL: an absolute
         * path (path_normalize()). */
        int (*target_normalize)(const char *target, char **ret, char **ret_reason);
        /* The deadline this probe wants for its child when none is configured (NULL: the agent's). */
        usec_t (*default_timeout)(const void *settings);
        /* The setting default_timeout() follows ("scrape_timeout"), for the message when the deadline
         * it gives does not fit the interval; NULL with default_timeout NULL. */
        const char *default_timeout_key;

        int (*init)(const char *target, void **ret_state);
        int (*start)(void *state, const void *settings);
        int (*run)(void *state, const void *settings);
        int (*collect)(void *state, const void *settings, const ProbeOutcome *outcome, CheckList *results);
        /* In the agent, at the deadline, just before the child gets SIGKILL: the last moment to
         * look at what the hang looks like (the kill changes it, e.g. FUSE's queue of requests). */
        void (*deadline)(void *state);
        void (*stop)(void *state);
        void *(*free)(void *state);
} ProbeOps;

/* The registered probes; NULL-terminated. */
extern const ProbeOps *const probe_registry[];
const ProbeOps *probe_ops_find(const char *name);

/* Wrappers for the optional members. */
static inline void probe_settings_init(const ProbeOps *ops, void *settings) {
        if (ops->settings_init)
                ops->settings_init(settings);
}
static inline void probe_settings_done(const ProbeOps *ops, void *settings) {
        if (ops->settings_done && settings)
                ops->settings_done(settings);
}
static inline int probe_settings_check(
        const ProbeOps *ops, const char *target, const void *settings, char **ret_reason) {
        return ops->settings_check ? ops->settings_check(target, settings, ret_reason) : 0;
}
static inline usec_t probe_default_timeout(const ProbeOps *ops, const void *settings, usec_t fallback) {
        return ops->default_timeout ? ops->default_timeout(settings) : fallback;
}
static inline void probe_deadline(const ProbeOps *ops, void *state) {
        if (ops->deadline)
                ops->deadline(state);
}
static inline void probe_stop(const ProbeOps *ops, void *state) {
        if (ops->stop && state)
                ops->stop(state);
}
static inline void *probe_free(const ProbeOps *ops, void *state) {
        if (ops->free && state)
                return ops->free(state);
        return NULL;
}
