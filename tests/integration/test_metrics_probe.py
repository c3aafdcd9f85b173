# SPDX-License-Identifier: MIT
"""vigil-agent's metrics probe against test worker endpoints (alluxio_metrics.py) and a real collector:
the rates, per-node hit rates and filtered UFS error rates the agent derives equal the expected values
exactly, a counter reset counts the new value, a missing metric is named (never read as 0), and a dead,
failing or garbled endpoint is CRIT.

Exactness without timing luck: the endpoint advances its counters by a known step at every scrape,
so every pair of successive scrapes differs by exactly that step; ratios (hit rate) are compared
exactly, per-second rates against step / interval_s with the interval the agent reports. Each page
is padded to PAGE_BASE + its number, so the page_bytes of a report tells which pair of pages it came
from: the test waits for the first report made from pages served after a change.
"""
import json
import os
import signal
import sys
import unittest

from vigiltest import VigilTestCase, binary, free_port, http, wait_for

HERE = os.path.dirname(os.path.abspath(__file__))
PAGE_BASE = 16384

REQ = "alluxio_data_access_bytes_count"
CACHED = "alluxio_cached_data_read_bytes_total"
UFS = "alluxio_ufs_data_access_bytes_total"
ERR = "alluxio_ufs_error"


def series(name, step=None, value=0, **labels):
    e = {"name": name, "labels": labels, "value": value}
    if step is not None:
        e["step"] = step
    return e


