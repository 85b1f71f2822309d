#!/usr/bin/python3
# SPDX-License-Identifier: BSD-3-Clause
"""Print every out/bench/*.json (DESIGN.md section 9) as one table."""
import glob
import json
import os
import sys

out = sys.argv[1] if len(sys.argv) > 1 else "out/bench"
rows = []
for path in sorted(glob.glob(os.path.join(out, "*.json"))):
    with open(path) as f:
        r = json.load(f)
    rows.append((r["name"], "%.3f %s" % (r["value"], r["unit"]),
                 "%s = %.3f" % (r["anchor"]["name"], r["anchor"]["value"]),
                 "%.3f" % r["ratio"], r.get("target", "")))
hdr = ("figure", "value", "anchor (same run)", "ratio", "target")
w = [max(len(str(x[i])) for x in rows + [hdr]) for i in range(len(hdr))]
for row in [hdr] + rows:
    print("  ".join(str(c).ljust(w[i]) for i, c in enumerate(row)))
