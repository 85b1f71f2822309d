#!/usr/bin/python3
# SPDX-License-Identifier: BSD-3-Clause
"""make demo: the Nemesis paper's QoS experiments on tools/netlab, with Linux
beside Sluice in the same run (docs/demo.md).

    examples/demo/demo.py BUILD_DIR OUT_DIR [--gbit|--no-gbit] [--short] [--only 5a,5b,7]

It brings up netlab's `demo` topology (Sluice sender s1, Sluice receiver s2,
Linux receiver l1, Linux sender l2, one bridged segment), runs

  5a  six guaranteed udp_blast flows, 4..24 ms per 100 ms, no slack;
  5b  a best-effort flow on slack, four guaranteed flows (6..9 ms per 100 ms)
      joining 5 s apart;
  7   two paced streams (40 and 45 Mbit/s) to two receivers, one of which
      slows down every few seconds;

first on Sluice (s1 sends; l1, or s2 for 7, receives), then on Linux (l2
sends through tc HTB for 5a/5b, plain sockets for 7; l1 receives), measured
the same way by udp_sink in 200 ms bins. It writes OUT/fig5a.csv (Sluice),
OUT/fig5a_linux.csv (Linux), a PNG per figure with both side by side, and
a summary table (OUT/summary.txt, OUT/summary.json), then takes the network
down. With the link at 1 Gbit/s too (--gbit), files carry a `_1g` suffix.

Standard library only; Debian's /usr/bin/python3; root.
"""

import argparse
import json
import os
import signal
import statistics
import subprocess
import sys
import time

HERE = os.path.dirname(os.path.realpath(__file__))
REPO = os.path.dirname(os.path.dirname(HERE))
NETLAB = os.path.join(REPO, "tools", "netlab")
PREFIX = "demo"
BIN_S = 0.2
# A flow's first and last bins hold its start (its process, its flow
# opened, other senders starting) and its end: left out of the statistics.
EDGE_S = 2 * BIN_S
SIZE = 1472  # payload: one full-size frame per datagram
PERIOD_MS = 100
# Every datagram costs this much wire time (examples/common/ex.h): Ethernet
# preamble, header, IPv4, UDP, FCS and gap. HTB is told the part it cannot
# see (preamble 8 + FCS 4 + gap 12), so both systems count the same bytes.
WIRE_EXTRA = 24


def say(msg):
    print(f"demo: {msg}", file=sys.stderr, flush=True)


class Lab:
    """The netlab `demo` topology and the processes the demo starts in it."""

    def __init__(self, build, out, link_mbps):
        self.build, self.out, self.link = build, out, link_mbps
        self.procs = []
        self.state = None

    def netlab(self, *args, check=True):
        cmd = [NETLAB, "--prefix", PREFIX, "--build", self.build, *args]
        r = subprocess.run(cmd, capture_output=True, text=True)
        if check and r.returncode != 0:
            raise RuntimeError(f"netlab {' '.join(args)} failed:\n{r.stderr}{r.stdout}")
        return r

    def up(self):
        say(f"netlab up demo, link {self.link} Mbit/s")
        self.netlab("up", "demo", "--replace", "--link-mbps", str(self.link))
        path = os.path.join(REPO, "out", f"netlab-{PREFIX}.json")
        with open(path) as f:
            self.state = json.load(f)

    def down(self):
        self.stop_all()
        self.netlab("down", check=False)

    def host(self, h):
        return self.state["hosts"][h]

    def addr(self, h):
        return self.host(h)["address"]

    def iface(self, h):
        return self.host(h)["interfaces"][0]["name"]

    def fm_socket(self, h):
        return self.host(h)["sluice"]["flowmgr"]["socket"]

    def run_dir(self, h):
        return self.host(h)["sluice"]["runtime_dir"]

    def exe(self, name):
        return os.path.join(self.build, "examples", name)

    def ns(self, h, cmd, **kw):
        """Run CMD in host H's namespace and wait."""
        return subprocess.run(["ip", "netns", "exec", self.host(h)["netns"], *cmd], **kw)

    def spawn(self, h, cmd, log):
        """Start CMD in host H's namespace, stdout and stderr to LOG."""
        f = open(log, "w")
        p = subprocess.Popen(["ip", "netns", "exec", self.host(h)["netns"], *cmd],
                             stdout=f, stderr=subprocess.STDOUT, start_new_session=True)
        p.log, p.logf = log, f
        self.procs.append(p)
        return p

    def wait(self, procs, timeout):
        deadline = time.monotonic() + timeout
        for p in procs:
            try:
                p.wait(max(0.1, deadline - time.monotonic()))
            except subprocess.TimeoutExpired:
                os.killpg(p.pid, signal.SIGKILL)
                p.wait()
                raise RuntimeError(f"{p.args[-1]}...: no end in time; see {p.log}")
            p.logf.close()
            if p.returncode != 0:
                with open(p.log) as f:
                    tail = f.read()[-2000:]
                raise RuntimeError(f"{' '.join(p.args[4:6])} exited {p.returncode}:\n{tail}")

    def stop_all(self):
        for p in self.procs:
            if p.poll() is None:
                try:
                    os.killpg(p.pid, signal.SIGKILL)
                except ProcessLookupError:
                    pass
                p.wait()
        self.procs = []

    def sluice_json(self, h, *args):
        """The `sluice` tool's JSON answer on Sluice host H."""
        r = subprocess.run([os.path.join(self.build, "tools", "sluice"), "-s", self.run_dir(h),
                            "-j", *args], capture_output=True, text=True, timeout=10)
        if r.returncode != 0:
            raise RuntimeError(f"sluice {' '.join(args)}: {r.stderr.strip()}")
        return json.loads(r.stdout)


