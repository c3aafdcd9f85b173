# SPDX-License-Identifier: MIT
"""vigil-agent's log tailing against a real collector: container logs in CRI form with kubelet
rotation, restarts, a log4j file with rolling and truncation, huge lines, bursts, and the
exactly-once promise across agent kill -9 and collector outages."""
import json
import os
import signal
import struct
import subprocess
import threading
import time
import unittest
import urllib.parse

from vigiltest import VigilTestCase, binary, http, wait_for


def cri(text, stream="stdout", tag="F"):
    now = time.time()
    stamp = time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(now)) + ".%09dZ" % int((now % 1) * 1e9)
    return f"{stamp} {stream} {tag} {text}\n"


def log4j(level, logger, msg):
    now = time.time()
    return time.strftime("%Y-%m-%d %H:%M:%S", time.localtime(now)) + ",%03d %s %s - %s" % (
        int((now % 1) * 1000), level, logger, msg)


class AgentLogsTest(VigilTestCase):
    def setUp(self):
        super().setUp()
        self.collector = self.start_collector()
        self.state = self.path("state")
        self.pods = self.path("pods")
        os.makedirs(self.pods)
        self.agents = 0

    def start_agent(self, *args, node="node-a", collector=None):
        self.agents += 1
        argv = [binary("vigil-agent"), "--collector", (collector or self.collector).url, "--node", node,
                "--interval", "300ms", "--csi-discover", "", "--state-dir", self.state,
                "--pods-log-dir", self.pods, "--pod-log", "*/*/*", *args]
        return self.start(f"agent{self.agents}", argv)

    def logs(self, **params):
        query = urllib.parse.urlencode(params)
        status, body, _ = http("GET", self.collector.url + "/v1/logs" + ("?" + query if query else ""))
        self.assertEqual(status, 200, body)
        return json.loads(body)["logs"]

    def source(self, name, **params):
        for s in self.logs(**params):
            if s["source"] == name:
                return s
        return None

    def count(self, name, pattern_part, **params):
        s = self.source(name, **params)
        if not s:
            return 0
        return sum(g["count"] for g in s["signatures"] if pattern_part in g["pattern"])

    def check(self, name, node="node-a"):
        """The logs.errors check of source name in the node's latest report, or None."""
        status, body, _ = http("GET", self.collector.url + "/v1/nodes/" + node)
        if status != 200:
            return None
        for c in json.loads(body).get("checks", []):
            if c["name"] == "logs.errors" and c["target"] == name:
                return c
        return None

    def write_journal(self, directory, name, entries, t0):
        """Journal file written by Debian's systemd-journal-remote from export-format input."""
        data = b""
        for i, (unit, priority, message) in enumerate(entries):
            ts = (t0 + i) * 1000000
            data += b"__REALTIME_TIMESTAMP=%d\n__MONOTONIC_TIMESTAMP=%d\n" % (ts, ts)
            data += b"_BOOT_ID=0123456789abcdef0123456789abcdef\n_SYSTEMD_UNIT=%s\n_PID=42\n" % unit.encode()
            data += b"PRIORITY=%d\n" % priority
            msg = message.encode()
            data += b"MESSAGE\n" + struct.pack("<Q", len(msg)) + msg + b"\n\n"
        subprocess.run(["/lib/systemd/systemd-journal-remote", "--output=" + os.path.join(directory, name), "-"],
                       input=data, check=True, capture_output=True, timeout=30)

    def container_dir(self, ns="alluxio", pod="alluxio-worker-0", container="worker", uid="u1"):
        d = os.path.join(self.pods, f"{ns}_{pod}_{uid}", container)
        os.makedirs(d, exist_ok=True)
        return d

    # ---------------------------------------------------------------------------------------
    def test_rotation_storm_counts_every_error_once_across_agent_kills(self):
        d = self.container_dir()
        total_lines = 60000
        errors = []
        done = threading.Event()
        written = [0]

        def writer():
            f = open(os.path.join(d, "0.log"), "a")
            rotations = 0
            for n in range(total_lines):
                if n % 10 == 3:
                    line = log4j("ERROR", "StormWorker", f"request {n} failed: Connection refused")
                    errors.append(n)
                else:
                    line = log4j("INFO", "StormWorker", f"request {n} served")
                if n % 997 == 0:
                    # A line in two CRI parts, in two writes; every third one across a rotation.
                    half = len(line) // 2
                    f.write(cri(line[:half], tag="P"))
                    f.flush()
                    if n % 3 == 0:
                        rotations += 1
                        f.close()
                        os.rename(os.path.join(d, "0.log"),
                                  os.path.join(d, "0.log.20240704-%06d" % rotations))
                        f = open(os.path.join(d, "0.log"), "a")
                    f.write(cri(line[half:]))
                else:
                    f.write(cri(line))
                if n % 3000 == 2999:
                    # kubelet: rename, then the runtime reopens a new 0.log
                    rotations += 1
                    f.close()
                    os.rename(os.path.join(d, "0.log"), os.path.join(d, "0.log.20240704-%06d" % rotations))
                    f = open(os.path.join(d, "0.log"), "a")
                if n % 200 == 0:
                    f.flush()
                    time.sleep(0.002)
                written[0] = n + 1
            f.close()
            done.set()

        open(os.path.join(d, "0.log"), "w").close()
        agent = self.start_agent("--log-from-head")
        name = "pod:alluxio/alluxio-worker-0/worker"
        # Exactly once counts from when the agent first holds the file: files rotated away before
        # that are history to an agent with no state (only the current file is read from its head).
        # The storm starts once the source is in a report, so that its first rotation cannot come
        # first (it did, on a loaded machine under ASan: the first 3,000 lines, 300 ERRORs, missed).
        wait_for(lambda: self.check(name), 60, "the agent holding the container log")
        t = threading.Thread(target=writer)
        t.start()
        self.addCleanup(t.join)
        # Kill the agent in the middle of the storm, twice, and start it again on the same state.
        for fraction in (0.3, 0.6):
            wait_for(lambda: written[0] >= total_lines * fraction, 120, "writer progress")
            agent.kill(signal.SIGKILL)
            agent.proc.wait(10)
            agent = self.start_agent("--log-from-head")
        t.join(300)
        self.assertTrue(done.is_set())
        try:
            wait_for(lambda: self.count(name, "failed: Connection refused") >= len(errors), 120,
                     "every ERROR counted")
        except AssertionError:
            self.fail(f"{self.count(name, 'failed: Connection refused')} of {len(errors)} errors counted; "
                      f"agent: {agent.output()[-3000:]}")
        # ... and nothing counted twice, also after a few more cycles.
        time.sleep(1)
        self.assertEqual(self.count(name, "failed: Connection refused"), len(errors))
        src = self.source(name)
        self.assertEqual(src["lines"], total_lines)
        self.assertEqual(src.get("bytes_lost", 0), 0)
        agent.stop()

    def test_container_restart_keeps_previous_errors(self):
        d = self.container_dir(pod="alluxio-fuse-x1", container="fuse")
        with open(os.path.join(d, "0.log"), "w") as f:
            f.write(cri(log4j("INFO", "Fuse", "mounted")))
        agent = self.start_agent()
        name = "pod:alluxio/alluxio-fuse-x1/fuse"
        wait_for(lambda: self.check(name), 20, "source known")
        with open(os.path.join(d, "0.log"), "a") as f:
            f.write(cri(log4j("ERROR", "AlluxioFuse", "Failed to open /data/x: UNAVAILABLE"), "stderr"))
            f.write(cri("java.lang.IllegalStateException: worker gone", "stderr"))
            f.write(cri(log4j("FATAL", "AlluxioFuse", "Exiting on unrecoverable error"), "stderr"))
        wait_for(lambda: self.count(name, "Exiting") == 1, 20, "errors of the first container")
        # The container restarts: its successor writes 1.log.
        with open(os.path.join(d, "1.log"), "w") as f:
            f.write(cri(log4j("INFO", "Fuse", "mounted again")))
            f.write(cri(log4j("ERROR", "AlluxioFuse", "Failed again")))

        def previous():
            s = self.source(name)
            return s and s.get("previous") and s["restart_count"] == 1 and s["previous"]

        prev = wait_for(previous, 20, "previous container evidence")
        self.assertEqual(prev["restart_count"], 0)
        patterns = [g["pattern"] for g in prev["signatures"]]
        self.assertIn("Exiting on unrecoverable error", patterns)
        failed = [g for g in prev["signatures"] if "Failed to open" in g["pattern"]][0]
        self.assertEqual(failed["context"], ["java.lang.IllegalStateException: worker gone"])
        wait_for(lambda: self.count(name, "Failed again") == 1, 20, "the new container's error")
        self.assertEqual(self.check(name)["details"]["restarts"], 1)
        agent.stop()

    def test_new_pod_read_whole_and_deleted_pod_forgotten(self):
        agent = self.start_agent()
        wait_for(lambda: http("GET", self.collector.url + "/v1/nodes/node-a")[0] == 200, 20, "agent up")
        # A pod that appears while the agent runs is read from its first line.
        d = self.container_dir(pod="alluxio-worker-1", container="worker", uid="u7")
        with open(os.path.join(d, "0.log"), "w") as f:
            f.write(cri(log4j("ERROR", "Worker", "Failed to register with the master")))
            f.write(cri(log4j("INFO", "Worker", "registered")))
        name = "pod:alluxio/alluxio-worker-1/worker"
        wait_for(lambda: self.count(name, "Failed to register") == 1, 20, "the new pod's first line")
        # Its last lines, then the pod goes away: they are counted, and the source is forgotten.
        with open(os.path.join(d, "0.log"), "a") as f:
            f.write(cri(log4j("ERROR", "Worker", "Shutting down on SIGTERM")))
        subprocess.run(["rm", "-rf", os.path.dirname(d)], check=True)
        wait_for(lambda: self.check(name) is None, 30, "the deleted pod's check gone")
        wait_for(lambda: self.count(name, "Shutting down") == 1, 20, "its last error counted")
        # Pods that do not match the pattern are not read.
        other = self.container_dir(ns="kube-system", pod="coredns-1", container="coredns", uid="u9")
        with open(os.path.join(other, "0.log"), "w") as f:
            f.write(cri(log4j("ERROR", "Dns", "not ours")))
        agent.stop()
        agent = self.start_agent("--pod-log", "alluxio/*/*")
        # Once the new agent's reports arrive, the unselected pod has no check (and no findings).
        wait_for(lambda: self.check("pod:kube-system/coredns-1/coredns") is None, 20, "unselected pod ignored")
        agent.stop()

    def test_log4j_rolling_truncation_and_a_huge_line(self):
        logdir = self.path("logs")
        os.makedirs(logdir)
        path = os.path.join(logdir, "worker.log")
        with open(path, "w") as f:
            f.write(log4j("ERROR", "Old", "before the agent started") + "\n")
        agent = self.start_agent("--log-file", path, "--log-max-line", "64K", "--log-context", "2")
        name = "file:" + path
        wait_for(lambda: self.check(name), 20, "file source")

        def append(*lines):
            with open(path, "a") as f:
                for line in lines:
                    f.write(line + "\n")

        append(log4j("ERROR", "HdfsUfsStatusIterator", "Failed to list the path hdfs://nn:8020/a/1"),
               "java.io.IOException: Connection refused",
               "\tat org.apache.hadoop.ipc.Client.call(Client.java:1479)",
               "Caused by: java.net.ConnectException: Connection refused")
        # log4j rolling: worker.log -> worker.log.1 -> worker.log.2, written right before the roll.
        append(log4j("WARN", "Roll", "last line before roll 1"))
        os.rename(path, path + ".1")
        append(log4j("WARN", "Roll", "first line after roll 1"))
        os.rename(path + ".1", path + ".2")
        os.rename(path, path + ".1")
        append(log4j("WARN", "Roll", "first line after roll 2"))
        try:
            wait_for(lambda: self.count(name, "roll") == 3, 20, "lines around two rolls, once each")
        except AssertionError:
            self.fail(json.dumps(self.source(name), indent=1)[:3000])
        s = self.source(name)
        self.assertEqual(self.count(name, "before the agent started"), 0)  # tail from the end
        g = [g for g in s["signatures"] if "Failed to list" in g["pattern"]][0]
        self.assertEqual(g["pattern"], "Failed to list the path hdfs://nn:#/a/#")
        self.assertEqual(g["context"], ["java.io.IOException: Connection refused",
                                        "\tat org.apache.hadoop.ipc.Client.call(Client.java:1479)"])
        # copytruncate: the file shrinks and is written from 0 again.
        with open(path, "w") as f:
            f.write(log4j("ERROR", "AfterTruncate", "written after truncation") + "\n")
        wait_for(lambda: self.count(name, "after truncation") == 1, 20, "line after truncation")
        # A 10 MiB ERROR line: cut at 64 KiB and marked, the line after it found.
        with open(path, "a") as f:
            f.write(log4j("ERROR", "Huge", "x" * (10 * 1024 * 1024)) + "\n")
            f.write(log4j("ERROR", "AfterHuge", "still here") + "\n")
        wait_for(lambda: self.count(name, "still here") == 1, 30, "line after the huge one")
        s = self.source(name)
        huge = [g for g in s["signatures"] if g["pattern"].startswith("xxxxxxxx")][0]
        self.assertTrue(huge["sample_cut"], {k: v for k, v in huge.items() if k != "sample"})
        self.assertLessEqual(len(huge["sample"]), 64 * 1024)
        self.assertEqual(s["lines_cut"], 1)
        agent.stop()

    def test_burst_turns_the_check_crit(self):
        d = self.container_dir(pod="alluxio-coordinator-0", container="coordinator")
        open(os.path.join(d, "0.log"), "w").close()
        agent = self.start_agent()
        name = "pod:alluxio/alluxio-coordinator-0/coordinator"

        def check():
            return self.check(name)

        wait_for(lambda: check() and check()["status"] == "OK", 20, "OK before the burst")
        with open(os.path.join(d, "0.log"), "a") as f:
            for i in range(50):
                f.write(cri(log4j("ERROR", "Journal", f"Failed to flush journal entry {i}"), "stderr"))
        c = wait_for(lambda: check() if check()["status"] == "CRIT" and check()["details"]["errors_last_minute"] == 50
                     else None, 20, "burst CRIT")
        self.assertIn("error burst: 50 in the last minute", c["message"])
        self.assertEqual(c["details"]["errors_last_minute"], 50)
        agent.stop()

    def test_collector_outage_loses_nothing(self):
        logdir = self.path("logs")
        os.makedirs(logdir)
        path = os.path.join(logdir, "worker.log")
        open(path, "w").close()
        agent = self.start_agent("--log-file", path)
        name = "file:" + path
        wait_for(lambda: self.check(name), 20, "file source")
        self.collector.stop(signal.SIGKILL)
        with open(path, "a") as f:
            for i in range(100):
                f.write(log4j("ERROR", "Ufs", f"S3 request {i} failed: SlowDown") + "\n")
        time.sleep(1.5)  # several cycles' batches wait in the agent's state
        # The agent restarts too while the collector is away.
        agent.stop()
        agent = self.start_agent("--log-file", path)
        time.sleep(1)
        self.collector = self.start_collector(db=self.path("collector.db"), port=self.collector.port,
                                              name="collector2")
        wait_for(lambda: self.count(name, "SlowDown") == 100, 30, "errors counted after the outage")
        time.sleep(1)
        self.assertEqual(self.count(name, "SlowDown"), 100)
        agent.stop()

    def test_journal_unit_read_with_a_cursor_across_agent_restarts(self):
        jdir = self.path("journal")
        os.makedirs(jdir)
        t0 = int(time.time()) - 600
        trace = "\n".join([log4j("ERROR", "Worker", "Failed to heartbeat to master: UNAVAILABLE"),
                           "java.io.IOException: connection reset", "\tat alluxio.Worker.beat(Worker.java:7)"])
        self.write_journal(jdir, "a.journal", [
            ("alluxio-worker.service", 6, log4j("INFO", "Worker", "started")),
            ("alluxio-worker.service", 6, trace),
            ("alluxio-worker.service", 3, "Out of memory: cannot allocate block 17"),
            ("other.service", 3, "an error of another unit"),
        ], t0)
        args = ("--journal-unit", "alluxio-worker.service", "--journal-dir", jdir, "--log-from-head",
                "--pods-log-dir", "")
        agent = self.start_agent(*args)
        name = "journal:alluxio-worker.service"
        wait_for(lambda: self.count(name, "") == 2, 20, "the unit's two errors")
        s = self.source(name)
        beat = [g for g in s["signatures"] if "heartbeat" in g["pattern"]][0]
        self.assertEqual(beat["context"], ["java.io.IOException: connection reset"])
        oom = [g for g in s["signatures"] if "Out of memory" in g["pattern"]][0]
        self.assertEqual(oom["level"], "ERROR")  # from PRIORITY=3
        self.assertEqual(oom["sample"], "Out of memory: cannot allocate block 17")
        agent.stop()
        # Entries arrive while the agent is stopped, and after it is back.
        self.write_journal(jdir, "b.journal", [
            ("alluxio-worker.service", 4, "Slow UFS: list took 12 s"),
            ("alluxio-worker.service", 3, "Out of memory: cannot allocate block 18"),
        ], t0 + 10)
        agent = self.start_agent(*args)
        self.write_journal(jdir, "c.journal", [("alluxio-worker.service", 2, "Exiting: lost the master")], t0 + 20)
        wait_for(lambda: self.count(name, "Exiting") == 1, 20, "entry written after the restart")
        time.sleep(1)
        s = self.source(name)
        self.assertEqual(self.count(name, "Out of memory"), 2)  # once each, never the first again
        self.assertEqual(self.count(name, "heartbeat"), 1)
        self.assertEqual(self.count(name, "Slow UFS"), 1)
        self.assertEqual(self.count(name, "another unit"), 0)
        agent.stop()

    def test_polling_when_inotify_watches_run_out(self):
        knob = "/proc/sys/fs/inotify/max_user_watches"
        with open(knob) as f:
            old = f.read().strip()

        def restore():
            with open(knob, "w") as f:
                f.write(old)

        paths = []
        for i in range(3):
            os.makedirs(self.path(f"d{i}"))
            paths.append(self.path(f"d{i}", "worker.log"))
            open(paths[-1], "w").close()
        # No new inotify watch can be made while the agent starts (machine-wide: put back at once).
        with open(knob, "w") as f:
            f.write("1")
        self.addCleanup(restore)
        args = [a for p in paths for a in ("--log-file", p)]
        agent = self.start_agent(*args, "--pods-log-dir", "")
        wait_for(lambda: all(self.check("file:" + p) for p in paths), 20, "all sources reporting")
        restore()
        for p in paths:
            with open(p, "a") as f:
                f.write(log4j("ERROR", "Poll", "found by polling") + "\n")
        for p in paths:
            wait_for(lambda: self.count("file:" + p, "found by polling") == 1, 20, "the error in " + p)
        self.assertIn("polling", agent.output())
        self.assertIn("Cannot watch", agent.output())
        agent.stop()

    def test_bad_configuration_is_one_line_and_exit_2(self):
        cases = [
            (["--log-levels", "ERROR,LOUD"], "log_levels"),
            (["--state-dir", "relative/dir"], "state_dir"),
            (["--log-file", "worker.log"], "log_file"),
            (["--log-max-line", "10"], "log_max_line"),
        ]
        for args, key in cases:
            r = subprocess.run([binary("vigil-agent"), "--collector", self.collector.url, *args],
                               capture_output=True, text=True, timeout=10)
            self.assertEqual(r.returncode, 2, r.stderr)
            self.assertIn(key, r.stderr)
            self.assertEqual(len(r.stderr.strip().splitlines()), 1, r.stderr)
        # Logs and state on a FUSE mount would let a hung daemon hang the agent's loop: refused.
        mnt = self.path("fuse-mnt")
        self.mount_bindfs(self.path("fuse-src"), mnt)
        for args, key in ((["--log-file", mnt + "/worker.log"], "log_file"),
                          (["--log-file", self.path("x.log"), "--state-dir", mnt + "/state"], "state_dir")):
            r = subprocess.run([binary("vigil-agent"), "--collector", self.collector.url, "--csi-discover", "",
                                *args], capture_output=True, text=True, timeout=10)
            self.assertEqual(r.returncode, 2, r.stderr)
            self.assertIn(f"'{key}'", r.stderr)
            self.assertIn("is on the FUSE mount " + mnt, r.stderr)
        # A state directory that cannot be made: a clear error, exit 1.
        blocker = self.path("file")
        open(blocker, "w").close()
        r = subprocess.run([binary("vigil-agent"), "--collector", self.collector.url, "--log-file",
                            self.path("x.log"), "--state-dir", blocker + "/state", "--csi-discover", ""],
                           capture_output=True, text=True, timeout=10)
        self.assertEqual(r.returncode, 1, r.stderr)
        self.assertIn("Failed to start reading logs", r.stderr)


if __name__ == "__main__":
    unittest.main()
