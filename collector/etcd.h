/* SPDX-License-Identifier: MIT */
#pragma once

/*
 * The collector's etcd checks (docs/etcd.md): the health of the etcd cluster that holds the cache
 * cluster's membership, and the workers registered and live in it. Read-only: nothing here ever
 * writes to etcd. Spoken over gRPC with common/grpc-client.h (messages in proto/etcd.proto).
 *
 * One cycle is etcd_check_run(): Maintenance/Status on every configured endpoint (in parallel),
 * Cluster/MemberList on one member (names), then KV/Range over the live and registered prefixes
 * on one member. It blocks for up to about two call timeouts: run it from a thread of its own.
 * The result is an immutable EtcdSnapshot, turned into CheckResults (etcd.members, etcd.leader,
 * etcd.workers) and into JSON by pure functions, which the unit tests drive without etcd.
 *
 * The outage clock (EtcdOutage) is state the caller keeps and persists: etcd_outage_update() is a
 * pure state machine fed with "is etcd available" once per cycle.
 *
 * Requires http_global_init() to have been called by main() before any thread starts.
 */

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <json-c/json.h>

#include "check.h"
#include "config.h"
#include "time-util.h"

#define ETCD_DEFAULT_CLUSTER "default-alluxio"
#define ETCD_DEFAULT_CALL_TIMEOUT (2 * USEC_PER_SEC)
#define ETCD_DEFAULT_OUTAGE_TOLERANCE (24 * USEC_PER_HOUR)

/* --- configuration ------------------------------------------------------------------------ */

typedef struct EtcdConfig {
        char **endpoints; /* "http://host:2379" or "https://host:2379", one per member; none: disabled */
        char *ca_file; /* TLS (https endpoints): trust these CAs; NULL: the system's */
        char *cert_file; /* TLS client certificate and key (both or neither) */
        char *key_file;
        char *cluster; /* the cache cluster's name; default ETCD_DEFAULT_CLUSTER */
        char *live_prefix; /* NULL: "/ServiceDiscovery/<cluster>/" (set by etcd_config_check) */
        char *registered_prefix; /* NULL: "/DHT/<cluster>/AUTHORIZED/" (set by etcd_config_check) */
        usec_t call_timeout; /* each gRPC call; default 2 s */
        usec_t outage_tolerance; /* how long the cache cluster keeps IO going without etcd; default 24 h */
} EtcdConfig;

/*
 * The option-table entries of EtcdConfig for a program whose settings struct `type` has an
 * EtcdConfig field `member` (common/config.h), so the flags, INI keys and --help come from one
 * place: --etcd URL (repeatable), --etcd-ca, --etcd-cert, --etcd-key, --etcd-cluster,
 * --etcd-live-prefix, --etcd-registered-prefix, --etcd-call-timeout, --etcd-outage-tolerance.
 * Use inside the initializer of a ConfigOption array.
 */
// clang-format off
#define ETCD_CONFIG_OPTIONS(type, member)                                                                   \
        {"etcd", 0, CONFIG_STRV, offsetof(type, member.endpoints), "URL",                                   \
                "etcd client URL (http:// or https://), once per member; none: no etcd checks", 0},         \
        {"etcd_ca", 0, CONFIG_STRING, offsetof(type, member.ca_file), "FILE",                               \
                "CA certificates (PEM) that sign the etcd members' certificates", 0},                       \
        {"etcd_cert", 0, CONFIG_STRING, offsetof(type, member.cert_file), "FILE",                           \
                "client certificate (PEM) for etcd, with --etcd-key", 0},                                   \
        {"etcd_key", 0, CONFIG_STRING, offsetof(type, member.key_file), "FILE",                             \
                "private key (PEM) of --etcd-cert", 0},                                                     \
        {"etcd_cluster", 0, CONFIG_STRING, offsetof(type, member.cluster), "NAME",                          \
                "the cache cluster's name in its etcd keys", 0},                                            \
        {"etcd_live_prefix", 0, CONFIG_STRING, offsetof(type, member.live_prefix), "PREFIX",                \
                "etcd prefix of live workers (default /ServiceDiscovery/<cluster>/)", 0},                   \
        {"etcd_registered_prefix", 0, CONFIG_STRING, offsetof(type, member.registered_prefix), "PREFIX",    \
                "etcd prefix of registered workers (default /DHT/<cluster>/AUTHORIZED/)", 0},               \
        {"etcd_call_timeout", 0, CONFIG_DURATION, offsetof(type, member.call_timeout), "DURATION",          \
                "deadline of each gRPC call to etcd", 0},                                                   \
        {"etcd_outage_tolerance", 0, CONFIG_DURATION, offsetof(type, member.outage_tolerance), "DURATION",  \
                "how long the cache cluster keeps IO going while etcd is down", 0}
