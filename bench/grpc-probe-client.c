/* SPDX-License-Identifier: MIT */
/*
 * bench/grpc-probe-client: makes N Identity/Probe calls to a CSI socket with vigil's gRPC client,
 * each on a fresh connection as the agent's probe does every cycle, and prints the latencies in
 * microseconds, one per line (bench/grpc-probe turns them into figures).
 */
#include <stdio.h>

#include "csi.pb-c.h"
#include "grpc-client.h"
#include "http-client.h"

int main(int argc, char **argv) {
        if (argc != 3) {
                fprintf(stderr, "usage: grpc-probe-client SOCKET CALLS\n");
                return 2;
        }
        long n = strtol(argv[2], NULL, 10);
        http_global_init();
        Csi__V1__ProbeRequest req = CSI__V1__PROBE_REQUEST__INIT;
        GrpcCall call = {.method = "/csi.v1.Identity/Probe",
                .request = &req.base,
                .response_type = &csi__v1__probe_response__descriptor,
                .timeout = 3 * USEC_PER_SEC};
        GrpcTarget target = {.address = argv[1]};
        for (long i = 0; i < n; i++) {
                GrpcResult res;
                usec_t start = now_usec(CLOCK_MONOTONIC);
                int r = grpc_call(&target, &call, &res);
                usec_t t = now_usec(CLOCK_MONOTONIC) - start;
                if (r < 0 || res.status != GRPC_OK) {
                        fprintf(stderr, "grpc-probe-client: call %ld failed: %s\n", i,
                                r < 0 ? strerror(-r) : "status");
                        return 1;
                }
                grpc_result_done(&res);
                printf("%llu\n", (unsigned long long)t);
        }
        return 0;
}
