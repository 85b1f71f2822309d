#!/usr/bin/python3
# SPDX-License-Identifier: BSD-3-Clause
"""Administration and events on a real network: the `sluice` tool against a
flow manager and a driver on netlab's `pair` topology (s1: Sluice, l1: Linux).

Brings the lab up under its own prefix, then:

  - `sluice version` names both daemons and the driver's events address
    (the one netlab wrote into driver.ini and the JSON);
  - `sluice flows` lists an application's (fm_probe) flow with its owner;
    `sluice -j flow show ID` is JSON with the counters, which count the
    datagrams l1 sent;
  - `sluice route add/show/del` work and refuse what they should; a
    connected flow follows its route to a new next hop (FibChanged), back,
    and is revoked when no route is left;
  - `sluice qos set` changes a flow's guarantee (the application hears of
    it) and refuses an over-admission, saying what is free;
  - `sluice arp` shows l1's entry after a ping;
  - `sluice monitor -n 3` prints three updates with the flow, in text and
    in JSON; the flow manager publishes FlowEvents (OPENED, CLOSED) and the
    driver CountersEvents every 100 ms;
  - an unprivileged user (nobody) cannot use admin.ipc or the event sockets;
  - garbage sent to admin.ipc gets an Error or a closed connection, and the
    flow manager keeps serving.

Usage: test_admin_netlab.py BUILD_DIR FM_PROBE SLUICE. Needs root; exits 77
(skip) otherwise. Cleans up whatever happens.
"""
import json
import os
import queue
import signal
import socket
import subprocess
import sys
import threading
import time

REPO = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
sys.path.insert(0, os.path.join(REPO, "tests", "support"))
from nnsp import HDR, frame, sp_request, sub_collect  # noqa: E402
import labtest  # noqa: E402
from labtest import check, failures, in_ns, netlab  # noqa: E402

PREFIX = "adm%d" % (os.getpid() % 10000)

procs = []


def sluice(*args, user=None, timeout=20):
    cmd = [SLUICE, "-s", RDIR, *args]
    if user:
        cmd = ["runuser", "-u", user, "--"] + cmd
    return subprocess.run(cmd, capture_output=True, text=True, timeout=timeout)


def probe(args):
    """Start fm_probe in s1; return (process, first line of its output).
    Later lines (its callbacks): readline(process)."""
    p = subprocess.Popen(["ip", "netns", "exec", "%s-s1" % PREFIX, PROBE, SOCK, *args],
                         stdout=subprocess.PIPE, text=True)
    p.lines = queue.Queue()
    threading.Thread(target=lambda: [p.lines.put(ln.strip()) for ln in p.stdout],
                     daemon=True).start()
    procs.append(p)
    return p, readline(p)


def readline(p, timeout=5.0):
    try:
        return p.lines.get(timeout=timeout)
    except queue.Empty:
        return ""


def send_udp(addr, port, n, size=200):
    code = ("import socket,time\ns=socket.socket(socket.AF_INET,socket.SOCK_DGRAM)\n"
            "for i in range(%d):\n    s.sendto(b'x'*%d,(%r,%d)); time.sleep(0.002)\n"
            % (n, size, addr, port))
    in_ns("l1", ["/usr/bin/python3", "-c", code], timeout=30)


# ---- the test


