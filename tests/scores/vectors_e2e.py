#!/usr/bin/env python3
"""vectors_e2e.py - the scoring vectors through the real programs (issue 16 pt 7).

  vectors_e2e.py --kinerja K --kinerjad D --skewclock LIB --vectors DIR [SET ...]

For each vector set (default set1 set2 set3 of DIR, tests/data/vectors),
as tests/data/vectors/README.md says it is entered:

  1. `kinerjad init`, `kinerjad import` of the master data (offices,
     employees, indicators, services), `kinerjad serve` on 127.0.0.1;
  2. per office: `kinerjad device add`, `kinerja init` with that token (on
     standard input) and the server's certificate pinned, `kinerja import`
     of that office's surveys, complaints and targets (the set's CSVs split
     by their office column, header kept), `kinerja sync` (exit 0);
  3. `kinerjad import` of activities and ratings (the administrator: they
     carry approvals and roles that an office device may not set);
  4. every case of cases.json through `kinerjad report ... --json`,
     compared with expected/*.json as numbers rounded to 2 decimals, and
     `kinerjad recompute --verify` finds no difference;
  5. the server restarted with its clock on the set's `as_of`
     (tests/tools/skewclock), so that the periods of the cases are the ones
     a pull carries (the current year, quarter and month and the previous
     quarter and month); each PC's `kinerja sync` then `kinerja report
     --period P --json` gives its office row of the offices case and the
     employees of the employees case of P, as numbers.

Exit 0 when every case of every set holds; otherwise each difference is
printed (set, case, JSON path, both values) and the files are kept.  The
time of each set is printed.
"""
import argparse, csv, ctypes, datetime, io, json, os, shutil, signal, socket, subprocess, sys
import tempfile, time

ap = argparse.ArgumentParser()
ap.add_argument("--kinerja", required=True)
ap.add_argument("--kinerjad", required=True)
ap.add_argument("--skewclock", required=True)
ap.add_argument("--vectors", required=True)
ap.add_argument("sets", nargs="*", default=["set1", "set2", "set3"])
args = ap.parse_args()
KINERJA, KINERJAD = os.path.abspath(args.kinerja), os.path.abspath(args.kinerjad)


class Fail(Exception):
    pass


def _die_with_parent():
    # Children get SIGKILL when this script dies (e.g. killed by a ctest timeout).
    try:
        ctypes.CDLL(None, use_errno=True).prctl(1, signal.SIGKILL)  # PR_SET_PDEATHSIG
    except (OSError, AttributeError):
        pass


def run(argv, stdin=None, env=None, timeout=60):
    r = subprocess.run(argv, input=stdin, capture_output=True, text=True, timeout=timeout,
                       env=env, preexec_fn=_die_with_parent)
    if r.returncode != 0:
        raise Fail("%s: exit %d: %s" % (" ".join(os.path.basename(a) if i == 0 else a
                                                 for i, a in enumerate(argv)),
                                       r.returncode, (r.stderr + r.stdout).strip()[-1500:]))
    return r


def free_port():
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    p = s.getsockname()[1]
    s.close()
    return p


def numbers_equal(got, want, path, diffs):
    """Compare two JSON values, numbers rounded to 2 decimals; append
    'path: got != want' to diffs for each difference."""
    if isinstance(want, bool) or want is None or isinstance(want, str):
        if got != want:
            diffs.append("%s: %r != %r" % (path, got, want))
    elif isinstance(want, (int, float)):
        if isinstance(got, bool) or not isinstance(got, (int, float)) or \
                round(got * 100) != round(want * 100):
            diffs.append("%s: %r != %r" % (path, got, want))
    elif isinstance(want, list):
        if not isinstance(got, list) or len(got) != len(want):
            diffs.append("%s: %s != %s" % (path, json.dumps(got)[:200], json.dumps(want)[:200]))
        else:
            for i, (g, w) in enumerate(zip(got, want)):
                numbers_equal(g, w, "%s[%d]" % (path, i), diffs)
    elif isinstance(want, dict):
        if not isinstance(got, dict) or set(got) != set(want):
            diffs.append("%s: keys %s != %s" % (path, sorted(got) if isinstance(got, dict)
                                                else type(got).__name__, sorted(want)))
        else:
            for k in want:
                numbers_equal(got[k], want[k], "%s.%s" % (path, k), diffs)


PG_DBS = []  # databases made for KJ_TEST_STORE=postgresql, dropped at the end


def pg_psql(url, sql):
    subprocess.run(["psql", url, "-v", "ON_ERROR_STOP=1", "-qc", sql], check=True,
                   stdout=subprocess.DEVNULL, timeout=60)