# ---------------------------------------------------------------- measuring


def read_csv(path):
    """{flow: [(t_s, guarantee_mbps, mbps, drops)]} from a udp_sink CSV."""
    flows = {}
    with open(path) as f:
        head = f.readline().strip()
        if head != "t_s,flow,guarantee_mbps,mbps,drops":
            raise RuntimeError(f"{path}: unexpected header {head!r}")
        for line in f:
            t, flow, g, mbps, drops = line.strip().split(",")
            flows.setdefault(int(flow), []).append((float(t), float(g), float(mbps), int(drops)))
    return flows


def write_csv(path, flows):
    rows = sorted((r[0], fl, r[1], r[2], r[3]) for fl, rs in flows.items() for r in rs)
    with open(path, "w") as f:
        f.write("t_s,flow,guarantee_mbps,mbps,drops\n")
        for t, fl, g, m, d in rows:
            f.write(f"{t:.3f},{fl},{g:.3f},{m:.3f},{d}\n")


def window(rows, t0, t1):
    """The bins that lie wholly inside [t0, t1]."""
    return [r for r in rows if r[0] - BIN_S >= t0 - 1e-6 and r[0] <= t1 + 1e-6]


def flow_stats(rows, t0, t1, guarantee=None):
    """Mean rate, its error against the guarantee, bin variation and drops,
    over the bins wholly inside the flow's active time [t0, t1]."""
    w = window(rows, t0, t1)
    rates = [r[2] for r in w]
    if not rates:
        return {"bins": 0}
    mean = statistics.fmean(rates)
    sd = statistics.pstdev(rates) if len(rates) > 1 else 0.0
    s = {
        "bins": len(rates),
        "mean_mbps": round(mean, 3),
        "cv_pct": round(100 * sd / mean, 2) if mean > 0 else None,
        "min_mbps": round(min(rates), 3),
        "max_mbps": round(max(rates), 3),
        "drops": sum(r[3] for r in rows),
    }
    if guarantee:
        s["guarantee_mbps"] = guarantee
        s["error_pct"] = round(100 * (mean - guarantee) / guarantee, 2)
    return s


# ---------------------------------------------------------------- the runs


