#!/usr/bin/env python3
"""kinerja benchmarks (issue "Benchmarks"), run by `make bench` (scripts/bench.sh).

  bench/bench.py BUILD_DIR

Runs every benchmark in one go against the programs in BUILD_DIR (a Release
build), prints a table and rewrites the block between `<!-- bench:begin -->`
and `<!-- bench:end -->` of docs/performance.md.  Every figure is measured
here; figures are medians of BENCH_RUNS runs (default 3).

Environment:
  BENCH_QUICK=1   smaller report benchmark (100k surveys instead of 1M) and
                  fewer devices (200): for development, never for the doc
  BENCH_N         records of the big push (default 100000)
  BENCH_RUNS      runs per figure (default 3, at least 3)
  BENCH_NO_DOC=1  print the table only, leave docs/performance.md alone
  BENCH_ONLY=links  only the rural-links benchmark (issue 21): a week of one
                  office's work through tests/tools/linkem (3G, VSAT, EDGE);
                  rewrites only its block (`bench-links`) of the doc
  BENCH_ONLY=web  only the web apps' render budget (bench/web_bench.py: each
                  page's first render in Debian's chromium, asset bytes,
                  1366x768 and 360 px); rewrites only its block (`bench-web`)
  BENCH_ONLY=push  only the big push (point 2) and raw durable SQLite, runs
                  interleaved; with BENCH_BEFORE=BUILD_DIR (another build's
                  kinerja and kinerjad, e.g. of the last release) its push is
                  run in turn with this one, same machine, same load; prints
                  medians, leaves the doc alone
  BENCH_ONLY=pg   only the PostgreSQL part (issue 19, bench/pg_bench.py: the
                  many-devices push on SQLite and on 1, 2 and 3 instances on
                  one PostgreSQL, the offices report over 10,000,000 surveys);
                  rewrites only its block (`bench-pg`); skipped, with a
                  message, when PostgreSQL is not installed.  Also part of
                  the full run, unless BENCH_PG=0 (its block is then left
                  as its own last run wrote it)

Everything binds 127.0.0.1 with port 0, lives in one temporary directory
(removed at the end) and every process started here is killed at exit.
"""
import datetime
import json
import os
import platform
import re
import resource
import select
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
QUICK = os.environ.get("BENCH_QUICK", "0") not in ("", "0")
N = int(os.environ.get("BENCH_N", "100000"))
RUNS = max(3, int(os.environ.get("BENCH_RUNS", "3")))
ONLY = os.environ.get("BENCH_ONLY", "")
# The survey ids of the pushes: "v7", time-ordered as kinerja makes them
# (the default), or "v4", random ids made elsewhere (the id indexes' worst case).
IDS = os.environ.get("BENCH_IDS", "v7")
DEVICES = 200 if QUICK else 1000
DEVICE_RECORDS = 100
SCORE_SURVEYS, SCORE_ACTIVITIES = (100000, 20000) if QUICK else (1000000, 200000)

PROCS = []  # every child still to be reaped at exit
LAST = {"cpu": 0.0}  # CPU seconds (user + system) of the last child run()
TMP = None


def log(msg):
    print("bench: " + msg, file=sys.stderr, flush=True)


def cleanup():
    for p in PROCS:
        if p.poll() is None:
            try:
                p.kill()
            except OSError:
                pass
            try:
                p.wait(timeout=10)
            except Exception:
                pass
    PROCS.clear()
    if TMP and os.environ.get("BENCH_KEEP", "0") == "0":
        shutil.rmtree(TMP, ignore_errors=True)


def on_signal(signum, frame):
    raise SystemExit(128 + signum)


# --- processes -----------------------------------------------------------------

class Bin:
    def __init__(self, build):
        self.kinerja = os.path.join(build, "client", "kinerja")
        self.kinerjad = os.path.join(build, "server", "kinerjad")
        self.raw_sqlite = os.path.join(build, "bench", "raw_sqlite")
        self.score_bench = os.path.join(build, "bench", "score_bench")
        self.healthz_probe = os.path.join(build, "bench", "healthz_probe")
        self.many_devices = os.path.join(build, "bench", "many_devices")
        self.linkem = os.path.join(build, "tests", "tools", "linkem")
        for p in vars(self).values():
            if not os.access(p, os.X_OK):
                sys.exit("bench: %s is missing: build the tree first (make bench does)" % p)


def run(cmd, env=None, check=True):
    """Run cmd to completion: (stdout text, wall s, peak RSS KiB of this child)."""
    with tempfile.TemporaryFile("w+") as out, tempfile.TemporaryFile("w+") as err:
        t0 = time.monotonic()
        p = subprocess.Popen(cmd, stdout=out, stderr=err, env=env)
        PROCS.append(p)
        _, status, ru = os.wait4(p.pid, 0)
        wall = time.monotonic() - t0
        p.returncode = os.waitstatus_to_exitcode(status)
        LAST["cpu"] = ru.ru_utime + ru.ru_stime
        PROCS.remove(p)
        out.seek(0)
        err.seek(0)
        text, etext = out.read(), err.read()
    if check and p.returncode != 0:
        raise RuntimeError("%s exited %d: %s%s" % (" ".join(cmd), p.returncode, text[-2000:], etext[-2000:]))
    return text, wall, ru.ru_maxrss


def clk_tck():
    return os.sysconf("SC_CLK_TCK")


class Server:
    """A kinerjad data directory and, when started, its serve process."""

    def __init__(self, b, datadir):
        self.b, self.dir, self.proc, self.url = b, datadir, None, None
        self.env = dict(os.environ, KINERJAD_DATA=datadir)
        self.env.pop("KJ_LOG", None)

    def cmd(self, *args):
        return run([self.b.kinerjad] + list(args), env=self.env)[0]

    def init(self, offices_csv):
        self.cmd("init")
        self.cmd("import", "office", offices_csv)
        return self

    def device_add(self, office):
        out = self.cmd("device", "add", "--office", office)
        m = re.search(r"^device token: (\S+)", out, re.M)
        return m.group(1)

    @property
    def ca(self):
        return os.path.join(self.dir, "cert.pem")

    def start(self):
        self.out = os.path.join(self.dir, "serve.out")
        self.proc = subprocess.Popen([self.b.kinerjad, "serve", "--listen", "127.0.0.1:0"],
                                     stdout=open(self.out, "w"),
                                     stderr=open(os.path.join(self.dir, "serve.log"), "w"),
                                     env=self.env)
        PROCS.append(self.proc)
        for _ in range(300):
            with open(self.out) as f:
                m = re.search(r"listening on (https://\S+)", f.read())
            if m:
                self.url = m.group(1)
                return self
            if self.proc.poll() is not None:
                break
            time.sleep(0.05)
        raise RuntimeError("kinerjad serve did not start")

    def usage(self):
        """Peak RSS (MiB) and CPU seconds (user+system) of the running server."""
        pid = self.proc.pid
        with open("/proc/%d/status" % pid) as f:
            hwm = int(re.search(r"^VmHWM:\s+(\d+) kB", f.read(), re.M).group(1))
        with open("/proc/%d/stat" % pid) as f:
            fields = f.read().rsplit(")", 1)[1].split()
        cpu = (int(fields[11]) + int(fields[12])) / clk_tck()  # utime, stime
        return hwm / 1024.0, cpu

    def kernel(self):
        """System CPU seconds and minor page faults of the running server so
        far (docs/performance.md "Push throughput": the kernel's share)."""
        with open("/proc/%d/stat" % self.proc.pid) as f:
            fields = f.read().rsplit(")", 1)[1].split()
        return int(fields[12]) / clk_tck(), int(fields[7])  # stime, minflt

    def stop(self):
        if self.proc and self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(timeout=60)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        if self.proc in PROCS:
            PROCS.remove(self.proc)
        self.proc = None


class Client:
    def __init__(self, b, db):
        self.b, self.db = b, db
        self.env = dict(os.environ)
        self.env.pop("KJ_LOG", None)

    def cmd(self, *args):
        return run([self.b.kinerja, "--db", self.db] + list(args), env=self.env)

    def init(self, office, url, token, ca):
        self.cmd("init", "--office", office, "--server", url, "--token", token, "--ca", ca)
        return self

    def sync(self):
        out, wall, rss = self.cmd("sync", "--json")
        return json.loads(out), wall, rss


# --- a TCP proxy that counts TLS records -----------------------------------------

# AEAD overhead per TLS 1.2 record besides the 5-byte header: explicit nonce + tag
CIPHER_OVERHEAD = {0xCCA8: 16, 0xCCA9: 16, 0xCCAA: 16,  # ChaCha20-Poly1305: tag only
                   0xC02B: 24, 0xC02C: 24, 0xC02F: 24, 0xC030: 24, 0x009C: 24, 0x009D: 24,
                   0xC0AC: 24, 0xC0AD: 24, 0xC0AE: 16, 0xC0AF: 16}


