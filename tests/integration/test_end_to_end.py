# SPDX-License-Identifier: MIT
"""End to end: real agents probing real mounts ship to a real collector; vigilctl reads it."""
import os
import signal
import unittest

import subprocess

from vigiltest import FuseTestCase, binary, free_port, wait_for


class EndToEndTest(FuseTestCase):
    def start_agent(self, collector, node, mnt, *extra, interval="200ms", timeout="100ms", collector_url=None):
        return self.start(f"agent-{node}", [binary("vigil-agent"), "--collector", collector_url or collector.url,
                                            "--node", node,
                                            "--cluster", "e2e", "--fuse", mnt, "--interval", interval,
                                            "--timeout", timeout, *extra])

    def status(self, collector):
        rc, _, data = self.vigilctl(collector.url, "status", "--json")
        return rc, data

    def node(self, data, name):
        return next((n for n in data["nodes"] if n["name"] == name), None)

    def test_failing_node_and_check_reach_vigilctl_status(self):
        c = self.start_collector()
        mnt_b = self.path("mnt-b")
        self.mount_bindfs(self.src, self.mnt)
        dead = self.mount_bindfs(self.src, mnt_b)
        dead.kill(signal.SIGKILL)
        self.start_agent(c, "node-a", self.mnt)
        self.start_agent(c, "node-b", mnt_b)

        def both_reported():
            rc, data = self.status(c)
            return data["agents"]["ready"] == 2 and self.node(data, "node-b")["status"] == "CRIT" and (rc, data)

        rc, data = wait_for(both_reported, 15, "both nodes, node-b CRIT")
        self.assertEqual(rc, 2)
        self.assertEqual(data["status"], "CRIT")
        self.assertEqual(data["agents"]["expected"], 2)
        b = self.node(data, "node-b")
        check = next(ch for ch in b["checks"] if ch["name"] == "fuse.mount")
        self.assertEqual(check["target"], mnt_b)
        self.assertEqual(check["status"], "CRIT")
        self.assertEqual(check["errno"], 107)
        self.assertIn("FUSE daemon gone: transport endpoint is not connected", check["message"])
        self.assertIn("latency_ms", check)
        self.assertGreaterEqual(b["last_report_age_s"], 0)
        self.assertEqual(self.node(data, "node-a")["status"], "OK")

        rc, out, _ = self.vigilctl(c.url, "status")
        self.assertEqual(rc, 2)
        self.assertIn("agents: 2 ready / 2 expected = 100 %", out)
        self.assertIn("node-b", out)
        self.assertIn("FUSE daemon gone", out)
        self.assertNotIn("node-a", out.split("agents:")[1].split("fuse")[-1])

    def test_hung_mount_is_reported_while_reports_keep_coming(self):
        c = self.start_collector()
        daemon = self.mount_bindfs(self.src, self.mnt)
        self.start_agent(c, "node-h", self.mnt)
        wait_for(lambda: self.status(c)[0] == 0, 15, "OK first")
        daemon.kill(signal.SIGSTOP)

        def hung():
            rc, _, data = self.vigilctl(c.url, "node", "node-h", "--json")
            ch = data["checks"][0]
            return ch.get("error_code") == "HUNG" and data

        data = wait_for(hung, 15, "CRIT hung at the collector")
        seq = data["seq"]
        wait_for(lambda: self.vigilctl(c.url, "node", "node-h", "--json")[2]["seq"] >= seq + 5, 15,
                 "five more reports while the mount hangs")
        daemon.kill(signal.SIGCONT)
        wait_for(lambda: self.status(c)[0] == 0, 15, "OK again after SIGCONT")
        rc, _, ev = self.vigilctl(c.url, "events", "--json")
        changes = [(e["check"], e["from"], e["to"]) for e in ev["events"] if e["node"] == "node-h"]
        self.assertIn(("fuse.mount", "OK", "CRIT"), changes)
        self.assertIn(("fuse.mount", "CRIT", "OK"), changes)

    def test_stopped_agent_turns_node_crit_stale(self):
        c = self.start_collector(extra=["--stale-after", "1s"])
        self.mount_bindfs(self.src, self.mnt)
        agent = self.start_agent(c, "node-s", self.mnt)
        wait_for(lambda: self.status(c)[0] == 0, 15, "OK first")
        agent.stop(signal.SIGTERM)

        def stale():
            rc, data = self.status(c)
            n = self.node(data, "node-s")
            return n["status"] == "CRIT" and (rc, data, n)

        rc, data, n = wait_for(stale, 15, "the node to turn stale")
        self.assertEqual(rc, 2)
        self.assertEqual(data["agents"]["ready"], 0)
        self.assertEqual(data["agents"]["expected"], 1)
        self.assertRegex(n["checks"][0]["message"], r"^no report for \d+ s")
        rc, out, _ = self.vigilctl(c.url, "status")
        self.assertIn("agents: 0 ready / 1 expected = 0 %", out)

    def test_token_is_required_and_a_wrong_one_is_refused(self):
        token = self.path("token")
        with open(token, "w") as f:
            f.write("s3cret\n")
        wrong = self.path("wrong")
        with open(wrong, "w") as f:
            f.write("guess\n")
        c = self.start_collector(token_file=token)
        self.mount_bindfs(self.src, self.mnt)
        bad = self.start_agent(c, "node-bad", self.mnt, "--token-file", wrong)
        self.start_agent(c, "node-good", self.mnt, "--token-file", token)
        wait_for(lambda: self.vigilctl(c.url, "node", "node-good", "--json", token_file=token)[0] == 0, 15,
                 "the node with the right token")
        wait_for(lambda: "HTTP 401" in bad.output(), 15, "the agent to log the refusal")
        wait_for(lambda: self.vigilctl(c.url, "node", "node-good", "--json", token_file=token)[2]["seq"] >= 10, 15,
                 "ten cycles")
        self.assertEqual(bad.output().count("HTTP 401"), 1, "one warning, not one per report")
        rc, _, data = self.vigilctl(c.url, "status", "--json", token_file=token)
        self.assertEqual([n["name"] for n in data["nodes"]], ["node-good"])
        rc, out, _ = self.vigilctl(c.url, "status")
        self.assertEqual(rc, 3)
        self.assertIn("401", out)

    def test_collector_restart_keeps_state_and_queued_reports_arrive(self):
        db = self.path("c.db")
        c = self.start_collector(db=db)
        port = c.port
        self.mount_bindfs(self.src, self.mnt)
        self.start_agent(c, "node-r", self.mnt)
        wait_for(lambda: self.status(c)[0] == 0, 15, "OK first")
        c.stop(signal.SIGTERM)
        seq_before = None
        c2 = self.start_collector(db=db, port=port, name="collector2")
        data = self.vigilctl(c2.url, "node", "node-r", "--json")[2]
        seq_before = data["seq"]
        self.assertEqual(data["status"], "OK")
        wait_for(lambda: self.vigilctl(c2.url, "node", "node-r", "--json")[2]["seq"] > seq_before, 20,
                 "the agent to deliver again after the restart")


    def test_https_collector_with_a_private_ca(self):
        from etcdtest import Certificates
        certs = Certificates(self.path("certs"))
        port = free_port()
        c = self.start("collector", [binary("vigil-collector"), "--listen", f"127.0.0.1:{port}", "--db",
                                     self.path("c.db"), "--tls-cert", certs.server, "--tls-key", certs.server_key])
        url = f"https://127.0.0.1:{port}"
        ctl = lambda *a: subprocess.run([binary("vigilctl"), "--collector", url, *a], capture_output=True,  # noqa: E731
                                        text=True, timeout=30)
        wait_for(lambda: ctl("--ca-file", certs.ca, "nodes").returncode in (0, 3) and
                 "cannot reach" not in ctl("--ca-file", certs.ca, "nodes").stderr, 10, "the HTTPS collector")
        self.mount_bindfs(self.src, self.mnt)
        self.start_agent(c, "node-tls", self.mnt, "--collector-ca", certs.ca, collector_url=url)
        untrusting = self.start_agent(c, "node-untrusting", self.mnt, collector_url=url)
        wait_for(lambda: ctl("--ca-file", certs.ca, "node", "node-tls").returncode == 0, 15,
                 "reports over HTTPS")
        wait_for(lambda: "TLS certificate is not trusted (--collector-ca FILE" in untrusting.output(), 15,
                 "the agent without the CA to say why")
        self.assertNotEqual(ctl("--ca-file", certs.ca, "node", "node-untrusting").returncode, 0)
        r = ctl("status")  # vigilctl without the CA refuses the certificate
        self.assertEqual(r.returncode, 3)
        self.assertIn("TLS certificate not trusted", r.stderr)


if __name__ == "__main__":
    unittest.main()
