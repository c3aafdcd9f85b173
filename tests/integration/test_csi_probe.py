# SPDX-License-Identifier: MIT
"""The CSI probe against a real gRPC server (python3-grpcio) on a unix socket, via the agent."""
import os
import signal
import socket
import subprocess
import unittest

from vigiltest import VigilTestCase, binary, start_agent_notified, start_csi_server, wait_for


def once(*args):
    import json
    r = subprocess.run([binary("vigil-agent"), "--once", "--json", "--csi-discover", "", *args], capture_output=True,
                       text=True, timeout=60)
    return r.returncode, (json.loads(r.stdout) if r.stdout.strip() else None), r.stderr


class CsiProbeTest(VigilTestCase):
    def setUp(self):
        super().setUp()
        self.sock = self.path("csi.sock")
        self.control = self.path("csi.ctl")

    def config(self, **keys):
        path = self.path("agent.ini")
        with open(path, "w") as f:
            f.write(f"[csi {self.sock}]\n")
            for k, v in keys.items():
                f.write(f"{k} = {v}\n")
        return path

    def probe(self, mode, **keys):
        with open(self.control, "w") as f:
            f.write(mode + "\n")
        rc, rep, err = once("--config", self.config(**keys))
        self.assertIsNotNone(rep, err)
        self.assertEqual(len(rep["checks"]), 1)
        check = rep["checks"][0]
        self.assertEqual(check["name"], "csi.probe")
        self.assertEqual(check["target"], self.sock)
        return rc, check

    def test_healthy_plugin_is_ok_with_name_version_and_capabilities(self):
        start_csi_server(self, self.sock, self.control)
        rc, c = self.probe("healthy")
        self.assertEqual(rc, 0, c)
        self.assertEqual(c["message"],
                         "csi.alluxio.com 2.9.0-test ready; node capabilities: STAGE_UNSTAGE_VOLUME, GET_VOLUME_STATS")
        self.assertEqual(c["details"]["plugin"], "csi.alluxio.com")
        self.assertEqual(c["details"]["vendor_version"], "2.9.0-test")
        for call in ("GetPluginInfo", "Probe", "NodeGetCapabilities"):
            self.assertEqual(c["details"][f"{call}_status"], "OK")
            self.assertIn(f"{call}_ms", c["details"])

    def test_not_ready_is_crit(self):
        start_csi_server(self, self.sock, self.control)
        rc, c = self.probe("not-ready")
        self.assertEqual(rc, 2)
        self.assertEqual(c["error_code"], "NOT_READY")
        self.assertIn("plugin reports not ready", c["message"])

    def test_absent_ready_field_counts_as_ready(self):
        start_csi_server(self, self.sock, self.control)
        rc, c = self.probe("no-ready")
        self.assertEqual(rc, 0)
        self.assertIn("no ready field", c["message"])

    def test_slow_beyond_the_deadline_is_crit_deadline_exceeded(self):
        start_csi_server(self, self.sock, self.control)
        rc, c = self.probe("slow 5", call_timeout="400ms")
        self.assertEqual(rc, 2)
        self.assertEqual(c["errno_name"], "ETIMEDOUT")
        self.assertEqual(c["message"], "Probe: no answer within 400 ms (DEADLINE_EXCEEDED)")

    def test_unimplemented_probe_is_crit_but_unimplemented_node_service_is_not(self):
        start_csi_server(self, self.sock, self.control)
        rc, c = self.probe("unimplemented")
        self.assertEqual(rc, 2)
        self.assertEqual(c["error_code"], "UNIMPLEMENTED")
        self.assertEqual(c["message"], "Probe failed: UNIMPLEMENTED: Probe is not implemented")
        rc, c = self.probe("node-unimplemented")
        self.assertEqual(rc, 0, c)
        self.assertIn("Node service not implemented", c["message"])

    def test_error_status_is_crit_with_the_servers_message(self):
        start_csi_server(self, self.sock, self.control)
        rc, c = self.probe("error")
        self.assertEqual(rc, 2)
        self.assertEqual(c["error_code"], "INTERNAL")
        self.assertEqual(c["message"], "GetPluginInfo failed: INTERNAL: backend exploded: 50% of disks gone")

    def test_missing_socket_is_crit_socket_missing(self):
        rc, c = self.probe("healthy")
        self.assertEqual(rc, 2)
        self.assertEqual(c["error_code"], "SOCKET_MISSING")
        self.assertEqual(c["message"], f"socket missing: {self.sock} does not exist")

    def test_a_file_that_is_not_a_socket_is_crit(self):
        open(self.sock, "w").close()
        rc, c = self.probe("healthy")
        self.assertEqual(rc, 2)
        self.assertEqual(c["errno_name"], "ENOTSOCK")

    def test_socket_with_nothing_listening_is_crit_connection_refused(self):
        s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        s.bind(self.sock)  # bound, never listening: connect() is refused
        self.addCleanup(s.close)
        rc, c = self.probe("healthy")
        self.assertEqual(rc, 2)
        self.assertEqual(c["errno_name"], "ECONNREFUSED")
        self.assertEqual(c["message"], "nothing listening on the socket (ECONNREFUSED)")

    def test_sockets_are_discovered_and_a_deleted_one_turns_crit(self):
        plugins = self.path("plugins")
        os.makedirs(os.path.join(plugins, "csi.alluxio.com"))
        sock = os.path.join(plugins, "csi.alluxio.com", "csi.sock")
        server = start_csi_server(self, sock, self.control)
        agent, n = start_agent_notified(self, ["--csi-discover", os.path.join(plugins, "*", "csi.sock"),
                                               "--interval", "5s"])
        wait_for(lambda: "1 check: 1 OK" in n.last_status(), 20, "the discovered socket probed OK")
        self.assertIn(f"found CSI socket {sock}", agent.output())
        server.stop(signal.SIGKILL)
        os.unlink(sock)
        wait_for(lambda: "socket missing" in n.last_status(), 20, "CRIT socket missing after deletion")


class GrpcBenchSmokeTest(VigilTestCase):
    """bench/grpc-probe runs (its figures are not judged here)."""

    def test_bench_runs_and_prints_both_clients(self):
        bench = os.path.join(os.path.dirname(__file__), "../../bench/grpc-probe")
        r = subprocess.run([bench, os.environ.get("VIGIL_BUILD_DIR", "build"), "--calls", "50"], capture_output=True,
                           text=True, timeout=120)
        self.assertEqual(r.returncode, 0, r.stdout + r.stderr)
        self.assertIn("vigil grpc-client", r.stdout)
        self.assertIn("python3-grpcio", r.stdout)


if __name__ == "__main__":
    unittest.main()
