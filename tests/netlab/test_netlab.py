#!/usr/bin/python3
# SPDX-License-Identifier: BSD-3-Clause
"""Tests of tools/netlab, one case per ctest test.

  test_netlab.py --netlab PATH --build DIR --work DIR CASE

Each case uses its own prefix (derived from the case and the build dir, so
the dev and asan trees can run at once) and its own output dir, takes any
leftover of an earlier run down first, and always takes its lab down at the
end and checks that nothing is left. Exits 77 (ctest SKIP_RETURN_CODE) when
not root, and only then.
"""

import argparse
import hashlib
import json
import os
import shutil
import signal
import socket
import stat
import subprocess
import sys
import time

SKIP = 77
HERE = os.path.dirname(os.path.realpath(__file__))


class Failure(Exception):
    pass


def check(cond, msg):
    if not cond:
        raise Failure(msg)


def log(msg):
    print(f"[netlab test] {msg}", flush=True)


class Ctx:
    def __init__(self, a, case):
        self.netlab = a.netlab
        self.build = a.build
        self.work = os.path.abspath(a.work)
        h = hashlib.sha1(os.path.abspath(a.build).encode()).hexdigest()[:4]
        self.prefix = f"n{CASES[case][0]}{h}"
        self.out = os.path.join(self.work, "out")
        self.json = os.path.join(self.out, f"netlab-{self.prefix}.json")
        self.run_dir = "/run/sluice"

    def args(self):
        return ["--prefix", self.prefix, "--out", self.out]

    def nl(self, *args, ok=True, env=None, timeout=120):
        """Run netlab; with ok=True a non-zero exit fails the test."""
        cmd = [self.netlab] + list(args[:1]) + self.args() + list(args[1:])
        e = dict(os.environ)
        e.pop("NETLAB_PREFIX", None)
        e.update(env or {})
        r = subprocess.run(cmd, capture_output=True, text=True, env=e, timeout=timeout)
        if ok is True and r.returncode != 0:
            raise Failure(f"{' '.join(cmd)} -> {r.returncode}\n{r.stdout}{r.stderr}")
        if isinstance(ok, int) and ok is not True and r.returncode != ok:
            raise Failure(f"{' '.join(cmd)}: exit {r.returncode}, expected {ok}\n"
                          f"{r.stdout}{r.stderr}")
        return r

    def state(self):
        with open(self.json) as f:
            return json.load(f)

    def inns(self, host, *cmd, ok=True):
        """A command in a host's namespace, through `netlab exec`."""
        return self.nl("exec", host, "--", *cmd, ok=0 if ok else None)

    def down(self):
        return self.nl("down")

    def leftovers(self):
        p = self.prefix + "-"
        left = []
        r = subprocess.run(["ip", "netns", "list"], capture_output=True, text=True)
        left += [f"netns {l.split()[0]}" for l in r.stdout.splitlines()
                 if l.startswith(p)]
        r = subprocess.run(["ip", "-br", "link"], capture_output=True, text=True)
        left += [f"link {l.split()[0]}" for l in r.stdout.splitlines()
                 if l.startswith(p)]
        for d in (self.run_dir, "/var/run/dpdk"):
            if os.path.isdir(d):
                left += [os.path.join(d, f) for f in os.listdir(d)
                         if f.startswith(p) or f.startswith("sluice-" + p)
                         or f == f"netlab-{self.prefix}.lock"]
        for pid in os.listdir("/proc"):
            if not pid.isdigit():
                continue
            try:
                with open(f"/proc/{pid}/cmdline", "rb") as f:
                    cmd = f.read().replace(b"\0", b" ").decode(errors="replace")
            except OSError:
                continue
            if f"/run/sluice/{p}" in cmd or f"netns exec {p}" in cmd:
                left.append(f"process {pid}: {cmd.strip()}")
        if os.path.exists(self.json):
            left.append(self.json)
        return left

    def assert_clean(self):
        left = self.leftovers()
        check(not left, "left behind: " + "; ".join(left))


def sock_answers(path):
    s = socket.socket(socket.AF_UNIX, socket.SOCK_SEQPACKET)
    try:
        s.connect(path)
        return True
    except OSError:
        return False
    finally:
        s.close()


