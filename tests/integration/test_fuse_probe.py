# SPDX-License-Identifier: MIT
"""The FUSE probe against real mounts (bindfs, faultfs), through `vigil-agent --once`.

Each test mounts what it needs in its own temp dir; the harness unmounts (and aborts the FUSE
connection if a request is stuck) even when the test fails.
"""
import json
import os
import signal
import subprocess
import unittest

from vigiltest import FuseTestCase, VigilTestCase, binary, mountinfo_entry


def once(*args, timeout=30):
    """Runs one agent cycle; returns (exit code, parsed JSON report, stderr)."""
    r = subprocess.run([binary("vigil-agent"), "--once", "--json", *args], capture_output=True, text=True,
                       timeout=timeout)
    return r.returncode, (json.loads(r.stdout) if r.stdout.strip() else None), r.stderr


def check(report, name):
    for c in report["checks"]:
        if c["name"] == name:
            return c
    raise AssertionError(f"no {name} in {report}")


class FuseProbeTest(FuseTestCase):
    def config(self, **mount_keys):
        path = self.path("agent.ini")
        with open(path, "w") as f:
            f.write("[agent]\ninterval = 5s\ntimeout = 1s\n")
            f.write(f"[fuse {self.mnt}]\n")
            for k, v in mount_keys.items():
                f.write(f"{k} = {v}\n")
        return path

    def test_healthy_bindfs_mount_is_ok_with_latencies(self):
        self.mount_bindfs(self.src, self.mnt)
        rc, rep, _ = once("--config", self.config(canary="canary", expect="vigil-ok"))
        self.assertEqual(rc, 0, rep)
        m = check(rep, "fuse.mount")
        self.assertEqual(m["status"], "OK")
        # ".", "..", the canary and three files: the root's entries read through the mount
        self.assertIn("statfs, stat and readdir (6 entries)", m["message"])
        self.assertEqual([op["name"] for op in m["fuse"]["operations"]], ["statfs", "stat", "readdir"])
        self.assertTrue(all(op["finished"] for op in m["fuse"]["operations"]))
        self.assertIn("waiting", m["fuse"])  # fusectl is readable as root
        r = check(rep, "fuse.read")
        self.assertEqual(r["status"], "OK")
        self.assertIn("content as expected", r["message"])

    def test_unmounted_path_is_crit_not_mounted_saying_what_is_there(self):
        os.makedirs(self.mnt)
        rc, rep, _ = once("--fuse", self.mnt)
        self.assertEqual(rc, 2)
        m = check(rep, "fuse.mount")
        self.assertEqual(m["status"], "CRIT")
        self.assertEqual(m["error_code"], "NOT_MOUNTED")
        self.assertIn(f"nothing is mounted on {self.mnt}", m["message"])
        self.assertIn("it lies on the", m["message"])

    def test_readdir_stops_at_the_configured_number_of_entries(self):
        for i in range(300):  # more than one getdents64() buffer of names
            open(os.path.join(self.src, f"many-{i:04d}-" + "x" * 40), "w").close()
        self.mount_bindfs(self.src, self.mnt)
        rc, rep, _ = once("--config", self.config(readdir_entries="250"))
        self.assertEqual(rc, 0, rep)
        self.assertIn("readdir (250 entries)", check(rep, "fuse.mount")["message"])
        rc, rep, _ = once("--config", self.config(readdir_entries="1000"))
        self.assertIn("readdir (306 entries)", check(rep, "fuse.mount")["message"])

    def test_non_fuse_mount_is_crit_naming_its_type(self):
        self.mount_tmpfs(self.mnt)
        rc, rep, _ = once("--fuse", self.mnt)
        self.assertEqual(rc, 2)
        self.assertIn("not a FUSE mount", check(rep, "fuse.mount")["message"])
        self.assertIn("tmpfs", check(rep, "fuse.mount")["message"])

    def test_killed_daemon_is_crit_enotconn(self):
        daemon = self.mount_bindfs(self.src, self.mnt)
        daemon.kill(signal.SIGKILL)
        daemon.proc.wait(10)
        self.assertTrue(mountinfo_entry(self.mnt), "a dead daemon leaves its mount in place")
        rc, rep, _ = once("--fuse", self.mnt)
        self.assertEqual(rc, 2)
        m = check(rep, "fuse.mount")
        self.assertEqual(m["errno_name"], "ENOTCONN")
        self.assertIn("FUSE daemon gone: transport endpoint is not connected", m["message"])

    def test_stopped_daemon_is_crit_hung_then_ok_after_cont(self):
        daemon = self.mount_bindfs(self.src, self.mnt)
        daemon.kill(signal.SIGSTOP)
        rc, rep, _ = once("--config", self.config(timeout="300ms"))
        self.assertEqual(rc, 2)
        m = check(rep, "fuse.mount")
        self.assertEqual(m["error_code"], "HUNG")
        self.assertRegex(m["message"], r"^hung for \d+ ms in statfs: FUSE daemon not answering")
        self.assertGreaterEqual(m["fuse"]["waiting"], 1)
        daemon.kill(signal.SIGCONT)
        rc, rep, _ = once("--config", self.config())
        self.assertEqual(rc, 0, rep)

    def test_faultfs_slow_is_warn_naming_the_operation(self):
        control = self.path("control")
        self.mount_faultfs(self.src, self.mnt, control)
        self.set_fault(control, "slow 300 ops=readdir")
        rc, rep, _ = once("--config", self.config(warn_latency="100ms"))
        self.assertEqual(rc, 1, rep)
        m = check(rep, "fuse.mount")
        self.assertEqual(m["status"], "WARN")
        self.assertRegex(m["message"], r"^slow: readdir took \d+ ms \(threshold 100 ms\)")

    def test_faultfs_eio_on_read_is_crit_eio_on_fuse_read(self):
        control = self.path("control")
        self.mount_faultfs(self.src, self.mnt, control)
        self.set_fault(control, "eio ops=read")
        rc, rep, _ = once("--config", self.config(canary="canary"))
        self.assertEqual(rc, 2)
        self.assertEqual(check(rep, "fuse.mount")["status"], "OK")
        r = check(rep, "fuse.read")
        self.assertEqual(r["errno_name"], "EIO")
        self.assertIn("I/O error from the FUSE file system (EIO in read)", r["message"])

    def test_faultfs_errnos_are_named_with_operator_words(self):
        control = self.path("control")
        self.mount_faultfs(self.src, self.mnt, control)
        for errno_value, name, words in [(116, "ESTALE", "stale file handle"), (13, "EACCES", "permission denied"),
                                         (112, "EHOSTDOWN", "host is down")]:
            with self.subTest(name=name):
                self.set_fault(control, f"errno {errno_value} ops=statfs")
                rc, rep, _ = once("--fuse", self.mnt)
                self.assertEqual(rc, 2)
                m = check(rep, "fuse.mount")
                self.assertEqual(m["errno_name"], name)
                self.assertIn(words, m["message"])

    def test_canary_with_other_content_is_crit(self):
        self.mount_bindfs(self.src, self.mnt)
        rc, rep, _ = once("--config", self.config(canary="canary", expect="something-else"))
        self.assertEqual(rc, 2)
        r = check(rep, "fuse.read")
        self.assertEqual(r["error_code"], "CONTENT_MISMATCH")
        self.assertIn('read "vigil-ok', r["message"])

    def test_missing_canary_is_crit_enoent(self):
        self.mount_bindfs(self.src, self.mnt)
        rc, rep, _ = once("--config", self.config(canary="nope"))
        self.assertEqual(rc, 2)
        self.assertEqual(check(rep, "fuse.read")["errno_name"], "ENOENT")

    def test_table_output_lists_checks_worst_first(self):
        self.mount_bindfs(self.src, self.mnt)
        r = subprocess.run([binary("vigil-agent"), "--once", "--config", self.config(canary="nope")],
                           capture_output=True, text=True, timeout=30)
        self.assertEqual(r.returncode, 2)
        lines = r.stdout.splitlines()
        self.assertIn(": CRIT", lines[0])
        self.assertTrue(lines[2].startswith("STATUS"))
        self.assertTrue(lines[3].startswith("CRIT     fuse.read"))
        self.assertTrue(lines[4].startswith("OK       fuse.mount"))


