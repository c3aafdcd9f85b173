# SPDX-License-Identifier: MIT
"""The agent's light UFS probe (ufs.reachability) against s3rver and local roots, and the collector's
verdict across nodes: a UFS failing from every node is a cluster problem, from one node a problem of
that node, and `vigilctl status` says which.
"""
import json
import os
import signal
import subprocess
import sys
import unittest

from s3rver import start_s3rver
from vigiltest import FuseTestCase, binary, free_port, http, wait_for


class AgentUfsTest(FuseTestCase):
    def setUp(self):
        super().setUp()
        self.s3 = start_s3rver(self)

    def config(self, name, uri, **settings):
        path = self.path(f"{name}.conf")
        with open(path, "w") as f:
            f.write(f"ufs = {uri}\n\n[ufs {uri}]\n")
            for k, v in settings.items():
                f.write(f"{k} = {v}\n")
        return path

    def once(self, conf, env=None):
        r = subprocess.run([binary("vigil-agent"), "--config", conf, "--node", "n1", "--once", "--json"],
                           capture_output=True, text=True, timeout=60, env=env or self.s3.env())
        doc = json.loads(r.stdout) if r.stdout.strip() else None
        checks = [c for c in (doc or {}).get("checks", []) if c["name"] == "ufs.reachability"]
        self.assertEqual(len(checks), 1, r.stdout + r.stderr)
        return r.returncode, checks[0]

    def test_reachable_bucket_is_ok_also_when_the_prefix_is_empty(self):
        uri = f"s3://{self.s3.bucket}/warehouse"
        code, c = self.once(self.config("a", uri, endpoint=self.s3.endpoint))
        self.assertEqual((code, c["status"]), (0, "OK"), c)
        self.assertEqual(c["target"], uri)
        self.assertRegex(c["message"], r"reachable in [0-9.]+ ?[mu]?s$")
        self.assertEqual(c["details"]["scheme"], "s3")

    def test_an_expected_code_is_an_answer_and_latency_over_the_limit_warns(self):
        # file:// has no expected codes by default: a missing root is CRIT (next test); declared
        # expected, ENOENT (404) is an answer
        code, c = self.once(self.config("e", "file://" + self.path("not-yet"), expected_errors="file:404"))
        self.assertEqual(c["status"], "OK", c)
        self.assertIn("expected ENOENT", c["message"])
        # a faultfs root that answers, slowly
        control = self.path("control")
        self.mount_faultfs(self.src, self.mnt, control)
        self.set_fault(control, "slow 300")
        code, c = self.once(self.config("s", "file://" + self.mnt, latency_warn="100ms"))
        self.assertEqual((code, c["status"], c.get("error_code")), (1, "WARN", "SLOW"), c)

    def test_missing_bucket_unknown_key_and_dead_endpoint_are_crit_with_their_code(self):
        code, c = self.once(self.config("b", "s3://no-such-bucket/x", endpoint=self.s3.endpoint))
        self.assertEqual((code, c["status"], c.get("error_code")), (2, "CRIT", "NoSuchBucket"), c)
        self.assertIn("does not exist", c["message"])

        code, c = self.once(self.config("k", f"s3://{self.s3.bucket}/x", endpoint=self.s3.endpoint,
                                        access_key="NOT-A-KEY", secret_key="x"))
        self.assertEqual((c["status"], c.get("error_code")), ("CRIT", "InvalidAccessKeyId"), c)

        # frozen: connections are accepted by the kernel, and nothing answers
        os.killpg(self.s3.proc.pid, signal.SIGSTOP)
        try:
            code, c = self.once(self.config("f", f"s3://{self.s3.bucket}/x", endpoint=self.s3.endpoint,
                                            request_timeout="1s"))
        finally:
            os.killpg(self.s3.proc.pid, signal.SIGCONT)
        # curl's stall check (ETIMEDOUT) and the probe child's deadline (HUNG) are a second apart,
        # and which comes first depends on when curl samples: either is the verdict, in words
        self.assertEqual((code, c["status"]), (2, "CRIT"), c)
        self.assertIn(c.get("error_code"), ("ETIMEDOUT", "HUNG"), c)
        self.assertRegex(c["message"], r"no answer: nothing moved for 1|did not answer: the look hung for")

        dead = f"http://127.0.0.1:{free_port()}"
        code, c = self.once(self.config("d", f"s3://{self.s3.bucket}/x", endpoint=dead))
        self.assertEqual((c["status"], c.get("error_code")), ("CRIT", "ECONNREFUSED"), c)

    def test_local_root_present_missing_and_hung(self):
        code, c = self.once(self.config("l", "file://" + self.src))
        self.assertEqual(c["status"], "OK", c)
        # a missing directory (an NFS export not mounted) is no expected answer for file://
        code, c = self.once(self.config("m", "file://" + self.path("nowhere")))
        self.assertEqual((c["status"], c.get("error_code")), ("CRIT", "ENOENT"), c)
        # a root on a file system that never answers: the probe child hangs, the agent does not
        control = self.path("control")
        self.mount_faultfs(self.src, self.mnt, control)
        # opendir of the root hangs; getattr stays answered, so the harness can still unmount
        self.set_fault(control, "hang ops=opendir")
        code, c = self.once(self.config("h", "file://" + self.mnt, request_timeout="1s"))
        self.assertEqual((c["status"], c.get("error_code")), ("CRIT", "HUNG"), c)
        self.set_fault(control, "pass")

    def test_bad_ufs_settings_are_refused(self):
        for uri, settings, words in [
            ("hdfs://nn/x", {}, "unsupported scheme"),
            ("s3://bkt/x", {"addressing": "sideways"}, "auto, path or virtual"),
            ("s3://bkt/x", {"access_key": "A"}, "go together"),
            ("s3://bkt/x", {"endpoint": "ftp://host"}, "http:// or https://"),
        ]:
            r = subprocess.run([binary("vigil-agent"), "--config", self.config("bad", uri, **settings), "--once"],
                               capture_output=True, text=True, timeout=30)
            self.assertEqual(r.returncode, 2, r.stderr)
            self.assertIn(words, r.stderr)


