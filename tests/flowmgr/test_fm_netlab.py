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
  - datagrams from Linux reach an application's flow and come back;
  - the driver is restarted: the flow manager installs the flow again and
    the same application keeps echoing; then the flow manager is
    restarted... (not yet: see docs/flowmgr.md).

Usage: test_fm_netlab.py BUILD_DIR FM_PROBE. Needs root; exits 77 (skip)
otherwise. Cleans up whatever happens.
"""
import os
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
    global BUILD, PROBE, SOCK
    if os.geteuid() != 0:
        print("skip: needs root (network namespaces)")
        return 77
    BUILD, PROBE = os.path.abspath(sys.argv[1]), os.path.abspath(sys.argv[2])
    labtest.setup(PREFIX, BUILD)
    try:
        netlab("up", "pair")
        st = __import__("json").load(open(os.path.join(REPO, "out", "netlab-%s.json" % PREFIX)))
        s1 = st["hosts"]["s1"]
        addr = s1["address"]
        SOCK = s1["sluice"]["flowmgr"]["socket"]

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

        e, line = probe(["7002", "echo", "1000"])
        check(line.endswith(" port 7002"), "echo app opens UDP 7002")
        n = py_in_ns("l1", UDP_ECHO % (addr, 7002, 20))
        check(n == "20", "20 datagrams (1..1400 bytes) from Linux come back (%s)" % n)

        netlab("restart", "s1", "driver")
        time.sleep(1.0)  # the flow manager reconnects within a tick
        n = py_in_ns("l1", UDP_ECHO % (addr, 7002, 20))
        check(n == "20", "after a driver restart the same flow still echoes (%s)" % n)
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