class AgentConfigErrorsTest(VigilTestCase):
    def run_agent(self, *args):
        return subprocess.run([binary("vigil-agent"), *args], capture_output=True, text=True, timeout=10)

    def test_bad_config_is_one_line_and_exit_2(self):
        cases = [
            (["--fuse", "/m", "--interval", "soon"], "'interval'"),
            (["--fuse", "relative"], "'fuse'"),
            (["--fuse", "/m", "--collector", "ftp://x"], "'collector'"),
            (["--fuse", "/m", "--interval", "5s", "--timeout", "9s"], "'timeout'"),
            (["--config", "/nonexistent.ini"], "cannot read config file"),
            (["--csi-discover", ""], "nothing to check"),
            (["--fuse", "/m", "--no-such-flag"], "--no-such-flag"),
        ]
        for args, words in cases:
            with self.subTest(args=args):
                r = self.run_agent(*args)
                self.assertEqual(r.returncode, 2, r.stderr)
                self.assertEqual(len(r.stderr.strip().splitlines()), 1, r.stderr)
                self.assertIn(words, r.stderr)

    def test_help_lists_every_flag(self):
        r = self.run_agent("--help")
        self.assertEqual(r.returncode, 0)
        for flag in ["--config", "--collector", "--node", "--cluster", "--fuse", "--interval", "--timeout",
                     "--token-file", "--once", "--json", "canary =", "expect =", "warn_latency ="]:
            self.assertIn(flag, r.stdout)


if __name__ == "__main__":
    unittest.main()
