#!/usr/bin/python3
# SPDX-License-Identifier: BSD-3-Clause
"""udp_echo (examples/udp_echo, on appstack) on a real network, with Linux
as the independent peer.

Brings up netlab's `pair` topology (Sluice host s1 with its driver and flow
manager; Linux host l1) under its own prefix, once on each port type
(net_af_packet, the default, then net_af_xdp with `netlab up --xdp`), and
on each:

  1. runs `udp_echo server` in s1 (a bound flow); a Linux client in l1
     sends datagrams of 1, 100, 1472, 1473, 2000, 2961, 4000 and 8000 bytes,
     then one of every size from 1 to 8000 (fragmented above 1472 both
     ways), and every one must come back intact (compared byte by byte);
  2. sends the server a datagram from a l1 port where nothing listens (a
     raw socket forges it), so that the echo draws an ICMP port
     unreachable: the server's bound flow must count it (RX_ICMP);
  3. runs a Linux UDP echo server in l1 and `udp_echo client` in s1 against
     it (a connected flow), the same sizes: every reply must come back
     intact; then `udp_echo client --bound` (a bound flow, whose first
     datagram goes to a peer it never heard from: the flow manager resolves
     it) with the list of sizes, the same with --nonblock (the stack holds
     the first datagram until the answer comes), and to an address on the
     link where nobody answers ARP: EHOSTUNREACH;
  4. runs `udp_echo client` to a l1 port where nothing listens: the
     application must see ECONNREFUSED (Linux's port unreachable, classified
     by the driver's demux to the flow that sent the datagram); and in 2 and
     4 the flow manager must not have been handed those ICMP errors (its
     ICMP_OTHER counter stays where it was).

udp_echo posts the stack's default 2 KB receive buffers. On net_af_packet
the kernel reassembles fragments before the driver reads them (DPDK 22.11
joins its PACKET_FANOUT group with PACKET_FANOUT_FLAG_DEFRAG): the driver
gives the port 16 KB ring frames and large receive mbufs, and cuts a
datagram larger than the flow's buffer into fragments again
(docs/driver.md). On net_af_xdp the driver sees the fragments themselves.
Either way the application's stack reassembles them (docs/appstack.md):
its RX_REASSEMBLED counter must cover every datagram too big for a buffer,
and the driver's RX_RECUT (`sluice -j stats`) must count each of them on
net_af_packet and none on net_af_xdp.

Environment: SLUICE_ECHO_MAX_OK (default 8000) is the top of the sweep;
SLUICE_ECHO_PORTS (default "af_packet af_xdp") the port types to run.

Usage: test_udp_echo_netlab.py BUILD_DIR UDP_ECHO. BUILD_DIR holds the
daemons netlab starts and tools/sluice. Needs root; exits 77 (skip)
otherwise. Takes the lab down whatever happens.
"""
import json
import os
import re
import signal
import subprocess
import sys
import time

REPO = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
sys.path.insert(0, os.path.join(REPO, "tests", "support"))
import labtest  # noqa: E402
from labtest import check, failures, in_ns, netlab  # noqa: E402

PREFIX = "ase%d" % (os.getpid() % 10000)
MAX_OK = int(os.environ.get("SLUICE_ECHO_MAX_OK", "8000"))
PORTS = os.environ.get("SLUICE_ECHO_PORTS", "af_packet af_xdp").split()
# Around the MTU (1472 is the most one frame carries), odd fragment counts, the top.
SIZES = [n for n in (1, 100, 1472, 1473, 2000, 2961, 4000, 8000) if n <= MAX_OK]
# ctest gives the whole test 300 s; each step gets what is left of this, so
# that a broken port fails in time and the lab still comes down.
DEADLINE = time.monotonic() + 270


def left():
    return max(5, DEADLINE - time.monotonic())

# Sends each size given as JSON in argv[4] to argv[1]:argv[2], waits up to
# argv[3] seconds for it to come back, compares the bytes; gives up after 20
# failures.
LINUX_CLIENT = """
import json, socket, sys
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
s.connect((sys.argv[1], int(sys.argv[2])))
s.settimeout(float(sys.argv[3]))
ok = bad = lost = 0
failed = []
for n in json.loads(sys.argv[4]):
    d = bytes((n * 7 + k * 13) % 256 for k in range(n))
    s.send(d)
    try:
        while True:
            r = s.recv(65535)
            if r == d:
                ok += 1
                break
            if len(r) != n:   # a late reply to an earlier datagram
                continue
            bad += 1
            failed.append(n)
            break
    except socket.timeout:
        lost += 1
        failed.append(n)
    if len(failed) >= 20:
        break
print(json.dumps({"ok": ok, "bad": bad, "lost": lost, "failed": failed[:20]}))
"""

LINUX_ECHO = """
import socket
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
s.bind(("0.0.0.0", %d))
print("ready", flush=True)
while True:
    d, a = s.recvfrom(65535)
    s.sendto(d, a)
"""