class ClusterUfsTest(FuseTestCase):
    """Two agents, one collector: whose problem is a failing UFS."""

    def setUp(self):
        super().setUp()
        self.s3 = start_s3rver(self)
        self.collector = self.start_collector()

    def agent(self, node, uri, endpoint):
        conf = self.path(f"{node}.conf")
        with open(conf, "w") as f:
            # the look's deadline (request_timeout + 1 s) must fit in the interval
            f.write(f"ufs = {uri}\ninterval = 2s\n\n[ufs {uri}]\nendpoint = {endpoint}\nrequest_timeout = 500ms\n")
        return self.start(node, [binary("vigil-agent"), "--config", conf, "--node", node,
                                 "--collector", self.collector.url, "--state-dir", self.path(f"{node}-state"),
                                 "--pods-log-dir", ""], env=self.s3.env())

    def status_line(self, uri):
        code, out, _ = self.vigilctl(self.collector.url, "status")
        lines = [l for l in out.splitlines() if l.startswith(f"ufs: {uri} ")]
        return lines[0] if lines else ""

    def ufs_series(self, uri):
        """(vigil_ufs_nodes, vigil_ufs_failing_nodes) of uri on the collector's /metrics."""
        status, body, _ = http("GET", self.collector.url + "/metrics")
        self.assertEqual(status, 200)
        values = {}
        for line in body.decode().splitlines():
            for name in ("vigil_ufs_nodes", "vigil_ufs_failing_nodes"):
                if line.startswith(f'{name}{{ufs="{uri}"}} '):
                    values[name] = int(float(line.split()[-1]))
        return values.get("vigil_ufs_nodes"), values.get("vigil_ufs_failing_nodes")

    def test_one_node_failing_is_its_problem_every_node_failing_is_the_clusters(self):
        uri = f"s3://{self.s3.bucket}/data"
        a = self.agent("node-a", uri, self.s3.endpoint)
        b = self.agent("node-b", uri, f"http://127.0.0.1:{free_port()}")
        line = wait_for(lambda: "failing from 1 of 2 nodes" in self.status_line(uri) and self.status_line(uri),
                        30, "node-b's failure")
        self.assertIn("a problem of node-b", line)
        self.assertRegex(line, r"(?i)refused|connect")

        code, _, doc = self.vigilctl(self.collector.url, "status", "--json")
        u = [x for x in doc["ufs"] if x["target"] == uri][0]
        self.assertEqual((u["nodes"], u["failing"], u["scope"], u["failing_nodes"]), (2, 1, "node", ["node-b"]))
        # /metrics says it the way the alert rules read it
        self.assertEqual(self.ufs_series(uri), (2, 1))

        # the server goes away: now every node fails, a cluster problem
        self.s3.stop(signal.SIGKILL)
        line = wait_for(lambda: "failing from all 2 nodes" in self.status_line(uri) and self.status_line(uri),
                        30, "every node's failure")
        self.assertIn("a cluster problem", line)
        self.assertEqual(self.ufs_series(uri), (2, 2))
        # and back
        self.s3.start()
        wait_for(lambda: "reachable from 1 of 2 nodes" not in self.status_line(uri) and
                 "failing from 1 of 2 nodes" in self.status_line(uri), 30, "node-a's recovery")
        a.stop()
        b.stop()


if __name__ == "__main__":
    unittest.main(argv=[sys.argv[0], "-v"] + sys.argv[1:])
