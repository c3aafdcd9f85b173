/* SPDX-License-Identifier: MIT */
#include "shipper.h"
#include <inttypes.h>

#include "curl-event.h"
#include "log.h"

#define BACKOFF_MIN USEC_PER_SEC
#define BACKOFF_MAX (60 * USEC_PER_SEC)
#define ANSWER_MAX 4096

typedef struct Item {
        uint8_t *buf;
        size_t size;
        uint64_t tag;
} Item;

struct Shipper {
        sd_event *event;
        CurlEvent *curl;
        char *url;
        char *token;
        char *ca_file;
        usec_t timeout;
        Item *queue; /* ring buffer */
        size_t queue_max, head, count;
        bool in_flight;
        usec_t backoff;
        sd_event_source *retry;
        ShipperStats stats;
        long trouble; /* what the log last said was wrong: 0 none, HTTP status, or -errno */
        shipper_ack_fn ack;
        void *ack_userdata;
};

/* Logs when the outcome of uploads changes (failing, rejected with another status, working again),
 * not for every report: a collector that is down for an hour is one warning, not 720. */
static void note_outcome(Shipper *s, long trouble, const char *body) {
        if (trouble == s->trouble)
                return;
        if (trouble == 0)
                log_info("shipping reports to %s again (%" PRIu64 " dropped meanwhile)", s->url,
                        s->stats.dropped + s->stats.rejected);
        else if (trouble == -EACCES)
                log_warning("Cannot ship reports to %s: its TLS certificate is not trusted (--collector-ca "
                            "FILE names "
                            "the CA that signed it); retrying with backoff",
                        s->url);
        else if (trouble < 0)
                log_warning_errno((int)trouble,
                        "Cannot ship reports to %s: %m; retrying with backoff, keeping up to %zu", s->url,
                        s->queue_max);
        else if (trouble >= 500 || trouble == 429 || trouble == 408)
                log_warning("collector %s answers HTTP %ld; retrying with backoff", s->url, trouble);
        else
                log_warning("collector %s rejects reports with HTTP %ld: %.200s; dropping them", s->url,
                        trouble, strempty(body));
        s->trouble = trouble;
}

static void pop(Shipper *s) {
        free(s->queue[s->head].buf);
        s->queue[s->head] = (Item){};
        s->head = (s->head + 1) % s->queue_max;
        s->count--;
}

static void kick(Shipper *s);

static int on_retry(sd_event_source *src, uint64_t usec, void *userdata) {
        Shipper *s = userdata;
        s->retry = sd_event_source_disable_unref(s->retry);
        kick(s);
        return 0;
}

static void schedule_retry(Shipper *s) {
        s->backoff = s->backoff ? MIN(s->backoff * 2, BACKOFF_MAX) : BACKOFF_MIN;
        /* Jitter of up to a quarter spreads a fleet of agents after a collector restart. */
        usec_t delay = s->backoff - (usec_t)(random() % (long)(s->backoff / 4 + 1));
        if (sd_event_add_time_relative(
                    s->event, &s->retry, CLOCK_MONOTONIC, delay, 10 * USEC_PER_MSEC, on_retry, s) < 0)
                s->retry = NULL;
}

static void on_done(HttpTransfer *t, int r, void *userdata) {
        Shipper *s = userdata;
        long status = r >= 0 ? t->response.status : 0;

        s->in_flight = false;
        if (r >= 0 && status >= 200 && status < 300) {
                if (t->response.body && strstr(t->response.body, "\"duplicate\""))
                        s->stats.duplicates++;
                s->stats.sent++;
                s->stats.last_error = 0;
                s->backoff = 0;
                note_outcome(s, 0, NULL);
                if (s->ack)
                        s->ack(s->queue[s->head].tag, s->ack_userdata);
                pop(s);
        } else if (r >= 0 && status >= 400 && status < 500 && status != 429 && status != 408) {
                note_outcome(s, status, t->response.body);
                s->stats.rejected++;
                s->stats.last_error = -EPROTO;
                s->stats.last_http_status = status;
                pop(s);
        } else {
                s->stats.failures++;
                s->stats.last_error = r < 0 ? r : -EPROTO;
                s->stats.last_http_status = status;
                note_outcome(s, r < 0 ? r : status, t->response.body);
                http_transfer_free(t);
                schedule_retry(s);
                return;
        }
        http_transfer_free(t);
        kick(s);
}