class Demo:
    def __init__(self, lab, out, suffix, short):
        self.lab, self.out, self.suffix = lab, out, suffix
        self.scale = 0.5 if short else 1.0
        self.logs = os.path.join(out, "logs")
        os.makedirs(self.logs, exist_ok=True)
        self.results = {}

    def path(self, name, ext):
        return os.path.join(self.out, f"{name}{self.suffix}.{ext}")

    def log(self, name):
        return os.path.join(self.logs, f"{name}{self.suffix}.log")

    def dur(self, s):
        return s * self.scale

    def g_mbps(self, slice_ms):
        return self.lab.link * slice_ms / PERIOD_MS

    def sink(self, host, port, name, duration, kernel, slow=None):
        lab = self.lab
        csv = os.path.join(self.logs, f"{name}{self.suffix}.csv")
        cmd = [lab.exe("udp_sink"), "--port", str(port), "--duration", f"{duration:.3f}s",
               "--csv", csv]
        if kernel:
            cmd.append("--kernel")
        else:
            cmd += ["--socket", lab.fm_socket(host)]
        if slow:
            cmd += ["--slow", slow]
        p = lab.spawn(host, cmd, self.log(name))
        p.csv = csv
        return p

    def blast(self, host, dst, port, flow, name, duration, kernel, slice_ms=None,
              rate=None, local_port=None, g=0.0, delay=0.0):
        lab = self.lab
        cmd = [lab.exe("udp_blast"), dst, str(port), "--size", str(SIZE), "--flow", str(flow),
               "--duration", f"{duration:.3f}s", "--guarantee-mbps", f"{g:.3f}"]
        if slice_ms is not None:
            cmd += ["--period", f"{PERIOD_MS}ms", "--slice", f"{slice_ms}ms"]
        if rate:
            cmd += ["--rate", str(rate)]
        if local_port:
            cmd += ["--local-port", str(local_port)]
        if kernel:
            cmd.append("--kernel")
        else:
            cmd += ["--socket", lab.fm_socket(host), "--extra"] if slice_ms is None else \
                ["--socket", lab.fm_socket(host)]
        if delay:
            cmd = ["sh", "-c", f'sleep {delay:.3f} && exec "$@"', "blast", *cmd]
        return lab.spawn(host, cmd, self.log(f"{name}-flow{flow}"))

    # ---- tc HTB on the Linux sender

    def htb(self, classes, best_effort=None):
        """Root 1:1 at the link rate; a class per (flow, local port, rate)
        with rate = ceil = its guarantee; the best-effort port borrows up to
        the link."""
        lab, dev = self.lab, self.lab.iface("l2")
        link = f"{lab.link}mbit"
        tc = lambda *a: lab.ns("l2", ["tc", *a], check=True, capture_output=True)
        lab.ns("l2", ["tc", "qdisc", "del", "dev", dev, "root"], capture_output=True)
        tc("qdisc", "add", "dev", dev, "root", "handle", "1:", "htb", "default", "99")
        tc("class", "add", "dev", dev, "parent", "1:", "classid", "1:1", "htb", "rate", link,
           "ceil", link, "overhead", str(WIRE_EXTRA), "quantum", "3028")
        # Unclassified traffic (ARP) gets a trickle and may borrow.
        tc("class", "add", "dev", dev, "parent", "1:1", "classid", "1:99", "htb", "rate",
           "100kbit", "ceil", link, "overhead", str(WIRE_EXTRA), "quantum", "3028")
        leaves = [(fl, port, f"{g:.3f}mbit", f"{g:.3f}mbit") for fl, port, g in classes]
        if best_effort:
            fl, port = best_effort
            leaves.append((fl, port, "100kbit", link))
        for fl, port, rate, ceil in leaves:
            cid = f"1:{10 + fl}"
            tc("class", "add", "dev", dev, "parent", "1:1", "classid", cid, "htb", "rate", rate,
               "ceil", ceil, "overhead", str(WIRE_EXTRA), "quantum", "3028")
            tc("filter", "add", "dev", dev, "parent", "1:", "protocol", "ip", "prio", "1", "u32",
               "match", "ip", "sport", str(port), "0xffff", "flowid", cid)

    def htb_off(self):
        self.lab.ns("l2", ["tc", "qdisc", "del", "dev", self.lab.iface("l2"), "root"],
                    capture_output=True)

    def collect(self, blasts, sink, run, kernel):
        """Wait for the senders, then the sink; HTB off; the sink's bins."""
        self.lab.wait(blasts, run + 20)
        self.lab.wait([sink], 20)
        if kernel:
            self.htb_off()
        return read_csv(sink.csv)

    def guaranteed(self, flows, slices, first):
        """Statistics of flows first, first + 1, ... guaranteed SLICES ms."""
        res = {}
        for i, s in enumerate(slices):
            rows = flows.get(first + i, [])
            t0, t1 = active(rows)
            res[first + i] = flow_stats(rows, t0 + EDGE_S, t1 - EDGE_S, self.g_mbps(s))
        return res

    # ---- experiment 5a: guarantees

    def exp5a(self, system):
        lab, kernel = self.lab, system == "linux"
        src, dst = ("l2", "l1") if kernel else ("s1", "l1")
        run, lead = self.dur(10.0), 0.5
        slices = [4, 8, 12, 16, 20, 24]
        name = f"fig5a_{system}"
        say(f"5a on {system}: six flows, {', '.join(map(str, slices))} ms per {PERIOD_MS} ms, "
            f"{run:g} s")
        if kernel:
            self.htb([(i + 1, 10001 + i, self.g_mbps(s)) for i, s in enumerate(slices)])
        sink = self.sink("l1", 9000, name, lead + run + 0.6, kernel=True)
        time.sleep(lead)
        blasts = [self.blast(src, lab.addr(dst), 9000, i + 1, name, run, kernel,
                             slice_ms=None if kernel else s, local_port=10001 + i,
                             g=self.g_mbps(s)) for i, s in enumerate(slices)]
        flows = self.collect(blasts, sink, run, kernel)
        self.save("fig5a", system, flows, self.guaranteed(flows, slices, 1))

    # ---- experiment 5b: slack

    def exp5b(self, system):
        lab, kernel = self.lab, system == "linux"
        src, dst = ("l2", "l1") if kernel else ("s1", "l1")
        step, n = self.dur(5.0), 4
        run, lead = step * (n + 1), 0.5
        slices = [6, 7, 8, 9]
        name = f"fig5b_{system}"
        say(f"5b on {system}: best effort on slack, then {', '.join(map(str, slices))} ms "
            f"per {PERIOD_MS} ms joining {step:g} s apart")
        if kernel:
            self.htb([(i + 2, 10002 + i, self.g_mbps(s)) for i, s in enumerate(slices)],
                     best_effort=(1, 10001))
        sink = self.sink("l1", 9000, name, lead + run + 0.6, kernel=True)
        time.sleep(lead)
        blasts = [self.blast(src, lab.addr(dst), 9000, 1, name, run, kernel, local_port=10001)]
        for i, s in enumerate(slices):
            d = step * (i + 1)
            blasts.append(self.blast(src, lab.addr(dst), 9000, i + 2, name, run - d, kernel,
                                     slice_ms=None if kernel else s, local_port=10002 + i,
                                     g=self.g_mbps(s), delay=d))
        flows = self.collect(blasts, sink, run, kernel)
        res = self.guaranteed(flows, slices, 2)
        t0_be, t1_be = active(flows.get(1, []))
        # The best-effort flow, phase by phase: it should get what the
        # guaranteed flows leave of the link.
        be = flows.get(1, [])
        phases = []
        for k in range(n + 1):
            a, b = t0_be + step * k, min(t0_be + step * (k + 1), t1_be)
            left = self.lab.link - sum(self.g_mbps(s) for s in slices[:k])
            st = flow_stats(be, a + EDGE_S, b - EDGE_S)
            st["rest_mbps"] = round(left, 3)
            phases.append(st)
        res[1] = flow_stats(be, t0_be + EDGE_S, t1_be - EDGE_S)
        res[1]["phases"] = phases
        self.save("fig5b", system, flows, res)

    # ---- experiment 7: receive overload

    def exp7(self, system):
        lab, kernel = self.lab, system == "linux"
        src, dst = ("l2", "l1") if kernel else ("s1", "s2")
        run, lead = self.dur(12.0), 0.5
        slow = "4s,2s,1ms" if self.scale == 1 else "2s,1s,1ms"
        rates = {1: 40 * self.lab.link / 100, 2: 45 * self.lab.link / 100}
        name = f"fig7_{system}"
        say(f"7 on {system}: {rates[1]:g} and {rates[2]:g} Mbit/s to {dst}; the receiver of "
            f"flow 2 slows down ({slow}: every, for, work per datagram)")
        sinks = {1: self.sink(dst, 9001, f"{name}-steady", lead + run + 3, kernel=kernel),
                 2: self.sink(dst, 9002, f"{name}-slow", lead + run + 3, kernel=kernel,
                              slow=slow)}
        time.sleep(lead)
        blasts = [self.blast(src, lab.addr(dst), 9000 + fl, fl, name, run, kernel, rate=r,
                             local_port=10000 + fl) for fl, r in rates.items()]
        lab.wait(blasts, run + 20)
        time.sleep(0.5)
        driver = {}
        if not kernel:
            # The receiving driver's own count of what it dropped, per flow,
            # while the sinks still hold their flows.
            for f in lab.sluice_json("s2", "flows"):
                port = f["local"]["port"]
                if port in (9001, 9002):
                    c = lab.sluice_json("s2", "flow", "show", str(f["id"]))["counters"] or {}
                    driver[port - 9000] = {"rx_pkts": c.get("rx_pkts"),
                                           "rx_dropped": c.get("rx_dropped"),
                                           "rx_drops": c.get("rx_drops")}
        lab.wait(sinks.values(), 20)
        flows = {}
        for fl, p in sinks.items():
            f = read_csv(p.csv)
            flows[fl] = f.get(fl, [])
        res = {}
        for fl, r in rates.items():
            t0, t1 = active(flows[fl])
            res[fl] = flow_stats(flows[fl], t0 + EDGE_S, t1 - EDGE_S, r)
            res[fl]["role"] = "slow receiver" if fl == 2 else "steady receiver"
            res[fl]["sink_drops"] = sum(x[3] for x in flows[fl])
            if driver:
                res[fl]["driver"] = driver.get(fl)
        self.save("fig7", system, flows, res)

    def save(self, fig, system, flows, res):
        base = fig if system == "sluice" else f"{fig}_linux"
        write_csv(self.path(base, "csv"), flows)
        self.results.setdefault(fig, {})[system] = {str(k): v for k, v in res.items()}


