/* SPDX-License-Identifier: MIT */
#pragma once

/*
 * The collector's HTTP server on libmicrohttpd: routing, the bearer token, content type and size
 * limits, protobuf decoding, and the hand-off of reports to the writer (ingest.h). A connection
 * that posted a report is suspended while its report waits for the group commit and resumed by
 * the writer once it is durable, so a handful of MHD threads serve any number of waiting agents.
 */

#include <stdint.h>

#include "cluster.h"
#include "etcd-monitor.h"
#include "ingest.h"
#include "store.h"

typedef struct ServerOptions {
        int listen_fd; /* a bound, listening TCP socket; taken by server_new() on success */
        unsigned threads; /* MHD thread pool size; 0: number of CPUs */
        uint64_t max_report_size; /* larger bodies get 413 */
        const char *token; /* bearer token, or NULL for none; copied */
        const char *tls_cert_pem; /* both or neither: PEM text (not paths); copied */
        const char *tls_key_pem;
        EtcdMonitor *etcd; /* borrowed, NULL when the collector does not check etcd */
        MetricsHistory *metrics; /* borrowed, never NULL: the settings and cluster history of /v1/metrics */
} ServerOptions;

typedef struct Server Server;

/*
 * Starts serving on o->listen_fd. c, store and ingest are borrowed and must outlive the server.
 * -EOPNOTSUPP when TLS is asked for and libmicrohttpd lacks it.
 */
int server_new(const ServerOptions *o, Cluster *c, Store *store, Ingest *ingest, Server **ret);

/*
 * First step of a clean shutdown: refuses new connections. Together with ingest_close(), further
 * reports on open connections get 503; those already handed to the writer are still answered
 * once committed.
 */
void server_quiesce(Server *s);

/* Stops the server; call after ingest_close() and ingest_wait_idle(). Accepts NULL, returns NULL. */
Server *server_free(Server *s);
DEFINE_TRIVIAL_CLEANUP_FUNC(Server *, server_free);

/* True when libmicrohttpd was built with TLS. */
bool server_tls_supported(void);
