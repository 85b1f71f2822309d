#!/usr/bin/python3
# SPDX-License-Identifier: BSD-3-Clause
"""The application's own stack on a real network, with Linux as the
independent peer: one case per ctest test.

router: two Sluice hosts talk through a Linux router. netlab's `router`
  topology (s1 10.77.1.2 -- r1, Linux, forwarding -- s2 10.77.2.2; each
  Sluice host has r1 as its gateway). `udp_echo server` on s2 (a bound
  flow) and `udp_echo client` on s1 (a connected flow): one datagram of
  every size from 1 to 1472 bytes, each must come back intact; then the
  reverse (server on s1, client on s2). Through the gateway, each time:
    - the client's flow has the gateway as next hop in its FIB (`sluice
      flow show`: address and r1's MAC);
    - r1 forwarded exactly 2 x 1472 datagrams (Ip ForwDatagrams): the
      client's requests and the bound flow's replies were all sent to r1's
      MAC, as Linux forwards only what is addressed to it;
    - the client's flow manager has the gateway in its ARP cache, and
      neither flow manager has ever resolved the other Sluice host's
      address.
  A bound flow answers the MAC it heard a datagram from, which off-link is
  the router's: right for replies. Then `udp_echo client --bound` on s1:
  a bound flow whose first datagram goes to s2, never heard from; the
  flow manager resolves it to the gateway's MAC (Resolve), and the same
  checks hold.

crash: an application that crashes mid-transfer leaves the other
  application's flow untouched. netlab's `pair` topology (s1 Sluice, l1
  Linux) with a 25 Mbit/s link and grace_ms 1500.
    - senders: two udp_blast on s1, each sending 5 Mbit/s of wire rate
      (paced by itself) on a flow guaranteed 4 ms per 10 ms (40% of the
      link, 10 Mbit/s: room to catch up after a moment without the CPU),
      to a Linux udp_sink --kernel in l1. One is killed (SIGKILL) 3 s in.
      The other's receiver sees no sequence gap and every full 200 ms bin
      within +-10% of 5 Mbit/s (see steady()); both daemons stay up
      (`netlab status`);
      the dead application's flow is gone from the flow manager at once,
      its port and guarantee free: a new udp_blast takes the same local
      port with the same guarantee (which fits the link only if the dead
      one's share was given back) and gets through without losses;
    - receivers: two udp_sink on s1 (bound flows), each fed 5 Mbit/s by a
      Linux udp_blast --kernel in l1. One is killed 3 s in, while its
      sender keeps sending (the flow manager now answers port
      unreachable). The other sink loses nothing, its bins stay within
      +-10%, its stack and the driver count no drop for it; a new sink
      takes the dead one's port and receives.

qos: an application changes its flow's guarantee while it sends
  (as_flow_set_qos, the flow manager's SetQos). netlab's `pair` topology
  with a 25 Mbit/s link; three udp_blast on s1 keep their transmit channels
  full towards a Linux udp_sink --kernel in l1, no slack for any:
    - A holds 4 ms per 10 ms (10 Mbit/s of wire rate) throughout;
    - B holds 2 ms per 10 ms and 2 s in asks for 7 ms: 40 + 20 + 70% of
      the link does not fit, the flow manager refuses (ENOSPC) and B keeps
      2 ms;
    - C holds 1 ms per 10 ms and 2 s in asks for 3 ms: granted.
  The sink's 200 ms bins, averaged before and after the change, must show
  A at 10, B at 5 and C at 2.5 then 7.5 Mbit/s (within 10%); the flow
  manager must list B at 20% and C at 30% of the link after the change;
  and each sender's closing line, what the driver counted for its flow
  (as_flow_drv_counters), must show frames sent, none refused, no slack,
  and periods counted (missed periods are printed, not checked: the driver
  misses some whenever it does not get the CPU, none on an idle machine).

The rates are well below the link so that the test holds on a loaded
machine. Usage:

  test_stack_netlab.py CASE BUILD_DIR UDP_ECHO UDP_BLAST UDP_SINK SLUICE

BUILD_DIR holds the daemons netlab starts. Needs root; exits 77 (skip)
otherwise. Takes the lab down whatever happens.
"""
import json
import re
import os
import select
import signal
import subprocess
import sys
import tempfile
import time

