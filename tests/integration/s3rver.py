# SPDX-License-Identifier: MIT
"""s3rver (npm, installed by scripts/setup under tests/s3rver) on loopback, for the UFS tests and
bench/ufs-io: a real S3 REST server with buckets, ListObjectsV2, multipart uploads and S3's error
documents. It checks the access key id (InvalidAccessKeyId) but not V4 signatures. It is started by
tests/s3rver/serve.js, which adds the two multipart calls s3rver 3.7.1 lacks (abort, list uploads).
"""
import os
import signal
import socket
import subprocess
import time

HERE = os.path.dirname(os.path.abspath(__file__))
S3RVER_DIR = os.path.join(HERE, "..", "s3rver")
S3RVER = os.path.join(S3RVER_DIR, "node_modules", ".bin", "s3rver")
SERVE = os.path.join(S3RVER_DIR, "serve.js")
ACCESS_KEY = "S3RVER"
SECRET_KEY = "S3RVER"


def _free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class S3rver:
    """One s3rver process serving data_dir, with bucket created at start; stop() and start() again
    on the same port and data (for outage tests)."""

    def __init__(self, data_dir, log_path, bucket="vigil-test", port=None):
        if not os.access(S3RVER, os.X_OK):
            raise FileNotFoundError(f"{S3RVER} missing: run scripts/setup")
        self.data_dir = data_dir
        self.log_path = log_path
        self.bucket = bucket
        self.port = port or _free_port()
        self.endpoint = f"http://127.0.0.1:{self.port}"
        self.proc = None
        os.makedirs(data_dir, exist_ok=True)

    def start(self, timeout=30):
        log = open(self.log_path, "ab")
        self.proc = subprocess.Popen(
            ["node", "--openssl-legacy-provider", SERVE, self.data_dir, "127.0.0.1", str(self.port), self.bucket],
            stdout=log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL, start_new_session=True)
        log.close()
        deadline = time.monotonic() + timeout
        while True:
            if self.proc.poll() is not None:
                raise RuntimeError(f"s3rver exited: {open(self.log_path).read()}")
            try:
                with socket.create_connection(("127.0.0.1", self.port), timeout=1):
                    break
            except OSError:
                if time.monotonic() > deadline:
                    raise AssertionError(f"s3rver did not listen within {timeout}s")
                time.sleep(0.05)
        # the bucket is configured right after the listen; wait until its directory exists
        while not os.path.isdir(os.path.join(self.data_dir, self.bucket)):
            if time.monotonic() > deadline:
                raise AssertionError("s3rver did not create its bucket")
            time.sleep(0.05)
        return self

    def stop(self, sig=signal.SIGTERM):
        if self.proc and self.proc.poll() is None:
            try:
                os.killpg(self.proc.pid, sig)
            except ProcessLookupError:
                pass
            try:
                self.proc.wait(10)
            except subprocess.TimeoutExpired:
                os.killpg(self.proc.pid, signal.SIGKILL)
                self.proc.wait(10)
        self.proc = None

    def objects(self, prefix=""):
        """The keys stored under prefix, read from s3rver's data directory (not through S3)."""
        root = os.path.join(self.data_dir, self.bucket)
        keys = []
        for dirpath, _dirs, files in os.walk(root):
            for f in files:
                if f.endswith("._S3rver_object"):
                    # "dir/" (a directory marker) is stored as dir/._S3rver_object
                    name = f[: -len("._S3rver_object")]
                    key = os.path.relpath(dirpath, root) + "/" + name if dirpath != root else name
                    if key.startswith(prefix):
                        keys.append(key)
        return sorted(keys)

    def uploads(self):
        """The ids of the multipart uploads s3rver holds (neither completed nor aborted)."""
        d = os.path.join(self.data_dir, self.bucket, "._S3rver_uploads")
        return sorted(os.listdir(d)) if os.path.isdir(d) else []

    def env(self):
        """Environment for a client that takes the standard AWS variables."""
        e = dict(os.environ)
        e.update(AWS_ACCESS_KEY_ID=ACCESS_KEY, AWS_SECRET_ACCESS_KEY=SECRET_KEY, AWS_REGION="us-east-1")
        e.pop("AWS_PROFILE", None)
        e.pop("AWS_SESSION_TOKEN", None)
        return e


def start_s3rver(case, bucket="vigil-test"):
    """An S3rver in the test case's temp dir, started, and stopped at the case's cleanup."""
    s3 = S3rver(case.path("s3"), case.path("s3rver.log"), bucket=bucket)
    s3.start()
    case.addCleanup(s3.stop)
    return s3
