# SPDX-License-Identifier: MIT
"""Shared harness for vigil's integration tests: real processes, real mounts, always cleaned up.

Every helper here registers its own cleanup with the test case (addCleanup), so a failing test
still stops its servers and unmounts its file systems. Waiting is always on a condition with a
deadline (wait_for), never a bare sleep.
"""
import json
import os
import re
import signal
import socket
import subprocess
import tempfile
import time
import unittest
import urllib.error
import urllib.request

BUILD = os.path.abspath(os.environ.get("VIGIL_BUILD_DIR", os.path.join(os.path.dirname(__file__), "../../build")))
SOURCE = os.path.abspath(os.path.join(os.path.dirname(__file__), "../.."))
METRICS_DOC = os.path.join(SOURCE, "docs/metrics.md")

BINARIES = {
    "vigil-agent": "agent/vigil-agent",
    "vigil-collector": "collector/vigil-collector",
    "vigilctl": "collector/ctl/vigilctl",
    "faultfs": "tests/faultfs/faultfs",
    "post-report": "tests/helpers/post-report",
    "etcd-probe": "tests/helpers/etcd-probe",
}


def binary(name):
    path = os.path.join(BUILD, BINARIES[name])
    if not os.access(path, os.X_OK):
        raise FileNotFoundError(f"{path} not built")
    return path


def wait_for(pred, timeout, what, interval=0.02):
    """Calls pred until it returns a true value (returned) or timeout seconds pass (AssertionError)."""
    deadline = time.monotonic() + timeout
    last_exc = None
    while True:
        try:
            v = pred()
            if v:
                return v
        except Exception as e:  # the condition may not be ready to evaluate yet
            last_exc = e
        if time.monotonic() >= deadline:
            raise AssertionError(f"timed out after {timeout}s waiting for {what}" +
                                 (f" (last error: {last_exc!r})" if last_exc else ""))
        time.sleep(interval)


def documented_metrics():
    """{name: set of labels} from the table of docs/metrics.md's exposition section."""
    metrics = {}
    with open(METRICS_DOC, encoding="utf-8") as f:
        for line in f:
            if not line.startswith("| `vigil_"):
                continue
            cells = [c.strip() for c in line.strip().strip("|").split("|")]
            labels = set(re.findall(r"`([a-z_]+)`", re.sub(r"\([^)]*\)", "", cells[1])))
            for name in re.findall(r"`(vigil_[a-z0-9_]+)`", cells[0]):
                metrics[name] = labels
    return metrics


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def http(method, url, body=None, headers=None, timeout=10):
    """Returns (status, body bytes, headers) for any HTTP status."""
    req = urllib.request.Request(url, data=body, method=method, headers=headers or {})
    try:
        with urllib.request.urlopen(req, timeout=timeout) as r:
            return r.status, r.read(), dict(r.headers)
    except urllib.error.HTTPError as e:
        return e.code, e.read(), dict(e.headers)


def mountinfo_entry(path):
    """The /proc/self/mountinfo fields of the mount at path, or None."""
    path = os.path.realpath(path)
    with open("/proc/self/mountinfo") as f:
        for line in f:
            fields = line.split()
            mnt = fields[4].replace("\\040", " ").replace("\\011", "\t").replace("\\012", "\n").replace("\\134", "\\")
            if mnt == path:
                sep = fields.index("-")
                return {"majmin": fields[2], "fstype": fields[sep + 1], "source": fields[sep + 2]}
    return None


def fusectl_dir(path):
    """/sys/fs/fuse/connections/<minor> of the FUSE mount at path (mounting fusectl if needed)."""
    e = mountinfo_entry(path)
    if not e:
        return None
    if not os.listdir("/sys/fs/fuse/connections"):
        subprocess.run(["mount", "-t", "fusectl", "none", "/sys/fs/fuse/connections"], check=False)
    return "/sys/fs/fuse/connections/" + e["majmin"].split(":")[1]


