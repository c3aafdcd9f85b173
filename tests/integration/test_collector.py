# SPDX-License-Identifier: MIT
"""vigil-collector against real HTTP clients: ingest, dedup, auth, limits, staleness, restarts, kill -9."""
import json
import os
import signal
import subprocess
import threading
import unittest

from vigiltest import VigilTestCase, binary, http, wait_for

PROTOBUF = {"Content-Type": "application/x-protobuf"}


class CollectorTest(VigilTestCase):
    def post(self, collector, node, *args, token=None, check=True):
        """Runs post-report; returns the list of (status, parsed body or None) of its posts."""
        argv = [binary("post-report"), "--collector", collector.url, "--node", node, *args]
        if token:
            argv += ["--token", token]
        r = subprocess.run(argv, capture_output=True, text=True, timeout=60)
        answers = []
        for line in r.stdout.splitlines():
            status, _, body = line.partition(" ")
            try:
                answers.append((int(status), json.loads(body)))
            except ValueError:
                answers.append((status, body))
        if check:
            self.assertEqual(r.returncode, 0, r.stdout + r.stderr)
        return answers

    def get(self, collector, path, token=None):
        headers = {"Authorization": f"Bearer {token}"} if token else {}
        status, body, _ = http("GET", collector.url + path, headers=headers)
        return status, json.loads(body) if body else None

    def events(self, collector, query=""):
        status, body = self.get(collector, "/v1/events" + query)
        self.assertEqual(status, 200)
        return body["events"]

    def test_report_is_visible_in_node_and_cluster(self):
        c = self.start_collector()
        answers = self.post(c, "node-a", "--cluster", "demo", "--seq", "3",
                            "--check", "fuse.mount:/mnt/alluxio:CRIT:FUSE daemon gone: transport endpoint is not connected",
                            "--check", "csi.probe:/csi.sock:OK:ready")
        self.assertEqual(answers, [(200, {"result": "applied", "node": "node-a", "seq": 3})])

        status, node = self.get(c, "/v1/nodes/node-a")
        self.assertEqual(status, 200)
        self.assertEqual(node["status"], "CRIT")
        self.assertEqual(node["seq"], 3)
        self.assertEqual(node["cluster"], "demo")
        self.assertFalse(node["stale"])
        mount = [ch for ch in node["checks"] if ch["name"] == "fuse.mount"][0]
        self.assertEqual(mount["target"], "/mnt/alluxio")
        self.assertEqual(mount["message"], "FUSE daemon gone: transport endpoint is not connected")

        status, cluster = self.get(c, "/v1/cluster")
        self.assertEqual(status, 200)
        self.assertEqual(cluster["status"], "CRIT")
        self.assertEqual(cluster["agents"], {"ready": 1, "expected": 1, "percent": 100.0, "stale": 0})
        self.assertEqual([n["name"] for n in cluster["nodes"]], ["node-a"])
        fuse = [f for f in cluster["families"] if f["family"] == "fuse"][0]
        self.assertEqual(fuse["crit"], 1)

        status, nodes = self.get(c, "/v1/nodes")
        self.assertEqual(nodes["nodes"][0]["checks_failing"], 1)
        self.assertEqual(self.get(c, "/v1/nodes/nobody")[0], 404)
        self.assertEqual(self.get(c, "/v1/nope")[0], 404)
        self.assertEqual(http("DELETE", c.url + "/v1/cluster")[0], 405)

        events = self.events(c)
        self.assertEqual([(e["check"], e["from"], e["to"]) for e in events], [("fuse.mount", "NONE", "CRIT")])

    def test_duplicate_seq_is_acknowledged_not_applied(self):
        c = self.start_collector()
        self.post(c, "node-a", "--boot-id", "boot-1", "--seq", "5", "--check", "fuse.mount:/m:CRIT:gone")
        n_events = len(self.events(c))
        # Same boot id and seq again, now with another status: acknowledged as duplicate only.
        answers = self.post(c, "node-a", "--boot-id", "boot-1", "--seq", "5", "--check", "fuse.mount:/m:OK:fine")
        self.assertEqual(answers, [(200, {"result": "duplicate", "node": "node-a", "seq": 5})])
        answers = self.post(c, "node-a", "--boot-id", "boot-1", "--seq", "4", "--check", "fuse.mount:/m:OK:fine")
        self.assertEqual(answers[0][1]["result"], "duplicate")
        self.assertEqual(self.get(c, "/v1/nodes/node-a")[1]["status"], "CRIT")
        self.assertEqual(len(self.events(c)), n_events)
        # A new agent run (another boot id) starts again at seq 1 and is applied.
        answers = self.post(c, "node-a", "--seq", "1", "--boot-id", "boot-2", "--check", "fuse.mount:/m:OK:fine")
        self.assertEqual(answers[0][1]["result"], "applied")
        self.assertEqual(self.get(c, "/v1/nodes/node-a")[1]["status"], "OK")
        self.assertEqual(len(self.events(c)), n_events + 1)

    def test_token_is_required_except_for_healthz(self):
        token_file = self.path("token")
        with open(token_file, "w") as f:
            f.write("s3cret-token\n")
        c = self.start_collector(token_file=token_file)
        self.assertEqual(self.get(c, "/v1/cluster")[0], 401)
        self.assertEqual(self.get(c, "/v1/cluster", token="wrong")[0], 401)
        self.assertEqual(self.get(c, "/v1/cluster", token="s3cret-token")[0], 200)
        self.assertEqual(self.get(c, "/healthz")[0], 200)
        self.assertEqual(self.post(c, "node-a", check=False)[0][0], 401)
        self.assertEqual(self.post(c, "node-a", token="wrong", check=False)[0][0], 401)
        self.assertEqual(self.post(c, "node-a", token="s3cret-token")[0][0], 200)
        status, body = self.get(c, "/v1/nodes", token="s3cret-token")
        self.assertEqual([n["name"] for n in body["nodes"]], ["node-a"])

    def test_bad_bodies_are_refused(self):
        c = self.start_collector(extra=["--max-report-size", "64K"])
        status, body, _ = http("POST", c.url + "/v1/reports", body=b"\xff\xff\xff\xff garbage", headers=PROTOBUF)
        self.assertEqual(status, 400)
        self.assertIn("NodeReport", json.loads(body)["error"])
        # A valid protobuf without a node name.
        status, body, _ = http("POST", c.url + "/v1/reports", body=b"", headers=PROTOBUF)
        self.assertEqual(status, 400)
        self.assertIn("node name", json.loads(body)["error"])
        status, _, _ = http("POST", c.url + "/v1/reports", body=b"\x0a\x01a",
                            headers={"Content-Type": "application/json"})
        self.assertEqual(status, 415)
        status, _, _ = http("POST", c.url + "/v1/reports", body=b"\x0a\x01a" + b"\0" * (65 * 1024), headers=PROTOBUF)
        self.assertEqual(status, 413)
        # The same limit holds for a chunked body, whose size is not announced.
        raw = self.path("big.pb")
        with open(raw, "wb") as f:
            f.write(b"\x0a\x01a" + b"\0" * (65 * 1024))
        r = subprocess.run(["curl", "-s", "-o", "/dev/null", "-w", "%{http_code}", "-H", "Transfer-Encoding: chunked",
                            "-H", "Content-Type: application/x-protobuf", "--data-binary", "@" + raw,
                            c.url + "/v1/reports"], capture_output=True, text=True, timeout=30)
        self.assertEqual(r.stdout, "413")
        self.assertEqual(self.get(c, "/healthz")[1]["nodes"], 0)
        # And the collector keeps serving.
        self.post(c, "node-a")

    def test_node_that_stops_reporting_turns_stale(self):
        c = self.start_collector(extra=["--stale-after", "1s"])
        self.post(c, "node-a")
        node = wait_for(lambda: (lambda n: n if n["stale"] else None)(self.get(c, "/v1/nodes/node-a")[1]), 10,
                        "node-a stale")
        self.assertEqual(node["status"], "CRIT")
        self.assertEqual(node["checks"][0]["name"], "agent.report")
        self.assertRegex(node["checks"][0]["message"], r"^no report for \d+ s$")
        cluster = self.get(c, "/v1/cluster")[1]
        self.assertEqual(cluster["agents"]["ready"], 0)
        self.assertEqual(cluster["agents"]["stale"], 1)
        events = self.events(c, "?node=node-a")
        self.assertEqual([(e["check"], e["to"]) for e in events], [("agent.report", "CRIT")])
        # The next report brings it back, with an event.
        self.post(c, "node-a", "--seq", "2")
        self.assertFalse(self.get(c, "/v1/nodes/node-a")[1]["stale"])
        events = self.events(c, "?node=node-a")
        self.assertEqual([(e["check"], e["from"], e["to"]) for e in events],
                         [("agent.report", "OK", "CRIT"), ("agent.report", "CRIT", "OK")])

    def test_restart_keeps_nodes_and_events(self):
        db = self.path("state.db")
        c = self.start_collector(db=db)
        self.post(c, "node-a", "--boot-id", "boot-1", "--seq", "7", "--check", "fuse.mount:/m:CRIT:gone")
        self.post(c, "node-b", "--seq", "2")
        events = self.events(c)
        self.assertEqual(c.stop(signal.SIGTERM), 0, c.output())

        c2 = self.start_collector(db=db, name="collector2")
        self.assertEqual(self.get(c2, "/healthz")[1]["nodes"], 2)
        node = self.get(c2, "/v1/nodes/node-a")[1]
        self.assertEqual((node["seq"], node["status"]), (7, "CRIT"))
        self.assertEqual(self.events(c2), events)
        # Dedup state survived too.
        self.assertEqual(self.post(c2, "node-a", "--boot-id", "boot-1", "--seq", "7")[0][1]["result"], "duplicate")

    def test_events_query_arguments(self):
        c = self.start_collector()
        for i, status in enumerate(["CRIT", "OK", "WARN"], start=1):
            self.post(c, "node-a", "--seq", str(i), "--check", f"fuse.mount:/m:{status}:{status.lower()}")
        self.post(c, "node-b", "--check", "fuse.mount:/m:CRIT:gone")
        self.assertEqual(len(self.events(c)), 4)
        self.assertEqual(len(self.events(c, "?node=node-a")), 3)
        self.assertEqual([e["to"] for e in self.events(c, "?node=node-a&limit=2")], ["OK", "WARN"])
        self.assertEqual(len(self.events(c, "?since=1h")), 4)
        self.assertEqual(len(self.events(c, "?since=4000000000")), 0)
        self.assertEqual(self.get(c, "/v1/events?since=yesterday")[0], 400)
        self.assertEqual(self.get(c, "/v1/events?limit=0")[0], 400)

    def test_bad_configuration_is_one_line_and_exit_2(self):
        config = self.path("collector.ini")
        with open(config, "w") as f:
            f.write("[collector]\nstale_after = soon\n")
        cases = [
            (["--listen", "nowhere"], "'listen'"),
            (["--stale-after", "soon"], "'stale_after'"),
            (["--config", config], "stale_after"),
            (["--token-file", self.path("missing")], "'token_file'"),
            (["--tls-cert", self.path("cert.pem")], "tls"),
        ]
        for args, key in cases:
            r = subprocess.run([binary("vigil-collector"), "--db", self.path("x.db"), *args], capture_output=True,
                               text=True, timeout=10)
            self.assertEqual(r.returncode, 2, args)
            lines = r.stderr.strip().splitlines()
            self.assertEqual(len(lines), 1, r.stderr)
            self.assertIn(key, lines[0])
        self.assertFalse(os.path.exists(self.path("x.db")))

    def test_config_file_sets_the_same_keys(self):
        config = self.path("collector.ini")
        with open(config, "w") as f:
            f.write("[collector]\nstale_after = 1s\nmax_report_size = 1K\n")
        c = self.start_collector(extra=["--config", config])
        status, _, _ = http("POST", c.url + "/v1/reports", body=b"\x0a\x01a" + b"\0" * 2048, headers=PROTOBUF)
        self.assertEqual(status, 413)
        self.post(c, "node-a")
        wait_for(lambda: self.get(c, "/v1/nodes/node-a")[1]["stale"], 10, "node-a stale after 1 s")

    def test_kill_9_during_burst_loses_no_acknowledged_report(self):
        db = self.path("state.db")
        c = self.start_collector(db=db)
        acked = {}
        lock = threading.Lock()

        def poster(node):
            # post-report prints each answer as it comes and stops at the first failed post.
            p = subprocess.Popen([binary("post-report"), "--collector", c.url, "--node", node, "--count", "100000"],
                                 stdout=subprocess.PIPE, text=True)
            for line in p.stdout:
                status, _, body = line.partition(" ")
                if status == "200":
                    answer = json.loads(body)
                    if answer["result"] == "applied":
                        with lock:
                            acked[node] = max(acked.get(node, 0), answer["seq"])
            p.wait()
            p.stdout.close()

        threads = [threading.Thread(target=poster, args=(f"burst-{i}",)) for i in range(4)]
        for t in threads:
            t.start()
        wait_for(lambda: sum(acked.values()) >= 400, 60, "400 acknowledged reports")
        os.kill(c.pid, signal.SIGKILL)
        for t in threads:
            t.join(60)
        c.stop()
        self.assertEqual(len(acked), 4)

        c2 = self.start_collector(db=db, name="collector2")
        for node, seq in acked.items():
            status, body = self.get(c2, f"/v1/nodes/{node}")
            self.assertEqual(status, 200, node)
            self.assertGreaterEqual(body["seq"], seq, f"{node}: acknowledged seq {seq} lost")


if __name__ == "__main__":
    unittest.main()
