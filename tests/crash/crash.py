#!/usr/bin/env python3
"""crash.py BUILD_DIR SEED - crash safety of both stores (issue 8 pt 4).

SIGKILL at random moments (drawn from SEED) during:
  1. `kinerja import` of a 20,000-row CSV: the client database passes
     `PRAGMA integrity_check` and holds all of the file or none of it, with
     one outbox entry per imported record (no half batch);
  2. `kinerja sync` while it pushes (the client killed): every local record
     is either still waiting in the outbox or stored on the server;
  3. `kinerja sync` while it pushes with the SERVER killed mid-apply: the
     server database is intact and holds whole batches only;
  4. `kinerja sync` of a second device while it pulls and applies pages: its
     records are exactly the server's records up to its saved pull cursor
     (a page is applied with its cursor or not at all).
After each phase a clean re-sync converges: the outbox is empty, the
server holds every record exactly once and the second device equals it.
Exit 0 when all hold; on failure the seed is printed (files kept).
"""
import json, os, random, shutil, signal, socket, sqlite3, subprocess, sys, tempfile, time

build, seed = sys.argv[1], int(sys.argv[2])
KINERJA = os.path.join(build, "client", "kinerja")
KINERJAD = os.path.join(build, "server", "kinerjad")
REPO = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
N = 20000        # rows per import
BATCH = 1000     # changes per push in phase 3 (`sync --batch`: fixed sizes, no slow start)
KILLS = 6        # random kills per phase
rng = random.Random(seed)
tmp = tempfile.mkdtemp(prefix="kj-crash-")
data = os.path.join(tmp, "srv")
procs = {}
stats = {"import_kills": 0, "push_kills": 0, "server_kills": 0, "pull_kills": 0,
         "killed_before_done": 0, "checks": 0,
         "partial": 0}  # kills that left a push or a pull part-way (whole batches/pages)


def fail(msg):
    print("crash: FAILED (seed %d): %s" % (seed, msg), file=sys.stderr)
    print("crash: replay with: python3 %s %s %d (files kept in %s)" %
          (sys.argv[0], build, seed, tmp), file=sys.stderr)
    cleanup(keep=True)
    sys.exit(1)


def cleanup(keep=False):
    for p in procs.values():
        if p and p.poll() is None:
            p.kill()
            p.wait()
    if not keep:
        shutil.rmtree(tmp, ignore_errors=True)


def run(args, timeout=120, check=True):
    r = subprocess.run(args, capture_output=True, text=True, timeout=timeout)
    if check and r.returncode != 0:
        fail("%s: exit %d: %s" % (" ".join(args), r.returncode, r.stderr.strip()))
    return r


def free_port():
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    p = s.getsockname()[1]
    s.close()
    return p


PORT = free_port()
URL = "https://127.0.0.1:%d" % PORT


def server_start():
    for _ in range(50):
        p = subprocess.Popen([KINERJAD, "--data", data, "serve", "--listen", "127.0.0.1:%d" % PORT],
                             stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)
        if "listening on" in p.stdout.readline():
            procs["server"] = p
            return
        p.wait()
        time.sleep(0.2)
    fail("server does not start")


def server_kill():
    p = procs.pop("server", None)
    if p:
        p.send_signal(signal.SIGKILL)
        p.wait()


def query(db, sql, args=()):
    c = sqlite3.connect("file:%s?mode=ro" % db, uri=True, timeout=30)
    try:
        return c.execute(sql, args).fetchall()
    finally:
        c.close()


def integrity(db):
    stats["checks"] += 1
    res = query(db, "PRAGMA integrity_check")[0][0]
    if res != "ok":
        fail("%s: integrity_check: %s" % (db, res))


SRV_DB = os.path.join(data, "kinerjad.db")


def server_ids(ids, office="36.73.01"):
    """The ids among `ids` the server stores, and their seqs."""
    rows = query(SRV_DB, "SELECT id, seq FROM records WHERE office = ?", (office,))
    return {i: s for i, s in rows if i in ids}


class Dev:
    def __init__(self, name, office="36.73.01"):
        self.db = os.path.join(tmp, name + ".db")
        r = run([KINERJAD, "--data", data, "device", "add", "--office", office, "--name", name])
        tok = [l for l in r.stdout.splitlines() if "device token: " in l][0].split(": ", 1)[1]
        run([KINERJA, "--db", self.db, "init", "--office", office, "--server", URL,
             "--token", tok, "--ca", os.path.join(data, "cert.pem")])

    def cmd(self, *args):
        return [KINERJA, "--db", self.db] + list(args)

    def surveys(self):
        return {r[0] for r in query(self.db, "SELECT id FROM records WHERE type = 'survey'")}

    def pending(self):
        return {r[0] for r in query(self.db, "SELECT id FROM outbox WHERE status = 'pending'")}


def timed(args):
    t0 = time.time()
    run(args)
    return time.time() - t0


