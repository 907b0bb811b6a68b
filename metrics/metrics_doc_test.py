#!/usr/bin/python3
"""docs/METRICS.md (and grod.proto's reason lists) against the code: the families its tables list are the
ones a live exporter scrape has (both ways), every grod_* name it mentions
exists, and its reason and output-kind tables list exactly the label values
the data plane reports (a scrape in which every tenant and port reports
every reason from the data plane's own name tables)."""

import os
import re
import subprocess
import sys
import unittest

ARGS = {}
NAME_RE = re.compile(r"\bgrod_[a-z0-9_]+")
HISTOGRAM_SUFFIXES = ("_bucket", "_sum", "_count")


def scrape():
    """Family name -> set of (label, value) pairs seen in its samples."""
    out = subprocess.run([ARGS["scrape_dump"], "--every_reason"],
                         capture_output=True, check=True, timeout=60).stdout.decode()
    families = {}
    for line in out.splitlines():
        m = re.match(r"# TYPE (\S+) \S+", line)
        if m:
            families.setdefault(m.group(1), set())
            continue
        if not line or line.startswith("#"):
            continue
        name = re.split(r"[{ ]", line, 1)[0]
        family = name
        for suffix in HISTOGRAM_SUFFIXES:
            if name.endswith(suffix) and name[:-len(suffix)] in families:
                family = name[:-len(suffix)]
        labels = set(re.findall(r'(\w+)="([^"]*)"', line))
        families.setdefault(family, set()).update(labels)
    return families


def sections(doc):
    """Heading text -> the text under it (up to the next heading)."""
    parts = re.split(r"^(#+ .*)$", doc, flags=re.M)
    return {parts[i].lstrip("# ").strip(): parts[i + 1]
            for i in range(1, len(parts) - 1, 2)}


def table_keys(text):
    """The backticked first cells of a Markdown table's rows."""
    return set(re.findall(r"^\| `([^`]+)` \|", text, flags=re.M))


def documented_families(doc):
    return {k for k in table_keys(doc) if k.startswith("grod_")}


def family_problems(doc, families):
    """What is wrong with the documented family names, as sentences."""
    exported = {f for f in families if f.startswith("grod_")}
    documented = documented_families(doc)
    problems = [f"documented but not exported: {n}"
                for n in sorted(documented - exported)]
    problems += [f"exported but not documented: {n}"
                 for n in sorted(exported - documented)]
    values = {v for labels in families.values() for _, v in labels}
    for n in sorted(set(NAME_RE.findall(doc)) - values):  # pool="grod_pkts"
        base = n
        for suffix in HISTOGRAM_SUFFIXES:
            if n.endswith(suffix) and n[:-len(suffix)] in exported:
                base = n[:-len(suffix)]
        if base not in exported:
            problems.append(f"mentioned but not exported: {n}")
    return sorted(set(problems))


def label_values(families, family, label):
    return {v for k, v in families.get(family, set()) if k == label}


def value_problems(doc, families, heading, family, label):
    text = sections(doc).get(heading)
    if text is None:
        return [f"no section '{heading}'"]
    documented = table_keys(text)
    exported = label_values(families, family, label)
    if not exported:
        return [f"{family} has no {label} label values in the scrape"]
    return ([f"{heading}: documented but not in the code: {v}"
             for v in sorted(documented - exported)] +
            [f"{heading}: in the code but not documented: {v}"
             for v in sorted(exported - documented)])


def proto_list(proto, field):
    """The snake_case names listed in the comment right above `field`."""
    lines = proto.splitlines()
    at = next(i for i, l in enumerate(lines) if re.search(rf"\b{field}\b = \d+;", l))
    comment = []
    for l in reversed(lines[:at]):
        if not l.strip().startswith("//"):
            break
        comment.insert(0, l.strip()[2:])
    text = " ".join(comment)
    text = re.sub(r"\([^)]*\)", "", text)  # (docs/...), (only ... appear)
    listed = text.split(":", 1)[1] if ":" in text else ""
    return set(re.findall(r"\b[a-z][a-z0-9]*(?:_[a-z0-9]+)*\b", listed.split(".")[0]))