def alive(pid):
    try:
        with open(f"/proc/{pid}/stat") as f:
            return f.read().rsplit(")", 1)[1].split()[0] not in ("Z", "X")
    except OSError:
        return False


def ip_json(ctx, host, *args):
    return json.loads(ctx.inns(host, "ip", "-j", *args).stdout)


def offloads(ctx, host, ifname):
    out = ctx.inns(host, "ethtool", "-k", ifname).stdout
    feats = {}
    for line in out.splitlines():
        k, sep, v = line.strip().partition(":")
        if sep and v.split():
            feats[k] = v.split()[0]
    return feats


def ping_all(ctx, st):
    """Every host with an address pings every address in the lab."""
    addrs = [(h, a.split("/")[0]) for h, x in st["hosts"].items() for a in x["addresses"]]
    for h, x in st["hosts"].items():
        if not x["addresses"]:
            continue
        for g, a in addrs:
            r = ctx.nl("exec", h, "--", "ping", "-c", "1", "-W", "2", "-q", a, ok=None)
            check(r.returncode == 0, f"{st['topology']}: {h} cannot ping {g} ({a})\n"
                                     f"{r.stdout}{r.stderr}")
    log(f"{st['topology']}: {len(addrs)} addresses reach each other")


def udp_to(ctx, host, ifname, dst_ip, dst_mac, n=5):
    """Send n UDP datagrams from a Linux host to a Sluice address, with the
    neighbour entry set by hand (nobody answers ARP without a flow manager)."""
    ctx.inns(host, "ip", "neigh", "replace", dst_ip, "lladdr", dst_mac, "dev", ifname)
    script = ("import socket\ns=socket.socket(socket.AF_INET,socket.SOCK_DGRAM)\n"
              f"for i in range({n}): s.sendto(b'netlab test', ('{dst_ip}', 9999))\n")
    ctx.inns(host, "/usr/bin/python3", "-c", script)


# ------------------------------------------------------------------ cases


