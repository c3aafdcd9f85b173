# SPDX-License-Identifier: MIT
"""The collector's metrics end to end: reports with MetricsDetails posted by post-report, the cluster
figures (exact hit-rate formula), the history (day- and week-over-week on points written with old
timestamps, retention), GET /v1/metrics, `vigilctl metrics` and the status line, GET /metrics as text,
and a real Prometheus scraping it."""
import json
import os
import re
import signal
import sqlite3
import subprocess
import time
import unittest
import urllib.parse

from vigiltest import VigilTestCase, binary, documented_metrics, free_port, http, wait_for

MINUTE_MS = 60_000
HOUR_MS = 60 * MINUTE_MS
DAY_MS = 24 * HOUR_MS
SERIES = ("requests_per_s", "fuse_ops_per_s", "fuse_concurrency", "cached_read_bytes_per_s",
          "ufs_read_bytes_per_s", "ufs_write_bytes_per_s", "ufs_errors_per_s")

ETCD_FAMILIES = ("vigil_etcd_members_ready", "vigil_etcd_members_expected", "vigil_etcd_quorum",
                 "vigil_etcd_outage_seconds")
# The exposition contract, as docs/metrics.md documents it (name -> label names of its samples), but
# etcd's: the collectors of these tests check no etcd.
CONTRACT = {name: labels for name, labels in documented_metrics().items() if name not in ETCD_FAMILIES}

# A sample line of the text format 0.0.4: name, optional labels with escaped values, a float.
LABEL = r'[a-zA-Z_][a-zA-Z0-9_]*="(?:[^"\\\n]|\\[\\"n])*"'
SAMPLE = re.compile(r'^([a-zA-Z_:][a-zA-Z0-9_:]*)(\{' + LABEL + r'(?:,' + LABEL + r')*\})? '
                    r'(-?[0-9.]+(?:e[-+]?[0-9]+)?|NaN|[-+]Inf)$')
COMMENT = re.compile(r'^# (HELP|TYPE) ([a-zA-Z_:][a-zA-Z0-9_:]*) (.+)$')


def worker(requests, cached, ufs_read, *extra):
    """A --metrics-detail of a worker endpoint."""
    return ",".join([f"worker:requests={requests}", f"cached={cached}", f"ufs_read={ufs_read}", *extra])


