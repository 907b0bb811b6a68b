#!/usr/bin/python3
"""Kubernetes manifests: valid YAML, expected kinds, and consistent with each
other (labels, ports, probes, hugepages) and with grod's config schema."""

import glob
import re
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


def grpc_listen(text):
    m = re.search(r'^\s*grpc_listen: "([^"]+)"', text, re.M)
    return m.group(1) if m else "127.0.0.1:50051"  # grod's default


def is_local(listen):
    return listen.startswith(("127.", "[::1]:", "localhost:", "unix:"))


def config_fields(text):
    """Top-level field names of a text proto, in order (comments skipped)."""
    names, depth = [], 0
    for line in text.splitlines():
        line = line.split("#", 1)[0].strip()
        if not line:
            continue
        if depth == 0:
            names.append(re.match(r"[a-z_]+", line).group(0))
        depth += line.count("{") - line.count("}")
    return names


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

    def test_probes_are_distinct_grod_health_probes(self):
        c = self.container()
        config_mount = {m["name"]: m["mountPath"] for m in c["volumeMounts"]}["config"]
        expected = {"startupProbe": "--probe=live", "livenessProbe": "--probe=live",
                    "readinessProbe": "--probe=ready"}
        commands = {}
        for probe, flag in expected.items():
            cmd = c[probe]["exec"]["command"]
            self.assertEqual(cmd[0], "/usr/local/bin/grod", probe)
            self.assertIn(flag, cmd, probe)
            self.assertIn("--config=" + config_mount + "/grod.textproto", cmd, probe)
            commands[probe] = cmd
        # Liveness restarts a hung process; readiness follows forwarding.
        self.assertNotEqual(commands["livenessProbe"], commands["readinessProbe"])

    def test_admin_api_stays_off_the_network(self):
        text = self.one("ConfigMap")["data"]["grod.textproto"]
        listen = grpc_listen(text)
        self.assertTrue(is_local(listen), listen)
        self.assertNotIn("security", config_fields(text),
                         "loopback needs no TLS; the overlay adds it")
        ports = [p["containerPort"] for p in self.container()["ports"]]
        self.assertNotIn(50051, ports, "the admin API is not published")
        mon = self.one("ServiceMonitor")
        self.assertEqual(mon["spec"]["endpoints"][0]["port"], "metrics")

    def test_exposed_overlay_requires_tls_and_credentials(self):
        overlay = os.path.join(K8S_DIR, "overlays", "exposed-tls")
        with open(os.path.join(overlay, "kustomization.yaml")) as f:
            kust = yaml.safe_load(f)
        self.assertEqual(kust["resources"], ["../.."])
        patches = kust["patchesStrategicMerge"]
        docs = {}
        for name in patches:
            with open(os.path.join(overlay, name)) as f:
                doc = yaml.safe_load(f)
            docs[doc["kind"]] = doc
        text = docs["ConfigMap"]["data"]["grod.textproto"]
        listen = grpc_listen(text)
        self.assertFalse(is_local(listen), "the overlay exposes the API")
        security = {}
        for key in ("tls_cert_file", "tls_key_file", "credentials_file"):
            m = re.search(key + r': "([^"]+)"', text)
            self.assertIsNotNone(m, key + " must be set when exposed")
            security[key] = m.group(1)
        pod = docs["DaemonSet"]["spec"]["template"]["spec"]
        secrets = {v["name"]: v["secret"] for v in pod["volumes"] if "secret" in v}
        mounts = [m for m in pod["containers"][0]["volumeMounts"] if m["name"] in secrets]
        self.assertTrue(mounts, "the Secret is mounted")
        for key, path in security.items():
            self.assertTrue(any(path.startswith(m["mountPath"] + "/") for m in mounts),
                            key + " comes from the mounted Secret")
        for secret in secrets.values():
            self.assertEqual(secret.get("defaultMode"), 0o400)
        ports = [p["containerPort"] for p in pod["containers"][0]["ports"]]
        self.assertIn(int(listen.rsplit(":", 1)[1]), ports)
        # The overlay's config is the base's apart from listen + security.
        base = self.one("ConfigMap")["data"]["grod.textproto"]
        strip = lambda t: [k for k in config_fields(t) if k not in ("grpc_listen", "security")]
        self.assertEqual(strip(base), strip(text))

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
        # Prometheus comes from outside the pod.
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