REPO = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
sys.path.insert(0, os.path.join(REPO, "tests", "support"))
import labtest  # noqa: E402
from labtest import check, failures, netlab  # noqa: E402

SIZES = (1, 1472)
RATE = 5.0  # Mbit/s of wire rate per flow in the crash case, paced by the sender
GUARANTEE = 10.0  # Mbit/s: each sender's guarantee, 40% of the 25 Mbit/s link
TOLERANCE = 0.10
GRACE_MS = 1500

procs = []


def start(host, cmd, **kw):
    """CMD in HOST's namespace, in the background (ip netns exec execs it,
    so the pid is the program's own)."""
    p = subprocess.Popen(["ip", "netns", "exec", labtest.netns(host), *cmd],
                         stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, **kw)
    procs.append(p)
    return p


def read_line(p, timeout):
    """The next line p prints within timeout seconds, or "" """
    r, _, _ = select.select([p.stdout], [], [], timeout)
    return p.stdout.readline().strip() if r else ""


def finish(p, timeout):
    """Wait for p; its (stdout, stderr)."""
    try:
        return p.communicate(timeout=timeout)
    except subprocess.TimeoutExpired:
        p.kill()
        out, err = p.communicate()
        return out, err + "\n(killed: still running after %d s)" % timeout


def sluice(host, *args):
    """`sluice -j ARGS` against HOST's flow manager, as JSON (None on an error)."""
    r = subprocess.run([SLUICE, "-j", "--admin", ST["hosts"][host]["sluice"]["flowmgr"]["admin"],
                        *args], capture_output=True, text=True, timeout=10)
    return json.loads(r.stdout) if r.returncode == 0 else None


def flows_of(host, pred, timeout=5.0):
    """HOST's flows for which pred holds, once there is one (or [] after timeout)."""
    t0 = time.time()
    while True:
        fl = [f for f in (sluice(host, "flows") or []) if pred(f)]
        if fl or time.time() - t0 > timeout:
            return fl
        time.sleep(0.05)


def sock(host):
    return ST["hosts"][host]["sluice"]["flowmgr"]["socket"]


def forwarded():
    """Datagrams r1 has forwarded (Ip ForwDatagrams in its namespace)."""
    r = subprocess.run(["ip", "netns", "exec", labtest.netns("r1"), "cat", "/proc/net/snmp"],
                       capture_output=True, text=True, timeout=10)
    head, vals = [ln.split() for ln in r.stdout.splitlines() if ln.startswith("Ip:")][:2]
    return int(vals[head.index("ForwDatagrams")])


def daemons_alive(what):
    r = netlab("status", "-j", check_rc=False)
    st = json.loads(r.stdout) if r.stdout.strip().startswith("{") else {}
    live = st.get("hosts", {}).get("s1", {}).get("live", {})
    ok = (r.returncode == 0 and not st.get("problems") and live.get("driver", {}).get("alive")
          and live.get("flowmgr", {}).get("alive"))
    check(bool(ok), "%s: driver and flow manager of s1 alive (netlab status: exit %d, "
          "problems %s)" % (what, r.returncode, st.get("problems")))


# ---- router -------------------------------------------------------------------------


