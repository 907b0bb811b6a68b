#!/usr/bin/python3
"""Seeded adversarial streams through the real grod, MERGE and LIST, each
output judged by the independent checker (check.py).

  checker_test.py GROD [--streams a,b] [--modes MERGE,MERGE_LINK,LIST]
                  [--seed N] [--keep DIR]

Modes (grod_run.VARIANTS): MERGE with the port's merged_without_tso:
SEGMENT_IN_SOFTWARE (merged, then cut by software GSO: the merge engine's
output is what the checker judges; grod must have merged and linked
nothing), MERGE_LINK with the default (net_pcap has no TSO, so MERGE links:
every frame but IPv4 fragments must leave byte-identical) and LIST (the
same).

The seed (default 1, or $CHECKER_SEED) is printed with every failure;
rerun with --seed N --streams NAME --keep DIR to get the captures.
"""
import argparse
import os
import sys
import tempfile
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

import check  # noqa: E402
import grod_run  # noqa: E402
import pcapio  # noqa: E402
import streams  # noqa: E402


def run_one(grod, name, frames, mode, seed, workdir, flush):
    base = os.path.join(workdir, "%s_%s_%d" % (name, mode.lower(), seed))
    in_pcap, out_pcap = base + "_in.pcap", base + "_out.pcap"
    pcapio.write(in_pcap, frames)
    t0 = time.time()
    metrics, received = grod_run.run(grod, in_pcap, out_pcap, len(frames), mode, workdir, flush)
    out = pcapio.read(out_pcap)
    rep = check.check(frames, out)
    if received != len(frames):
        rep.add("grod", "grod received only %d of the %d input frames (net_pcap drops a frame "
                "when the mbuf pool is empty: leaked or stuck mbufs)" % (received, len(frames)))
    problems, summary = grod_run.gro_problems(metrics, mode, frames, out)
    for p in problems:
        rep.add("grod", p)
    print("%-16s %-10s seed %d: %d frames in, %d out, %s, %.1fs: %s" % (
        name, mode, seed, len(frames), len(out), summary, time.time() - t0,
        "ok" if rep.ok() else "FAIL"), flush=True)
    if not rep.ok():
        print(rep.text())
        print("reproduce: tests/checker/checker_test.py GROD --streams %s --modes %s --seed %d "
              "--keep DIR  (captures %s, %s)" % (name, mode, seed, in_pcap, out_pcap))
    return rep.ok()


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("grod")
    ap.add_argument("--streams", default=",".join(streams.STREAMS))
    ap.add_argument("--modes", default="MERGE,MERGE_LINK,LIST")
    ap.add_argument("--seed", type=int, default=int(os.environ.get("CHECKER_SEED", "1")))
    ap.add_argument("--flush", default="timeout", choices=["timeout", "adaptive", "burst"])
    ap.add_argument("--keep", help="write captures here and keep them")
    args = ap.parse_args()
    grod = os.path.realpath(args.grod)
    workdir = args.keep or tempfile.mkdtemp(dir=os.environ.get("TEST_TMPDIR"))
    os.makedirs(workdir, exist_ok=True)
    failed = []
    for name in args.streams.split(","):
        if name not in streams.STREAMS:
            sys.exit("unknown stream %r; streams: %s" % (name, ", ".join(streams.STREAMS)))
        frames = streams.generate(name, args.seed)
        sane = check.check(frames, frames)  # the stream itself must fit the port
        if not sane.ok():
            sys.exit("stream %s (seed %d) is not a valid output of itself:\n%s"
                     % (name, args.seed, sane.text()))
        for mode in args.modes.split(","):
            if mode not in grod_run.VARIANTS:
                sys.exit("unknown mode %r; modes: %s" % (mode, ", ".join(grod_run.VARIANTS)))
            if not run_one(grod, name, frames, mode, args.seed, workdir, args.flush):
                failed.append("%s/%s" % (name, mode))
    if failed:
        print("FAILED (seed %d): %s" % (args.seed, " ".join(failed)))
        return 1
    print("PASS: %s in %s, seed %d" % (args.streams, args.modes, args.seed))
    return 0


if __name__ == "__main__":
    sys.exit(main())
