"""PostgreSQL benchmarks (issue 19, point 5), run by bench/bench.py: in
`make bench` and alone with BENCH_ONLY=pg.  Skipped, with a message, when
PostgreSQL's server programs are not installed.

What it measures (docs/performance.md, section "PostgreSQL", block
`bench-pg`):

1. The many-devices push: PG_DEVICES devices (1,000) x 100 new surveys each,
   every device its own TLS connection, all at once (bench/many_devices),
   against one `kinerjad serve` on SQLite and against 1, 2 and 3 `kinerjad
   serve` on one PostgreSQL database (devices spread over the instances,
   device i to instance i mod k; the instances share one certificate as
   behind HAProxy).  The runs of the four set-ups are interleaved, RUNS
   rounds, each on a fresh copy of an enrolled template (SQLite: a copy of
   the data directory; PostgreSQL: CREATE DATABASE ... TEMPLATE).  Per run:
   acknowledged (applied) records, errors, wall, p50/p99 latency per device,
   CPU seconds of the kinerjad processes and of the PostgreSQL cluster (the
   postmaster and every backend), WAL flushes (pg_stat_wal) and commits.

2. The offices report over PG_SURVEYS (10,000,000) surveys on PostgreSQL,
   500 offices, one year: the offices are imported by kinerjad, the surveys
   are written by SQL (generate_series) into `records` in the store's own
   format (the state JSON kinerjad writes, one position each) and, in the
   same statement, added up into `sc_survey` exactly as the scores' upkeep
   does (a survey adds 1 to n and its u1..u9 to the sums of its office,
   month and service).  That loader is checked first on a small set
   (PG_CHECK_SURVEYS) by `kinerjad recompute --verify`, which rebuilds the
   aggregates from the records through kinerjad's own code and must find no
   difference.  Then `GET /v1/reports/offices?period=2026` (and 2026-08)
   through `kinerjad serve`, REPORT_RUNS times on one kept-alive connection:
   medians of the answer time seen by the client and of the handler time in
   kinerjad's request log.  Before the surveys, PG_EMPLOYEES (default 20)
   employees per office are imported by kinerjad, each with 2 yearly
   targets, an activity a month and a rating, so the report reads per
   employee too.  After the timed requests, one more of each with
   log_statement = 'all' counts the statements PostgreSQL runs per report.

The cluster is like tests/tools/pgcluster's (its functions are reused):
initdb as an unprivileged user in a fresh folder /tmp/kjbench-pg-XXXXXX, a
unix socket there and a private port on 127.0.0.1, but durable settings
(fsync, synchronous_commit and full_page_writes on, as SQLite's
synchronous=FULL); stopped and deleted at the end, with the 10M-row
database in it.

Environment: PG_SURVEYS (default 10000000; 200000 with BENCH_QUICK),
PG_DEVICES (default 1000; 200 with BENCH_QUICK), PG_PUSH_RUNS (rounds of
the push, default BENCH_RUNS), PG_REPORT_BEFORE=PATH (another build's
kinerjad, e.g. before a change, timed in turn with this one on the same
database), PG_PARTS (report,push: the parts to run), PG_HEADER_TIMEOUT_MS (the instances'
header_timeout_ms, default kinerjad's).
"""
import concurrent.futures
import importlib.machinery
import importlib.util
import json
import os
import re
import shutil
import ssl
import http.client
import subprocess
import tempfile
import threading
import statistics
import time

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)

DEVICE_RECORDS = 100
REPORT_OFFICES = 500
REPORT_RUNS = 9
SERVICES = ["KTP-el", "Kartu Keluarga", "Akta Kelahiran", "Surat Pindah", "Izin Usaha Mikro"]


def load_pgcluster():
    path = os.path.join(ROOT, "tests", "tools", "pgcluster")
    loader = importlib.machinery.SourceFileLoader("kj_pgcluster", path)
    spec = importlib.util.spec_from_loader("kj_pgcluster", loader)
    mod = importlib.util.module_from_spec(spec)
    loader.exec_module(mod)
    return mod


# --- the cluster -------------------------------------------------------------------

