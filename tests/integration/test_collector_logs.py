# SPDX-License-Identifier: MIT
"""Log findings end to end: batches posted by post-report (resent, across a kill -9 of the collector),
then GET /v1/logs and `vigilctl logs` as an operator reads them."""
import json
import re
import signal
import subprocess
import unittest

from vigiltest import VigilTestCase, binary, http, wait_for

POD = "pod:alluxio/alluxio-worker-0/worker"
MASTER = "file:/var/log/alluxio/master.log"
FUSE = "journal:alluxio-fuse.service"
LIST_ERROR = "ERROR Failed to list the path hdfs://ns/warehouse: java.io.IOException: Connection reset"
SLOW_RPC = "WARN Slow RPC GetStatus took 812 ms"
OOM = "FATAL java.lang.OutOfMemoryError: Java heap space"


class CollectorLogsTest(VigilTestCase):
    def post(self, collector, node, *args, boot_id="boot-1", seq=1, state="state-1"):
        """Posts one report of node carrying log batches (post-report's --log-* arguments); returns its answer."""
        argv = [binary("post-report"), "--collector", collector.url, "--node", node, "--boot-id", boot_id,
                "--seq", str(seq), "--log-state", state, *args]
        r = subprocess.run(argv, capture_output=True, text=True, timeout=30)
        self.assertEqual(r.returncode, 0, r.stdout + r.stderr)
        status, _, body = r.stdout.strip().partition(" ")
        self.assertEqual(status, "200", r.stdout)
        return json.loads(body)

    def logs(self, collector, query=""):
        status, body, _ = http("GET", collector.url + "/v1/logs" + query)
        self.assertEqual(status, 200, body)
        return json.loads(body)["logs"]

    def group(self, collector, node, source, query=""):
        found = [g for g in self.logs(collector, query) if (g["node"], g["source"]) == (node, source)]
        self.assertEqual(len(found), 1, f"{node} {source} in {query}")
        return found[0]

    def counts_of(self, collector, node, source):
        """{sample: count} of one source."""
        return {s["sample"]: s["count"] for s in self.group(collector, node, source)["signatures"]}

    def vigilctl_logs(self, collector, *args):
        return self.vigilctl(collector.url, "logs", *args)

    def test_each_batch_is_counted_once_across_resends_and_a_kill_9(self):
        db = self.path("state.db")
        c = self.start_collector(db=db)
        batch1 = ["--log-batch", f"1:{POD}:ERROR:5:{LIST_ERROR}", "--log-context", "    at Client.list(Client.java:42)"]
        batch2 = ["--log-batch", f"2:{POD}:ERROR:2:{LIST_ERROR}", "--log-batch", f"2:{MASTER}:WARN:3:{SLOW_RPC}"]
        self.assertEqual(self.post(c, "node-a", *batch1, seq=1)["result"], "applied")
        self.assertEqual(self.counts_of(c, "node-a", POD), {LIST_ERROR: 5})

        # The answer was lost: the next report resends batch 1 along with batch 2.
        self.post(c, "node-a", *batch1, *batch2, seq=2)
        self.assertEqual(self.counts_of(c, "node-a", POD), {LIST_ERROR: 7})
        self.assertEqual(self.counts_of(c, "node-a", MASTER), {SLOW_RPC: 3})
        pod = self.group(c, "node-a", POD)
        self.assertEqual(pod["counts"], {"warn": 0, "error": 7, "fatal": 0})
        self.assertEqual(pod["lines"], 12)  # post-report counts 5 lines + 5 context lines, then 2 lines

        # The collector dies; what it acknowledged is durable, and a resend after the restart is
        # still recognised.
        c.kill(signal.SIGKILL)
        c.stop()
        c2 = self.start_collector(db=db, name="collector2")
        self.assertEqual(self.counts_of(c2, "node-a", POD), {LIST_ERROR: 7})
        self.post(c2, "node-a", *batch1, *batch2, "--log-batch", f"3:{POD}:ERROR:1:{LIST_ERROR}", seq=3)
        self.assertEqual(self.counts_of(c2, "node-a", POD), {LIST_ERROR: 8})
        self.assertEqual(self.counts_of(c2, "node-a", MASTER), {SLOW_RPC: 3})

        # A duplicate report (same boot id and seq) is not applied, but a new batch in it is.
        answer = self.post(c2, "node-a", "--log-batch", f"4:{POD}:ERROR:10:{LIST_ERROR}", seq=3)
        self.assertEqual(answer["result"], "duplicate")
        self.assertEqual(self.counts_of(c2, "node-a", POD), {LIST_ERROR: 18})
        # A lower id of the same state is old news; a new state (the agent lost its database)
        # starts again from 1.
        self.post(c2, "node-a", "--log-batch", f"2:{POD}:ERROR:100:{LIST_ERROR}", seq=4)
        self.assertEqual(self.counts_of(c2, "node-a", POD), {LIST_ERROR: 18})
        self.post(c2, "node-a", "--log-batch", f"1:{POD}:ERROR:1:{LIST_ERROR}", seq=5, state="state-2")
        self.assertEqual(self.counts_of(c2, "node-a", POD), {LIST_ERROR: 19})

    def findings(self, c):
        """node-a: a pod with an old WARN, a recent ERROR with context and an OOM of its previous
        container; node-b: a journal unit with an ERROR."""
        self.post(c, "node-a",
                  "--log-batch", f"1:{POD}:WARN:2@7200:{SLOW_RPC}",
                  "--log-batch", f"1:{POD}:ERROR:5@60:{LIST_ERROR}",
                  "--log-context", "    at org.apache.hadoop.hdfs.DFSClient.listPaths(DFSClient.java:1738)",
                  "--log-context", "    at alluxio.underfs.hdfs.HdfsUnderFileSystem.listStatus(HdfsUnderFileSystem.java:500)",
                  "--log-restart", "3",
                  "--log-batch", f"1:{POD}:FATAL:1@600:{OOM}", "--log-previous", "2",
                  "--log-context", "    at java.nio.HeapByteBuffer.<init>(HeapByteBuffer.java:57)")
        self.post(c, "node-b", "--log-batch", f"1:{FUSE}:ERROR:1:ERROR fuse: reading device: No such device")

    def test_api_answer_groups_by_node_and_source(self):
        c = self.start_collector()
        self.findings(c)
        logs = self.logs(c)
        self.assertEqual([(g["node"], g["source"]) for g in logs], [("node-a", POD), ("node-b", FUSE)])
        pod = logs[0]
        for key in ("restart_count", "lines", "bytes", "lines_cut", "bytes_lost", "counts", "signatures",
                    "previous"):
            self.assertIn(key, pod)
        self.assertEqual(pod["restart_count"], 3)
        self.assertEqual(pod["counts"], {"warn": 2, "error": 5, "fatal": 0})
        # Most recent first.
        self.assertEqual([s["sample"] for s in pod["signatures"]], [LIST_ERROR, SLOW_RPC])
        error = pod["signatures"][0]
        self.assertEqual((error["level"], error["count"], error["sample_cut"]), ("ERROR", 5, False))
        self.assertEqual(len(error["context"]), 2)
        self.assertLessEqual(error["first_ms"], error["last_ms"])
        self.assertEqual(pod["previous"]["restart_count"], 2)
        self.assertEqual([s["sample"] for s in pod["previous"]["signatures"]], [OOM])
        self.assertIsNone(logs[1]["previous"])

        # Filters.
        self.assertEqual([g["node"] for g in self.logs(c, "?node=node-b")], ["node-b"])
        self.assertEqual([g["source"] for g in self.logs(c, "?source=pod:alluxio/*")], [POD])
        self.assertEqual([g["source"] for g in self.logs(c, "?source=" + FUSE)], [FUSE])
        errors = self.group(c, "node-a", POD, "?level=error")
        self.assertEqual([s["level"] for s in errors["signatures"]], ["ERROR"])
        fatal = self.group(c, "node-a", POD, "?level=FATAL")
        self.assertEqual(fatal["signatures"], [])  # still listed: its previous container had one
        self.assertEqual(fatal["previous"]["signatures"][0]["level"], "FATAL")
        recent = self.group(c, "node-a", POD, "?since=1h")
        self.assertEqual([s["sample"] for s in recent["signatures"]], [LIST_ERROR])
        self.assertEqual(recent["counts"], {"warn": 0, "error": 5, "fatal": 0})
        self.assertEqual(len(self.group(c, "node-a", POD, "?limit=1")["signatures"]), 1)
        self.assertEqual(self.logs(c, "?node=node-x"), [])

    def test_bad_parameters_are_400_with_one_line(self):
        c = self.start_collector()
        for query, key in (("level=LOUD", "'level'"), ("since=yesterday", "'since'"), ("limit=0", "'limit'"),
                           ("limit=100001", "'limit'"), ("limit=x", "'limit'")):
            status, body, _ = http("GET", c.url + "/v1/logs?" + query)
            self.assertEqual(status, 400, query)
            error = json.loads(body)["error"]
            self.assertIn(key, error)
            self.assertNotIn("\n", error)
        self.assertEqual(http("POST", c.url + "/v1/logs", body=b"")[0], 405)

    def test_vigilctl_logs_reads_like_grep_after_context(self):
        c = self.start_collector()
        self.findings(c)
        rc, out, _ = self.vigilctl_logs(c)
        self.assertEqual(rc, 0, out)
        lines = out.splitlines()
        self.assertEqual(lines[0], f"==> node-a {POD} <== 5 errors, 2 warnings, 0 fatal; restarts 3")
        self.assertRegex(lines[1], r"^\[ERROR 5x \d{4}-\d\d-\d\d \d\d:\d\d:\d\d \.\. \d\d:\d\d:\d\d\] " +
                         re.escape(LIST_ERROR) + "$")
        # One context line by default, then the separator.
        self.assertEqual(lines[2], "    at org.apache.hadoop.hdfs.DFSClient.listPaths(DFSClient.java:1738)")
        self.assertEqual(lines[3], "--")
        self.assertRegex(lines[4], r"^\[WARN 2x .*\] " + re.escape(SLOW_RPC) + "$")
        self.assertEqual(lines[5:7], ["--", "previous container (restart 2):"])
        self.assertRegex(lines[7], r"^\[FATAL 1x [-\d]+ [:\d]+\] " + re.escape(OOM) + "$")
        self.assertEqual(lines[9:11], ["--", f"==> node-b {FUSE} <== 1 error, 0 warnings, 0 fatal"])

        rc, out, _ = self.vigilctl_logs(c, "-A", "0")
        self.assertEqual(rc, 0, out)
        self.assertNotIn("--\n", out)
        self.assertNotIn("    at ", out)
        rc, out, _ = self.vigilctl_logs(c, "-A", "2")
        self.assertIn("HdfsUnderFileSystem.listStatus", out)

        rc, out, _ = self.vigilctl_logs(c, "--level", "error", "--since", "1h", "--node", "node-a")
        self.assertEqual(rc, 0, out)
        self.assertIn(LIST_ERROR, out)
        self.assertIn(OOM, out)
        self.assertNotIn(SLOW_RPC, out)  # a warning, and two hours old
        self.assertNotIn("node-b", out)
        rc, out, _ = self.vigilctl_logs(c, "--source", "journal:*")
        self.assertEqual(out.splitlines()[0], f"==> node-b {FUSE} <== 1 error, 0 warnings, 0 fatal")

        rc, out, data = self.vigilctl_logs(c, "--json", "--source", POD)
        self.assertEqual(rc, 0, out)
        self.assertEqual([g["source"] for g in data["logs"]], [POD])
        rc, out, _ = self.vigilctl_logs(c, "--node", "node-x")
        self.assertEqual((rc, out), (0, "no log findings\n"))

    def test_vigilctl_logs_usage_errors_exit_unknown(self):
        c = self.start_collector()
        for args, msg in ((["logs", "--level", "LOUD"], "bad value for 'level' (--level): 'LOUD' is not one of"),
                          (["logs", "-A", "x"], "bad value for 'after_context' (--after-context)"),
                          (["logs", "--since", "yesterday"], "'yesterday' is not a duration"),
                          (["logs", "--bogus"], "unknown option --bogus"),
                          (["logs", "extra"], "too many arguments"),
                          (["status", "--source", POD], "--source, --level and -A apply to logs only"),
                          (["nodes", "-A", "1"], "--source, --level and -A apply to logs only")):
            rc, out, _ = self.vigilctl(c.url, *args)
            self.assertEqual(rc, 3, args)
            self.assertEqual(len(out.splitlines()), 1, out)
            self.assertRegex(out, r"^vigilctl: .*" + re.escape(msg), args)
        # The collector's refusal of a value vigilctl lets through is an error too.
        rc, out, _ = self.vigilctl(c.url, "logs", "--limit", "0")
        self.assertEqual(rc, 3, out)
        self.assertIn("answered HTTP 400", out)

    def test_status_counts_the_log_checks_of_the_last_hour(self):
        c = self.start_collector()
        subprocess.run([binary("post-report"), "--collector", c.url, "--node", "node-a",
                        "--check", f"logs.errors:{POD}:CRIT:error burst: 120 in the last minute",
                        "--detail", "errors_last_hour=130", "--detail", "warnings_last_hour=4",
                        "--check", f"logs.errors:{MASTER}:OK:2 errors in the last hour",
                        "--detail", "errors_last_hour=2"], check=True, capture_output=True, timeout=30)
        status, body, _ = http("GET", c.url + "/v1/cluster")
        logs = json.loads(body)["logs"]
        self.assertEqual(logs["sources"], {"ok": 1, "warn": 0, "crit": 1, "unknown": 0})
        self.assertEqual((logs["errors_last_hour"], logs["warnings_last_hour"]), (132, 4))
        self.assertEqual(logs["failing"], [{"node": "node-a", "source": POD, "status": "CRIT"}])
        rc, out, _ = self.vigilctl(c.url, "status")
        self.assertEqual(rc, 2, out)
        self.assertIn(f"logs: 132 errors, 4 warnings in the last hour from 2 sources; burst: node-a {POD} (CRIT)\n",
                      out)

    def test_retention_deletes_old_findings(self):
        db = self.path("state.db")
        c = self.start_collector(db=db)
        self.post(c, "node-a", "--log-batch", f"1:{POD}:ERROR:1@7200:{LIST_ERROR}",
                  "--log-batch", f"1:{MASTER}:WARN:1@60:{SLOW_RPC}")
        # The default retention (8 days) keeps both.
        self.assertEqual(len(self.logs(c)), 2)
        self.assertEqual(c.stop(signal.SIGTERM), 0, c.output())
        # The retention runs soon after start, then every minute.
        c2 = self.start_collector(db=db, name="collector2", extra=["--logs-retention", "1h"])
        wait_for(lambda: [g["source"] for g in self.logs(c2)] == [MASTER], 10, "the 2 h old finding deleted")
        r = subprocess.run([binary("vigil-collector"), "--db", self.path("x.db"), "--logs-retention", "soon"],
                           capture_output=True, text=True, timeout=10)
        self.assertEqual(r.returncode, 2)
        self.assertIn("'logs_retention'", r.stderr)


if __name__ == "__main__":
    unittest.main()