class Conn:
    def __init__(self):
        self.app = [0, 0]       # application-data record payload bytes, c->s and s->c
        self.records = [0, 0]   # application-data records
        self.other = [0, 0]     # handshake, change-cipher-spec, alert records (with headers)
        self.cipher = None
        self.first_c2s = None   # time of the first application-data record from the client
        self.last_s2c = None    # time of the last application-data record from the server

    def http_bytes(self, d):
        """Plaintext (HTTP) bytes in direction d: payload less the AEAD overhead."""
        ov = CIPHER_OVERHEAD.get(self.cipher)
        if ov is None:
            return None
        return self.app[d] - ov * self.records[d]


class CountingProxy:
    """127.0.0.1:PORT -> the server, parsing the TLS record layer of both
    directions: application-data bytes are what HTTP costs on the wire,
    handshake records (content types 20-22) are left out."""

    def __init__(self, target_port):
        self.target = target_port
        self.sock = socket.socket()
        self.sock.bind(("127.0.0.1", 0))
        self.sock.listen(2048)
        self.port = self.sock.getsockname()[1]
        self.conns = []
        self.lock = threading.Lock()
        self.stopping = False
        threading.Thread(target=self.accept, daemon=True).start()

    def url(self):
        return "https://127.0.0.1:%d" % self.port

    def take(self):
        with self.lock:
            c, self.conns = self.conns, []
        return c

    def close(self):
        self.stopping = True
        self.sock.close()

    def accept(self):
        while not self.stopping:
            try:
                a, _ = self.sock.accept()
            except OSError:
                return
            b = socket.create_connection(("127.0.0.1", self.target))
            for s in (a, b):
                s.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
            c = Conn()
            with self.lock:
                self.conns.append(c)
            threading.Thread(target=self.pump, args=(a, b, c, 0), daemon=True).start()
            threading.Thread(target=self.pump, args=(b, a, c, 1), daemon=True).start()

    def pump(self, src, dst, c, d):
        buf = b""
        try:
            while True:
                data = src.recv(65536)
                if not data:
                    break
                dst.sendall(data)
                now = time.monotonic()
                buf += data
                while len(buf) >= 5:
                    ctype, ln = buf[0], int.from_bytes(buf[3:5], "big")
                    if len(buf) < 5 + ln:
                        break
                    body, buf = buf[5:5 + ln], buf[5 + ln:]
                    if ctype == 23:
                        c.app[d] += ln
                        c.records[d] += 1
                        if d == 0 and c.first_c2s is None:
                            c.first_c2s = now
                        if d == 1:
                            c.last_s2c = now
                    else:
                        c.other[d] += 5 + ln
                        if ctype == 22 and d == 1 and c.cipher is None and body[:1] == b"\x02":
                            sid = body[38]  # type 1, length 3, version 2, random 32
                            c.cipher = int.from_bytes(body[39 + sid:41 + sid], "big")
        except OSError:
            pass
        finally:
            for s in (dst, src):
                try:
                    s.shutdown(socket.SHUT_RDWR)
                except OSError:
                    pass
            if d == 1:
                time.sleep(0.05)
                src.close()
                dst.close()


def wire(conns):
    """HTTP bytes (sent, received), TLS application records, and the ms from
    the client's first request byte to the server's last answer byte."""
    sent = recv = 0
    span = 0.0
    for c in conns:
        s, r = c.http_bytes(0), c.http_bytes(1)
        if c.cipher is not None and c.cipher not in CIPHER_SEEN:
            CIPHER_SEEN.append(c.cipher)
        if s is None:
            raise RuntimeError("unknown TLS cipher suite 0x%04x" % (c.cipher or 0))
        sent += s
        recv += r
        if c.first_c2s is not None and c.last_s2c is not None:
            span += (c.last_s2c - c.first_c2s) * 1e3
    return sent, recv, span


# --- data ------------------------------------------------------------------------

def gen_surveys(path, rows, office, seed):
    subprocess.run([sys.executable, os.path.join(ROOT, "scripts", "gen-data.py"), "surveys", path,
                    "--rows", str(rows), "--office", office, "--seed", str(seed), "--ids", IDS], check=True)
    return path