class Cluster:
    """A throwaway PostgreSQL cluster with durable settings."""

    def __init__(self, B):
        self.B = B
        self.pgc = load_pgcluster()
        self.bin = self.pgc.bindir()
        self.dir = None

    def available(self):
        return self.bin is not None

    def start(self):
        pgc = self.pgc
        self.pw = pgc.run_user()
        t0 = time.monotonic()
        self.dir = d = tempfile.mkdtemp(prefix="kjbench-pg-", dir="/tmp")
        if self.pw:
            os.chown(d, self.pw.pw_uid, self.pw.pw_gid)
        self.data, self.log = os.path.join(d, "data"), os.path.join(d, "log")
        pgc.sh(self.pw, [os.path.join(self.bin, "initdb"), "-D", self.data, "-U", "postgres",
                         "-E", "UTF8", "--locale", "C.UTF-8", "--auth-local", "trust",
                         "--auth-host", "reject", "--no-sync"], cwd=d)
        for attempt in range(5):
            self.port = pgc.free_port()
            opts = ("-c listen_addresses=127.0.0.1 -c port=%d -c unix_socket_directories=%s "
                    "-c fsync=on -c synchronous_commit=on -c full_page_writes=on "
                    "-c shared_buffers=512MB -c max_connections=100 -c max_wal_size=8GB "
                    "-c checkpoint_timeout=30min -c track_wal_io_timing=on "
                    "-c maintenance_work_mem=512MB" % (self.port, d))
            p = pgc.sh(self.pw, [os.path.join(self.bin, "pg_ctl"), "-D", self.data, "-l", self.log,
                                 "-o", opts, "-w", "-t", "60", "start"], cwd=d, log=self.log,
                       check=False)
            if p.returncode == 0:
                break
            with open(self.log, errors="replace") as f:
                if "could not bind" not in f.read() or attempt == 4:
                    raise RuntimeError("pg_ctl start failed:\n" + p.stdout)
        self.sql("CREATE ROLE kinerja LOGIN CREATEDB")
        self.B.log("PostgreSQL %s cluster in %s, port %d (%.1f s)" % (
            self.version(), d, self.port, time.monotonic() - t0))
        return self

    def version(self):
        p = subprocess.run([os.path.join(self.bin, "postgres"), "--version"], capture_output=True,
                           text=True)
        m = re.search(r"(\d+\.\d+)", p.stdout)
        return m.group(1) if m else "?"

    def sql(self, text, db="postgres", user="postgres", timeout=7200):
        """Run SQL as the superuser (or user); its unaligned output."""
        p = self.pgc.sh(self.pw, [os.path.join(self.bin, "psql"), "-X", "-q", "-At", "-v",
                                  "ON_ERROR_STOP=1", "-h", self.dir, "-p", str(self.port),
                                  "-U", user, "-d", db, "-c", text], cwd=self.dir, log=self.log,
                        timeout=timeout)
        return p.stdout.strip()

    def url(self, db):
        return "postgresql://kinerja@/%s?host=%s&port=%d" % (db, self.dir, self.port)

    def cpu(self):
        """CPU seconds (user + system) of the cluster so far: the postmaster,
        its reaped children and those still running."""
        pid = self.pgc.server_pid(self.dir)
        tck = os.sysconf("SC_CLK_TCK")
        with open("/proc/%d/stat" % pid) as f:
            x = f.read().rsplit(")", 1)[1].split()
        total = sum(int(v) for v in x[11:15])  # utime stime cutime cstime
        for c in os.listdir("/proc"):
            if not c.isdigit():
                continue
            try:
                with open("/proc/%s/stat" % c) as f:
                    y = f.read().rsplit(")", 1)[1].split()
            except OSError:
                continue
            if int(y[1]) == pid:  # ppid
                total += int(y[11]) + int(y[12])
        return total / tck

    def wal(self):
        """(WAL flushes, WAL bytes, commits) of the cluster so far."""
        t = self.sql("SELECT wal_sync, wal_bytes, (SELECT sum(xact_commit) FROM pg_stat_database) "
                     "FROM pg_stat_wal").split("|")
        return int(t[0]), int(float(t[1])), int(t[2])

    def stop(self):
        if self.dir:
            self.pgc.destroy(self.dir, self.bin)
            self.dir = None


# --- kinerjad on a store -------------------------------------------------------------

class Sampler:
    """Every 0.2 s during a push, the backends of database db (pg_stat_activity):
    how many wait for the write lock (the advisory lock) and how many are
    busy otherwise (running a statement, or waiting for the disk).  stop()
    returns their means and the number of samples."""

    def __init__(self, cl, db):
        self.cl, self.db, self.samples, self.done = cl, db, [], threading.Event()
        self.t = threading.Thread(target=self.loop, daemon=True)
        self.t.start()

    def loop(self):
        q = ("SELECT count(*) FILTER (WHERE wait_event = 'advisory'), count(*) FILTER (WHERE "
             "state = 'active' AND wait_event IS DISTINCT FROM 'advisory') FROM pg_stat_activity "
             "WHERE datname = '%s' AND pid <> pg_backend_pid()" % self.db)
        while not self.done.wait(0.2):
            try:
                w, a = self.cl.sql(q).split("|")
                self.samples.append((int(w), int(a)))
            except (RuntimeError, ValueError, subprocess.SubprocessError):
                pass

    def stop(self):
        self.done.set()
        self.t.join()
        n = len(self.samples)
        if not n:
            return None
        return (sum(x[0] for x in self.samples) / n, sum(x[1] for x in self.samples) / n, n)


def set_store(datadir, store):
    """Point the instance in datadir at store (rewrites `store =` of its config)."""
    conf = os.path.join(datadir, "kinerjad.conf")
    with open(conf) as f:
        text = f.read()
    text, n = re.subn(r"(?m)^store\s*=.*$", "store = " + store, text)
    if n != 1:
        raise RuntimeError("%s: no single store line" % conf)
    with open(conf, "w") as f:
        f.write(text)


def instances(B, b, base, n, store):
    """n data directories on one store, all with the first one's certificate."""
    dirs = []
    for i in range(n):
        d = os.path.join(base, "i%d" % (i + 1))
        B.run([b.kinerjad, "--data", d, "init", "--store", store])
        if dirs:
            for f in ("cert.pem", "key.pem"):
                shutil.copy(os.path.join(dirs[0], f), os.path.join(d, f))
        dirs.append(d)
    return dirs


def enrol(B, srv, ndev, path):
    t0 = time.monotonic()
    with concurrent.futures.ThreadPoolExecutor(4) as ex:  # enrolment is not measured
        toks = list(ex.map(lambda i: srv.device_add(B.office_code(i)), range(ndev)))
    lines = ["%s %s\n" % (toks[i], B.office_code(i)) for i in range(ndev)]
    with open(path, "w") as f:
        f.writelines(lines)
    B.log("%d devices enrolled in %.1f s (%s)" % (ndev, time.monotonic() - t0, srv.dir))
    return path


def push_runs(B):
    return max(1, int(os.environ.get("PG_PUSH_RUNS", str(B.RUNS))))