def echo_through_router(srv, cli, port, bound=False):
    s, c = ST["hosts"][srv], ST["hosts"][cli]
    gw, gw_mac = c["gateway"], c["interfaces"][0]["peer"]["mac"]
    fwd0 = forwarded()
    server = start(srv, [ECHO, "server", "--port", str(port), "--socket", sock(srv)])
    line = read_line(server, 10)
    check(line.startswith("serving %s:%d flow " % (s["address"], port)),
          "udp_echo server: a bound flow on %s %s:%d (%s)" % (srv, s["address"], port, line))
    t0 = time.time()
    client = start(cli, [ECHO, "client", s["address"], str(port), "--sizes",
                         "%d-%d" % SIZES, "--socket", sock(cli)] + (["--bound"] if bound else []))
    if bound:
        fl = flows_of(cli, lambda f: f["kind"] == "bound" and f["owner"]["pid"] == client.pid)
        check(len(fl) == 1, "udp_echo client --bound on %s: a bound flow (%s)" % (cli, fl))
    else:
        fl = flows_of(cli, lambda f: f["kind"] == "connected" and f["remote"]["port"] == port
                      and f["owner"]["pid"] == client.pid)
        fib = (sluice(cli, "flow", "show", str(fl[0]["id"])) or {}).get("fib", {}) if fl else {}
        check(fib.get("nexthop") == gw and fib.get("nexthop_mac") == gw_mac,
              "udp_echo client on %s: a connected flow to %s:%d whose next hop is the gateway "
              "%s, %s (FIB: %s)" % (cli, s["address"], port, gw, gw_mac, fib))
    out, err = finish(client, 120)
    n = SIZES[1] - SIZES[0] + 1
    print(out.strip())
    check(client.returncode == 0 and ("sent %d ok %d lost 0 mismatch 0 errors 0" % (n, n)) in out,
          "%s%s -> %s through r1: %d datagrams of %d..%d bytes come back intact (%.1f s)%s"
          % (cli, " (bound flow, first datagram to a peer never heard from)" if bound else "",
             srv, n, SIZES[0], SIZES[1], time.time() - t0,
             "" if client.returncode == 0 else "\n" + err.strip()[-1500:]))
    server.send_signal(signal.SIGTERM)
    _, err = finish(server, 10)
    check(server.returncode == 0 and ("%d echoed" % n) in err,
          "udp_echo server on %s echoed %d (%s)" % (srv, n, " ".join(err.split())))
    fwd = forwarded() - fwd0
    check(fwd == 2 * n, "r1 forwarded %d datagrams (%d expected): requests and the bound "
          "flow's replies all went to the router's MAC" % (fwd, 2 * n))
    arp = {e["dst"]: e for e in sluice(cli, "arp") or []}
    check(gw in arp and arp[gw]["lladdr"] == gw_mac,
          "%s's ARP cache has the gateway %s at %s (%s)" % (cli, gw, gw_mac, sorted(arp)))
    check(s["address"] not in arp, "%s never resolved %s (off-link)" % (cli, s["address"]))
    arp = {e["dst"]: e for e in sluice(srv, "arp") or []}
    check(c["address"] not in arp, "%s never resolved %s (off-link; ARP cache %s)"
          % (srv, c["address"], sorted(arp)))


def case_router():
    global ST
    netlab("up", "router")
    ST = json.load(open(labtest.state_path()))
    echo_through_router("s2", "s1", 7100)
    echo_through_router("s1", "s2", 7200)
    echo_through_router("s2", "s1", 7300, bound=True)


# ---- crash --------------------------------------------------------------------------


def bins(csv, label):
    """The sink's rows for flow LABEL: [(t_s, mbps, drops)]."""
    rows = []
    if not os.path.exists(csv):
        return rows
    for ln in open(csv).read().splitlines()[1:]:
        t, flow, _, mbps, drops = ln.split(",")
        if int(flow) == label:
            rows.append((float(t), float(mbps), int(drops)))
    return rows


