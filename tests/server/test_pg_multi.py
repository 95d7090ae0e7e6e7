#!/usr/bin/env python3
"""test_pg_multi: several `kinerjad serve` processes on one PostgreSQL
store, real processes over loopback TLS (issue 19 points 3 and 4).

  kill      3 instances on one database, three office PCs (real `kinerja`)
            whose syncs go to the instances in turn (`kinerja config set
            server`); one PC's large push goes to an instance through
            tests/tools/linkem (a slow link) and that instance is killed
            with SIGKILL once the database holds part of the push; the
            PC's retry on another instance.  Then: every survey typed is on
            the server exactly once, every change the PC had taken out of
            its outbox (acknowledged) was on the server already before the
            retry, every PC agrees with the server, and the offices report
            and the records are the same as the same surveys give through
            one kinerjad on SQLite.
  shuffle   the same pushes (crafted, fixed stamps: several devices, edits
            of shared records, two devices editing one record with the same
            stamp pushed at the same moment through two instances, pushes
            sent twice) in one seeded shuffled order through 1 instance and
            through 3 instances, each on its own copy of one database
            (CREATE DATABASE ... TEMPLATE): identical records (digest of
            type, id and state with its stamps, and a PC's pull),
            byte-identical reports and identical conflict logs (the
            conflicts table; `kinerjad conflicts --json` less the time of
            logging and, for two changes with one stamp, the loser's author,
            which the history gives only when the loser came first).
  restore   docs/operations.md "Restore" on PostgreSQL: pg_dump of the
            store, a PC pushes more, the dump restored into a new database
            renamed into place (the documented way), kinerjad started: it
            finds the restore at start (a new epoch before any PC syncs),
            another PC pushes first (the server's positions pass the first
            PC's cursor, so that PC's cursor alone could not tell), then
            the first PC is told, sends again what the restore lost, and
            nothing is lost.

usage: test_pg_multi.py CASE --kinerjad BIN --kinerja BIN --linkem BIN --data DIR
Needs the test cluster (tests/tools/pgcluster, $KJ_PG_STATE/url); exits 77
without it.
"""
import argparse
import concurrent.futures
import hashlib
import json
import os
import random
import re
import shutil
import signal
import sqlite3
import ssl
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request

OA, OB = "36.73.01", "36.73.02"
PERIOD, AS_OF = "2026-Q1", "2026-03-31"
WAIT = 120  # seconds any one step may take at a load of 10 on 2 cores

A = None  # the arguments
TMP = None
PROCS = []


def fail(msg):
    raise AssertionError(msg)


def expect(cond, what):
    if not cond:
        fail(what)
    print("ok: " + what, flush=True)


# --- PostgreSQL -----------------------------------------------------------

def pg_url():
    state = os.environ.get("KJ_PG_STATE")
    try:
        with open(os.path.join(state, "url")) as f:
            return f.read().strip()
    except (OSError, TypeError):
        print("SKIP: no PostgreSQL test cluster (KJ_PG_STATE=%s; pg_cluster_start was skipped)" % state)
        sys.exit(77)


def pg_bin(name):
    for d in sorted(os.listdir("/usr/lib/postgresql"), reverse=True):
        p = os.path.join("/usr/lib/postgresql", d, "bin", name)
        if os.access(p, os.X_OK):
            return p
    print("SKIP: PostgreSQL's %s is not installed" % name)
    sys.exit(77)


def db_url(db):
    """The cluster's URL naming database db."""
    return re.sub(r"@/[^?]*\?", "@/%s?" % db, pg_url())


def psql(sql, db="kinerja"):
    p = subprocess.run([pg_bin("psql"), "-X", "-q", "-At", "-v", "ON_ERROR_STOP=1", "-d", db_url(db),
                        "-c", sql], capture_output=True, text=True, timeout=WAIT)
    if p.returncode:
        fail("psql %r: %s" % (sql, p.stderr))
    return p.stdout.strip()


def fresh_db(name):
    db = "%s_%d" % (name, os.getpid())
    psql("DROP DATABASE IF EXISTS %s" % db)
    psql("CREATE DATABASE %s" % db)
    return db


# --- processes ------------------------------------------------------------

def env():
    e = dict(os.environ)
    e["LANGUAGE"] = "en"
    return e