// clang-format on

/* Sets the defaults (everything else NULL). Returns 0 or -ENOMEM. */
int etcd_config_init(EtcdConfig *c);
/* Frees the strings of c (not c itself). */
void etcd_config_done(EtcdConfig *c);
/*
 * After parsing: validates (URLs, cert with key, timeouts), strips trailing '/' from endpoints and
 * fills the default prefixes from the cluster name. -EINVAL with *ret_error (allocated, one line,
 * naming the key) on a bad value.
 */
int etcd_config_check(EtcdConfig *c, char **ret_error);
static inline bool etcd_config_enabled(const EtcdConfig *c) {
        return c->endpoints && c->endpoints[0];
}

/* --- arithmetic, exported for tests --------------------------------------------------------- */

/* Raft quorum: a strict majority of the expected members. */
static inline bool etcd_quorum_held(unsigned ready, unsigned expected) {
        return expected > 0 && ready * 2 > expected;
}
/* ready / expected as a percentage rounded down (so 100 % means all of them), 0 when expected is 0. */
static inline unsigned etcd_percent(unsigned ready, unsigned expected) {
        return expected > 0 ? (unsigned)((uint64_t)ready * 100 / expected) : 0;
}
/*
 * The range_end that selects every key starting with prefix (etcd's GetPrefixRangeEnd): the prefix
 * with its last byte below 0xff incremented and what follows dropped; "\0" (all keys from prefix on)
 * when every byte is 0xff or prefix is empty. *ret is a new buffer (not NUL-terminated).
 */
int etcd_prefix_range_end(const void *prefix, size_t size, uint8_t **ret, size_t *ret_size);

/* --- the snapshot of one cycle -------------------------------------------------------------- */

typedef enum EtcdMemberState {
        ETCD_MEMBER_READY, /* answered Status and knows a leader */
        ETCD_MEMBER_NO_LEADER, /* answered, but knows no leader (cannot serve linearizable requests) */
        ETCD_MEMBER_DOWN, /* no answer, or a gRPC error: see error / error_text */
        _ETCD_MEMBER_STATE_MAX,
} EtcdMemberState;

/* "ready", "no-leader", "down". */
const char *etcd_member_state_to_string(EtcdMemberState s);

typedef struct EtcdMember {
        char *endpoint; /* as configured */
        char *name; /* from MemberList (matched by id or client URL); NULL when unknown */
        EtcdMemberState state;
        int error; /* DOWN: positive errno (transport, or the gRPC status translated) */
        char *error_text; /* DOWN: "connection refused", "no answer within 2.0 s", ... */
        usec_t latency; /* of the Status call */
        /* From StatusResponse (state != DOWN): */
        uint64_t cluster_id, member_id, leader_id; /* leader_id 0: none known */
        uint64_t raft_term, raft_index, raft_applied_index;
        int64_t db_size, db_size_in_use;
        char *version;
        char **errors; /* alarms and "etcdserver: no leader", NULL when none */
        bool is_learner;
} EtcdMember;

