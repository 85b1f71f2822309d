#!/usr/bin/python3
# SPDX-License-Identifier: BSD-3-Clause
"""The flow manager on a real network, with Linux as the independent peer.

Brings up netlab's `pair` topology (Sluice host s1 with driver on
net_af_packet and flow manager; Linux host l1) under its own prefix, then:

  - ping from l1 gets replies from s1's address; arping resolves it;
  - a Linux UDP client to a closed port on s1 sees "connection refused"
    (ICMP port unreachable), and a TCP connect to a closed port is refused
    at once (RST);
  - an application (fm_probe) holds UDP 7000; a second asking for 7000 gets
    EADDRINUSE naming the holder; killing the first frees the port within
    a moment, and a new application takes it;
  - a guarantee above what the link has left is refused with ENOSPC and
    how much is free;
  - a hostile application (fm_hostile) sends every bad request: garbage,
    bad fields, bad or unsealed memory, other connections' flows; each
    gets its Error or a closed connection, the port it asked for is still
    free, and neither daemon keeps a descriptor it was sent;
  - a bound flow's Resolve gets l1's MAC (ARP, then from the cache) and is
    refused for our own address, multicast, no route, an address that does
    not answer ARP, and a flow that is not the caller's;
  - datagrams from Linux reach an application's flow and come back;
  - the driver is restarted: the flow manager installs the flow again and
    the same application keeps echoing;
  - then the flow manager is stopped: the flow keeps echoing without it; an
    application killed meanwhile cannot come back; the flow manager starts
    again, recovers both flows from the driver, the echoing application
    re-attaches (and still echoes), another process may not take the dead
    one's flow, which is removed once the grace period (1.5 s here) has
    passed, freeing its port; the recovered flow survives another driver
    restart (installed from the descriptors the driver handed back).

Usage: test_fm_netlab.py BUILD_DIR FM_PROBE FM_HOSTILE. Needs root; exits 77 (skip)
otherwise. Cleans up whatever happens.
"""
import json
import os
import select
import signal
import socket
import subprocess
import sys
import time

REPO = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
sys.path.insert(0, os.path.join(REPO, "tests", "support"))
import labtest  # noqa: E402
from labtest import check, failures, in_ns, netlab  # noqa: E402

PREFIX = "fmt%d" % (os.getpid() % 10000)


def py_in_ns(host, code, timeout=20):
    r = in_ns(host, ["/usr/bin/python3", "-c", code], capture_output=True, text=True,
              timeout=timeout)
    return r.stdout.strip() + r.stderr.strip()


def read_line(p, timeout):
    """The next line p prints within timeout seconds, or "" """
    r, _, _ = select.select([p.stdout], [], [], timeout)
    return p.stdout.readline().strip() if r else ""


def sluice_flows():
    """`sluice -j flows` on s1, as a list of flows."""
    r = in_ns("s1", [os.path.join(BUILD, "tools", "sluice"), "-j", "--admin",
                     ADMIN, "flows"], capture_output=True, text=True, timeout=10)
    return json.loads(r.stdout) if r.returncode == 0 else None


def probe(args, wait_line=True):
    """Start fm_probe in s1; return (process, first line of its output)."""
    p = subprocess.Popen(["ip", "netns", "exec", "%s-s1" % PREFIX, PROBE, SOCK, *args],
                         stdout=subprocess.PIPE, text=True)
    line = p.stdout.readline().strip() if wait_line else ""
    return p, line


UDP_ECHO = """
import socket
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM); s.settimeout(2)
s.connect(("%s", %d))
ok = 0
for i in range(%d):
    d = bytes((i + k) %% 251 for k in range(1 + i * 97 %% 1400))
    s.send(d)
    try:
        ok += s.recv(2000) == d
    except OSError:
        pass
print(ok)
"""