def pg_cluster_url():
    """The test cluster's URL (tests/tools/pgcluster, fixture pg); exit 77
    (skipped) without one."""
    try:
        with open(os.path.join(os.environ.get("KJ_PG_STATE", "."), "url")) as f:
            return f.readline().strip()
    except OSError:
        print("vectors_e2e: KJ_TEST_STORE=postgresql but no test cluster: skipped")
        sys.exit(77)


class Server:
    def __init__(self, tmp):
        self.tmp = tmp
        self.data = os.path.join(tmp, "kinerjad-data")
        self.cert = os.path.join(self.data, "cert.pem")
        self.port = free_port()
        self.url = "https://127.0.0.1:%d" % self.port
        self.proc = None
        self.store = None
        if os.environ.get("KJ_TEST_STORE") == "postgresql":
            # the server's store: a fresh database of the test cluster
            base = pg_cluster_url()
            db = "kjt_vec%d_%d" % (os.getpid(), len(PG_DBS))
            pg_psql(base, "DROP DATABASE IF EXISTS %s" % db)
            pg_psql(base, "CREATE DATABASE %s" % db)
            PG_DBS.append((base, db))
            self.store = base + "&dbname=" + db

    def cmd(self, *a):
        extra = ["--store", self.store] if self.store and a and a[0] == "init" else []
        return run([KINERJAD, "--data", self.data] + list(a) + extra)

    def start(self, skew_ms=0):
        env = dict(os.environ)
        if skew_ms:
            env["LD_PRELOAD"] = os.path.abspath(args.skewclock)
            env["KJ_TEST_CLOCK_SKEW_MS"] = str(skew_ms)
        log = os.path.join(self.tmp, "serve.log")
        for _ in range(50):
            with open(log, "a") as ef:
                p = subprocess.Popen([KINERJAD, "--data", self.data, "serve", "--listen",
                                      "127.0.0.1:%d" % self.port], stdout=subprocess.PIPE,
                                     stderr=ef, text=True, env=env, preexec_fn=_die_with_parent)
            if "listening on" in p.stdout.readline():
                self.proc = p
                return
            p.wait()
            with open(log) as ef:
                err = ef.read()
            if "in use" not in err:
                raise Fail("kinerjad serve does not start: %s" % err.strip()[-800:])
            time.sleep(0.2)
        raise Fail("port %d stays taken" % self.port)

    def stop(self):
        p, self.proc = self.proc, None
        if p and p.poll() is None:
            p.send_signal(signal.SIGTERM)
            try:
                rc = p.wait(timeout=30)
            except subprocess.TimeoutExpired:
                p.kill()
                p.wait()
                raise Fail("kinerjad serve does not stop on SIGTERM")
            if rc != 0:
                raise Fail("kinerjad serve exits %d on SIGTERM" % rc)


def split_by_office(src, dst_dir, offices):
    """src CSV -> {office: path} of one file per office (header kept)."""
    with open(src, newline="", encoding="utf-8") as f:
        rows = list(csv.reader(f))
    header, body = rows[0], rows[1:]
    col = [h.strip().lower() for h in header].index("office")
    out = {}
    for o in offices:
        mine = [r for r in body if r[col] == o]
        if not mine:
            continue
        path = os.path.join(dst_dir, "%s-%s" % (o, os.path.basename(src)))
        with open(path, "w", newline="", encoding="utf-8") as f:
            w = csv.writer(f, lineterminator="\n")
            w.writerow(header)
            w.writerows(mine)
        out[o] = path
    unknown = {r[col] for r in body} - set(offices)
    if unknown:
        raise Fail("%s: rows of offices not in offices.csv: %s" % (src, sorted(unknown)))
    return out


def skew_to(day):
    """ms from now to noon UTC of day (YYYY-MM-DD)."""
    target = datetime.datetime.strptime(day, "%Y-%m-%d").replace(
        hour=12, tzinfo=datetime.timezone.utc)
    return int((target - datetime.datetime.now(datetime.timezone.utc)).total_seconds() * 1000)


