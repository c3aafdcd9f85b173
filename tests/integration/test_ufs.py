# SPDX-License-Identifier: MIT
"""vigilctl ufs-test and ufs-io-test against a real S3 server (s3rver on loopback) and a temp dir:
the whole suite passes on both and leaves nothing behind; the io test's JSON has ufsIOTest's fields
and its byte totals equal threads x io-size; a server stopped mid-suite, a missing bucket, an unknown
access key and Ctrl-C give operator words, a non-zero exit and no leftovers.
"""
import json
import os
import re
import signal
import subprocess
import sys
import unittest

from s3rver import start_s3rver
from vigiltest import VigilTestCase, binary, wait_for

SUITE_FAST = ["--list-retry-timeout", "10s", "--large-dir-files", "40"]


class UfsTestCase(VigilTestCase):
    def setUp(self):
        super().setUp()
        self.s3 = start_s3rver(self)
        # vigilctl must leave no local state: whatever it might create goes here
        self.local_tmp = self.path("local-tmp")
        os.makedirs(self.local_tmp)

    def env(self):
        e = self.s3.env()
        e["TMPDIR"] = self.local_tmp
        return e

    def s3_args(self, prefix="ready/check"):
        return ["--path", f"s3://{self.s3.bucket}/{prefix}", "--endpoint", self.s3.endpoint]

    def ctl(self, *args, timeout=600, env=None):
        r = subprocess.run([binary("vigilctl"), *args], capture_output=True, text=True, timeout=timeout,
                           env=env or self.env())
        return r.returncode, r.stdout, r.stderr

    def ctl_bg(self, *args):
        log = open(self.path("vigilctl.out"), "wb")
        p = subprocess.Popen([binary("vigilctl"), *args], stdout=log, stderr=subprocess.STDOUT,
                             env=self.env(), start_new_session=True)
        log.close()
        self.addCleanup(lambda: p.poll() is None and (p.kill(), p.wait()))
        return p

    def bg_output(self):
        with open(self.path("vigilctl.out")) as f:
            return f.read()

    def assert_no_local_state(self):
        self.assertEqual(os.listdir(self.local_tmp), [], "vigilctl left local files")


