#!/usr/bin/env python3
"""soak.py BUILD_DIR SEED DURATION - the fault-injection soak (issue 8 pt 3).

Three devices of two offices (two of 36.73.01, one of 36.73.02) do random
adds, updates, deletes and CSV imports through the real `kinerja` binary and
sync through tests/tools/cutproxy (connections cut at random byte offsets)
to the real `kinerjad`.  Faults: the server is SIGKILLed and restarted, a
client is SIGKILLed mid-sync, the server's clock steps (restarted with a
clock 5 minutes to a day off, by tests/tools/skewclock) and a PC's clock
steps (an hour off, two days ahead, a year behind; then right again), a
client database is restored from one of its backups (when it has nothing
unsent, so that a restore loses nothing only that PC held), the server
database is restored from one of its backups (`kinerjad restore`, or copied
back while it is stopped; the PCs send again what it lacks, issue 14).
Then healing (every clock set right) (direct syncs until quiet) and
the checks: every device of an office exports the same surveys and
complaints as a fresh device that pulls everything from the server; every
add a command reported (exit 0) and never deleted is there, every delete is
gone; `kinerjad recompute --verify` is clean; `PRAGMA integrity_check` is
ok on every database; the server's conflict log accounts for every
overwritten value written after the last restore of the server (a restore
takes the log back to its backup): each u1 value a device set (add, import, update) that is
not the record's final value was set again later by the same device, or is
a loser in the conflict log, or lives on as an equal value another device
set that is itself accounted for.  Exit 0 when all hold; the seed is printed on failure
so `make soak SEED=n` replays the same random choices.
"""
import json, os, random, shutil, signal, socket, sqlite3, subprocess, sys, tempfile, time

build, seed, duration = sys.argv[1], int(sys.argv[2]), float(sys.argv[3])
KINERJA = os.path.join(build, "client", "kinerja")
KINERJAD = os.path.join(build, "server", "kinerjad")
CUTPROXY = os.path.join(build, "tests", "tools", "cutproxy")
SKEWCLOCK = os.path.join(build, "tests", "tools", "libkjskewclock.so")
REPO = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
rng = random.Random(seed)
tmp = tempfile.mkdtemp(prefix="kj-soak-")
data = os.path.join(tmp, "srv")
procs = {}
stats = {"rounds": 0, "adds": 0, "updates": 0, "deletes": 0, "imports": 0, "syncs": 0,
         "syncs_ok": 0, "client_kills": 0, "server_kills": 0, "proxy_cut_pct": 30,
         "server_clock_steps": 0, "client_clock_steps": 0,
         "client_backups": 0, "client_restores": 0, "server_backups": 0, "server_restores": 0}
HOUR, DAY = 3600000, 86400000
# clock steps (docs/protocol.md "Clocks"): the server's clock up to 6 hours off
# (a server a whole day fast, then restored from a backup, is the known limit
# of docs/operations.md: its PCs' later edits wait until real time reaches
# the stamps it gave; test_sync_faults covers a day fast without a restore),
# a PC's from a year behind to two days ahead (beyond clock_ahead_max), each
# then set right again; the replicas still converge and nothing is lost
SERVER_SKEWS = [0, 0, 5 * 60000, -5 * 60000, HOUR, -HOUR, 6 * HOUR]
CLIENT_SKEWS = [0, 0, 0, HOUR, -HOUR, 2 * DAY, -365 * DAY]
server_skew = 0


def clock_env(skew):
    if not skew:
        return None
    env = dict(os.environ)
    env["LD_PRELOAD"] = SKEWCLOCK
    env["KJ_TEST_CLOCK_SKEW_MS"] = str(skew)
    env["ASAN_OPTIONS"] = "verify_asan_link_order=0:" + env.get("ASAN_OPTIONS", "")
    return env
srv_backups = []  # (round, path)
last_restore = [0]  # round of the last restore of either side
last_server_restore = [0]  # round of the last restore of the server


def fail(msg):
    print("soak: FAILED (seed %d): %s" % (seed, msg), file=sys.stderr)
    print("soak: replay with: make soak SEED=%d DURATION=%g (files kept in %s)" % (seed, duration, tmp),
          file=sys.stderr)
    cleanup(keep=True)
    sys.exit(1)