# A UDP datagram from argv[3] (a port with no socket: a raw socket forges
# it) to argv[1]:argv[2], so that the reply draws a port unreachable.
LINUX_FORGE = """
import socket, struct, sys
s = socket.socket(socket.AF_INET, socket.SOCK_RAW, socket.IPPROTO_UDP)
data = b"who is there?"
s.sendto(struct.pack("!HHHH", int(sys.argv[3]), int(sys.argv[2]), 8 + len(data), 0) + data,
         (sys.argv[1], 0))
"""


def stats(sluice, runtime_dir):
    """`sluice -j stats` of s1: the flow manager's counters and its driver's port."""
    r = subprocess.run([sluice, "-s", runtime_dir, "-j", "stats"], capture_output=True,
                       text=True, timeout=30)
    return json.loads(r.stdout)


def icmp_other(sluice, runtime_dir):
    """The flow manager's ICMP_OTHER counter: ICMP it was handed and dropped."""
    st = stats(sluice, runtime_dir)
    return st["manager"]["DROP_ICMP_OTHER"], st["ports"][0]["rx_manager"]


def stack_counter(text, name):
    """A counter of udp_echo's stack, from the table it prints on stderr (absent: 0)."""
    m = re.search(r"^\s*%s\s+(\d+)$" % name, text, re.M)
    return int(m.group(1)) if m else 0


def linux_client(addr, port, sizes, timeout_s):
    r = in_ns("l1", ["/usr/bin/python3", "-c", LINUX_CLIENT, addr, str(port), str(timeout_s),
                     json.dumps(sizes)], capture_output=True, text=True, timeout=left())
    try:
        return json.loads(r.stdout)
    except ValueError:
        return {"ok": 0, "error": (r.stdout + r.stderr)[-300:]}