def bench_push(B, b, tmp, cl, ndev):
    """The many-devices push on SQLite (1 instance) and PostgreSQL (1, 2, 3)."""
    offices = B.offices_csv(os.path.join(tmp, "pg-offices.csv"), ndev)
    # SQLite template
    sq = B.Server(b, os.path.join(tmp, "pg-sqlite-tpl")).init(offices)
    sq_dev = enrol(B, sq, ndev, os.path.join(tmp, "pg-sqlite-devices.txt"))
    # PostgreSQL template: a database, three instances' directories on it
    cl.sql("CREATE DATABASE kjtpl OWNER kinerja")
    base = os.path.join(tmp, "pg-inst")
    os.makedirs(base)
    dirs = instances(B, b, base, 3, cl.url("kjtpl"))
    pg1 = B.Server(b, dirs[0])
    pg1.cmd("import", "office", offices)
    pg_dev = enrol(B, pg1, ndev, os.path.join(tmp, "pg-pg-devices.txt"))
    hto = os.environ.get("PG_HEADER_TIMEOUT_MS")
    if hto:  # time for 1,000 TLS handshakes queued on a loaded machine
        for dd in [sq.dir] + dirs:
            with open(os.path.join(dd, "kinerjad.conf"), "a") as f:
                f.write("header_timeout_ms = %d\n" % int(hto))
    setups = [("SQLite, 1 instance", "sqlite", 1), ("PostgreSQL, 1 instance", "pg", 1),
              ("PostgreSQL, 2 instances", "pg", 2), ("PostgreSQL, 3 instances", "pg", 3)]
    out = {name: [] for name, _, _ in setups}
    k = 0
    for r in range(push_runs(B)):
        for name, kind, n in setups:
            k += 1
            if kind == "sqlite":
                d = os.path.join(tmp, "pg-sqlite-run")
                shutil.copytree(sq.dir, d)
                srvs = [B.Server(b, d).start()]
                devfile, pg_cpu0, wal0 = sq_dev, None, None
            else:
                db = "kjrun%d" % k
                cl.sql("CREATE DATABASE %s OWNER kinerja TEMPLATE kjtpl" % db)
                for dd in dirs[:n]:
                    set_store(dd, cl.url(db))
                srvs = [B.Server(b, dd).start() for dd in dirs[:n]]
                devfile = pg_dev
                pg_cpu0, wal0 = cl.cpu(), cl.wal()
            urls = ",".join(s.url for s in srvs)
            smp = Sampler(cl, db) if kind == "pg" else None
            text = B.run([b.many_devices, urls, srvs[0].ca, devfile, str(DEVICE_RECORDS)],
                         check=False)[0]
            waits = smp.stop() if smp else None
            driver_cpu = B.LAST["cpu"]
            kcpu = sum(s.usage()[1] for s in srvs)
            for s in srvs:
                s.stop()
            t = text.split()
            if len(t) < 2:
                raise RuntimeError("many_devices said nothing (%s)" % name)
            res = {t[i]: float(t[i + 1]) for i in range(0, len(t) - 1, 2)}
            res["kinerjad_cpu"], res["driver_cpu"] = kcpu, driver_cpu
            if waits:
                res["lock_waiting"], res["busy"], res["samples"] = waits
            if kind == "pg":
                res["pg_cpu"] = cl.cpu() - pg_cpu0
                w = cl.wal()
                res["wal_syncs"], res["wal_bytes"], res["commits"] = (w[0] - wal0[0], w[1] - wal0[1],
                                                                        w[2] - wal0[2])
                res["records"] = int(cl.sql("SELECT count(*) FROM records WHERE type = 'survey'",
                                            db=db))
                cl.sql("DROP DATABASE %s" % db)
            else:
                shutil.rmtree(d, ignore_errors=True)
            out[name].append(res)
            B.log("pg push %s, run %d: %s" % (name, r + 1, json.dumps(res)))
    return out


# --- the offices report over 10M surveys ----------------------------------------------

# One survey per g in [lo, hi]: office g mod NOFF (of the offices in
# records, in code order), service (g div NOFF) mod 5, a date in 2026 (month
# (g div 5 NOFF) mod 12: every office has every service in every month from
# 60 NOFF surveys on; day 1-28), u1..u9 in 1..4, an id that is a UUIDv7 text unique in g,
# position BASE + g, every field stamped by one HLC (as a device writes a
# new record) and the state JSON in the store's own key order; sc_survey
# and its year sums sc_surveyyear get, in the same statement, what
# kjs_score_update adds for a survey.
STATE = ("format('{\"id\":\"%1$s\",\"type\":\"survey\",\"del\":false,\"f\":{\"office\":\"%2$s\","
         "\"date\":\"%3$s\",\"service\":\"%4$s\",\"u1\":\"%5$s\",\"u2\":\"%6$s\",\"u3\":\"%7$s\","
         "\"u4\":\"%8$s\",\"u5\":\"%9$s\",\"u6\":\"%10$s\",\"u7\":\"%11$s\",\"u8\":\"%12$s\","
         "\"u9\":\"%13$s\",\"age\":\"%14$s\",\"sex\":\"%15$s\",\"education\":\"SMA\","
         "\"occupation\":\"Wiraswasta\",\"comment\":\"Pelayanan cepat\"},\"t\":{"
         + ",".join('\"%s\":\"%%16$s\"' % f for f in
                    ["office", "date", "service", "u1", "u2", "u3", "u4", "u5", "u6", "u7", "u8",
                     "u9", "age", "sex", "education", "occupation", "comment"])
         + "}}', id, office, to_char(day, 'YYYY-MM-DD'), service, u1, u2, u3, u4, u5, u6, u7, u8, "
         "u9, 17 + g % 60, CASE WHEN g % 2 = 0 THEN 'L' ELSE 'P' END, stamp)")