def case_basic(ctx):
    """pair without daemons: plumbing, JSON, exec, status, up twice, down."""
    r = ctx.nl("up", "pair", "--no-daemons")
    check(f"lab {ctx.prefix}" in r.stdout, f"no summary: {r.stdout}")
    st = ctx.state()
    check(st["format"] == 1 and st["prefix"] == ctx.prefix and st["topology"] == "pair",
          "JSON header")
    check(st["state"] == "up" and st["port_type"] == "af_packet", "JSON state")
    check(set(st["hosts"]) == {"s1", "l1"}, f"hosts {list(st['hosts'])}")
    check(st["sluice_hosts"] == ["s1"] and st["linux_hosts"] == ["l1"], "host lists")
    s1, l1 = st["hosts"]["s1"], st["hosts"]["l1"]
    check(s1["kind"] == "sluice" and l1["kind"] == "linux", "kinds")
    check(s1["netns"] == f"{ctx.prefix}-s1" and l1["netns"] == f"{ctx.prefix}-l1", "netns")
    check(s1["address"] == "10.77.1.2" and l1["address"] == "10.77.1.1", "addresses")
    sif, lif = s1["interfaces"][0], l1["interfaces"][0]
    check(sif["peer"]["name"] == lif["name"] and lif["peer"]["name"] == sif["name"],
          "peers")
    check(sif["name"].startswith(ctx.prefix + "-") and lif["name"].startswith(ctx.prefix),
          "interface names carry the prefix")
    sl = s1["sluice"]
    check(sl["port"] == f"net_af_packet0,iface={sif['name']}", f"port {sl['port']}")
    check(sl["runtime_dir"] == f"/run/sluice/{ctx.prefix}-s1", "runtime dir")
    check(sl["driver"]["control"] == f"{sl['runtime_dir']}/driver.sock", "control path")
    check(sl["flowmgr"]["socket"] == f"{sl['runtime_dir']}/flowmgr.sock", "flowmgr socket")
    check(sl["driver"]["status"] == "disabled" and sl["driver"]["pid"] is None,
          "--no-daemons starts nothing")
    for which in ("driver", "flowmgr"):
        check(os.path.isfile(sl[which]["config"]), f"{which} config written")
        check(os.path.isfile(os.path.join(sl["out_dir"], f"{which}.ini")),
              f"{which} config copied to out/")
    with open(sl["driver"]["config"]) as f:
        ini = f.read()
    check(f"iface={sif['name']}" in ini and f"name = {ctx.prefix}-s1" in ini,
          f"driver ini:\n{ini}")
    with open(sl["flowmgr"]["config"]) as f:
        ini = f.read()
    check("address = 10.77.1.2/24" in ini and f"driver = {sl['driver']['control']}" in ini,
          f"flowmgr ini:\n{ini}")

    # What the kernel sees: the Sluice veth has no address, IPv6 off, and
    # the Linux peer hands over finished checksums and plain frames.
    links = ip_json(ctx, "s1", "addr", "show", "dev", sif["name"])
    check(not links[0].get("addr_info"), f"s1's veth has addresses: {links}")
    check(ctx.inns("s1", "sysctl", "-n", f"net.ipv6.conf.{sif['name']}.disable_ipv6")
          .stdout.strip() == "1", "IPv6 on s1's veth")
    check(links[0]["address"] == sif["mac"], "MAC as in the JSON")
    check("UP" in links[0]["flags"] and "NOARP" in links[0]["flags"], "s1 veth up, noarp")
    la = ip_json(ctx, "l1", "addr", "show", "dev", lif["name"])[0]
    check([f"{a['local']}/{a['prefixlen']}" for a in la["addr_info"] if a["family"] == "inet"]
          == ["10.77.1.1/24"], f"l1 address: {la}")
    check(not [a for a in la["addr_info"] if a["family"] == "inet6"], "l1 has IPv6")
    lo = ip_json(ctx, "l1", "link", "show", "lo")[0]
    check("UP" in lo["flags"], "lo up")
    f = offloads(ctx, "l1", lif["name"])
    for k in ("tx-checksumming", "tcp-segmentation-offload",
              "generic-segmentation-offload", "generic-receive-offload"):
        check(f.get(k) == "off", f"l1 {k} is {f.get(k)}")
    f = offloads(ctx, "s1", sif["name"])
    check(f.get("generic-receive-offload") == "off", "s1 gro")
    check(ctx.inns("l1", "ping", "-c1", "-W1", "10.77.1.1", ok=False).returncode == 0,
          "l1 pings itself")
    # Nothing in the host's own namespace.
    r = subprocess.run(["ip", "-br", "link"], capture_output=True, text=True)
    check(ctx.prefix not in r.stdout, "a lab interface in the root namespace")

    r = ctx.nl("status", ok=0)
    check("s1" in r.stdout and "l1" in r.stdout, r.stdout)
    js = json.loads(ctx.nl("status", "--json-out").stdout)
    check(js["problems"] == [] and js["hosts"]["s1"]["live"]["netns"], "status --json-out")

    # exec passes the exit status through.
    check(ctx.inns("l1", "sh", "-c", "exit 7", ok=False).returncode == 7, "exec status")
    check(ctx.nl("exec", "nosuch", "--", "true", ok=None).returncode == 2, "unknown host")

    # up twice fails cleanly (exit 3) and leaves the lab as it was.
    r = ctx.nl("up", "pair", "--no-daemons", ok=3)
    check("already up" in r.stderr, r.stderr)
    check(ctx.state()["created"] == st["created"], "the state was rewritten")
    ctx.nl("status", ok=0)
    # ... or replaces it when asked.
    ctx.nl("up", "router", "--no-daemons", "--replace")
    check(ctx.state()["topology"] == "router", "--replace")

    # Not root: a clear message, exit 1, nothing touched.
    if shutil.which("setpriv"):
        r = subprocess.run(["setpriv", "--reuid=65534", "--regid=65534", "--clear-groups",
                            ctx.netlab, "down"] + ctx.args(), capture_output=True, text=True)
        check(r.returncode == 1 and "needs root" in r.stderr, f"non-root: {r.stderr}")
        ctx.nl("status", ok=0)

    ctx.down()
    ctx.assert_clean()
    r = ctx.down()
    check("nothing to remove" in r.stderr, "second down")
    ctx.nl("status", ok=1)
    log("basic: ok")