def cleanup(keep=False):
    for p in procs.values():
        if p and p.poll() is None:
            p.kill()
            p.wait()
    if not keep:
        shutil.rmtree(tmp, ignore_errors=True)


def run(args, timeout=60, check=True, env=None):
    r = subprocess.run(args, capture_output=True, text=True, timeout=timeout, env=env)
    if check and r.returncode != 0:
        fail("%s: exit %d: %s" % (" ".join(args), r.returncode, r.stderr.strip()))
    return r


def free_port():
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    p = s.getsockname()[1]
    s.close()
    return p


def read_port(p, prefix):
    line = p.stdout.readline()
    if prefix not in line:
        fail("no '%s' from %s: %r" % (prefix, p.args[0], line))
    return int(line.rstrip().rsplit(":", 1)[-1].split()[-1])


SRV_PORT = free_port()


def server_start():
    for _ in range(50):
        p = subprocess.Popen([KINERJAD, "--data", data, "serve", "--listen", "127.0.0.1:%d" % SRV_PORT],
                             stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True,
                             env=clock_env(server_skew))
        line = p.stdout.readline()
        if "listening on" in line:
            procs["server"] = p
            return
        p.wait()
        time.sleep(0.2)
    fail("server does not start")


def server_kill(sig=signal.SIGKILL):
    p = procs.pop("server", None)
    if p:
        p.send_signal(sig)
        p.wait()


def copy_db(src, dst):
    shutil.copyfile(src, dst)
    for x in ("-wal", "-shm"):
        if os.path.exists(dst + x):
            os.unlink(dst + x)


def client_backup_or_restore(d):
    """A backup now and then; a restore of one when the PC has nothing unsent."""
    if rng.random() < 0.03:
        b = os.path.join(tmp, "%s-bak-%d.db" % (d.name, stats["rounds"]))
        if d.k("backup", b, check=False).returncode == 0:
            d.backups.append((stats["rounds"], b))
            stats["client_backups"] += 1
    # a backup older than the other side's last restore would hold changes
    # that neither side has any more: both copies lost, nothing to check
    usable = [b for r, b in d.backups if r > last_restore[0]]
    if rng.random() < 0.015 and usable:
        st = json.loads(d.k("status", "--json").stdout)
        if st["pending"] == 0 and st["rejected"] == 0:
            copy_db(rng.choice(usable[-3:]), d.db)
            stats["client_restores"] += 1
            last_restore[0] = stats["rounds"]


def server_backup_or_restore():
    if rng.random() < 0.03 and "server" in procs:
        b = os.path.join(tmp, "srv-bak-%d.db" % stats["rounds"])
        run([KINERJAD, "--data", data, "backup", b])
        srv_backups.append((stats["rounds"], b))
        stats["server_backups"] += 1
    usable = [b for r, b in srv_backups if r > last_restore[0]]
    if rng.random() < 0.01 and usable:
        server_kill(signal.SIGTERM)
        b = rng.choice(usable[-3:])
        last_restore[0] = stats["rounds"]
        if rng.random() < 0.5:
            run([KINERJAD, "--data", data, "restore", b])
        else:
            copy_db(b, os.path.join(data, "kinerjad.db"))
        stats["server_restores"] += 1
        last_server_restore[0] = stats["rounds"]
        server_start()


r = run([KINERJAD, "--data", data, "init"])
admin = [l for l in r.stdout.splitlines() if "admin token: " in l][0].split(": ", 1)[1]
run([KINERJAD, "--data", data, "import", "office", os.path.join(REPO, "tests/data/server/offices.csv")])
CERT = os.path.join(data, "cert.pem")
server_start()
proxy = subprocess.Popen([CUTPROXY, "--to", str(SRV_PORT), "--cut", str(stats["proxy_cut_pct"]),
                          "--max", "30000", "--seed", str(seed)],
                         stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)
procs["proxy"] = proxy
PROXY_PORT = read_port(proxy, "listening on")
DIRECT = "https://127.0.0.1:%d" % SRV_PORT
VIA = "https://127.0.0.1:%d" % PROXY_PORT


