# SPDX-License-Identifier: MIT
"""The collector checking a real three-member etcd cluster, read through vigilctl: members,
quorum loss, the outage clock across a collector restart, recovery events, and worker keys
cross-checked against agent reports."""
import json
import subprocess
import unittest

from etcdtest import EtcdCluster
from vigiltest import VigilTestCase, binary, wait_for

CLUSTER = "default-alluxio"


class CollectorEtcdTest(VigilTestCase):
    def start_with_etcd(self, etcd, db=None, port=None, name="collector"):
        extra = ["--etcd-interval", "300ms", "--etcd-cluster", CLUSTER, "--etcd-call-timeout", "1s"]
        for e in etcd.endpoints:
            extra += ["--etcd", e]
        return self.start_collector(db=db, port=port, extra=extra, name=name)

    def etcd_json(self, c):
        rc, out, data = self.vigilctl(c.url, "etcd", "--json")
        return rc, data

    def status_json(self, c):
        rc, out, data = self.vigilctl(c.url, "status", "--json")
        return rc, data

    def post(self, c, node):
        r = subprocess.run([binary("post-report"), "--collector", c.url, "--node", node, "--interval-ms", "600000", "--check",
                            "fuse.mount:/mnt/alluxio:OK:mounted"], capture_output=True, text=True, timeout=30)
        self.assertEqual(r.returncode, 0, r.stdout + r.stderr)

    def put_worker(self, etcd, worker, host, lease=None):
        value = json.dumps({"workerId": worker, "address": {"host": host, "rpcPort": 29999}})
        etcd.put(f"/ServiceDiscovery/{CLUSTER}/{worker}", value, lease=lease or etcd.lease_grant(300))
        etcd.put(f"/DHT/{CLUSTER}/AUTHORIZED/{worker}", value)

    def test_healthy_cluster_shows_in_etcd_and_status(self):
        etcd = EtcdCluster(self).start()
        self.put_worker(etcd, "worker-a", "node-a")
        c = self.start_with_etcd(etcd)
        self.post(c, "node-a")
        rc, data = wait_for(lambda: (lambda r: r[0] == 0 and r)(self.etcd_json(c)), 20, "etcd OK")
        self.assertEqual(rc, 0, data)
        self.assertTrue(data["members"]["quorum"])
        self.assertIsNotNone(data["leader"])
        rc, out, _ = self.vigilctl(c.url, "etcd")
        self.assertIn("members: 3 ready / 3 expected = 100 %, quorum held", out)
        rc, out, _ = self.vigilctl(c.url, "status")
        self.assertEqual(rc, 0, out)
        self.assertRegex(out, r"(?m)^etcd: OK — members 3 ready / 3 expected = 100 %, leader \S+; workers 1 live / 1 registered$")

    def test_quorum_loss_is_crit_and_its_outage_survives_a_collector_restart(self):
        etcd = EtcdCluster(self).start()
        self.put_worker(etcd, "worker-a", "node-a")
        db = self.path("c.db")
        c = self.start_with_etcd(etcd, db=db)
        self.post(c, "node-a")
        wait_for(lambda: self.etcd_json(c)[0] == 0, 20, "etcd OK first")
        etcd.stop_member(1)
        rc, data = wait_for(lambda: (lambda r: r[0] == 1 and r)(self.etcd_json(c)), 20, "WARN with one member down")
        self.assertIn("members: 2 ready / 3 expected = 66 %", json.dumps(data["checks"]))
        etcd.stop_member(2)
        rc, data = wait_for(lambda: (lambda r: r[0] == 2 and r[1]["outage"] and r)(self.etcd_json(c)), 30,
                            "CRIT with an outage")
        self.assertRegex(data["outage"]["message"], r"^etcd unavailable for .*; IO continues for up to 24h")
        since = data["outage"]["since_ms"]
        rc, st = self.status_json(c)
        self.assertEqual(rc, 2)
        self.assertEqual(st["etcd"]["status"], "CRIT")
        self.assertIn("etcd CRIT", st["message"])

        port = c.port
        c.stop()
        c2 = self.start_with_etcd(etcd, db=db, port=port, name="collector2")
        self.post(c2, "node-a")
        rc, data = wait_for(lambda: (lambda r: r[1] and r[1].get("outage") and r)(self.etcd_json(c2)), 20,
                            "the outage after the restart")
        self.assertEqual(data["outage"]["since_ms"], since, "the outage clock kept its start")

        etcd.start_member(1)
        etcd.start_member(2)
        etcd.wait_healthy()
        wait_for(lambda: self.etcd_json(c2)[0] == 0, 40, "OK after recovery")
        rc, _, ev = self.vigilctl(c2.url, "events", "--json", "--node", "(cluster)")
        messages = [e["message"] for e in ev["events"]]
        self.assertTrue(any(m.startswith("etcd available again after an outage of") for m in messages), messages)
        changes = [(e["check"], e["to"]) for e in ev["events"]]
        self.assertIn(("etcd.members", "CRIT"), changes)

    def test_workers_are_cross_checked_with_agent_reports(self):
        etcd = EtcdCluster(self).start()
        lease = etcd.lease_grant(120)
        for worker, host in (("worker-a", "node-a"), ("worker-x", "node-x")):
            self.put_worker(etcd, worker, host, lease=lease)
        etcd.put(f"/DHT/{CLUSTER}/AUTHORIZED/worker-dead", json.dumps({"address": {"host": "node-d"}}))
        c = self.start_with_etcd(etcd)
        self.post(c, "node-a")
        self.post(c, "node-d")

        def cross_checked():
            rc, data = self.etcd_json(c)
            checks = {ch["name"]: ch for ch in data["checks"]}
            # Cycles run every 300 ms: wait for one that saw both agent reports.
            msg = checks.get("etcd.agents", {}).get("message", "")
            return "node-d (worker-dead)" in msg and (data, checks)

        data, checks = wait_for(cross_checked, 20, "workers listed and cross-checked")
        self.assertEqual(data["workers"]["live"], 2)
        self.assertEqual(data["workers"]["registered"], 3)
        self.assertIn("worker-dead", checks["etcd.workers"]["message"])
        self.assertIn("worker-x (node-x)", checks["etcd.agents"]["message"])
        self.assertIn("node-d (worker-dead)", checks["etcd.agents"]["message"])
        rc, out, _ = self.vigilctl(c.url, "etcd")
        self.assertRegex(out, r"(?m)^worker-dead\s+no\s+yes\s+yes")


if __name__ == "__main__":
    unittest.main()