PROTO_CHECKS = [
    ("passthrough", "grod_passthrough_packets_total"),
    ("flushes", "grod_gro_flushes_total"),
    ("tx_drops", "grod_port_transmit_dropped_packets_by_reason_total"),
]


def proto_problems(proto, families):
    problems = []
    for field, family in PROTO_CHECKS:
        listed = proto_list(proto, field)
        exported = label_values(families, family, "reason")
        problems += [f"grod.proto {field}: listed but not in the code: {v}"
                     for v in sorted(listed - exported)]
        problems += [f"grod.proto {field}: in the code but not listed: {v}"
                     for v in sorted(exported - listed)]
    return problems


CHECKS = [
    ("Flush reasons", "grod_gro_flushes_total", "reason"),
    ("Pass-through reasons", "grod_passthrough_packets_total", "reason"),
    ("Port drop reasons",
     "grod_port_transmit_dropped_packets_by_reason_total", "reason"),
    ("Output kinds", "grod_tenant_output_packets_total", "kind"),
]


class MetricsDocTest(unittest.TestCase):

    @classmethod
    def setUpClass(cls):
        cls.families = scrape()
        with open(ARGS["doc"]) as f:
            cls.doc = f.read()
        with open(ARGS["proto"]) as f:
            cls.proto = f.read()

    def test_scrape_is_complete(self):
        # The comparison means something only if the scrape has them all.
        self.assertGreater(len(documented_families(self.doc)), 30)
        for family, label in (("grod_gro_flushes_total", "reason"),
                              ("grod_passthrough_packets_total", "reason")):
            self.assertGreater(len(label_values(self.families, family, label)), 10)

    def test_documented_families_are_the_exported_ones(self):
        self.assertEqual(family_problems(self.doc, self.families), [])

    def test_documented_label_values_are_the_codes(self):
        problems = []
        for check in CHECKS:
            problems += value_problems(self.doc, self.families, *check)
        self.assertEqual(problems, [])

    def test_grod_proto_lists_the_codes_reasons(self):
        self.assertEqual(proto_problems(self.proto, self.families), [])

    # The checks must be able to fail.
    def test_catches_a_stale_proto_list(self):
        proto = self.proto.replace("pair_order", "per_burst")
        problems = proto_problems(proto, self.families)
        self.assertIn("grod.proto flushes: listed but not in the code: per_burst",
                      problems)
        self.assertIn("grod.proto flushes: in the code but not listed: pair_order",
                      problems)

    def test_catches_a_documented_name_that_does_not_exist(self):
        doc = self.doc + "\n| `grod_port_rx_packets_total` | counter | `port` | x |\n"
        self.assertIn("documented but not exported: grod_port_rx_packets_total",
                      family_problems(doc, self.families))
        doc = self.doc + "\nrate(grod_nonexistent_total[5m])\n"
        self.assertIn("mentioned but not exported: grod_nonexistent_total",
                      family_problems(doc, self.families))

    def test_catches_an_undocumented_family(self):
        doc = re.sub(r"^\| `grod_worker_stalls_total` \|.*$", "", self.doc, flags=re.M)
        self.assertIn("exported but not documented: grod_worker_stalls_total",
                      family_problems(doc, self.families))

    def test_catches_wrong_reasons(self):
        doc = self.doc.replace("| `pair_order` |", "| `pair_orders` |")
        problems = value_problems(doc, self.families, *CHECKS[0])
        self.assertIn("Flush reasons: documented but not in the code: pair_orders",
                      problems)
        self.assertIn("Flush reasons: in the code but not documented: pair_order",
                      problems)


if __name__ == "__main__":
    for arg in sys.argv[1:]:
        k, v = arg.split("=", 1)
        ARGS[k] = os.path.abspath(v)
    unittest.main(argv=[sys.argv[0]])