def run_set(name, tmp):
    vdir = os.path.join(args.vectors, name)
    data = os.path.join(vdir, "data")
    with open(os.path.join(vdir, "cases.json")) as f:
        cases = json.load(f)["cases"]
    with open(os.path.join(data, "offices.csv"), newline="", encoding="utf-8") as f:
        offices = [r["code"] for r in csv.DictReader(f)]
    diffs = []

    srv = Server(tmp)
    srv.cmd("init")
    for typ, fname in (("office", "offices"), ("employee", "employees"),
                       ("indicator", "indicators"), ("service", "services")):
        srv.cmd("import", typ, os.path.join(data, fname + ".csv"), "--strict")
    srv.start()
    try:
        # the offices: their PCs enter surveys, complaints and targets
        split = {typ: split_by_office(os.path.join(data, fname + ".csv"), tmp, offices)
                 for typ, fname in (("survey", "surveys"), ("complaint", "complaints"),
                                    ("target", "targets"))}
        pcs = {}
        for o in offices:
            out = srv.cmd("device", "add", "--office", o, "--name", "pc-" + o).stdout
            token = [l for l in out.splitlines() if "device token: " in l][0].split(": ", 1)[1]
            db = os.path.join(tmp, "pc-%s.db" % o)
            run([KINERJA, "--db", db, "init", "--office", o, "--server", srv.url, "--token", "-",
                 "--ca", srv.cert], stdin=token + "\n")
            for typ in ("survey", "complaint", "target"):
                if o in split[typ]:
                    run([KINERJA, "--db", db, "import", typ, split[typ][o], "--strict"])
            run([KINERJA, "--db", db, "sync"])
            st = json.loads(run([KINERJA, "--db", db, "status", "--json"]).stdout)
            if (st.get("pending"), st.get("rejected"), st.get("held")) != (0, 0, 0):
                raise Fail("%s: after sync: pending %s, rejected %s, held %s" %
                           (o, st.get("pending"), st.get("rejected"), st.get("held")))
            pcs[o] = db
        # the BKD administrator: activities (approvals) and ratings
        for typ, fname in (("activity", "activities"), ("rating", "ratings")):
            srv.cmd("import", typ, os.path.join(data, fname + ".csv"), "--strict")

        # the server's reports
        for c in cases:
            argv = ["report", c["report"], "--period", c["period"], "--json"]
            argv += ["--as-of", c["as_of"]] if c["report"] == "offices" else ["--office",
                                                                               c["office"]]
            got = json.loads(srv.cmd(*argv).stdout)
            with open(os.path.join(vdir, c["expected"])) as f:
                want = json.load(f)
            numbers_equal(got, want, "%s %s (kinerjad)" % (name, c["expected"]), diffs)
        srv.cmd("recompute", "--verify")  # exits 1, listing them, on any difference
    finally:
        srv.stop()

    # the PCs' reports, pulled from a server whose today is the cases' as_of
    as_of = {c["as_of"] for c in cases if c["report"] == "offices"}
    if len(as_of) != 1:
        raise Fail("%s: the offices cases have as_of %s, expected one date" % (name, sorted(as_of)))
    as_of = as_of.pop()
    srv.start(skew_to(as_of))
    try:
        offices_doc = {}
        for c in cases:
            if c["report"] == "offices":
                with open(os.path.join(vdir, c["expected"])) as f:
                    offices_doc[c["period"]] = json.load(f)
        for o, db in pcs.items():
            run([KINERJA, "--db", db, "sync"])
            for c in cases:
                if c["report"] != "employees" or c["office"] != o:
                    continue
                got = json.loads(run([KINERJA, "--db", db, "report", "--period", c["period"],
                                      "--json"]).stdout)
                with open(os.path.join(vdir, c["expected"])) as f:
                    want = json.load(f)
                where = "%s %s (kinerja report at %s)" % (name, c["expected"], o)
                numbers_equal(got.get("period"), c["period"], where + ".period", diffs)
                numbers_equal(got.get("as_of"), as_of, where + ".as_of", diffs)
                numbers_equal(got.get("employees"), want["employees"], where + ".employees",
                              diffs)
                rows = [r for r in offices_doc[c["period"]]["offices"] if r["office"] == o]
                numbers_equal(got.get("office"), rows[0] if rows else None, where + ".office",
                              diffs)
    finally:
        srv.stop()
    return diffs


def main():
    failed = False
    for name in args.sets:
        tmp = tempfile.mkdtemp(prefix="kj-vectors-%s-" % name)
        t0 = time.time()
        try:
            diffs = run_set(name, tmp)
        except (Fail, subprocess.TimeoutExpired, OSError, ValueError, KeyError) as e:
            diffs = ["%s: %s" % (name, e)]
        dt = time.time() - t0
        if diffs:
            failed = True
            print("vectors_e2e: %s: FAILED in %.1f s (files kept in %s):" % (name, dt, tmp))
            for d in diffs[:50]:
                print("  " + d)
            if len(diffs) > 50:
                print("  ... and %d more" % (len(diffs) - 50))
        else:
            print("vectors_e2e: %s: every case holds (kinerjad and the PCs) in %.1f s" % (name, dt))
            shutil.rmtree(tmp, ignore_errors=True)
    for base, db in PG_DBS:
        pg_psql(base, "DROP DATABASE IF EXISTS %s" % db)
    sys.exit(1 if failed else 0)


main()