class SuiteTest(UfsTestCase):
    def test_whole_suite_passes_on_s3rver_and_leaves_nothing(self):
        code, out, err = self.ctl("ufs-test", *self.s3_args(), *SUITE_FAST)
        self.assertEqual(code, 0, out + err)
        self.assertIn("Running test: createAtomicTest...", out)
        self.assertIn("Running test: createAndAbortMultipartFileTest...", out)
        self.assertIn("Running test: objectCommonPrefixesListStatusRecursiveTest...", out)
        self.assertTrue(out.rstrip().endswith("Tests completed with 0 failed."), out)
        self.assertNotIn("Failed the test!", out)
        self.assertEqual(self.s3.objects("ready/"), [])
        self.assertEqual(self.s3.uploads(), [])
        self.assert_no_local_state()

    def test_json_lists_every_test_with_its_result(self):
        code, out, err = self.ctl("ufs-test", *self.s3_args(), *SUITE_FAST, "--json")
        self.assertEqual(code, 0, err)
        doc = json.loads(out)
        results = {t["name"]: t["result"] for t in doc["tests"]}
        self.assertEqual(results["createNoParentTest"], "SKIPPED")  # s3 has no real directories
        self.assertEqual(results["createFileLessThanOnePartTest"], "PASSED")
        self.assertEqual(doc["failed"], 0)
        self.assertEqual(doc["passed"], len([r for r in results.values() if r == "PASSED"]))
        self.assertGreaterEqual(doc["passed"], 40)
        self.assertTrue(all(isinstance(t["timeMs"], int) for t in doc["tests"]))

    def test_whole_suite_passes_on_a_temp_dir_and_leaves_nothing(self):
        root = self.path("ufs-root")
        os.makedirs(root)
        code, out, err = self.ctl("ufs-test", "--path", "file://" + root, *SUITE_FAST)
        self.assertEqual(code, 0, out + err)
        self.assertIn("Running test: createNoParentTest...", out)  # real directories here
        # multipart is S3's: the only tests that do not apply
        skipped = [l for l in out.splitlines() if l.startswith("Skipped")]
        self.assertEqual(skipped, ["Skipped: createFileLessThanOnePartTest does not apply here",
                                   "Skipped: createAndAbortMultipartFileTest does not apply here"])
        self.assertTrue(out.rstrip().endswith("Tests completed with 0 failed."), out)
        self.assertEqual(os.listdir(root), [])
        self.assert_no_local_state()

    def test_one_test_by_name_with_or_without_the_suffix(self):
        code, out, _ = self.ctl("ufs-test", *self.s3_args(), "--test", "createAtomic", "--test", "renameFileTest")
        self.assertEqual(code, 0, out)
        self.assertEqual(out.count("Running test:"), 2, out)
        code, _, err = self.ctl("ufs-test", *self.s3_args(), "--test", "noSuchTest")
        self.assertEqual(code, 3)
        self.assertIn("no test called 'noSuchTest'", err)

    def test_server_stopped_mid_suite_fails_tests_with_a_reason(self):
        p = self.ctl_bg("ufs-test", *self.s3_args(), *SUITE_FAST, "--timeout", "5s")
        wait_for(lambda: self.bg_output().count("Passed the test!") >= 5, 120, "five tests passed")
        self.s3.stop(signal.SIGKILL)
        code = p.wait(300)
        out = self.bg_output()
        self.assertEqual(code, 2, out)
        self.assertIn("Failed the test!", out)
        # a killed server: refused, or reset where a kept-alive connection was in use
        self.assertRegex(out, r"reason: .*(refused|ECONNREFUSED|ECONNRESET)")
        # after the first failure and one look at the root, the rest are not run
        self.assertIn("reason: not run: the UFS stopped answering (ECONN", out)
        self.assertRegex(out, r"Tests completed with [1-9][0-9]* failed\.")
        # the run directory could not be removed either: vigilctl names it
        self.assertRegex(out, r"vigil-ufs-test-[0-9]+-[0-9a-f]+")
        self.assert_no_local_state()

    def test_server_frozen_mid_suite_stops_the_rest_after_one_more_look(self):
        p = self.ctl_bg("ufs-test", *self.s3_args(), *SUITE_FAST, "--timeout", "2s")
        wait_for(lambda: self.bg_output().count("Passed the test!") >= 5, 120, "five tests passed")
        os.killpg(self.s3.proc.pid, signal.SIGSTOP)
        self.addCleanup(os.killpg, self.s3.proc.pid, signal.SIGCONT)
        # each further test would wait out the timeout: one does, a look at the root does, the rest
        # are not run (with 38 tests at the default 30 s the suite would take 19 minutes)
        code = p.wait(120)
        out = self.bg_output()
        self.assertEqual(code, 2, out)
        self.assertRegex(out, r"reason: .*ETIMEDOUT: .*: no answer: nothing moved for 2")
        not_run = out.count("reason: not run: the UFS stopped answering (")
        self.assertGreater(not_run, 20, out)
        failed = int(re.search(r"Tests completed with ([0-9]+) failed\.", out).group(1))
        self.assertEqual(failed, not_run + 1, out)
        # every selected test is still reported, in order
        self.assertIn("Running test: createAndAbortMultipartFileTest...", out)
        # the clean-up could not reach the UFS either: vigilctl names what is left
        self.assertRegex(out, r"cannot remove the run directory vigil-ufs-test-[0-9]+-[0-9]+-[0-9a-f]+")
        self.assert_no_local_state()

    def test_full_disk_fails_the_writing_tests_with_enospc_and_leaves_only_the_filler(self):
        root = self.mount_tmpfs(self.path("full"), "4m")
        with open(os.path.join(root, "filler"), "wb") as f:
            try:
                while True:
                    f.write(b"\0" * 65536)
                    f.flush()
            except OSError:
                pass
        code, out, err = self.ctl("ufs-test", "--path", "file://" + root, "--test", "createAtomic",
                                  "--test", "createOpenLarge", "--test", "getNonExistingFileStatus")
        self.assertEqual(code, 2, out + err)
        self.assertRegex(out, r"Failed the test! time: [0-9]+ms, reason: .*ENOSPC.*No space left on device")
        self.assertIn("Passed the test!", out)  # reading what is not there needs no room
        self.assertTrue(out.rstrip().endswith("Tests completed with 2 failed."), out)
        self.assertEqual(os.listdir(root), ["filler"])
        self.assert_no_local_state()

    def test_missing_bucket_is_said_in_operator_words(self):
        code, out, err = self.ctl("ufs-test", "--path", "s3://no-such-bucket/x", "--endpoint", self.s3.endpoint)
        self.assertEqual(code, 3, out + err)
        self.assertIn("NoSuchBucket", err)
        self.assertIn("does not exist", err)
        self.assertNotIn("Running test", out)

    def test_unknown_access_key_is_refused_clearly(self):
        env = self.env()
        env["AWS_ACCESS_KEY_ID"] = "NOT-A-KEY"
        code, out, err = self.ctl("ufs-test", *self.s3_args(), env=env)
        self.assertEqual(code, 3, out + err)
        self.assertIn("InvalidAccessKeyId", err)

    def test_wrong_secret_is_refused_as_s3_refuses_it(self):
        # serve.js checks every V4 signature as S3 does: the whole suite above passing proves ours
        # right, and a wrong secret is SignatureDoesNotMatch
        env = self.env()
        env["AWS_SECRET_ACCESS_KEY"] = "not-the-secret"
        code, out, err = self.ctl("ufs-test", *self.s3_args(), env=env)
        self.assertEqual(code, 3, out + err)
        self.assertIn("SignatureDoesNotMatch", err)
        code, out, err = self.ctl("ufs-io-test", *self.s3_args("io"), "--io-size", "1m", "--threads", "1", env=env)
        self.assertEqual(code, 3, out + err)
        self.assertIn("SignatureDoesNotMatch", err)

    def test_no_credentials_at_all_is_a_usage_error(self):
        env = {"PATH": os.environ["PATH"], "HOME": self.path("empty-home"), "TMPDIR": self.local_tmp}
        code, out, err = self.ctl("ufs-test", *self.s3_args(), env=env)
        self.assertEqual(code, 3, out + err)
        self.assertRegex(err, r"(?i)credentials")

    def test_credentials_file_profile_is_used(self):
        home = self.path("home")
        os.makedirs(os.path.join(home, ".aws"))
        with open(os.path.join(home, ".aws", "credentials"), "w") as f:
            f.write("[default]\naws_access_key_id = WRONG\naws_secret_access_key = x\n\n"
                    "[s3rver]\naws_access_key_id = S3RVER\naws_secret_access_key = S3RVER\n")
        env = {"PATH": os.environ["PATH"], "HOME": home, "TMPDIR": self.local_tmp}
        code, out, err = self.ctl("ufs-test", *self.s3_args(), "--test", "createAtomic", "--profile", "s3rver",
                                  env=env)
        self.assertEqual(code, 0, out + err)
        code, out, err = self.ctl("ufs-test", *self.s3_args(), "--test", "createAtomic", env=env)
        self.assertEqual(code, 3, out + err)
        self.assertIn("InvalidAccessKeyId", err)

    def test_ctrl_c_stops_and_cleans_up(self):
        p = self.ctl_bg("ufs-test", *self.s3_args(), *SUITE_FAST)
        wait_for(lambda: self.bg_output().count("Passed the test!") >= 3, 120, "three tests passed")
        os.kill(p.pid, signal.SIGINT)
        code = p.wait(120)
        out = self.bg_output()
        self.assertEqual(code, 3, out)
        self.assertIn("Tests cancelled with", out)
        self.assertEqual(self.s3.objects("ready/"), [])
        self.assertEqual(self.s3.uploads(), [])

    def test_bad_arguments_are_refused(self):
        for args, words in [
            (["ufs-test"], "--path URI is required"),
            (["ufs-test", "--path", "hdfs://nn/x"], "unsupported scheme"),
            (["ufs-test", "--path", "s3://Bad_Bucket/x"], "not a valid bucket name"),
            (["ufs-test", "--path", "relative/dir"], "absolute path"),
            (["ufs-io-test", "--path", "/tmp", "--io-size", "lots"], "bad --io-size"),
            (["ufs-io-test", "--path", "/tmp", "--json"], "apply to ufs-test only"),
            (["ufs-test", "--path", "/tmp", "--threads", "2"], "apply to ufs-io-test only"),
            (["ufs-test", "--path", "/tmp", "--addressing", "sideways"], "auto, path or virtual"),
            (["ufs-test", "--path", "s3://bkt/x", "--part-size", "1M", "--endpoint", "http://127.0.0.1:1"],
             "minimum"),
        ]:
            code, out, err = self.ctl(*args)
            self.assertEqual(code, 3, f"{args}: {out}{err}")
            self.assertIn(words, err, args)
        code, out, _ = self.ctl("ufs-test", "--help")
        self.assertEqual(code, 0)
        self.assertIn("ufs-io-test", out)