def steady(csv, label, what, t_kill):
    """Flow LABEL lost nothing and kept its rate: every full bin within
    TOLERANCE of RATE. A bin outside is accepted only when it and up to
    three neighbours (0.8 s in all) carried what as many bins at RATE
    would, give or take the tolerance of one bin: a sender, the driver or
    a receiver did not get the CPU for a moment (the machine is shared),
    and the datagrams came late, in the next bins. The senders pace
    themselves and catch up, at up to twice the rate (their guarantee); a
    receiver's channel holds 256 datagrams, ~0.4 s. So nothing was late
    for long and the rate did not drop; a flow that really slowed down
    stays short. Such bins are printed."""
    rows = bins(csv, label)
    drops = sum(r[2] for r in rows)
    active = [i for i, r in enumerate(rows) if r[1] > 0]
    # The first and last bins with traffic are partial: the flow started
    # and ended inside them.
    full = rows[active[0] + 1:active[-1]] if active else []

    def ok(rates):
        return abs(sum(rates) - len(rates) * RATE) <= TOLERANCE * RATE

    bad, moved = [], []
    for i, r in enumerate(full):
        if ok([r[1]]):
            continue
        windows = [full[a:a + n] for n in (2, 3, 4) for a in range(i - n + 1, i + 1)
                   if a >= 0 and a + n <= len(full)]
        (moved if any(ok([x[1] for x in w]) for w in windows) else bad).append(r)
    near = [r[1] for r in full if abs(r[0] - t_kill) <= 0.6]
    check(drops == 0, "%s: no sequence gap (drops %d)" % (what, drops))
    check(len(full) >= 20 and not bad,
          "%s: %d full 200 ms bins within %.0f%% of %g Mbit/s (min %.3f, max %.3f; around the "
          "kill at %.1f s: %s)%s%s"
          % (what, len(full), TOLERANCE * 100, RATE, min(r[1] for r in full) if full else 0,
             max(r[1] for r in full) if full else 0, t_kill, near,
             "; late, made up in the next bins: %s" % moved if moved else "",
             "; outside: %s" % bad if bad else ""))
    if bad:  # what every flow did meanwhile
        for ln in open(csv).read().splitlines()[1:]:
            t, flow, _, mbps, drops = ln.split(",")
            if any(abs(float(t) - r[0]) < 0.5 for r in bad):
                print("  t %s flow %s %s Mbit/s drops %s" % (t, flow, mbps, drops))


def kill_and_wait_gone(p, host, flow_id, what):
    """SIGKILL p; check its flow leaves HOST's flow manager (its lease ends)."""
    p.send_signal(signal.SIGKILL)
    p.wait()
    t0 = time.time()
    while time.time() - t0 < 5:
        left = [f for f in sluice(host, "flows") or [] if f["id"] == flow_id]
        if not left:
            break
        time.sleep(0.05)
    dt = time.time() - t0
    check(not left and dt < GRACE_MS / 1000.0,
          "%s killed: its flow %d is gone from the flow manager in %.0f ms%s"
          % (what, flow_id, dt * 1000, " (still there: %s)" % left if left else ""))


def blast(label, tail, extra=()):
    return start("s1", [BLAST, ST["hosts"]["l1"]["address"], "9000", "--flow", str(label),
                        "--rate", "%g" % RATE, "--period", "10ms", "--slice", "4ms",
                        "--guarantee-mbps", "%g" % GUARANTEE, "--size", "1000", "--duration", tail,
                        "--socket", sock("s1"), *extra])


def crash_senders(tmp):
    csv = os.path.join(tmp, "senders.csv")
    sink = start("l1", [SINK, "--kernel", "--port", "9000", "--csv", csv, "--duration", "10s"])
    t0 = time.time()
    time.sleep(0.3)
    a, b = blast(1, "8s"), blast(2, "8s")
    fa = flows_of("s1", lambda f: f["owner"]["pid"] == a.pid)
    fb = flows_of("s1", lambda f: f["owner"]["pid"] == b.pid)
    check(len(fa) == 1 and len(fb) == 1
          and all(abs(f["qos"]["share"] - 0.4) < 1e-6 for f in fa + fb),
          "two udp_blast on s1, each a flow with 40%% of the link (%s)"
          % [(f["id"], f["local"]["port"], f["qos"]) for f in fa + fb])
    if len(fb) != 1:
        return
    time.sleep(max(0, t0 + 3.3 - time.time()))
    t_kill = time.time() - t0
    kill_and_wait_gone(b, "s1", fb[0]["id"], "sender 2")
    daemons_alive("after the sender was killed")
    port = fb[0]["local"]["port"]
    c = blast(3, "2s", ("--local-port", str(port)))
    out, err = finish(c, 30)
    check(c.returncode == 0 and ("from port %d, guarantee 4000000/10000000 ns" % port) in err,
          "a new udp_blast takes the dead one's port %d and guarantee (40%% + 40%% of the "
          "link already held otherwise; the driver took its filter, the dead one's 5-tuple): %s"
          % (port, " ".join((out + err).split())))
    out, err = finish(a, 30)
    print(out.strip(), err.strip())
    check(a.returncode == 0, "sender 1 ran to the end")
    _, err = finish(sink, 30)
    print(err.strip())
    steady(csv, 1, "sender 1 at the Linux sink", t_kill)
    r3 = bins(csv, 3)
    check(sum(r[1] for r in r3) > 0 and sum(r[2] for r in r3) == 0,
          "the new sender's datagrams arrive without gaps (%s Mbit/s per bin)"
          % [r[1] for r in r3 if r[1] > 0])


