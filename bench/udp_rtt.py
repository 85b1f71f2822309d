#!/usr/bin/python3
# SPDX-License-Identifier: BSD-3-Clause
"""udp_rtt: round trip of 64-byte UDP datagrams, Sluice against Linux.

On netlab's `rtt` topology (tools/netlab.d/rtt.json) a Linux echo server
(bench/udp_rtt server, on a plain socket) runs on l1. Two clients take
turns against it, each over its own veth pair to l1: `udp_rtt client
--sluice` on the Sluice host s1 (application stack, driver, flow manager)
and `udp_rtt client` on the Linux host c1. Only the client side differs.
Every round trip of every round is kept and the medians and 99th
percentiles are taken over all of them. Then the same between two Sluice
applications (s3 -> s2, both on the stack).

The lab comes up twice, with the Sluice drivers on net_af_xdp and then on
net_af_packet, and on each the clients wait two ways, in alternating
rounds (Sluice, Linux, Sluice, Linux for each way):

  block  both clients sleep until the reply (the stack's wait descriptor;
         poll() on the socket). The figure is this pair on net_af_packet,
         the default port: what an ordinary application sees. On this
         machine's two cores a blocking Sluice client pays cross-CPU
         wake-ups that Linux, which wakes the echo server and its client
         on the CPU of the softirq, does not (docs/bench.md).
  spin   both clients poll for the reply (the Sluice one its receive
         channel, the Linux one a non-blocking socket), as a DPDK
         application does, both pinned to a CPU other than the s1
         driver's (a polling thread gets a core of its own; unpinned, the
         Sluice one lands on the driver's CPU about one run in two): only
         the stacks differ.
All four pairs are in params, each with its ratio.

The drivers run with busy_poll_us (docs/driver.md): without it a reply
waits for the driver's next look (up to idle_sleep_ms). Target: Sluice's
median at most 1.0x Linux's.

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
MODES = ("block", "spin")
HEADLINE = "af_packet/block"
SPIN_CPU = None  # where spinning clients run: not the s1 driver's CPU


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


def client(exe, host, addr, count, spin, sluice_sock=None):
    cmd = ns(host) + (["taskset", "-c", str(SPIN_CPU)] if spin and SPIN_CPU is not None else [])
    cmd += [exe, "client", addr, str(PORT), "--count", str(count), "--size", "64"]
    if spin:
        cmd.append("--spin")
    if sluice_sock:
        cmd += ["--sluice", "--socket", sluice_sock]
    r = subprocess.run(cmd, capture_output=True, text=True, timeout=120)
    if r.returncode != 0:
        raise RuntimeError("%s: %s" % (" ".join(cmd), r.stderr))
    lost = sum(1 for line in r.stderr.splitlines() if line.startswith("lost"))
    return [int(x) for x in r.stdout.split()], lost


def run_lab(build, exe, xdp, rounds, count):
    """One lab (drivers on af_xdp or af_packet): {mode: {who: ([ns], lost)}}."""
    servers = []
    res = {m: {w: ([], 0) for w in ("sluice", "linux", "sluice_sluice")} for m in MODES}

    def add(mode, who, got):
        xs, n = res[mode][who]
        res[mode][who] = (xs + got[0], n + got[1])

    netlab(build, "down", check=False)
    try:
        netlab(build, "up", "rtt", *(["--xdp"] if xdp else []),
               "--driver-opt", "busy_poll_us=%d" % BUSY_POLL_US)
        st = json.load(open(os.path.join(REPO, "out", "netlab-%s.json" % PREFIX)))
        hosts = st["hosts"]
        sock = {h: hosts[h]["sluice"]["flowmgr"]["socket"] for h in ("s1", "s2", "s3")}
        global SPIN_CPU
        ncpu = os.cpu_count() or 1
        SPIN_CPU = (hosts["s1"]["sluice"]["lcore"] + 1) % ncpu if ncpu > 1 else None
        servers.append(subprocess.Popen(ns("l1") + [exe, "server", str(PORT)]))
        servers.append(subprocess.Popen(ns("s2") + [exe, "server", str(PORT), "--sluice",
                                                    "--socket", sock["s2"]]))
        time.sleep(0.5)
        for _ in range(rounds):
            for mode in MODES:
                add(mode, "sluice", client(exe, "s1", "10.77.4.1", count, mode == "spin",
                                           sock["s1"]))
                add(mode, "linux", client(exe, "c1", "10.77.6.1", count, mode == "spin"))
        # Sluice to Sluice blocking only: a spinning client beside three
        # drivers on two cores measures only who got a CPU (milliseconds).
        for _ in range(max(1, rounds // 2)):
            add("block", "sluice_sluice", client(exe, "s3", "10.77.7.2", count, False,
                                                 sock["s3"]))
    finally:
        for p in servers:
            p.terminate()
            try:
                p.wait(timeout=5)
            except subprocess.TimeoutExpired:
                p.kill()
        netlab(build, "down", check=False)
    return res


def us(ns_):
    return round(ns_ / 1000.0, 2)


def pair(r):
    """The figures of one (port, mode): Sluice against Linux."""
    sl, lx, ss = r["sluice"][0], r["linux"][0], r["sluice_sluice"][0]
    ms, ml = pct(sl, 50), pct(lx, 50)
    return {
        "sluice_median_us": us(ms), "linux_median_us": us(ml),
        "ratio": round(ms / ml, 3) if ml else None,
        "sluice_p99_us": us(pct(sl, 99)), "linux_p99_us": us(pct(lx, 99)),
        "sluice_min_us": us(min(sl)) if sl else None,
        "linux_min_us": us(min(lx)) if lx else None,
        "sluice_to_sluice_median_us": us(pct(ss, 50)) if ss else None,
        "sluice_to_sluice_p99_us": us(pct(ss, 99)) if ss else None,
        "lost": {w: r[w][1] for w in r},
    }


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
    pairs = {}
    for port, xdp in (("af_xdp", True), ("af_packet", False)):
        r = run_lab(build, exe, xdp, rounds, count)
        for mode in MODES:
            pairs["%s/%s" % (port, mode)] = pair(r[mode])

    head = pairs[HEADLINE]
    res = {
        "name": "udp_rtt",
        "unit": "us",
        "value": head["sluice_median_us"],
        "better": "lower",
        "anchor": {"name": "Linux UDP client, same server, same kind of veth, blocking",
                   "value": head["linux_median_us"]},
        "ratio": head["ratio"],
        "target": "<= 1.0x Linux's median",
        "params": {
            "size": 64,
            "rounds": rounds,
            "round_trips_per_round": count,
            "figure": HEADLINE + ": Sluice driver on net_af_packet, both clients block",
            "spin_cpu": SPIN_CPU,
            "pairs": pairs,
            "driver_busy_poll_us": BUSY_POLL_US,
            "port": "a veth pair per client (netlab topology rtt)",
        },
    }
    os.makedirs(out, exist_ok=True)
    with open(os.path.join(out, "udp_rtt.json"), "w") as f:
        json.dump(res, f, indent=2)
        f.write("\n")
    print("%-24s %12s %-10s anchor %-28s %12s  ratio %s  (target <= 1.0x)" % (
        "udp_rtt", res["value"], "us", "Linux client", res["anchor"]["value"], res["ratio"]))
    for name, p in pairs.items():
        print("  %-16s Sluice %7.2f us (p99 %8.2f)  Linux %7.2f us (p99 %8.2f)  %5.2fx;"
              "  Sluice to Sluice %s us; lost %s" % (
                  name, p["sluice_median_us"], p["sluice_p99_us"], p["linux_median_us"],
                  p["linux_p99_us"], p["ratio"] or 0, p["sluice_to_sluice_median_us"] or "-",
                  p["lost"]))
    return 0


if __name__ == "__main__":
    sys.exit(main())