typedef struct EtcdWorker {
        char *id; /* the key without its prefix */
        bool live, registered; /* found under the live / registered prefix */
        json_object *live_value; /* the value under the live prefix when it is JSON, else NULL */
        json_object *registered_value; /* the same under the registered prefix */
        size_t live_size, registered_size; /* sizes of the raw values */
        int64_t lease; /* of the live key */
        char *host; /* from a value (etcd_worker_host_from_value()), NULL when unknown */
} EtcdWorker;

typedef struct EtcdSnapshot {
        int64_t time_ms; /* wall clock when the cycle began */
        usec_t duration;
        /* Copied from the configuration: */
        char *cluster, *live_prefix, *registered_prefix;
        usec_t call_timeout, outage_tolerance;

        EtcdMember *members; /* one per configured endpoint, in the configured order */
        size_t n_members;
        unsigned ready, expected;
        bool quorum; /* etcd_quorum_held(ready, expected) */
        uint64_t leader_id; /* the leader the ready members agree on; 0 when none or no agreement */
        bool leader_disagreement; /* ready members report different leaders */
        const EtcdMember *leader; /* the member that is the leader when it answered; NULL otherwise */
        char *leader_name; /* from MemberList; NULL when unknown */

        bool workers_listed; /* both ranges were read */
        bool workers_serializable; /* read without quorum from one member: may be stale */
        char *workers_from; /* endpoint the ranges were read from */
        int workers_error; /* !workers_listed: positive errno (0: not tried, no member answered) */
        char *workers_error_text;
        usec_t workers_latency;
        EtcdWorker *workers; /* union of both prefixes, sorted by id */
        size_t n_workers;
        unsigned n_live, n_registered, n_failed; /* failed: registered and not live */
} EtcdSnapshot;

EtcdSnapshot *etcd_snapshot_free(EtcdSnapshot *s);
DEFINE_TRIVIAL_CLEANUP_FUNC(EtcdSnapshot *, etcd_snapshot_free);

/*
 * Runs one cycle against c (checked with etcd_config_check()). Returns 0 and a new snapshot in *ret
 * (the caller owns it) whatever the state of etcd: unreachable members are described in it. Returns
 * -EINVAL without endpoints, -ENOMEM. Blocking; see above.
 */
int etcd_check_run(const EtcdConfig *c, EtcdSnapshot **ret);

/* Whether etcd can serve the cache cluster: the quorum is held. Feed this to etcd_outage_update(). */
static inline bool etcd_snapshot_available(const EtcdSnapshot *s) {
        return s->quorum;
}

/*
 * Fills the member counts, quorum and leader of s from its members (used by etcd_check_run(); exported
 * so that tests can build snapshots by hand).
 */
void etcd_snapshot_summarize(EtcdSnapshot *s);

/* One key read from etcd, borrowed. */
typedef struct EtcdKv {
        const void *key;
        size_t key_size;
        const void *value;
        size_t value_size;
        int64_t lease;
} EtcdKv;

/*
 * Sets the workers of s from the keys read under its two prefixes: one EtcdWorker per id (key minus
 * prefix; keys that do not start with the prefix, or equal it, are skipped), sorted, with the counts.
 * Values that parse as JSON are kept. Replaces what s held. Returns 0 or -ENOMEM.
 */
int etcd_snapshot_set_workers(
        EtcdSnapshot *s, const EtcdKv *live, size_t n_live, const EtcdKv *registered, size_t n_registered);

/*
 * The host a worker value names: the first string member called host, hostname or address (any
 * case, in that order of preference) of the object or of the objects nested in it (breadth first,
 * 3 levels), with a ":port" suffix removed. NULL when there is none. Returns a new string.
 */
char *etcd_worker_host_from_value(json_object *value);

/* --- outage clock --------------------------------------------------------------------------- */

typedef struct EtcdOutage {
        int64_t since_ms; /* wall clock when etcd became unavailable; 0: available */
} EtcdOutage;