def crash_receivers(tmp):
    addr = ST["hosts"]["s1"]["address"]
    csv1, csv2, csv3 = (os.path.join(tmp, "recv%d.csv" % i) for i in (1, 2, 3))
    s1 = start("s1", [SINK, "--port", "9001", "--csv", csv1, "--duration", "8s",
                      "--socket", sock("s1")])
    s2 = start("s1", [SINK, "--port", "9002", "--csv", csv2, "--duration", "8s",
                      "--socket", sock("s1")])
    t0 = time.time()
    f1 = flows_of("s1", lambda f: f["owner"]["pid"] == s1.pid)
    f2 = flows_of("s1", lambda f: f["owner"]["pid"] == s2.pid)
    check(len(f1) == 1 and len(f2) == 1 and f1[0]["kind"] == "bound",
          "two udp_sink on s1, bound flows on 9001 and 9002")
    if len(f1) != 1 or len(f2) != 1:
        return
    senders = [start("l1", [BLAST, "--kernel", addr, str(port), "--flow", str(label), "--rate",
                            "%g" % RATE, "--size", "1000", "--duration", "6.5s"])
               for port, label in ((9001, 11), (9002, 12))]
    time.sleep(max(0, t0 + 3.3 - time.time()))
    t_kill = time.time() - t0
    kill_and_wait_gone(s2, "s1", f2[0]["id"], "receiver 2")
    daemons_alive("after the receiver was killed")
    s3 = start("s1", [SINK, "--port", "9002", "--csv", csv3, "--duration", "2s",
                      "--socket", sock("s1")])
    _, err = finish(s3, 30)
    r3 = bins(csv3, 12)
    check(s3.returncode == 0 and sum(r[1] for r in r3) > 0,
          "a new udp_sink takes port 9002 (the driver took its filter, the dead one's) and "
          "receives the Linux sender's datagrams "
          "(%s Mbit/s per bin) %s" % ([r[1] for r in r3], " ".join(err.split())[-300:]))
    det = sluice("s1", "flow", "show", str(f1[0]["id"])) or {}
    cnt = det.get("counters", {})
    check(cnt.get("rx_dropped") == 0 and cnt.get("rx_pkts", 0) > 0,
          "the driver dropped nothing of receiver 1's flow (%s)" % cnt)
    for p in senders:
        finish(p, 30)
    _, err = finish(s1, 30)
    print(err.strip())
    check(s1.returncode == 0 and "DROP" not in err, "receiver 1's stack dropped nothing")
    steady(csv1, 11, "receiver 1", t_kill)


def case_crash():
    global ST
    netlab("up", "pair", "--link-mbps", "25", "--flowmgr-opt", "grace_ms=%d" % GRACE_MS)
    ST = json.load(open(labtest.state_path()))
    with tempfile.TemporaryDirectory(prefix="sluice-crash-") as tmp:
        crash_senders(tmp)
        crash_receivers(tmp)


def mean_mbps(csv, label, t_from, t_to):
    """Flow LABEL's mean wire rate over the sink's bins ending in (t_from, t_to]."""
    rows = [r[1] for r in bins(csv, label) if t_from < r[0] <= t_to]
    return sum(rows) / len(rows) if rows else 0.0