def main():
    global BUILD, PROBE, SLUICE, SOCK, RDIR
    if os.geteuid() != 0:
        print("skip: needs root (network namespaces)")
        return 77
    BUILD, PROBE, SLUICE = (os.path.abspath(a) for a in sys.argv[1:4])
    labtest.setup(PREFIX, BUILD)
    try:
        netlab("up", "pair")
        st = json.load(open(os.path.join(REPO, "out", "netlab-%s.json" % PREFIX)))
        s1 = st["hosts"]["s1"]
        sl = s1["sluice"]
        addr = s1["address"]
        SOCK, RDIR = sl["flowmgr"]["socket"], sl["runtime_dir"]
        admin_path = sl["flowmgr"]["admin"][len("ipc://"):]
        drv_events = sl["driver"].get("events", "")
        l1_mac = st["hosts"]["l1"]["interfaces"][0]["mac"]

        # -- version, and where the counters are published
        r = sluice("-j", "version")
        v = json.loads(r.stdout) if r.returncode == 0 else {}
        check(v.get("flowmgr", {}).get("software", "").startswith("sluice-flowmgr")
              and v.get("driver", {}).get("software", "").startswith("sluice-driver"),
              "version names the flow manager and the driver")
        check(drv_events and v.get("driver", {}).get("events") == drv_events,
              "the driver's events address (%s) comes through the flow manager" % drv_events)

        # -- flows and flow show
        fmev = os.path.join(RDIR, "events.ipc")
        a, line = probe(["7000", "hold"])
        check(line.startswith("flow ") and line.endswith(" port 7000"), "app A gets UDP 7000")
        fid = int(line.split()[1])
        r = sluice("flows")
        row = [ln for ln in r.stdout.splitlines() if ln.split()[:1] == [str(fid)]]
        check(r.returncode == 0 and row and "fm_probe" in row[0] and str(a.pid) in row[0]
              and "10.77.1.2:7000" in row[0],
              "sluice flows lists the flow with its owner: %s" % (row or r.stdout + r.stderr))
        r = sluice("-j", "flows")
        fl = json.loads(r.stdout) if r.returncode == 0 else []
        mine = [f for f in fl if f["id"] == fid]
        check(mine and mine[0]["owner"] == {"pid": a.pid, "uid": 0, "comm": "fm_probe"}
              and mine[0]["local"] == {"addr": addr, "port": 7000},
              "sluice -j flows: the owner in JSON")
        send_udp(addr, 7000, 25)
        time.sleep(0.2)
        r = sluice("-j", "flow", "show", str(fid))
        try:
            d = json.loads(r.stdout)
        except ValueError:
            d = {}
        c = d.get("counters") or {}
        check(d.get("id") == fid and c.get("rx_pkts", 0) >= 25 and "rx_drops" in c
              and "NO_BUFFER" in c["rx_drops"] and d.get("fib", {}).get("mtu") == 1500,
              "sluice -j flow show: valid JSON with counters (rx_pkts %s)" % c.get("rx_pkts"))
        r = sluice("flow", "show", "999")
        check(r.returncode == 1 and "no flow 999" in r.stderr, "flow show 999: no such flow")

        # -- FlowEvents and CountersEvents
        evs = []
        t = threading.Thread(target=lambda: evs.extend(sub_collect(fmev, 1.5, 0x0402)))
        t.start()
        time.sleep(0.3)
        b, line = probe(["7100", "hold"])
        bid = int(line.split()[1]) if line.startswith("flow ") else -1
        time.sleep(0.2)
        b.terminate()
        b.wait()
        t.join()
        kinds = [f.get(3, [0])[0] for h, f in evs]
        check(kinds[:2] == [1, 2], "FlowEvent OPENED then CLOSED for flow %d (%s)" % (bid, kinds))
        cevs = sub_collect(drv_events[len("ipc://"):], 1.05, 0x0401)
        seqs = [f.get(2, [0])[0] for h, f in cevs]
        ts = [f.get(1, [0])[0] for h, f in cevs]
        gaps = [(b_ - a_) / 1e6 for a_, b_ in zip(ts, ts[1:])]
        check(8 <= len(cevs) <= 12 and seqs == list(range(seqs[0], seqs[0] + len(seqs)))
              and all(60 < g < 140 for g in gaps),
              "the driver publishes counters every 100 ms (%d events, gaps %s ms)"
              % (len(cevs), [round(g) for g in gaps]))

        # -- routes
        r = sluice("route", "add", "10.77.9.0/24", "via", "10.77.1.1")
        check(r.returncode == 0, "route add 10.77.9.0/24 via 10.77.1.1 " + r.stderr)
        r = sluice("route", "show")
        check("10.77.9.0/24" in r.stdout and "via 10.77.1.1" in r.stdout
              and "10.77.1.0/24" in r.stdout, "route show lists it:\n" + r.stdout)
        r = sluice("-j", "route")
        rts = json.loads(r.stdout) if r.returncode == 0 else []
        check({"dst": "10.77.9.0/24", "gateway": "10.77.1.1", "type": "static"}.items()
              <= next((x for x in rts if x["dst"] == "10.77.9.0/24"), {}).items(),
              "route -j: the route in JSON")
        r = sluice("route", "add", "10.77.9.0/24", "via", "10.77.1.1")
        check(r.returncode == 1 and "exists" in r.stderr, "a second add is refused: " + r.stderr)
        r = sluice("route", "add", "10.77.8.0/24", "via", "10.99.0.1")
        check(r.returncode == 1 and "no connected network" in r.stderr,
              "a gateway off the link is refused: " + r.stderr)
        r = sluice("route", "del", "10.77.9.0/24")
        check(r.returncode == 0 and "10.77.9.0/24" not in sluice("route").stdout,
              "route del removes it")
        r = sluice("route", "del", "10.77.9.0/24")
        check(r.returncode == 1 and "no route" in r.stderr, "deleting it again: " + r.stderr)
        r = sluice("route", "del", "10.77.1.0/24")
        check(r.returncode == 1 and "connected" in r.stderr,
              "the connected route stays: " + r.stderr)

        # A connected flow follows its route's next hop.
        sluice("route", "add", "10.77.5.0/24", "via", "10.77.1.1")
        in_ns("l1", ["ip", "addr", "add", "10.77.1.3/24", "dev", st["hosts"]["l1"]["interfaces"][0]["name"]])
        c, line = probe(["0", "connect", "10.77.5.5", "9"])
        check(line.endswith("nexthop 10.77.1.1"), "a connected flow via 10.77.1.1: " + line)
        sluice("route", "add", "10.77.5.5/32", "via", "10.77.1.3")
        l2 = readline(c)
        check(l2.startswith("fib ") and "nexthop 10.77.1.3" in l2,
              "a more specific route: FibChanged to the new next hop: " + l2)
        sluice("route", "del", "10.77.5.5/32")
        l3 = readline(c)
        check("nexthop 10.77.1.1" in l3, "its route deleted: back to 10.77.1.1: " + l3)
        sluice("route", "del", "10.77.5.0/24")
        l4 = readline(c)
        c.wait(timeout=10)
        check(l4.startswith("revoked ") and " 101 " in l4 and c.returncode == 3,
              "no route left: the flow is revoked (ENETUNREACH): " + l4)

        # -- qos
        r = sluice("qos", "set", str(fid), "period=10ms", "slice=2ms", "extra=no")
        check(r.returncode == 0 and "2ms/10ms 20.00%" in r.stdout, "qos set: " + r.stdout + r.stderr)
        q = next((f["qos"] for f in json.loads(sluice("-j", "flows").stdout) if f["id"] == fid), {})
        check(q.get("slice_ns") == 2000000 and q.get("period_ns") == 10000000
              and q.get("extra") is False, "the flow's guarantee is 2 ms per 10 ms: %s" % q)
        # The bound flow heard of each of the six route changes above first
        # (FibChanged, so that its stack forgets the peers it resolved).
        routes = [readline(a) for _ in range(6)]
        check(all(ln.startswith("fib %d generation %d " % (fid, g + 2)) and ln.endswith("slice 0")
                  for g, ln in enumerate(routes)),
              "the bound flow hears of each route change: %s" % routes)
        la = readline(a)
        check(la.startswith("fib %d " % fid) and la.endswith("slice 2000000"),
              "the application hears of its new guarantee: " + la)
        r = sluice("qos", "set", str(fid), "slice=9.95ms")
        check(r.returncode == 1 and "does not fit" in r.stderr and "free" in r.stderr,
              "an over-admission is refused with what is free: " + r.stderr.strip())
        q2 = next((f["qos"] for f in json.loads(sluice("-j", "flows").stdout) if f["id"] == fid), {})
        check(q2 == q, "... and the flow keeps its guarantee")
        r = sluice("qos", "set", str(fid), "slice=fast")
        check(r.returncode == 2, "qos set slice=fast is a usage error")

        # -- arp
        in_ns("l1", ["ping", "-c", "2", "-i", "0.2", "-W", "2", addr], capture_output=True)
        r = sluice("arp")
        row = [ln for ln in r.stdout.splitlines() if ln.startswith("10.77.1.1 ")]
        check(row and l1_mac.lower() in row[0] and "REACHABLE" in row[0],
              "sluice arp shows l1 after a ping: %s" % (row or r.stdout))
        arp = json.loads(sluice("-j", "arp").stdout)
        check(any(e["dst"] == "10.77.1.1" and e["lladdr"] == l1_mac.lower() for e in arp),
              "sluice -j arp too")

        # -- monitor
        pump = subprocess.Popen(["ip", "netns", "exec", "%s-l1" % PREFIX, "/usr/bin/python3",
                                 "-c", "import socket,time\ns=socket.socket(2,2)\n"
                                 "t=time.time()\nwhile time.time()-t<4:\n"
                                 "    s.sendto(b'y'*500,(%r,7000)); time.sleep(0.002)\n" % addr])
        procs.append(pump)
        time.sleep(0.3)
        r = sluice("monitor", "-n", "3", timeout=15)
        blocks = [b_ for b_ in r.stdout.split("\n\n") if b_.strip()]
        with_flow = [b_ for b_ in blocks
                     if any(ln.split()[:1] == [str(fid)] and "fm_probe" in ln
                            for ln in b_.splitlines())]
        check(r.returncode == 0 and len(blocks) == 3 and len(with_flow) == 3,
              "sluice monitor -n 3: three updates with the flow:\n" + r.stdout + r.stderr)
        r = sluice("-j", "monitor", "-n", "3", timeout=15)
        ups = [json.loads(ln) for ln in r.stdout.splitlines() if ln.strip()]
        rx = [next((f["rx_mbps"] for f in u["flows"] if f["id"] == fid), None) for u in ups]
        check(len(ups) == 3 and all(x is not None and x > 0.1 for x in rx),
              "sluice -j monitor -n 3: three updates, the flow receiving (%s Mbit/s)" % rx)
        pump.wait()

        # -- who may
        os.chmod(RDIR, 0o755)  # let nobody reach the files, so their modes decide
        for name in ("admin.ipc", "events.ipc", os.path.basename(drv_events)):
            m = os.stat(os.path.join(RDIR, name)).st_mode & 0o777
            check(m == 0o660, "%s is mode 0660 (%o)" % (name, m))
        r = sluice("flows", user="nobody")
        check(r.returncode == 1 and "Permission denied" in r.stderr,
              "nobody cannot use sluice: " + r.stderr.strip())
        r = subprocess.run(["runuser", "-u", "nobody", "--", "/usr/bin/python3", "-c",
                            "import socket\nfor p in %r:\n    s=socket.socket(socket.AF_UNIX)\n"
                            "    try:\n        s.connect(p); print('connected', p)\n"
                            "    except PermissionError: print('refused')\n"
                            % [admin_path, fmev, drv_events[len("ipc://"):]]],
                           capture_output=True, text=True)
        check(r.stdout.split() == ["refused"] * 3,
              "nobody's connect() to admin.ipc and both event sockets is refused: " + r.stdout)
        os.chmod(RDIR, 0o750)

        # -- garbage
        fm_pid = sl["flowmgr"]["pid"]
        rep = sp_request(admin_path, b"garbage, not a frame")
        h = HDR.unpack(rep[:HDR.size]) if rep and len(rep) >= HDR.size else None
        check(h is not None and h[3] == 0x0001 and h[2] == 3,
              "garbage gets an Error (%s)" % (h,))
        rep = sp_request(admin_path, frame(0x0301, 7, b"\xff\xff\xff"))
        h = HDR.unpack(rep[:HDR.size]) if rep else None
        check(h is not None and h[3] == 0x0001 and h[4] == 7 and b"undecodable" in rep,
              "an undecodable ListFlows gets an Error with its id")
        rep = sp_request(admin_path, frame(0x0106, 8, b""))
        check(rep is not None and b"not an admin request" in rep,
              "a driver request on admin.ipc is refused")
        rep = sp_request(admin_path, frame(0x0399, 9, b""))
        check(rep is not None and HDR.unpack(rep[:HDR.size])[3] == 0x0001,
              "an unknown type gets an Error")
        s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        s.settimeout(2)
        s.connect(admin_path)
        s.sendall(os.urandom(4096))
        time.sleep(0.2)
        s.close()
        r = sluice("version")
        alive = os.path.exists("/proc/%d" % fm_pid)
        check(r.returncode == 0 and alive, "after all that the flow manager still answers")
        a.terminate()
        a.wait()
    except Exception as ex:  # report, then clean up
        check(False, "exception: %r" % ex)
        for w in ("driver", "flowmgr"):
            print(netlab("logs", "s1", w, check_rc=False).stdout)
    finally:
        for p in procs:
            if p.poll() is None:
                p.send_signal(signal.SIGTERM)
                try:
                    p.wait(timeout=5)
                except subprocess.TimeoutExpired:
                    p.kill()
        netlab("down", check_rc=False)
    print("%d failure(s)" % len(failures))
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
