#!/usr/bin/python3
"""Kubernetes manifests: valid YAML, expected kinds, and consistent with each
other (labels, ports, probes, hugepages) and with grod's config schema."""

import glob
import os
import subprocess
import sys
import tempfile
import unittest

import yaml

K8S_DIR = None
CONFIG_PROTO = None

EXPECTED_KINDS = {"Namespace", "ConfigMap", "DaemonSet", "Service",
                  "ServiceMonitor", "Kustomization"}


def load_all():
    docs = {}
    for path in sorted(glob.glob(os.path.join(K8S_DIR, "*.yaml"))):
        with open(path) as f:
            for doc in yaml.safe_load_all(f):
                if doc:
                    docs.setdefault(doc["kind"], []).append((path, doc))
    return docs


class ManifestsTest(unittest.TestCase):

    @classmethod
    def setUpClass(cls):
        cls.docs = load_all()

    def one(self, kind):
        self.assertEqual(len(self.docs.get(kind, [])), 1, kind)
        return self.docs[kind][0][1]

    def container(self):
        return self.one("DaemonSet")["spec"]["template"]["spec"]["containers"][0]

    def test_kinds(self):
        self.assertEqual(set(self.docs), EXPECTED_KINDS)

    def test_kustomization_lists_every_file(self):
        listed = set(self.one("Kustomization")["resources"])
        files = {os.path.basename(p) for p in glob.glob(os.path.join(K8S_DIR, "*.yaml"))}
        self.assertEqual(listed, files - {"kustomization.yaml"})

    def test_daemonset_resources(self):
        res = self.container()["resources"]
        for key in ("hugepages-1Gi", "intel.com/sriov_netdevice", "cpu", "memory"):
            self.assertIn(key, res["requests"], key)
        # Guaranteed QoS (exclusive cores) and hugepages need requests == limits.
        self.assertEqual(res["requests"], res["limits"])
        mounts = {m["mountPath"] for m in self.container()["volumeMounts"]}
        self.assertIn("/dev/hugepages", mounts)
        self.assertIn("/etc/grod", mounts)

    def test_daemonset_security(self):
        sc = self.container()["securityContext"]
        self.assertFalse(sc.get("privileged", False))
        self.assertEqual(sc["capabilities"]["drop"], ["ALL"])
        self.assertIn("IPC_LOCK", sc["capabilities"]["add"])

    def test_probes_use_grpc_port(self):
        c = self.container()
        ports = {p["name"]: p["containerPort"] for p in c["ports"]}
        self.assertEqual(ports["grpc"], 50051)
        self.assertEqual(ports["metrics"], 9464)
        for probe in ("livenessProbe", "readinessProbe", "startupProbe"):
            self.assertEqual(c[probe]["grpc"]["port"], 50051, probe)

    def test_service_and_monitor_select_the_pods(self):
        pod_labels = self.one("DaemonSet")["spec"]["template"]["metadata"]["labels"]
        svc = self.one("Service")
        for k, v in svc["spec"]["selector"].items():
            self.assertEqual(pod_labels.get(k), v)
        self.assertEqual(svc["spec"]["ports"][0]["targetPort"], "metrics")
        mon = self.one("ServiceMonitor")
        for k, v in mon["spec"]["selector"]["matchLabels"].items():
            self.assertEqual(svc["metadata"]["labels"].get(k), v)
        self.assertEqual(mon["spec"]["endpoints"][0]["port"], svc["spec"]["ports"][0]["name"])

    def test_configmap_is_a_valid_grod_config(self):
        cm = self.one("ConfigMap")
        text = cm["data"]["grod.textproto"]
        # Probes and Prometheus come from outside the pod.
        self.assertIn('grpc_listen: "0.0.0.0:50051"', text)
        self.assertIn('metrics_listen: "0.0.0.0:9464"', text)
        # protoc parses the text format against the real schema.
        # CONFIG_PROTO is relative to the runfiles root (the test's cwd),
        # which is also the root its imports are relative to.
        root, rel = os.getcwd(), CONFIG_PROTO
        run = subprocess.run(
            ["/usr/bin/protoc", "--proto_path=" + root, "--proto_path=/usr/include",
             "--encode=grod.v1.GrodConfig", rel],
            input=text.encode(), capture_output=True)
        self.assertEqual(run.returncode, 0, run.stderr.decode())
        # ... and would reject a typo (the check can fail).
        bad = subprocess.run(
            ["/usr/bin/protoc", "--proto_path=" + root, "--proto_path=/usr/include",
             "--encode=grod.v1.GrodConfig", rel],
            input=b'grpc_listn: "x"\n', capture_output=True)
        self.assertNotEqual(bad.returncode, 0)


if __name__ == "__main__":
    K8S_DIR = os.path.dirname(sys.argv[1])
    CONFIG_PROTO = sys.argv[2]
    unittest.main(argv=[sys.argv[0]])