def main():
    global BUILD, PROBE, SOCK, ADMIN
    if os.geteuid() != 0:
        print("skip: needs root (network namespaces)")
        return 77
    BUILD, PROBE = os.path.abspath(sys.argv[1]), os.path.abspath(sys.argv[2])
    hostile = os.path.abspath(sys.argv[3])
    labtest.setup(PREFIX, BUILD)
    try:
        netlab("up", "pair", "--flowmgr-opt", "grace_ms=1500")
        st = __import__("json").load(open(os.path.join(REPO, "out", "netlab-%s.json" % PREFIX)))
        s1 = st["hosts"]["s1"]
        addr = s1["address"]
        SOCK = s1["sluice"]["flowmgr"]["socket"]
        ADMIN = s1["sluice"]["flowmgr"]["admin"]

        r = in_ns("l1", ["ping", "-c", "3", "-i", "0.2", "-W", "2", addr],
                  capture_output=True, text=True)
        check(r.returncode == 0 and " 0% packet loss" in r.stdout, "ping gets replies")
        r = in_ns("l1", ["arping", "-c", "2", "-w", "4", addr], capture_output=True, text=True)
        check(r.returncode == 0 and s1["sluice"]["mac"].lower() in r.stdout.lower(),
              "arping resolves s1 to its port's MAC")
        out = py_in_ns("l1", """
import socket
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM); s.settimeout(3)
s.connect(("%s", 9)); s.send(b"x")
try:
    s.recv(10); print("data")
except ConnectionRefusedError: print("refused")
except socket.timeout: print("timeout")
""" % addr)
        check(out == "refused", "UDP to a closed port: connection refused (%s)" % out)
        out = py_in_ns("l1", """
import socket, time
t = socket.socket(); t.settimeout(3); t0 = time.time()
try:
    t.connect(("%s", 80)); print("connected")
except ConnectionRefusedError: print("refused %%.3f" %% (time.time() - t0))
except socket.timeout: print("timeout")
""" % addr)
        check(out.startswith("refused") and float(out.split()[1]) < 1.0,
              "TCP to a closed port: refused at once (%s)" % out)

        a, line = probe(["7000", "hold"])
        check(line.startswith("flow ") and line.endswith(" port 7000"), "app A gets UDP 7000")
        b, line = probe(["7000", "hold"])
        b.wait(timeout=10)
        check(b.returncode == 2 and line.startswith("error 98 ") and "fm_probe" in line,
              "app B asking for 7000 is told who holds it: " + line)
        a.send_signal(signal.SIGKILL)
        a.wait()
        t0 = time.time()
        taken = False
        while time.time() - t0 < 2 and not taken:
            c, line = probe(["7000", "hold"])
            taken = line.endswith(" port 7000")
            if not taken:
                c.wait()
                time.sleep(0.02)
        check(taken, "after A is killed, a new app takes 7000 (%.0f ms)" % ((time.time() - t0) * 1000))
        c.terminate()
        c.wait()

        d, line = probe(["7001", "qos", "100000000", "99500000"])
        d.wait(timeout=10)
        check(d.returncode == 2 and line.startswith("error 28 ") and "free" in line,
              "a guarantee beyond the link is refused with what is free: " + line)

        # Descriptors before and after, with no flow open either time (the
        # daemons see a connection's end in their own time: wait for it).
        pids = {d: s1["sluice"][d]["pid"] for d in ("flowmgr", "driver")}

        def fds():
            return {d: len(os.listdir("/proc/%d/fd" % pid)) for d, pid in pids.items()}

        t0 = time.time()
        while sluice_flows() != [] and time.time() - t0 < 5:
            time.sleep(0.05)
        fds0 = fds()
        r = in_ns("s1", [hostile, SOCK, "7002", st["hosts"]["l1"]["address"]],
                  capture_output=True, text=True, timeout=60)
        for line in r.stdout.splitlines():
            check(line.startswith("ok "), "hostile application: " + line)
        check(r.returncode == 0 and r.stdout.count("ok ") >= 27,
              "hostile application: every case ran (exit %d, %d ok)" % (
                  r.returncode, r.stdout.count("ok ")))
        t0 = time.time()
        while fds() != fds0 and time.time() - t0 < 2:
            time.sleep(0.05)
        fds1 = fds()
        check(fds1 == fds0, "after it, both daemons hold the descriptors they held before "
              "(%s, before %s)" % (fds1, fds0))

        # Resolve (a bound flow's first datagram to a peer it never heard
        # from): l1 twice (ARP, then the cache), then bad requests.
        l1 = st["hosts"]["l1"]["address"]
        r = in_ns("l1", ["ip", "-j", "addr", "show"], capture_output=True, text=True)
        l1mac = [i["address"] for i in json.loads(r.stdout)
                 if any(a.get("local") == l1 for a in i.get("addr_info", []))]
        t0 = time.time()
        g, line = probe(["0", "resolve", l1, l1, addr, "224.0.0.1", "10.99.0.1",
                         "10.77.1.77", "id=99999", l1])
        out = g.communicate(timeout=20)[0].splitlines()
        took = time.time() - t0
        want = ["resolve %s nexthop %s mac %s" % (l1, l1, l1mac[0] if l1mac else "?")] * 2
        check(out[:2] == want, "Resolve of l1: its MAC, twice (%s)" % out[:2])
        check(len(out) == 7 and out[2].startswith("resolve %s error 22 " % addr)
              and out[3].startswith("resolve 224.0.0.1 error 22 ")
              and out[4].startswith("resolve 10.99.0.1 error 101 ")
              and out[5].startswith("resolve 10.77.1.77 error 113 ")
              and out[6].startswith("resolve %s error 2 " % l1),
              "Resolve refuses our own address, multicast (EINVAL), an address with no "
              "route (ENETUNREACH), one that does not answer ARP (EHOSTUNREACH, %.1f s), "
              "another's flow (ENOENT): %s" % (took, out[2:]))

        e, line = probe(["7002", "echo", "1000"])
        check(line.endswith(" port 7002"), "echo app opens UDP 7002")
        n = py_in_ns("l1", UDP_ECHO % (addr, 7002, 20))
        check(n == "20", "20 datagrams (1..1400 bytes) from Linux come back (%s)" % n)

        netlab("restart", "s1", "driver")
        time.sleep(1.0)  # the flow manager reconnects within a tick
        n = py_in_ns("l1", UDP_ECHO % (addr, 7002, 20))
        check(n == "20", "after a driver restart the same flow still echoes (%s)" % n)

        f, line = probe(["7003", "hold"])
        check(line.endswith(" port 7003"), "a second app holds UDP 7003")
        netlab("stop", "s1", "flowmgr")
        check(read_line(e, 5) == "flowmgr gone", "the echo app sees the flow manager go")
        n = py_in_ns("l1", UDP_ECHO % (addr, 7002, 20))
        check(n == "20", "with no flow manager the flow still echoes (%s)" % n)
        f.send_signal(signal.SIGKILL)
        f.wait()
        t0 = time.time()
        netlab("start", "s1", "flowmgr")
        line = read_line(e, 5)
        check(line.startswith("reattached "), "the echo app re-attaches its flow (%s, %.0f ms)"
              % (line, (time.time() - t0) * 1000))
        n = py_in_ns("l1", UDP_ECHO % (addr, 7002, 20))
        check(n == "20", "after a flow manager restart the same flow still echoes (%s)" % n)
        flows = sluice_flows() or []
        ports = {x["local"]["port"]: x.get("orphan", False) for x in flows}
        check(ports.get(7002) is False and ports.get(7003) is True,
              "the flow table is recovered: 7002 re-attached, 7003 an orphan (%s)" % ports)
        c, line = probe(["7003", "hold"])
        c.wait(timeout=10)
        check(line.startswith("error 98 "), "the orphan still holds 7003: " + line)
        orphan = [x["id"] for x in flows if x["local"]["port"] == 7003]
        c, line = probe(["0", "reattach", str(orphan[0] if orphan else 0)])
        c.wait(timeout=10)
        check(c.returncode == 2 and line.startswith("reattach error 1 ") and "belongs to" in line,
              "another process may not take the orphan: " + line)
        taken = False
        while time.time() - t0 < 6 and not taken:
            c, line = probe(["7003", "hold"])
            taken = line.endswith(" port 7003")
            if not taken:
                c.wait()
                time.sleep(0.1)
        check(taken, "after the grace period the orphan is gone and 7003 is free (%.1f s)"
              % (time.time() - t0))
        c.terminate()
        c.wait()
        # The recovered flow's channels came from the driver's dump: they
        # must be good enough to install it again in a new driver.
        netlab("restart", "s1", "driver")
        time.sleep(1.0)
        n = py_in_ns("l1", UDP_ECHO % (addr, 7002, 20))
        check(n == "20", "a recovered flow survives another driver restart (%s)" % n)
        e.terminate()
        e.wait()
    except Exception as ex:  # report, then clean up
        check(False, "exception: %r" % ex)
        for w in ("driver", "flowmgr"):
            print(netlab("logs", "s1", w, check_rc=False).stdout)
    finally:
        netlab("down", check_rc=False)
    print("%d failure(s)" % len(failures))
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