class MetricsProbeTest(VigilTestCase):
    def setUp(self):
        super().setUp()
        self.collector = self.start_collector()

    # --- helpers -------------------------------------------------------------------------
    def start_endpoint(self, name="endpoint"):
        port = free_port()
        p = self.start(name, [sys.executable, os.path.join(HERE, "alluxio_metrics.py"), "--port", str(port)])
        p.url = f"http://127.0.0.1:{port}"
        wait_for(lambda: http("GET", p.url + "/control", timeout=1)[0] == 200 or not p.alive(), 10,
                 f"{name} serving")
        self.assertTrue(p.alive(), p.output())
        return p

    def control(self, ep, **cmd):
        status, body, _ = http("POST", ep.url + "/control", json.dumps(cmd).encode(),
                               {"Content-Type": "application/json"})
        self.assertEqual(status, 200, body)
        return json.loads(body)

    def worker_counters(self, ep, requests, cached, ufs_read, ufs_write=0, errors=()):
        """Sets every counter to a large start value and the step it advances by at each scrape."""
        entries = [series(REQ, requests[0], 1_000_000, method="read"),
                   series(REQ, requests[1], 250_000, method="write"),
                   series(CACHED, cached, 7_000_000_000),
                   series(UFS, ufs_read, 900_000_000, method="read"),
                   series(UFS, ufs_write, 50_000_000, method="write")]
        entries += [series(ERR, step, 1000, ufs=ufs, error_code=code) for ufs, code, step in errors]
        return self.control(ep, set=entries, step=entries)

    def start_agent(self, node, section="", *args):
        conf = self.path(f"{node}.ini")
        with open(conf, "w") as f:
            f.write(section)
        argv = [binary("vigil-agent"), "--config", conf, "--collector", self.collector.url, "--node", node,
                "--interval", "1s", "--csi-discover", "", "--pods-log-dir", "", "--state-dir",
                self.path(f"state-{node}"), *args]
        return self.start(f"agent-{node}", argv)

    def node(self, node):
        status, body, _ = http("GET", f"{self.collector.url}/v1/nodes/{node}")
        return json.loads(body) if status == 200 else None

    def checks(self, node, target="worker"):
        doc = self.node(node)
        if not doc:
            return None
        return {c["name"]: c for c in doc.get("checks", []) if c["target"] == target}

    def report(self, node, after_page=0, target="worker", rates=True):
        """Waits for a report of node whose rates come from pages served after page after_page (a
        report with rates when rates is set); returns its checks by name."""
        def ready():
            c = self.checks(node, target)
            if not c or "metrics.scrape" not in c or "metrics" not in c["metrics.scrape"]:
                return None
            m = c["metrics.scrape"]["metrics"]
            if m["page_bytes"] - PAGE_BASE <= after_page or (rates and m["interval_s"] == 0):
                return None
            return c
        return wait_for(ready, 30, f"a metrics report of {node} after page {after_page}")

    def assert_status(self, check, status, words=None):
        self.assertEqual(check["status"], status, check)
        if words:
            self.assertIn(words, check["message"])

    # --- tests -----------------------------------------------------------------------------
    def test_rates_hit_rate_per_node_and_filtered_errors_are_exact(self):
        a = self.start_endpoint("endpoint-a")
        b = self.start_endpoint("endpoint-b")
        # Node a: 40 requests, 3000 bytes from the cache and 1000 from the UFS per scrape (hit rate
        # 0.75); S3 404s (expected), S3 403s and HDFS 404s (not expected here) at 4, 2 and 1.
        self.worker_counters(a, (30, 10), 3000, 1000, 500,
                             errors=[("s3://bucket/data", "404", 4), ("s3://bucket/data", "403", 2),
                                     ("hdfs://namenode:8020/warehouse", "404", 1)])
        # Node b: 7 requests, 1000 bytes from the cache and 3000 from the UFS (hit rate 0.25).
        self.worker_counters(b, (7, 0), 1000, 3000)
        self.start_agent("node-a", f"[metrics worker]\nurl = {a.url}/metrics\nscrape_timeout = 400ms\n"
                                   "expected_errors = s3:404 hdfs:\nhit_rate_min_read = 0\n"
                                   "ufs_errors_warn = 0.01\nufs_errors_crit = 0.5\n")
        # Node b: the URL from the flag, the rest from its section.
        self.start_agent("node-b", "[metrics worker]\nscrape_timeout = 400ms\nhit_rate_min_read = 0\n",
                         "--metrics", f"worker={b.url}/metrics")

        ca = self.report("node-a")
        m = ca["metrics.scrape"]["metrics"]
        dt = m["interval_s"]
        self.assertGreater(dt, 0)
        self.assertEqual(m["role"], "worker")
        self.assertEqual(m["requests_per_s"], 40 / dt)
        self.assertEqual(m["cached_read_bytes_per_s"], 3000 / dt)
        self.assertEqual(m["ufs_read_bytes_per_s"], 1000 / dt)
        self.assertEqual(m["ufs_write_bytes_per_s"], 500 / dt)
        self.assertEqual(m["hit_rate"], 0.75)
        self.assertEqual(m["missing"], [])
        self.assertEqual(m["fuse_ops_per_s"], {})
        self.assertEqual(sorted((e["ufs"], e["error_code"], e["per_s"], e["expected"]) for e in m["ufs_errors"]),
                         sorted([("s3://bucket/data", "404", 4 / dt, True),
                                 ("s3://bucket/data", "403", 2 / dt, False),
                                 ("hdfs://namenode:8020/warehouse", "404", 1 / dt, False)]))
        self.assert_status(ca["metrics.scrape"], "OK")
        self.assertEqual(ca["metrics.scrape"]["details"]["url"], f"{a.url}/metrics")
        self.assert_status(ca["metrics.hit_rate"], "OK", "hit rate 75.0 %")
        self.assertEqual(ca["metrics.hit_rate"]["details"]["hit_rate"], 0.75)
        # 3 unexpected errors per scrape, about one scrape a second: above the 0.5/s of CRIT.
        err = ca["metrics.ufs_errors"]
        self.assert_status(err, "CRIT", "unexpected UFS errors")
        self.assertEqual(err["error_code"], "UFS_ERRORS")
        self.assertEqual(err["details"]["unexpected_per_s"], 3 / dt)
        self.assertEqual(err["details"]["expected_per_s"], 4 / dt)
        self.assertIn("s3://bucket/data 403", err["message"])
        self.assertIn("hdfs://namenode:8020/warehouse 404", err["message"])
        self.assert_status(ca["metrics.rps"], "OK", "requests/s")
        self.assertEqual(ca["metrics.rps"]["details"]["requests_per_s"], 40 / dt)

        cb = self.report("node-b")
        m = cb["metrics.scrape"]["metrics"]
        dt = m["interval_s"]
        self.assertEqual(m["requests_per_s"], 7 / dt)
        self.assertEqual(m["hit_rate"], 0.25)
        self.assertEqual(m["ufs_errors"], [])
        self.assert_status(cb["metrics.hit_rate"], "WARN", "hit rate 25.0 % below 50.0 %")
        self.assertEqual(cb["metrics.hit_rate"]["error_code"], "LOW_HIT_RATE")
        # No error counter on b's page: said so, and not a fault.
        self.assert_status(cb["metrics.ufs_errors"], "OK", "alluxio_ufs_error is not on the page")
        self.assertEqual(self.node("node-b")["status"], "WARN")

        # The capacity warning: requests rise sixfold on node a.
        n0 = self.control(a, step=[series(REQ, 180, method="read"), series(REQ, 60, method="write")])["scrapes"]
        ca = self.report("node-a", after_page=n0)
        m = ca["metrics.scrape"]["metrics"]
        self.assertEqual(m["requests_per_s"], 240 / m["interval_s"])
        rps = ca["metrics.rps"]
        self.assert_status(rps, "WARN", "requests rose ")
        self.assertIn("capacity may run short", rps["message"])
        self.assertEqual(rps["error_code"], "RPS_RISING")
        self.assertEqual(rps["details"]["requests_per_s"], 240 / m["interval_s"])

    def test_cluster_hit_rate_is_the_operators_formula_end_to_end(self):
        """Two agents scrape two workers; the collector's cluster hit rate (/v1/metrics, /metrics,
        vigilctl status) is sum(cached) / (sum(cached) + sum(UFS)) of their rates, not the mean of
        the nodes' ratios."""
        a = self.start_endpoint("endpoint-a")
        b = self.start_endpoint("endpoint-b")
        self.worker_counters(a, (30, 10), 3000, 1000)  # 0.75
        self.worker_counters(b, (5, 0), 1000, 9000)  # 0.1
        for node, ep in (("node-a", a), ("node-b", b)):
            self.start_agent(node, "[metrics worker]\nscrape_timeout = 400ms\nhit_rate_min_read = 0\n",
                             "--metrics", f"worker={ep.url}/metrics")
        self.report("node-a")
        self.report("node-b")

        def consistent():
            # The nodes' latest rates, the cluster figure, and the nodes again unchanged.
            before = [self.report(n)["metrics.scrape"]["metrics"] for n in ("node-a", "node-b")]
            status, body, _ = http("GET", self.collector.url + "/v1/metrics")
            status2, text, _ = http("GET", self.collector.url + "/metrics")
            after = [self.report(n)["metrics.scrape"]["metrics"] for n in ("node-a", "node-b")]
            if status != 200 or status2 != 200 or before != after:
                return None
            return before, json.loads(body)["current"], text.decode()

        (ma, mb), current, exposition = wait_for(consistent, 30, "a consistent view")
        cached = ma["cached_read_bytes_per_s"] + mb["cached_read_bytes_per_s"]
        ufs = ma["ufs_read_bytes_per_s"] + mb["ufs_read_bytes_per_s"]
        expected = cached / (cached + ufs)
        self.assertAlmostEqual(current["hit_rate"], expected, places=12)
        self.assertNotAlmostEqual(current["hit_rate"], (ma["hit_rate"] + mb["hit_rate"]) / 2, places=3)
        line = [l for l in exposition.splitlines() if l.startswith("vigil_cluster_hit_ratio ")][0]
        self.assertAlmostEqual(float(line.split()[1]), expected, places=12)
        self.assertAlmostEqual(current["requests_per_s"], ma["requests_per_s"] + mb["requests_per_s"], places=9)

    def test_counter_reset_counts_the_new_value(self):
        ep = self.start_endpoint()
        self.worker_counters(ep, (0, 0), 0, 0)
        # A worker that restarts between every two scrapes: its counters go 2000, 1000, 2000, ...
        # Every other interval is a reset (the rate is the new value, 1000) and the others an
        # increase of 1000: both must give 1000 / interval_s, never a negative rate.
        n0 = self.control(ep, cycle=[series(REQ, method="read") | {"values": [2000, 1000]},
                                     series(CACHED) | {"values": [60000, 30000]},
                                     series(UFS, method="read") | {"values": [20000, 10000]}])["scrapes"]
        self.start_agent("node-a", "[metrics worker]\nscrape_timeout = 400ms\nhit_rate_min_read = 0\n",
                         "--metrics", f"worker={ep.url}/metrics")
        seen = {}
        page = n0 + 1
        for _ in range(20):
            if len(seen) == 2:
                break
            c = self.report("node-a", after_page=page)
            m = c["metrics.scrape"]["metrics"]
            page = m["page_bytes"] - PAGE_BASE
            # Page n0 + 1 served the first value (2000): pages at odd offsets from it are resets.
            kind = "reset" if (page - n0 - 1) % 2 == 1 else "increase"
            dt = m["interval_s"]
            self.assertEqual(m["requests_per_s"], 1000 / dt, (kind, m))
            self.assertEqual(m["cached_read_bytes_per_s"], 30000 / dt, (kind, m))
            self.assertEqual(m["ufs_read_bytes_per_s"], 10000 / dt, (kind, m))
            self.assertEqual(m["hit_rate"], 0.75, (kind, m))
            seen[kind] = page
        self.assertEqual(sorted(seen), ["increase", "reset"])
        self.assertEqual(self.checks("node-a")["metrics.rps"]["status"], "OK")

    def test_missing_metric_is_named_not_read_as_zero(self):
        ep = self.start_endpoint()
        self.worker_counters(ep, (5, 5), 4000, 1000, errors=[("s3://bucket", "404", 1)])
        self.start_agent("node-a", "[metrics worker]\nscrape_timeout = 400ms\nhit_rate_min_read = 0\n",
                         "--metrics", f"worker={ep.url}/metrics")
        c = self.report("node-a")
        self.assertEqual(c["metrics.scrape"]["metrics"]["hit_rate"], 0.8)

        n0 = self.control(ep, drop=[CACHED])["scrapes"]
        c = self.report("node-a", after_page=n0)
        m = c["metrics.scrape"]["metrics"]
        self.assertEqual(m["missing"], [CACHED])
        self.assertNotIn("hit_rate", m)
        self.assertEqual(m["cached_read_bytes_per_s"], 0)
        self.assert_status(c["metrics.scrape"], "OK", f"not on the page: {CACHED}")
        hit = c["metrics.hit_rate"]
        self.assert_status(hit, "UNKNOWN", f"no hit rate: {CACHED} not on the page")
        self.assertEqual(hit["error_code"], "MISSING_METRIC")
        # The rest goes on.
        self.assertEqual(m["requests_per_s"], 10 / m["interval_s"])
        self.assert_status(c["metrics.rps"], "OK")

        # Back on the page: compared with the last page that had it (4000 bytes a scrape all along),
        # not counted from 0 (7 GB in one interval).
        n1 = self.control(ep, restore=[CACHED])["scrapes"]
        c = self.report("node-a", after_page=n1)
        m = c["metrics.scrape"]["metrics"]
        self.assertEqual(m["missing"], [])
        self.assertLess(m["cached_read_bytes_per_s"], 4000 * 10)
        self.assertGreater(m["hit_rate"], 0.5)
        self.assertLess(m["hit_rate"], 0.95)
        self.assert_status(c["metrics.hit_rate"], "OK")

    def test_a_page_over_max_page_is_crit_and_not_buffered(self):
        ep = self.start_endpoint()
        self.worker_counters(ep, (5, 5), 4000, 1000)
        # the stand-in's pages are over 16 KiB
        agent = self.start_agent("node-a", "[metrics worker]\nmax_page = 8K\nscrape_timeout = 400ms\n",
                                 "--metrics", f"worker={ep.url}/metrics")
        url = f"{ep.url}/metrics"
        c = wait_for(lambda: (self.checks("node-a") or {}).get("metrics.scrape"), 30, "metrics.scrape")
        self.assert_status(c, "CRIT", f"page of {url} is larger than max_page (8.0 KiB)")
        self.assertEqual(c["error_code"], "PAGE_TOO_BIG")
        self.assertTrue(agent.alive())

    def test_failing_garbled_and_dead_endpoints_are_crit(self):
        ep = self.start_endpoint()
        self.worker_counters(ep, (5, 5), 4000, 1000)
        agent = self.start_agent("node-a", "[metrics worker]\nscrape_timeout = 400ms\n", "--metrics",
                                 f"worker={ep.url}/metrics")
        self.report("node-a")
        url = f"{ep.url}/metrics"

        def scrape_status(status, words):
            def ok():
                c = self.checks("node-a")
                return c and c["metrics.scrape"]["status"] == status and words in c["metrics.scrape"]["message"] \
                    and c
            return wait_for(ok, 30, f"metrics.scrape {status} '{words}'")

        self.control(ep, status=503)
        c = scrape_status("CRIT", f"HTTP 503 from {url}")
        self.assertEqual(c["metrics.scrape"]["error_code"], "HTTP_503")
        self.assertNotIn("metrics", c["metrics.scrape"])
        for name in ("metrics.rps", "metrics.hit_rate", "metrics.ufs_errors"):
            self.assert_status(c[name], "UNKNOWN", "no data: the scrape failed")

        self.control(ep, status=200, corrupt=True)
        c = scrape_status("CRIT", f"not a Prometheus text page at {url}: line ")
        self.assertEqual(c["metrics.scrape"]["error_code"], "PARSE_ERROR")

        self.control(ep, corrupt=False)
        scrape_status("OK", "samples")

        # frozen: the connection is accepted by the kernel, and nothing answers
        ep.kill(signal.SIGSTOP)
        self.addCleanup(ep.kill, signal.SIGCONT)
        c = scrape_status("CRIT", f"endpoint unreachable: no answer from {url} within 400")
        self.assertEqual(c["metrics.scrape"]["error_code"], "ETIMEDOUT")
        self.assertTrue(agent.alive())
        ep.kill(signal.SIGCONT)
        scrape_status("OK", "samples")

        ep.stop(signal.SIGKILL)
        c = scrape_status("CRIT", f"endpoint unreachable: nothing listening at {url}")
        self.assertEqual(c["metrics.scrape"]["error_code"], "ECONNREFUSED")
        self.assertEqual(self.node("node-a")["status"], "CRIT")
        self.assertTrue(agent.alive())


if __name__ == "__main__":
    unittest.main()
