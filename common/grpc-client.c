/* SPDX-License-Identifier: MIT */
#include <ctype.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>

#include "grpc-client.h"
#include "http-client.h"

#define DEFAULT_TIMEOUT (10 * USEC_PER_SEC)
#define DEFAULT_MAX_RESPONSE (4u * 1024 * 1024)
#define FRAME_HEADER 5

static const char *const status_names[_GRPC_STATUS_MAX] = {
        "OK",
        "CANCELLED",
        "UNKNOWN",
        "INVALID_ARGUMENT",
        "DEADLINE_EXCEEDED",
        "NOT_FOUND",
        "ALREADY_EXISTS",
        "PERMISSION_DENIED",
        "RESOURCE_EXHAUSTED",
        "FAILED_PRECONDITION",
        "ABORTED",
        "OUT_OF_RANGE",
        "UNIMPLEMENTED",
        "INTERNAL",
        "UNAVAILABLE",
        "DATA_LOSS",
        "UNAUTHENTICATED",
};

const char *grpc_status_to_string(int status) {
        return status >= 0 && status < _GRPC_STATUS_MAX ? status_names[status] : "?";
}

int grpc_status_to_errno(int status) {
        switch (status) {
        case GRPC_OK:
                return 0;
        case GRPC_CANCELLED:
                return -ECANCELED;
        case GRPC_INVALID_ARGUMENT:
        case GRPC_OUT_OF_RANGE:
                return -EINVAL;
        case GRPC_DEADLINE_EXCEEDED:
                return -ETIMEDOUT;
        case GRPC_NOT_FOUND:
                return -ENOENT;
        case GRPC_ALREADY_EXISTS:
                return -EEXIST;
        case GRPC_PERMISSION_DENIED:
                return -EPERM;
        case GRPC_UNAUTHENTICATED:
                return -EACCES;
        case GRPC_RESOURCE_EXHAUSTED:
                return -ENOSPC;
        case GRPC_FAILED_PRECONDITION:
        case GRPC_ABORTED:
                return -EBUSY;
        case GRPC_UNIMPLEMENTED:
                return -EOPNOTSUPP;
        case GRPC_UNAVAILABLE:
                return -EHOSTUNREACH;
        case GRPC_DATA_LOSS:
                return -EBADMSG;
        default:
                return -EIO;
        }
}

int grpc_frame_encode(const ProtobufCMessage *m, uint8_t **ret, size_t *ret_size) {
        size_t n = protobuf_c_message_get_packed_size(m);
        if (n > UINT32_MAX)
                return -EFBIG;
        uint8_t *buf = malloc(FRAME_HEADER + n);
        if (!buf)
                return -ENOMEM;
        buf[0] = 0;
        buf[1] = (uint8_t)(n >> 24);
        buf[2] = (uint8_t)(n >> 16);
        buf[3] = (uint8_t)(n >> 8);
        buf[4] = (uint8_t)n;
        protobuf_c_message_pack(m, buf + FRAME_HEADER);
        *ret = buf;
        *ret_size = FRAME_HEADER + n;
        return 0;
}

int grpc_frame_decode(
        const uint8_t *body, size_t size, size_t max, const uint8_t **ret_msg, size_t *ret_len) {
        if (size < FRAME_HEADER)
                return -EBADMSG;
        if (body[0] != 0)
                return body[0] == 1 ? -EPROTONOSUPPORT : -EBADMSG;
        size_t n = (size_t)body[1] << 24 | (size_t)body[2] << 16 | (size_t)body[3] << 8 | body[4];
        if (n > max)
                return -EFBIG;
        if (size != FRAME_HEADER + n)
                return -EBADMSG;
        *ret_msg = body + FRAME_HEADER;
        *ret_len = n;
        return 0;
}

void grpc_format_timeout(usec_t t, char buf[static 16]) {
        /* The spec allows at most 8 digits: pick the finest unit that fits. */
        static const struct {
                usec_t div;
                char unit;
        } units[] = {
                {1, 'u'},
                {USEC_PER_MSEC, 'm'},
                {USEC_PER_SEC, 'S'},
                {USEC_PER_MINUTE, 'M'},
                {USEC_PER_HOUR, 'H'},
        };
        for (size_t i = 0; i < ELEMENTSOF(units); i++) {
                usec_t v = (t + units[i].div - 1) / units[i].div;
                if (v <= 99999999) {
                        snprintf(buf, 16, "%llu%c", (unsigned long long)v, units[i].unit);
                        return;
                }
        }
        snprintf(buf, 16, "99999999H");
}