class Process:
    """A child process with its output in a file; stopped at cleanup."""

    def __init__(self, argv, log_path, env=None):
        self.argv = argv
        self.log_path = log_path
        self.log = open(log_path, "ab")
        self.proc = subprocess.Popen(argv, stdout=self.log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
                                     env=env, start_new_session=True)

    @property
    def pid(self):
        return self.proc.pid

    def alive(self):
        return self.proc.poll() is None

    def kill(self, sig):
        if self.alive():
            os.kill(self.proc.pid, sig)

    def stop(self, sig=signal.SIGTERM, timeout=10):
        if self.proc.poll() is None:
            try:
                os.kill(self.proc.pid, sig)
            except ProcessLookupError:
                pass
            try:
                self.proc.wait(timeout)
            except subprocess.TimeoutExpired:
                os.kill(self.proc.pid, signal.SIGKILL)
                self.proc.wait(10)
        self.log.close()
        return self.proc.returncode

    def output(self):
        with open(self.log_path, "rb") as f:
            return f.read().decode(errors="replace")


class VigilTestCase(unittest.TestCase):
    """Base class: self.tmp is a fresh directory removed at the end (after unmounting)."""

    def setUp(self):
        self._tmpdir = tempfile.TemporaryDirectory(prefix="vigil-test-")
        self.tmp = self._tmpdir.name
        self.addCleanup(self._tmpdir.cleanup)

    def path(self, *parts):
        return os.path.join(self.tmp, *parts)

    def start(self, name, argv, env=None):
        p = Process(argv, self.path(f"{name}.log"), env=env)
        self.addCleanup(p.stop)
        return p

    # --- collector -------------------------------------------------------------------------
    def start_collector(self, db=None, token_file=None, extra=(), port=None, name="collector"):
        port = port or free_port()
        db = db or self.path("collector.db")
        argv = [binary("vigil-collector"), "--listen", f"127.0.0.1:{port}", "--db", db, *extra]
        if token_file:
            argv += ["--token-file", token_file]
        p = self.start(name, argv)
        url = f"http://127.0.0.1:{port}"
        wait_for(lambda: http("GET", url + "/healthz", timeout=1)[0] == 200 or not p.alive(), 10,
                 "collector /healthz")
        self.assertTrue(p.alive(), "collector exited: " + p.output())
        p.url = url
        p.port = port
        return p

    def vigilctl(self, collector_url, *args, token_file=None):
        """Runs vigilctl; returns (exit code, stdout, parsed JSON or None)."""
        argv = [binary("vigilctl"), "--collector", collector_url]
        if token_file:
            argv += ["--token-file", token_file]
        r = subprocess.run(argv + list(args), capture_output=True, text=True, timeout=30)
        data = None
        if "--json" in args and r.stdout.strip():
            data = json.loads(r.stdout)
        return r.returncode, r.stdout + r.stderr, data

    # --- mounts ----------------------------------------------------------------------------
    def _unmount(self, mnt, daemon):
        d = None
        if mountinfo_entry(mnt):
            d = fusectl_dir(mnt)
        if d and os.path.exists(d + "/abort"):
            # Fails every pending request so nothing stays stuck on this mount.
            with open(d + "/abort", "w") as f:
                f.write("1")
        if daemon is not None:
            daemon.kill(signal.SIGCONT)
        subprocess.run(["fusermount3", "-uz", mnt], capture_output=True)
        subprocess.run(["umount", "-l", mnt], capture_output=True)
        if daemon is not None:
            daemon.stop(signal.SIGKILL)

    def mount_bindfs(self, src, mnt):
        os.makedirs(src, exist_ok=True)
        os.makedirs(mnt, exist_ok=True)
        # -f keeps bindfs in the foreground so the test owns the daemon's pid.
        p = Process(["bindfs", "-f", "--no-allow-other", src, mnt], self.path("bindfs.log"))
        self.addCleanup(self._unmount, mnt, p)
        wait_for(lambda: mountinfo_entry(mnt), 10, f"bindfs mount at {mnt}")
        return p

    def mount_faultfs(self, src, mnt, control):
        os.makedirs(src, exist_ok=True)
        os.makedirs(mnt, exist_ok=True)
        p = Process([binary("faultfs"), "--control", control, "-f", src, mnt], self.path("faultfs.log"))
        self.addCleanup(self._unmount, mnt, p)
        wait_for(lambda: mountinfo_entry(mnt), 10, f"faultfs mount at {mnt}")
        return p

    def mount_tmpfs(self, mnt, size="8m"):
        """A tmpfs of size on mnt, unmounted at cleanup: a real small or full disk."""
        os.makedirs(mnt, exist_ok=True)
        subprocess.run(["mount", "-t", "tmpfs", "-o", f"size={size}", "vigil-test-tmpfs", mnt], check=True)
        self.addCleanup(subprocess.run, ["umount", "-l", mnt], capture_output=True)
        return mnt

    def set_fault(self, control, line):
        tmp = control + ".tmp"
        with open(tmp, "w") as f:
            f.write(line + "\n")
        os.rename(tmp, control)


