# SPDX-License-Identifier: MIT
"""vigilctl against a real collector (fed by tests/helpers/post-report), and against a tiny fake HTTP
server only for answers a real collector does not give: invalid JSON, a 500, an answer slower than
--timeout."""
import http.server
import json
import os
import re
import subprocess
import threading
import time
import unittest

from vigiltest import VigilTestCase, binary, free_port

ENOTCONN_MSG = "FUSE daemon gone: transport endpoint is not connected"


class FakeCollector:
    """A one-route-per-path HTTP server on loopback; routes map a path to (status, body, delay_s)."""

    def __init__(self, routes):
        self.routes = routes
        self.release = threading.Event()  # set at cleanup: slow handlers stop waiting
        fake = self

        class Handler(http.server.BaseHTTPRequestHandler):
            def do_GET(self):
                status, body, delay = fake.routes.get(self.path.split("?")[0], (404, b'{"error": "no route"}', 0))
                if delay:
                    fake.release.wait(delay)
                try:
                    self.send_response(status)
                    self.send_header("Content-Type", "application/json")
                    self.send_header("Content-Length", str(len(body)))
                    self.end_headers()
                    self.wfile.write(body)
                except OSError:
                    pass  # the client gave up first, as it should

            def log_message(self, *args):
                pass

        self.server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    def stop(self):
        self.release.set()
        self.server.shutdown()
        self.server.server_close()


class VigilctlWithoutCollectorTest(VigilTestCase):
    def fake(self, routes):
        f = FakeCollector(routes)
        self.addCleanup(f.stop)
        return f

    def test_nothing_listening_exits_unknown_with_connection_refused(self):
        url = f"http://127.0.0.1:{free_port()}"
        for cmd in (["status"], ["nodes"], ["node", "x"], ["events"], ["status", "--json"]):
            rc, out, _ = self.vigilctl(url, *cmd)
            self.assertEqual(rc, 3, cmd)
            self.assertIn(f"vigilctl: cannot reach collector at {url}: connection refused", out, cmd)

    def test_collector_url_from_environment(self):
        url = f"http://127.0.0.1:{free_port()}"
        env = dict(os.environ, VIGIL_COLLECTOR=url)
        r = subprocess.run([binary("vigilctl"), "status"], capture_output=True, text=True, env=env, timeout=30)
        self.assertEqual(r.returncode, 3)
        self.assertIn(f"cannot reach collector at {url}: connection refused", r.stderr)

    def test_answer_that_is_not_json_exits_unknown(self):
        f = self.fake({"/v1/cluster": (200, b"<html><body>502 Bad Gateway</body></html>", 0),
                       "/v1/events": (200, b'{"events": [', 0)})
        rc, out, _ = self.vigilctl(f.url, "status")
        self.assertEqual(rc, 3)
        self.assertIn("not valid JSON", out)
        rc, out, _ = self.vigilctl(f.url, "events")
        self.assertEqual(rc, 3)
        self.assertIn("not valid JSON", out)

    def test_server_error_shows_the_collectors_reason(self):
        f = self.fake({"/v1/nodes": (500, b'{"error": "database is locked"}', 0)})
        rc, out, _ = self.vigilctl(f.url, "nodes")
        self.assertEqual(rc, 3)
        self.assertIn("answered HTTP 500 to /v1/nodes: database is locked", out)

    def test_answer_slower_than_timeout_exits_unknown(self):
        f = self.fake({"/v1/cluster": (200, b'{"status": "OK"}', 30)})
        argv = [binary("vigilctl"), "--collector", f.url, "status", "--timeout", "1s"]
        # Well under the server's 30 s delay: vigilctl gave up by itself, it was not answered.
        r = subprocess.run(argv, capture_output=True, text=True, timeout=20)
        self.assertEqual(r.returncode, 3)
        self.assertIn(f"vigilctl: cannot reach collector at {f.url}: no answer within 1.0 s", r.stderr)

    def test_usage_errors_exit_unknown_with_a_message(self):
        url = f"http://127.0.0.1:{free_port()}"
        for args, msg in ((["frobnicate"], "unknown command 'frobnicate'"),
                          (["status", "--bogus"], "--bogus"),
                          (["node"], "missing argument"),
                          (["events", "--since", "yesterday"], "'yesterday' is not a duration"),
                          (["status", "--timeout", "soon"], "--timeout")):
            rc, out, _ = self.vigilctl(url, *args)
            self.assertEqual(rc, 3, args)
            self.assertRegex(out, r"^vigilctl: .*" + re.escape(msg), args)

    def test_help_lists_commands_and_exit_codes(self):
        r = subprocess.run([binary("vigilctl"), "--help"], capture_output=True, text=True, timeout=30)
        self.assertEqual(r.returncode, 0)
        for word in ("status", "nodes", "node NAME", "events", "--collector", "--token-file", "--json",
                     "--timeout", "0 OK, 1 WARN, 2 CRIT, 3 UNKNOWN"):
            self.assertIn(word, r.stdout)