def active(rows):
    """The first and last bin end with traffic: the flow's active time."""
    t = [r[0] for r in rows if r[2] > 0]
    if not t:
        return 0.0, 0.0
    return t[0] - BIN_S, t[-1]


# ---------------------------------------------------------------- plots


TITLES = {
    "fig5a": "5a: six guarantees, 4..24 ms per 100 ms, no slack",
    "fig5b": "5b: best effort on slack; guarantees 6..9 ms per 100 ms join 5 s apart",
    "fig7": "7: 40 and 45 Mbit/s; receiver of flow 2 slowed periodically",
}


def plot(out, fig, suffix, link):
    """One PNG per figure: Sluice left, Linux right, a line per flow."""
    panels = []
    for system, label in (("", "Sluice"), ("_linux", "Linux (tc HTB)" if fig != "fig7"
                                            else "Linux (sockets)")):
        csv = os.path.join(out, f"{fig}{system}{suffix}.csv")
        if not os.path.exists(csv):
            continue
        flows = read_csv(csv)
        dat = os.path.join(out, "logs", f"{fig}{system}{suffix}.dat")
        with open(dat, "w") as f:
            for fl in sorted(flows):
                g = flows[fl][0][1]
                name = f"flow {fl}" + (f" ({g:g} Mbit/s)" if g else " (best effort)")
                f.write(f'"{name}"\n')
                for t, _, m, _ in flows[fl]:
                    f.write(f"{t:.3f} {m:.3f}\n")
                f.write("\n\n")
        panels.append((label, dat, len(flows)))
    if not panels:
        return None
    png = os.path.join(out, f"{fig}{suffix}.png")
    gp = [f'set terminal pngcairo size {640 * len(panels)},480 font ",10"' if has_cairo()
          else f"set terminal png size {640 * len(panels)},480",
          f'set output "{png}"',
          f'set multiplot layout 1,{len(panels)} title "{TITLES[fig]} (link {link} Mbit/s)"',
          'set xlabel "time (s)"', 'set ylabel "Mbit/s (wire)"', "set grid",
          "set key top right", f"set yrange [0:{link * 0.8 if fig == 'fig7' else link:g}]"]
    if fig == "fig7":
        gp[-1] = f"set yrange [0:{link * 0.6:g}]"
    for label, dat, n in panels:
        gp.append(f'set title "{label}"')
        gp.append(f'plot for [i=0:{n - 1}] "{dat}" index i using 1:2 with lines lw 2 '
                  "title columnheader(1)")
    gp.append("unset multiplot")
    r = subprocess.run(["gnuplot"], input="\n".join(gp) + "\n", capture_output=True, text=True)
    if r.returncode != 0:
        say(f"gnuplot failed for {fig}: {r.stderr.strip()}")
        return None
    return png