def run_lab(port_type, echo, sluice):
    """Checks 1-4 on a lab with drivers on PORT_TYPE."""
    server = linux_echo = None
    tag = "[%s] " % port_type
    try:
        if DEADLINE - time.monotonic() < 60:
            raise RuntimeError("no time left for this port type")
        netlab("up", "pair", *(["--xdp"] if port_type == "af_xdp" else []))
        st = json.load(open(labtest.state_path()))
        s1, l1 = st["hosts"]["s1"], st["hosts"]["l1"]
        sock, rundir = s1["sluice"]["flowmgr"]["socket"], s1["sluice"]["runtime_dir"]
        sweep = list(range(1, MAX_OK + 1))

        # 1. Sluice server, Linux client.
        server = subprocess.Popen(["ip", "netns", "exec", s1["netns"], echo, "server",
                                   "--port", "7100", "--socket", sock],
                                  stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        line = server.stdout.readline().strip()
        check(line.startswith("serving %s:7100 flow " % s1["address"]),
              tag + "udp_echo server opens a bound flow on s1:7100 (%s)" % line)
        r = linux_client(s1["address"], 7100, SIZES, 2.0)
        check(r.get("ok") == len(SIZES),
              tag + "Linux client: datagrams of %s bytes come back intact (%s)"
              % (", ".join(map(str, SIZES)), r))
        r = linux_client(s1["address"], 7100, sweep, 2.0)
        check(r.get("ok") == len(sweep),
              tag + "Linux client: one datagram of every size 1..%d comes back intact (%s)"
              % (MAX_OK, r))

        # 2. The server's echo to a port where nothing listens.
        before = icmp_other(sluice, rundir)
        in_ns("l1", ["/usr/bin/python3", "-c", LINUX_FORGE, s1["address"], "7100", "7399"],
              check=True, timeout=30)
        # Stopped once the ICMP error has had time to come back.
        subprocess.run(["sleep", "0.5"])
        after = icmp_other(sluice, rundir)
        server.send_signal(signal.SIGTERM)
        _, err = server.communicate(timeout=10)
        check(server.returncode == 0, tag + "udp_echo server exits 0 on SIGTERM")
        print(err.strip())
        server = None
        big = sum(1 for n in SIZES + sweep if n > 2048 - 42)
        check(stack_counter(err, "RX_REASSEMBLED") >= big,
              tag + "the %d datagrams larger than a 2 KB buffer reached the server in "
              "fragments and were reassembled (RX_REASSEMBLED %d)"
              % (big, stack_counter(err, "RX_REASSEMBLED")))
        recut = stats(sluice, rundir)["ports"][0]["driver"]["RX_RECUT"]
        if port_type == "af_packet":
            check(recut >= big, tag + "the kernel joined them and the driver cut the %d again "
                  "(RX_RECUT %d in sluice stats)" % (big, recut))
        else:
            check(recut == 0, tag + "the driver got them as fragments and cut nothing "
                  "(RX_RECUT %d)" % recut)
        check(stack_counter(err, "RX_ICMP") == 1,
              tag + "the server's bound flow got the port unreachable its echo drew (RX_ICMP 1)")
        check(after[0] == before[0],
              tag + "the flow manager was not handed it (ICMP_OTHER %d -> %d; frames to it "
              "%d -> %d)" % (before[0], after[0], before[1], after[1]))

        # 3. Linux server, Sluice client.
        linux_echo = subprocess.Popen(["ip", "netns", "exec", l1["netns"], "/usr/bin/python3",
                                       "-c", LINUX_ECHO % 7200],
                                      stdout=subprocess.PIPE, text=True)
        check(linux_echo.stdout.readline().strip() == "ready", tag + "Linux echo server in l1")
        for what, sizes in (("--sizes", ",".join(map(str, SIZES))),
                            ("--sizes", "1-%d" % MAX_OK)):
            n = len(sizes.split(",")) if "," in sizes else MAX_OK
            r = in_ns("s1", [echo, "client", l1["address"], "7200", what, sizes, "--timeout",
                             "2000", "--socket", sock],
                      capture_output=True, text=True, timeout=left())
            print(r.stdout.strip())
            print(r.stderr.strip()[-2000:])
            check(r.returncode == 0 and ("sent %d ok %d " % (n, n)) in r.stdout,
                  tag + "udp_echo client: %d datagrams (sizes %s) to Linux come back intact"
                  % (n, sizes))

        # 3b. The same from a bound flow: its first datagram goes to a peer
        # it never heard from (the flow manager resolves it), and a peer on
        # the link that does not exist gets EHOSTUNREACH.
        sizes = ",".join(map(str, SIZES))
        n = len(SIZES)
        r = in_ns("s1", [echo, "client", l1["address"], "7200", "--sizes", sizes, "--timeout",
                         "2000", "--bound", "--socket", sock],
                  capture_output=True, text=True, timeout=left())
        print(r.stdout.strip())
        print(r.stderr.strip()[-2000:])
        check(r.returncode == 0 and ("sent %d ok %d " % (n, n)) in r.stdout,
              tag + "udp_echo client --bound: %d datagrams (sizes %s) to Linux come back intact"
              % (n, sizes))
        # ... and with sends that do not wait: the first datagram is held
        # by the stack until the flow manager answers (read while the
        # client waits for the echo), then sent.
        r = in_ns("s1", [echo, "client", l1["address"], "7200", "--sizes", sizes, "--timeout",
                         "2000", "--bound", "--nonblock", "--socket", sock],
                  capture_output=True, text=True, timeout=left())
        print(r.stdout.strip())
        print(r.stderr.strip()[-2000:])
        check(r.returncode == 0 and ("sent %d ok %d " % (n, n)) in r.stdout,
              tag + "udp_echo client --bound --nonblock: %d datagrams (sizes %s) come back "
              "intact, the first held while its peer was resolved" % (n, sizes))
        nobody = l1["address"].rsplit(".", 1)[0] + ".77"
        t0 = time.time()
        r = in_ns("s1", [echo, "client", nobody, "7200", "--count", "1", "--size", "10",
                         "--timeout", "5000", "--bound", "--socket", sock],
                  capture_output=True, text=True, timeout=60)
        print(r.stdout.strip())
        print(r.stderr.strip())
        check(r.returncode == 1 and "send 10 bytes: No route to host" in r.stderr,
              tag + "udp_echo client --bound to %s, which does not answer ARP: EHOSTUNREACH "
              "(%.1f s)" % (nobody, time.time() - t0))

        # 4. The client to a port where nothing listens.
        before = icmp_other(sluice, rundir)
        r = in_ns("s1", [echo, "client", l1["address"], "7300", "--count", "2", "--size", "10",
                         "--timeout", "2000", "--socket", sock],
                  capture_output=True, text=True, timeout=60)
        after = icmp_other(sluice, rundir)
        print(r.stdout.strip())
        print(r.stderr.strip())
        check(r.returncode == 1 and "sent 2 ok 0 lost 0 mismatch 0 errors 2 " in r.stdout
              and r.stderr.count("recv: Connection refused") == 2
              and stack_counter(r.stderr, "RX_ICMP") == 2,
              tag + "udp_echo client to a closed Linux port: ECONNREFUSED for each datagram")
        check(after[0] == before[0],
              tag + "the flow manager was not handed those port unreachables (ICMP_OTHER "
              "%d -> %d; frames to it %d -> %d)" % (before[0], after[0], before[1], after[1]))
    except Exception as ex:  # report, then clean up
        check(False, tag + "exception: %r" % ex)
        for w in ("driver", "flowmgr"):
            print(netlab("logs", "s1", w, check_rc=False).stdout)
    finally:
        for p in (server, linux_echo):
            if p and p.poll() is None:
                p.kill()
                p.wait()
        netlab("down", check_rc=False)


def main():
    if os.geteuid() != 0:
        print("skip: needs root (network namespaces)")
        return 77
    build, echo = os.path.abspath(sys.argv[1]), os.path.abspath(sys.argv[2])
    sluice = os.path.join(build, "tools", "sluice")
    labtest.setup(PREFIX, build)
    for port_type in PORTS:
        run_lab(port_type, echo, sluice)
    print("%d failure(s)" % len(failures))
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