class VigilctlTest(VigilTestCase):
    """The main cases, against the real collector."""

    def setUp(self):
        super().setUp()
        self.collector = self.start_collector()

    def post(self, node, *checks, collector=None):
        """Posts one report of node with checks given as (name, target, status, message)."""
        argv = [binary("post-report"), "--collector", (collector or self.collector).url, "--node", node]
        for c in checks:
            argv += ["--check", ":".join(c)]
        r = subprocess.run(argv, capture_output=True, text=True, timeout=30)
        self.assertEqual(r.returncode, 0, r.stdout + r.stderr)

    def two_nodes_one_failing(self):
        self.post("node-a", ("fuse.mount", "/mnt/alluxio", "CRIT", ENOTCONN_MSG))
        self.post("node-b", ("fuse.mount", "/mnt/alluxio", "OK", "mounted, 3 operations in 1.2 ms"))

    def test_status_screen_shows_verdict_agents_and_failing_node(self):
        self.two_nodes_one_failing()
        rc, out, _ = self.vigilctl(self.collector.url, "status")
        self.assertEqual(rc, 2, out)
        lines = out.splitlines()
        self.assertRegex(lines[0], r"^cluster.*: CRIT")
        self.assertEqual(lines[1], "agents: 2 ready / 2 expected = 100 %")
        self.assertRegex(out, r"(?m)^fuse +1 +0 +1 +0$")
        self.assertIn("node-a: CRIT", out)
        self.assertRegex(out, r"(?m)^    CRIT +fuse\.mount +/mnt/alluxio +" + re.escape(ENOTCONN_MSG) + "$")
        self.assertNotIn("node-b:", out)  # healthy nodes are not listed

    def test_status_all_ok_exits_zero(self):
        self.post("node-b", ("fuse.mount", "/mnt/alluxio", "OK", "mounted"))
        rc, out, _ = self.vigilctl(self.collector.url, "status")
        self.assertEqual(rc, 0, out)
        self.assertIn("agents: 1 ready / 1 expected = 100 %", out)
        self.assertIn("no failing nodes", out)

    def test_status_with_no_agent_is_unknown(self):
        rc, out, _ = self.vigilctl(self.collector.url, "status")
        self.assertEqual(rc, 3, out)
        self.assertIn("agents: 0 ready / 0 expected", out)

    def test_status_json_has_the_documented_fields(self):
        self.two_nodes_one_failing()
        rc, out, data = self.vigilctl(self.collector.url, "status", "--json")
        self.assertEqual(rc, 2, out)
        self.assertEqual(data["status"], "CRIT")
        self.assertEqual(data["agents"]["ready"], 2)
        self.assertEqual(data["agents"]["expected"], 2)
        nodes = {n["name"]: n for n in data["nodes"]}
        self.assertEqual(set(nodes), {"node-a", "node-b"})  # --json lists every node, not only failing
        self.assertEqual(nodes["node-a"]["status"], "CRIT")
        self.assertEqual(nodes["node-b"]["status"], "OK")
        self.assertIsInstance(nodes["node-a"]["last_report_age_s"], (int, float))
        check = nodes["node-a"]["checks"][0]
        for key in ("name", "target", "status", "message", "latency_ms"):
            self.assertIn(key, check)
        self.assertEqual((check["name"], check["target"], check["status"], check["message"]),
                         ("fuse.mount", "/mnt/alluxio", "CRIT", ENOTCONN_MSG))
        if "errno" in check:
            self.assertIsInstance(check["errno"], int)

    def test_token_rejected_and_accepted(self):
        token = self.path("token")
        with open(token, "w") as f:
            f.write("s3cret\n")
        wrong = self.path("wrong-token")
        with open(wrong, "w") as f:
            f.write("guess\n")
        c = self.start_collector(token_file=token, name="collector-token")
        rc, out, _ = self.vigilctl(c.url, "status", token_file=wrong)
        self.assertEqual(rc, 3)
        self.assertIn("vigilctl: collector refused the token (401)", out)
        rc, out, _ = self.vigilctl(c.url, "nodes")
        self.assertEqual(rc, 3)
        self.assertIn("(401)", out)
        self.assertIn("--token-file", out)
        rc, out, _ = self.vigilctl(c.url, "status", token_file=token)
        self.assertEqual(rc, 3, out)  # accepted; UNKNOWN only because no agent has reported yet
        self.assertIn("agents: 0 ready / 0 expected", out)

    def test_nodes_table_exits_with_worst_node(self):
        self.two_nodes_one_failing()
        rc, out, _ = self.vigilctl(self.collector.url, "nodes")
        self.assertEqual(rc, 2, out)
        lines = out.splitlines()
        self.assertRegex(lines[0], r"^NODE +STATUS +LAST-REPORT +CHECKS +FAILING +AGENT$")
        self.assertRegex(out, r"(?m)^node-a +CRIT +.* ago +1 +1 ")
        self.assertRegex(out, r"(?m)^node-b +OK +.* ago +1 +0 ")
        rc, out, data = self.vigilctl(self.collector.url, "nodes", "--json")
        self.assertEqual(rc, 2, out)
        self.assertEqual([n["name"] for n in data["nodes"]], ["node-a", "node-b"])

    def test_node_shows_its_checks(self):
        self.two_nodes_one_failing()
        rc, out, _ = self.vigilctl(self.collector.url, "node", "node-a")
        self.assertEqual(rc, 2, out)
        self.assertRegex(out, r"(?m)^node: +node-a")
        self.assertRegex(out, r"(?m)^STATUS +CHECK +TARGET +LATENCY +MESSAGE$")
        self.assertRegex(out, r"(?m)^CRIT +fuse\.mount +/mnt/alluxio +.* ms +" + re.escape(ENOTCONN_MSG) + "$")
        rc, out, data = self.vigilctl(self.collector.url, "--json", "node", "node-b")
        self.assertEqual(rc, 0, out)
        self.assertEqual(data["name"], "node-b")

    def test_unknown_node_exits_unknown(self):
        self.two_nodes_one_failing()
        rc, out, _ = self.vigilctl(self.collector.url, "node", "no-such-node")
        self.assertEqual(rc, 3)
        self.assertIn("vigilctl: no such node: no-such-node", out)

    def test_events_list_a_status_change(self):
        self.post("node-a", ("fuse.mount", "/mnt/alluxio", "OK", "mounted"))
        self.post("node-b", ("fuse.mount", "/mnt/alluxio", "OK", "mounted"))
        self.post("node-a", ("fuse.mount", "/mnt/alluxio", "CRIT", ENOTCONN_MSG))
        rc, out, _ = self.vigilctl(self.collector.url, "events", "--since", "1h")
        self.assertEqual(rc, 0, out)
        self.assertRegex(out.splitlines()[0], r"^TIME +NODE +CHECK +TARGET +FROM→TO +MESSAGE$")
        row = r"(?m)^\d{4}-\d\d-\d\d \d\d:\d\d:\d\d +node-a +fuse\.mount +/mnt/alluxio +OK→CRIT +"
        self.assertRegex(out, row + re.escape(ENOTCONN_MSG) + "$")
        # The filter and the JSON form agree on what happened.
        rc, out, data = self.vigilctl(self.collector.url, "events", "--node", "node-a", "--json")
        self.assertEqual(rc, 0, out)
        changes = [(e["node"], e["check"], e["from"], e["to"]) for e in data["events"]]
        self.assertIn(("node-a", "fuse.mount", "OK", "CRIT"), changes)
        self.assertTrue(all(e["node"] == "node-a" for e in data["events"]))
        # Events older than the window are left out.
        future = str(int(time.time()) + 3600)
        rc, out, data = self.vigilctl(self.collector.url, "events", "--since", future, "--json")
        self.assertEqual(rc, 0, out)
        self.assertEqual(data["events"], [])


if __name__ == "__main__":
    unittest.main()