class FuseTestCase(VigilTestCase):
    """A VigilTestCase with a source directory (self.src: a canary file holding CANARY and a few
    files) and a mount point (self.mnt) to mount it on."""

    CANARY = "vigil-ok\n"

    def setUp(self):
        super().setUp()
        self.src = self.path("src")
        self.mnt = self.path("mnt")
        os.makedirs(self.src)
        with open(os.path.join(self.src, "canary"), "w") as f:
            f.write(self.CANARY)
        for i in range(3):
            open(os.path.join(self.src, f"file{i}"), "w").close()


SYSTEM_PYTHON = "/usr/bin/python3"  # Debian's python, which has python3-grpcio


def start_csi_server(case, socket_path, control, name="csi-server"):
    """Starts tests/integration/csi_server.py on socket_path; returns the process once it serves."""
    p = case.start(name, [SYSTEM_PYTHON, os.path.join(os.path.dirname(__file__), "csi_server.py"), socket_path,
                          control])
    wait_for(lambda: os.path.exists(socket_path) or not p.alive(), 20, f"CSI server on {socket_path}")
    if not p.alive():
        raise AssertionError("CSI server exited: " + p.output())
    return p


def children_of(pid):
    """Pids of the direct children of pid (zombies included)."""
    out = []
    for d in os.listdir("/proc"):
        if not d.isdigit():
            continue
        try:
            with open(f"/proc/{d}/stat") as f:
                st = f.read()
        except OSError:
            continue
        fields = st[st.rindex(")") + 2:].split()
        if int(fields[1]) == pid:
            out.append((int(d), fields[0]))
    return out


class NotifyListener:
    """A NOTIFY_SOCKET (AF_UNIX datagram) that records what a service sends with sd_notify."""

    def __init__(self, path):
        import threading
        self.path = path
        self.sock = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
        self.sock.bind(path)
        self.sock.settimeout(0.1)
        self.messages = []
        self.lock = threading.Lock()
        self.running = True
        self.thread = threading.Thread(target=self._loop, daemon=True)
        self.thread.start()

    def _loop(self):
        while self.running:
            try:
                data = self.sock.recv(65536)
            except socket.timeout:
                continue
            except OSError:
                return
            with self.lock:
                self.messages.append((time.monotonic(), data.decode(errors="replace")))

    def close(self):
        self.running = False
        self.thread.join(2)
        self.sock.close()

    def values(self, key):
        """Every value sent for key (e.g. "STATUS"), in order, with its arrival time."""
        out = []
        with self.lock:
            for t, msg in self.messages:
                for line in msg.split("\n"):
                    if line.startswith(key + "="):
                        out.append((t, line[len(key) + 1:]))
        return out

    def statuses(self):
        return [v for _, v in self.values("STATUS")]

    def last_status(self):
        s = self.statuses()
        return s[-1] if s else ""


def start_agent_notified(case, args, extra_env=None):
    """Starts vigil-agent with a NOTIFY_SOCKET; returns (process, listener)."""
    listener = NotifyListener(case.path("notify.sock"))
    case.addCleanup(listener.close)
    env = dict(os.environ, NOTIFY_SOCKET=listener.path, **(extra_env or {}))
    p = case.start("agent", [binary("vigil-agent"), *args], env=env)
    return p, listener