static int hexval(char c) {
        if (c >= '0' && c <= '9')
                return c - '0';
        c = (char)tolower((unsigned char)c);
        return c >= 'a' && c <= 'f' ? c - 'a' + 10 : -1;
}

char *grpc_percent_decode(const char *s) {
        char *out = malloc(strlen(s) + 1), *o = out;
        if (!out)
                return NULL;
        for (; *s; s++) {
                int hi, lo;
                if (*s == '%' && (hi = hexval(s[1])) >= 0 && (lo = hexval(s[2])) >= 0) {
                        *o++ = (char)(hi << 4 | lo);
                        s += 2;
                } else
                        *o++ = *s;
        }
        *o = 0;
        return out;
}

void grpc_result_done(GrpcResult *r) {
        if (!r)
                return;
        r->message = mfree(r->message);
        if (r->response)
                protobuf_c_message_free_unpacked(r->response, NULL);
        r->response = NULL;
}

/* A unix socket path from "unix:///path", "unix:/path" or "/path"; NULL for a URL. */
static const char *unix_path(const char *address) {
        const char *p;
        if ((p = startswith(address, "unix://")))
                return p;
        if ((p = startswith(address, "unix:")))
                return p;
        return address[0] == '/' ? address : NULL;
}

/* curl says "couldn't connect" for both a missing socket and a refused one: tell them apart. */
static int unix_socket_error(const char *path) {
        struct stat st;
        if (stat(path, &st) < 0)
                return -errno;
        if (!S_ISSOCK(st.st_mode))
                return -ENOTSOCK;
        return -ECONNREFUSED;
}

int grpc_call(const GrpcTarget *target, const GrpcCall *call, GrpcResult *ret) {
        _cleanup_(http_response_done) HttpResponse resp = {};
        _cleanup_(freep) uint8_t *frame = NULL;
        _cleanup_(freep) char *url = NULL;
        const char *sock = unix_path(target->address);
        usec_t timeout = call->timeout ?: DEFAULT_TIMEOUT;
        size_t max = call->max_response ?: DEFAULT_MAX_RESPONSE, frame_size;
        char timeout_header[32], grpc_timeout[16];
        int r;

        if (sock && strlen(sock) >= sizeof(((struct sockaddr_un *)NULL)->sun_path))
                return -ENAMETOOLONG;
        r = grpc_frame_encode(call->request, &frame, &frame_size);
        if (r < 0)
                return r;
        if (asprintf(&url, "%s%s", sock ? "http://localhost" : target->address, call->method) < 0)
                return -ENOMEM;
        grpc_format_timeout(timeout, grpc_timeout);
        snprintf(timeout_header, sizeof(timeout_header), "grpc-timeout: %s", grpc_timeout);
        const char *headers[] = {"te: trailers", timeout_header, NULL};
        HttpRequest req = {
                .method = "POST",
                .url = url,
                .content_type = "application/grpc",
                .body = frame,
                .body_size = frame_size,
                .timeout = timeout,
                .max_response = max + FRAME_HEADER,
                .unix_socket = sock,
                .http2 = true,
                .headers = headers,
                .ca_file = target->ca_file,
                .cert_file = target->cert_file,
                .key_file = target->key_file,
        };
        usec_t start = now_usec(CLOCK_MONOTONIC);
        r = http_request(&req, &resp);
        usec_t latency = now_usec(CLOCK_MONOTONIC) - start;
        if (r == -ECONNREFUSED && sock)
                return unix_socket_error(sock);
        if (r < 0)
                return r;

        /* A gRPC server answers 200; anything else is a proxy or not gRPC at all. */
        const char *ct = resp.content_type;
        if (resp.status != 200 || !ct || !startswith(ct, "application/grpc"))
                return -EPROTO;
        const char *st = http_response_header(&resp, "grpc-status");
        if (!st)
                return -EPROTO;
        char *end;
        long code = strtol(st, &end, 10);
        if (end == st || code < 0 || code > INT32_MAX)
                return -EPROTO;

        GrpcResult result = {.status = (GrpcStatus)code, .latency = latency};
        const char *msg = http_response_header(&resp, "grpc-message");
        if (msg && !(result.message = grpc_percent_decode(msg)))
                return -ENOMEM;
        if (result.status == GRPC_OK) {
                const uint8_t *m;
                size_t len;
                r = grpc_frame_decode((const uint8_t *)resp.body, resp.size, max, &m, &len);
                if (r >= 0) {
                        result.response = protobuf_c_message_unpack(call->response_type, NULL, len, m);
                        if (!result.response)
                                r = -EBADMSG;
                }
                if (r < 0) {
                        grpc_result_done(&result);
                        return r;
                }
        }
        *ret = result;
        return 0;
}
