#!/usr/bin/python3
# SPDX-License-Identifier: BSD-3-Clause
"""The `sluice` tool against a flow manager started here, without a driver
and without namespaces (the flow manager waits for its driver and serves
administrators meanwhile):

  - version, flows, arp, stats, route add/show/del with their refusals, in
    text and JSON; flow show and qos set of a flow that is not there;
  - usage errors exit 2, failures 1 with one line on stderr, never JSON;
  - monitor says where the counters are not;
  - garbage on admin.ipc gets an Error, and the flow manager serves on;
  - as root: nobody is refused by admin.ipc's mode; with admin_group set to
    nobody's group, nobody may.

Usage: test_sluice_cli.py SLUICE SLUICE_FLOWMGR WORK_DIR.
"""
import json
import os
import shutil
import signal
import subprocess
import sys
import time

REPO = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
sys.path.insert(0, os.path.join(REPO, "tests", "support"))
from nnsp import HDR, frame, sp_request  # noqa: E402

failures = []


def check(cond, what):
    print(("ok   " if cond else "FAIL ") + what, flush=True)
    if not cond:
        failures.append(what)


def sluice(*args, user=None):
    cmd = [SLUICE, "-s", RDIR, "-t", "3000", *args]
    if user:
        cmd = ["runuser", "-u", user, "--"] + cmd
    return subprocess.run(cmd, capture_output=True, text=True, timeout=20)


def start_flowmgr(*extra):
    log = open(os.path.join(WORK, "flowmgr.log"), "a")
    p = subprocess.Popen([FLOWMGR, "--runtime-dir", RDIR, "--driver",
                          os.path.join(RDIR, "no-driver.sock"), "--address", "10.9.0.2/24",
                          "--gateway", "10.9.0.1", *extra], stdout=log, stderr=log)
    t0 = time.time()
    # events.ipc is bound last, after admin.ipc has its mode and group: a
    # check of admin.ipc as soon as it exists could see it still 0700.
    while not os.path.exists(os.path.join(RDIR, "events.ipc")) and time.time() - t0 < 5:
        if p.poll() is not None:
            break
        time.sleep(0.02)
    return p


def stop(p):
    p.send_signal(signal.SIGTERM)
    try:
        p.wait(timeout=5)
    except subprocess.TimeoutExpired:
        p.kill()
        p.wait()