_cairo = None


def has_cairo():
    global _cairo
    if _cairo is None:
        r = subprocess.run(["gnuplot", "-e", "set terminal"], capture_output=True, text=True)
        _cairo = "pngcairo" in (r.stdout + r.stderr)
    return _cairo


# ---------------------------------------------------------------- summary


def fmt(v, spec, none="-"):
    """V formatted by SPEC; NONE, as wide, when there is no value."""
    if v is None:
        width = "".join(c for c in spec.split(".")[0] if c.isdigit())
        return none.rjust(int(width or 0))
    return format(v, spec)


def summary(results, link, suffix):
    """The table: Sluice and Linux side by side, a row per flow."""
    lines = [f"link {link} Mbit/s; rates are wire Mbit/s over the flow's active time "
             f"(its first and last 400 ms left out: start-up and end); var = standard deviation of the "
             f"200 ms bins / their mean; drops = datagrams missing at the receiver",
             ""]
    hdr = (f"{'exp':<4} {'flow':<18} {'want':>7} | {'Sluice':>8} {'err%':>6} {'var%':>5} "
           f"{'drops':>6} | {'Linux':>8} {'err%':>6} {'var%':>5} {'drops':>6}")
    lines += [hdr, "-" * len(hdr)]
    verdicts = []
    for fig in ("fig5a", "fig5b", "fig7"):
        r = results.get(fig)
        if not r:
            continue
        sl, lx = r.get("sluice", {}), r.get("linux", {})
        for fl in sorted(set(sl) | set(lx), key=int):
            a, b = sl.get(fl, {}), lx.get(fl, {})
            want = a.get("guarantee_mbps") or b.get("guarantee_mbps")
            label = f"{fl}"
            if fig == "fig5b" and fl == "1":
                label = "1 best effort"
            if fig == "fig7":
                label = f"{fl} {a.get('role', b.get('role', ''))}"
            lines.append(
                f"{fig[3:]:<4} {label:<18} {fmt(want, '7.2f')} | "
                f"{fmt(a.get('mean_mbps'), '8.2f')} {fmt(a.get('error_pct'), '+6.2f')} "
                f"{fmt(a.get('cv_pct'), '5.1f')} {fmt(a.get('drops'), '6d')} | "
                f"{fmt(b.get('mean_mbps'), '8.2f')} {fmt(b.get('error_pct'), '+6.2f')} "
                f"{fmt(b.get('cv_pct'), '5.1f')} {fmt(b.get('drops'), '6d')}")
            if fig == "fig5b" and fl == "1":
                for k, (pa, pb) in enumerate(zip(a.get("phases", []), b.get("phases", []))):
                    lines.append(
                        f"{'':<4} {'  phase %d' % k:<18} {pa['rest_mbps']:7.2f} | "
                        f"{fmt(pa.get('mean_mbps'), '8.2f')} {'':>6} "
                        f"{fmt(pa.get('cv_pct'), '5.1f')} {'':>6} | "
                        f"{fmt(pb.get('mean_mbps'), '8.2f')} {'':>6} "
                        f"{fmt(pb.get('cv_pct'), '5.1f')}")
        # What the design asks of each experiment, on Sluice.
        if fig in ("fig5a", "fig5b"):
            g = [v for k, v in sl.items() if "error_pct" in v and not (fig == "fig5b" and k == "1")]
            worst = max((abs(v["error_pct"]) for v in g), default=None)
            ok = worst is not None and worst <= 1.0
            verdicts.append(f"{fig}: every guaranteed Sluice flow within 1% of its guarantee: "
                            f"{'yes' if ok else 'NO'} (worst {fmt(worst, '.2f')}%)")
            cv_s = [v["cv_pct"] for k, v in sl.items() if "error_pct" in v]
            cv_l = [v["cv_pct"] for k, v in lx.items() if "error_pct" in v]
            if cv_s and cv_l:
                ms, ml = statistics.fmean(cv_s), statistics.fmean(cv_l)
                verdicts.append(f"{fig}: 200 ms-bin variation of guaranteed flows, Sluice "
                                f"{ms:.2f}% vs Linux HTB {ml:.2f}%: "
                                f"{'lower' if ms < ml else 'NOT lower'}")
        if fig == "fig7" and sl:
            st, sw = sl.get("1", {}), sl.get("2", {})
            drv = sw.get("driver") or {}
            verdicts.append(
                f"fig7: steady Sluice flow lost {st.get('drops')} datagrams "
                f"({'zero' if st.get('drops') == 0 else 'NOT zero'}); the slow one lost "
                f"{sw.get('drops')}, the driver counted {drv.get('rx_dropped')} dropped for it "
                f"({json.dumps(drv.get('rx_drops'))}) and "
                f"{(st.get('driver') or {}).get('rx_dropped')} for the steady flow")
            if lx:
                verdicts.append(f"fig7: on Linux the steady flow lost {lx.get('1', {}).get('drops')}"
                                f", the slow one {lx.get('2', {}).get('drops')}")
    return lines + [""] + verdicts