def kill_at(args, delay):
    """Start args, SIGKILL it after delay seconds; True when it was killed
    before it finished."""
    p = subprocess.Popen(args, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    procs["victim"] = p
    try:
        p.wait(timeout=delay)
        return False
    except subprocess.TimeoutExpired:
        p.send_signal(signal.SIGKILL)
        p.wait()
        return True
    finally:
        procs.pop("victim", None)


run([KINERJAD, "--data", data, "init"])
run([KINERJAD, "--data", data, "import", "office", os.path.join(REPO, "tests/data/server/offices.csv")])
server_start()
csv = os.path.join(tmp, "big.csv")
with open(csv, "w") as f:
    f.write("id,office,date,service,u1,u2,u3,u4,u5,u6,u7,u8,u9,comment\n")
    for k in range(N):
        f.write(",,2026-%02d-%02d,Akta,%s,\"row %d, \"\"x\"\"\"\n" %
                (rng.randint(1, 9), rng.randint(1, 28),
                 ",".join(str(rng.randint(1, 4)) for _ in range(9)), k))

# ---- 1. import ----------------------------------------------------------
scratch = Dev("scratch", "36.73.02")  # for timings; another office, out of the checks
t_import = timed(scratch.cmd("import", "survey", csv))
for k in range(KILLS):
    d = Dev("imp%d" % k)
    killed = kill_at(d.cmd("import", "survey", csv), rng.uniform(0, t_import * 1.1))
    stats["import_kills"] += 1
    stats["killed_before_done"] += killed
    integrity(d.db)
    n, p = len(d.surveys()), len(d.pending())
    if n not in (0, N) or n != p:
        fail("import killed: %d surveys, %d outbox entries (expected 0 or %d, equal)" % (n, p, N))
a = Dev("a")
run(a.cmd("import", "survey", csv))
mine = a.surveys()
if len(mine) != N:
    fail("after import: %d surveys, expected %d" % (len(mine), N))

# ---- 2. push, the client killed -----------------------------------------
t_sync = timed(scratch.cmd("sync"))
for _ in range(KILLS):
    left = len(a.pending()) / N
    killed = kill_at(a.cmd("sync"), rng.uniform(0, t_sync * left * 1.1 + 0.02))
    stats["push_kills"] += 1
    stats["killed_before_done"] += killed
    integrity(a.db)
    if a.surveys() != mine:
        fail("sync killed: the device's surveys changed")
    stats["partial"] += 0 < len(server_ids(mine)) < N
    lost = mine - a.pending() - set(server_ids(mine))
    if lost:
        fail("sync killed: %d records neither in the outbox nor on the server" % len(lost))

# ---- 3. push, the server killed mid-apply -------------------------------
c = Dev("c", "36.73.03")
run(c.cmd("import", "survey", csv))
theirs = c.surveys()
for _ in range(KILLS):
    left = len(c.pending()) / N
    # --batch: every push holds BATCH changes (without it a PC that knows no
    # rate of the link starts with smaller ones, client/sync.c "slow start")
    p = subprocess.Popen(c.cmd("sync", "--batch", str(BATCH)), stdout=subprocess.DEVNULL,
                         stderr=subprocess.DEVNULL)
    procs["victim"] = p
    time.sleep(rng.uniform(0, t_sync * left * 0.9 + 0.02))
    server_kill()
    stats["server_kills"] += 1
    try:
        stats["killed_before_done"] += p.wait(timeout=60) != 0
    except subprocess.TimeoutExpired:
        fail("sync hangs after the server was killed")
    procs.pop("victim", None)
    integrity(SRV_DB)
    integrity(c.db)
    on_server = server_ids(theirs, "36.73.03")
    stats["partial"] += 0 < len(on_server) < N
    if len(on_server) % BATCH:
        fail("server killed mid-push: %d of the device's records stored, not whole batches of %d"
             % (len(on_server), BATCH))
    lost = theirs - c.pending() - set(on_server)
    if lost:
        fail("server killed: %d records neither in the outbox nor on the server" % len(lost))
    server_start()

for d, ids, office in ((a, mine, "36.73.01"), (c, theirs, "36.73.03")):
    run(d.cmd("sync"))
    if d.pending():
        fail("after a clean sync: %d changes still pending" % len(d.pending()))
    srv = query(SRV_DB, "SELECT id, COUNT(*) FROM records WHERE office = ? AND type = "
                        "(SELECT type FROM records WHERE id = ?) GROUP BY id",
                (office, next(iter(ids))))
    if len(srv) != N or set(i for i, _ in srv) != ids or any(n != 1 for _, n in srv):
        fail("server holds %d surveys of %s, expected exactly the device's %d"
             % (len(srv), office, N))

# ---- 4. pull and apply, the client killed -------------------------------
b = Dev("b")
t_pull = timed(Dev("scratch2").cmd("sync"))  # a full pull of a's records
for _ in range(KILLS):
    left = 1 - len(b.surveys()) / N
    killed = kill_at(b.cmd("sync"), rng.uniform(0, t_pull * left * 1.1 + 0.02))
    stats["pull_kills"] += 1
    stats["killed_before_done"] += killed
    integrity(b.db)
    cur = query(b.db, "SELECT value FROM meta WHERE key = 'pull_cursor'")
    cursor = int(cur[0][0]) if cur else 0
    want = {i for i, s in server_ids(mine).items() if s <= cursor}
    have = b.surveys()
    stats["partial"] += 0 < len(have) < N
    if have != want:
        fail("pull killed at cursor %d: the device holds %d surveys, the server %d up to it"
             % (cursor, len(have), len(want)))
run(b.cmd("sync"))
if b.surveys() != mine:
    fail("after a clean pull: %d surveys, expected %d" % (len(b.surveys()), N))
def export(d):
    rows = json.loads(run(d.cmd("export", "survey", "--format", "json")).stdout or "[]")
    return sorted(rows, key=lambda x: x["id"])


if export(a) != export(b):
    fail("the two devices export different surveys")
server_kill()
for db in (a.db, b.db, c.db, SRV_DB):
    integrity(db)
print("crash: ok seed %d %s (import %.2fs, push %.2fs, pull %.2fs uninterrupted)" %
      (seed, stats, t_import, t_sync, t_pull))
cleanup()