def run(argv, check=True, **kw):
    p = subprocess.run(argv, capture_output=True, text=True, timeout=WAIT * 2, env=env(), **kw)
    if check and p.returncode:
        fail("%s exited %d:\n%s%s" % (" ".join(argv), p.returncode, p.stdout, p.stderr))
    return p


def kd(data, *args, check=True):
    return run([A.kinerjad, "--data", data] + list(args), check=check)


def kj(db, *args, check=True):
    return run([A.kinerja, "--db", db] + list(args), check=check)


class Server:
    """A kinerjad data directory on a store (a database of the cluster, or
    SQLite when db is None); instances are `serve` processes of copies of
    it (one certificate: the PCs pin it)."""

    def __init__(self, name, db):
        self.dir = os.path.join(TMP, name)
        self.db = db
        out = kd(self.dir, "init", *(["--store", db_url(db)] if db else [])).stdout
        self.admin = re.search(r"admin token: (\S+)", out).group(1)
        self.cert = os.path.join(self.dir, "cert.pem")
        for kind, f in (("office", "offices"), ("employee", "employees"), ("indicator", "indicators")):
            kd(self.dir, "import", kind, os.path.join(A.data, "server", f + ".csv"))
        self.inst = []  # [proc, port, dir, log path]

    def device(self, office, name):
        out = kd(self.dir, "device", "add", "--office", office, "--name", name).stdout
        tok = re.search(r"device token: (\S+)", out).group(1)
        m = re.search(r"\b(dev-[0-9A-Za-z-]+)", out)
        return tok, m.group(1) if m else None

    def instance_dir(self, i):
        if i == 0:
            return self.dir
        d = "%s-%d" % (self.dir, i)
        if not os.path.exists(d):
            shutil.copytree(self.dir, d)
        return d

    def start(self, n=1, conf_extra=""):
        for i in range(n):
            d = self.instance_dir(i)
            if conf_extra:
                with open(os.path.join(d, "kinerjad.conf"), "a") as f:
                    f.write(conf_extra)
            log = os.path.join(TMP, "%s-%d.log" % (os.path.basename(self.dir), i))
            p = subprocess.Popen([A.kinerjad, "--data", d, "serve", "--listen", "127.0.0.1:0"],
                                 stdout=subprocess.PIPE, stderr=open(log, "a"), text=True, env=env())
            PROCS.append(p)
            line = p.stdout.readline()
            m = re.search(r"https://127\.0\.0\.1:(\d+)", line)
            if not m:
                fail("kinerjad did not start: %r\n%s" % (line, open(log).read()))
            self.inst.append([p, int(m.group(1)), d, log])

    def url(self, i):
        return "https://127.0.0.1:%d" % self.inst[i][1]

    def kill(self, i, sig=signal.SIGKILL):
        p = self.inst[i][0]
        p.send_signal(sig)
        p.wait(timeout=WAIT)

    def stop(self):
        """SIGTERM to the running instances: each stops cleanly (exit 0; in
        the ASan build also without a leak report)."""
        for p, _, _, log in self.inst:
            if p.poll() is None:
                p.terminate()
                if p.wait(timeout=WAIT) != 0:
                    with open(log, errors="replace") as f:
                        fail("kinerjad exited %d on SIGTERM:\n%s" % (p.returncode, f.read()[-3000:]))
        self.inst = []

    def report(self, what="offices", office=None):
        args = ["report", what, "--period", PERIOD, "--json"]
        args += ["--as-of", AS_OF] if what == "offices" else ["--office", office]
        return kd(self.dir, *args).stdout

    def conflicts(self):
        return kd(self.dir, "conflicts", "--json").stdout


def tls(cert):
    return ssl.create_default_context(cafile=cert)


def http(method, url, token, body=None, cert=None):
    req = urllib.request.Request(url, method=method, data=body)
    req.add_header("Authorization", "Bearer " + token)
    if body is not None:
        req.add_header("Content-Type", "application/json")
    try:
        with urllib.request.urlopen(req, context=tls(cert), timeout=WAIT) as r:
            return r.status, r.read()
    except urllib.error.HTTPError as e:
        return e.code, e.read()


# --- office PCs -------------------------------------------------------------