def offices_csv(path, n):
    with open(path, "w") as f:
        f.write("code,name,region,population\n")
        for i in range(n):
            f.write("71.%02d.%02d,Kantor %d,Kabupaten Bench,%d\n" % (i // 100, i % 100, i, 1000 + i))
    return path


def office_code(i):
    return "71.%02d.%02d" % (i // 100, i % 100)


# --- benchmarks --------------------------------------------------------------------

def threads_sched(pid):
    """The server's threads so far (/proc/PID/task/*/schedstat): seconds on
    a core in all, seconds waiting for one, and the two busiest threads'
    seconds on a core (the push's handlers and the one reading ahead)."""
    runs, wait = [], 0.0
    for t in os.listdir("/proc/%d/task" % pid):
        try:
            with open("/proc/%d/task/%s/schedstat" % (pid, t)) as f:
                r, w, _ = f.read().split()
        except OSError:
            continue
        runs.append(int(r) / 1e9)
        wait += int(w) / 1e9
    runs.sort(reverse=True)
    return {"on_cpu": sum(runs), "runq": wait, "top2": runs[:2]}


def bench_push(b, tmp, csv, run_no, proxy=False):
    """Point 2 (and 3, 7, healthz): N surveys from one outbox, end to end."""
    d = os.path.join(tmp, "push%d" % run_no)
    os.makedirs(d)
    srv = Server(b, os.path.join(d, "srv")).init(offices_csv(os.path.join(d, "o.csv"), 2))
    tok = srv.device_add(office_code(0))
    srv.start()
    px = CountingProxy(int(srv.url.rsplit(":", 1)[1])) if proxy else None
    cl = Client(b, os.path.join(d, "c.db")).init(office_code(0), px.url() if px else srv.url, tok, srv.ca)
    _, imp_wall, imp_rss = cl.cmd("import", "survey", csv)
    stop = os.path.join(d, "stop")
    probe = None
    if not proxy:
        probe_out = open(os.path.join(d, "probe.out"), "w")
        probe = subprocess.Popen([b.healthz_probe, srv.url, srv.ca, stop], stdout=probe_out)
        PROCS.append(probe)
        time.sleep(0.3)
    res, wall, rss = cl.sync()
    client_cpu = LAST["cpu"]
    hz = None
    if probe:
        open(stop, "w").close()
        probe.wait(timeout=30)
        PROCS.remove(probe)
        probe_out.close()
        with open(os.path.join(d, "probe.out")) as f:
            t = f.read().split()
        hz = {t[i]: float(t[i + 1]) for i in range(0, len(t) - 1, 2)}
        if probe.returncode != 0 or hz.get("errors", 1) != 0:
            raise RuntimeError("healthz probe failed: %s" % t)
    srv_rss, srv_cpu = srv.usage()
    srv_sys, srv_minflt = srv.kernel()
    sched = threads_sched(srv.proc.pid)
    srv.stop()
    handler_ms = 0.0  # the server's own time per push, from its request log
    with open(os.path.join(srv.dir, "serve.log")) as f:
        for line in f:
            m = re.search(r" POST /v1/push 200 \d+ ([\d.]+)ms", line)
            if m:
                handler_ms += float(m.group(1))
    if res["state"] != "ok" or res["pushed"] != N or res.get("pending") != 0:
        raise RuntimeError("push run %d: %s" % (run_no, res))
    out = {"wall": wall, "rate": N / wall, "sync_rss": rss / 1024.0, "import_rss": imp_rss / 1024.0,
           "import_wall": imp_wall, "requests": res["requests"], "client_sent": res["bytes_sent"],
           "client_recv": res["bytes_received"], "healthz": hz, "srv_rss": srv_rss, "srv_cpu": srv_cpu,
           "client_cpu": client_cpu, "handler_s": handler_ms / 1e3, "srv_sys": srv_sys,
           "srv_minflt": srv_minflt, "sched": sched}
    if px:
        time.sleep(0.2)
        out["wire"] = wire(px.take())
        px.close()
    shutil.rmtree(d, ignore_errors=True)
    return out


def bench_raw(b, tmp, mode):
    db = os.path.join(tmp, "raw.db")
    vals = []
    for _ in range(RUNS):
        out = run([b.raw_sqlite, db, str(N), mode])[0]
        vals.append(float(out.split()[1]))
        for suf in ("", "-wal", "-shm"):
            if os.path.exists(db + suf):
                os.remove(db + suf)
    return vals


def bench_small(b, tmp):
    """Point 4: a sync of 100 new records, and a sync with nothing to do.
    Two devices of two offices: one talks to the server directly (wall
    times), one through the counting proxy (bytes, time after the handshake)."""
    d = os.path.join(tmp, "small")
    os.makedirs(d)
    srv = Server(b, os.path.join(d, "srv")).init(offices_csv(os.path.join(d, "o.csv"), 2))
    toks = [srv.device_add(office_code(i)) for i in range(2)]
    srv.start()
    px = CountingProxy(int(srv.url.rsplit(":", 1)[1]))
    direct = Client(b, os.path.join(d, "a.db")).init(office_code(0), srv.url, toks[0], srv.ca)
    proxied = Client(b, os.path.join(d, "b.db")).init(office_code(1), px.url(), toks[1], srv.ca)
    for c in (direct, proxied):  # hello and the first pull (master data), not timed
        c.sync()
        c.sync()
    px.take()
    r = {"hundred": [], "noop": []}
    for k in range(RUNS):
        one = {}
        for name, c, off in (("direct", direct, 0), ("proxied", proxied, 1)):
            f = gen_surveys(os.path.join(d, "s%d%s.csv" % (k, name)), 100, office_code(off), 1000 + 2 * k + off)
            c.cmd("import", "survey", f)
            res, wall, _ = c.sync()
            if res["pushed"] != 100:
                raise RuntimeError("small sync: %s" % res)
            one[name] = (res, wall)
        time.sleep(0.1)
        s, rv, span = wire(px.take())
        r["hundred"].append({"wall_ms": one["direct"][1] * 1e3, "requests": one["proxied"][0]["requests"],
                             "sent": s, "recv": rv, "span_ms": span,
                             "client_sent": one["proxied"][0]["bytes_sent"],
                             "client_recv": one["proxied"][0]["bytes_received"]})
    for c in (direct, proxied):  # the scores of the last push come back once more
        c.sync()
    px.take()
    for k in range(max(RUNS, 5)):
        res_d, wall, noop_rss = direct.sync()
        res_p, _, _ = proxied.sync()
        time.sleep(0.1)
        conns = px.take()
        s, rv, span = wire(conns)
        r["noop"].append({"wall_ms": wall * 1e3, "requests": res_p["requests"], "requests_direct": res_d["requests"], "rss": noop_rss / 1024.0,
                          "sent": s, "recv": rv, "span_ms": span, "conns": len(conns),
                          "client_sent": res_p["bytes_sent"], "client_recv": res_p["bytes_received"],
                          "pulled": res_p["pulled"]})
    srv.stop()
    px.close()
    shutil.rmtree(d, ignore_errors=True)
    return r


def bench_devices(b, tmp):
    """Point 5: DEVICES devices at once, each its own TLS connection, each
    pushing DEVICE_RECORDS records."""
    tpl = os.path.join(tmp, "devtpl")
    srv = Server(b, tpl).init(offices_csv(os.path.join(tmp, "offices-many.csv"), DEVICES))
    t0 = time.monotonic()
    lines = ["%s %s\n" % (srv.device_add(office_code(i)), office_code(i)) for i in range(DEVICES)]
    log("%d devices enrolled in %.1f s" % (DEVICES, time.monotonic() - t0))
    devfile = os.path.join(tmp, "devices.txt")
    with open(devfile, "w") as f:
        f.writelines(lines)
    out = []
    for k in range(RUNS):
        d = os.path.join(tmp, "dev%d" % k)
        shutil.copytree(tpl, d)
        s = Server(b, d).start()
        text = run([b.many_devices, s.url, s.ca, devfile, str(DEVICE_RECORDS)], check=False)[0]
        driver_cpu = LAST["cpu"]
        rss, cpu = s.usage()
        s.stop()
        t = text.split()
        r = {t[i]: float(t[i + 1]) for i in range(0, len(t) - 1, 2)}
        r["srv_rss"], r["srv_cpu"], r["driver_cpu"] = rss, cpu, driver_cpu
        out.append(r)
        shutil.rmtree(d, ignore_errors=True)
        log("devices run %d: %s" % (k + 1, text.strip()))
    return out


def bench_scores(b, tmp):
    d = os.path.join(tmp, "scores")
    text, wall, rss = run([b.score_bench, d, str(SCORE_SURVEYS), str(SCORE_ACTIVITIES)])
    shutil.rmtree(d, ignore_errors=True)
    r = {"text": text, "rss": rss / 1024.0}
    m = re.search(r"offices report \d{4}\s+median of 5: ([\d.]+) ms \((\d+) bytes\)", text)
    r["year_ms"], r["year_bytes"] = float(m.group(1)), int(m.group(2))
    m = re.search(r"offices report \d{4}-08\s+median of 5: ([\d.]+) ms", text)
    r["month_ms"] = float(m.group(1))
    m = re.search(r"recompute \(rebuild aggregates\): ([\d.]+) s", text)
    r["recompute_s"] = float(m.group(1))
    m = re.search(r"push of 1,000 records median of 5: ([\d.]+) ms, of which scores upkeep ([\d.]+) ms", text)
    r["push1k_ms"], r["upkeep_ms"] = float(m.group(1)), float(m.group(2))
    return r


# --- rural links (issue 21): a week of one office's work through tests/tools/linkem ---

# name, linkem profile, kbit/s, one-way delay ms, linkem options of the timed run
LINKS = [("3G", "3g", 384, 150, []),
         ("VSAT", "vsat", 1000, 350, []),
         # the profile's drop every 60 s, the first one in the middle of the push
         ("EDGE", "edge", 64, 300, ["--drop-first", "8000", "--down", "1000"])]
WEEK_SURVEYS, WEEK_ACTIVITIES, WEEK_EDITS_ACT, WEEK_EDITS_SURV, WEEK_DELETES = 1200, 800, 150, 50, 10
WEEK_OFFICE = "36.73.01"
SERVICES = ["KTP-el", "Kartu Keluarga", "Akta Kelahiran", "Surat Pindah", "Izin Usaha Mikro"]


class Linkem:
    """tests/tools/linkem on a fixed port (the client's server URL stays the
    same from run to run, so no run says hello again)."""

    def __init__(self, b, port, to, args):
        self.p = subprocess.Popen([b.linkem, "--port", str(port), "--to", str(to)] + args,
                                  stdout=subprocess.PIPE, text=True)
        PROCS.append(self.p)
        line = self.p.stdout.readline()
        if not line.startswith("listening on"):
            raise RuntimeError("linkem did not start: %r" % line)

    def stop(self):
        """Stops it: {c2s, s2c, conns, cuts, lost} (TCP payload bytes, TLS included)."""
        self.p.send_signal(signal.SIGTERM)
        out = self.p.communicate(timeout=10)[0]
        PROCS.remove(self.p)
        t = out.split()
        return {t[i]: int(t[i + 1]) for i in range(1, len(t) - 1, 2)}


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def week_csvs(d, employees, head):
    """A week of one office: WEEK_SURVEYS surveys and WEEK_ACTIVITIES
    activities (new records, empty ids: the client gives them UUIDv7 ids),
    dated in the seven days before today."""
    import csv as csvmod
    import random
    rng = random.Random(21)
    today = datetime.date.today()
    days = [(today - datetime.timedelta(days=k)).isoformat() for k in range(7)]
    sp, ap = os.path.join(d, "week-surveys.csv"), os.path.join(d, "week-activities.csv")
    with open(sp, "w", newline="") as f:
        w = csvmod.writer(f, lineterminator="\n")
        w.writerow("id,office,date,service,u1,u2,u3,u4,u5,u6,u7,u8,u9,age,sex,education,occupation,comment"
                   .split(","))
        for _ in range(WEEK_SURVEYS):
            mood = rng.uniform(2.4, 3.8)
            w.writerow(["", WEEK_OFFICE, rng.choice(days), rng.choice(SERVICES)] +
                       [max(1, min(4, round(rng.gauss(mood, 0.6)))) for _ in range(9)] +
                       [rng.randrange(17, 80), rng.choice("LP"), rng.choice(["SMA", "D4-S1", "SMP"]),
                        rng.choice(["Wiraswasta", "Petani", "Pelajar", ""]), ""])
    with open(ap, "w", newline="") as f:
        w = csvmod.writer(f, lineterminator="\n")
        w.writerow("id,office,nip,date,indicator,quantity,minutes,description,evidence,status,reviewed_by"
                   .split(","))
        for k in range(WEEK_ACTIVITIES):
            # a new activity is submitted (domain.md "Who may write what": its
            # approver decides later, signed in as that person)
            w.writerow(["", WEEK_OFFICE, rng.choice(employees), rng.choice(days),
                        rng.choice(["DOC", "LYN", "RPT", "SOS"]), rng.randrange(1, 6), rng.randrange(60, 480),
                        "Kegiatan harian", "", "submitted", ""])
    return sp, ap


def week_edits(cl, d, head):
    """The week's edits and deletes, as an office does them: WEEK_EDITS_ACT
    submitted activities get their description corrected and WEEK_EDITS_SURV
    surveys a comment (a re-import of exported rows), WEEK_DELETES activities
    are deleted one by one.  (Approvals need the approver signed in with a
    PIN, `--as`, since the rules of 2026-11-30: the edits stand in for them,
    the same number of changes of the same size.)"""
    import csv as csvmod
    import io
    for typ, n in (("activity", WEEK_EDITS_ACT), ("survey", WEEK_EDITS_SURV)):
        rows = list(csvmod.DictReader(io.StringIO(cl.cmd("export", typ)[0])))
        cols = list(rows[0].keys())
        if typ == "activity":
            pick = [r for r in rows if r["status"] == "submitted"][:n]
            for r in pick:
                r["description"] = "Kegiatan harian (dikoreksi)"
        else:
            pick = rows[:n]
            for r in pick:
                r["comment"] = "Petugas ramah, antrean cepat"
        path = os.path.join(d, "edit-%s.csv" % typ)
        with open(path, "w", newline="") as f:
            w = csvmod.DictWriter(f, cols, lineterminator="\n")
            w.writeheader()
            w.writerows(pick)
        cl.cmd("import", typ, path)
    rows = list(csvmod.DictReader(io.StringIO(cl.cmd("export", "activity")[0])))
    for r in rows[-WEEK_DELETES:]:
        cl.cmd("delete", r["id"])


def links_template(b, tmp, port):
    """The server (master data of 6 offices, one device) and the office PC
    after its first sync (hello, master data), with the week's work in its
    outbox; every run starts from a copy of both."""
    d = os.path.join(tmp, "links-tpl")
    os.makedirs(d)
    subprocess.run([sys.executable, os.path.join(ROOT, "scripts", "gen-data.py"), "master", d,
                    "--offices", "6", "--employees-per-office", "10"], check=True)
    srv = Server(b, os.path.join(d, "srv"))
    srv.cmd("init")
    for typ, f in (("office", "offices.csv"), ("employee", "employees.csv"), ("indicator", "indicators.csv")):
        srv.cmd("import", typ, os.path.join(d, f))
    tok = srv.device_add(WEEK_OFFICE)
    srv.start()
    lk = Linkem(b, port, int(srv.url.rsplit(":", 1)[1]), [])
    cl = Client(b, os.path.join(d, "c.db")).init(WEEK_OFFICE, "https://127.0.0.1:%d" % port, tok, srv.ca)
    res = cl.sync()[0]
    lk.stop()
    srv.stop()
    import csv as csvmod
    with open(os.path.join(d, "employees.csv")) as f:
        emps = [r["nip"] for r in csvmod.DictReader(f) if r["office"] == WEEK_OFFICE]
    sp, ap = week_csvs(d, emps, emps[0])
    cl.cmd("import", "survey", sp)
    cl.cmd("import", "activity", ap)
    week_edits(cl, d, emps[0])
    st = json.loads(cl.cmd("status", "--json")[0])
    log("links: template ready (first sync pulled %d; outbox %s)" % (res["pulled"], st.get("pending", "?")))
    return d


def link_run(b, tmp, tpl, port, name, args, k, sync_args=(), stop_and_wait=False, rate=None):
    """One timed sync of the week through linkem: kinerja sync from its start
    to its exit, run again (after 1 s, the first backoff of --watch) while it
    exits 2 (a drop).  stop_and_wait: the PC is told the server takes no
    pipelined pushes (meta server_pipeline 0, what an older server's hello
    leaves): one push at a time.  rate: the link's rate its last sync
    measured (meta link_rate, B/s: a PC that synced over this link before);
    None: not known (its last sync was the template's, which pushed
    nothing).  The result's link_rate is what this sync measured."""
    import sqlite3
    d = os.path.join(tmp, "link-%s-%d" % (name, k))
    shutil.copytree(tpl, d)
    if stop_and_wait or rate:
        con = sqlite3.connect(os.path.join(d, "c.db"))
        with con:
            if stop_and_wait:
                con.execute("UPDATE meta SET value = '0' WHERE key = 'server_pipeline'")
            if rate:  # measured now against this server URL: used (older or another URL: slow start)
                url = con.execute("SELECT value FROM meta WHERE key = 'server'").fetchone()[0]
                for key, v in (("link_rate", str(int(rate))), ("link_rate_ms", str(int(time.time() * 1000))),
                               ("link_rate_server", url)):
                    con.execute("INSERT OR REPLACE INTO meta(key, value) VALUES (?, ?)", (key, v))
        con.close()
    srv = Server(b, os.path.join(d, "srv")).start()
    lk = Linkem(b, port, int(srv.url.rsplit(":", 1)[1]), args + ["--seed", str(k + 1)])
    cl = Client(b, os.path.join(d, "c.db"))
    t0 = time.monotonic()
    attempts, res, sent, recv, reqs, pushed = 0, None, 0, 0, 0, 0
    while True:
        attempts += 1
        out, _, _ = run([b.kinerja, "--db", cl.db, "sync", "--json"] + list(sync_args), env=cl.env,
                        check=False)
        res = json.loads(out) if out.strip().startswith("{") else {}
        sent += res.get("bytes_sent", 0)
        recv += res.get("bytes_received", 0)
        reqs += res.get("requests", 0)
        pushed += res.get("pushed", 0)
        if res.get("state") == "ok" or attempts >= 6:
            break
        time.sleep(1.0)
    wall = time.monotonic() - t0
    st = lk.stop()
    srv.stop()
    if res.get("state") != "ok" or res.get("pending") != 0:
        raise RuntimeError("link %s run %d: %s" % (name, k, res))
    con = sqlite3.connect(os.path.join(d, "c.db"))
    row = con.execute("SELECT value FROM meta WHERE key = 'link_rate'").fetchone()
    con.close()
    answers = []  # (method path, status, body bytes as sent) from the server's log
    with open(os.path.join(srv.dir, "serve.log")) as f:
        for line in f:
            m = re.search(r" (GET|POST) (/v1/\S+) (\d+) (\d+) ([\d.]+)ms", line)
            if m:
                answers.append((m.group(1) + " " + m.group(2), int(m.group(3)), int(m.group(4)),
                                float(m.group(5))))
    shutil.rmtree(d, ignore_errors=True)
    return {"wall": wall, "attempts": attempts, "http_sent": sent, "http_recv": recv, "requests": reqs,
            "pushed": pushed, "pulled": res.get("pulled", 0),
            # bytes that went on the wire (a drop throws away what had not gone yet)
            "c2s": st["c2s"] - st["unsent_c2s"], "s2c": st["s2c"] - st["unsent_s2c"],
            "conns": st["conns"], "cuts": st["cuts"], "answers": answers,
            "link_rate": float(row[0]) if row and row[0] else 0.0}


def bench_links(b, tmp):
    port = free_port()
    tpl = links_template(b, tmp, port)
    R = {"loopback": [], "profiles": {}}
    for k in range(RUNS):  # the same sync without a link: what the two programs cost
        R["loopback"].append(link_run(b, tmp, tpl, port, "loopback", [], k))
    log("links: loopback %s s" % [round(x["wall"], 2) for x in R["loopback"]])
    R["warm"], R["cold"] = {}, []
    for name, prof, kbit, delay, extra in LINKS:
        # an untimed sync of the same week over the link first: the timed
        # runs are a PC that synced over this link before (its meta
        # link_rate: batch sizes and compression level from the start)
        w = link_run(b, tmp, tpl, port, name + "-warm", ["--profile", prof] + extra, 0)
        R["warm"][name] = w["link_rate"]
        log("links: %s warm-up %.2f s, rate measured %.0f B/s" % (name, w["wall"], w["link_rate"]))
        rs = []
        for k in range(RUNS):
            r = link_run(b, tmp, tpl, port, name, ["--profile", prof] + extra, k, rate=w["link_rate"])
            rs.append(r)
            log("links: %s run %d: %.2f s, %d requests, wire %d/%d B, answers %s" % (
                name, k + 1, r["wall"], r["requests"], r["c2s"], r["s2c"], [a[2] for a in r["answers"]]))
        R["profiles"][name] = rs
    # EDGE with a drop on a PC whose last sync measured no rate (the
    # template's): a slow start (batches of 125, each next at most twice
    # the largest answered; level 19 over a long handshake, sized to the
    # link from its first answer on, docs/protocol.md "Pipelined push")
    for name, prof, kbit, delay, extra in LINKS:
        if extra:
            R["cold"] = [link_run(b, tmp, tpl, port, name + "-cold", ["--profile", prof] + extra, k)
                         for k in range(RUNS)]
            log("links: %s, no rate known: %s s" % (name, [round(r["wall"], 2) for r in R["cold"]]))
            # the same without the drop: the bytes of a first sync's batches
            R["cold_nodrop"] = link_run(b, tmp, tpl, port, name + "-coldnodrop",
                                        ["--profile", prof, "--drop-first", "600000"], 0)
            log("links: %s, no rate known, without the drop: %.2f s, wire %d/%d B" % (
                name, R["cold_nodrop"]["wall"], R["cold_nodrop"]["c2s"], R["cold_nodrop"]["s2c"]))
            # the same work without the drop (its first drop after the
            # sync): the bytes this link's batches and level take
            R["nodrop"] = link_run(b, tmp, tpl, port, name + "-nodrop",
                                   ["--profile", prof, "--drop-first", "600000"], 0, rate=R["warm"][name])
            log("links: %s without the drop: %.2f s, wire %d/%d B" % (
                name, R["nodrop"]["wall"], R["nodrop"]["c2s"], R["nodrop"]["s2c"]))
    # The same sync stop-and-wait (one push at a time, as with a server that
    # takes no pipelined pushes): what the pipelined push saves
    R["one_batch"] = {}
    for name, prof, kbit, delay, extra in LINKS:
        if extra:
            continue
        # with the link's rate known, as the pipelined runs (no slow start)
        R["one_batch"][name] = [link_run(b, tmp, tpl, port, name + "-saw", ["--profile", prof], k,
                                         stop_and_wait=True, rate=R["warm"][name]) for k in range(RUNS)]
        log("links: %s stop-and-wait: %s s" % (name, [round(r["wall"], 2) for r in R["one_batch"][name]]))
    # The floor counts the bytes of the work, not the ones a drop made the
    # client send again: the fewest any link's sync without a drop put on
    # the wire (each link's batches and compression level are its own: the
    # links without drops, the median of their runs, and EDGE's run without
    # its drop), the same for every link.
    works = [(med([r["c2s"] for r in R["profiles"][name]]), med([r["s2c"] for r in R["profiles"][name]]))
             for name, _, _, _, extra in LINKS if not extra] + [(R["nodrop"]["c2s"], R["nodrop"]["s2c"])]
    R["work_c2s"], R["work_s2c"] = min(works, key=lambda w: w[0] + w[1])
    for name, prof, kbit, delay, extra in LINKS:
        down = float(extra[extra.index("--down") + 1]) / 1e3 if "--down" in extra else 0.0
        for r in R["profiles"][name] + (R["cold"] if extra else []):
            r["floor"] = (R["work_c2s"] + R["work_s2c"]) * 8 / (kbit * 1000.0) + 4 * 2 * delay / 1e3
            # sent again: the client's bytes less those of the same sync
            # without the drop (the same batches and level)
            r["resent"] = r["c2s"] - (R["nodrop"]["c2s"] if extra else R["work_c2s"])
            # what the link itself imposes on top at each drop, which no
            # protocol avoids: the time it is down, then the reconnect's TCP
            # connect and resumed TLS handshake (2 round trips)
            r["floor_link"] = r["floor"] + r["cuts"] * (down + 2 * 2 * delay / 1e3)
        for r in R["cold"] if extra else []:  # against a first sync without the drop
            r["resent"] = r["c2s"] - R["cold_nodrop"]["c2s"]
        for r in R["one_batch"].get(name, []):
            r["floor"] = (R["work_c2s"] + R["work_s2c"]) * 8 / (kbit * 1000.0) + 4 * 2 * delay / 1e3
    R["records"] = WEEK_SURVEYS + WEEK_ACTIVITIES
    R["changes"] = WEEK_SURVEYS + WEEK_ACTIVITIES + WEEK_EDITS_ACT + WEEK_EDITS_SURV + WEEK_DELETES
    shutil.rmtree(tpl, ignore_errors=True)
    return R


# --- the report -------------------------------------------------------------------

def sh(cmd):
    try:
        return subprocess.run(cmd, capture_output=True, text=True, check=True).stdout.strip()
    except Exception:
        return "?"


def versions():
    v = {}
    v["gcc"] = sh(["gcc", "-dumpfullversion"])
    v["SQLite"] = sh(["pkg-config", "--modversion", "sqlite3"])
    v["libcurl"] = sh(["pkg-config", "--modversion", "libcurl"])
    v["libuv"] = sh(["pkg-config", "--modversion", "libuv"])
    m = "?"
    for h in ("/usr/include/mbedtls/build_info.h", "/usr/include/mbedtls/version.h"):
        if os.path.exists(h):
            mm = re.search(r'MBEDTLS_VERSION_STRING\s+"([^"]+)"', open(h).read())
            if mm:
                m = mm.group(1)
                break
    v["mbedTLS"] = m
    v["kinerja"] = sh(["git", "-C", ROOT, "describe", "--always", "--dirty", "--abbrev=10"])
    return v


def machine():
    model = "?"
    with open("/proc/cpuinfo") as f:
        for line in f:
            if line.startswith("model name"):
                model = line.split(":", 1)[1].strip()
                break
    mem = "?"
    with open("/proc/meminfo") as f:
        m = re.search(r"MemTotal:\s+(\d+) kB", f.read())
        if m:
            mem = "%.1f GiB RAM" % (int(m.group(1)) / 1048576)
    fs = sh(["df", "--output=fstype", TMP]).split()[-1]
    return "%d cores, %s, %s, %s %s; temporary files on %s" % (
        os.cpu_count(), model, mem, platform.system(), platform.release(), fs)


def med(vals):
    return statistics.median(vals)


def fmt(x, nd=0):
    if x is None:
        return "n/a"
    return "{:,.{}f}".format(x, nd)


def runs(vals, nd=0):
    return " / ".join(fmt(v, nd) for v in vals)


def verdict(ok):
    return "met" if ok else "**missed**"


def table(R):
    push, raw, rawf, small, dev, sc = R["push"], R["raw"], R["raw_fast"], R["small"], R["devices"], R["scores"]
    rows = []

    def row(what, value, per_run, target, ok):
        rows.append((what, value, per_run, target, "" if ok is None else verdict(ok)))

    rate = [p["rate"] for p in push]
    row("2. Push %s surveys, one outbox, TLS, end to end" % fmt(N), "%s rec/s" % fmt(med(rate)), runs(rate),
        "", None)
    row("2. Raw SQLite, durable (WAL, synchronous=FULL, commit/1,000)", "%s rows/s" % fmt(med(raw)), runs(raw),
        "", None)
    ratio = med(rate) / med(raw)
    row("2. Ratio kinerja / raw durable", "%.3f" % ratio, "", ">= 0.5", ratio >= 0.5)
    row("   Raw SQLite, one transaction (synchronous=NORMAL)", "%s rows/s" % fmt(med(rawf)), runs(rawf), "", None)
    row("   Push: server CPU seconds", "%s s" % fmt(med([p["srv_cpu"] for p in push]), 2),
        runs([p["srv_cpu"] for p in push], 2), "", None)
    row("   Push: kinerja sync CPU seconds", "%s s" % fmt(med([p["client_cpu"] for p in push]), 2),
        runs([p["client_cpu"] for p in push], 2), "", None)
    hs = [p["handler_s"] for p in push]
    row("   Push: time inside the server's push handlers (its log)", "%s s (%s%% of the wall)" % (
        fmt(med(hs), 2), fmt(100 * med([p["handler_s"] / p["wall"] for p in push]))), runs(hs, 2), "", None)
    row("   Push: requests (hello + push batches + pull)", fmt(med([p["requests"] for p in push])), "", "", None)
    hz50 = [p["healthz"]["p50_ms"] for p in push]
    hz99 = [p["healthz"]["p99_ms"] for p in push]
    hzmax = [p["healthz"]["max_ms"] for p in push]
    row("   /healthz during the push (other connection), p50", "%s ms" % fmt(med(hz50), 2), runs(hz50, 2), "", None)
    row("   /healthz during the push, p99 (max of all runs %s ms)" % fmt(max(hzmax), 1), "%s ms" % fmt(med(hz99), 2),
        runs(hz99, 2), "< 50 ms", med(hz99) < 50)
    ws, wr, _ = R["push_wire"]["wire"]
    row("3. Bytes per record, client -> server (HTTP, headers included)", "%s B" % fmt(ws / N, 1), "", "", None)
    row("3. Bytes per record, server -> client", "%s B" % fmt(wr / N, 1), "", "", None)
    row("3. Bytes per record, both directions", "%s B" % fmt((ws + wr) / N, 1), "", "< 110 B", (ws + wr) / N < 110)
    cs = R["push_wire"]["client_sent"] + R["push_wire"]["client_recv"]
    row("   (same run, as `kinerja sync --json` counts them)", "%s B" % fmt(cs / N, 1), "", "", None)
    h = small["hundred"]
    row("4. Sync of 100 new records: wall (process start to exit)", "%s ms" % fmt(med([x["wall_ms"] for x in h]), 1),
        runs([x["wall_ms"] for x in h], 1), "", None)
    row("4. Sync of 100 new records: requests", fmt(med([x["requests"] for x in h])), runs([x["requests"] for x in h]),
        "", None)
    row("4. Sync of 100 new records: bytes sent / received",
        "%s / %s B" % (fmt(med([x["sent"] for x in h])), fmt(med([x["recv"] for x in h]))), "", "", None)
    nop = small["noop"]
    nreq = med([x["requests"] for x in nop])
    nbytes = med([x["sent"] + x["recv"] for x in nop])
    nspan = med([x["span_ms"] for x in nop])
    row("4. No-op sync: requests", fmt(nreq), runs([x["requests"] for x in nop]), "1", nreq == 1)
    row("4. No-op sync: bytes, both directions", "%s B" % fmt(nbytes), runs([x["sent"] + x["recv"] for x in nop]),
        "< 1 KB", nbytes < 1024)
    row("4. No-op sync: ms after the TLS handshake (on the wire)", "%s ms" % fmt(nspan, 2),
        runs([x["span_ms"] for x in nop], 2), "< 5 ms", nspan < 5)
    row("   No-op sync: wall, process start to exit (incl. handshake)",
        "%s ms" % fmt(med([x["wall_ms"] for x in nop]), 1), runs([x["wall_ms"] for x in nop], 1), "", None)
    allok = all(d["errors"] == 0 and d["applied"] == DEVICES * DEVICE_RECORDS for d in dev)
    row("5. %s devices x %d records at once: acknowledged, errors" % (fmt(DEVICES), DEVICE_RECORDS),
        "%s / %s, %d errors" % (fmt(min(d["applied"] for d in dev)), fmt(DEVICES * DEVICE_RECORDS),
                                int(max(d["errors"] for d in dev))), "", "all, 0", allok)
    for key, label in (("p50_ms", "p50"), ("p99_ms", "p99")):
        row("5. Latency %s, connect + TLS + push" % label, "%s ms" % fmt(med([d[key] for d in dev])),
            runs([d[key] for d in dev]), "", None)
        row("5. Latency %s, push only (after the handshake)" % label,
            "%s ms" % fmt(med([d["push_" + key] for d in dev])), runs([d["push_" + key] for d in dev]), "", None)
    row("5. All devices done (wall)", "%s s" % fmt(med([d["wall_ms"] / 1e3 for d in dev]), 1),
        runs([d["wall_ms"] / 1e3 for d in dev], 1), "", None)
    srss = med([d["srv_rss"] for d in dev])
    row("5. Server peak RSS", "%s MB" % fmt(srss, 1), runs([d["srv_rss"] for d in dev], 1), "< 200 MB", srss < 200)
    row("5. Server CPU seconds", "%s s" % fmt(med([d["srv_cpu"] for d in dev]), 2),
        runs([d["srv_cpu"] for d in dev], 2), "", None)
    row("5. CPU seconds of the load driver (same 2 cores)", "%s s" % fmt(med([d["driver_cpu"] for d in dev]), 2),
        runs([d["driver_cpu"] for d in dev], 2), "", None)
    row("5. Bytes per record, both directions (HTTP)",
        "%s B" % fmt(med([(d["sent_bytes"] + d["received_bytes"]) / (DEVICES * DEVICE_RECORDS) for d in dev]), 1),
        "", "", None)
    row("6. Offices report, year, %s surveys + %s activities" % (fmt(SCORE_SURVEYS), fmt(SCORE_ACTIVITIES)),
        "%s ms" % fmt(sc["year_ms"], 1), "median of 5", "", None)
    row("6. Offices report, one month", "%s ms" % fmt(sc["month_ms"], 1), "median of 5", "", None)
    row("6. Rebuild of all score aggregates (recompute)", "%s s" % fmt(sc["recompute_s"], 1), "one run", "", None)
    row("6. Scores upkeep in a 1,000-record push", "%s of %s ms" % (fmt(sc["upkeep_ms"], 1), fmt(sc["push1k_ms"], 1)),
        "median of 5", "", None)
    crss = [p["sync_rss"] for p in push]
    row("7. Client peak RSS, `kinerja sync` pushing %s" % fmt(N), "%s MB" % fmt(med(crss), 1), runs(crss, 1), "< 30 MB",
        med(crss) < 30)
    nrss = [x["rss"] for x in nop]
    row("   Client peak RSS, no-op sync (libraries, TLS, SQLite: the floor)", "%s MB" % fmt(med(nrss), 1),
        runs(nrss, 1), "", None)
    irss = [p["import_rss"] for p in push]
    row("7. Client peak RSS, `kinerja import` of %s rows" % fmt(N), "%s MB" % fmt(med(irss), 1), runs(irss, 1), "",
        None)
    iw = [N / p["import_wall"] for p in push]
    row("   `kinerja import` rate", "%s rows/s" % fmt(med(iw)), runs(iw), "", None)
    return rows


def render(R, rows, wall):
    out = []
    out.append("Measured by `make bench` (scripts/bench.sh, bench/bench.py) on %s UTC%s." % (
        R["date"], " with BENCH_QUICK=1 (reduced sizes: not for comparison)" if QUICK else ""))
    out.append("")
    out.append("- Machine: %s" % R["machine"])
    out.append("- Versions: " + ", ".join("%s %s" % kv for kv in R["versions"].items()))
    out.append("- Medians of %d runs (each run's figure in the third column); fresh server and client "
               "databases for every run; 1 MB = 2^20 bytes. The whole run took %.0f s." % (RUNS, wall))
    out.append("")
    out.append("| benchmark | median | runs | target | |")
    out.append("|---|---:|---|---|---|")
    for r in rows:
        out.append("| %s |" % " | ".join(r))
    out.append("")
    pw = R["push_wire"]
    out.append("Bytes of point 3 come from a separate, untimed run of the same push through a counting "
               "TCP proxy that reads the TLS record layer: application-data payload less the AEAD tag "
               "(cipher suite 0x%04X) = HTTP bytes, headers and bodies; handshake records excluded. "
               "That run: %s requests, %s B sent, %s B received; `kinerja sync --json` said %s B / %s B." % (
                   R["cipher"], fmt(pw["requests"]), fmt(pw["wire"][0]), fmt(pw["wire"][1]),
                   fmt(pw["client_sent"]), fmt(pw["client_recv"])))
    out.append("")
    out.append("Report benchmark output (bench/score_bench):")
    out.append("")
    out.append("```")
    out.append(R["scores"]["text"].strip())
    out.append("```")
    return "\n".join(out)


def render_links(R, date):
    L = R["links"]
    recs, changes = L["records"], L["changes"]
    lo = med([x["wall"] for x in L["loopback"]])
    out = []
    out.append("Measured by `make bench` (bench/bench.py `bench_links`) on %s UTC%s: a week of one office's "
               "work synced by the real `kinerja sync` against a real `kinerjad` through "
               "tests/tools/linkem, median of %d runs, each on fresh copies of the same server and PC." % (
                   date, " with BENCH_QUICK=1" if QUICK else "", RUNS))
    out.append("")
    out.append("- The week: %s surveys and %s activities new, %d submitted activities and %d surveys "
               "corrected (re-imported rows), %d activities deleted: %s changes in the outbox of a PC that "
               "synced before; the sync pushes them (batches of up to 1,000) and pulls the office's "
               "scores." % (fmt(WEEK_SURVEYS), fmt(WEEK_ACTIVITIES), WEEK_EDITS_ACT, WEEK_EDITS_SURV,
                            WEEK_DELETES, fmt(changes)))
    out.append("- Time: `kinerja sync` from its start to its exit (EDGE: to the exit of the run that "
               "finished: a run that a drop ends is followed 1 s later by another, as `--watch` does; "
               "a drop after answers the run survives, connecting again itself as soon as the link "
               "answers). Each link's timed runs are a PC that synced over that link before: an "
               "untimed sync of the same week first, whose measured rate (meta `link_rate`: %s) "
               "sizes the batches and picks the compression level from the start "
               "(docs/protocol.md \"Pipelined push\"). "
               "Floor (the issue's): the bytes on the wire both ways (TCP payload as linkem counts "
               "it: TLS records, handshake included) of the work, the fewest of any link's sync "
               "without a drop (%s / %s B), / the bandwidth + 4 round trips (TCP connect, the two of "
               "the TLS 1.2 handshake, one exchange). With a drop, a second floor also counts what "
               "the link imposes, which no protocol avoids: the time it is down and the reconnect's "
               "TCP connect and resumed TLS handshake (2 round trips). Bytes per record are per new "
               "record (%s), both directions." % (
                   ", ".join("%s %s B/s" % (n, fmt(L["warm"][n])) for n, _, _, _, _ in LINKS),
                   fmt(L["work_c2s"]), fmt(L["work_s2c"]), fmt(recs)))
    out.append("")
    out.append("| link | time | runs | floor | ratio | target | | floor + the link's drop (down, reconnect) | ratio to it |")
    out.append("|---|---:|---|---:|---:|---|---|---:|---:|")
    rows = [(n, p, k, d, x, L["profiles"][n], "") for n, p, k, d, x in LINKS]
    rows += [(n, p, k, d, x, L["cold"], ", no rate known: the PC's last sync pushed nothing")
             for n, p, k, d, x in LINKS if x and L["cold"]]
    for name, prof, kbit, delay, extra, rs, note in rows:
        t = med([r["wall"] for r in rs])
        fl = med([r["floor"] for r in rs])
        ratio = med([r["wall"] / r["floor"] for r in rs])
        what = "%s (%s kbit/s, %d ms each way%s%s)" % (name, fmt(kbit), delay,
                                                        ", a drop 8 s into the sync" if extra else "", note)
        if extra:
            fll = med([r["floor_link"] for r in rs])
            link = "%s s | %.2fx" % (fmt(fll, 2), med([r["wall"] / r["floor_link"] for r in rs]))
        else:
            link = "(no drop) | "
        out.append("| %s | %s s | %s | %s s | %.2fx | <= 1.3x | %s | %s |" % (
            what, fmt(t, 2), runs([r["wall"] for r in rs], 2), fmt(fl, 2), ratio, verdict(ratio <= 1.3), link))
    out.append("")
    out.append("Where the time goes: each link's time against its floor + the round trips the protocol "
               "adds (the pushes are pipelined, docs/protocol.md \"Pipelined push\": they and the first "
               "pull page cost one exchange together, each later page one more) + the work of "
               "the two programs (the same sync through linkem with no bandwidth limit and no delay: "
               "%s s, runs %s) + for a drop, the bytes sent again, the time the link is down (the "
               "run connects again as soon as it answers), the TCP and TLS handshakes (3 round trips; "
               "2 when the same run connects again and resumes its TLS session); the push/status "
               "question costs no round trip of its own (the pushes go on behind it)." % (fmt(lo, 2), runs([x["wall"] for x in L["loopback"]], 2)))
    out.append("")
    out.append("| link | requests | round trips beyond the floor | share of the time | model: floor + round "
               "trips + work (+ drop) | measured | wire up / down | B/record on the wire | HTTP B/record "
               "(sync --json) |")
    out.append("|---|---:|---:|---:|---:|---:|---:|---:|---:|")
    for name, prof, kbit, delay, extra in LINKS:
        rs = L["profiles"][name]
        t = med([r["wall"] for r in rs])
        rtt = 2 * delay / 1e3
        models, rts = [], []
        for r in rs:
            # each run's pushes and first pull page are one exchange (the
            # page is pipelined behind the pushes), later pages one each; a
            # cut exchange got no answer
            pulls = sum(1 for a in r["answers"] if a[0].startswith("GET /v1/pull"))
            rt = max(0, pulls - 1) * rtt
            # a drop: the 1 s before connecting again, then TCP and a TLS
            # handshake (a new run: 3 round trips; the same run connecting
            # again: 2, the session resumed), the push/status question
            # (1) and the bytes sent again
            restarts = r["attempts"] - 1
            again = max(0, r["cuts"] - restarts)
            down = float(extra[extra.index("--down") + 1]) / 1e3 if "--down" in extra else 0.0
            drop = (restarts * (1.0 + 4 * rtt) + again * (down + 2 * rtt) +
                    max(0, r["resent"]) * 8 / (kbit * 1000.0))
            rts.append(rt)
            models.append(r["floor"] + rt + lo + drop)
        up, down = med([r["c2s"] for r in rs]), med([r["s2c"] for r in rs])
        http = med([(r["http_sent"] + r["http_recv"]) / recs for r in rs])
        out.append("| %s | %s | %s s | %s%% | %s s | %s s | %s / %s B | %s B | %s B |" % (
            name, fmt(med([r["requests"] for r in rs])), fmt(med(rts), 2), fmt(100 * med(rts) / t),
            fmt(med(models), 2), fmt(t, 2), fmt(up), fmt(down), fmt((up + down) / recs, 1), fmt(http, 1)))
    out.append("")
    out.append("What the pipelined push saves, measured: the same sync of the %s changes stop-and-wait "
               "(one push of 1,000 at a time and its answer before the next; the PC's meta "
               "`server_pipeline` set to 0, what the hello of a server without pipelining leaves; the link's rate known, "
               "as in the pipelined runs), "
               "against the pipelined runs above:" % fmt(changes))
    out.append("")
    out.append("| link | requests | time stop-and-wait | runs | ratio to the floor | saved by pipelining | "
               "round trips of the pushes after the first x RTT |")
    out.append("|---|---:|---:|---|---:|---:|---:|")
    for name, prof, kbit, delay, extra in LINKS:
        ob = L["one_batch"].get(name)
        if not ob:
            continue
        t = med([r["wall"] for r in ob])
        t0 = med([r["wall"] for r in L["profiles"][name]])
        pushes = med([sum(1 for a in r["answers"] if a[0] == "POST /v1/push") for r in ob])
        out.append("| %s | %s | %s s | %s | %.2fx | %s s | %s s |" % (
            name, fmt(med([r["requests"] for r in ob])), fmt(t, 2), runs([r["wall"] for r in ob], 2),
            med([r["wall"] / r["floor"] for r in ob]), fmt(t - t0, 2), fmt((pushes - 1) * 2 * delay / 1e3, 2)))
    out.append("")
    out.append("Server answers, body bytes as sent (over 128 B in zstd with the shared dictionary, "
               "docs/protocol.md \"Compression\"), request by request, first run "
               "of each link (from kinerjad's request log):")
    out.append("")
    for name in ["loopback"] + [x[0] for x in LINKS]:
        r = L["loopback"][0] if name == "loopback" else L["profiles"][name][0]
        out.append("- %s: %s = %s B" % (name, ", ".join("%s %s" % (a[0].split()[1].split("?")[0].replace(
            "/v1/", ""), fmt(a[2])) for a in r["answers"]), fmt(sum(a[2] for a in r["answers"]))))
    for name, prof, kbit, delay, extra in LINKS:
        if not extra:
            continue
        e = L["profiles"][name]
        batch = L["work_c2s"] * 1000.0 / changes
        resent = [r["resent"] / max(1, r["cuts"]) for r in e]
        probes = [sum(1 for a in r["answers"] if a[0] == "POST /v1/push/status") for r in e]
        out.append("")
        nd = L["nodrop"]
        out.append("%s with a drop: %s cut(s) and %s run(s) of `kinerja sync` each time (a drop after "
                   "batches were answered: the same run connects again as soon as the link answers, "
                   "docs/protocol.md \"Batches cut in flight\"); bytes sent again "
                   "per drop %s B (runs %s: the client's bytes on the wire less those of the same sync "
                   "without the drop, %s / %s B in %.2f s, %s requests), against %s B for one batch of "
                   "1,000 changes (the work's bytes per change x 1,000; this link's batches are "
                   "smaller): %s. After a drop the sync asked which batches cut in flight the server had "
                   "applied (`POST /v1/push/status`, docs/protocol.md \"Batches cut in flight\") %s "
                   "time(s), sent the later batches and the last cut batch behind the question and then "
                   "only the batches it did not vouch for. With no rate known (the table's last row): sent again per drop "
                   "%s B (runs %s, against the same first sync without the drop, %s / %s B in %.2f s, %s requests: "
                   "its slow start's batches, level 19 over the long handshake, sized to the link from the first answer on, "
                   "docs/protocol.md \"Pipelined push\")." % (
                       name, runs([r["cuts"] for r in e]), runs([r["attempts"] for r in e]),
                       fmt(med(resent)), runs(resent), fmt(nd["c2s"]), fmt(nd["s2c"]), nd["wall"],
                       fmt(nd["requests"]), fmt(batch),
                       "at most one batch per drop" if max(resent) <= batch
                       else "**more than one batch per drop**", runs(probes),
                       fmt(med([r["resent"] for r in L["cold"]])), runs([r["resent"] for r in L["cold"]]),
                       fmt(L["cold_nodrop"]["c2s"]), fmt(L["cold_nodrop"]["s2c"]), L["cold_nodrop"]["wall"],
                       fmt(L["cold_nodrop"]["requests"])))
    return "\n".join(out)


def bench_web(b, tmp):
    """The web apps' render budget (bench/web_bench.py, run by Debian's
    python3 for selenium): its JSON."""
    out = os.path.join(tmp, "web.json")
    runs = max(5, RUNS)
    subprocess.run(["/usr/bin/python3", os.path.join(ROOT, "bench", "web_bench.py"),
                    os.path.dirname(os.path.dirname(b.kinerja)), out,
                    str(runs)], check=True)
    with open(out) as f:
        return json.load(f)


def render_web(W, date):
    def kb(n):
        return "%s KB" % fmt(n / 1024.0, 1)

    def yes(v):
        return "yes" if v else "**no**"

    out = []
    out.append("Measured by `make bench` (bench/web_bench.py) on %s UTC in Debian's headless chromium "
               "on this machine, HTTP cache off (every load fetches every asset, as a first visit), "
               "median of %d loads per page; the run took %.0f s%s." % (
                   date, W["runs"], W["wall_s"],
                   ", 1-minute load average %.1f at its start and %.1f at its end (2 cores)" % tuple(W["load"])
                   if "load" in W else ""))
    out.append("")
    od, bd = W["office"]["data"], W["bkd"]["data"]
    out.append("- Office app (`kinerja ui`, plain HTTP on 127.0.0.1): office 36.73.01 with eleven months "
               "of scripts/gen-data.py data pushed to a real kinerjad and its scores pulled (%s surveys, "
               "%s activities, %s complaints on the PC). First render: navigation start to app.js's "
               "performance mark `kj-page-drawn` (the page drawn with its data; the kiosk: its service "
               "buttons in the document)." % (fmt(od["surveys"]), fmt(od["activities"]),
                                              fmt(od["complaints"])))
    out.append("- BKD dashboard (`kinerjad serve --plain-http`): %s offices and the year %s from "
               "scripts/gen-data.py (%s surveys, %s activities, %s complaints, %s ratings, %s targets). "
               "First render: navigation start until the page's main table or section is in the "
               "document (a MutationObserver added before the page's scripts), signed in as an analyst." % (
                   fmt(bd["offices"]), "2025", fmt(bd["surveys"]), fmt(bd["activities"]),
                   fmt(bd["complaints"]), fmt(bd["ratings"]), fmt(bd["targets"])))
    out.append("- Bytes: the compressed bodies as served (Resource Timing `encodedBodySize`) of the "
               "page's document, scripts, styles and images, the JSON of /api/ left out. Fits: no "
               "page-wide horizontal scroll at 1366x768 and on a 360 px phone (emulated).")
    out.append("")
    out.append("| app | page | first render | runs (ms) | first paint | bytes | 1366x768 | 360 px | budget |")
    out.append("|---|---|---:|---|---:|---:|---|---|---|")
    for app, label in (("office", "office"), ("bkd", "BKD")):
        for name, p in W[app]["pages"].items():
            ok = p["drawn_ms"] < 300 and p["fits_desktop"] and p["fits_phone"]
            out.append("| %s | %s | %s ms | %s | %s ms | %s | %s | %s | %s |" % (
                label, name, fmt(p["drawn_ms"], 1), " / ".join(fmt(x, 0) for x in p["runs_ms"]),
                fmt(p["fcp_ms"], 1), kb(p["bytes"]), yes(p["fits_desktop"]), yes(p["fits_phone"]),
                verdict(ok)))
    out.append("")
    for app, label in (("office", "Office app"), ("bkd", "BKD dashboard")):
        a = W[app]
        out.append("- %s, all assets together (each once): %s compressed (target < 500 KB: %s): %s." % (
            label, kb(a["all_assets_bytes"]), verdict(a["all_assets_bytes"] < 500 * 1024),
            ", ".join("%s %s" % (u.split("/", 3)[-1] or "/", kb(n))
                      for u, n in sorted(a["all_assets"].items(), key=lambda x: -x[1]))))
    return "\n".join(out)


def write_doc(block, name="bench"):
    path = os.path.join(ROOT, "docs", "performance.md")
    begin, end = "<!-- %s:begin -->" % name, "<!-- %s:end -->" % name
    text = open(path).read() if os.path.exists(path) else "# Performance\n\n%s\n%s\n" % (begin, end)
    if begin not in text or end not in text:
        text = text.rstrip("\n") + "\n\n%s\n%s\n" % (begin, end)
    a = text.index(begin) + len(begin)
    z = text.index(end)
    text = text[:a] + "\n" + block + "\n" + text[z:]
    with open(path, "w") as f:
        f.write(text)
    log("wrote %s" % path)


def push_only(b, tmp):
    """BENCH_ONLY=push: the push of point 2 for this build (and BENCH_BEFORE's
    build, in turn) and raw durable SQLite, RUNS runs each, interleaved."""
    builds = [("after", b)]
    before = os.environ.get("BENCH_BEFORE", "")
    if before:
        old = Bin.__new__(Bin)
        old.kinerja = os.path.join(os.path.abspath(before), "client", "kinerja")
        old.kinerjad = os.path.join(os.path.abspath(before), "server", "kinerjad")
        old.healthz_probe = b.healthz_probe
        builds.insert(0, ("before", old))
    csv = gen_surveys(os.path.join(tmp, "surveys.csv"), N, office_code(0), 1)
    res = {name: [] for name, _ in builds}
    raw = []
    k = 0
    for r in range(RUNS):
        for name, bb in builds:
            p = bench_push(bb, tmp, csv, k)
            k += 1
            sc = p["sched"]
            log("%s push run %d: %.0f rec/s (%.2f s), server CPU %.2f s (system %.2f s, %d minor faults), "
                "handlers %.2f s, threads on a core %.2f s (busiest %s s), waiting for one %.2f s, "
                "client CPU %.2f s, load %.1f" % (
                    name, r + 1, p["rate"], p["wall"], p["srv_cpu"], p["srv_sys"], p["srv_minflt"],
                    p["handler_s"], sc["on_cpu"], " / ".join("%.2f" % x for x in sc["top2"]),
                    sc["runq"], p["client_cpu"], os.getloadavg()[0]))
            res[name].append(p)
        db = os.path.join(tmp, "raw.db")
        raw.append(float(run([b.raw_sqlite, db, str(N), "durable"])[0].split()[1]))
        for suf in ("", "-wal", "-shm"):
            if os.path.exists(db + suf):
                os.remove(db + suf)
    print("push of %s surveys (%s ids), medians of %d runs, interleaved, load %.1f:" % (
        fmt(N), "UUIDv7" if IDS == "v7" else "random UUIDv4", RUNS, os.getloadavg()[0]))
    print("  raw durable SQLite: %s rows/s (%s)" % (fmt(med(raw)), runs(raw)))
    for name, _ in builds:
        ps = res[name]
        rate = [p["rate"] for p in ps]
        print("  %s: %s rec/s (%s), ratio %.3f, server CPU %.2f s (system %.2f s), handlers %.2f s, "
              "client CPU %.2f s" % (
                  name, fmt(med(rate)), runs(rate), med(rate) / med(raw), med([p["srv_cpu"] for p in ps]),
                  med([p["srv_sys"] for p in ps]), med([p["handler_s"] for p in ps]),
                  med([p["client_cpu"] for p in ps])))


def main():
    global TMP
    if len(sys.argv) != 2:
        sys.exit("usage: bench/bench.py BUILD_DIR")
    b = Bin(os.path.abspath(sys.argv[1]))
    signal.signal(signal.SIGTERM, on_signal)
    signal.signal(signal.SIGINT, on_signal)
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    want = min(hard, 65536) if hard != resource.RLIM_INFINITY else 65536
    if soft < want:
        resource.setrlimit(resource.RLIMIT_NOFILE, (want, hard))
    if resource.getrlimit(resource.RLIMIT_NOFILE)[0] < 2 * DEVICES + 200:
        sys.exit("bench: open files limit too low for %d devices (ulimit -n)" % DEVICES)
    TMP = tempfile.mkdtemp(prefix="kinerja-bench.")
    t_start = time.monotonic()
    if ONLY == "push":
        try:
            push_only(b, TMP)
        finally:
            cleanup()
        return
    if ONLY == "web":
        try:
            date = datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%d %H:%M")
            W = bench_web(b, TMP)
        finally:
            cleanup()
        block = render_web(W, date)
        print(block)
        if os.environ.get("BENCH_NO_DOC", "0") == "0":
            write_doc(block, "bench-web")
        return
    if ONLY == "pg":
        import pg_bench
        try:
            P = pg_bench.run(sys.modules[__name__], b, TMP)
        finally:
            cleanup()
        if P:
            block = pg_bench.render(sys.modules[__name__], P)
            print(block)
            if os.environ.get("BENCH_NO_DOC", "0") == "0":
                write_doc(block, "bench-pg")
        return
    if ONLY == "links":
        try:
            date = datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%d %H:%M")
            R = {"links": bench_links(b, TMP)}
        finally:
            cleanup()
        block = render_links(R, date)
        print(block)
        if os.environ.get("BENCH_NO_DOC", "0") == "0":
            write_doc(block, "bench-links")
        return
    try:
        R = {"date": datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%d %H:%M"),
             "machine": machine(), "versions": versions()}
        csv = gen_surveys(os.path.join(TMP, "surveys.csv"), N, office_code(0), 1)
        R["push"] = []
        for k in range(RUNS):
            p = bench_push(b, TMP, csv, k)
            log("push run %d: %.0f rec/s (%.2f s), client RSS %.1f MB, healthz p99 %.2f ms" % (
                k + 1, p["rate"], p["wall"], p["sync_rss"], p["healthz"]["p99_ms"]))
            R["push"].append(p)
        R["push_wire"] = bench_push(b, TMP, csv, RUNS, proxy=True)
        log("push through the counting proxy: %s" % (R["push_wire"]["wire"],))
        R["raw"] = bench_raw(b, TMP, "durable")
        R["raw_fast"] = bench_raw(b, TMP, "fast")
        log("raw sqlite durable %s, fast %s" % (R["raw"], R["raw_fast"]))
        R["small"] = bench_small(b, TMP)
        log("small syncs done")
        R["devices"] = bench_devices(b, TMP)
        log("scores: %s surveys (takes a while)" % fmt(SCORE_SURVEYS))
        R["scores"] = bench_scores(b, TMP)
        R["cipher"] = CIPHER_SEEN[0] if CIPHER_SEEN else 0
        log("rural links: %d runs of 3 links (about 2 minutes)" % RUNS)
        R["links"] = bench_links(b, TMP)
        log("web apps' render budget (about 3 minutes)")
        R["web"] = bench_web(b, TMP)
        R["pg"] = None
        if os.environ.get("BENCH_PG", "1") != "0":
            log("PostgreSQL (issue 19): several instances, 10,000,000 surveys (about 30 minutes)")
            import pg_bench
            R["pg"] = pg_bench.run(sys.modules[__name__], b, TMP)
        else:
            log("PostgreSQL part skipped (BENCH_PG=0): its block in docs/performance.md is left as it is")
    finally:
        cleanup()
    rows = table(R)
    block = render(R, rows, time.monotonic() - t_start)
    links = render_links(R, R["date"])
    print(block)
    print()
    print(links)
    web = render_web(R["web"], R["date"])
    print()
    print(web)
    if os.environ.get("BENCH_NO_DOC", "0") == "0":
        write_doc(block)
        write_doc(links, "bench-links")
        write_doc(web, "bench-web")
        if R["pg"]:
            write_doc(pg_bench.render(sys.modules[__name__], R["pg"]), "bench-pg")


CIPHER_SEEN = []

if __name__ == "__main__":
    main()