GEN_SQL = """
WITH o AS (SELECT array_agg(id ORDER BY id) AS a FROM records WHERE type = 'office' AND deleted = 0),
g AS (
  SELECT g,
         '01960000-' || lpad(to_hex((g >> 48) & 65535), 4, '0') || '-7' ||
           lpad(to_hex((g >> 36) & 4095), 3, '0') || '-8' ||
           lpad(to_hex((g >> 24) & 4095), 3, '0') || '-' || lpad(to_hex(g & 16777215), 12, '0') AS id,
         o.a[1 + (g % @NOFF@)] AS office,
         (ARRAY['KTP-el','Kartu Keluarga','Akta Kelahiran','Surat Pindah','Izin Usaha Mikro'])
           [1 + ((g / @NOFF@) % 5)] AS service,
         make_date(2026, 1 + ((g / (5 * @NOFF@)) % 12)::int, 1 + ((g * 13) % 28)::int) AS day,
         1 + (g * 3) % 4 AS u1, 1 + (g * 5 / 3) % 4 AS u2, 1 + (g / 7) % 4 AS u3,
         1 + (g / 11) % 4 AS u4, 1 + (g * 7 / 5) % 4 AS u5, 1 + (g / 13) % 4 AS u6,
         1 + (g / 17) % 4 AS u7, 1 + (g * 11 / 7) % 4 AS u8, 1 + (g / 19) % 4 AS u9,
         ((117000000000000000 + g)::text || '/dev-bench') AS stamp
  FROM generate_series(@LO@::bigint, @HI@::bigint) AS g, o
),
ins AS (
  INSERT INTO records(type, id, office, deleted, state, seq, origin)
  SELECT 'survey', id, office, 0, @STATE@, @BASE@ + g, 'dev-bench' FROM g
),
sv AS (
  SELECT office, extract(year FROM day)::bigint * 100 + extract(month FROM day)::bigint AS ym,
         service, count(*) AS n, sum(u1) AS u1, sum(u2) AS u2, sum(u3) AS u3, sum(u4) AS u4,
         sum(u5) AS u5, sum(u6) AS u6, sum(u7) AS u7, sum(u8) AS u8, sum(u9) AS u9
  FROM g GROUP BY 1, 2, 3
),
sy AS (
  INSERT INTO sc_surveyyear AS t(y, office, service, n, u1, u2, u3, u4, u5, u6, u7, u8, u9)
  SELECT ym / 100, office, service, sum(n), sum(u1), sum(u2), sum(u3), sum(u4), sum(u5), sum(u6),
         sum(u7), sum(u8), sum(u9)
  FROM sv GROUP BY 1, 2, 3
  ON CONFLICT (y, office, service) DO UPDATE SET n = t.n + EXCLUDED.n,
    u1 = t.u1 + EXCLUDED.u1, u2 = t.u2 + EXCLUDED.u2, u3 = t.u3 + EXCLUDED.u3,
    u4 = t.u4 + EXCLUDED.u4, u5 = t.u5 + EXCLUDED.u5, u6 = t.u6 + EXCLUDED.u6,
    u7 = t.u7 + EXCLUDED.u7, u8 = t.u8 + EXCLUDED.u8, u9 = t.u9 + EXCLUDED.u9
)
INSERT INTO sc_survey(office, ym, service, n, u1, u2, u3, u4, u5, u6, u7, u8, u9)
SELECT * FROM sv
ON CONFLICT (office, ym, service) DO UPDATE SET n = sc_survey.n + EXCLUDED.n,
  u1 = sc_survey.u1 + EXCLUDED.u1, u2 = sc_survey.u2 + EXCLUDED.u2, u3 = sc_survey.u3 + EXCLUDED.u3,
  u4 = sc_survey.u4 + EXCLUDED.u4, u5 = sc_survey.u5 + EXCLUDED.u5, u6 = sc_survey.u6 + EXCLUDED.u6,
  u7 = sc_survey.u7 + EXCLUDED.u7, u8 = sc_survey.u8 + EXCLUDED.u8, u9 = sc_survey.u9 + EXCLUDED.u9
"""


def load_surveys(cl, db, n, chunk=1000000):
    """n surveys into db's records and sc_survey (GEN_SQL), chunk by chunk,
    the records' indexes dropped during the load and made again after it."""
    base = int(cl.sql("SELECT COALESCE(MAX(seq), 0) FROM records", db=db))
    noff = int(cl.sql("SELECT count(*) FROM records WHERE type = 'office' AND deleted = 0", db=db))
    idx = cl.sql("SELECT indexdef FROM pg_indexes WHERE tablename = 'records' "
                 "AND indexname <> 'records_pkey'", db=db).splitlines()
    names = cl.sql("SELECT indexname FROM pg_indexes WHERE tablename = 'records' "
                   "AND indexname <> 'records_pkey'", db=db).splitlines()
    t0 = time.monotonic()
    cl.sql("ALTER TABLE records DROP CONSTRAINT records_pkey; " +
           "".join("DROP INDEX %s; " % x for x in names), db=db)
    for lo in range(1, n + 1, chunk):
        hi = min(n, lo + chunk - 1)
        q = (GEN_SQL.replace("@STATE@", STATE).replace("@NOFF@", str(noff))
             .replace("@LO@", str(lo)).replace("@HI@", str(hi)).replace("@BASE@", str(base)))
        cl.sql("SET jit = off; " + q, db=db)
    t_ins = time.monotonic() - t0
    cl.sql("ALTER TABLE records ADD PRIMARY KEY (type, id); " + "; ".join(idx), db=db)
    cl.sql("VACUUM ANALYZE", db=db)
    t_all = time.monotonic() - t0
    return {"insert_s": t_ins, "load_s": t_all, "offices": noff}


