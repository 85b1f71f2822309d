#!/usr/bin/python3
# SPDX-License-Identifier: BSD-3-Clause
"""Run every compiled benchmark of bench/list.txt with --quick and check what
it writes against DESIGN.md section 9, so that a benchmark that crashes,
leaks under ASan or writes a malformed report fails the tests, not the next
`make bench`. The figures themselves are not judged here (a quick run on a
busy CI machine says nothing about them).

Usage: bench_smoke.py BENCH_BUILD_DIR LIST_FILE
"""
import json
import math
import os
import subprocess
import sys
import tempfile

# The shell-driven benchmarks (drv_idle, udp_rtt) need netlab and a release
# build: they are left to `make bench`.


def check_report(path, errors):
    with open(path) as f:
        r = json.load(f)
    name = os.path.basename(path)

    def need(cond, what):
        if not cond:
            errors.append("%s: %s" % (name, what))

    need(isinstance(r.get("name"), str) and r["name"] + ".json" == name,
         "name must be a string naming the file")
    need(isinstance(r.get("unit"), str) and r["unit"], "unit must be a string")
    for k in ("value", "ratio"):
        need(isinstance(r.get(k), (int, float)) and math.isfinite(r[k]),
             "%s must be a finite number" % k)
    need(r.get("better") in ("higher", "lower"), "better must be higher or lower")
    a = r.get("anchor")
    need(isinstance(a, dict) and isinstance(a.get("name"), str)
         and isinstance(a.get("value"), (int, float)) and math.isfinite(a["value"]),
         "anchor must hold a name and a finite value")
    need(isinstance(r.get("target"), str) and r["target"], "target must be a string")
    need(isinstance(r.get("params"), dict), "params must be an object")
    if isinstance(a, dict) and isinstance(a.get("value"), (int, float)) and a["value"] \
            and isinstance(r.get("value"), (int, float)) and isinstance(r.get("ratio"), (int, float)):
        # The reports carry 6 significant digits.
        need(abs(r["ratio"] - r["value"] / a["value"]) <= 1e-4 * abs(r["ratio"]),
             "ratio must be value / anchor")


def main():
    bench_dir, list_file = sys.argv[1], sys.argv[2]
    src_dir = os.path.dirname(list_file)
    errors, ran = [], 0
    with open(list_file) as f:
        names = [l.strip() for l in f if l.strip() and not l.startswith("#")]
    for name in names:
        exe = os.path.join(bench_dir, name)
        if os.path.exists(os.path.join(src_dir, name + ".sh")):
            print("skip %s: driven by bench/%s.sh (make bench)" % (name, name))
            continue
        if not os.access(exe, os.X_OK):
            errors.append("%s: not built (%s)" % (name, exe))
            continue
        with tempfile.TemporaryDirectory() as out:
            p = subprocess.run([exe, "--quick", "--out", out], capture_output=True,
                               text=True, timeout=240)
            if p.returncode != 0:
                errors.append("%s: exit %d\n%s" % (name, p.returncode, p.stderr[-3000:]))
                continue
            reports = sorted(x for x in os.listdir(out) if x.endswith(".json"))
            if not reports:
                errors.append("%s: wrote no report" % name)
            for x in reports:
                check_report(os.path.join(out, x), errors)
            print("%s: %s" % (name, ", ".join(reports)))
            ran += 1
    for e in errors:
        print("FAIL " + e)
    if ran == 0:
        print("FAIL no benchmark ran")
        return 1
    return 1 if errors else 0


if __name__ == "__main__":
    sys.exit(main())
