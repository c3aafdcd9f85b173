/* SPDX-License-Identifier: MIT */
#pragma once

/*
 * Ships encoded NodeReports to <collector>/v1/reports, one at a time, in order, without ever
 * blocking the event loop (curl multi on sd-event). While the collector is unreachable or answers
 * 5xx/429, reports wait in a bounded in-memory queue (the oldest is dropped when it is full) and
 * the head is retried with exponential backoff (1 s doubling up to 60 s). A 4xx answer other than
 * 429 is final for that report: retrying cannot help, so it is dropped and counted.
 */

#include <systemd/sd-event.h>

#include "time-util.h"

typedef struct Shipper Shipper;

typedef struct ShipperStats {
        uint64_t sent; /* acknowledged by the collector */
        uint64_t duplicates; /* acknowledged as already applied */
        uint64_t rejected; /* dropped after a final 4xx */
        uint64_t dropped; /* dropped because the queue was full */
        uint64_t failures; /* attempts that failed (and will be retried) */
        size_t queued;
        int last_error; /* -errno of the last failed attempt, or -EPROTO for an HTTP error */
        long last_http_status;
} ShipperStats;

/* collector: base URL; token and ca_file (PEM CAs to trust for https) may be NULL. */
int shipper_new(sd_event *event, const char *collector, const char *token, const char *ca_file,
        size_t queue_max, usec_t timeout, Shipper **ret);
Shipper *shipper_free(Shipper *s);
DEFINE_TRIVIAL_CLEANUP_FUNC(Shipper *, shipper_free);

/* Queues a report (takes ownership of buf, also on failure) and sends when possible. tag is
 * handed to the acknowledgement callback once the collector accepted the report. */
int shipper_enqueue(Shipper *s, uint8_t *buf, size_t size, uint64_t tag);

/* Called for each report the collector acknowledged (2xx, also "duplicate"), with its tag. */
typedef void (*shipper_ack_fn)(uint64_t tag, void *userdata);
void shipper_set_ack_callback(Shipper *s, shipper_ack_fn fn, void *userdata);

void shipper_get_stats(const Shipper *s, ShipperStats *ret);
