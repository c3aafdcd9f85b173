# SPDX-License-Identifier: MIT
"""A real etcd cluster for vigil's integration tests (Debian's etcd-server 3.4 and etcdctl).

EtcdCluster starts N members on loopback ports with their data in the test's temp dir, optionally
with TLS on the client URLs (certificates made here with openssl: a CA, a server certificate with
IP SAN 127.0.0.1, a client certificate), stops and starts single members, and writes keys with
etcdctl (ETCDCTL_API=3), live ones under a lease. Everything it starts is stopped by the test
case's cleanups, also when the test fails; waiting is always on a condition with a deadline.
"""
import json
import os
import shutil
import subprocess

import vigiltest
from vigiltest import Process, free_port, wait_for

ETCD = shutil.which("etcd") or "/usr/bin/etcd"
ETCDCTL = shutil.which("etcdctl") or "/usr/bin/etcdctl"



def openssl(*args, cwd):
    subprocess.run(["openssl", *args], cwd=cwd, check=True, capture_output=True, timeout=60)


class Certificates:
    """A CA and, signed by it, a server certificate for 127.0.0.1/localhost and a client one."""

    def __init__(self, directory, name="ca"):
        self.dir = directory
        os.makedirs(directory, exist_ok=True)
        p = lambda f: os.path.join(directory, f)  # noqa: E731
        self.ca, self.ca_key = p(f"{name}.pem"), p(f"{name}-key.pem")
        self.server, self.server_key = p("server.pem"), p("server-key.pem")
        self.client, self.client_key = p("client.pem"), p("client-key.pem")
        openssl("req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "2", "-subj", f"/CN=vigil test {name}",
                "-keyout", self.ca_key, "-out", self.ca, cwd=directory)
        self._sign("server", self.server, self.server_key,
                   "subjectAltName=IP:127.0.0.1,DNS:localhost\nextendedKeyUsage=serverAuth,clientAuth\n")
        self._sign("client", self.client, self.client_key, "extendedKeyUsage=clientAuth\n")

    def _sign(self, cn, cert, key, extensions):
        csr = os.path.join(self.dir, f"{cn}.csr")
        ext = os.path.join(self.dir, f"{cn}.ext")
        with open(ext, "w") as f:
            f.write(extensions)
        openssl("req", "-newkey", "rsa:2048", "-nodes", "-subj", f"/CN={cn}", "-keyout", key, "-out", csr,
                cwd=self.dir)
        openssl("x509", "-req", "-in", csr, "-CA", self.ca, "-CAkey", self.ca_key, "-CAcreateserial", "-days", "2",
                "-extfile", ext, "-out", cert, cwd=self.dir)


class EtcdMember:
    def __init__(self, name, client_port, peer_port, data_dir, scheme):
        self.name = name
        self.client_port = client_port
        self.peer_port = peer_port
        self.data_dir = data_dir
        self.client_url = f"{scheme}://127.0.0.1:{client_port}"
        self.peer_url = f"http://127.0.0.1:{peer_port}"
        self.process = None

    def running(self):
        return self.process is not None and self.process.alive()


class EtcdCluster:
    """N etcd members on loopback; tls=True serves the client URLs over https with self.certs."""

    def __init__(self, case, size=3, tls=False, client_cert_auth=False, prefix="etcd"):
        self.case = case
        self.tls = tls
        self.client_cert_auth = client_cert_auth
        self.token = f"vigil-{prefix}-{os.getpid()}-{free_port()}"
        self.certs = Certificates(case.path(f"{prefix}-certs")) if tls else None
        scheme = "https" if tls else "http"
        self.members = [EtcdMember(f"{prefix}-{i}", free_port(), free_port(), case.path(f"{prefix}-{i}.data"), scheme)
                        for i in range(size)]
        self.initial_cluster = ",".join(f"{m.name}={m.peer_url}" for m in self.members)

    @property
    def endpoints(self):
        return [m.client_url for m in self.members]

    def _argv(self, m):
        argv = [ETCD, "--name", m.name, "--data-dir", m.data_dir,
                "--listen-client-urls", m.client_url, "--advertise-client-urls", m.client_url,
                "--listen-peer-urls", m.peer_url, "--initial-advertise-peer-urls", m.peer_url,
                "--initial-cluster", self.initial_cluster, "--initial-cluster-state", "new",
                "--initial-cluster-token", self.token]
        if self.tls:
            argv += ["--cert-file", self.certs.server, "--key-file", self.certs.server_key,
                     "--trusted-ca-file", self.certs.ca]
            if self.client_cert_auth:
                argv += ["--client-cert-auth"]
        return argv

    def start_member(self, i):
        m = self.members[i]
        assert not m.running(), f"{m.name} is already running"
        m.process = Process(self._argv(m), self.case.path(f"{m.name}.log"))
        self.case.addCleanup(m.process.stop)
        return m

    def stop_member(self, i):
        m = self.members[i]
        if m.process is not None:
            m.process.stop()
        # Stopped means refusing connections, which is what the checks are expected to see.
        wait_for(lambda: not self._port_open(m.client_port), 10, f"{m.name} to stop listening")

    @staticmethod
    def _port_open(port):
        import socket
        with socket.socket() as s:
            s.settimeout(0.5)
            return s.connect_ex(("127.0.0.1", port)) == 0

    def start(self):
        for i in range(len(self.members)):
            self.start_member(i)
        self.wait_healthy()
        return self

    def wait_healthy(self, timeout=30):
        """Waits until every running member answers a quorum read (etcdctl endpoint health)."""
        for m in self.members:
            if not m.running():
                continue
            wait_for(lambda: self.etcdctl("endpoint", "health", endpoints=[m.client_url], check=False).returncode == 0
                     or not m.running(), timeout, f"{m.name} healthy")
            assert m.running(), f"{m.name} exited:\n" + m.process.output()[-3000:]

    def leader_index(self):
        """Index of the member that is the leader, asked with etcdctl (the test's own view)."""
        running = [m.client_url for m in self.members if m.running()]
        r = self.etcdctl("endpoint", "status", "-w", "json", endpoints=running)
        for st in json.loads(r.stdout):
            if st["Status"]["header"]["member_id"] == st["Status"]["leader"]:
                return self.endpoints.index(st["Endpoint"])
        return None

    # --- etcdctl ---------------------------------------------------------------------------
    def etcdctl(self, *args, endpoints=None, check=True, timeout=30):
        env = dict(os.environ, ETCDCTL_API="3")
        argv = [ETCDCTL, "--endpoints", ",".join(endpoints or self.endpoints), "--command-timeout", "5s"]
        if self.tls:
            argv += ["--cacert", self.certs.ca, "--cert", self.certs.client, "--key", self.certs.client_key]
        r = subprocess.run(argv + list(args), capture_output=True, text=True, env=env, timeout=timeout)
        if check and r.returncode != 0:
            raise AssertionError(f"etcdctl {' '.join(args)} failed: {r.stdout}{r.stderr}")
        return r

    def lease_grant(self, ttl=60):
        """A new lease (its hex id, as etcdctl wants it back)."""
        out = self.etcdctl("lease", "grant", str(ttl)).stdout
        # "lease 694d77aa9e38260f granted with TTL(60s)"
        return out.split()[1]

    def lease_revoke(self, lease):
        self.etcdctl("lease", "revoke", lease)

    def put(self, key, value, lease=None):
        args = ["put"]
        if lease:
            args.append(f"--lease={lease}")
        # "--" so that values starting with '-' are not taken for flags.
        self.etcdctl(*args, "--", key, value)
