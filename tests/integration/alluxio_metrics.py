# SPDX-License-Identifier: MIT
"""A stand-in for an Alluxio worker's (or FUSE process's) Prometheus endpoint, for tests.

    python3 alluxio_metrics.py --port PORT

GET /metrics serves the alluxio_* series in the Prometheus text format 0.0.4, the way the worker's
Prometheus client does (HELP and TYPE lines, the alluxio_data_access_bytes histogram, a few JVM
series around them). The test drives the counters through POST /control with a JSON object; every
key is optional and they apply in this order:

    {"set":     [{"name": N, "labels": {...}, "value": V}, ...],   a series' value (adds the series)
     "step":    [{"name": N, "labels": {...}, "step": S}, ...],    added to the series at each scrape
     "cycle":   [{"name": N, "labels": {...}, "values": [...]}],   served in turn, one per scrape
     "drop":    [N, ...], "restore": [N, ...],                     leave metrics off the page, or not
     "status":  503,                                               answer /metrics with this status
     "corrupt": true,                                              add a line that does not parse
     "exit":    true}                                              stop serving (the process ends)

A step or cycle applies when a scrape is served, before the page is rendered: scrape k+1 shows the
values of scrape k plus the steps. The answer (and GET /control) is {"scrapes": K, ...}: the number of
pages served so far, so a change made when K pages were served first shows on page K+1.

Every page is padded with a comment to exactly PAGE_BASE + k bytes (k: the page's number), so that a
scraper that reports the size of the page it read tells which page that was.
"""
import argparse
import json
import os
import sys
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

PAGE_BASE = 16384

TYPES = {
    "alluxio_data_access_bytes": ("histogram", "Bytes of worker read and write requests"),
    "alluxio_cached_data_read_bytes_total": ("counter", "Bytes read from the worker's cache"),
    "alluxio_ufs_data_access_bytes_total": ("counter", "Bytes read from and written to the UFS"),
    "alluxio_ufs_error": ("counter", "UFS operations that failed, by error code"),
    "alluxio_fuse_result": ("counter", "FUSE operations by result"),
    "alluxio_fuse_concurrency": ("gauge", "FUSE operations in flight"),
}


def family_of(name):
    for suffix in ("_count", "_sum", "_bucket"):
        if name.endswith(suffix) and name[: -len(suffix)] in TYPES and TYPES[name[: -len(suffix)]][0] == "histogram":
            return name[: -len(suffix)]
    return name


def escape(v):
    return v.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n")


def label_text(labels):
    if not labels:
        return ""
    return "{" + ",".join(f'{k}="{escape(str(v))}"' for k, v in sorted(labels.items())) + "}"


def number(v):
    return repr(float(v)) if isinstance(v, float) and not float(v).is_integer() else str(int(v))


class State:
    def __init__(self):
        self.lock = threading.Lock()
        self.series = {}  # (name, labels tuple) -> {"value": v, "step": s, "cycle": [...], "cycle_at": k}
        self.dropped = set()
        self.status = 200
        self.corrupt = False
        self.scrapes = 0

    @staticmethod
    def key(entry):
        return entry["name"], tuple(sorted((entry.get("labels") or {}).items()))

    def get(self, entry):
        return self.series.setdefault(self.key(entry), {"value": 0, "step": 0, "cycle": None, "cycle_at": 0})

    def control(self, cmd):
        with self.lock:
            for e in cmd.get("set", []):
                self.get(e)["value"] = e["value"]
            for e in cmd.get("step", []):
                self.get(e)["step"] = e["step"]
            for e in cmd.get("cycle", []):
                s = self.get(e)
                s["cycle"] = list(e["values"])
                s["cycle_at"] = self.scrapes + 1
            self.dropped |= set(cmd.get("drop", []))
            self.dropped -= set(cmd.get("restore", []))
            if "status" in cmd:
                self.status = int(cmd["status"])
            if "corrupt" in cmd:
                self.corrupt = bool(cmd["corrupt"])
            return self.summary()

    def summary(self):
        return {"scrapes": self.scrapes, "page_base": PAGE_BASE,
                "series": [{"name": n, "labels": dict(l), "value": s["value"]} for (n, l), s in self.series.items()]}

    def scrape(self):
        """Advances the counters and renders page number k; returns (status, body)."""
        with self.lock:
            self.scrapes += 1
            k = self.scrapes
            for s in self.series.values():
                if s["cycle"]:
                    s["value"] = s["cycle"][(k - s["cycle_at"]) % len(s["cycle"])]
                else:
                    s["value"] += s["step"]
            if self.status != 200:
                return self.status, b"unavailable\n"
            out = ["# HELP jvm_threads_current Current thread count of a JVM", "# TYPE jvm_threads_current gauge",
                   "jvm_threads_current 211.0"]
            families = {}
            for (name, labels), s in sorted(self.series.items()):
                if name in self.dropped:
                    continue
                families.setdefault(family_of(name), []).append((name, dict(labels), s["value"]))
            for family, rows in families.items():
                kind, help_text = TYPES.get(family, ("untyped", family))
                out.append(f"# HELP {family} {help_text}")
                out.append(f"# TYPE {family} {kind}")
                for name, labels, value in rows:
                    if kind == "histogram" and name == family + "_count":
                        # The buckets and sum of the requests the count says.
                        for le in ("65536.0", "1048576.0", "+Inf"):
                            out.append(f"{family}_bucket{label_text(dict(labels, le=le))} {number(value)}")
                        out.append(f"{family}_sum{label_text(labels)} {number(value * 4096)}")
                    out.append(f"{name}{label_text(labels)} {number(value)}")
            out.append('alluxio_meta_operation{op="getStatus"} 12.0')
            if self.corrupt:
                out.append('alluxio_broken{method="read} 1')
            body = ("\n".join(out) + "\n").encode()
            pad = PAGE_BASE + k - len(body) - 3  # "# " and "\n"
            if pad < 0:
                raise RuntimeError("page longer than PAGE_BASE")
            return 200, body + b"# " + b"x" * pad + b"\n"


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def log_message(self, fmt, *args):
        pass

    def reply(self, status, body, ctype):
        self.send_response(status)
        self.send_header("Content-Type", ctype)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def do_GET(self):
        if self.path == "/metrics":
            status, body = self.server.state.scrape()
            self.reply(status, body, "text/plain; version=0.0.4; charset=utf-8")
        elif self.path == "/control":
            with self.server.state.lock:
                summary = self.server.state.summary()
            self.reply(200, json.dumps(summary).encode(), "application/json")
        else:
            self.reply(404, b"not found\n", "text/plain")

    def do_POST(self):
        if self.path != "/control":
            self.reply(404, b"not found\n", "text/plain")
            return
        cmd = json.loads(self.rfile.read(int(self.headers.get("Content-Length", "0"))) or b"{}")
        summary = self.server.state.control(cmd)
        self.reply(200, json.dumps(summary).encode(), "application/json")
        if cmd.get("exit"):
            self.wfile.flush()
            os._exit(0)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--port", type=int, required=True)
    args = ap.parse_args()
    server = ThreadingHTTPServer(("127.0.0.1", args.port), Handler)
    server.daemon_threads = True
    server.state = State()
    print(f"serving on 127.0.0.1:{args.port}", flush=True)
    server.serve_forever()


if __name__ == "__main__":
    sys.exit(main())
