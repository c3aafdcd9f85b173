-- SPDX-License-Identifier: MIT
-- wrk script for bench/collector-ingest: POST one fixed NodeReport (protobuf) read from the file
-- named by $VIGIL_BENCH_BODY.
local f = assert(io.open(os.getenv("VIGIL_BENCH_BODY"), "rb"))
wrk.method = "POST"
wrk.body = f:read("*a")
f:close()
wrk.headers["Content-Type"] = "application/x-protobuf"
