# SPDX-License-Identifier: MIT
"""The Prometheus alert rules and the Grafana dashboard in packaging/ against the contract of the
collector's exposition (the table in docs/metrics.md): every series they query is one the collector
documents, with documented labels; every dashboard query is PromQL that Prometheus accepts (checked
by a real promtool); every alert has a runbook that exists and is exercised by the promtool unit
tests. The rules' behaviour itself is tested by `promtool test rules` (CTest rules.test)."""
import json
import os
import re
import shutil
import subprocess
import tempfile
import unittest

import yaml

from vigiltest import METRICS_DOC, SOURCE, documented_metrics

DASHBOARD = os.path.join(SOURCE, "packaging/grafana/vigil-dashboard.json")
RULES = os.path.join(SOURCE, "packaging/prometheus/vigil-rules.yml")
RULES_TEST = os.path.join(SOURCE, "packaging/prometheus/vigil-rules.test.yml")

# Labels Prometheus adds to every scraped series.
SCRAPE_LABELS = {"job", "instance"}
# Values the dashboard's template variables take in a query Prometheus sees.
TEMPLATE_VALUES = {"$instance": "collector:7070", "${instance}": "collector:7070"}
METRIC_RE = re.compile(r"\bvigil_[a-z0-9_]+")


def promtool():
    path = shutil.which("promtool")
    if not path:
        raise FileNotFoundError("promtool not found: run scripts/setup (Debian package prometheus)")
    return path


def github_anchor(heading):
    """The anchor GitHub gives a Markdown heading."""
    s = heading.strip().lower()
    s = re.sub(r"[^\w\- ]", "", s)
    return s.replace(" ", "-")


def anchors(path):
    with open(path, encoding="utf-8") as f:
        return {github_anchor(m.group(1)) for m in re.finditer(r"^#+ (.*)$", f.read(), re.M)}


def selectors(expr):
    """(metric, {label names matched}) for each vigil_ series selector in expr."""
    out = []
    for m in re.finditer(r"\b(vigil_[a-z0-9_]+)(\{([^}]*)\})?", expr):
        names = set(re.findall(r"([a-zA-Z_][a-zA-Z0-9_]*)\s*(?:=~|!~|!=|=)", m.group(3) or ""))
        out.append((m.group(1), names))
    return out


def check_exprs_with_promtool(exprs):
    """Runs `promtool check rules` on exprs as recording rules; returns (ok, output)."""
    rules = {"groups": [{"name": "dashboard", "rules": [
        {"record": f"vigil_dashboard:expr_{i}", "expr": e} for i, e in enumerate(exprs)]}]}
    with tempfile.TemporaryDirectory() as d:
        path = os.path.join(d, "exprs.yml")
        with open(path, "w", encoding="utf-8") as f:
            yaml.safe_dump(rules, f)
        p = subprocess.run([promtool(), "check", "rules", path], capture_output=True, text=True, timeout=60)
    return p.returncode == 0, p.stdout + p.stderr


