/* SPDX-License-Identifier: MIT */
#pragma once

/*
 * Runs libcurl transfers inside an sd-event loop (curl multi socket API: curl's sockets become
 * sd-event io sources and its timer an sd-event time source), so the agent never blocks on the
 * network while probing.
 */

#include <systemd/sd-event.h>

#include "http-client.h"

typedef struct CurlEvent CurlEvent;

/*
 * Called once per finished transfer with r as from http_transfer_finish(). The callback owns t
 * from then on and frees it with http_transfer_free().
 */
typedef void (*curl_event_done_fn)(HttpTransfer *t, int r, void *userdata);

int curl_event_new(sd_event *event, CurlEvent **ret);
/* Aborts transfers still running (their callbacks are not called) and frees c. */
CurlEvent *curl_event_free(CurlEvent *c);
DEFINE_TRIVIAL_CLEANUP_FUNC(CurlEvent *, curl_event_free);

/* Starts t. On success c holds t until done() hands it over; on failure the caller keeps t. */
int curl_event_start(CurlEvent *c, HttpTransfer *t, curl_event_done_fn done, void *userdata);