# ---------------------------------------------------------------- main


def run_round(build, out, link, suffix, short, only):
    lab = Lab(build, out, link)
    demo = Demo(lab, out, suffix, short)
    exps = {"5a": demo.exp5a, "5b": demo.exp5b, "7": demo.exp7}
    try:
        lab.up()
        for name, exp in exps.items():
            if name not in only:
                continue
            for system in ("sluice", "linux"):
                exp(system)
    finally:
        say("netlab down")
        lab.down()
    pngs = [plot(out, f"fig{x}", suffix, link) for x in exps if x in only]
    return demo.results, [p for p in pngs if p]


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("build")
    ap.add_argument("out")
    ap.add_argument("--gbit", dest="gbit", action="store_true", default=None,
                    help="also run everything with the link at 1 Gbit/s")
    ap.add_argument("--no-gbit", dest="gbit", action="store_false")
    ap.add_argument("--short", action="store_true", help="half the durations")
    ap.add_argument("--only", default="5a,5b,7", help="the experiments to run [5a,5b,7]")
    a = ap.parse_args()
    only = set(a.only.split(","))
    if not only <= {"5a", "5b", "7"}:
        ap.error("--only takes 5a, 5b and 7, comma separated")
    if os.geteuid() != 0:
        say("needs root (network namespaces)")
        return 1
    out = os.path.abspath(a.out)
    build = os.path.abspath(a.build)
    os.makedirs(out, exist_ok=True)
    for sig in (signal.SIGINT, signal.SIGTERM):
        signal.signal(sig, lambda s, f: (_ for _ in ()).throw(KeyboardInterrupt()))
    t0 = time.monotonic()
    rounds = [(100, "")]
    if a.gbit:
        rounds.append((1000, "_1g"))
    report, allres = [], {}
    try:
        for link, suffix in rounds:
            res, pngs = run_round(build, out, link, suffix, a.short, only)
            allres[f"{link}mbps"] = res
            report += [f"== link {link} Mbit/s", ""] + summary(res, link, suffix) + [""]
            report += ["plots: " + " ".join(os.path.relpath(p) for p in pngs), ""]
    except KeyboardInterrupt:
        say("interrupted; the network is down")
        return 130
    with open(os.path.join(out, "summary.txt"), "w") as f:
        f.write("\n".join(report) + "\n")
    with open(os.path.join(out, "summary.json"), "w") as f:
        json.dump(allres, f, indent=1)
    print("\n".join(report))
    say(f"done in {time.monotonic() - t0:.0f} s; CSV, PNG and the summary are in "
        f"{os.path.relpath(out)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
