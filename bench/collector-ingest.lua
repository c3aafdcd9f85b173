-- SPDX-License-Identifier: MIT
-- wrk script for bench/collector-ingest, in one of two modes:
--
-- * $VIGIL_BENCH_BODY: POST one fixed NodeReport (protobuf) read from that file. After the first
--   post every one is a duplicate: the ceiling of the HTTP stack and the decoding.
--
-- * $VIGIL_BENCH_TEMPLATE (and $VIGIL_BENCH_TEMPLATE_WARN, $VIGIL_BENCH_NODES,
--   $VIGIL_BENCH_THREADS): POST distinct, valid reports of $VIGIL_BENCH_NODES nodes named
--   node-00000, node-00001, ... with an increasing seq per node, so every post is applied and
--   committed (durable ingest with a load generator far cheaper than the collector). The template
--   files are NodeReports without node and seq; each request appends those two fields (protobuf
--   lets a field come anywhere), so no encoding happens here but the seq varint. Node i is posted
--   by wrk thread i % THREADS only, so posts of one node are never reordered. One post in 200 uses
--   the WARN template (a check turns WARN, then OK again: two events), as real clusters do.
local function read_file(path)
        local f = assert(io.open(path, "rb"))
        local s = f:read("*a")
        f:close()
        return s
end

wrk.method = "POST"
wrk.headers["Content-Type"] = "application/x-protobuf"

local template_path = os.getenv("VIGIL_BENCH_TEMPLATE")
if not template_path then
        wrk.body = read_file(os.getenv("VIGIL_BENCH_BODY"))
        return
end

local n_nodes = tonumber(os.getenv("VIGIL_BENCH_NODES") or "10000")
local n_threads = tonumber(os.getenv("VIGIL_BENCH_THREADS") or "1")
local next_tid = 0

-- Runs in the main Lua state, once per thread, before the thread's own init().
function setup(thread)
        thread:set("tid", next_tid)
        next_tid = next_tid + 1
end

local template, template_warn, names, per_thread, counter

function init(args)
        template = read_file(template_path)
        template_warn = read_file(os.getenv("VIGIL_BENCH_TEMPLATE_WARN") or template_path)
        names = {}
        for i = tid, n_nodes - 1, n_threads do
                -- field 1 (node), length-delimited, 10 bytes: "node-00042"
                names[#names + 1] = "\10\10" .. string.format("node-%05d", i)
        end
        per_thread = #names
        counter = 0
end

-- field 5 (seq) as a varint
local function seq_field(v)
        local out = { "\40" }
        while v >= 128 do
                out[#out + 1] = string.char(v % 128 + 128)
                v = math.floor(v / 128)
        end
        out[#out + 1] = string.char(v)
        return table.concat(out)
end

function request()
        local k = counter
        counter = counter + 1
        local name = names[k % per_thread + 1]
        local seq = math.floor(k / per_thread) + 1
        local t = (k % 200 == 7) and template_warn or template
        return wrk.format(nil, nil, nil, t .. name .. seq_field(seq))
end