static void kick(Shipper *s) {
        HttpTransfer *t = NULL;
        int r;

        if (s->in_flight || s->retry || s->count == 0)
                return;
        Item *it = &s->queue[s->head];
        HttpRequest req = {
                .method = "POST",
                .url = s->url,
                .content_type = "application/x-protobuf",
                .accept = "application/json",
                .body = it->buf,
                .body_size = it->size,
                .bearer_token = s->token,
                .ca_file = s->ca_file,
                .timeout = s->timeout,
                .max_response = ANSWER_MAX,
        };
        r = http_transfer_new(&req, &t);
        if (r >= 0) {
                r = curl_event_start(s->curl, t, on_done, s);
                if (r < 0)
                        http_transfer_free(t);
        }
        if (r < 0) {
                s->stats.failures++;
                s->stats.last_error = r;
                schedule_retry(s);
                return;
        }
        s->in_flight = true;
}

int shipper_new(sd_event *event, const char *collector, const char *token, const char *ca_file,
        size_t queue_max, usec_t timeout, Shipper **ret) {
        _cleanup_(shipper_freep) Shipper *s = calloc(1, sizeof(Shipper));
        int r;

        if (!s)
                return -ENOMEM;
        s->event = sd_event_ref(event);
        s->queue_max = queue_max;
        s->timeout = timeout;
        s->queue = calloc(queue_max, sizeof(Item));
        size_t l = strlen(collector);
        while (l > 0 && collector[l - 1] == '/')
                l--;
        if (!s->queue || asprintf(&s->url, "%.*s/v1/reports", (int)l, collector) < 0)
                return -ENOMEM;
        if (token && !(s->token = strdup(token)))
                return -ENOMEM;
        if (ca_file && !(s->ca_file = strdup(ca_file)))
                return -ENOMEM;
        r = curl_event_new(event, &s->curl);
        if (r < 0)
                return r;
        *ret = TAKE_PTR(s);
        return 0;
}

Shipper *shipper_free(Shipper *s) {
        if (!s)
                return NULL;
        curl_event_free(s->curl);
        sd_event_source_disable_unref(s->retry);
        while (s->queue && s->count > 0)
                pop(s);
        free(s->queue);
        free(s->url);
        free(s->token);
        free(s->ca_file);
        sd_event_unref(s->event);
        return mfree(s);
}

void shipper_set_ack_callback(Shipper *s, shipper_ack_fn fn, void *userdata) {
        s->ack = fn;
        s->ack_userdata = userdata;
}

int shipper_enqueue(Shipper *s, uint8_t *buf, size_t size, uint64_t tag) {
        if (s->count == s->queue_max) {
                if (s->in_flight && s->queue_max == 1) {
                        /* The only slot is on the wire: drop the new one instead. */
                        free(buf);
                        s->stats.dropped++;
                        return 0;
                }
                /* Drop the oldest report that is not being sent right now. */
                size_t victim = s->in_flight ? (s->head + 1) % s->queue_max : s->head;
                free(s->queue[victim].buf);
                for (size_t k = victim; k != (s->head + s->count - 1) % s->queue_max;
                        k = (k + 1) % s->queue_max)
                        s->queue[k] = s->queue[(k + 1) % s->queue_max];
                s->count--;
                s->stats.dropped++;
        }
        s->queue[(s->head + s->count) % s->queue_max] = (Item){.buf = buf, .size = size, .tag = tag};
        s->count++;
        kick(s);
        return 0;
}

void shipper_get_stats(const Shipper *s, ShipperStats *ret) {
        *ret = s->stats;
        ret->queued = s->count;
}