def people_csvs(tmp, noffices, per_office):
    """CSV files of per_office employees in each of the first noffices bench
    offices (B.offices_csv's codes), 2 indicators, and of each employee: 2
    yearly targets (2026), one approved activity a month January-November
    (a weekday, alternating the indicators: realisasi) and one rating by
    the office's first employee (atasan; the first employee by the second,
    bawahan).  [(type, path)] in import order."""
    def code(i):
        return "71.%02d.%02d" % (i // 100, i % 100)

    def nip(o, k):  # born 1960-01-01.. (unique up to 13,440), TMT 2010-01, male, 001
        return bench_nip(o, k, per_office)

    def uid(kind, n):
        return "01960001-%04x-7000-8000-%012x" % (kind, n)

    files = []
    path = os.path.join(tmp, "pg-rep-indicators.csv")
    with open(path, "w") as f:
        f.write("id,name,unit\nDOC,Dokumen selesai,dokumen\nLYN,Layanan tatap muka,layanan\n")
    files.append(("indicator", path))
    rows = {"employee": ["nip,name,office,position,supervisor"],
            "target": ["id,office,nip,indicator,period,target,weight"],
            "activity": ["id,office,nip,date,indicator,quantity,minutes,description,evidence,"
                         "status,reviewed_by"],
            "rating": ["id,office,period,rater,ratee,role,s1,s2,s3,s4,s5,s6,s7,comment"]}
    n = 0
    for o in range(noffices):
        for k in range(per_office):
            me, boss = nip(o, k), nip(o, 0 if k else 1)
            n += 1
            rows["employee"].append("%s,Pegawai %d %d,%s,Analis,%s" % (
                me, o, k, code(o), "" if not k else boss))
            for j, ind in enumerate(("DOC", "LYN")):
                rows["target"].append("%s,%s,%s,%s,2026,%d,%s" % (
                    uid(1, 2 * n + j), code(o), me, ind, 120 + 12 * k, "0.5"))
            for m in range(11):  # January to November (not after today)
                day = 2 + (k + m) % 5  # 2026-MM-02..06 cover Monday-Friday
                while time.strptime("2026-%02d-%02d" % (m + 1, day), "%Y-%m-%d").tm_wday > 4:
                    day += 1
                rows["activity"].append("%s,%s,%s,2026-%02d-%02d,%s,%d,60,Kegiatan,,approved,%s" % (
                    uid(2, 12 * n + m), code(o), me, m + 1, day, ("DOC", "LYN")[m % 2],
                    5 + (k + m) % 20, boss))
            s = [1 + (o + k + i) % 5 for i in range(7)]
            rows["rating"].append("%s,%s,2026,%s,%s,%s,%s," % (
                uid(3, n), code(o), boss, me, "atasan" if k else "bawahan",
                ",".join(map(str, s))))
    for t in ("employee", "target", "activity", "rating"):
        path = os.path.join(tmp, "pg-rep-%s.csv" % t)
        with open(path, "w") as f:
            f.write("\n".join(rows[t]) + "\n")
        files.append((t, path))
    return files


def bench_nip(o, k, per_office):
    """people_csvs' NIP of employee k of office o."""
    n = o * per_office + k
    return "%04d%02d%02d2010011%03d" % (1960 + n % 40, 1 + (n // 40) % 12, 1 + (n // 480) % 28, 1)


def one_office_change(B, b, d, tmp, i, per):
    """One more approved activity of employee 1 of bench office i (one
    office's data changes), imported by `kinerjad import` (another process
    on the same database)."""
    o = (7 * i) % REPORT_OFFICES
    path = os.path.join(tmp, "pg-rep-one.csv")
    with open(path, "w") as f:
        f.write("id,office,nip,date,indicator,quantity,minutes,description,evidence,status,"
                "reviewed_by\n")
        f.write("01960001-0004-7000-8000-%012x,71.%02d.%02d,%s,2026-08-%02d,DOC,3,60,Kegiatan,,"
                "approved,%s\n" % (i, o // 100, o % 100, bench_nip(o, 1, per), 10 + i % 5,
                                    bench_nip(o, 0, per)))
    B.run([b.kinerjad, "--data", d, "import", "activity", path])


def get_report(conn, token, period):
    t0 = time.monotonic()
    conn.request("GET", "/v1/reports/offices?period=" + period,
                 headers={"Authorization": "Bearer " + token, "Accept": "application/json"})
    r = conn.getresponse()
    body = r.read()
    ms = (time.monotonic() - t0) * 1e3
    if r.status != 200:
        raise RuntimeError("offices report %s: HTTP %d %s" % (period, r.status, body[:300]))
    return ms, body


def handler_ms(logfile):
    """The handler times (ms) of the offices reports in kinerjad's request log, in order."""
    out = []
    with open(logfile) as f:
        for line in f:
            m = re.search(r" GET /v1/reports/offices 200 \d+ ([\d.]+)ms", line)
            if m:
                out.append(float(m.group(1)))
    return out


def bench_report(B, b, tmp, cl, nsurveys, ncheck):
    offices = B.offices_csv(os.path.join(tmp, "pg-rep-offices.csv"), REPORT_OFFICES)
    R = {"surveys": nsurveys, "offices": REPORT_OFFICES}
    # 1. the loader checked against kinerjad's own recompute on a small set
    cl.sql("CREATE DATABASE kjcheck OWNER kinerja")
    d = os.path.join(tmp, "pg-check")
    B.run([b.kinerjad, "--data", d, "init", "--store", cl.url("kjcheck")])
    B.run([b.kinerjad, "--data", d, "import", "office", offices])
    load_surveys(cl, "kjcheck", ncheck, chunk=max(1, ncheck // 3))
    out, _, _ = B.run([b.kinerjad, "--data", d, "recompute", "--verify"], check=False)
    if "aggregates match the records" not in out:
        raise RuntimeError("the loader's sc_survey differs from kinerjad's recompute:\n" + out[-3000:])
    R["check"] = ncheck
    cl.sql("DROP DATABASE kjcheck")
    shutil.rmtree(d, ignore_errors=True)
    B.log("loader checked: %d surveys, recompute --verify: aggregates match the records" % ncheck)
    # 2. the big database
    cl.sql("CREATE DATABASE kjreport OWNER kinerja")
    d = os.path.join(tmp, "pg-report")
    out = B.run([b.kinerjad, "--data", d, "init", "--store", cl.url("kjreport")])[0]
    token = re.search(r"admin token: (\S+)", out).group(1)
    B.run([b.kinerjad, "--data", d, "import", "office", offices])
    # employees with targets, activities and ratings: the report's reads per
    # employee (PG_EMPLOYEES per office, 0: none)
    per = int(os.environ.get("PG_EMPLOYEES", "20"))
    R["employees"] = per * REPORT_OFFICES
    if per:
        t0 = time.monotonic()
        for typ, path in people_csvs(tmp, REPORT_OFFICES, per):
            B.run([b.kinerjad, "--data", d, "import", typ, path])
        R["people_records"] = int(cl.sql("SELECT count(*) FROM records WHERE type IN ('employee', "
                                         "'target', 'activity', 'rating')", db="kjreport"))
        B.log("imported %d employees' records in %.0f s" % (R["people_records"],
                                                            time.monotonic() - t0))
    B.log("loading %d surveys into PostgreSQL (minutes)" % nsurveys)
    R.update(load_surveys(cl, "kjreport", nsurveys))
    R["db_bytes"] = int(cl.sql("SELECT pg_database_size('kjreport')"))
    R["records"] = int(cl.sql("SELECT count(*) FROM records WHERE type = 'survey'", db="kjreport"))
    R["sc_survey_rows"] = int(cl.sql("SELECT count(*) FROM sc_survey", db="kjreport"))
    # what a year report reads per employee and office (the report
    # aggregates, docs/scoring.md "Aggregates"), against the month rows
    # they sum
    for t in ("sc_real", "sc_realyear", "sc_actmonth", "sc_cmpmonth", "sc_target", "sc_rating",
              "sc_emp", "sc_surveyyear"):
        R[t + "_rows"] = int(cl.sql("SELECT count(*) FROM pg_class WHERE relname = '%s'" % t,
                                    db="kjreport")) and int(cl.sql("SELECT count(*) FROM %s" % t,
                                                                  db="kjreport"))
    B.log("loaded: %s" % json.dumps(R))
    R["explain"] = explain_reads(cl, "kjreport")
    for name, plan in R["explain"].items():
        B.log("EXPLAIN (ANALYZE, BUFFERS) %s:\n%s" % (name, plan))
    # this build's kinerjad and, with PG_REPORT_BEFORE=PATH, another one (the
    # code before a change) as a second instance on the same database; their
    # requests alternate
    # "cold": this build with the report memo off (KJ_REPORT_MEMO=off:
    # every office built from scratch at every request)
    bins = [("this", b.kinerjad), ("cold", b.kinerjad)]
    if os.environ.get("PG_REPORT_BEFORE"):
        bins.append(("before", os.path.abspath(os.environ["PG_REPORT_BEFORE"])))
        # ... and its cold build (memo off), the figure to compare with "cold"
        bins.append(("before-cold", os.path.abspath(os.environ["PG_REPORT_BEFORE"])))
    srvs = []
    for k, (name, path) in enumerate(bins):
        dd = d if k == 0 else d + "-" + name
        # an older kinerjad refuses the store of this build's schema (3;
        # kinerjad_schema): "before" is started with the version set back
        # to what it knows for its open only (it only reads: the changes
        # below are imported by this build)
        older = name.startswith("before") and schema_known(path) < int(
            cl.sql("SELECT version FROM kinerjad_schema", db="kjreport"))
        if older:
            ver = cl.sql("SELECT version FROM kinerjad_schema", db="kjreport")
            cl.sql("UPDATE kinerjad_schema SET version = %d" % schema_known(path), db="kjreport")
        if k:
            B.run([path, "--data", dd, "init", "--store", cl.url("kjreport")])
            for f in ("cert.pem", "key.pem"):
                shutil.copy(os.path.join(d, f), os.path.join(dd, f))
        bb = B.Bin.__new__(B.Bin)
        bb.kinerjad = path
        s = B.Server(bb, dd)
        if name in ("cold", "before-cold"):
            s.env["KJ_REPORT_MEMO"] = "off"
        s.start()
        if older:
            cl.sql("UPDATE kinerjad_schema SET version = %s" % ver, db="kjreport")
            R["before_schema"] = schema_known(path)
        port = int(s.url.rsplit(":", 1)[1])
        ctx = ssl.create_default_context(cafile=s.ca)
        ctx.check_hostname = False
        srvs.append((name, s, http.client.HTTPSConnection("127.0.0.1", port, context=ctx,
                                                          timeout=600)))
    R["builds"] = [name for name, _ in bins]
    for period in ("2026", "2026-08"):
        bodies = set()
        for name, s, conn in srvs:
            first, body = get_report(conn, token, period)
            bodies.add(body)
            doc = json.loads(body)
            R.setdefault(name, {})[period] = {"first_ms": first, "ms": [], "bytes": len(body),
                                              "offices": len(doc.get("offices", []))}
        R["same_bytes_" + period] = len(bodies) == 1
        for i in range(REPORT_RUNS):
            # the national steady state: one office changed since the last
            # report (one more approved activity of one of its employees,
            # imported by another kinerjad on the same database, as a second
            # instance writes)
            if per:
                one_office_change(B, b, d, tmp, i + (REPORT_RUNS if period != "2026" else 0), per)
                # the importer's backend exits after it: let the postmaster
                # reap it first, or its CPU leaves the sum mid-request (a
                # negative PostgreSQL CPU in the 14:33 UTC run)
                time.sleep(0.5)
            for name, s, conn in srvs:
                k0, p0 = s.usage()[1], cl.cpu()
                ms, body = get_report(conn, token, period)
                R[name][period]["ms"].append(ms)
                R[name][period].setdefault("kinerjad_cpu_ms", []).append((s.usage()[1] - k0) * 1e3)
                R[name][period].setdefault("pg_cpu_ms", []).append((cl.cpu() - p0) * 1e3)
                R[name][period].setdefault("bodies", set()).add(body)
            # ... and the same report again, nothing changed
            name, s, conn = srvs[0]
            k0, p0 = s.usage()[1], cl.cpu()
            R[name][period].setdefault("same_ms", []).append(get_report(conn, token, period)[0])
            R[name][period].setdefault("same_kinerjad_cpu_ms", []).append(
                (s.usage()[1] - k0) * 1e3)
            R[name][period].setdefault("same_pg_cpu_ms", []).append((cl.cpu() - p0) * 1e3)
        # the memo's answer after each change equals the cold build's
        R["memo_equals_cold_" + period] = all(
            a == c for a, c in zip(sorted(R["this"][period].pop("bodies")),
                                   sorted(R["cold"][period].pop("bodies"))))
        for name, _, _ in srvs[2:]:
            R[name][period].pop("bodies", None)
    count_statements(cl, srvs, token, R,
                     lambda k: one_office_change(B, b, d, tmp, 2 * REPORT_RUNS + k, per)
                     if per else None)
    for name, s, conn in srvs:
        conn.close()
        s.stop()
        h = handler_ms(os.path.join(s.dir, "serve.log"))
        if name == "this":  # first, then (after a change, again) per run
            R[name]["2026"]["handler_ms"] = h[1:1 + 2 * REPORT_RUNS:2]
            R[name]["2026"]["same_handler_ms"] = h[2:2 + 2 * REPORT_RUNS:2]
            k = 1 + 2 * REPORT_RUNS
            R[name]["2026-08"]["handler_ms"] = h[k + 1:k + 1 + 2 * REPORT_RUNS:2]
            R[name]["2026-08"]["same_handler_ms"] = h[k + 2:k + 2 + 2 * REPORT_RUNS:2]
        else:
            R[name]["2026"]["handler_ms"] = h[1:1 + REPORT_RUNS]
            R[name]["2026-08"]["handler_ms"] = h[2 + REPORT_RUNS:2 + 2 * REPORT_RUNS]
        B.log("offices reports (%s): %s" % (name, json.dumps(R[name])))
    cl.sql("DROP DATABASE kjreport")
    return R


def schema_known(path):
    """The PostgreSQL schema version kinerjad at path knows: 3 from the
    build with sc_surveyyear (its migration 3) on, 2 before; read from
    the binary's text (the statement that only those builds have)."""
    with open(path, "rb") as f:
        return 3 if b"sc_surveyyear" in f.read() else 2


# the batch reads of a year report (server/score_pg.c S_*_ALL) whose cost
# EXPLAIN shows: surveys from the year rows and, as before, summed from the
# months; targets and ratings of the period
EXPLAIN_READS = {
    "surveys_year": "SELECT office,service,n,u1,u2,u3,u4,u5,u6,u7,u8,u9 FROM sc_surveyyear "
                    "WHERE y=2026 ORDER BY office,service",
    "surveys_months": "SELECT office,service,sum(n),sum(u1),sum(u2),sum(u3),sum(u4),sum(u5),"
                      "sum(u6),sum(u7),sum(u8),sum(u9) FROM sc_survey WHERE ym BETWEEN 202601 "
                      "AND 202612 GROUP BY office,service ORDER BY office,service",
    "targets": "SELECT office,nip,indicator,target_hi,target_lo,weight_hi,weight_lo FROM "
               "sc_target WHERE period='2026' ORDER BY office,nip,indicator",
    "ratings": "SELECT office,ratee,role,total,cnt FROM sc_rating WHERE period='2026' ORDER BY "
               "office,ratee,role",
    "reals_year": "SELECT office,nip,indicator,qty_hi,qty_lo FROM sc_realyear WHERE y=2026 "
                  "ORDER BY office,nip,indicator",
    "roster": "SELECT office,nip,name FROM sc_emp ORDER BY office,nip",
    "cmp_months": "SELECT office,sum(days) FROM sc_cmpmonth WHERE ym BETWEEN 202601 AND 202610 "
                  "GROUP BY office ORDER BY office",
}


def explain_reads(cl, db):
    """EXPLAIN (ANALYZE, BUFFERS) of EXPLAIN_READS, each the second time
    (warm, as a report reads them): {name: plan text}; and of the targets
    and ratings without their period indexes (index scans off: the plan
    before them), as name + "_noindex"."""
    out = {}
    noidx = ("SET enable_indexscan = off; SET enable_indexonlyscan = off; "
             "SET enable_bitmapscan = off; ")
    for name, q in EXPLAIN_READS.items():
        for suffix, pre in (("", ""), ("_noindex", noidx)):
            if suffix and name not in ("targets", "ratings"):
                continue
            cl.sql(pre + "EXPLAIN (ANALYZE) " + q, db=db)
            out[name + suffix] = cl.sql(pre + "EXPLAIN (ANALYZE, BUFFERS) " + q, db=db)
    return out


def count_statements(cl, srvs, token, R, change=None):
    """The statements PostgreSQL runs for one report of each period and
    build (into R[build][period]["statements"]): log_statement = 'all' for
    one more request each (after the timed ones: logging costs), counting
    the log's "statement:" and "execute" lines (kinerjad's BEGIN, COMMIT and
    prepared statements)."""
    cl.sql("ALTER SYSTEM SET log_statement = 'all'")
    cl.sql("SELECT pg_reload_conf()")
    time.sleep(1)  # a backend reloads before its next command
    try:
        for k, period in enumerate(("2026", "2026-08")):
            for name, s, conn in srvs:
                # this build: after one office's change too (change(k); its
                # own statements are not counted: they come before off)
                if name == "this" and change:
                    get_report(conn, token, period)  # up to date: then one office changes
                    change(k)
                    time.sleep(1)  # the import's statements logged before off
                    off = os.path.getsize(cl.log)
                    get_report(conn, token, period)
                    R[name][period]["changed_statements"] = statements_since(cl.log, off)
                off = os.path.getsize(cl.log)
                get_report(conn, token, period)
                R[name][period]["statements"] = statements_since(cl.log, off)
    finally:
        cl.sql("ALTER SYSTEM RESET log_statement")
        cl.sql("SELECT pg_reload_conf()")


def statements_since(log, off):
    """The statements in PostgreSQL's log after offset off."""
    n = 0
    with open(log, errors="replace") as f:
        f.seek(off)
        for line in f:
            if re.search(r"LOG:  (statement: |execute )", line):
                n += 1
    return n


# --- the whole part, and its block of docs/performance.md ------------------------------

def load_avg():
    with open("/proc/loadavg") as f:
        return f.read().split()[0]


def run(B, b, tmp):
    """Everything above on a fresh cluster: a dict of results, or None when
    PostgreSQL is not installed (said on stderr)."""
    cl = Cluster(B)
    if not cl.available():
        B.log("PostgreSQL part skipped: PostgreSQL's server is not installed "
              "(Debian's postgresql-15; scripts/install-deps installs it)")
        return None
    quick = B.QUICK
    nsurv = int(os.environ.get("PG_SURVEYS", "200000" if quick else "10000000"))
    ndev = int(os.environ.get("PG_DEVICES", "200" if quick else "1000"))
    R = {"date": time.strftime("%Y-%m-%d %H:%M", time.gmtime()), "load_start": load_avg(),
         "runs": push_runs(B)}
    try:
        cl.start()
        R["pg_version"] = cl.version()
        parts = os.environ.get("PG_PARTS", "report,push").split(",")
        if "report" in parts:
            R["report"] = bench_report(B, b, tmp, cl, nsurv, min(20000, nsurv))
        R["load_mid"] = load_avg()
        if "push" in parts:
            R["push"] = bench_push(B, b, tmp, cl, ndev)
            R["devices"] = ndev
            R["header_timeout_ms"] = os.environ.get("PG_HEADER_TIMEOUT_MS")
    finally:
        cl.stop()
    R["load_end"] = load_avg()
    return R


def med(v):
    return statistics.median(v) if v else float("nan")


def render(B, R):
    fmt, runs = B.fmt, B.runs
    out = []
    rep = R.get("report")
    out.append("Measured by `BENCH_ONLY=pg make bench` (bench/pg_bench.py) on %s UTC; load "
               "average %s at the start, %s after the report part, %s at the end (2 cores, "
               "shared). PostgreSQL %s, a throwaway cluster on the same machine: fsync, "
               "synchronous_commit and full_page_writes on, shared_buffers 512 MB; kinerjad "
               "talks to it over its unix socket." % (
                   R["date"], R["load_start"], R.get("load_mid", "?"), R["load_end"],
                   R["pg_version"]))
    if rep:
        render_report(out, fmt, rep)
    if R.get("push"):
        render_push(out, fmt, runs, R)
    return "\n".join(out)


def render_report(out, fmt, rep):
    out.append("")
    out.append("**Offices report over %s surveys** (%d offices, one year; %s of records and "
               "aggregates, %s rows in `sc_survey`; %s; loaded in %.0f s, the loader checked on %s "
               "surveys by `kinerjad recompute --verify`: aggregates match the records). "
               "Times: medians of %d requests on one kept-alive connection, each build's "
               "requests alternating with the other's; CPU: means per request." % (
                   fmt(rep["surveys"]), rep["offices"], "%.1f GB" % (rep["db_bytes"] / 1e9),
                   fmt(rep["sc_survey_rows"]),
                   "%s employees, each with 2 yearly targets, 11 activities and a rating "
                   "(%s records, by `kinerjad import`)" % (
                       fmt(rep["employees"]), fmt(rep["people_records"]))
                   if rep.get("employees") else "no employees",
                   rep["load_s"], fmt(rep["check"]), REPORT_RUNS))
    out.append("")
    out.append("| report | build | answer (client) | handler (kinerjad log) | kinerjad CPU | "
               "PostgreSQL CPU | statements | bytes | target |")
    out.append("|---|---|---:|---:|---:|---:|---:|---:|---|")
    labels = {"this": "this: one office changed since the last report (report memo)",
              "cold": "this, memo off (KJ_REPORT_MEMO=off): every office built, the cold build",
              "before": "before (PG_REPORT_BEFORE)",
              "before-cold": "before, memo off: the cold build"}
    for period, label in (("2026", "year 2026"), ("2026-08", "month 2026-08")):
        for name in rep["builds"]:
            x = rep[name][period]
            ms = med(x["ms"])
            tgt = ("< 100 ms: %s" % ("met" if ms < 100 else "**missed**")
                   if period == "2026" and name in ("this", "cold") else "")
            out.append("| %s | %s | %.1f ms | %.1f ms | %.1f ms | %.1f ms | %s | %s | %s |" % (
                label, labels.get(name, name), ms, med(x["handler_ms"]),
                statistics.mean(x["kinerjad_cpu_ms"]), statistics.mean(x["pg_cpu_ms"]),
                fmt(x.get("changed_statements" if name == "this" else "statements", 0)),
                fmt(x["bytes"]), tgt))
            if name == "this" and x.get("same_ms"):
                out.append("| %s | this: nothing changed (every office reused) | %.1f ms | %.1f ms "
                           "| %.1f ms | %.1f ms | %s | %s | |" % (
                               label, med(x["same_ms"]), med(x["same_handler_ms"]),
                               statistics.mean(x["same_kinerjad_cpu_ms"]),
                               statistics.mean(x["same_pg_cpu_ms"]),
                               fmt(x.get("statements", 0)), fmt(x["bytes"])))
    out.append("")
    out.append("The memo's answers equal the cold build's after every change: year %s, month %s." % (
        "yes" if rep.get("memo_equals_cold_2026") else "**no**",
        "yes" if rep.get("memo_equals_cold_2026-08") else "**no**"))
    if rep.get("employees"):
        out.append("")
        out.append("Aggregate rows: " + ", ".join(
            "%s `%s`" % (fmt(rep[t + "_rows"]), t) for t in (
                "sc_emp", "sc_target", "sc_rating", "sc_real", "sc_realyear", "sc_actmonth",
                "sc_cmpmonth", "sc_surveyyear") if t + "_rows" in rep) + ".")
    if len(rep["builds"]) > 2:
        out.append("")
        out.append("Both builds' answers byte-identical: year %s, month %s." % (
            "yes" if rep["same_bytes_2026"] else "**no**",
            "yes" if rep["same_bytes_2026-08"] else "**no**"))


def render_push(out, fmt, runs, R):
    out.append("")
    out.append("**%s devices x %d new surveys at once**, each device its own TLS connection "
               "(bench/many_devices), %s per set-up, interleaved; medians (each run's "
               "figure in brackets)%s." % (
                   fmt(R["devices"]), DEVICE_RECORDS,
                   "1 run" if R["runs"] == 1 else "%d runs" % R["runs"],
                   "; every instance with `header_timeout_ms = %s` (default 10000: TLS "
                   "handshake and headers within 10 s)" % R["header_timeout_ms"]
                   if R.get("header_timeout_ms") else ""))
    out.append("")
    out.append("| set-up | acknowledged | devices with errors | wall | records/s | p50 | p99 | "
               "kinerjad CPU | PostgreSQL CPU | WAL flushes | commits | waiting for the lock / "
               "busy (backends, mean) |")
    out.append("|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|")
    for name, rs in R["push"].items():
        def col(k, nd=0, scale=1.0):
            return fmt(med([r[k] * scale for r in rs]), nd)
        pg = "pg_cpu" in rs[0]
        rate = [r["applied"] / (r["wall_ms"] / 1e3) for r in rs]
        lk = all("lock_waiting" in r for r in rs)
        out.append("| %s | %s | %s | %s s (%s) | %s | %s s | %s s | %s s | %s | %s | %s | %s |" % (
            name, col("applied"), col("errors"), col("wall_ms", 1, 1e-3),
            runs([r["wall_ms"] / 1e3 for r in rs], 1), fmt(med(rate)), col("p50_ms", 1, 1e-3),
            col("p99_ms", 1, 1e-3), col("kinerjad_cpu", 1), col("pg_cpu", 1) + " s" if pg else "-",
            col("wal_syncs") if pg else "-", col("commits") if pg else "-",
            "%s / %s" % (col("lock_waiting", 1), col("busy", 1)) if lk else "-"))