def case_qos():
    global ST
    netlab("up", "pair", "--link-mbps", "25")
    ST = json.load(open(labtest.state_path()))
    addr = ST["hosts"]["l1"]["address"]
    want = {1: ("4ms", None, 10.0, 10.0), 2: ("2ms", "7ms", 5.0, 5.0),
            3: ("1ms", "3ms", 2.5, 7.5)}
    with tempfile.TemporaryDirectory(prefix="sluice-qos-") as tmp:
        csv = os.path.join(tmp, "qos.csv")
        sink = start("l1", [SINK, "--kernel", "--port", "9000", "--csv", csv,
                            "--duration", "6s"])
        time.sleep(0.3)
        t_start = 0.3
        senders = {}
        for label, (slice_, new, _, _) in want.items():
            cmd = [BLAST, addr, "9000", "--flow", str(label), "--period", "10ms", "--slice",
                   slice_, "--size", "1000", "--duration", "5s", "--socket", sock("s1")]
            if new:
                cmd += ["--change-at", "2s", "--new-period", "10ms", "--new-slice", new]
            senders[label] = start("s1", cmd)
        time.sleep(3.0)
        shares = {label: [round(f["qos"]["share"], 6) for f in flows_of(
            "s1", lambda f, p=p: f["owner"]["pid"] == p.pid)] for label, p in senders.items()}
        check(shares == {1: [0.4], 2: [0.2], 3: [0.3]},
              "after the change the flow manager lists A, B, C at 40%%, 20%%, 30%% of the "
              "link (%s)" % shares)
        errs = {}
        for label, p in senders.items():
            out, err = finish(p, 30)
            errs[label] = err
            print(out.strip())
            print(err.strip())
            check(p.returncode == 0, "sender %d ran to the end" % label)
        finish(sink, 30)
        check("at 2.0" in errs[2] and "new guarantee refused: No space left on device" in errs[2],
              "B's request for 70% of the link, more than is free, is refused (ENOSPC)")
        check("at 2.0" in errs[3] and "guarantee now 3000000/10000000 ns" in errs[3],
              "C's request for 3 ms per 10 ms is granted")
        change = t_start + 2.0
        for label, (_, _, before, after) in want.items():
            b = mean_mbps(csv, label, t_start + 0.4, change - 0.2)
            a = mean_mbps(csv, label, change + 0.4, t_start + 4.8)
            check(abs(b - before) <= TOLERANCE * before and abs(a - after) <= TOLERANCE * after,
                  "flow %d: %.3f Mbit/s before the change (want %g), %.3f after (want %g)"
                  % (label, b, before, a, after))
            m = re.search(r"driver: frames (\d+) bytes \d+ refused (\d+) chan_errors (\d+) "
                          r"waited_ms [\d.]+ periods (\d+) missed (\d+) slack_ms ([\d.]+)",
                          errs[label])
            # Missed periods are shown, not checked: one is missed whenever
            # the driver does not get the CPU for a while (none on an idle
            # machine, 4-21 of 500 under ASan beside other tests), and the
            # rates above already say whether the guarantees held.
            check(m is not None and int(m.group(1)) > 0 and m.group(2) == "0"
                  and m.group(3) == "0" and int(m.group(4)) > 0 and float(m.group(6)) == 0.0,
                  "flow %d: the driver's counters, from the application: frames sent, none "
                  "refused, no bad record, periods counted, no slack (%s)"
                  % (label, m.group(0) if m else errs[label][-200:]))


CASES = {"router": ("asr", case_router), "crash": ("asc", case_crash),
         "qos": ("asq", case_qos)}


def main():
    global ECHO, BLAST, SINK, SLUICE
    if len(sys.argv) != 7 or sys.argv[1] not in CASES:
        print(__doc__)
        return 2
    if os.geteuid() != 0:
        print("skip: needs root (network namespaces)")
        return 77
    case = sys.argv[1]
    build = os.path.abspath(sys.argv[2])
    ECHO, BLAST, SINK, SLUICE = (os.path.abspath(a) for a in sys.argv[3:])
    labtest.setup("%s%d" % (CASES[case][0], os.getpid() % 10000), build)
    t0 = time.time()
    try:
        CASES[case][1]()
    except Exception as ex:  # report, then clean up
        check(False, "exception: %r" % ex)
        for h in ("s1", "s2"):
            for w in ("driver", "flowmgr"):
                print(netlab("logs", h, w, check_rc=False).stdout)
    finally:
        for p in procs:
            if p.poll() is None:
                p.kill()
                p.wait()
        netlab("down", check_rc=False)
    print("%s: %.1f s, %d failure(s)" % (case, time.time() - t0, len(failures)))
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
