/* SPDX-License-Identifier: MIT */
#pragma once

/*
 * The CSI node-plugin probe (check csi.probe, target: the socket path): the socket exists and is a
 * socket, something accepts on it, and Identity/GetPluginInfo, Identity/Probe and
 * Node/NodeGetCapabilities answer within the call deadline. The calls are made over gRPC
 * (common/grpc-client.h) in the probe child; each call's outcome goes into a CsiShared page.
 */

#include "op-record.h"
#include "probe.h"

extern const ProbeOps csi_probe_ops;

typedef struct CsiSettings {
        usec_t call_timeout; /* all calls of one cycle together; the livenessprobe uses 3 s per call */
        usec_t warn_latency; /* a call slower than this is WARN */
} CsiSettings;

enum {
        CSI_CALL_INFO, /* Identity/GetPluginInfo */
        CSI_CALL_PROBE, /* Identity/Probe */
        CSI_CALL_CAPS, /* Node/NodeGetCapabilities (optional: UNIMPLEMENTED is fine) */
        _CSI_CALL_MAX,
};

#define CSI_TEXT_MAX 160

typedef struct CsiCall {
        OpRecord op; /* op.error: transport errno (positive), 0 when a gRPC status came */
        int32_t grpc_status; /* valid when op.error == 0 */
        char message[CSI_TEXT_MAX]; /* grpc-message */
} CsiCall;

typedef struct CsiShared {
        int32_t socket_error; /* lstat: positive errno, or ENOTSOCK */
        CsiCall calls[_CSI_CALL_MAX];
        char name[CSI_TEXT_MAX];
        char vendor_version[64];
        int32_t ready; /* -1: field absent (ready), 0: not ready, 1: ready */
        uint32_t capabilities; /* bit n: NodeServiceCapability.RPC.Type n */
} CsiShared;

/* Turns a child's records into the csi.probe result (exported for unit tests). */
int csi_probe_classify(const char *target, const CsiSettings *s, const CsiShared *sh, const ProbeOutcome *o,
        CheckList *results);