def case_topologies(ctx):
    """Every topology with its Sluice hosts as Linux hosts: all addresses
    reach each other (router forwarding, bridge switching); then each with
    Sluice hosts; then a topology from a file."""
    for topo in ("pair", "router", "demo"):
        ctx.nl("up", topo, "--all-linux")
        st = ctx.state()
        check(st["all_linux"] and all(x["kind"] != "sluice" for x in st["hosts"].values()),
              "all linux")
        ping_all(ctx, st)
        ctx.down()
        ctx.assert_clean()

    ctx.nl("up", "router", "--no-daemons")
    st = ctx.state()
    check(st["hosts"]["s1"]["gateway"] == "10.77.1.1" and
          st["hosts"]["s2"]["gateway"] == "10.77.2.1", "gateways")
    check(ctx.inns("r1", "sysctl", "-n", "net.ipv4.ip_forward").stdout.strip() == "1",
          "r1 forwards")
    for h in ("s1", "s2"):
        i = st["hosts"][h]["interfaces"][0]
        a = ip_json(ctx, h, "addr", "show", "dev", i["name"])
        check(not a[0].get("addr_info"), f"{h} has addresses")
        with open(st["hosts"][h]["sluice"]["flowmgr"]["config"]) as f:
            check(f"gateway = {st['hosts'][h]['gateway']}" in f.read(), f"{h} gateway ini")
        f = offloads(ctx, "r1", i["peer"]["name"])
        check(f.get("tx-checksumming") == "off", f"r1 tx csum towards {h}")
    # The router answers from its Linux-side addresses, on both subnets.
    for a in ("10.77.1.1", "10.77.2.1"):
        check(ctx.inns("r1", "ping", "-c1", "-W1", "-I", "10.77.1.1", a, ok=False)
              .returncode == 0, f"r1 ping {a}")
    ctx.down()
    ctx.assert_clean()

    ctx.nl("up", "demo", "--no-daemons")
    st = ctx.state()
    sw = st["hosts"]["sw1"]
    check(sw["kind"] == "switch" and len(sw["interfaces"]) == 4, "switch ports")
    br = sw["bridges"][0]["name"]
    links = ip_json(ctx, "sw1", "link", "show", "master", br)
    check(len(links) == 4, f"bridge ports: {links}")
    for i in sw["interfaces"]:
        f = offloads(ctx, "sw1", i["name"])
        check(f.get("tx-checksumming") == "off", f"switch port {i['name']} tx csum")
    check(st["hosts"]["s1"]["role"] == "sender" and st["hosts"]["s2"]["role"] == "receiver",
          "roles")
    ctx.down()
    ctx.assert_clean()

    # A topology from a file: two Linux hosts behind a router, with routes.
    topo = {
        "description": "test: l1 -- r1 -- l2 with static routes",
        "hosts": {"l1": {"kind": "linux", "routes": {"10.77.42.0/24": "10.77.41.1"}},
                  "r1": {"kind": "linux", "forward": True},
                  "l2": {"kind": "linux", "gateway": "10.77.42.1"}},
        "links": [{"subnet": "10.77.41.0/24", "ends": {"l1": "10.77.41.2", "r1": "10.77.41.1"}},
                  {"subnet": "10.77.42.0/24", "ends": {"r1": "10.77.42.1", "l2": "10.77.42.2"}}],
    }
    os.makedirs(ctx.work, exist_ok=True)
    path = os.path.join(ctx.work, "custom.json")
    with open(path, "w") as f:
        json.dump(topo, f)
    ctx.nl("up", path)
    ping_all(ctx, ctx.state())
    ctx.down()
    ctx.assert_clean()
    # Broken ones are refused before anything is made.
    topo["links"][0]["subnet"] = "192.168.1.0/24"
    with open(path, "w") as f:
        json.dump(topo, f)
    r = ctx.nl("up", path, ok=2)
    check("outside 10.77.0.0/16" in r.stderr, r.stderr)
    ctx.assert_clean()
    log("topologies: ok")