def main():
    global SLUICE, FLOWMGR, WORK, RDIR
    SLUICE, FLOWMGR, WORK = (os.path.abspath(a) for a in sys.argv[1:4])
    WORK = os.path.join(WORK, str(os.getpid()))
    RDIR = os.path.join(WORK, "run")
    os.makedirs(RDIR, exist_ok=True)
    os.chmod(WORK, 0o755)
    os.chmod(RDIR, 0o755)
    fm = start_flowmgr()
    try:
        check(fm.poll() is None, "the flow manager runs without its driver")
        adm = os.path.join(RDIR, "admin.ipc")
        check(os.stat(adm).st_mode & 0o777 == 0o660, "admin.ipc is mode 0660")

        r = sluice("version")
        check(r.returncode == 0 and "sluice-flowmgr" in r.stdout and "(not connected)" in r.stdout,
              "version without a driver:\n" + r.stdout + r.stderr)
        r = sluice("-j", "version")
        v = json.loads(r.stdout)
        check(v["schema"] == {"major": 1, "minor": 5} and v["driver"]["events"] == ""
              and v["flowmgr"]["events"] == "ipc://" + os.path.join(RDIR, "events.ipc"),
              "version -j: schema 1.5, our events, no driver's")

        r = sluice("-j", "flows")
        check(r.returncode == 0 and json.loads(r.stdout) == [], "no flows: []")
        r = sluice("flows")
        check(r.returncode == 0 and r.stdout.split()[:3] == ["ID", "PROTO", "KIND"],
              "no flows: the header only")
        r = sluice("-j", "arp")
        check(r.returncode == 0 and json.loads(r.stdout) == [], "an empty ARP cache")
        r = sluice("stats")
        check(r.returncode == 0 and "the driver does not answer" in r.stdout
              and "flows 0" in r.stdout, "stats without the driver:\n" + r.stdout)
        r = sluice("-j", "stats")
        st = json.loads(r.stdout)
        check(st["ports"] == [] and "ARP_REPLY" in st["manager"] and "EXC_RX" in st["manager"]
              and "DROP_BAD_CSUM" in st["manager"], "stats -j: every manager counter")

        r = sluice("route")
        check(r.stdout.splitlines() == ["10.9.0.0/24                dev fm0  connected",
                                        "default      via 10.9.0.1  dev fm0  static"],
              "route show, aligned:\n" + r.stdout)
        check(sluice("route", "add", "192.168.7.0/24", "via", "10.9.0.254").returncode == 0,
              "route add")
        rts = json.loads(sluice("-j", "route", "show").stdout)
        check({"dst": "192.168.7.0/24", "gateway": "10.9.0.254", "dev": "fm0", "type": "static"}
              in rts, "route -j lists it")
        for args, rc, msg in [
                (("route", "add", "192.168.7.0/24", "via", "10.9.0.254"), 1, "exists"),
                (("route", "add", "192.168.8.1/24", "via", "10.9.0.254"), 1, "host bits"),
                (("route", "add", "192.168.8.0/24", "via", "10.9.0.2"), 1, "our address"),
                (("route", "add", "192.168.8.0/24", "via", "172.16.0.1"), 1, "no connected"),
                (("route", "add", "192.168.8.0/24"), 2, "which gateway"),
                (("route", "add", "192.168.8.0/33", "via", "10.9.0.1"), 2, "PREFIX"),
                (("route", "del", "10.9.0.0/24"), 1, "connected route"),
                (("route", "flip"), 2, "unknown command"),
                (("flow", "show", "3"), 1, "no flow 3"),
                (("flow", "show", "x"), 2, "flow id"),
                (("qos", "set", "3", "slice=1ms"), 1, "no flow 3"),
                (("qos", "set", "3", "slice=quick"), 2, "duration"),
                (("qos", "set", "3"), 2, "nothing to set"),
                (("frobnicate",), 2, "unknown object"),
                (("monitor",), 1, "does not know"),
                (("--admin", "ipc:///nonexistent/admin.ipc", "flows"), 1, "no such socket")]:
            r = sluice(*args)
            check(r.returncode == rc and msg in r.stderr and r.stdout == ""
                  and r.stderr.startswith("sluice: "),
                  "%s: exit %d, %r (%s)" % (" ".join(args), r.returncode, msg, r.stderr.strip()))
        check(sluice("route", "del", "192.168.7.0/24").returncode == 0, "route del")
        check("192.168.7.0" not in sluice("route").stdout, "... and it is gone")
        r = sluice("r", "s")
        check(r.returncode == 0 and "default" in r.stdout, "abbreviations: sluice r s")

        rep = sp_request(adm, b"\x00" * 7)
        h = HDR.unpack(rep[:HDR.size]) if rep else None
        check(h is not None and h[3] == 0x0001, "a short message gets an Error")
        rep = sp_request(adm, frame(0x030d, 5, b"\x0a\x05garbage"))
        check(rep is not None and b"undecodable" in rep, "an undecodable QosSet gets an Error")
        check(fm.poll() is None and sluice("version").returncode == 0,
              "the flow manager serves on")

        if os.geteuid() == 0:
            r = sluice("flows", user="nobody")
            check(r.returncode == 1 and "Permission denied" in r.stderr,
                  "nobody is refused: " + r.stderr.strip())
            stop(fm)
            fm = start_flowmgr("--admin-group", "nogroup")
            g = os.stat(adm).st_gid
            check(g == 65534 and os.stat(adm).st_mode & 0o777 == 0o660,
                  "admin_group = nogroup: admin.ipc is root:nogroup 0660")
            r = sluice("-j", "flows", user="nobody")
            check(r.returncode == 0 and json.loads(r.stdout) == [],
                  "nobody, in nogroup, may: " + r.stderr.strip())
        else:
            print("skip the part about users: not root")
    finally:
        stop(fm)
    check(not os.path.exists(os.path.join(RDIR, "admin.ipc")),
          "the flow manager removes its sockets when it stops")
    if not failures:
        shutil.rmtree(WORK, ignore_errors=True)
    print("%d failure(s)" % len(failures))
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
