/* SPDX-License-Identifier: MIT */
#include "curl-event.h"

struct CurlEvent {
        sd_event *event;
        CURLM *multi;
        sd_event_source *timer;
        HttpTransfer **active; /* running transfers, so that curl_event_free() can abandon them */
        unsigned running;
};

static void forget(CurlEvent *c, HttpTransfer *t) {
        for (unsigned i = 0; i < c->running; i++)
                if (c->active[i] == t) {
                        c->active[i] = c->active[--c->running];
                        return;
                }
}

typedef struct Pending {
        curl_event_done_fn done;
        void *userdata;
} Pending;

static void check_finished(CurlEvent *c) {
        CURLMsg *msg;
        int left;

        while ((msg = curl_multi_info_read(c->multi, &left))) {
                HttpTransfer *t = NULL;
                if (msg->msg != CURLMSG_DONE)
                        continue;
                CURLcode code = msg->data.result;
                curl_easy_getinfo(msg->easy_handle, CURLINFO_PRIVATE, (char **)&t);
                curl_multi_remove_handle(c->multi, msg->easy_handle);
                forget(c, t);
                Pending *p = t->userdata;
                t->userdata = NULL;
                int r = http_transfer_finish(t, code);
                curl_event_done_fn done = p->done;
                void *userdata = p->userdata;
                free(p);
                done(t, r, userdata);
        }
}

static int on_io(sd_event_source *s, int fd, uint32_t revents, void *userdata) {
        CurlEvent *c = userdata;
        int action = 0, running;

        if (revents & (EPOLLIN | EPOLLHUP | EPOLLERR))
                action |= CURL_CSELECT_IN;
        if (revents & EPOLLOUT)
                action |= CURL_CSELECT_OUT;
        if (revents & EPOLLERR)
                action |= CURL_CSELECT_ERR;
        (void)curl_multi_socket_action(c->multi, fd, action, &running);
        check_finished(c);
        return 0;
}

static int on_socket(CURL *easy, curl_socket_t fd, int what, void *userp, void *socketp) {
        CurlEvent *c = userp;
        sd_event_source *io = socketp;
        uint32_t events = 0;

        if (what == CURL_POLL_REMOVE) {
                if (io) {
                        sd_event_source_disable_unref(io);
                        curl_multi_assign(c->multi, fd, NULL);
                }
                return 0;
        }
        if (what & CURL_POLL_IN)
                events |= EPOLLIN;
        if (what & CURL_POLL_OUT)
                events |= EPOLLOUT;
        if (io) {
                if (sd_event_source_set_io_events(io, events) < 0)
                        return -1;
                return sd_event_source_set_enabled(io, SD_EVENT_ON) < 0 ? -1 : 0;
        }
        if (sd_event_add_io(c->event, &io, fd, events, on_io, c) < 0)
                return -1;
        (void)sd_event_source_set_description(io, "curl-io");
        if (curl_multi_assign(c->multi, fd, io) != CURLM_OK) {
                sd_event_source_disable_unref(io);
                return -1;
        }
        return 0;
}

static int on_timer(sd_event_source *s, uint64_t usec, void *userdata) {
        CurlEvent *c = userdata;
        int running;
        (void)curl_multi_socket_action(c->multi, CURL_SOCKET_TIMEOUT, 0, &running);
        check_finished(c);
        return 0;
}

static int on_timer_change(CURLM *multi, long timeout_ms, void *userp) {
        CurlEvent *c = userp;

        if (timeout_ms < 0)
                return sd_event_source_set_enabled(c->timer, SD_EVENT_OFF) < 0 ? -1 : 0;
        usec_t when = now_usec(CLOCK_MONOTONIC) + (usec_t)timeout_ms * USEC_PER_MSEC;
        if (sd_event_source_set_time(c->timer, when) < 0)
                return -1;
        return sd_event_source_set_enabled(c->timer, SD_EVENT_ONESHOT) < 0 ? -1 : 0;
}

int curl_event_new(sd_event *event, CurlEvent **ret) {
        _cleanup_(curl_event_freep) CurlEvent *c = calloc(1, sizeof(CurlEvent));
        int r;

        if (!c)
                return -ENOMEM;
        http_global_init();
        c->event = sd_event_ref(event);
        c->multi = curl_multi_init();
        if (!c->multi)
                return -ENOMEM;
        r = sd_event_add_time(event, &c->timer, CLOCK_MONOTONIC, USEC_INFINITY, 0, on_timer, c);
        if (r < 0)
                return r;
        (void)sd_event_source_set_enabled(c->timer, SD_EVENT_OFF);
        (void)sd_event_source_set_description(c->timer, "curl-timer");
        curl_multi_setopt(c->multi, CURLMOPT_SOCKETFUNCTION, on_socket);
        curl_multi_setopt(c->multi, CURLMOPT_SOCKETDATA, c);
        curl_multi_setopt(c->multi, CURLMOPT_TIMERFUNCTION, on_timer_change);
        curl_multi_setopt(c->multi, CURLMOPT_TIMERDATA, c);
        *ret = TAKE_PTR(c);
        return 0;
}

int curl_event_start(CurlEvent *c, HttpTransfer *t, curl_event_done_fn done, void *userdata) {
        HttpTransfer **a = realloc(c->active, sizeof(HttpTransfer *) * (c->running + 1));
        if (!a)
                return -ENOMEM;
        c->active = a;
        Pending *p = malloc(sizeof(Pending));
        if (!p)
                return -ENOMEM;
        *p = (Pending){.done = done, .userdata = userdata};
        t->userdata = p;
        if (curl_multi_add_handle(c->multi, t->easy) != CURLM_OK) {
                t->userdata = NULL;
                free(p);
                return -EIO;
        }
        c->active[c->running++] = t;
        return 0;
}

CurlEvent *curl_event_free(CurlEvent *c) {
        if (!c)
                return NULL;
        if (c->multi) {
                /* Abandon running transfers: free them without calling back. */
                for (unsigned i = 0; i < c->running; i++) {
                        HttpTransfer *t = c->active[i];
                        curl_multi_remove_handle(c->multi, t->easy);
                        free(t->userdata);
                        http_transfer_free(t);
                }
                curl_multi_cleanup(c->multi);
        }
        free(c->active);
        sd_event_source_disable_unref(c->timer);
        sd_event_unref(c->event);
        return mfree(c);
}