def uid(salt, i):
    """A record id made the way the client makes them (UUID v7 shape),
    fixed by salt and i so that two runs type the same records."""
    h = hashlib.sha256(b"%d/%d" % (salt, i)).hexdigest()
    return "%s-%s-7%s-8%s-%s" % (h[:8], h[8:12], h[13:16], h[17:20], h[20:32])


def surveys_csv(office, salt, n):
    path = os.path.join(TMP, "s%d.csv" % salt)
    with open(path, "w") as f:
        f.write("id,office,date,service,u1,u2,u3,u4,u5,u6,u7,u8,u9,age,sex,education,occupation,comment\n")
        for i in range(n):
            f.write("%s,%s,2026-03-%02d,Layanan %d-%d,%d,%d,3,4,3,3,2,3,4,%d,%s,,,komentar %d\n" %
                    (uid(salt, i), office, 1 + i % 28, salt, i, 1 + i % 4, 1 + (i // 4) % 4,
                     18 + i % 60, "L" if i % 2 else "P", i))
    return path


class PC:
    def __init__(self, srv, name, office, url):
        self.db = os.path.join(TMP, name + ".db")
        self.office = office
        tok, _ = srv.device(office, name)
        kj(self.db, "init", "--office", office, "--server", url, "--token", tok, "--ca", srv.cert)

    def type(self, salt, n):
        kj(self.db, "import", "survey", surveys_csv(self.office, salt, n))

    def point(self, url):
        kj(self.db, "config", "set", "server", url)

    def sync(self, check=True):
        return kj(self.db, "sync", check=check)

    def pending(self):
        c = sqlite3.connect(self.db)
        try:
            return {r[0] for r in c.execute("SELECT id FROM outbox WHERE status = 'pending'")}
        finally:
            c.close()

    def export(self):
        return "".join(kj(self.db, "export", t, "--format", "json").stdout
                       for t in ("survey", "activity", "rating"))


def server_view(srv, url, office, name):
    """Every record of office as a fresh PC of that office pulls it."""
    pc = PC(srv, name, office, url)
    pc.sync()
    return pc.export()


def surveys_on(db, salt):
    """{id: count} of the surveys typed with salt in database db."""
    out = psql("SELECT id, count(*) FROM records WHERE type = 'survey' AND "
               "(state::jsonb)->'f'->>'service' LIKE 'Layanan %d-%%' GROUP BY id" % salt, db)
    return {l.split("|")[0]: int(l.split("|")[1]) for l in out.splitlines() if l}


def assert_once(db, salt, n, what=""):
    got = surveys_on(db, salt)
    want = {uid(salt, i) for i in range(n)}
    expect(set(got) == want and all(v == 1 for v in got.values()),
           "salt %d: the %d surveys typed are on the server exactly once%s (%d there)" %
           (salt, n, what, len(got)))


# --- 1: a killed instance ------------------------------------------------------

BIG = 400  # surveys of the push that is cut


def scenario_kill(srv, pcs, kill):
    """Rounds of typing and syncing, PC i's round r on instance (i + r) % n;
    the big push of pcs[0] (salt 100) through a slow link to instance 1,
    killed mid-push when kill.  Returns the salts typed {salt: n}."""
    n = len(srv.inst)
    typed = {}
    salt = 1
    for r in range(3):
        for i, pc in enumerate(pcs):
            pc.type(salt, 5 + i)
            typed[salt] = 5 + i
            salt += 1
            pc.point(srv.url((i + r) % n))
            pc.sync()
    pc = pcs[0]
    pc.type(100, BIG)
    typed[100] = BIG
    if not kill:
        pc.point(srv.url(0))
        pc.sync()
    else:
        target = 1
        lk = subprocess.Popen([A.linkem, "--to", str(srv.inst[target][1]), "--rate", "50",
                               "--delay", "20"], stdout=subprocess.PIPE, text=True)
        PROCS.append(lk)
        m = re.search(r"listening on (\d+)", lk.stdout.readline())
        pc.point("https://127.0.0.1:%s" % m.group(1))
        sync = subprocess.Popen([A.kinerja, "--db", pc.db, "sync"], stdout=subprocess.PIPE,
                                stderr=subprocess.PIPE, text=True, env=env())
        PROCS.append(sync)
        # the database holds part of the push (a batch or more committed):
        # kill that instance now
        deadline = time.time() + WAIT
        held = 0
        while time.time() < deadline and sync.poll() is None:
            held = len(surveys_on(srv.db, 100))
            if held > 0:
                break
            time.sleep(0.02)
        expect(sync.poll() is None and 0 < held < BIG,
               "instance %d holds %d of the %d surveys of the push in flight (%.1f s after "
               "the sync began)" % (target, held, BIG, time.time() - deadline + WAIT))
        srv.kill(target)
        out, err = sync.communicate(timeout=WAIT)
        expect(sync.returncode != 0, "the PC's sync fails with its instance killed (%s)" %
               err.strip().splitlines()[-1:])
        pending = pc.pending()
        acked = {uid(100, i) for i in range(BIG)} - pending
        on = surveys_on(srv.db, 100)
        expect(acked <= set(on),
               "nothing acknowledged is lost: the %d surveys the PC took out of its outbox are all "
               "in the database (%d of %d there, %d still pending)" %
               (len(acked), len(on), BIG, len(pending)))
        expect(len(pending) > 0, "part of the push is still pending on the PC")
        lk.kill()
        lk.wait()
        # the retry on another instance
        pc.point(srv.url(2))
        pc.sync()
        expect(pc.pending() == set(), "the retry on instance 2 empties the PC's outbox")
    for i, p in enumerate(pcs):  # everyone reads everything, on a live instance
        p.point(srv.url(0 if i % 2 else 2) if kill else srv.url(0))
        p.sync()
    return typed


def case_kill():
    db = fresh_db("kjt_kill")
    pg = Server("pg", db)
    # an instance initialised on the store another one made joins it: no
    # second admin token (one more credential nobody asked for)
    out = kd(os.path.join(TMP, "pg-joined"), "init", "--store", db_url(db)).stdout
    expect("admin token:" not in out and "no new one made" in out,
           "init on an existing store adds no admin token: " + out)
    expect(psql("SELECT count(*) FROM tokens WHERE role = 'admin'", db) == "1",
           "one admin token on the store")
    pg.start(3, conf_extra="max_batch = 25\n")
    pcs = [PC(pg, "a", OA, pg.url(0)), PC(pg, "b", OA, pg.url(1)), PC(pg, "c", OB, pg.url(2))]
    typed = scenario_kill(pg, pcs, kill=True)
    for salt, n in sorted(typed.items()):
        assert_once(db, salt, n)
    expect(psql("SELECT count(*) FROM records WHERE type = 'survey'", db) == str(sum(typed.values())),
           "no other survey on the server")
    # applied once: one history row per survey of the cut push, whether its
    # batch was answered before the kill, committed unanswered, or not sent
    hist = psql("SELECT count(*), count(DISTINCT id) FROM history WHERE type = 'survey' AND "
                "id IN (%s)" % ",".join("'%s'" % uid(100, i) for i in range(BIG)), db)
    expect(hist == "%d|%d" % (BIG, BIG), "every change of the cut push was applied exactly once "
                                         "(history rows, distinct: %s)" % hist)
    views = {o: server_view(pg, pg.url(0), o, "view-" + o) for o in (OA, OB)}
    for p in pcs:
        expect(p.export() == views[p.office], "PC %s agrees with the server field by field" %
               os.path.basename(p.db))
    # the same surveys through one kinerjad on SQLite
    lite = Server("lite", None)
    lite.start(1, conf_extra="max_batch = 25\n")
    lpcs = [PC(lite, "la", OA, lite.url(0)), PC(lite, "lb", OA, lite.url(0)),
            PC(lite, "lc", OB, lite.url(0))]
    scenario_kill(lite, lpcs, kill=False)
    for o in (OA, OB):
        expect(server_view(lite, lite.url(0), o, "lview-" + o) == views[o],
               "office %s: the records equal those of the same surveys on SQLite" % o)
    expect(pg.report() == lite.report(), "the offices report is byte-identical to SQLite's")
    expect(pg.report("employees", OA) == lite.report("employees", OA),
           "the employees report of %s is byte-identical to SQLite's" % OA)
    pg.stop()
    lite.stop()
    psql("DROP DATABASE %s" % db)


# --- 2: 1 instance and 3 instances --------------------------------------------

def survey_change(seq, rid, office, hlc_ms, count, f):
    base = {"office": office, "date": "2026-02-03", "service": "KTP-el", "u1": "3", "u2": "3",
            "u3": "3", "u4": "4", "u5": "3", "u6": "3", "u7": "2", "u8": "3", "u9": "4"}
    base.update(f)
    return {"seq": seq, "id": rid, "type": "survey", "hlc": str((hlc_ms << 16) | count), "f": base}


def make_pushes(devices, t0, rng):
    """Per device a list of pushes (JSON bodies), and the concurrent pairs:
    [(device a, push, device b, push)] of one shared record with the same
    stamp.  Every stamp is fixed from t0: both runs send the same bytes."""
    shared = [uid(900, k) for k in range(4)]
    queues = {d: [] for d in devices}
    seqs = {d: 0 for d in devices}

    def change(d, rid, hlc, count, f):
        seqs[d] += 1
        return survey_change(seqs[d], rid, OA, hlc, count, f)

    for r in range(6):
        for j, d in enumerate(devices):
            ch = []
            for k, rid in enumerate(shared):
                if rng.random() < 0.6:
                    ch.append(change(d, rid, t0 + 1000 * r + 10 * j + k, 0,
                                     {"u%d" % (1 + (r + j + k) % 9): str(1 + (r * 7 + j * 3 + k) % 4),
                                      "service": "Layanan bersama %d" % k}))
            for i in range(3):
                ch.append(change(d, uid(1000 + j, r * 3 + i), t0 + 1000 * r + 10 * j + 5, 0,
                                 {"u1": str(1 + (r + i) % 4), "service": "Layanan %d-%d" % (j, r)}))
            queues[d].append({"device_time": t0 + 1000 * r, "changes": ch})
    # the concurrent pairs: two devices edit one record at the same moment
    # with the same stamp.  Their records are made first (setup) without
    # the fields the pairs write, so that what the conflict log holds does
    # not depend on which of the two the server took first (with an older
    # value there, the log would show it losing to whichever came first)
    d0 = devices[0]
    setup = {"device_time": t0 - 5000,
             "changes": [change(d0, uid(950, k), t0 - 5000, 0, {"service": "Layanan pasangan %d" % k})
                         for k in range(4)]}
    pairs = []
    for k in range(4):
        rid = uid(950, k)
        a, b = devices[k % len(devices)], devices[(k + 1) % len(devices)]
        hlc = t0 + 10000 + 100 * k
        pa, pb = [], []
        for d, out, val in ((a, pa, "A"), (b, pb, "B")):
            seqs[d] += 1
            out.append({"seq": seqs[d], "id": rid, "type": "survey", "hlc": str(hlc << 16),
                        "f": {"comment": "catatan %s%d" % (val, k), "occupation": "pekerjaan %s" % val}})
        pairs.append((a, {"device_time": hlc, "changes": pa}, b, {"device_time": hlc, "changes": pb}))
    return setup, queues, pairs


def plan(devices, queues, pairs, rng):
    """One seeded interleaving of the devices' pushes (each device's in its
    own order), a concurrent pair after every few, some pushes sent twice."""
    pos = {d: 0 for d in devices}
    steps = []
    left = sum(len(q) for q in queues.values())
    pi = 0
    while left:
        d = rng.choice([d for d in devices if pos[d] < len(queues[d])])
        steps.append(("one", d, queues[d][pos[d]]))
        if rng.random() < 0.25:
            steps.append(("one", d, queues[d][pos[d]]))  # the answer was lost: sent again
        pos[d] += 1
        left -= 1
        if len(steps) % 5 == 0 and pi < len(pairs):
            steps.append(("pair",) + pairs[pi])
            pi += 1
    while pi < len(pairs):
        steps.append(("pair",) + pairs[pi])
        pi += 1
    return steps


def drive(srv, tokens, steps):
    n = len(srv.inst)
    with concurrent.futures.ThreadPoolExecutor(2) as ex:
        for k, st in enumerate(steps):
            if st[0] == "one":
                s, body = http("POST", srv.url(k % n) + "/v1/push", tokens[st[1]],
                               json.dumps(st[2]).encode(), srv.cert)
                if s != 200:
                    fail("push %d: %d %s" % (k, s, body[:300]))
            else:
                _, a, pa, b, pb = st
                fa = ex.submit(http, "POST", srv.url(k % n) + "/v1/push", tokens[a],
                               json.dumps(pa).encode(), srv.cert)
                fb = ex.submit(http, "POST", srv.url((k + 1) % n) + "/v1/push", tokens[b],
                               json.dumps(pb).encode(), srv.cert)
                for s, body in (fa.result(), fb.result()):
                    if s != 200 or b'"applied"' not in body:
                        fail("concurrent push %d: %d %s" % (k, s, body[:300]))


def case_shuffle():
    a_db = fresh_db("kjt_one")
    b_db = "kjt_three_%d" % os.getpid()
    one = Server("one", a_db)
    devices, tokens = [], {}
    for j in range(4):
        tok, dev = one.device(OA, "pc%d" % j)
        devices.append("pc%d" % j)
        tokens["pc%d" % j] = tok
    # the same database twice: the same devices and tokens in both
    psql("DROP DATABASE IF EXISTS %s" % b_db)
    psql("CREATE DATABASE %s TEMPLATE %s" % (b_db, a_db))
    three = "%s-three" % one.dir
    shutil.copytree(one.dir, three)
    conf = os.path.join(three, "kinerjad.conf")
    with open(conf) as f:
        text = f.read()
    with open(conf, "w") as f:
        f.write(text.replace("dbname=%s" % a_db, "dbname=%s" % b_db).replace("/%s?" % a_db, "/%s?" % b_db))
    three_srv = Server.__new__(Server)
    three_srv.__dict__.update(dir=three, db=b_db, admin=one.admin, cert=os.path.join(three, "cert.pem"),
                              inst=[])
    seed = int(os.environ.get("KJ_TEST_SEED", "19"))
    rng = random.Random(seed)
    t0 = (int(time.time()) - 86400) * 1000
    setup, queues, pairs = make_pushes(devices, t0, rng)
    steps = [("one", devices[0], setup)] + plan(devices, queues, pairs, rng)
    print("seed %d: %d steps, %d concurrent pairs" % (seed, len(steps), len(pairs)), flush=True)
    one.start(1)
    three_srv.start(3)
    with open(conf) as f:
        text = f.read()
    expect(b_db in text and a_db not in text, "the 3 instances use their own copy of the database")
    drive(one, tokens, steps)
    drive(three_srv, tokens, steps)
    q = ("SELECT md5(string_agg(type || '/' || id || '/' || deleted || '/' || state, ',' "
         "ORDER BY type, id)) FROM records")
    expect(psql(q, a_db) == psql(q, b_db), "the records are identical (digest of type, id, state)")
    va = server_view(one, one.url(0), OA, "v1")
    vb = server_view(three_srv, three_srv.url(0), OA, "v3")
    expect(va == vb, "a PC pulling from either reads the same records")
    expect(one.report() == three_srv.report(), "the offices report is byte-identical")
    expect(one.report("employees", OA) == three_srv.report("employees", OA),
           "the employees report is byte-identical")
    ca, cb = json.loads(one.conflicts()), json.loads(three_srv.conflicts())

    def strip(log):
        for c in log:
            # the wall time each server logged it at differs
            c.pop("when", None)
            c.pop("at", None)
            # who wrote the loser is read from the history, which holds a
            # change only when it was taken: of two changes with one stamp
            # the one that came first wrote it, so for these it is the
            # arrival order of the two (known, shown, not compared)
            if c["loser_stamp"].split("/")[0] == c["winner_stamp"].split("/")[0]:
                c.pop("loser_author", None)
        return log
    ca, cb = strip(ca), strip(cb)
    q = ("SELECT md5(string_agg(concat_ws('|', n, type, id, field, loser, loser_stamp, winner, "
         "winner_stamp, loser_note, winner_note), ',' ORDER BY n)) FROM conflicts")
    expect(psql(q, a_db) == psql(q, b_db), "the conflicts tables are identical (all columns "
                                           "but the time of logging, in the same order)")
    pairs_logged = sum(1 for c in ca if c["loser_stamp"].split("/")[0] == c["winner_stamp"].split("/")[0])
    expect(len(ca) > 0 and ca == cb and pairs_logged > 0,
           "the conflict logs (kinerjad conflicts --json) are identical, in the same order (%d "
           "conflicts, %d of them between the same stamp from two devices; the time of logging "
           "and, for those, the loser's author aside)" %
           (len(ca), pairs_logged))
    one.stop()
    three_srv.stop()
    psql("DROP DATABASE %s" % a_db)
    psql("DROP DATABASE %s" % b_db)


# --- 3: a restored PostgreSQL database ---------------------------------------

def case_restore():
    db = fresh_db("kjt_rest")
    srv = Server("srv", db)
    srv.start(2)
    a, b = PC(srv, "a", OA, srv.url(0)), PC(srv, "b", OA, srv.url(1))
    a.type(1, 3)
    b.type(2, 3)
    a.sync()
    b.sync()
    a.sync()
    dump = os.path.join(TMP, "kinerja.dump")
    run([pg_bin("pg_dump"), "-Fc", "-f", dump, "-d", db_url(db)])
    # after the dump: pushes the restore loses, acknowledged (a's cursor is past the dump)
    a.type(3, 4)
    a.point(srv.url(1))
    a.sync()
    expect(a.pending() == set(), "the 4 surveys typed after the dump are acknowledged")
    assert_once(db, 3, 4, " before the restore")
    epochs_before = int(psql("SELECT count(*) FROM epochs", db))
    srv.stop()
    # the documented restore: a new database from the dump, renamed into place
    tmpdb = db + "_r"
    psql("DROP DATABASE IF EXISTS %s" % tmpdb)
    psql("CREATE DATABASE %s TEMPLATE template0" % tmpdb)
    run([pg_bin("pg_restore"), "--no-owner", "-d", db_url(tmpdb), dump])
    psql("ALTER DATABASE %s RENAME TO %s_before_restore" % (db, db))
    psql("ALTER DATABASE %s RENAME TO %s" % (tmpdb, db))
    expect(surveys_on(db, 3) == {}, "the restored database lacks them")
    srv.start(2)
    log = open(srv.inst[0][3]).read() + open(srv.inst[1][3]).read()
    expect("the database was restored" in log, "kinerjad finds the restore at start: %s" %
           [l for l in log.splitlines() if "restored" in l][:1])
    expect(int(psql("SELECT count(*) FROM epochs", db)) == epochs_before + 1,
           "one new epoch (two instances started, one restore)")
    # b pushes first: positions pass a's cursor
    b.type(4, 8)
    b.point(srv.url(0))
    b.sync()
    a.point(srv.url(0))
    p = a.sync()
    expect("restored" in p.stderr, "PC a is told the server was restored (%s)" %
           p.stderr.strip().splitlines()[:1])
    a.sync()
    b.sync()
    for salt, n in ((1, 3), (2, 3), (3, 4), (4, 8)):
        assert_once(db, salt, n)
    view = server_view(srv, srv.url(0), OA, "view")
    expect(a.export() == view and b.export() == view, "both PCs agree with the server")
    # a second start of the same database is no restore
    srv.stop()
    srv.start(1)
    expect(int(psql("SELECT count(*) FROM epochs", db)) == epochs_before + 1,
           "a restart of the same database starts no epoch")
    srv.stop()
    psql("DROP DATABASE %s" % db)
    psql("DROP DATABASE %s_before_restore" % db)


def main():
    global A, TMP
    ap = argparse.ArgumentParser()
    ap.add_argument("case", choices=["kill", "shuffle", "restore"])
    ap.add_argument("--kinerjad", required=True)
    ap.add_argument("--kinerja", required=True)
    ap.add_argument("--linkem", required=True)
    ap.add_argument("--data", required=True)
    A = ap.parse_args()
    pg_url()
    TMP = tempfile.mkdtemp(prefix="kjpgmulti-")
    ok = False
    try:
        {"kill": case_kill, "shuffle": case_shuffle, "restore": case_restore}[A.case]()
        ok = True
    finally:
        for p in PROCS:
            if p.poll() is None:
                p.kill()
                p.wait()
        if not ok:
            for n in sorted(os.listdir(TMP)):
                if n.endswith(".log"):
                    with open(os.path.join(TMP, n), errors="replace") as f:
                        print("--- %s\n%s" % (n, f.read()[-3000:]))
        shutil.rmtree(TMP, ignore_errors=True)


if __name__ == "__main__":
    main()
