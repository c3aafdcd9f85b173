# SPDX-License-Identifier: MIT
"""Conformance of vigil's Prometheus text parser (probes/metrics/prom-parse.c, driven by
tests/helpers/prom-count) against the real thing: Debian's prometheus-node-exporter and Prometheus
serve their own /metrics pages; each page, exactly as fetched, is served again from a static server
in this test to a real Prometheus, whose own parser then says how many samples it read
(scrape_samples_scraped), which series with which values it stored, and which type each family has
(the targets metadata API). vigil's parse must agree on all of it, fed in 1000-byte and in 1-byte
chunks; promtool check metrics must accept the page (style lints aside), and a plain Python count of
the sample lines must agree too. Broken and unusual lines are checked against promtool: both accept
or both reject, on the same line.

Every server runs on its own loopback port with its own data directory, so the packages' system
services (prometheus.service on 9090, prometheus-node-exporter.service on 9100), when a machine
runs them, cannot interfere."""
import json
import math
import os
import re
import subprocess
import threading
import time
import unittest
import urllib.parse
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

from vigiltest import BUILD, VigilTestCase, free_port, http, wait_for

PROMETHEUS = "/usr/bin/prometheus"
PROMTOOL = "/usr/bin/promtool"
NODE_EXPORTER = "/usr/bin/prometheus-node-exporter"
PROM_COUNT = os.path.join(BUILD, "tests/helpers/prom-count")

# Series Prometheus adds to every target by itself.
SCRAPE_SERIES = {"up", "scrape_duration_seconds", "scrape_samples_scraped", "scrape_samples_post_metric_relabeling",
                 "scrape_series_added"}


class PageServer:
    """Serves pages set by path on 127.0.0.1 as text format 0.0.4 (so Prometheus picks its text
    parser); 503 for a path without a page yet."""

    def __init__(self):
        pages = self.pages = {}

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self):
                page = pages.get(self.path)
                if page is None:
                    self.send_error(503)
                    return
                self.send_response(200)
                self.send_header("Content-Type", "text/plain; version=0.0.4; charset=utf-8")
                self.send_header("Content-Length", str(len(page)))
                self.end_headers()
                self.wfile.write(page)

            def log_message(self, *args):
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.port = self.server.server_address[1]
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    def close(self):
        self.server.shutdown()
        self.server.server_close()


def reference_count(page):
    """Samples counted the simplest way: lines that are neither blank nor comments."""
    return sum(1 for line in page.split(b"\n") if line.strip(b" \t") and not line.lstrip(b" \t").startswith(b"#"))


def same_value(a, b):
    a, b = float(a), float(b)
    return a == b or (math.isnan(a) and math.isnan(b))


def synthetic_page():
    """Histograms, a summary, counters, label values with every escape and UTF-8, special values,
    exponents, a timestamp, comments and blank lines."""
    now_ms = int(time.time() * 1000)
    out = ["# A page made by the conformance test.", "",
           "# HELP vigil_rpc_seconds Latency of \\\\ RPCs\\n by path.", "# TYPE vigil_rpc_seconds histogram"]
    paths = ["/plain", "C:\\\\dir\\\\file", "say \\\"hi\\\"", "two\\nlines", "café €", "{braces},=", ""]
    for i, p in enumerate(paths):
        cum = 0
        for le in ["0.005", "0.01", "0.1", "1", "10", "+Inf"]:
            cum += i + 1
            out.append(f'vigil_rpc_seconds_bucket{{path="{p}",le="{le}"}} {cum}')
        out.append(f'vigil_rpc_seconds_sum{{path="{p}"}} {i * 0.37:.17g}')
        out.append(f'vigil_rpc_seconds_count{{path="{p}"}} {cum}')
    out += ["# HELP vigil_gc_seconds GC pauses.", "# TYPE vigil_gc_seconds summary"]
    for q, v in [("0", "2.1e-05"), ("0.5", "4.5E-05"), ("0.99", "NaN"), ("1", "+Inf")]:
        out.append(f'vigil_gc_seconds{{quantile="{q}"}} {v}')
    out += ["vigil_gc_seconds_sum 0.012", "vigil_gc_seconds_count 187", "",
            "# TYPE vigil_requests_total counter"]
    for code in range(200, 210):
        out.append(f'vigil_requests_total{{code="{code}",method="GET",}} {code * 1000003}')
    out += ["# TYPE vigil_temperature gauge", "vigil_temperature{sensor=\"a\"} -Inf",
            "vigil_temperature{sensor=\"b\"} -273.15", "vigil_temperature{sensor=\"c\"} 1.7976931348623157e308",
            "vigil_temperature{sensor=\"d\"} 4.9e-324", "vigil_temperature{sensor=\"e\"} 123456789012345678901234567890",
            "vigil_temperature{sensor=\"f\"} 0.1", "vigil_temperature{sensor=\"g\"} -0",
            "# comment between families", "vigil_untyped_thing 42",
            f"vigil_with_timestamp{{a=\"b\"}} 7 {now_ms - 1000}", "vigil_tab_separated\t8",
            "vigil_no_space_after_brace{a=\"b\"}9", "vigil_blanks_in_labels{ a = \"b\" , c=\"d\" } 10"]
    return ("\n".join(out) + "\n").encode()


