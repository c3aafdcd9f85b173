/* SPDX-License-Identifier: MIT */
#pragma once

/*
 * Runs probe instances in cycles on an sd-event loop, keeping DESIGN.md section 4:
 * - the loop never touches a probed path itself: a probe's .run happens in a forked child;
 * - each child has a deadline (an sd-event time source); at the deadline it gets SIGKILL and its
 *   instance reports "hung" at once, so the cycle ends on time whatever the mount does;
 * - a child that survives SIGKILL stays tracked (sd-event child source) and no second child is
 *   started for that instance until it has gone: it is reported as stuck, with its age, each cycle;
 * - every child is reaped by the loop when it finally exits.
 *
 * The scheduler owns its instances; results of the last cycle stay readable until the next one.
 */

#include <systemd/sd-event.h>

#include "agent-config.h"

typedef struct Scheduler Scheduler;

/* Called when every instance has results for the cycle that scheduler_start_cycle() began. */
typedef void (*scheduler_cycle_fn)(Scheduler *s, void *userdata);

int scheduler_new(sd_event *event, scheduler_cycle_fn done, void *userdata, Scheduler **ret);
/* Kills running children (SIGKILL) and frees s; children that do not die are left behind. */
Scheduler *scheduler_free(Scheduler *s);
DEFINE_TRIVIAL_CLEANUP_FUNC(Scheduler *, scheduler_free);

/*
 * Installs the targets (taking ownership of their settings; the array entries are cleared).
 * An instance for a target already present (same probe and target) is kept with its state and any
 * stuck child; instances no longer configured are dropped (a stuck child of theirs stays tracked
 * until it exits). Must not be called while a cycle runs.
 */
int scheduler_set_targets(Scheduler *s, ProbeTarget *targets, size_t n, usec_t default_timeout);

/*
 * Adds one target (taking ownership of its settings, clearing *t) unless an instance for the same
 * probe and target exists. Returns 1 when added, 0 when present, -errno. Not during a cycle.
 */
int scheduler_add_target(Scheduler *s, ProbeTarget *t);

/* Starts a cycle; -EBUSY when one runs. done() may be called before this returns. */
int scheduler_start_cycle(Scheduler *s);
bool scheduler_busy(const Scheduler *s);

/* The results of the last finished cycle, borrowed: valid until the next cycle starts. */
int scheduler_results(Scheduler *s, CheckResult ***ret_checks, size_t *ret_n);