def case_crash(ctx):
    """down after netlab itself was killed part-way through up, after
    the state file was lost, and with stray processes in the namespaces."""
    for delay in (0.05, 0.15, 0.3, 0.6):
        p = subprocess.Popen([ctx.netlab, "up", "demo", "--no-daemons"] + ctx.args(),
                             stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        time.sleep(delay)
        p.kill()
        p.wait()
        ctx.down()
        ctx.assert_clean()
    # ^C / SIGTERM part-way: up removes what it made itself.
    p = subprocess.Popen([ctx.netlab, "up", "demo", "--no-daemons"] + ctx.args(),
                         stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    time.sleep(0.2)
    p.terminate()
    _, err = p.communicate()
    # 130: it removed what it had made; -SIGTERM: it had not started yet;
    # 0: it had finished.
    check(p.returncode in (0, 130, -signal.SIGTERM), f"SIGTERM: {p.returncode} {err}")
    if p.returncode == 130:
        check("interrupted" in err, err)
        ctx.assert_clean()
    ctx.down()
    ctx.assert_clean()

    ctx.nl("up", "demo", "--no-daemons")
    st = ctx.state()
    # Something started with exec, left running in the background.
    bg = subprocess.Popen([ctx.netlab, "exec", "l1"] + ctx.args() + ["--", "sleep", "600"],
                          stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                          start_new_session=True)
    time.sleep(0.3)
    check(bg.poll() is None, "background sleep")
    # The state file is lost: down finds the lab by its namespaces' marks.
    os.unlink(ctx.json)
    ctx.nl("status", ok=4)
    r = ctx.nl("up", "demo", "--no-daemons", ok=3)
    check("carry its mark" in r.stderr, r.stderr)
    ctx.down()
    bg.wait(timeout=10)
    ctx.assert_clean()
    # A namespace with the prefix but not made by netlab is not touched.
    foreign = f"{ctx.prefix}-x9"
    subprocess.run(["ip", "netns", "add", foreign], check=True)
    try:
        ctx.down()
        r = subprocess.run(["ip", "netns", "list"], capture_output=True, text=True)
        check(foreign in r.stdout, "down removed a namespace it did not make")
    finally:
        subprocess.run(["ip", "netns", "delete", foreign])
    check(st["namespaces"], "namespaces listed")
    log("crash: ok")


def case_driver(ctx):
    """The real driver on net_af_packet in s1: running, socket answers,
    killed and restarted, down after a killed driver; a driver that dies at
    once fails `up` with its log and leaves nothing."""
    drv = os.path.join(ctx.build, "driver", "sluice-driver")
    check(os.access(drv, os.X_OK), f"no driver at {drv}: build first")
    ctx.nl("up", "pair", "--no-flowmgr", "--build", ctx.build)
    st = ctx.state()
    sl = st["hosts"]["s1"]["sluice"]
    d = sl["driver"]
    check(d["status"] == "running" and alive(d["pid"]), f"driver not running: {d}")
    check(os.path.realpath(f"/proc/{d['pid']}/exe") == os.path.realpath(drv),
          "the recorded pid is the driver")
    r = subprocess.run(["ip", "netns", "identify", str(d["pid"])],
                       capture_output=True, text=True)
    check(r.stdout.strip() == st["hosts"]["s1"]["netns"], f"driver in {r.stdout}")
    check(stat.S_ISSOCK(os.stat(d["control"]).st_mode) and sock_answers(d["control"]),
          "control socket")
    check(sl["flowmgr"]["status"] == "disabled", "--no-flowmgr")
    with open(d["log"]) as f:
        check("serving" in f.read(), "driver log")
    ctx.nl("status", ok=0)
    # Frames from l1 reach the driver's port (its af_packet socket is open;
    # nothing claims them, so they count as the exception channel's).
    lif = st["hosts"]["l1"]["interfaces"][0]
    udp_to(ctx, "l1", lif["name"], "10.77.1.2", sl["mac"])

    os.kill(d["pid"], signal.SIGKILL)
    time.sleep(0.3)
    r = ctx.nl("status", ok=4)
    check("not running" in r.stdout, r.stdout)
    ctx.nl("restart", "s1", "driver")
    d2 = ctx.state()["hosts"]["s1"]["sluice"]["driver"]
    check(d2["pid"] != d["pid"] and alive(d2["pid"]) and sock_answers(d2["control"]),
          "restart")
    ctx.nl("stop", "s1", "driver")
    check(not alive(d2["pid"]) and not os.path.exists(d2["control"]), "stop")
    ctx.nl("status", ok=0)
    ctx.nl("start", "s1", "driver")
    d3 = ctx.state()["hosts"]["s1"]["sluice"]["driver"]
    os.kill(d3["pid"], signal.SIGKILL)
    time.sleep(0.2)
    ctx.down()
    ctx.assert_clean()

    # A driver that cannot start: the error names it and shows its log.
    r = ctx.nl("up", "pair", "--no-flowmgr", "--build", ctx.build,
               "--driver-opt", "port=net_af_packet0,iface=nosuchif0", ok=1)
    check("driver exited" in r.stderr and "driver.log:\n    " in r.stderr, r.stderr)
    ctx.assert_clean()
    # No driver binary: refused before anything is made.
    r = ctx.nl("up", "pair", "--build", os.path.join(ctx.work, "nobuild"), ok=1)
    check("no driver at" in r.stderr, r.stderr)
    ctx.assert_clean()
    log("driver: ok")


def case_xdp(ctx):
    """The driver on net_af_xdp: bpffs, GRO, frames redirected to its socket."""
    ctx.nl("up", "pair", "--xdp", "--no-flowmgr", "--build", ctx.build)
    st = ctx.state()
    s1 = st["hosts"]["s1"]
    sl = s1["sluice"]
    check(sl["port"].startswith("net_af_xdp0,iface=") and st["port_type"] == "af_xdp",
          "port")
    check(alive(sl["driver"]["pid"]) and sock_answers(sl["driver"]["control"]), "driver")
    sif = s1["interfaces"][0]
    f = offloads(ctx, "s1", sif["name"])
    check(f.get("generic-receive-offload") == "on", "gro on for af_xdp")
    link = ip_json(ctx, "s1", "link", "show", sif["name"])[0]
    check("xdp" in link or "prog" in json.dumps(link), f"no XDP program: {link}")
    udp_to(ctx, "l1", st["hosts"]["l1"]["interfaces"][0]["name"], "10.77.1.2", sl["mac"], 8)
    time.sleep(0.3)
    stats = ctx.inns("s1", "ethtool", "-S", sif["name"]).stdout
    red = sum(int(l.split(":")[1]) for l in stats.splitlines() if "xdp_redirect" in l)
    check(red >= 8, f"frames redirected to the af_xdp socket: {red}\n{stats}")
    os.kill(sl["driver"]["pid"], signal.SIGKILL)
    time.sleep(0.2)
    ctx.nl("restart", "s1", "driver")
    ctx.down()
    ctx.assert_clean()
    log("xdp: ok")


def case_flowmgr(ctx):
    """Both real daemons of this build tree: order, readiness, INI,
    --link-mbps, stop/start, a flow manager that is killed."""
    drv = os.path.join(ctx.build, "driver", "sluice-driver")
    check(os.access(drv, os.X_OK), f"no driver at {drv}: build first")
    fm = os.path.join(ctx.build, "flowmgr", "sluice-flowmgr")
    check(os.access(fm, os.X_OK), f"no flow manager at {fm}: build first")
    ctx.nl("up", "router", "--build", ctx.build, "--link-mbps", "100")
    st = ctx.state()
    for h in ("s1", "s2"):
        sl = st["hosts"][h]["sluice"]
        for which, sock in (("driver", sl["driver"]["control"]),
                            ("flowmgr", sl["flowmgr"]["socket"])):
            check(sl[which]["status"] == "running" and alive(sl[which]["pid"]),
                  f"{h} {which}: {sl[which]}")
            check(sock_answers(sock), f"{h} {which} socket")
        with open(sl["flowmgr"]["config"]) as f:
            ini = f.read()
        for want in (f"name = {h}", f"runtime_dir = {sl['runtime_dir']}",
                     f"driver = {sl['driver']['control']}", "ephemeral_ports = 49152-65535",
                     "port = 0", f"address = {sl['address']}",
                     f"gateway = {sl['gateway']}", "link_mbps = 100"):
            check(want in ini, f"{h} flowmgr ini lacks {want!r}:\n{ini}")
        check(sl["link_mbps"] == 100, "link_mbps in JSON")
        r = subprocess.run([drv, "--help"], capture_output=True, text=True)
        if "--link-mbps" in r.stdout + r.stderr:  # drivers before it reject the key
            with open(sl["driver"]["config"]) as f:
                check("link_mbps = 100" in f.read(), f"{h} driver link_mbps")
        with open(sl["flowmgr"]["log"]) as f:
            check("serving" in f.read(), f"{h} flowmgr log")
    ctx.nl("status", ok=0)
    ctx.nl("stop", "s1", "flowmgr")
    check(not os.path.exists(st["hosts"]["s1"]["sluice"]["flowmgr"]["socket"]),
          "flowmgr stopped")
    ctx.nl("status", ok=0)
    ctx.nl("start", "s1")
    check(alive(ctx.state()["hosts"]["s1"]["sluice"]["flowmgr"]["pid"]), "flowmgr again")
    os.kill(ctx.state()["hosts"]["s2"]["sluice"]["flowmgr"]["pid"], signal.SIGKILL)
    time.sleep(0.2)
    r = ctx.nl("status", ok=4)
    check("s2: flowmgr" in r.stdout, r.stdout)
    ctx.down()
    ctx.assert_clean()
    log("flowmgr: ok")


def case_sluice(ctx):
    """The real daemons of this build tree in router: the Sluice hosts answer
    ping from the Linux router, on-link and (s2 through its gateway) from
    the router's other subnet. Without a flow manager built, the drivers only."""
    ctx.nl("up", "router", "--build", ctx.build)
    st = ctx.state()
    for h in ("s1", "s2"):
        sl = st["hosts"][h]["sluice"]
        check(alive(sl["driver"]["pid"]) and sock_answers(sl["driver"]["control"]),
              f"{h} driver")
    if st["hosts"]["s1"]["sluice"]["flowmgr"]["status"] == "not built":
        log("no flow manager in this build tree: checked the drivers only")
    else:
        for h in ("s1", "s2"):
            fm = st["hosts"][h]["sluice"]["flowmgr"]
            check(fm["status"] == "running" and alive(fm["pid"]), f"{h} flowmgr: {fm}")
        for args in (["10.77.1.2"], ["10.77.2.2"], ["-I", "10.77.1.1", "10.77.2.2"]):
            r = ctx.nl("exec", "r1", "--", "ping", "-c", "3", "-i", "0.2", "-W", "2", *args,
                       ok=None)
            check(r.returncode == 0, f"r1 ping {' '.join(args)}:\n{r.stdout}{r.stderr}")
        log("Sluice hosts answer ping, on-link and through the gateway")
    ctx.down()
    ctx.assert_clean()
    log("sluice: ok")


CASES = {
    "basic": ("b", case_basic),
    "topologies": ("t", case_topologies),
    "crash": ("c", case_crash),
    "driver": ("d", case_driver),
    "xdp": ("x", case_xdp),
    "flowmgr": ("f", case_flowmgr),
    "sluice": ("s", case_sluice),
}


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--netlab", required=True)
    p.add_argument("--build", required=True)
    p.add_argument("--work", required=True)
    p.add_argument("case", choices=sorted(CASES))
    a = p.parse_args()
    if os.geteuid() != 0:
        print("netlab tests need root: skipped")
        return SKIP
    ctx = Ctx(a, a.case)
    os.makedirs(ctx.work, exist_ok=True)
    log(f"case {a.case}, prefix {ctx.prefix}, out {ctx.out}")
    ctx.nl("down", ok=None)  # whatever an aborted earlier run left
    ok = False
    try:
        CASES[a.case][1](ctx)
        ok = True
    except Failure as e:
        print(f"FAIL: {e}", flush=True)
    finally:
        r = ctx.nl("down", ok=None)
        left = ctx.leftovers()
        if left:
            print(f"FAIL: after the final down: {left}\n{r.stderr}", flush=True)
            ok = False
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