class CollectorMetricsTest(VigilTestCase):
    def post(self, collector, node, *endpoints, token=None, interval_ms=60000):
        """Posts a report of node with one metrics.scrape check per --metrics-detail spec in endpoints;
        without --stale-after, the collector takes the node for stale after 3 × interval_ms."""
        argv = [binary("post-report"), "--collector", collector.url, "--node", node, "--interval-ms", str(interval_ms),
                "--check", "fuse.mount:/mnt/alluxio:OK:mounted"]
        for i, spec in enumerate(endpoints):
            argv += ["--check", f"metrics.scrape:http://127.0.0.1:{30000 + i}/metrics:OK:scraped",
                     "--metrics-detail", spec]
        if token:
            argv += ["--token", token]
        r = subprocess.run(argv, capture_output=True, text=True, timeout=30)
        self.assertEqual(r.returncode, 0, r.stdout + r.stderr)
        self.assertTrue(r.stdout.startswith("200 "), r.stdout)

    def get(self, collector, path, token=None):
        headers = {"Authorization": f"Bearer {token}"} if token else {}
        status, body, h = http("GET", collector.url + path, headers=headers)
        self.assertEqual(status, 200, body)
        return body, h

    def metrics(self, collector, query=""):
        return json.loads(self.get(collector, "/v1/metrics" + query)[0])

    # --- current figures -----------------------------------------------------------------------
    def test_cluster_hit_rate_is_the_ratio_of_the_sums(self):
        c = self.start_collector(extra=["--stale-after", "10m"])
        self.post(c, "node-a", worker(1000, 7e8, 1e8, "ufs_write=5e6", "error.s3/503=2.5", "expected.s3/404=1"),
                  "fuse:op.read=250,op.getattr=50,concurrency=12,missing=alluxio_fuse_result")
        self.post(c, "node-b", worker(250, 1e8, 3e8, "error.s3/503=0.5", "error.s3/500=1"))

        cur = self.metrics(c)["current"]
        self.assertEqual((cur["nodes"], cur["endpoints"]), (2, 3))
        self.assertEqual(cur["requests_per_s"], 1250)
        # (7e8 + 1e8) / (7e8 + 1e8 + 1e8 + 3e8): not the mean of 87.5 % and 25 %.
        self.assertEqual(cur["hit_rate"], 8e8 / 12e8)
        self.assertNotAlmostEqual(cur["hit_rate"], (0.875 + 0.25) / 2)
        self.assertEqual((cur["fuse_ops_per_s"], cur["fuse_concurrency"]), (300, 12))
        self.assertEqual(cur["fuse_ops"], [{"operation": "getattr", "per_s": 50}, {"operation": "read", "per_s": 250}])
        self.assertEqual(cur["ufs_errors_per_s"], 4)  # the expected 404s are listed, not counted
        self.assertEqual(cur["ufs_errors"][0], {"ufs": "s3", "error_code": "503", "per_s": 3, "expected": False})
        self.assertIn({"ufs": "s3", "error_code": "404", "per_s": 1, "expected": True}, cur["ufs_errors"])
        self.assertEqual(cur["missing"], ["alluxio_fuse_result"])
        self.assertEqual(self.metrics(c, "?node=node-b")["current"]["hit_rate"], 0.25)

        # The same figures in /v1/cluster and on the status screen.
        _, _, data = self.vigilctl(c.url, "status", "--json")
        self.assertEqual(data["metrics"]["current"], cur)
        rc, out, _ = self.vigilctl(c.url, "status")
        self.assertEqual(rc, 0, out)
        self.assertIn("\nmetrics: 1250 req/s, hit rate 66.7 %, UFS 400 MB/s read, 5 MB/s write, "
                      "4 errors/s (s3 503, s3 500)\n", out)

        rc, out, _ = self.vigilctl(c.url, "metrics", "--node", "node-a")
        self.assertEqual(rc, 0, out)
        self.assertIn("node node-a: 2 metrics endpoints\n", out)
        self.assertRegex(out, r"(?m)^requests +1000/s +- +- +- +- +-$")
        self.assertRegex(out, r"(?m)^  s3 404 \(expected\) +1/s$")
        self.assertRegex(out, r"(?m)^hit rate +87\.5 % ")
        self.assertIn("not on the metrics pages (their rates read 0): alluxio_fuse_result\n", out)

        rc, out, _ = self.vigilctl(c.url, "metrics", "--node", "node-x")
        self.assertEqual((rc, out), (3, "vigilctl: no such node: node-x\n"))
        self.assertEqual(http("GET", c.url + "/v1/metrics?node=node-x")[0], 404)
        self.assertEqual(http("POST", c.url + "/v1/metrics", body=b"")[0], 405)
        rc, out, _ = self.vigilctl(c.url, "status", "--node", "node-a")
        self.assertEqual(rc, 3)
        self.assertIn("vigilctl: status: --node applies to events, logs and metrics only", out)
        rc, out, _ = self.vigilctl(c.url, "metrics", "--since", "1h")
        self.assertEqual(rc, 3)
        self.assertIn("vigilctl: metrics: --since applies to events and logs only", out)

    # --- history ---------------------------------------------------------------------------------
    def history_db(self):
        """A database of the current schema, made by a collector that is then stopped."""
        db = self.path("history.db")
        c = self.start_collector(db=db, name="collector-init")
        self.assertEqual(c.stop(), 0, c.output())
        return db

    def put_points(self, db, node, from_ms, to_ms, values):
        """One point per minute in [from_ms, to_ms) of node, with values (series name -> rate)."""
        row = [values.get(s, 0) for s in SERIES]
        first = from_ms // MINUTE_MS * MINUTE_MS
        with sqlite3.connect(db) as conn:
            conn.executemany(
                f"INSERT OR REPLACE INTO metric_points (node, minute_ms, {', '.join(SERIES)}) "
                f"VALUES (?, ?, {', '.join('?' * len(SERIES))})",
                [(node, t, *row) for t in range(first, to_ms, MINUTE_MS)])
        conn.close()

    def put_label_points(self, db, node, series, from_ms, to_ms, keys):
        """Labelled points of a breakdown (0: FUSE operations, 1: UFS errors) per minute in
        [from_ms, to_ms) of node, with keys (key -> rate)."""
        first = from_ms // MINUTE_MS * MINUTE_MS
        with sqlite3.connect(db) as conn:
            conn.executemany(
                "INSERT OR REPLACE INTO metric_label_points (node, series, minute_ms, key, value) "
                "VALUES (?, ?, ?, ?, ?)",
                [(node, series, t, k, v) for t in range(first, to_ms, MINUTE_MS) for k, v in keys.items()])
        conn.close()

    def count_points(self, db, where="1", table="metric_points"):
        conn = sqlite3.connect(f"file:{db}?mode=ro", uri=True)
        try:
            return conn.execute(f"SELECT count(*) FROM {table} WHERE {where}").fetchone()[0]
        finally:
            conn.close()

    def test_day_and_week_over_week_on_old_points(self):
        db = self.history_db()
        now = int(time.time() * 1000)
        # This hour as the agent reports it now (60 % hits, 2 errors/s), the same hour yesterday
        # (90 % hits, no errors, more requests) and last week (64 % hits). Two minutes of margin on
        # each side keep every window full while the test runs.
        hour = {"requests_per_s": 1000, "cached_read_bytes_per_s": 6e8, "ufs_read_bytes_per_s": 4e8,
                "ufs_errors_per_s": 2, "fuse_ops_per_s": 300, "fuse_concurrency": 8}
        day = {"requests_per_s": 1250, "cached_read_bytes_per_s": 9e8, "ufs_read_bytes_per_s": 1e8,
               "fuse_ops_per_s": 300, "fuse_concurrency": 8}
        week = {"requests_per_s": 1000, "cached_read_bytes_per_s": 6.4e8, "ufs_read_bytes_per_s": 3.6e8,
                "fuse_ops_per_s": 300, "fuse_concurrency": 8}
        for node in ("(cluster)", "node-a"):
            self.put_points(db, node, now - HOUR_MS - 2 * MINUTE_MS, now + 5 * MINUTE_MS, hour)
            for back, values in ((DAY_MS, day), (7 * DAY_MS, week)):
                self.put_points(db, node, now - back - HOUR_MS - 2 * MINUTE_MS, now - back + 5 * MINUTE_MS, values)
            # The breakdowns: reads tripled since yesterday, the 503s new, the 500s of yesterday gone.
            for back, ops, errors in ((0, {"read": 300}, {"503": 2}), (DAY_MS, {"read": 100}, {"500": 1}),
                                      (7 * DAY_MS, {"read": 300}, {})):
                self.put_label_points(db, node, 0, now - back - HOUR_MS - 2 * MINUTE_MS,
                                      now - back + 5 * MINUTE_MS, ops)
                self.put_label_points(db, node, 1, now - back - HOUR_MS - 2 * MINUTE_MS,
                                      now - back + 5 * MINUTE_MS, errors)
        c = self.start_collector(db=db, extra=["--stale-after", "10m"])
        self.post(c, "node-a", worker(1000, 6e8, 4e8, "error.s3/503=2"), "fuse:op.read=300,concurrency=8")

        for query in ("", "?node=node-a"):
            m = self.metrics(c, query)
            self.assertEqual({k: w["points"] for k, w in m["windows"].items()},
                             {"hour": 60, "day_ago": 60, "week_ago": 60}, query)
            self.assertEqual(m["windows"]["hour"]["to_ms"] - m["windows"]["hour"]["from_ms"], HOUR_MS)
            cmp = m["comparisons"]
            req = cmp["requests_per_s"]
            self.assertEqual((req["hour"], req["day_ago"], req["week_ago"]), (1000, 1250, 1000))
            self.assertAlmostEqual(req["day"]["change"], -0.2)
            self.assertFalse(req["day"]["significant"])  # under the default 25 %
            self.assertEqual(req["week"], {"change": 0, "significant": False})
            hit = cmp["hit_rate"]
            self.assertEqual((hit["hour"], hit["day_ago"], hit["week_ago"]), (0.6, 0.9, 0.64))
            self.assertAlmostEqual(hit["day"]["change_pts"], -30)
            self.assertTrue(hit["day"]["significant"])  # four times the reads from the UFS
            self.assertAlmostEqual(hit["week"]["change_pts"], -4)
            self.assertFalse(hit["week"]["significant"])  # 40 % instead of 36 % from the UFS: +11 %
            err = cmp["ufs_errors_per_s"]
            self.assertEqual(err["day"], {"change": None, "significant": True})  # out of nothing
            self.assertEqual(m["settings"]["change"], 0.25)
            ops = m["breakdowns"]["fuse_ops"]
            self.assertEqual([o["key"] for o in ops], ["read"], query)
            self.assertEqual((ops[0]["now"], ops[0]["hour"], ops[0]["day_ago"], ops[0]["week_ago"]),
                             (300, 300, 100, 300))
            self.assertEqual(ops[0]["day"], {"change": 2, "significant": True})
            self.assertEqual(ops[0]["week"], {"change": 0, "significant": False})
            errors = {e["key"]: e for e in m["breakdowns"]["ufs_errors"]}
            self.assertEqual(list(errors), ["500", "503"], query)
            self.assertEqual((errors["500"]["now"], errors["500"]["hour"], errors["500"]["day_ago"]), (0, 0, 1))
            self.assertEqual(errors["500"]["day"], {"change": -1, "significant": True})
            self.assertEqual(errors["503"]["day"], {"change": None, "significant": True})

        # The status line compares the hit rate with the cluster's history (recorded by the
        # writer once a minute, the first time right after start).
        line = ("metrics: 1000 req/s, hit rate 60.0 % (day -30.0 pts*, week -4.0 pts), UFS 400 MB/s read, "
                "2 errors/s (s3 503)")
        wait_for(lambda: line + "\n" in self.vigilctl(c.url, "status")[1], 10, "the status line with changes")

        rc, out, _ = self.vigilctl(c.url, "metrics")
        self.assertEqual(rc, 0, out)
        self.assertIn("cluster: 1 node, 2 metrics endpoints\n"
                      "history: last hour 60 points, a day ago 60, a week ago 60 (one point a minute)\n", out)
        self.assertRegex(out, r"(?m)^SERIES +NOW +LAST HOUR +DAY AGO +WEEK AGO +DAY CHANGE +WEEK CHANGE$")
        self.assertRegex(out, r"(?m)^requests +1000/s +1000/s +1250/s +1000/s +-20\.0 % +\+0\.0 %$")
        self.assertRegex(out, r"(?m)^UFS errors +2/s +2/s +0/s +0/s +new \* +new \*$")
        self.assertRegex(out, r"(?m)^  read +300/s +300/s +100/s +300/s +\+200\.0 % \* +\+0\.0 %$")
        self.assertRegex(out, r"(?m)^  500 +0/s +0/s +1/s +0/s +-100\.0 % \* +\+0\.0 %$")
        self.assertRegex(out, r"(?m)^  503 +2/s +2/s +0/s +0/s +new \* +new \*$")
        self.assertRegex(out, r"(?m)^hit rate +60\.0 % +60\.0 % +90\.0 % +64\.0 % +-30\.0 pts \* +-4\.0 pts$")
        self.assertIn("* significant: a change of 25 % or more", out)
        # A stricter threshold and a volume floor change what is significant.
        c.stop()
        c2 = self.start_collector(db=db, name="collector2",
                                  extra=["--stale-after", "10m", "--metrics-change", "15%",
                                         "--metrics-min-volume", "ufs_errors=5"])
        self.post(c2, "node-a", worker(1000, 6e8, 4e8, "error.s3/503=2"), "fuse:op.read=300,concurrency=8")
        cmp = self.metrics(c2)["comparisons"]
        self.assertTrue(cmp["requests_per_s"]["day"]["significant"])
        self.assertFalse(cmp["ufs_errors_per_s"]["day"]["significant"])
        _, _, data = self.vigilctl(c2.url, "metrics", "--json")
        self.assertEqual(data["settings"]["min_volume"]["ufs_errors"], 5)
        self.assertEqual(data["settings"]["min_volume"]["requests"], 1)

    def test_points_are_written_each_minute_and_old_ones_deleted(self):
        db = self.history_db()
        now = int(time.time() * 1000)
        self.put_points(db, "node-a", now - 9 * DAY_MS, now - 9 * DAY_MS + 10 * MINUTE_MS, {"requests_per_s": 1})
        self.put_points(db, "node-a", now - 2 * DAY_MS, now - 2 * DAY_MS + 10 * MINUTE_MS, {"requests_per_s": 1})
        self.put_label_points(db, "node-a", 0, now - 9 * DAY_MS, now - 9 * DAY_MS + 10 * MINUTE_MS, {"read": 1})
        self.put_label_points(db, "node-a", 1, now - 2 * DAY_MS, now - 2 * DAY_MS + 10 * MINUTE_MS, {"503": 1})
        recent = self.count_points(db, f"minute_ms >= {now - 8 * DAY_MS}")
        recent_labels = self.count_points(db, f"minute_ms >= {now - 8 * DAY_MS}", "metric_label_points")
        self.assertGreaterEqual(recent_labels, 10)
        c = self.start_collector(db=db, extra=["--stale-after", "10m"])
        # The retention (8 days by default) runs right after start, then every minute; the labelled
        # points of the breakdowns go with the points.
        wait_for(lambda: self.count_points(db, f"minute_ms < {now - 8 * DAY_MS}") == 0, 10,
                 "points older than 8 days deleted")
        wait_for(lambda: self.count_points(db, f"minute_ms < {now - 8 * DAY_MS}", "metric_label_points") == 0,
                 10, "labelled points older than 8 days deleted")
        self.assertEqual(self.count_points(db, f"minute_ms < {now - DAY_MS}"), recent)
        self.assertEqual(self.count_points(db, f"minute_ms < {now - DAY_MS}", "metric_label_points"), recent_labels)
        # A node's report becomes a point of its minute (and one of the cluster) within a minute.
        self.post(c, "node-b", worker(10, 1, 1))
        wait_for(lambda: self.count_points(db, "node = 'node-b'") >= 1, 70, "node-b's first point")
        wait_for(lambda: self.count_points(db, "node = '(cluster)'") >= 1, 5, "the cluster's point")
        self.assertEqual(c.stop(signal.SIGTERM), 0, c.output())

        c2 = self.start_collector(db=db, name="collector2", extra=["--metrics-retention", "1d"])
        wait_for(lambda: self.count_points(db, f"minute_ms < {now - DAY_MS}") == 0, 10,
                 "points older than a day deleted")
        c2.stop()
        for flag, value, key in (("--metrics-retention", "soon", "'metrics_retention'"),
                                 ("--metrics-change", "0", "'metrics_change'"),
                                 ("--metrics-min-volume", "bogus=1", "'metrics_min_volume'")):
            r = subprocess.run([binary("vigil-collector"), "--db", self.path("x.db"), flag, value],
                               capture_output=True, text=True, timeout=10)
            self.assertEqual(r.returncode, 2, flag)
            self.assertIn(key, r.stderr)
            self.assertEqual(len(r.stderr.strip().splitlines()), 1, r.stderr)

    # --- Prometheus ------------------------------------------------------------------------------
    def parse_exposition(self, text):
        """Checks every line and returns {name: [(labels dict, value)]} and {name: (help, type)}."""
        samples, meta = {}, {}
        for line in text.splitlines():
            m = COMMENT.match(line)
            if m:
                kind, name, rest = m.groups()
                self.assertNotIn(name, samples, f"{kind} of {name} after its samples")
                meta.setdefault(name, {})[kind] = rest
                continue
            m = SAMPLE.match(line)
            self.assertIsNotNone(m, f"malformed line: {line!r}")
            name, labels, value = m.groups()
            self.assertEqual(meta.get(name, {}).get("TYPE"), "gauge", f"{name} without TYPE gauge before it")
            self.assertIn("HELP", meta[name], f"{name} without HELP")
            pairs = re.findall(r'([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\]|\\.)*)"', labels or "")
            parsed = {k: re.sub(r"\\(.)", lambda e: "\n" if e.group(1) == "n" else e.group(1), v) for k, v in pairs}
            samples.setdefault(name, []).append((parsed, float(value)))
        self.assertTrue(text.endswith("\n"))
        return samples, meta

    def test_exposition_is_well_formed_and_follows_the_contract(self):
        token = self.path("token")
        with open(token, "w") as f:
            f.write("s3cret\n")
        c = self.start_collector(token_file=token)
        # node-a's agent announces a 2 s interval: it is stale 6 s after its report.
        self.post(c, "node-a", worker(1000, 7e8, 1e8, "error.s3/503=2.5", "expected.s3/404=1"), token="s3cret",
                  interval_ms=2000)
        self.post(c, 'we"ird\\node', worker(250, 1e8, 3e8, "error.s3/503=0.5", "error.s3/500=1"), token="s3cret")
        # Like the other read endpoints, /metrics needs the token when the collector has one.
        self.assertEqual(http("GET", c.url + "/metrics")[0], 401)
        body, headers = self.get(c, "/metrics", token="s3cret")
        self.assertEqual(headers["Content-Type"], "text/plain; version=0.0.4; charset=utf-8")
        text = body.decode()
        samples, meta = self.parse_exposition(text)
        self.assertEqual(set(meta), set(CONTRACT))  # every family, HELP and TYPE; etcd is not checked
        for name, labels in CONTRACT.items():
            for got, _ in samples.get(name, []):
                self.assertEqual(set(got), labels, name)
        one = {name: v[0][1] for name, v in samples.items() if len(v) == 1 and not v[0][0]}
        self.assertEqual((one["vigil_agents_ready"], one["vigil_agents_expected"]), (2, 2))
        self.assertEqual(one["vigil_cluster_hit_ratio"], 8e8 / 12e8)
        self.assertEqual(one["vigil_cluster_requests_per_second"], 1250)
        self.assertEqual(one["vigil_cluster_ufs_read_bytes_per_second"], 4e8)
        self.assertEqual({l["node"]: v for l, v in samples["vigil_node_hit_ratio"]},
                         {"node-a": 0.875, 'we"ird\\node': 0.25})
        self.assertEqual({l["error_code"]: v for l, v in samples["vigil_cluster_ufs_errors_per_second"]},
                         {"503": 3, "500": 1})
        self.assertIn('vigil_node_status{node="we\\"ird\\\\node"} 0\n', text)
        self.assertEqual(samples["vigil_collector_info"][0][1], 1)
        # Prometheus' own linter has nothing to say.
        r = subprocess.run(["promtool", "check", "metrics"], input=text, capture_output=True, text=True,
                           timeout=30)
        self.assertEqual(r.returncode, 0, r.stdout + r.stderr)

        # A node that stops reporting is CRIT, and its rates leave the cluster's figures.
        def stale():
            s, _ = self.parse_exposition(self.get(c, "/metrics", token="s3cret")[0].decode())
            return s if {l["node"]: v for l, v in s["vigil_node_status"]}["node-a"] == 2 else None
        s = wait_for(stale, 20, "node-a stale in /metrics")
        self.assertEqual({l["status"]: v for l, v in s["vigil_nodes"]}["crit"], 1)
        self.assertEqual(s["vigil_agents_ready"][0][1], 1)
        checks = {(l["family"], l["status"]): v for l, v in s["vigil_checks"]}
        self.assertEqual(checks[("agent", "crit")], 1)
        self.assertEqual(s["vigil_cluster_hit_ratio"][0][1], 0.25)
        self.assertEqual({l["error_code"]: v for l, v in s["vigil_cluster_ufs_errors_per_second"]},
                         {"503": 0.5, "500": 1})

    def start_prometheus(self, target_port, token_file):
        port = free_port()
        config = self.path("prometheus.yml")
        with open(config, "w") as f:
            f.write(f"""global:
  scrape_interval: 1s
  evaluation_interval: 1s
scrape_configs:
  - job_name: vigil
    scrape_interval: 1s
    scrape_timeout: 1s
    authorization:
      type: Bearer
      credentials_file: {token_file}
    static_configs:
      - targets: ["127.0.0.1:{target_port}"]
""")
        p = self.start("prometheus", ["/usr/bin/prometheus", f"--config.file={config}",
                                      f"--storage.tsdb.path={self.path('prometheus-data')}",
                                      f"--web.listen-address=127.0.0.1:{port}"])
        url = f"http://127.0.0.1:{port}"
        wait_for(lambda: not p.alive() or http("GET", url + "/-/ready", timeout=1)[0] == 200, 60,
                 "Prometheus ready")
        self.assertTrue(p.alive(), "Prometheus exited: " + p.output())
        p.url = url
        return p

    def query(self, prometheus, expr):
        """The value of the instant query expr, or None while it has no result."""
        status, body, _ = http("GET", prometheus.url + "/api/v1/query?" + urllib.parse.urlencode({"query": expr}))
        if status != 200:
            return None
        result = json.loads(body)["data"]["result"]
        return float(result[0]["value"][1]) if result else None

    def test_prometheus_reads_what_vigilctl_shows(self):
        token = self.path("token")
        with open(token, "w") as f:
            f.write("s3cret")
        c = self.start_collector(token_file=token, extra=["--stale-after", "10m"])
        self.post(c, "node-a", worker(1000, 7e8, 1e8), token="s3cret")
        self.post(c, "node-b", worker(250, 1e8, 3e8), token="s3cret")
        self.post(c, "node-c", worker(0, 0, 0), token="s3cret")
        prometheus = self.start_prometheus(c.port, token)

        ready = wait_for(lambda: self.query(prometheus, "vigil_agents_ready"), 60,
                         "vigil_agents_ready in Prometheus")
        hit = wait_for(lambda: self.query(prometheus, "vigil_cluster_hit_ratio"), 30,
                       "vigil_cluster_hit_ratio in Prometheus")
        self.assertEqual(self.query(prometheus, 'up{job="vigil"}'), 1)
        rc, out, data = self.vigilctl(c.url, "status", "--json", token_file=token)
        self.assertEqual(rc, 0, out)
        self.assertEqual(ready, data["agents"]["ready"])
        self.assertEqual(ready, 3)
        self.assertEqual(hit, data["metrics"]["current"]["hit_rate"])
        self.assertEqual(hit, 8e8 / 12e8)
        self.assertEqual(self.query(prometheus, 'count(vigil_node_hit_ratio)'), 2)  # node-c read nothing


if __name__ == "__main__":
    unittest.main()