class PromConformanceTest(VigilTestCase):
    def setUp(self):
        super().setUp()
        if not os.access(PROM_COUNT, os.X_OK):
            raise FileNotFoundError(f"{PROM_COUNT} not built")
        self.pages = PageServer()
        self.addCleanup(self.pages.close)

    # --- the parsers -----------------------------------------------------------------------
    def vigil_parse(self, page, chunk=1000):
        """(exit code, sample count, dumped samples, error line) of prom-count on page."""
        path = self.path(f"page-{time.monotonic_ns()}.prom")
        with open(path, "wb") as f:
            f.write(page)
        r = subprocess.run([PROM_COUNT, "--dump", "--chunk", str(chunk), path], capture_output=True, timeout=60)
        self.assertIn(r.returncode, (0, 1), r.stderr)
        samples, count, error = [], None, None
        for line in r.stdout.decode().splitlines():
            if line.startswith("{"):
                samples.append(json.loads(line))
            elif line.startswith("samples "):
                count = int(line.split()[1])
            elif line.startswith("error: "):
                error = line[len("error: "):]
        self.assertEqual(count, len(samples))
        return r.returncode, count, samples, error

    def promtool(self, page):
        """(exit code, output) of promtool check metrics: 0 clean, 3 style lints only, 1 parse error."""
        r = subprocess.run([PROMTOOL, "check", "metrics"], input=page, capture_output=True, timeout=60)
        return r.returncode, (r.stdout + r.stderr).decode(errors="replace")

    # --- the servers -----------------------------------------------------------------------
    def start_prometheus(self, jobs):
        """A real Prometheus scraping each path of jobs ({job: path}) on the page server every
        second; returns its URL."""
        port = free_port()
        config = self.path("prometheus.yml")
        with open(config, "w") as f:
            f.write("global:\n  scrape_interval: 1s\n  scrape_timeout: 1s\nscrape_configs:\n")
            for job, path in jobs.items():
                f.write(f"  - job_name: {job}\n    honor_labels: true\n    metrics_path: {path}\n"
                        f"    static_configs:\n      - targets: ['127.0.0.1:{self.pages.port}']\n")
        p = self.start("prometheus", [PROMETHEUS, f"--config.file={config}",
                                      f"--storage.tsdb.path={self.path('prometheus-data')}",
                                      f"--web.listen-address=127.0.0.1:{port}"])
        url = f"http://127.0.0.1:{port}"
        wait_for(lambda: not p.alive() or http("GET", url + "/-/ready", timeout=1)[0] == 200, 60, "Prometheus ready")
        self.assertTrue(p.alive(), "prometheus exited: " + p.output())
        return url

    def start_node_exporter(self):
        """Debian's node_exporter, with a textfile of our own (label escapes it encodes itself) and
        no systemd collector (it would go to the system's D-Bus)."""
        textfiles = self.path("textfile")
        os.makedirs(textfiles)
        with open(os.path.join(textfiles, "vigil.prom"), "w") as f:
            f.write("# HELP vigil_test_info Escapes written by node_exporter.\n# TYPE vigil_test_info gauge\n"
                    'vigil_test_info{path="C:\\\\dir\\\\x",quote="say \\"hi\\"",nl="a\\nb",utf="café €"} 1\n')
        port = free_port()
        p = self.start("node-exporter", [NODE_EXPORTER, f"--web.listen-address=127.0.0.1:{port}",
                                         f"--collector.textfile.directory={textfiles}", "--no-collector.systemd"])
        url = f"http://127.0.0.1:{port}/metrics"
        wait_for(lambda: not p.alive() or http("GET", url, timeout=5)[0] == 200, 30, "node_exporter /metrics")
        self.assertTrue(p.alive(), "node_exporter exited: " + p.output())
        return url

    def query(self, url, promql):
        status, body, _ = http("GET", f"{url}/api/v1/query?query={urllib.parse.quote(promql)}")
        self.assertEqual(status, 200, body)
        return json.loads(body)["data"]["result"]

    def scraped(self, url, job):
        """Once Prometheus has scraped the job's page: (samples it read, its series {(name, labels): value})."""
        try:
            wait_for(lambda: any(r["value"][1] == "1" for r in self.query(url, f'up{{job="{job}"}}')), 60,
                     f"a successful scrape of {job}")
        except AssertionError as e:
            targets = json.loads(http("GET", url + "/api/v1/targets")[1])["data"]["activeTargets"]
            raise AssertionError(f"{e}; Prometheus says: {[t.get('lastError') for t in targets]}")
        n = self.query(url, f'scrape_samples_scraped{{job="{job}"}}')
        series = {}
        for r in self.query(url, f'{{job="{job}"}}'):
            labels = dict(r["metric"])
            name = labels.pop("__name__")
            if name in SCRAPE_SERIES:
                continue
            labels.pop("job")
            labels.pop("instance")
            series[(name, tuple(sorted(labels.items())))] = r["value"][1]
        return int(n[0]["value"][1]), series

    def metadata(self, url, job):
        target = urllib.parse.quote('{job="%s"}' % job)
        status, body, _ = http("GET", f"{url}/api/v1/targets/metadata?match_target={target}")
        self.assertEqual(status, 200, body)
        return {m["metric"]: m["type"] for m in json.loads(body)["data"]}

    # --- the comparison --------------------------------------------------------------------
    def assert_conforms(self, page, url, job):
        rc, count, samples, error = self.vigil_parse(page)
        self.assertEqual(rc, 0, error)
        self.assertGreater(count, 0)
        self.assertEqual(count, reference_count(page))
        # Streaming in single bytes changes nothing.
        self.assertEqual(self.vigil_parse(page, chunk=1)[1:], (count, samples, None))

        rc, out = self.promtool(page)
        self.assertIn(rc, (0, 3), out)
        self.assertNotIn("error while linting", out)

        n, series = self.scraped(url, job)
        self.assertEqual(count, n, "samples: vigil vs Prometheus's scrape_samples_scraped")
        ours = {}
        for s in samples:
            self.assertFalse({"job", "instance"} & s["labels"].keys())
            # Prometheus drops a label whose value is empty: it is the same as no label.
            labels = {k: v for k, v in s["labels"].items() if v != ""}
            ours[(s["name"], tuple(sorted(labels.items())))] = s["value"]
        self.assertEqual(len(ours), count, "a series twice on one page")
        if any("timestamp_ms" in s for s in samples):
            # Prometheus keeps a sample with its own timestamp; its instant query still sees it.
            self.assertTrue(all(s["timestamp_ms"] > (time.time() - 240) * 1000 for s in samples if "timestamp_ms" in s))
        self.assertEqual(sorted(ours), sorted(series))
        for key, value in ours.items():
            self.assertTrue(same_value(value, series[key]), f"{key}: vigil {value}, Prometheus {series[key]}")

        types = self.metadata(url, job)
        by_family = {}
        for s in samples:
            by_family.setdefault(s["family"], set()).add(s["type"])
        checked = 0
        for family, t in types.items():
            if family in by_family:
                self.assertEqual(by_family[family], {"untyped" if t == "unknown" else t}, family)
                checked += 1
        self.assertGreater(checked, 0)
        return count, samples

    # --- the tests -------------------------------------------------------------------------
    def test_node_exporter_page_parses_as_prometheus_parses_it(self):
        page = http("GET", self.start_node_exporter())[1]
        self.pages.pages["/node"] = page
        url = self.start_prometheus({"node": "/node"})
        count, samples = self.assert_conforms(page, url, "node")
        info = [s for s in samples if s["name"] == "vigil_test_info"]
        self.assertEqual(info[0]["labels"], {"path": "C:\\dir\\x", "quote": 'say "hi"', "nl": "a\nb", "utf": "café €"})
        types = {s["type"] for s in samples}
        self.assertTrue({"counter", "gauge", "summary", "untyped"} <= types, types)

    def test_prometheus_own_page_parses_as_prometheus_parses_it(self):
        url = self.start_prometheus({"self": "/prometheus"})
        # Its page once it has run a few scrapes, so that every family has its samples.
        wait_for(lambda: b"prometheus_target_interval_length_seconds{" in http("GET", url + "/metrics")[1], 30,
                 "Prometheus's own scrape metrics")
        page = http("GET", url + "/metrics")[1]
        self.pages.pages["/prometheus"] = page
        count, samples = self.assert_conforms(page, url, "self")
        self.assertIn("histogram", {s["type"] for s in samples})
        self.assertIn("summary", {s["type"] for s in samples})

    def test_synthetic_page_with_escapes_parses_as_prometheus_parses_it(self):
        page = synthetic_page()
        self.pages.pages["/synthetic"] = page
        url = self.start_prometheus({"synthetic": "/synthetic"})
        count, samples = self.assert_conforms(page, url, "synthetic")
        paths = {s["labels"].get("path") for s in samples if s["family"] == "vigil_rpc_seconds"}
        self.assertEqual(paths, {"/plain", "C:\\dir\\file", 'say "hi"', "two\nlines", "café €", "{braces},=", ""})
        self.assertEqual({s["type"] for s in samples if s["family"] == "vigil_rpc_seconds"}, {"histogram"})
        self.assertEqual(len([s for s in samples if s["name"] == "vigil_rpc_seconds_bucket"]), 7 * 6)

    def test_broken_and_unusual_lines_agree_with_promtool(self):
        cases = [
            # accepted by both
            'x{a="b",} 1', 'x{ a = "b" } 1', 'x{a="b"}1', "x Infinity", "x -inf", "x nan", "x 1 -5", "x .5e-3",
            '# TYPE x counter\nx_total 1', "\n\n# just a comment\nx 1\n\n",
            # rejected by both, on the line given
            'x{a="b" 1', 'x{a="\\t"} 1', "ok 1\nx", 'x{1a="b"} 1', "x 1a", 'x{a="b",a="c"} 1', "x 1 1.5",
            "x 1e400", "x +nan", "x 0x10", 'x{a="\xff"} 1', "# TYPE x foo", "ok 1\nok 2\nx{a=b} 1", "x 1 2 3",
            "x 1_000",
        ]
        for text in cases:
            with self.subTest(text=text):
                page = (text + "\n").encode("latin-1")
                rc, out = self.promtool(page)
                ours, _, _, error = self.vigil_parse(page)
                if rc in (0, 3):
                    self.assertEqual(ours, 0, f"promtool accepts, vigil says {error}")
                else:
                    self.assertEqual(rc, 1, out)
                    self.assertEqual(ours, 1, f"promtool rejects ({out.strip()}), vigil accepts")
                    line = re.search(r"in line (\d+)", out).group(1)
                    self.assertTrue(error.startswith(f"line {line}: "), f"vigil: {error}; promtool: {out.strip()}")


if __name__ == "__main__":
    unittest.main()
