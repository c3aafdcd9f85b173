/* SPDX-License-Identifier: MIT */
#pragma once

/*
 * A gRPC unary client on libcurl (HTTP/2 with prior knowledge over a unix socket or TCP, TLS on
 * https), messages encoded and decoded with protobuf-c. The only gRPC stack of vigil: used by the
 * CSI probe and the collector's etcd checks. Blocking: callers that must not block run it in a
 * child process or a thread of their own.
 *
 * Wire format (gRPC over HTTP/2): POST /<package.Service>/<Method>, content-type
 * application/grpc, te: trailers, grpc-timeout; the body is one length-prefixed message (1 byte
 * compressed flag, 4 bytes big-endian length, the message); the status comes in the trailers
 * grpc-status / grpc-message, or in the headers of a trailers-only answer.
 */

#include <protobuf-c/protobuf-c.h>

#include "time-util.h"

/* gRPC status codes (grpc/doc/statuscodes.md). */
typedef enum GrpcStatus {
        GRPC_OK = 0,
        GRPC_CANCELLED = 1,
        GRPC_UNKNOWN = 2,
        GRPC_INVALID_ARGUMENT = 3,
        GRPC_DEADLINE_EXCEEDED = 4,
        GRPC_NOT_FOUND = 5,
        GRPC_ALREADY_EXISTS = 6,
        GRPC_PERMISSION_DENIED = 7,
        GRPC_RESOURCE_EXHAUSTED = 8,
        GRPC_FAILED_PRECONDITION = 9,
        GRPC_ABORTED = 10,
        GRPC_OUT_OF_RANGE = 11,
        GRPC_UNIMPLEMENTED = 12,
        GRPC_INTERNAL = 13,
        GRPC_UNAVAILABLE = 14,
        GRPC_DATA_LOSS = 15,
        GRPC_UNAUTHENTICATED = 16,
        _GRPC_STATUS_MAX,
} GrpcStatus;

typedef struct GrpcTarget {
        /* "unix:///run/csi/csi.sock" (or an absolute path), "http://host:port", "https://host:port" */
        const char *address;
        const char *ca_file; /* TLS (https only) */
        const char *cert_file;
        const char *key_file;
} GrpcTarget;

typedef struct GrpcCall {
        const char *method; /* "/csi.v1.Identity/Probe" */
        const ProtobufCMessage *request;
        const ProtobufCMessageDescriptor *response_type;
        usec_t timeout; /* 0: 10 s; sent as grpc-timeout and enforced on the transfer */
        size_t max_response; /* largest accepted message; 0: 4 MiB */
} GrpcCall;

typedef struct GrpcResult {
        GrpcStatus status;
        char *message; /* grpc-message (percent-decoded), owned, may be NULL */
        ProtobufCMessage *response; /* status OK only; free with protobuf_c_message_free_unpacked */
        usec_t latency;
} GrpcResult;

/*
 * Makes the call. Returns 0 when the server answered with a gRPC status (any: see ret->status),
 * or a negative errno when no gRPC answer came: -ENOENT (no such socket), -ENOTSOCK, -ECONNREFUSED
 * (nothing listening), -ETIMEDOUT, -EACCES (TLS trust), -EPROTO (not a gRPC answer), -EBADMSG
 * (malformed frame or message), -EFBIG (over max_response). ret is filled only on success.
 */
int grpc_call(const GrpcTarget *target, const GrpcCall *call, GrpcResult *ret);
void grpc_result_done(GrpcResult *r);

/* "UNIMPLEMENTED"; "?" when out of range. */
const char *grpc_status_to_string(int status);
/* The one translation of gRPC status codes into our errors (0 for OK). */
int grpc_status_to_errno(int status);

/* Framing, exported for tests. */
int grpc_frame_encode(const ProtobufCMessage *m, uint8_t **ret, size_t *ret_size);
/* Finds the one message in body; -EBADMSG when truncated or followed by more data, -EFBIG over max,
 * -EPROTONOSUPPORT when compressed (we never ask for compression). */
int grpc_frame_decode(
        const uint8_t *body, size_t size, size_t max, const uint8_t **ret_msg, size_t *ret_len);
/* grpc-timeout value for t: at most 8 digits and a unit ("2999m", "3S"). */
void grpc_format_timeout(usec_t t, char buf[static 16]);
/* Decodes a grpc-message value (percent-encoded UTF-8) into a new string. */
char *grpc_percent_decode(const char *s);
