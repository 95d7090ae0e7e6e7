#!/usr/bin/env python3
"""test_haproxy: dist/haproxy/kinerjad.cfg (issue 19) with Debian's haproxy.

1. `haproxy -c -f dist/haproxy/kinerjad.cfg` says the file is valid.
2. The same file, with its addresses moved to free loopback ports and the
   daemon settings (chroot, user, syslog, admin socket) left out so that it
   runs here (and fewer connections), in front of two real kinerjad instances sharing one
   certificate: a client pinning that certificate reaches both through
   HAProxy (TLS passed through: the certificate it sees is kinerjad's),
   requests are spread over both, the health checks (GET /healthz over TLS)
   mark a killed instance DOWN, and requests go on being answered by the
   other meanwhile (redispatch).
Exit 77 when haproxy is not installed.  About 3 s.

usage: test_haproxy.py --kinerjad BIN --cfg dist/haproxy/kinerjad.cfg
"""
import argparse
import csv
import io
import os
import re
import shutil
import socket
import ssl
import subprocess
import sys
import tempfile
import time
import urllib.request

HAPROXY = shutil.which("haproxy") or "/usr/sbin/haproxy"


def free_port():
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    p = s.getsockname()[1]
    s.close()
    return p


def expect(cond, what):
    if not cond:
        sys.exit("FAIL: " + what)
    print("ok: " + what)


def local_cfg(text, front, stats, backends):
    """The shipped file, runnable unprivileged on loopback with fast checks."""
    out = []
    servers = iter(backends)
    for line in text.splitlines():
        s = line.strip()
        if re.match(r"(chroot|user|group|daemon|stats socket|log /dev/log)\b", s):
            continue
        if s.startswith("bind :8443"):
            line = "    bind 127.0.0.1:%d" % front
        elif s.startswith("bind 127.0.0.1:8404"):
            line = "    bind 127.0.0.1:%d" % stats
        elif s.startswith("server kinerjad"):
            port = next(servers, None)
            if port is None:
                continue
            line = "    server %s 127.0.0.1:%d" % (s.split()[1], port)
        elif s == "maxconn 20000":  # needs 40,000 descriptors; tests get fewer
            line = "    maxconn 1000"
        elif s.startswith("default-server"):
            line = line.replace("inter 5s", "inter 100ms").replace("slowstart 30s", "")
        out.append(line)
    return "\n".join(out) + "\n"


def start_kinerjad(binary, data, log):
    p = subprocess.Popen([binary, "--data", data, "serve", "--listen", "127.0.0.1:0"],
                         stdout=subprocess.PIPE, stderr=log, text=True)
    line = p.stdout.readline()
    m = re.search(r"https://127\.0\.0\.1:(\d+)", line)
    if not m:
        sys.exit("kinerjad did not start: %r" % line)
    return p, int(m.group(1))


def get(ctx, port, path, token=None):
    """status of GET path through HAProxy"""
    req = urllib.request.Request("https://127.0.0.1:%d%s" % (port, path))
    if token:
        req.add_header("Authorization", "Bearer " + token)
    try:
        with urllib.request.urlopen(req, context=ctx, timeout=10) as r:
            return r.status
    except urllib.error.HTTPError as e:
        return e.code


def server_status(stats):
    with urllib.request.urlopen("http://127.0.0.1:%d/;csv" % stats, timeout=5) as r:
        rows = csv.DictReader(io.StringIO(r.read().decode().lstrip("# ")))
        return {row["svname"]: row["status"] for row in rows if row["pxname"] == "kinerjad"}


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--kinerjad", required=True)
    ap.add_argument("--cfg", required=True)
    a = ap.parse_args()
    if not os.access(HAPROXY, os.X_OK):
        print("SKIP: haproxy is not installed (scripts/install-deps installs Debian's haproxy)")
        sys.exit(77)

    p = subprocess.run([HAPROXY, "-c", "-f", a.cfg], capture_output=True, text=True)
    expect(p.returncode == 0 and "valid" in p.stdout + p.stderr,
           "haproxy -c: %s is valid%s" % (os.path.basename(a.cfg),
                                          "" if p.returncode == 0 else ": " + p.stdout + p.stderr))

    tmp = tempfile.mkdtemp(prefix="kjhaproxy-")
    procs = []
    try:
        d1, d2 = os.path.join(tmp, "d1"), os.path.join(tmp, "d2")
        tokens = []
        for d in (d1, d2):
            out = subprocess.run([a.kinerjad, "--data", d, "init"], check=True, capture_output=True,
                                 text=True).stdout
            tokens.append(re.search(r"admin token: (\S+)", out).group(1))
        # one certificate for all instances, as the PCs pin one
        for f in ("cert.pem", "key.pem"):
            shutil.copy(os.path.join(d1, f), os.path.join(d2, f))
        logs = [open(os.path.join(tmp, "k%d.log" % i), "w+") for i in (1, 2)]
        k1, p1 = start_kinerjad(a.kinerjad, d1, logs[0])
        k2, p2 = start_kinerjad(a.kinerjad, d2, logs[1])
        procs += [k1, k2]
        front, stats = free_port(), free_port()
        cfg = os.path.join(tmp, "haproxy.cfg")
        with open(a.cfg) as f:
            text = local_cfg(f.read(), front, stats, [p1, p2])
        with open(cfg, "w") as f:
            f.write(text)
        h = subprocess.Popen([HAPROXY, "-db", "-f", cfg], stdout=subprocess.DEVNULL,
                             stderr=open(os.path.join(tmp, "haproxy.log"), "w"))
        procs.append(h)

        ctx = ssl.create_default_context(cafile=os.path.join(d1, "cert.pem"))
        deadline = time.time() + 10
        while time.time() < deadline:
            try:
                if set(server_status(stats).values()) == {"UP"}:
                    break
            except OSError:
                pass
            time.sleep(0.05)
        st = server_status(stats)
        expect(sorted(st) == ["BACKEND", "kinerjad1", "kinerjad2"] and
               all(v.startswith("UP") for v in st.values()),
               "both instances UP by their /healthz checks over TLS")
        codes = [get(ctx, front, "/v1/pull") for _ in range(8)]
        expect(codes == [401] * 8,
               "through HAProxy a PC pinning kinerjad's certificate is answered by kinerjad (401 "
               "without a token): TLS passed through")
        # each instance (its own SQLite here) knows only its own admin token:
        # 200 from instance 1, 401 from instance 2
        codes = [get(ctx, front, "/metrics", tokens[0]) for _ in range(8)]
        seen = (codes.count(200), codes.count(401))
        expect(seen[0] > 0 and seen[1] > 0 and sum(seen) == 8,
               "the requests were spread over both instances (%d + %d)" % seen)

        k2.kill()
        k2.wait()
        codes = [get(ctx, front, "/v1/pull") for _ in range(6)]
        expect(codes == [401] * 6, "with one instance killed every request is still answered")
        deadline = time.time() + 10
        while (time.time() < deadline and
               not server_status(stats).get("kinerjad2", "").startswith("DOWN")):
            time.sleep(0.05)
        st = server_status(stats)
        expect(st.get("kinerjad2", "").startswith("DOWN") and st.get("kinerjad1", "").startswith("UP"),
               "the health checks mark the killed instance DOWN (%s)" % st.get("kinerjad2"))
        expect(get(ctx, front, "/healthz") == 200, "/healthz through HAProxy")
    finally:
        for p in procs:
            p.kill()
            p.wait()
        shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    main()