class DashboardTest(unittest.TestCase):
    def setUp(self):
        with open(DASHBOARD, encoding="utf-8") as f:
            self.dash = json.load(f)
        self.panels = [p for p in self.dash["panels"] if p["type"] != "row"]
        self.metrics = documented_metrics()

    def targets(self):
        for p in self.panels:
            for t in p["targets"]:
                yield p, t

    def test_the_doc_table_parses_into_the_metrics_the_collector_documents(self):
        # Guards the other tests: an unparsed table would make them pass on nothing.
        self.assertIn("vigil_cluster_hit_ratio", self.metrics)
        self.assertEqual(self.metrics["vigil_checks"], {"family", "status"})
        self.assertEqual(self.metrics["vigil_cluster_ufs_errors_per_second"], {"error_code"})
        self.assertGreaterEqual(len(self.metrics), 15)

    def test_dashboard_is_importable_with_a_datasource_variable(self):
        self.assertEqual(self.dash["uid"], "vigil-cluster")
        self.assertGreaterEqual(self.dash["schemaVersion"], 36)
        variables = {v["name"]: v for v in self.dash["templating"]["list"]}
        ds = variables["DS_PROMETHEUS"]
        self.assertEqual((ds["type"], ds["query"]), ("datasource", "prometheus"))
        ref = {"type": "prometheus", "uid": "${DS_PROMETHEUS}"}
        self.assertEqual(variables["instance"]["datasource"], ref)
        for p, t in self.targets():
            self.assertEqual(p["datasource"], ref, p["title"])
            self.assertEqual(t["datasource"], ref, p["title"])

    def test_panels_have_unique_ids_and_ref_ids_and_do_not_overlap(self):
        ids = [p["id"] for p in self.dash["panels"]]
        self.assertEqual(len(ids), len(set(ids)))
        cells = {}
        for p in self.dash["panels"]:
            g = p["gridPos"]
            self.assertLessEqual(g["x"] + g["w"], 24, p["title"])
            for x in range(g["x"], g["x"] + g["w"]):
                for y in range(g["y"], g["y"] + g["h"]):
                    self.assertNotIn((x, y), cells, f"{p['title']} overlaps {cells.get((x, y))}")
                    cells[(x, y)] = p["title"]
        for p in self.panels:
            refs = [t["refId"] for t in p["targets"]]
            self.assertTrue(refs, p["title"])
            self.assertEqual(len(refs), len(set(refs)), p["title"])

    def test_every_query_uses_documented_metrics_and_labels(self):
        queries = [(p["title"], t["expr"], t.get("legendFormat", "")) for p, t in self.targets()]
        queries += [("variable " + v["name"], v["definition"], "")
                    for v in self.dash["templating"]["list"] if v["type"] == "query"]
        for title, expr, legend in queries:
            found = selectors(expr)
            self.assertTrue(found, f"{title}: {expr} queries no vigil_ series")
            for metric, labels in found:
                self.assertIn(metric, self.metrics, f"{title}: {metric} is not in docs/metrics.md")
                allowed = self.metrics[metric] | SCRAPE_LABELS
                self.assertLessEqual(labels, allowed, f"{title}: {expr}")
                for label in re.findall(r"\{\{\s*([a-zA-Z_]+)\s*\}\}", legend):
                    self.assertIn(label, allowed, f"{title}: legend {legend}")

    def test_every_documented_metric_is_on_the_dashboard(self):
        shown = {m for _, t in self.targets() for m in METRIC_RE.findall(t["expr"])}
        shown |= {m for v in self.dash["templating"]["list"] for m in METRIC_RE.findall(v.get("definition", ""))}
        self.assertEqual(set(self.metrics) - shown, set())

    def test_hit_rate_and_requests_are_shown_against_yesterday_and_last_week(self):
        exprs = [t["expr"] for _, t in self.targets()]
        for metric in ("vigil_cluster_hit_ratio", "vigil_cluster_requests_per_second"):
            for offset in ("offset 1d", "offset 7d"):
                self.assertTrue(any(metric in e and offset in e for e in exprs), f"{metric} {offset}")

    def test_every_query_is_promql_that_promtool_accepts(self):
        exprs = []
        for _, t in self.targets():
            e = t["expr"]
            for var, value in TEMPLATE_VALUES.items():
                e = e.replace(var, value)
            self.assertNotIn("$", e, f"unknown template variable in {t['expr']}")
            exprs.append(e)
        ok, out = check_exprs_with_promtool(exprs)
        self.assertTrue(ok, out)
        self.assertIn(f"SUCCESS: {len(exprs)} rules found", out)

    def test_the_promql_check_rejects_a_broken_query(self):
        ok, out = check_exprs_with_promtool(["vigil_cluster_hit_ratio offset", "vigil_nodes"])
        self.assertFalse(ok, out)


class AlertRulesTest(unittest.TestCase):
    def setUp(self):
        with open(RULES, encoding="utf-8") as f:
            self.rules = [r for g in yaml.safe_load(f)["groups"] for r in g["rules"]]
        self.alerts = [r for r in self.rules if "alert" in r]
        with open(RULES_TEST, encoding="utf-8") as f:
            self.tests = yaml.safe_load(f)["tests"]

    def test_every_alert_has_a_severity_and_operator_annotations(self):
        self.assertGreaterEqual(len(self.alerts), 10)
        for a in self.alerts:
            self.assertIn(a["labels"]["severity"], ("warning", "critical"), a["alert"])
            self.assertEqual(set(a["annotations"]), {"summary", "description", "runbook_url"}, a["alert"])

    def test_every_runbook_url_points_at_an_existing_heading(self):
        for a in self.alerts:
            path, _, anchor = a["annotations"]["runbook_url"].partition("#")
            full = os.path.join(SOURCE, path)
            self.assertTrue(os.path.isfile(full), f"{a['alert']}: {path}")
            self.assertIn(anchor, anchors(full), f"{a['alert']}: no heading for #{anchor} in {path}")

    def test_every_alert_is_explained_in_docs_metrics(self):
        doc_anchors = anchors(METRICS_DOC)
        for name in {a["alert"] for a in self.alerts}:
            self.assertIn(name.lower(), doc_anchors, f"docs/metrics.md has no heading {name}")

    def test_rules_only_query_documented_metrics_and_labels(self):
        metrics = documented_metrics()
        for r in self.rules:
            for metric, labels in selectors(r["expr"]):
                self.assertIn(metric, metrics, r.get("alert") or r.get("record"))
                self.assertLessEqual(labels, metrics[metric] | SCRAPE_LABELS, r["expr"])

    def test_every_alert_is_unit_tested_firing_and_not_firing(self):
        firing, quiet = set(), set()
        for group in self.tests:
            for t in group.get("alert_rule_test", []):
                (firing if t.get("exp_alerts") else quiet).add(t["alertname"])
                for exp in t.get("exp_alerts") or []:
                    # exact annotations: the message an operator gets is under test too
                    self.assertEqual(set(exp["exp_annotations"]), {"summary", "description", "runbook_url"})
        names = {a["alert"] for a in self.alerts}
        self.assertEqual(names - firing, set(), "alerts never seen firing in vigil-rules.test.yml")
        self.assertEqual(names - quiet, set(), "alerts never seen quiet in vigil-rules.test.yml")
        severities = {(a["alert"], a["labels"]["severity"]) for a in self.alerts}
        tested = {(t["alertname"], e["exp_labels"]["severity"]) for g in self.tests
                  for t in g.get("alert_rule_test", []) for e in t.get("exp_alerts") or []}
        self.assertEqual(severities - tested, set(), "severities never seen firing")


if __name__ == "__main__":
    unittest.main()
