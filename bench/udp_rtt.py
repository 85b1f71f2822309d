#!/usr/bin/python3
# SPDX-License-Identifier: BSD-3-Clause
"""udp_rtt: round trip of 64-byte UDP datagrams, Sluice against Linux.

On netlab's `rtt` topology (tools/netlab.d/rtt.json) a Linux echo server
(bench/udp_rtt server, on a plain socket) runs on l1. Two clients take
turns against it, each over its own veth pair to l1: `udp_rtt client
--sluice` on the Sluice host s1 (application stack, driver on
net_af_packet, flow manager) and `udp_rtt client` on the Linux host c1.
Only the client side differs. Rounds alternate (Sluice, Linux, Sluice, ...)
so that both see the same machine; every round trip of every round is kept
and the medians and 99th percentiles are taken over all of them. Then the
same between two Sluice applications (s3 -> s2, both on the stack).

The drivers run with busy_poll_us (docs/driver.md): net_af_packet has no
receive interrupt, so without it a reply waits for the driver's next look
(up to idle_sleep_ms). Target: Sluice's median at most 1.0x Linux's.

Usage: bench/udp_rtt.py BUILD_DIR OUT_DIR [--quick]. Needs root (network
namespaces); prints a note and writes nothing otherwise.
"""
import json
import os
import subprocess
import sys
import time

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
NETLAB = os.path.join(REPO, "tools", "netlab")
PREFIX = "rtt"
PORT = 7777
BUSY_POLL_US = 2000


def netlab(build, *args, check=True):
    r = subprocess.run([NETLAB, "--prefix", PREFIX, "--build", build, *args],
                       capture_output=True, text=True)
    if check and r.returncode != 0:
        raise RuntimeError("netlab %s: %s%s" % (" ".join(args), r.stdout, r.stderr))
    return r


def ns(host):
    return ["ip", "netns", "exec", "%s-%s" % (PREFIX, host)]


def pct(xs, p):
    xs = sorted(xs)
    return xs[min(len(xs) - 1, int(p / 100.0 * len(xs)))] if xs else 0


def client(exe, host, addr, count, sluice_sock=None):
    cmd = ns(host) + [exe, "client", addr, str(PORT), "--count", str(count), "--size", "64"]
    if sluice_sock:
        cmd += ["--sluice", "--socket", sluice_sock]
    r = subprocess.run(cmd, capture_output=True, text=True, timeout=120)
    if r.returncode != 0:
        raise RuntimeError("%s: %s" % (" ".join(cmd), r.stderr))
    lost = sum(1 for line in r.stderr.splitlines() if line.startswith("lost"))
    return [int(x) for x in r.stdout.split()], lost


def main():
    build, out = os.path.abspath(sys.argv[1]), sys.argv[2]
    quick = "--quick" in sys.argv[3:]
    exe = os.path.join(build, "bench", "udp_rtt")
    if os.geteuid() != 0:
        print("udp_rtt: skipped: needs root (network namespaces)")
        return 0
    if not os.access(exe, os.X_OK):
        print("udp_rtt: %s is missing" % exe, file=sys.stderr)
        return 1
    rounds, count = (3, 300) if quick else (6, 2000)
    servers = []
    netlab(build, "down", check=False)
    try:
        netlab(build, "up", "rtt", "--driver-opt", "busy_poll_us=%d" % BUSY_POLL_US)
        st = json.load(open(os.path.join(REPO, "out", "netlab-%s.json" % PREFIX)))
        hosts = st["hosts"]
        sock = {h: hosts[h]["sluice"]["flowmgr"]["socket"] for h in ("s1", "s2", "s3")}
        servers.append(subprocess.Popen(ns("l1") + [exe, "server", str(PORT)]))
        servers.append(subprocess.Popen(ns("s2") + [exe, "server", str(PORT), "--sluice",
                                                    "--socket", sock["s2"]]))
        time.sleep(0.5)
        sl, lx, ss = [], [], []
        lost = {"sluice": 0, "linux": 0, "sluice_sluice": 0}
        for _ in range(rounds):
            x, n = client(exe, "s1", "10.77.4.1", count, sock["s1"])
            sl += x
            lost["sluice"] += n
            x, n = client(exe, "c1", "10.77.6.1", count)
            lx += x
            lost["linux"] += n
        for _ in range(max(1, rounds // 2)):
            x, n = client(exe, "s3", "10.77.7.2", count, sock["s3"])
            ss += x
            lost["sluice_sluice"] += n
    finally:
        for p in servers:
            p.terminate()
            try:
                p.wait(timeout=5)
            except subprocess.TimeoutExpired:
                p.kill()
        netlab(build, "down", check=False)

    us = lambda ns_: round(ns_ / 1000.0, 2)  # noqa: E731
    med_s, med_l = pct(sl, 50), pct(lx, 50)
    res = {
        "name": "udp_rtt",
        "unit": "us",
        "value": us(med_s),
        "better": "lower",
        "anchor": {"name": "Linux UDP client, same server, same kind of veth", "value": us(med_l)},
        "ratio": round(med_s / med_l, 3) if med_l else None,
        "target": "<= 1.0x Linux's median",
        "params": {
            "size": 64,
            "rounds": rounds,
            "round_trips_per_round": count,
            "sluice_p99_us": us(pct(sl, 99)),
            "linux_p99_us": us(pct(lx, 99)),
            "sluice_min_us": us(min(sl)) if sl else None,
            "linux_min_us": us(min(lx)) if lx else None,
            "sluice_to_sluice_median_us": us(pct(ss, 50)),
            "sluice_to_sluice_p99_us": us(pct(ss, 99)),
            "lost": lost,
            "driver_busy_poll_us": BUSY_POLL_US,
            "port": "net_af_packet on a veth (netlab topology rtt)",
            "client_wait": "blocking (the stack's wait descriptor / poll)",
        },
    }
    os.makedirs(out, exist_ok=True)
    with open(os.path.join(out, "udp_rtt.json"), "w") as f:
        json.dump(res, f, indent=2)
        f.write("\n")
    print("%-24s %12s %-10s anchor %-28s %12s  ratio %s  (target <= 1.0x)" % (
        "udp_rtt", res["value"], "us", "Linux client", res["anchor"]["value"], res["ratio"]))
    print("  p99: Sluice %s us, Linux %s us; Sluice to Sluice median %s us, p99 %s us; lost %s" % (
        res["params"]["sluice_p99_us"], res["params"]["linux_p99_us"],
        res["params"]["sluice_to_sluice_median_us"], res["params"]["sluice_to_sluice_p99_us"],
        lost))
    return 0


if __name__ == "__main__":
    sys.exit(main())
