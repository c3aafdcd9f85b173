# SPDX-License-Identifier: MIT
"""The collector's etcd checks (collector/etcd.c, run once by tests/helpers/etcd-probe) against a real
three-member etcd cluster: healthy, a member stopped, the quorum lost and the outage clock, worker keys
live and registered and their cross-check with agent nodes, and TLS with the right and a wrong CA."""
import json
import subprocess
import time
import unittest

from etcdtest import Certificates, EtcdCluster
from vigiltest import VigilTestCase, binary, wait_for

LIVE = "/ServiceDiscovery/default-alluxio/"
REGISTERED = "/DHT/default-alluxio/AUTHORIZED/"
EXIT = {"OK": 0, "WARN": 1, "CRIT": 2, "UNKNOWN": 3}


class EtcdCheckTest(VigilTestCase):
    def probe(self, cluster, *extra, endpoints=None, tls=True):
        """Runs etcd-probe once; returns the parsed snapshot with "exit" and a "check" map added."""
        argv = [binary("etcd-probe"), "--etcd-call-timeout", "2s"]
        for e in endpoints or cluster.endpoints:
            argv += ["--etcd", e]
        if cluster.tls and tls:
            argv += ["--etcd-ca", cluster.certs.ca, "--etcd-cert", cluster.certs.client,
                     "--etcd-key", cluster.certs.client_key]
        r = subprocess.run(argv + list(extra), capture_output=True, text=True, timeout=60)
        self.assertIn(r.returncode, (0, 1, 2, 3), r.stdout + r.stderr)
        snap = json.loads(r.stdout)
        snap["exit"] = r.returncode
        snap["check"] = {c["name"]: c for c in snap["checks"]}
        self.assertEqual(r.returncode, EXIT[snap["status"]])
        return snap

    def probe_until(self, cluster, pred, what, *extra, timeout=30):
        """Probes until pred(snapshot) holds (elections and lease expiry take their time)."""
        last = {}

        def once():
            last["snap"] = self.probe(cluster, *extra)
            return pred(last["snap"])
        try:
            wait_for(once, timeout, what, interval=0.2)
        except AssertionError as e:
            raise AssertionError(f"{e}; last checks: {json.dumps(last.get('snap', {}).get('checks'), indent=1)}")
        return last["snap"]

    def test_healthy_cluster_is_ok_with_a_leader_all_agree_on(self):
        c = EtcdCluster(self).start()
        snap = self.probe_until(c, lambda s: s["status"] == "WARN", "a healthy cluster without workers")
        members = snap["check"]["etcd.members"]
        self.assertEqual(members["status"], "OK")
        self.assertEqual(members["message"], "members: 3 ready / 3 expected = 100 %")
        self.assertEqual(members["target"], ",".join(c.endpoints))
        self.assertEqual([m["name"] for m in snap["members"]["list"]], ["etcd-0", "etcd-1", "etcd-2"])
        self.assertTrue(all(m["state"] == "ready" and m["version"].startswith("3.") for m in snap["members"]["list"]))

        leader = c.leader_index()
        self.assertEqual(snap["leader"]["endpoint"], c.endpoints[leader])
        self.assertEqual(snap["leader"]["name"], f"etcd-{leader}")
        self.assertEqual(snap["check"]["etcd.leader"]["status"], "OK")
        self.assertIn(f"leader etcd-{leader} (", snap["check"]["etcd.leader"]["message"])
        # No worker keys at all: most likely a wrong cluster name, which the message says.
        workers = snap["check"]["etcd.workers"]
        self.assertEqual((workers["status"], workers["error_code"]), ("WARN", "NO_WORKERS"))
        self.assertIn("is the cluster name 'default-alluxio' right?", workers["message"])
        self.assertIsNone(snap["outage"])

    def test_one_member_stopped_warns_naming_it_and_recovers(self):
        c = EtcdCluster(self).start()
        # A follower, so the cluster keeps its leader and the test does not wait on an election.
        victim = (c.leader_index() + 1) % 3
        c.stop_member(victim)
        snap = self.probe_until(c, lambda s: s["check"]["etcd.members"]["status"] == "WARN", "WARN 2/3")
        self.assertEqual(snap["check"]["etcd.members"]["message"],
                         f"members: 2 ready / 3 expected = 66 %: {c.endpoints[victim]} connection refused")
        self.assertEqual(snap["members"]["list"][victim]["state"], "down")
        self.assertEqual(snap["members"]["list"][victim]["errno"], "ECONNREFUSED")
        self.assertEqual(snap["members"]["list"][victim]["name"], f"etcd-{victim}")  # from MemberList
        self.assertEqual(snap["check"]["etcd.leader"]["status"], "OK")
        self.assertTrue(snap["members"]["quorum"])
        self.assertEqual(snap["outage_change"], "none")

        c.start_member(victim)
        c.wait_healthy()
        self.probe_until(c, lambda s: s["check"]["etcd.members"]["status"] == "OK", "3/3 again")

    def test_quorum_lost_is_crit_and_runs_the_outage_clock(self):
        c = EtcdCluster(self).start()
        lease = c.lease_grant(600)
        c.put(LIVE + "worker-1", '{"host": "node-a"}', lease=lease)
        c.put(REGISTERED + "worker-1", '{"host": "node-a"}')
        leader = c.leader_index()
        down = [i for i in range(3) if i != leader]
        for i in down:
            c.stop_member(i)

        before_ms = int(time.time() * 1000)
        # The leader steps down once it misses its followers for an election timeout (CheckQuorum).
        snap = self.probe_until(c, lambda s: s["check"]["etcd.members"]["status"] == "CRIT"
                                and s["check"]["etcd.leader"]["status"] == "CRIT", "CRIT quorum lost, no leader")
        members = snap["check"]["etcd.members"]
        self.assertEqual(members["error_code"], "QUORUM_LOST")
        self.assertIn("quorum lost", members["message"])
        for i in down:
            self.assertIn(f"{c.endpoints[i]} connection refused", members["message"])
        self.assertEqual(snap["check"]["etcd.leader"]["status"], "CRIT")
        self.assertIn("no leader", snap["check"]["etcd.leader"]["message"])
        # The outage clock starts here; the collector persists outage_since_ms.
        self.assertEqual(snap["outage_change"], "began")
        self.assertGreaterEqual(snap["outage_since_ms"], before_ms)
        self.assertIn("etcd unavailable for", members["message"])
        # The remaining member still shows the keys, said to be possibly stale.
        self.assertTrue(snap["workers"]["stale"])
        self.assertEqual([w["id"] for w in snap["workers"]["list"]], ["worker-1"])
        self.assertIn("without quorum: may be stale", snap["check"]["etcd.workers"]["message"])

        # A collector restart loads the start it persisted: the clock goes on from there.
        # 72 min 30 s ago: "1h12m" gone, "22h47m" left (both rounded down, whatever the probe's own time).
        since = int(time.time() * 1000) - (72 * 60 + 30) * 1000
        snap = self.probe(c, "--outage-since-ms", str(since))
        self.assertEqual(snap["outage_change"], "ongoing")
        self.assertEqual(snap["outage_since_ms"], since)
        self.assertTrue(snap["check"]["etcd.members"]["message"].endswith(
            "; etcd unavailable for 1h12m; IO continues for up to 24h: 22h47m left"),
            snap["check"]["etcd.members"]["message"])
        self.assertEqual(snap["outage"]["since_ms"], since)

        # Every member down: no member answers at all.
        c.stop_member(leader)
        snap = self.probe(c, "--outage-since-ms", str(since))
        self.assertEqual(snap["check"]["etcd.members"]["error_code"], "NO_MEMBER")
        self.assertEqual(snap["check"]["etcd.members"]["errno_name"], "ECONNREFUSED")
        self.assertEqual(snap["check"]["etcd.leader"]["status"], "UNKNOWN")
        self.assertEqual(snap["check"]["etcd.workers"]["status"], "UNKNOWN")
        self.assertEqual(snap["exit"], 2)

        for i in range(3):
            c.start_member(i)
        c.wait_healthy()
        snap = self.probe_until(c, lambda s: s["outage_change"] == "ended", "the outage to end",
                                "--outage-since-ms", str(since))
        self.assertEqual(snap["outage_since_ms"], 0)
        self.assertRegex(snap["outage_ended"], r"^etcd available again after an outage of 1h1[234]m$")
        self.assertIsNone(snap["outage"])

    def test_live_and_registered_workers_are_listed_and_failed_ones_found(self):
        c = EtcdCluster(self).start()
        lease = c.lease_grant(60)
        values = {
            "worker-1": {"WorkerNetAddress": {"Host": "node-a", "RpcPort": 29999}, "State": "JOINED"},
            "worker-2": {"WorkerNetAddress": {"Host": "node-b", "RpcPort": 29999}, "State": "JOINED"},
            "worker-3": {"WorkerNetAddress": {"Host": "node-c", "RpcPort": 29999}, "State": "AUTHORIZED"},
        }
        for w, v in values.items():
            c.put(REGISTERED + w, json.dumps(v))
        c.put(LIVE + "worker-1", json.dumps(values["worker-1"]), lease=lease)
        c.put(LIVE + "worker-2", json.dumps(values["worker-2"]), lease=lease)
        c.put(LIVE + "worker-4", "\x0a\x06binary")  # an older release's binary value: key only
        c.put("/ServiceDiscovery/other-cluster/worker-9", "{}")  # another cluster: not ours

        snap = self.probe(c, "--agent", "node-a", "--agent", "node-c.example.com")
        w = snap["workers"]
        self.assertTrue(w["listed"])
        self.assertFalse(w["stale"])
        self.assertEqual([x["id"] for x in w["list"]], ["worker-1", "worker-2", "worker-3", "worker-4"])
        self.assertEqual((w["live"], w["registered"], w["failed"]), (3, 3, 1))
        by_id = {x["id"]: x for x in w["list"]}
        self.assertEqual(by_id["worker-1"]["live_value"], values["worker-1"])
        self.assertEqual(by_id["worker-1"]["host"], "node-a")
        self.assertIsNotNone(by_id["worker-1"]["lease"])
        self.assertTrue(by_id["worker-3"]["failed"])
        self.assertIsNone(by_id["worker-4"]["live_value"])
        self.assertEqual(by_id["worker-4"]["live_value_size"], len("\x0a\x06binary"))

        check = snap["check"]["etcd.workers"]
        self.assertEqual(check["status"], "WARN")
        self.assertEqual(check["target"], LIVE)
        self.assertEqual(check["message"], "workers: 2 ready / 3 expected = 66 %: 1 registered worker not live: "
                                           "worker-3; 1 live worker not registered: worker-4")
        self.assertEqual(snap["cross_check"]["status"], "WARN")
        self.assertEqual(snap["cross_check"]["message"],
                         "1 live worker on a node without an agent: worker-2 (node-b); "
                         "1 node with an agent whose worker is not live: node-c (worker-3)")

        # The live keys vanish with their lease (what a dead worker's keep-alive stopping does).
        c.lease_revoke(lease)
        snap = self.probe(c)
        check = snap["check"]["etcd.workers"]
        self.assertEqual(check["status"], "CRIT")
        self.assertTrue(check["message"].startswith(
            "workers: 0 ready / 3 expected = 0 %: 3 registered workers not live: worker-1, worker-2, worker-3"),
            check["message"])

        # Another cluster name reads other prefixes.
        snap = self.probe(c, "--etcd-cluster", "other-cluster")
        self.assertEqual([x["id"] for x in snap["workers"]["list"]], ["worker-9"])
        self.assertEqual(snap["workers"]["live_prefix"], "/ServiceDiscovery/other-cluster/")

    def test_tls_cluster_works_with_its_ca_and_fails_clearly_with_another(self):
        c = EtcdCluster(self, tls=True, client_cert_auth=True).start()
        c.put(REGISTERED + "worker-1", "{}")
        snap = self.probe_until(c, lambda s: s["check"]["etcd.members"]["status"] == "OK", "TLS members OK")
        self.assertTrue(all(e.startswith("https://") for e in c.endpoints))
        self.assertEqual(snap["check"]["etcd.members"]["message"], "members: 3 ready / 3 expected = 100 %")
        self.assertEqual([x["id"] for x in snap["workers"]["list"]], ["worker-1"])

        other = Certificates(self.path("other-ca"), name="other")
        snap = self.probe(c, "--etcd-ca", other.ca, "--etcd-cert", other.client, "--etcd-key", other.client_key,
                          tls=False)
        members = snap["check"]["etcd.members"]
        self.assertEqual((members["status"], members["error_code"]), ("CRIT", "NO_MEMBER"))
        self.assertEqual(members["errno_name"], "EACCES")
        self.assertIn("TLS failed (EACCES)", members["message"])
        self.assertEqual(snap["exit"], 2)

        # The right CA but no client certificate, which the cluster requires.
        snap = self.probe(c, "--etcd-ca", c.certs.ca, tls=False)
        self.assertEqual(snap["check"]["etcd.members"]["status"], "CRIT")
        self.assertEqual(snap["members"]["ready"], 0)
        self.assertIn("does the member require a client certificate", snap["members"]["list"][0]["error"])

        # A TLS member given as http://: the plain HTTP/2 preface is refused.
        snap = self.probe(c, endpoints=[c.endpoints[0].replace("https://", "http://")])
        self.assertIn("a TLS endpoint given as http://?", snap["check"]["etcd.members"]["message"])


if __name__ == "__main__":
    unittest.main()