class Dev:
    def __init__(self, name, office):
        self.name, self.office = name, office
        self.skew = 0
        self.db = os.path.join(tmp, name + ".db")
        self.backups = []
        r = run([KINERJAD, "--data", data, "device", "add", "--office", office, "--name", name])
        tok = [l for l in r.stdout.splitlines() if "device token: " in l][0].split(": ", 1)[1]
        run([KINERJA, "--db", self.db, "init", "--office", office, "--server", VIA, "--token", tok,
             "--ca", CERT])

    def k(self, *args, timeout=60, check=True):
        return run([KINERJA, "--db", self.db] + list(args), timeout=timeout, check=check,
                   env=clock_env(self.skew))


devs = [Dev("a1", "36.73.01"), Dev("a2", "36.73.01"), Dev("b1", "36.73.02")]
added = {}     # id -> office, adds that reported success
sets = {}      # id -> [(order, device name, u1)]: every u1 value a command wrote
deleted = set()


def survey_fields():
    f = ["date=2026-0%d-%02d" % (rng.randint(1, 9), rng.randint(1, 28)), "service=KTP-el"]
    f += ["u%d=%d" % (i, rng.randint(1, 4)) for i in range(1, 10)]
    if rng.random() < 0.5:
        f.append("comment=" + rng.choice(["baik", "x'; DROP TABLE records;--", "lambat, \"sekali\"", "ok"]))
    return f


def note_set(i, d, v):
    sets.setdefault(i, []).append((stats["rounds"], d.name, v))


def ids_of(d, office):
    return [i for i, o in added.items() if o == office and i not in deleted]


def one_sync(d):
    stats["syncs"] += 1
    p = subprocess.Popen([KINERJA, "--db", d.db, "sync"], stdout=subprocess.DEVNULL,
                         stderr=subprocess.DEVNULL, env=clock_env(d.skew))
    if rng.random() < 0.15:
        time.sleep(rng.uniform(0, 0.3))
        if p.poll() is None:
            p.kill()
            stats["client_kills"] += 1
        p.wait()
        return
    try:
        if p.wait(timeout=60) == 0:
            stats["syncs_ok"] += 1
    except subprocess.TimeoutExpired:
        p.kill()
        p.wait()
        fail("%s: sync hangs" % d.name)


t_end = time.time() + duration
while time.time() < t_end:
    stats["rounds"] += 1
    d = rng.choice(devs)
    op = rng.random()
    if op < 0.35:
        fields = survey_fields()
        r = d.k("add", "survey", *fields, check=False)
        if r.returncode == 0:
            i = r.stdout.strip().split()[-1]
            added[i] = d.office
            note_set(i, d, [f for f in fields if f.startswith("u1=")][0][3:])
            stats["adds"] += 1
    elif op < 0.5 and ids_of(d, d.office):
        i = rng.choice(ids_of(d, d.office))
        v = str(rng.randint(1, 4))
        shown = d.k("show", i, "--json", check=False)
        local = json.loads(shown.stdout).get("u1") if shown.returncode == 0 else None
        r = d.k("update", i, "u1=" + v, check=False)
        stats["updates"] += r.returncode == 0
        if r.returncode == 0 and local is not None and local != v:  # same value: no write
            note_set(i, d, v)
    elif op < 0.55 and ids_of(d, d.office):
        i = rng.choice(ids_of(d, d.office))
        r = d.k("delete", i, check=False)
        if r.returncode == 0:
            deleted.add(i)
            stats["deletes"] += 1
    elif op < 0.6:
        csv = os.path.join(tmp, "imp.csv")
        with open(csv, "w") as f:
            f.write("id,office,date,service,u1,u2,u3,u4,u5,u6,u7,u8,u9\n")
            for _ in range(rng.randint(1, 5)):
                f.write(",,2026-02-%02d,Akta,%s\n" % (rng.randint(1, 28),
                                                      ",".join(str(rng.randint(1, 4)) for _ in range(9))))
        before = {x["id"] for x in json.loads(d.k("export", "survey", "--format", "json").stdout or "[]")}
        r = d.k("import", "survey", csv, check=False)
        if r.returncode == 0:
            stats["imports"] += 1
            after = json.loads(d.k("export", "survey", "--format", "json").stdout or "[]")
            for x in after:
                if x["id"] not in before:
                    added[x["id"]] = d.office
                    note_set(x["id"], d, x["u1"])
    else:
        one_sync(d)
    if rng.random() < 0.03:
        server_kill()
        stats["server_kills"] += 1
        server_start()
    if rng.random() < 0.02:  # the server's clock steps (a restart with another clock)
        server_skew = rng.choice(SERVER_SKEWS)
        stats["server_clock_steps"] += 1
        server_kill()
        server_start()
    if rng.random() < 0.03:  # a PC's clock steps
        rng.choice(devs).skew = rng.choice(CLIENT_SKEWS)
        stats["client_clock_steps"] += 1
    client_backup_or_restore(d)
    server_backup_or_restore()

