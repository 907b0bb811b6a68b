#!/usr/bin/python3
"""The Grafana dashboard and the Prometheus files: they parse, promtool
accepts them, and every grod_* metric their PromQL uses is one a live
exporter scrape actually contains."""

import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
import unittest

import yaml

ARGS = {}
METRIC_RE = re.compile(r"\bgrod_[a-zA-Z0-9_:]+")


def scraped_names():
    out = subprocess.run([ARGS["scrape_dump"]], capture_output=True, check=True,
                         timeout=60).stdout.decode()
    names = set()
    for line in out.splitlines():
        if line and not line.startswith("#"):
            names.add(re.split(r"[{ ]", line, 1)[0])
    return names


def unknown_metrics(exprs, names):
    used = set()
    for e in exprs:
        used |= set(METRIC_RE.findall(e))
    return sorted(used - names)


def dashboard_exprs(dash):
    exprs = []
    def walk(panels):
        for p in panels:
            exprs.extend(t["expr"] for t in p.get("targets", []))
            walk(p.get("panels", []))
    walk(dash["panels"])
    for v in dash.get("templating", {}).get("list", []):
        q = v.get("query")
        if isinstance(q, dict):
            q = q.get("query")
        if isinstance(q, str):
            exprs.append(q)
    return exprs


class DashboardTest(unittest.TestCase):

    @classmethod
    def setUpClass(cls):
        cls.names = scraped_names()
        with open(ARGS["dashboard"]) as f:
            cls.dash = json.load(f)

    def test_scrape_has_the_core_families(self):
        for n in ("grod_tenant_receive_packets_total",
                  "grod_build_info",
                  "grod_worker_busy_seconds_total",
                  "grod_gro_segments_per_output_bucket",
                  "grod_grpc_server_handled_total"):
            self.assertIn(n, self.names)

    def test_dashboard_uses_only_exported_metrics(self):
        exprs = dashboard_exprs(self.dash)
        self.assertGreater(len(exprs), 10)
        self.assertEqual(unknown_metrics(exprs, self.names), [])

    def test_checker_catches_a_wrong_name(self):
        self.assertEqual(
            unknown_metrics(["rate(grod_port_rx_packets_total[1m])"], self.names),
            ["grod_port_rx_packets_total"])

    def test_dashboard_covers_the_operators_questions(self):
        titles = " | ".join(p["title"].lower() for p in self.dash["panels"])
        for topic in ("merge ratio", "throughput", "held packets", "flushes by reason"):
            self.assertIn(topic, titles)
        self.assertTrue(all(p["id"] for p in self.dash["panels"]))
        self.assertEqual(len({p["id"] for p in self.dash["panels"]}), len(self.dash["panels"]))

    def test_alert_rules_use_only_exported_metrics(self):
        with open(ARGS["alerts"]) as f:
            rules = yaml.safe_load(f)
        exprs = [r["expr"] for g in rules["groups"] for r in g["rules"]]
        self.assertEqual(unknown_metrics(exprs, self.names), [])

    def test_promtool_accepts_prometheus_files(self):
        tmp = tempfile.mkdtemp(dir=os.environ.get("TEST_TMPDIR"))
        for key in ("prometheus", "alerts"):
            shutil.copy(ARGS[key], tmp)
        cfg = os.path.join(tmp, os.path.basename(ARGS["prometheus"]))
        run = subprocess.run(["/usr/bin/promtool", "check", "config", cfg],
                             capture_output=True, timeout=60)
        self.assertEqual(run.returncode, 0, run.stdout.decode() + run.stderr.decode())
        with open(cfg) as f:
            self.assertIn("grod-alerts.yml", yaml.safe_load(f)["rule_files"])

    def test_alert_rules_pass_their_unit_tests(self):
        tmp = tempfile.mkdtemp(dir=os.environ.get("TEST_TMPDIR"))
        for key in ("alerts", "alert_tests"):
            shutil.copy(ARGS[key], tmp)
        run = subprocess.run(["/usr/bin/promtool", "test", "rules",
                              os.path.basename(ARGS["alert_tests"])],
                             cwd=tmp, capture_output=True, timeout=60)
        self.assertEqual(run.returncode, 0, run.stdout.decode() + run.stderr.decode())
        # Every alert the rule tests exercise is one grod-alerts.yml defines.
        with open(ARGS["alert_tests"]) as f:
            tested = {a["alertname"] for t in yaml.safe_load(f)["tests"]
                      for a in t["alert_rule_test"]}
        self.assertIn("GrodWorkerSaturated", tested)

    def test_promtool_lints_the_exporter_scrape(self):
        out = subprocess.run([ARGS["scrape_dump"]], capture_output=True, check=True,
                             timeout=60).stdout
        run = subprocess.run(["/usr/bin/promtool", "check", "metrics"], input=out,
                             capture_output=True, timeout=60)
        self.assertEqual(run.returncode, 0, run.stdout.decode() + run.stderr.decode())


if __name__ == "__main__":
    for arg in sys.argv[1:]:
        k, v = arg.split("=", 1)
        ARGS[k] = os.path.abspath(v)
    unittest.main(argv=[sys.argv[0]])