class IoTest(UfsTestCase):
    def check_summary(self, doc, threads, size, path):
        for stat in ("readSpeedStat", "writeSpeedStat"):
            s = doc[stat]
            for k in ("mTotalDurationSeconds", "mTotalSizeBytes", "mMaxSpeedMbps", "mMinSpeedMbps", "mAvgSpeedMbps",
                      "mClusterAvgSpeedMbps", "mStdDev"):
                self.assertIn(k, s, stat)
            self.assertEqual(s["mTotalSizeBytes"], threads * size, stat)
            self.assertGreater(s["mMaxSpeedMbps"], 0)
            self.assertLessEqual(s["mMinSpeedMbps"], s["mAvgSpeedMbps"])
            self.assertLessEqual(s["mAvgSpeedMbps"], s["mMaxSpeedMbps"])
            self.assertGreaterEqual(s["mStdDev"], 0)
        self.assertEqual(doc["errors"], [])
        self.assertEqual(doc["parameters"]["mThreads"], threads)
        self.assertEqual(doc["parameters"]["mPath"], path)
        self.assertIn("baseParameters", doc)
        points = doc["points"]
        self.assertEqual(sorted(p["mMode"] for p in points), ["READ"] * threads + ["WRITE"] * threads)
        self.assertTrue(all(p["mDataSizeBytes"] == size and p["mDurationSeconds"] > 0 for p in points))

    def test_s3_throughput_summary_has_every_field_and_exact_totals(self):
        code, out, err = self.ctl("ufs-io-test", *self.s3_args("io"), "--io-size", "24m", "--threads", "2")
        self.assertEqual(code, 0, out + err)
        self.check_summary(json.loads(out), 2, 24 << 20, f"s3://{self.s3.bucket}/io")
        self.assertEqual(self.s3.objects("io/"), [])
        self.assert_no_local_state()

    def test_local_throughput_summary_and_progress_line(self):
        root = self.path("io-root")
        os.makedirs(root)
        code, out, err = self.ctl("ufs-io-test", "--path", root, "--io-size", "64m", "--threads", "3", "--progress")
        self.assertEqual(code, 0, out + err)
        self.check_summary(json.loads(out), 3, 64 << 20, "file://" + root)
        self.assertRegex(err, r"write +[0-9.]+%")
        self.assertRegex(err, r"read +100\.0%")
        self.assertEqual(os.listdir(root), [])

    def test_server_stopped_mid_run_is_an_error_per_thread(self):
        p = self.ctl_bg("ufs-io-test", *self.s3_args("io"), "--io-size", "2g", "--threads", "2", "--timeout", "5s",
                        "--progress")
        # the threads are writing once the progress line shows bytes (s3rver stores an object before
        # it answers: an object on its disk does not yet mean vigilctl has heard back)
        wait_for(lambda: re.search(r"write +(?!0\.0%)[0-9.]+%", self.bg_output()), 60, "the writes under way")
        self.s3.stop(signal.SIGKILL)
        code = p.wait(120)
        out = self.bg_output()
        self.assertEqual(code, 2, out)
        doc = json.loads(out[out.index("{"):])
        self.assertEqual(len(doc["errors"]) >= 2, True, doc["errors"])
        self.assertRegex(" ".join(doc["errors"]), r"thread [01] write")

    def test_disk_filling_up_mid_write_is_an_error_per_thread_and_removes_the_files(self):
        root = self.mount_tmpfs(self.path("small"), "8m")
        code, out, err = self.ctl("ufs-io-test", "--path", root, "--io-size", "6m", "--threads", "2")
        self.assertEqual(code, 2, out + err)
        doc = json.loads(out)
        # the first writer may finish before the disk is full; at least one cannot
        self.assertGreaterEqual(len(doc["errors"]), 1, doc["errors"])
        for e in doc["errors"]:
            self.assertRegex(e, r"^thread [01] write: write vigil-ufs-io-test-[^ ]*/thread-[01]: "
                                r"No space left on device$")
        failed = {int(e.split()[1]) for e in doc["errors"]}
        self.assertTrue(all(p["mThread"] not in failed for p in doc["points"]), doc["points"])
        self.assertEqual(os.listdir(root), [])

    def test_ctrl_c_removes_the_files(self):
        root = self.path("io-root")
        os.makedirs(root)
        p = self.ctl_bg("ufs-io-test", "--path", root, "--io-size", "4g", "--threads", "2", "--no-progress")
        wait_for(lambda: os.listdir(root), 30, "the run directory")
        os.kill(p.pid, signal.SIGINT)
        code = p.wait(60)
        self.assertEqual(code, 3, self.bg_output())
        self.assertEqual(os.listdir(root), [])


if __name__ == "__main__":
    unittest.main(argv=[sys.argv[0], "-v"] + sys.argv[1:])
