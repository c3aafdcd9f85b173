# SPDX-License-Identifier: MIT
"""vigil-agent as a service: hang safety over many cycles, systemd notification, signals.

The agent's sd_notify messages are the observation channel here: every cycle ends with a
STATUS= line summarising the checks, so a test can count cycles and read results without a
collector.
"""
import os
import signal
import time
import unittest

from vigiltest import FuseTestCase, children_of, fusectl_dir, mountinfo_entry, start_agent_notified, wait_for


def proc_state(pid):
    try:
        with open(f"/proc/{pid}/stat") as f:
            st = f.read()
        return st[st.rindex(")") + 2]
    except OSError:
        return None


class AgentServiceTest(FuseTestCase):
    def test_ready_status_and_watchdog_are_sent_to_systemd(self):
        self.mount_bindfs(self.src, self.mnt)
        agent, n = start_agent_notified(self, ["--fuse", self.mnt, "--interval", "200ms", "--timeout", "100ms"],
                                        {"WATCHDOG_USEC": "400000"})
        wait_for(lambda: n.values("READY"), 10, "READY=1")
        wait_for(lambda: n.values("WATCHDOG"), 10, "WATCHDOG=1")
        wait_for(lambda: "1 check: 1 OK" in n.last_status(), 10, "an OK status line")
        # READY comes with (not before) the first cycle's results.
        first = [m for _, m in n.messages if "READY=1" in m][0]
        self.assertIn("STATUS=1 check: 1 OK", first)

    def test_stopped_daemon_turns_hung_and_cycles_stay_on_time(self):
        daemon = self.mount_bindfs(self.src, self.mnt)
        interval, timeout = 0.3, 0.1
        agent, n = start_agent_notified(self, ["--fuse", self.mnt, "--interval", f"{int(interval * 1000)}ms",
                                               "--timeout", f"{int(timeout * 1000)}ms"])
        wait_for(lambda: "1 OK" in n.last_status(), 10, "healthy first")
        daemon.kill(signal.SIGSTOP)
        stopped = time.monotonic()
        wait_for(lambda: "hung for" in n.last_status(), interval + timeout + 5, "CRIT hung")
        self.assertIn("in statfs", n.last_status())
        # The loop keeps its cadence while every probe hangs: count cycles over a stretch.
        before = len(n.statuses())
        wait_for(lambda: len(n.statuses()) >= before + 8, 8 * interval + 10, "8 more cycles while hung")
        self.assertTrue(all("hung for" in s for s in n.statuses()[before:]))
        self.assertLessEqual(len(children_of(agent.pid)), 1)
        daemon.kill(signal.SIGCONT)
        wait_for(lambda: "1 OK" in n.last_status(), 10, "OK after SIGCONT")
        del stopped

    def test_never_answered_request_keeps_one_stuck_child_until_abort(self):
        control = self.path("control")
        self.mount_faultfs(self.src, self.mnt, control)
        agent, n = start_agent_notified(self, ["--fuse", self.mnt, "--interval", "200ms", "--timeout", "100ms"])
        wait_for(lambda: "1 OK" in n.last_status(), 10, "healthy first")
        self.set_fault(control, "hang ops=statfs")
        wait_for(lambda: "survived SIGKILL" in n.last_status(), 10, "the stuck child to be reported")
        self.assertRegex(n.last_status(), r"hung for [\d.]+ m?s in statfs: probe process \d+ survived SIGKILL")
        # Over many cycles there is exactly one child, always the same, in uninterruptible sleep.
        seen = set()
        end = time.monotonic() + 2.0
        while time.monotonic() < end:
            kids = children_of(agent.pid)
            self.assertLessEqual(len(kids), 1, kids)
            seen.update(pid for pid, _ in kids)
            time.sleep(0.02)
        self.assertEqual(len(seen), 1, seen)
        stuck = seen.pop()
        self.assertEqual(proc_state(stuck), "D")
        with open(fusectl_dir(self.mnt) + "/abort", "w") as f:
            f.write("1")
        wait_for(lambda: not children_of(agent.pid) or
                 all(state != "D" for _, state in children_of(agent.pid)) and stuck not in
                 [pid for pid, _ in children_of(agent.pid)], 10, "the stuck child to be reaped after abort")
        wait_for(lambda: "survived" not in n.last_status() and "CRIT" in n.last_status(), 10,
                 "an aborted connection reported as such")
        self.assertRegex(n.last_status(), "ENOTCONN|ECONNABORTED")

    def test_200_hung_cycles_leave_no_zombie_or_extra_child(self):
        daemon = self.mount_bindfs(self.src, self.mnt)
        daemon.kill(signal.SIGSTOP)
        agent, n = start_agent_notified(self, ["--fuse", self.mnt, "--interval", "40ms", "--timeout", "15ms"])
        max_children = max_zombies = 0
        while len(n.statuses()) < 200:
            self.assertTrue(agent.alive(), agent.output())
            kids = children_of(agent.pid)
            max_children = max(max_children, len(kids))
            max_zombies = max(max_zombies, sum(1 for _, s in kids if s == "Z"))
            time.sleep(0.005)
            self.assertLess(time.monotonic() - n.messages[0][0] if n.messages else 0, 120, "200 cycles took too long")
        self.assertTrue(all("hung for" in s for s in n.statuses()[:200]))
        self.assertLessEqual(max_children, 1)
        self.assertLessEqual(max_zombies, 1)  # a killed child may be seen for an instant before reaping
        agent.kill(signal.SIGTERM)
        agent.proc.wait(10)
        daemon.kill(signal.SIGCONT)

    def test_sighup_reloads_the_config_file_and_keeps_bad_edits_out(self):
        self.mount_bindfs(self.src, self.mnt)
        cfg = self.path("agent.ini")
        with open(cfg, "w") as f:
            f.write(f"[agent]\ninterval = 200ms\ntimeout = 100ms\n[fuse {self.mnt}]\n")
        agent, n = start_agent_notified(self, ["--config", cfg])
        wait_for(lambda: "1 check: 1 OK" in n.last_status(), 10, "one check")
        with open(cfg, "a") as f:
            f.write("canary = canary\nexpect = vigil-ok\n")
        agent.kill(signal.SIGHUP)
        wait_for(lambda: "2 checks: 2 OK" in n.last_status(), 10, "two checks after reload")
        with open(cfg, "w") as f:
            f.write("[agent]\ninterval = often\n")
        agent.kill(signal.SIGHUP)
        wait_for(lambda: "Reload failed" in agent.output(), 10, "the reload error in the log")
        self.assertIn("'interval'", agent.output())
        count = len(n.statuses())
        wait_for(lambda: len(n.statuses()) > count + 2, 10, "cycles to go on with the old config")
        self.assertIn("2 checks: 2 OK", n.last_status())

    def test_sigterm_stops_cleanly_and_leaves_the_mount(self):
        self.mount_bindfs(self.src, self.mnt)
        agent, n = start_agent_notified(self, ["--fuse", self.mnt, "--interval", "200ms", "--timeout", "100ms"])
        wait_for(lambda: n.values("READY"), 10, "READY=1")
        agent.kill(signal.SIGTERM)
        self.assertEqual(agent.proc.wait(10), 0)
        wait_for(lambda: n.values("STOPPING"), 5, "STOPPING=1")
        self.assertTrue(mountinfo_entry(self.mnt))

    def test_unreachable_collector_never_stops_probing(self):
        self.mount_bindfs(self.src, self.mnt)
        # A port nothing listens on: every upload fails, probing goes on and reports queue up.
        agent, n = start_agent_notified(self, ["--fuse", self.mnt, "--interval", "100ms", "--timeout", "50ms",
                                               "--collector", "http://127.0.0.1:9", "--queue-max", "5"])
        wait_for(lambda: len(n.statuses()) >= 15, 20, "15 cycles")
        self.assertRegex(n.last_status(), r"queued 5, dropped [1-9]")
        self.assertEqual(agent.output().count("Cannot ship reports to http://127.0.0.1:9/v1/reports"), 1,
                         agent.output())
        self.assertIn("Connection refused", agent.output())


if __name__ == "__main__":
    unittest.main()