# healing: clocks set right, direct, until every device syncs cleanly twice in a row
server_skew = 0
server_kill()
server_start()
for d in devs:
    d.skew = 0
    d.k("config", "set", "server", DIRECT)
for _ in range(2):
    for d in devs:
        ok = False
        for _ in range(10):
            if d.k("sync", check=False).returncode == 0:
                ok = True
                break
            time.sleep(0.5)
        if not ok:
            fail("%s: sync does not succeed after healing" % d.name)
fresh = {o: Dev("fresh-" + o, o) for o in ("36.73.01", "36.73.02")}
for d in fresh.values():
    d.k("config", "set", "server", DIRECT)
    d.k("sync")


def export(d, t):
    rows = json.loads(d.k("export", t, "--format", "json").stdout or "[]")
    return sorted(rows, key=lambda x: x["id"])


for d in devs:
    ref = fresh[d.office]
    for t in ("survey", "complaint"):
        if export(d, t) != export(ref, t):
            fail("%s differs from the server's %s records of office %s" % (d.name, t, d.office))
for o, ref in fresh.items():
    have = {x["id"] for x in export(ref, "survey")}
    for i, off in added.items():
        if off != o:
            continue
        if i in deleted and i in have:
            fail("deleted record %s is back" % i)
        if i not in deleted and i not in have:
            fail("saved record %s is lost" % i)
server_kill()

# the conflict log accounts for every overwritten value
srv = sqlite3.connect(os.path.join(data, "kinerjad.db"))
log = {(i, f, l) for i, f, l in srv.execute("SELECT id, field, loser FROM conflicts")}
stats["conflicts_logged"] = srv.execute("SELECT COUNT(*) FROM conflicts").fetchone()[0]
srv.close()
final = {}
for ref in fresh.values():
    final.update({x["id"]: x["u1"] for x in export(ref, "survey")})
stats["overwritten"] = stats["overwritten_logged"] = 0
for i, writes in sets.items():
    if i not in final:
        continue  # deleted: a tombstone wins over every value

    def direct(k, dev, v):
        return v == final[i] or any(k2 > k and d2 == dev for k2, d2, _ in writes) or \
            (i, "u1", v) in log

    for k, dev, v in writes:
        if v == final[i]:
            continue
        # a restore takes the conflict log back to its backup: what it
        # logged about writes before the last restore may be gone with it
        if k <= last_server_restore[0]:
            continue
        stats["overwritten"] += 1
        if (i, "u1", v) in log:
            stats["overwritten_logged"] += 1
        if direct(k, dev, v):
            continue
        if any(d2 != dev and v2 == v and direct(k2, d2, v2) for k2, d2, v2 in writes):
            continue
        fail("record %s: u1=%s written by %s (round %d) is overwritten (final %s) and not in "
             "the conflict log" % (i, v, dev, k, final[i]))

r = run([KINERJAD, "--data", data, "recompute", "--verify"], check=False)
if r.returncode != 0:
    fail("recompute --verify: %s %s" % (r.stdout, r.stderr))
dbs = [d.db for d in devs + list(fresh.values())] + \
      [os.path.join(data, f) for f in os.listdir(data) if f.endswith(".db")]
for db in dbs:
    c = sqlite3.connect(db)
    res = c.execute("PRAGMA integrity_check").fetchone()[0]
    c.close()
    if res != "ok":
        fail("%s: integrity_check: %s" % (db, res))
print("soak: ok seed %d duration %gs %s, %d records live" %
      (seed, duration, json.dumps(stats), sum(1 for i in added if i not in deleted)))
cleanup()
