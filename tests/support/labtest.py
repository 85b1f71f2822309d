# SPDX-License-Identifier: BSD-3-Clause
"""What the integration tests on tools/netlab share: the checks they print
and count, and running netlab and commands in a lab's namespaces.

    import labtest
    from labtest import check, failures, netlab, in_ns
    labtest.setup("fmt1234", build_dir)   # the lab's prefix and build tree
"""
import os
import subprocess

REPO = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
NETLAB = os.path.join(REPO, "tools", "netlab")

failures = []
_lab = {"prefix": None, "build": None}


def setup(prefix, build):
    """Name the lab (netlab --prefix) and the build tree its daemons come from."""
    _lab["prefix"], _lab["build"] = prefix, build


def check(cond, what):
    """Print one result; a failure is remembered in `failures`."""
    print(("ok   " if cond else "FAIL ") + what, flush=True)
    if not cond:
        failures.append(what)


def netlab(*args, check_rc=True):
    r = subprocess.run([NETLAB, "--prefix", _lab["prefix"], "--build", _lab["build"], *args],
                       capture_output=True, text=True)
    if check_rc and r.returncode != 0:
        raise RuntimeError("netlab %s: %s%s" % (" ".join(args), r.stdout, r.stderr))
    return r


def netns(host):
    """The namespace of HOST in this lab."""
    return "%s-%s" % (_lab["prefix"], host)


def in_ns(host, cmd, **kw):
    return subprocess.run(["ip", "netns", "exec", netns(host), *cmd], **kw)


def state_path():
    return os.path.join(REPO, "out", "netlab-%s.json" % _lab["prefix"])