typedef enum EtcdOutageChange {
        ETCD_OUTAGE_NONE, /* available and was: nothing to do */
        ETCD_OUTAGE_BEGAN, /* since_ms was set to now_ms: persist it */
        ETCD_OUTAGE_ONGOING, /* still unavailable: since_ms unchanged */
        ETCD_OUTAGE_ENDED, /* available again: since_ms is 0 (persist), *ret_ended_after_ms its length */
} EtcdOutageChange;

/*
 * Advances the outage clock by one observation. Returns the EtcdOutageChange, or -EINVAL when
 * now_ms is not positive. *ret_ended_after_ms (may be NULL) is set only for ETCD_OUTAGE_ENDED; it is
 * never negative, even if the wall clock went back.
 */
int etcd_outage_update(EtcdOutage *o, bool available, int64_t now_ms, int64_t *ret_ended_after_ms);

/*
 * "etcd unavailable for 1h12m; IO continues for up to 24h: 22h48m left", or once the tolerance
 * has passed "etcd unavailable for 25h03m; IO continues for up to 24h: exceeded by 1h03m, expect IO
 * errors". -ENOENT when there is no outage. *ret is a new string.
 */
int etcd_outage_message(const EtcdOutage *o, usec_t tolerance, int64_t now_ms, char **ret);

/* The message of the event that ends an outage: "etcd available again after an outage of 1h12m". */
int etcd_outage_ended_message(int64_t lasted_ms, char **ret);

/* --- results ---------------------------------------------------------------------------------- */

/*
 * Appends etcd.members, etcd.leader and etcd.workers for s to list (which owns them). o is the
 * outage clock after etcd_outage_update() for this snapshot (NULL: none shown). Returns 0 or
 * -ENOMEM (list unchanged).
 */
int etcd_snapshot_checks(const EtcdSnapshot *s, const EtcdOutage *o, int64_t now_ms, CheckList *list);

/*
 * The whole snapshot as JSON for GET /v1/etcd and `vigilctl etcd` (docs/etcd.md): cluster,
 * members (table and counts), leader, workers (live and registered, with their values), outage
 * and the checks. Returns 0 and a new object in *ret, or -ENOMEM.
 */
int etcd_snapshot_to_json(const EtcdSnapshot *s, const EtcdOutage *o, int64_t now_ms, json_object **ret);

/* --- cross-check with the agents ------------------------------------------------------------- */

/*
 * Workers against the nodes that have agent reports. A worker's host (EtcdWorker.host) matches a
 * node name when equal ignoring case, or when the part before the first '.' is (a short name
 * against an FQDN; not for IP addresses). Pointers borrow from the snapshot.
 */
typedef struct EtcdCrossCheck {
        const EtcdWorker **live_without_agent; /* live, host known, no agent on that host */
        size_t n_live_without_agent;
        const EtcdWorker **failed_with_agent; /* registered, not live, and its host has an agent */
        size_t n_failed_with_agent;
        size_t n_host_unknown; /* live workers whose value names no host: not cross-checked */
} EtcdCrossCheck;

bool etcd_host_matches(const char *host, const char *node);
/* agent_nodes: NULL-terminated node names (may be NULL). Returns 0 or -ENOMEM. */
int etcd_cross_check(const EtcdSnapshot *s, char *const *agent_nodes, EtcdCrossCheck *ret);
void etcd_cross_check_done(EtcdCrossCheck *x);
/*
 * The check etcd.agents (target: the live prefix): WARN "1 live worker on a node without an agent:
 * worker-1 (host-a)" and/or "1 node with an agent whose worker is not live: host-b (worker-2)",
 * OK otherwise; UNKNOWN when the workers could not be listed. *ret is new (the caller owns it).
 */
int etcd_cross_check_result(const EtcdSnapshot *s, const EtcdCrossCheck *x, CheckResult **ret);
