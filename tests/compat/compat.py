#!/usr/bin/env python3
"""compat.py - the previous release and this one, in every pairing (issue 13 pt 5).

  compat.py --source SRC --work DIR --commit 0c3ceb2 --kinerja NEW --kinerjad NEW
            [--git GIT] [--cmake CMAKE] [--cc CC] [--build-old-only]

First the previous release is built from git, inside the build tree:
`git archive COMMIT | tar -x` into DIR/old-src, configured into DIR/old-build
(Release, KJ_TESTS=OFF, the parent build's C compiler) and only its `kinerja`
and `kinerjad` targets built (-j2). DIR/old-build/kj-compat.stamp names the
commit: a later run with both binaries of that commit skips the build.
Nothing is downloaded; a checkout without the commit (a shallow clone)
fails and says how to fetch it. A warning that a newer compiler turns into an
error in the frozen old tree is built again with -Wno-error=THAT warning, for
that tree only (CMAKE_C_FLAGS of the old build).

Then real processes over TLS (127.0.0.1, the server's cert.pem pinned), each
section on its own data, so one failure does not hide the others:

  hello     GET /v1/hello of the new kinerjad states protocol_min 1,
            protocol_max 3 and the fields of every type it knows.
  pairing1  old kinerja <-> new kinerjad holding the new fields (office head
            and timezone, services, a complaint's resolution and resolved_by,
            channel whatsapp): the old PC syncs (exit 0, nothing pending, a
            second sync is a no-op), lists and shows the master data without
            the new fields, its survey and its edit of a complaint's summary
            reach the server, and the complaint keeps its resolution.
  pairing2  new kinerja <-> old kinerjad: a survey goes out, a complaint with
            a resolution is held (`status`: held 1); the server is upgraded
            in place (new kinerjad on the old data directory): every record
            keeps its values and stamps, and the next sync sends the held
            complaint with its resolution (held 0).
  pairing3  an old PC's database (synced, pending, deleted and rejected
            records of every type) opened by the new kinerja: same records,
            same values, same pending/rejected counts, and a sync to the
            upgraded server pushes each pending change exactly once; an old
            kinerjad data directory opened by the new kinerjad keeps every
            record with the same values and stamps.
  newer     a database from a newer version (PRAGMA user_version above the
            program's) is refused by kinerja and kinerjad with a message that
            says to upgrade.

Exit 0 when every section holds; otherwise each failed section is printed
with the assertion that failed and the files are kept.
"""
import argparse, contextlib, ctypes, datetime, http.client, json, os, re, shutil, signal, socket
import sqlite3, ssl, subprocess, sys, tempfile, time, traceback, urllib.parse, uuid

ap = argparse.ArgumentParser()
ap.add_argument("--source", required=True)
ap.add_argument("--work", required=True)
ap.add_argument("--commit", required=True)
ap.add_argument("--kinerja")
ap.add_argument("--kinerjad")
ap.add_argument("--git", default="git")
ap.add_argument("--cmake", default="cmake")
ap.add_argument("--cc", default="")
ap.add_argument("--build-old-only", action="store_true")
args = ap.parse_args()
REPO = os.path.abspath(args.source)
MASTER = os.path.join(REPO, "tests", "data", "server")  # offices/employees/indicators, old format


class Fail(Exception):
    pass


def die(msg):
    print("compat: FAILED: %s" % msg, file=sys.stderr)
    sys.exit(1)


def _die_with_parent():
    # Children get SIGKILL when this script dies (e.g. killed by a ctest timeout).
    try:
        ctypes.CDLL(None, use_errno=True).prctl(1, signal.SIGKILL)  # PR_SET_PDEATHSIG
    except (OSError, AttributeError):
        pass


# ---- the previous release, built from git ---------------------------------------------------

def build_old():
    """Build (or reuse) kinerja and kinerjad of args.commit; return their paths."""
    work = os.path.abspath(args.work)
    src, bld = os.path.join(work, "old-src"), os.path.join(work, "old-build")
    log = os.path.join(work, "old-build.log")
    binaries = (os.path.join(bld, "client", "kinerja"), os.path.join(bld, "server", "kinerjad"))
    try:
        r = subprocess.run([args.git, "-C", REPO, "rev-parse", "--verify", "--quiet",
                            args.commit + "^{commit}"], capture_output=True, text=True)
    except FileNotFoundError:
        die("git (%s) is not installed: compat_versions builds the previous release (commit %s) "
            "from this checkout's git history; install git and rerun" % (args.git, args.commit))
    if r.returncode != 0:
        if subprocess.run([args.git, "-C", REPO, "rev-parse", "--git-dir"],
                          capture_output=True).returncode != 0:
            die("%s is not a git checkout: compat_versions builds the previous release (commit %s) "
                "from its git history; run it in a git clone" % (REPO, args.commit))
        shallow = subprocess.run([args.git, "-C", REPO, "rev-parse", "--is-shallow-repository"],
                                 capture_output=True, text=True).stdout.strip() == "true"
        die("commit %s (the previous release) is not in this clone%s: fetch the history with "
            "`git -C %s fetch --unshallow` (or `git fetch origin %s`) and rerun"
            % (args.commit, " (a shallow clone)" if shallow else "", REPO, args.commit))
    full = r.stdout.strip()
    stamp = os.path.join(bld, "kj-compat.stamp")
    key = "%s %s" % (full, args.cc)  # the commit and the compiler
    try:
        with open(stamp) as f:
            cached = f.readline().strip()
    except OSError:
        cached = ""
    if cached == key and all(os.access(b, os.X_OK) for b in binaries):
        print("compat: old release %s: cached in %s" % (full[:12], bld))
        return binaries

    t0 = time.time()
    os.makedirs(work, exist_ok=True)
    shutil.rmtree(src, ignore_errors=True)
    os.makedirs(src)
    with open(log, "w") as lf:
        arch = subprocess.Popen([args.git, "-C", REPO, "archive", full], stdout=subprocess.PIPE,
                                stderr=lf)
        tar = subprocess.run(["tar", "-x", "-C", src], stdin=arch.stdout, stderr=lf)
        arch.stdout.close()
        if arch.wait() != 0 or tar.returncode != 0:
            die("git archive %s | tar -x failed (see %s)" % (full[:12], log))

    def attempt(extra):
        shutil.rmtree(bld, ignore_errors=True)
        cfg = [args.cmake, "-S", src, "-B", bld, "-DCMAKE_BUILD_TYPE=Release", "-DKJ_TESTS=OFF"]
        if args.cc:
            cfg.append("-DCMAKE_C_COMPILER=" + args.cc)
        with open(log, "a") as lf:
            lf.write("$ %s\n" % " ".join(cfg + extra))
            lf.flush()
            if subprocess.run(cfg + extra, stdout=lf, stderr=lf).returncode != 0:
                return False
            cmd = [args.cmake, "--build", bld, "--target", "kinerja", "kinerjad", "-j2"]
            lf.write("$ %s\n" % " ".join(cmd))
            lf.flush()
            return subprocess.run(cmd, stdout=lf, stderr=lf).returncode == 0

    # A warning that a newer compiler turns into an error in the frozen tree:
    # build again with -Wno-error=THAT (the old tree only), a few rounds.
    extra, nowarn = [], []
    for _ in range(6):
        ok = attempt(extra)
        if ok:
            break
        with open(log) as f:
            text = f.read()
        found = set(re.findall(r"\[-Werror=([\w+=-]+)\]", text) +
                    re.findall(r"\[-Werror,-W([\w+=-]+)\]", text)) - set(nowarn)
        if not found:
            break
        nowarn += sorted(found)
        extra = ["-DCMAKE_C_FLAGS=" + " ".join("-Wno-error=" + w for w in nowarn)]
        print("compat: the old tree fails -Werror on this compiler (%s); building it again "
              "with %s" % (", ".join(sorted(found)), extra[0]))
    if not ok or not all(os.access(b, os.X_OK) for b in binaries):
        with open(log) as f:
            tail = f.read()[-3000:]
        die("building the previous release %s failed (log %s):\n%s" % (full[:12], log, tail))
    with open(stamp, "w") as f:
        f.write("%s\n%s\n" % (key, " ".join(extra)))
    print("compat: old release %s built in %.1f s (%s)" % (full[:12], time.time() - t0, bld))
    return binaries


OLD_K, OLD_D = build_old()
if args.build_old_only:
    sys.exit(0)
if not args.kinerja or not args.kinerjad:
    die("--kinerja and --kinerjad (the new programs) are required")
NEW_K, NEW_D = os.path.abspath(args.kinerja), os.path.abspath(args.kinerjad)
LABEL = {OLD_K: "old kinerja", OLD_D: "old kinerjad", NEW_K: "new kinerja", NEW_D: "new kinerjad"}

tmp = tempfile.mkdtemp(prefix="kj-compat-")
procs = []
TODAY = datetime.date.today()


def day(n):
    """The date n days before today, YYYY-MM-DD (never in any office's future)."""
    return (TODAY - datetime.timedelta(days=n)).isoformat()


def cleanup(keep=False):
    for p in procs:
        if p.poll() is None:
            p.kill()
            p.wait()
    if not keep:
        shutil.rmtree(tmp, ignore_errors=True)


def check(cond, msg):
    if not cond:
        raise Fail(msg)


def run(argv, check_rc=True, timeout=60):
    r = subprocess.run(argv, capture_output=True, text=True, timeout=timeout,
                       preexec_fn=_die_with_parent)
    if check_rc and r.returncode != 0:
        raise Fail("%s %s: exit %d: %s" % (LABEL.get(argv[0], argv[0]), " ".join(argv[1:]),
                                          r.returncode, (r.stderr or r.stdout).strip()))
    return r


def free_port():
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    p = s.getsockname()[1]
    s.close()
    return p


def write(path, text):
    with open(path, "w") as f:
        f.write(text)
    return path


def user_version(db):
    c = sqlite3.connect(db, timeout=30)
    try:
        return c.execute("PRAGMA user_version").fetchone()[0]
    finally:
        c.close()


class Server:
    """A kinerjad data directory and, while started, its `serve` process on
    127.0.0.1:port (the same port across restarts, so PCs keep their URL)."""

    def __init__(self, name, binary):
        self.name, self.bin = name, binary
        self.data = os.path.join(tmp, name)
        self.port = free_port()
        self.url = "https://127.0.0.1:%d" % self.port
        self.cert = os.path.join(self.data, "cert.pem")
        self.proc = None

    def cmd(self, *a, binary=None, check_rc=True):
        return run([binary or self.bin, "--data", self.data] + list(a), check_rc=check_rc)

    def init(self):
        r = self.cmd("init")
        self.admin = [l for l in r.stdout.splitlines() if "admin token: " in l][0].split(": ", 1)[1]

    def device(self, office):
        r = self.cmd("device", "add", "--office", office, "--name", "pc-" + office)
        return [l for l in r.stdout.splitlines() if "device token: " in l][0].split(": ", 1)[1]

    def start(self, binary=None):
        if binary:
            self.bin = binary
        errlog = os.path.join(tmp, "%s-serve.log" % self.name)
        for _ in range(50):
            with open(errlog, "a") as ef:
                p = subprocess.Popen([self.bin, "--data", self.data, "serve", "--listen",
                                      "127.0.0.1:%d" % self.port], stdout=subprocess.PIPE,
                                     stderr=ef, text=True, preexec_fn=_die_with_parent)
            procs.append(p)
            if "listening on" in p.stdout.readline():
                self.proc = p
                return
            p.wait()
            with open(errlog) as ef:
                err = ef.read()
            if "in use" not in err:
                raise Fail("%s serve on %s does not start: %s" %
                           (LABEL[self.bin], self.data, err.strip()[-800:]))
            time.sleep(0.2)
        raise Fail("%s: port %d stays taken" % (LABEL[self.bin], self.port))

    def stop(self, quiet=False):
        """SIGTERM; it must exit 0 within 30 s (quiet: after a failure, just end it)."""
        p, self.proc = self.proc, None
        if p and p.poll() is None:
            p.send_signal(signal.SIGTERM)
            try:
                rc = p.wait(timeout=30)
            except subprocess.TimeoutExpired:
                p.kill()
                p.wait()
                rc = None
            if not quiet:
                check(rc is not None, "%s does not stop on SIGTERM" % LABEL[self.bin])
                check(rc == 0, "%s exits %d on SIGTERM" % (LABEL[self.bin], rc))

    def get(self, path, token=None):
        ctx = ssl.create_default_context(cafile=self.cert)
        conn = http.client.HTTPSConnection("127.0.0.1", self.port, context=ctx, timeout=30)
        try:
            conn.request("GET", path, headers={"Authorization": "Bearer " + (token or self.admin)})
            resp = conn.getresponse()
            body = resp.read().decode()
        finally:
            conn.close()
        if resp.status != 200:
            raise Fail("%s GET %s: %d %s" % (LABEL[self.bin], path, resp.status, body[:500]))
        return body

    def pull_all(self):
        """Every record state the admin sees: {(type, id): state}, asked as a
        client of protocol 2 (`protocol=2`; a protocol-1 caller, the default,
        is not sent the fields it cannot read; the old kinerjad ignores it)."""
        out, since = {}, "0"
        while True:
            page = json.loads(self.get("/v1/pull?since=%s&limit=5000&protocol=2" %
                                       urllib.parse.quote(str(since), safe="")))
            for st in page["changes"]:
                # protocol 2 has no common stamp "s": every value is stamped in "t"
                check("s" not in st and all(k in st.get("t", {}) for k in st.get("f", {})),
                      "%s pull as protocol 2: a state not in protocol 2's form: %s" %
                      (LABEL[self.bin], json.dumps(st)[:300]))
                out[(st["type"], st["id"])] = st
            since = page["next"]
            if not page["more"]:
                return out

    def applied_total(self):
        m = re.search(r'^kinerjad_records_total\{status="applied"\} (\d+)$', self.get("/metrics"),
                      re.M)
        check(m, "%s /metrics has no kinerjad_records_total{status=\"applied\"}" % LABEL[self.bin])
        return int(m.group(1))


class Pc:
    """An office PC: a kinerja database, run with the old or the new kinerja."""

    def __init__(self, name, binary):
        self.name, self.bin = name, binary
        self.db = os.path.join(tmp, name + ".db")

    def k(self, *a, binary=None, check_rc=True):
        return run([binary or self.bin, "--db", self.db] + list(a), check_rc=check_rc)

    def json(self, *a, binary=None):
        r = self.k(*a, binary=binary)
        try:
            return json.loads(r.stdout)
        except ValueError:
            raise Fail("%s %s: not JSON: %r" % (LABEL[binary or self.bin], " ".join(a),
                                               r.stdout[:300]))

    def init(self, srv, office="36.73.01"):
        self.k("init", "--office", office, "--server", srv.url, "--token", srv.device(office),
               "--ca", srv.cert)

    def add(self, *a, binary=None):
        return self.k("add", *a, binary=binary).stdout.strip().splitlines()[-1]

    def sync(self, binary=None):
        r = self.k("sync", "--json", binary=binary, check_rc=False)
        try:
            d = json.loads(r.stdout)
        except ValueError:
            d = None
        # exit 3 (issue 16): done, but changes stand rejected
        ok = r.returncode == 0 or (r.returncode == 3 and d and d.get("rejected_total", 0) > 0)
        check(ok, "%s sync: exit %d: %s %s" % (LABEL[binary or self.bin], r.returncode,
                                               r.stderr.strip(), r.stdout.strip()))
        if d is None:
            raise Fail("%s sync --json: not JSON: %r" % (LABEL[binary or self.bin], r.stdout[:300]))
        return d

    def status(self, binary=None):
        return self.json("status", "--json", binary=binary)

    def coding(self):
        """The body coding the PC keeps from the server's hello (meta
        server_coding, docs/protocol.md "Compression"): "kjzstd-..." or
        "gzip"; "" forgotten after a 415; None never asked."""
        con = sqlite3.connect(self.db)
        try:
            row = con.execute("SELECT value FROM meta WHERE key = 'server_coding'").fetchone()
        finally:
            con.close()
        return row[0] if row else None


@contextlib.contextmanager
def serving(srv, binary=None):
    """Start srv for a with block; stop it after (checked only when the block passed)."""
    srv.start(binary)
    try:
        yield srv
    except BaseException:
        srv.stop(quiet=True)
        raise
    srv.stop()


def rid(rec):
    """A listed record's id (office records `id`, office `code`, employee `nip`)."""
    for k in ("id", "code", "nip"):
        if k in rec:
            return rec[k]
    raise Fail("listed record without an id: %r" % rec)


def survey_fields(u1="4"):
    return ["date=" + day(5), "service=KTP-el", "u1=" + u1, "u2=3", "u3=4", "u4=4", "u5=3",
            "u6=4", "u7=4", "u8=3", "u9=4"]


def same_states(before, after, what):
    """Every state of `before` is in `after` with the same values and stamps."""
    for key, b in sorted(before.items()):
        a = after.get(key)
        check(a is not None, "%s: %s %s is gone" % (what, key[0], key[1]))
        for k in ("del", "f", "t", "dt"):
            check(a.get(k) == b.get(k), "%s: %s %s: '%s' was %s, now %s" %
                  (what, key[0], key[1], k, json.dumps(b.get(k), sort_keys=True),
                   json.dumps(a.get(k), sort_keys=True)))


def field(states, typ, id_, name):
    st = states.get((typ, id_))
    check(st is not None, "the server has no %s %s" % (typ, id_))
    return st["f"].get(name)


EMP_HEAD = "198503012020112001"  # Nur Dewi, 36.73.01, no supervisor (tests/data/server)
EMP_STAFF = "196604102014071002"  # Maya Wulan, 36.73.01, supervisor Nur Dewi


def load_master(srv, new_format):
    srv.cmd("import", "employee", os.path.join(MASTER, "employees.csv"))
    srv.cmd("import", "indicator", os.path.join(MASTER, "indicators.csv"))
    if not new_format:
        srv.cmd("import", "office", os.path.join(MASTER, "offices.csv"))
        return
    srv.cmd("import", "office", write(os.path.join(tmp, "offices-v2.csv"),
            "code,name,region,population,head,timezone\n"
            "36.73.01,Kecamatan Kasemen,Kota Serang,,%s,Asia/Jakarta\n"
            "36.73.02,Kecamatan Cipocok Jaya,Kota Semarang,1000,,Asia/Makassar\n"
            "36.73.03,Kecamatan Banyumanik,Kota Serang,,,Asia/Jayapura\n" % EMP_HEAD))
    srv.cmd("import", "service", write(os.path.join(tmp, "services.csv"),
            "office,name\n36.73.01,KTP-el\n36.73.01,Akta Kelahiran\n36.73.02,KTP-el\n"))


# ---- sections ---------------------------------------------------------------------------------

V2_TYPES = {  # domain.md v2 "CSV files", the id column left out
    "office": ["name", "region", "population", "head", "timezone"],
    "employee": ["name", "office", "position", "supervisor"],
    "indicator": ["name", "unit"],
    "service": ["office", "name"],
    "survey": ["office", "date", "service"] + ["u%d" % i for i in range(1, 10)] +
              ["age", "sex", "education", "occupation", "comment"],
    "activity": ["office", "nip", "date", "indicator", "quantity", "minutes", "description",
                 "evidence", "status", "reviewed_by"],
    "complaint": ["office", "received", "resolved", "channel", "category", "summary",
                  "resolution", "resolved_by"],
    "rating": ["office", "period", "rater", "ratee", "role"] + ["s%d" % i for i in range(1, 8)] +
              ["comment"],
    "target": ["office", "nip", "indicator", "period", "target", "weight"],
    # master data of one office, written by `kinerjad person activate` (issue 16)
    "activation": ["office", "nip", "code_hash", "expires"],
}


def section_hello():
    srv = Server("hello", NEW_D)
    srv.init()
    with serving(srv):
        for who, token in (("admin", srv.admin), ("device", srv.device("36.73.01"))):
            h = json.loads(srv.get("/v1/hello", token))
            for k in ("server", "version", "protocol", "server_time", "role", "office", "device",
                      "limits"):
                check(k in h, "hello (%s): today's key '%s' is missing: %s" % (who, k, h))
            check(type(h["protocol"]) is int,
                  "hello: 'protocol' is not a number: %r" % h["protocol"])
            check(h.get("protocol_min") == 1 and type(h.get("protocol_min")) is int,
                  "hello (%s): protocol_min is %r, expected 1" % (who, h.get("protocol_min")))
            check(h.get("protocol_max") == 3 and type(h.get("protocol_max")) is int,
                  "hello (%s): protocol_max is %r, expected 3" % (who, h.get("protocol_max")))
            types = h.get("types")
            check(isinstance(types, dict), "hello (%s): no 'types' object: %r" % (who, types))
            check(types.get("office") == V2_TYPES["office"], "hello: types.office is %r, "
                  "expected %r" % (types.get("office"), V2_TYPES["office"]))
            for t, fields in V2_TYPES.items():
                got = types.get(t)
                check(isinstance(got, list) and sorted(got) == sorted(fields),
                      "hello: types.%s is %r, expected the fields %r" % (t, got, fields))
            check(set(types) == set(V2_TYPES), "hello: types are %s, expected %s" %
                  (sorted(types), sorted(V2_TYPES)))
            enc = h.get("encodings")
            check(isinstance(enc, list) and len(enc) == 2 and re.fullmatch(
                r"kjzstd-[0-9a-f]{16}", str(enc[0])) and enc[1] == "gzip",
                "hello (%s): encodings are %r, expected [\"kjzstd-<16 hex>\", \"gzip\"]"
                % (who, enc))


def section_pairing1():
    """Old kinerja <-> new kinerjad with the new fields in its data."""
    srv = Server("p1-srv", NEW_D)
    srv.init()
    load_master(srv, new_format=True)
    c_res, c_wa = str(uuid.uuid4()), str(uuid.uuid4())
    resolution = "dibantu lewat telepon; berkas 7f3a lengkap"
    srv.cmd("import", "complaint", write(os.path.join(tmp, "complaints-v2.csv"),
            "id,office,received,resolved,channel,category,summary,resolution,resolved_by\n"
            "%s,36.73.01,%s,%s,telepon,layanan,antrian KTP lama,%s,%s\n"
            "%s,36.73.01,%s,,whatsapp,layanan,pesan WA belum dibalas,,\n"
            % (c_res, day(9), day(7), resolution, EMP_STAFF, c_wa, day(6))))
    with serving(srv):
        pc = Pc("p1-old", OLD_K)
        pc.init(srv)
        s_old = pc.add("survey", *survey_fields("2"))
        r = pc.sync()
        check(r["rejected"] == 0, "old kinerja's first sync: %d rejected" % r["rejected"])
        st = pc.status()
        check(st["pending"] == 0 and st["rejected"] == 0,
              "old kinerja after sync: pending %d, rejected %d" % (st["pending"], st["rejected"]))
        r = pc.sync()
        check(r["pushed"] == 0 and r["pulled"] == 0 and r["rejected"] == 0,
              "old kinerja's second sync is not a no-op: %s" % r)

        # A later central change with a new field still reaches the old PC.
        srv.cmd("import", "office", write(os.path.join(tmp, "offices-v2b.csv"),
                "code,name,region,timezone\n36.73.03,Kecamatan Banyumanik Baru,Kota Serang,"
                "Asia/Makassar\n"))
        r = pc.sync()
        check(r["pulled"] == 1 and r["pushed"] == 0,
              "old kinerja's sync after an office was renamed: %s" % r)
        offices = {rid(o): o for o in pc.json("list", "office", "--json")}
        check(offices.get("36.73.03", {}).get("name") == "Kecamatan Banyumanik Baru",
              "old kinerja: the renamed office is %s" % offices.get("36.73.03"))
        check(set(offices) == {"36.73.01", "36.73.02", "36.73.03"},
              "old kinerja lists offices %s" % sorted(offices))
        o = offices["36.73.01"]
        check(o.get("name") == "Kecamatan Kasemen" and o.get("region") == "Kota Serang",
              "old kinerja: office 36.73.01 is %s" % o)
        check(offices["36.73.02"].get("population") == "1000",
              "old kinerja: office 36.73.02 is %s" % offices["36.73.02"])
        for oo in offices.values():
            check(not ({"head", "timezone"} & set(oo)), "old kinerja lists a new field: %s" % oo)
        shown = pc.k("show", "36.73.01").stdout
        check("Kecamatan Kasemen" in shown and EMP_HEAD not in shown and "Asia/" not in shown,
              "old kinerja show 36.73.01:\n%s" % shown)
        complaints = {rid(c): c for c in pc.json("list", "complaint", "--json")}
        check(c_res in complaints, "old kinerja lists complaints %s, expected %s"
              % (sorted(complaints), c_res))
        check(complaints[c_res].get("summary") == "antrian KTP lama" and
              not ({"resolution", "resolved_by"} & set(complaints[c_res])),
              "old kinerja: complaint %s is %s" % (c_res, complaints[c_res]))

        pc.k("update", c_res, "summary=antrian KTP lama, sudah dijelaskan")
        s_new = pc.add("survey", *survey_fields("1"))
        r = pc.sync()
        check(r["pushed"] == 2 and r["rejected"] == 0,
              "old kinerja's sync of an edit and a survey: %s" % r)
        st = pc.status()
        check(st["pending"] == 0 and st["rejected"] == 0, "old kinerja after the edit: "
              "pending %d, rejected %d" % (st["pending"], st["rejected"]))

        states = srv.pull_all()
        for s, u1 in ((s_old, "2"), (s_new, "1")):
            check(field(states, "survey", s, "u1") == u1 and
                  field(states, "survey", s, "office") == "36.73.01",
                  "new kinerjad: the old PC's survey %s is %s" % (s, states.get(("survey", s))))
        got = {n: field(states, "complaint", c_res, n) for n in
               ("summary", "resolution", "resolved_by", "channel", "received", "resolved")}
        want = {"summary": "antrian KTP lama, sudah dijelaskan", "resolution": resolution,
                "resolved_by": EMP_STAFF, "channel": "telepon", "received": day(9),
                "resolved": day(7)}
        check(got == want, "new kinerjad: complaint %s after the old PC's edit is %s, expected %s"
              % (c_res, got, want))
        check(field(states, "complaint", c_wa, "channel") == "whatsapp",
              "new kinerjad: complaint %s lost its channel 'whatsapp' after the old PC's syncs: "
              "%s" % (c_wa, states.get(("complaint", c_wa))))

        # A new PC of the same office sees the old PC's edit and the new fields.
        pc2 = Pc("p1-new", NEW_K)
        pc2.init(srv)
        r = pc2.sync()
        st = pc2.status()
        check(r["rejected"] == 0 and st["pending"] == 0 and st.get("held") == 0,
              "new kinerja on the new kinerjad: sync %s, status %s" % (r, st))
        c = {rid(c): c for c in pc2.json("list", "complaint", "--json")}.get(c_res, {})
        got = {n: c.get(n) for n in ("summary", "resolution", "resolved_by")}
        check(got == {n: want[n] for n in got},
              "new kinerja: complaint %s is %s, expected %s" % (c_res, c, want))


def section_pairing2():
    """New kinerja <-> old kinerjad, then the server upgraded in place."""
    srv = Server("p2-srv", OLD_D)
    srv.init()
    load_master(srv, new_format=False)
    with serving(srv):
        pc = Pc("p2-new", NEW_K)
        pc.init(srv)
        s1 = pc.add("survey", *survey_fields("3"))
        resolution = "KK dicetak ulang hari itu juga"
        c1 = pc.add("complaint", "received=" + day(4), "resolved=" + day(3), "channel=langsung",
                    "summary=KK salah cetak", "resolution=" + resolution)
        # later changes of a held record wait behind it: an edit and a
        # delete the old server would take, of records it does not have yet
        c2 = pc.add("complaint", "received=" + day(4), "channel=whatsapp", "summary=lewat WA")
        pc.k("update", c2, "summary=lewat WA, diperbarui")
        c3 = pc.add("complaint", "received=" + day(4), "resolution=x", "summary=akan dihapus")
        pc.k("delete", c3)
        r = pc.sync()
        check(r["rejected"] == 0, "new kinerja -> old kinerjad: %d rejected: %s"
              % (r["rejected"], pc.k("list", "--rejected", "--json").stdout.strip()))
        check(pc.coding() == "gzip", "new kinerja -> old kinerjad: the PC keeps the body "
              "coding %r, expected gzip (the old hello names none)" % pc.coding())
        states = srv.pull_all()
        check(("complaint", c2) not in states and ("complaint", c3) not in states,
              "old kinerjad got a change of a held record")
        check(field(states, "survey", s1, "u1") == "3",
              "old kinerjad has not the new PC's survey %s" % s1)
        check(("complaint", c1) not in states, "old kinerjad got the complaint with a "
              "resolution: %s" % states.get(("complaint", c1)))
        st = pc.status()
        check(st.get("held") == 5, "new kinerja status --json: held is %r, expected 5 (%s)"
              % (st.get("held"), st))
        text = pc.k("status").stdout
        check(re.search(r"^held for a newer server:\s*5\b", text, re.M),
              "new kinerja status has no line 'held for a newer server: 5':\n%s" % text)
        shown = pc.json("show", c2, "--json")
        check(shown.get("sync") == "held", "new kinerja show of a held record: %r" % shown)

        before = srv.pull_all()
        srv.stop()
        srv.start(NEW_D)  # the upgrade: the same data directory and port
        same_states(before, srv.pull_all(), "old kinerjad's data under the new kinerjad")

        r = pc.sync()
        check(r["rejected"] == 0, "new kinerja after the upgrade: %d rejected" % r["rejected"])
        check((pc.coding() or "").startswith("kjzstd-"), "new kinerja after the upgrade: body "
              "coding %r, expected the dictionary's (hello asked again)" % pc.coding())
        st = pc.status()
        check(st.get("held") == 0 and st["pending"] == 0 and st["rejected"] == 0,
              "new kinerja after the upgrade: held %r, pending %d, rejected %d"
              % (st.get("held"), st["pending"], st["rejected"]))
        states = srv.pull_all()
        got = {n: field(states, "complaint", c1, n) for n in ("summary", "resolution", "received")}
        check(got == {"summary": "KK salah cetak", "resolution": resolution, "received": day(4)},
              "the upgraded server's complaint %s is %s" % (c1, got))
        check(field(states, "complaint", c2, "summary") == "lewat WA, diperbarui" and
              field(states, "complaint", c2, "channel") == "whatsapp",
              "the held complaint's later edit was lost: %s" % states.get(("complaint", c2)))
        check(states.get(("complaint", c3), {}).get("del") is True,
              "the held complaint deleted on the PC is live on the server: %s"
              % states.get(("complaint", c3)))
        same_states(before, states,
                    "after the held complaint went out")


def snapshot(pc, binary):
    """What a PC shows of its records: {type: {id: listed record}}, status counts,
    rejected {id: reason}."""
    lists = {}
    for t in ("office", "employee", "indicator", "survey", "activity", "complaint", "rating",
              "target"):
        lists[t] = {rid(r): r for r in pc.json("list", t, "--json", binary=binary)}
    st = pc.status(binary=binary)
    rej = {rid(r): r.get("reason") for r in pc.json("list", "--rejected", "--json", binary=binary)}
    return lists, (st["pending"], st["rejected"]), rej


def section_pairing3():
    """An old PC's database and an old server's data directory, opened by the new programs."""
    srv = Server("p3-srv", OLD_D)
    srv.init()
    load_master(srv, new_format=False)
    with serving(srv):
        pc = Pc("p3-old", OLD_K)
        pc.init(srv)
        year = str(TODAY.year)
        s_keep = pc.add("survey", *survey_fields("4"), "age=34", "sex=P", "education=SMA",
                        "comment=antri 2 jam\ntapi ramah")
        s_gone = pc.add("survey", *survey_fields("1"))
        act = pc.add("activity", "nip=" + EMP_STAFF, "date=" + day(6), "indicator=DOC",
                     "quantity=3.5", "minutes=90", "description=rekam KTP")
        comp = pc.add("complaint", "received=" + day(8), "resolved=" + day(2), "channel=telepon",
                      "category=layanan", "summary=petugas tidak ada")
        rat = pc.add("rating", "period=" + year, "rater=" + EMP_STAFF, "ratee=" + EMP_HEAD,
                     "role=bawahan", "s1=4", "s2=4", "s3=3", "s4=5", "s5=4", "s6=4", "s7=3")
        tgt = pc.add("target", "nip=" + EMP_STAFF, "indicator=DOC", "period=" + year,
                     "target=120", "weight=2")
        r = pc.sync()
        check(r["pushed"] == 6 and r["rejected"] == 0, "old PC's first sync: %s" % r)
        pc.k("delete", s_gone)
        s_foreign = pc.add("survey", "office=36.73.02", *survey_fields("2"))  # the server refuses
        r = pc.sync()
        check(r["pushed"] == 1 and r["rejected"] == 1, "old PC's second sync: %s" % r)
        s_pending = pc.add("survey", *survey_fields("3"))  # never synced by the old PC
        pc.k("update", comp, "summary=petugas tidak ada di loket")
        pc.k("update", act, "quantity=4")
        old_lists, old_counts, old_rej = snapshot(pc, OLD_K)
        check(old_counts == (3, 1), "old PC: pending/rejected %s, expected (3, 1)" % (old_counts,))
        check(set(old_rej) == {s_foreign}, "old PC: rejected %s" % old_rej)
        check(s_gone not in old_lists["survey"] and len(old_lists["survey"]) == 3,
              "old PC lists surveys %s" % sorted(old_lists["survey"]))

        before = srv.pull_all()
        check(("survey", s_gone) in before and before[("survey", s_gone)]["del"] is True,
              "old kinerjad: the deleted survey is %s" % before.get(("survey", s_gone)))
        old_srv_version = user_version(os.path.join(srv.data, "kinerjad.db"))
        srv.stop()
        srv.start(NEW_D)
        after = srv.pull_all()
        same_states(before, after, "old kinerjad's data directory under the new kinerjad")
        check(set(after) == set(before), "the new kinerjad shows records the old did not: %s"
              % sorted(set(after) - set(before)))

        old_pc_version = user_version(pc.db)
        new_lists, new_counts, new_rej = snapshot(pc, NEW_K)
        for t, recs in old_lists.items():
            check(set(new_lists[t]) == set(recs), "new kinerja lists %s %s, the old %s"
                  % (t, sorted(new_lists[t]), sorted(recs)))
            for i, old in recs.items():
                new = new_lists[t][i]
                for k, v in old.items():
                    check(new.get(k) == v, "new kinerja: %s %s: '%s' is %r, the old PC had %r"
                          % (t, i, k, new.get(k), v))
                for k in set(new) - set(old):
                    check(new[k] is None, "new kinerja: %s %s has '%s' = %r the old PC had not"
                          % (t, i, k, new[k]))
        check(new_counts == old_counts, "new kinerja on the old PC's database: pending/rejected "
              "%s, the old %s" % (new_counts, old_counts))
        check(new_rej == old_rej, "new kinerja: rejected %s, the old %s" % (new_rej, old_rej))

        applied0 = srv.applied_total()
        r = pc.sync(NEW_K)
        check(r["pushed"] == 3 and r["duplicate"] == 0 and r["rejected"] == 0,
              "new kinerja's sync of the old PC's 3 pending changes: %s" % r)
        check(srv.applied_total() - applied0 == 3, "the server applied %d changes, expected 3"
              % (srv.applied_total() - applied0))
        r = pc.sync(NEW_K)
        check(r["pushed"] == 0 and r["rejected"] == 0, "the sync after is not empty: %s" % r)
        check(srv.applied_total() - applied0 == 3, "a second sync applied more changes")
        states = srv.pull_all()
        check(field(states, "survey", s_pending, "u1") == "3",
              "the pending survey %s is not on the server" % s_pending)
        check(field(states, "complaint", comp, "summary") == "petugas tidak ada di loket",
              "the pending complaint edit is not on the server")
        check(field(states, "activity", act, "quantity") == "4",
              "the pending activity edit is not on the server")
        check(states[("survey", s_gone)]["del"] is True, "the deleted survey came back")
        check(("survey", s_foreign) not in states, "the rejected survey reached the server")
        for t, i in (("survey", s_keep), ("rating", rat), ("target", tgt)):
            check(states[(t, i)]["f"] == before[(t, i)]["f"], "%s %s changed" % (t, i))
        st = pc.status(NEW_K)
        check((st["pending"], st["rejected"]) == (0, 1), "new kinerja after the sync: "
              "pending %d, rejected %d" % (st["pending"], st["rejected"]))

        # What the new programs migrated, the old ones refuse (only when the schema moved on).
        if user_version(pc.db) > old_pc_version:
            r = pc.k("status", binary=OLD_K, check_rc=False)
            check(r.returncode != 0 and "upgrade" in r.stderr,
                  "old kinerja on a database the new one migrated: exit %d: %s"
                  % (r.returncode, r.stderr.strip()))
        srv.stop()
        if user_version(os.path.join(srv.data, "kinerjad.db")) > old_srv_version:
            r = srv.cmd("device", "list", binary=OLD_D, check_rc=False)
            check(r.returncode != 0 and "upgrade" in r.stderr,
                  "old kinerjad on a data directory the new one migrated: exit %d: %s"
                  % (r.returncode, r.stderr.strip()))


def section_newer():
    """A database from a newer version is refused, with a word about upgrading."""
    pc = Pc("newer", NEW_K)
    pc.k("init", "--office", "36.73.01")
    v = user_version(pc.db)
    c = sqlite3.connect(pc.db)
    c.execute("PRAGMA user_version = %d" % (v + 1))
    c.close()
    for cmd in (["status"], ["list", "survey"], ["sync"]):
        r = pc.k(*cmd, check_rc=False)
        check(r.returncode != 0 and "upgrade" in r.stderr.lower(),
              "new kinerja %s on a database of schema %d (newer than its %d): exit %d, %r"
              % (" ".join(cmd), v + 1, v, r.returncode, r.stderr.strip()))

    srv = Server("newer-srv", NEW_D)
    srv.init()
    db = os.path.join(srv.data, "kinerjad.db")
    v = user_version(db)
    c = sqlite3.connect(db)
    c.execute("PRAGMA user_version = %d" % (v + 1))
    c.close()
    r = srv.cmd("device", "list", check_rc=False)
    check(r.returncode != 0 and "upgrade" in r.stderr.lower(),
          "new kinerjad device list on a database of schema %d (newer than its %d): exit %d, %r"
          % (v + 1, v, r.returncode, r.stderr.strip()))
    p = subprocess.Popen([NEW_D, "--data", srv.data, "serve", "--listen", "127.0.0.1:0"],
                         stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                         preexec_fn=_die_with_parent)
    procs.append(p)
    try:
        out, err = p.communicate(timeout=15)
    except subprocess.TimeoutExpired:
        p.kill()
        out, err = p.communicate()
        raise Fail("new kinerjad serve runs on a database from a newer version: %r" % out)
    check(p.returncode != 0 and "upgrade" in err.lower() and "listening" not in out,
          "new kinerjad serve on a newer database: exit %d, %r" % (p.returncode, err.strip()))


def section_rollback():
    """The server rolled back to the previous release (its binary and its
    backup), then upgraded again: the new PC holds what needs protocol 2,
    never as a rejection, and sends it after the upgrade."""
    srv = Server("rb-srv", OLD_D)
    srv.init()
    load_master(srv, new_format=False)
    pc = Pc("rb-new", NEW_K)
    pc.init(srv)  # the device exists in the backup
    backup = os.path.join(tmp, "rb-backup.db")
    srv.cmd("backup", backup)
    with serving(srv, NEW_D):
        pc.sync()
    zst = pc.coding() or ""
    check(zst.startswith("kjzstd-"), "new kinerja <-> new kinerjad: body coding %r, expected "
          "the dictionary's" % zst)
    for ext in ("-wal", "-shm"):
        try:
            os.unlink(os.path.join(srv.data, "kinerjad.db" + ext))
        except FileNotFoundError:
            pass
    shutil.copy(backup, os.path.join(srv.data, "kinerjad.db"))
    with serving(srv, OLD_D):
        c = pc.add("complaint", "received=" + day(3), "resolution=dicetak ulang", "summary=KK")
        # the PC still sends zstd: the old kinerjad answers 415, the push
        # goes again in gzip in the same sync, and the coding is forgotten
        r = pc.sync()
        with open(os.path.join(tmp, "rb-srv-serve.log")) as f:
            log = f.read()
        check(re.search(r"POST /v1/push 415 ", log) and re.search(r"POST /v1/push 200 ", log),
              "the rolled-back kinerjad's log has not a push refused 415 then one taken:\n%s"
              % log[-2000:])
        check(pc.coding() == "", "after a 415 the PC keeps the body coding %r, expected it "
              "forgotten" % pc.coding())
        check(r["rejected"] == 0, "new kinerja -> rolled-back kinerjad: %d rejected: %s"
              % (r["rejected"], pc.k("list", "--rejected", "--json").stdout.strip()))
        st = pc.status()
        check(st.get("held") == 1 and st["rejected"] == 0,
              "after the rollback: held %r, rejected %d" % (st.get("held"), st["rejected"]))
    with serving(srv, NEW_D):
        r = pc.sync()
        check(pc.coding() == zst, "after the new upgrade: body coding %r, expected %r"
              % (pc.coding(), zst))
        st = pc.status()
        check(st.get("held") == 0 and st["pending"] == 0 and st["rejected"] == 0,
              "after the new upgrade: held %r, pending %d, rejected %d"
              % (st.get("held"), st["pending"], st["rejected"]))
        check(field(srv.pull_all(), "complaint", c, "resolution") == "dicetak ulang",
              "the held complaint did not reach the upgraded server")


def section_upgraded_pc():
    """An old PC that synced with the upgraded server, then upgraded itself:
    it gets the fields it could not receive before; a value taken under the
    old bounds stays, and the record stays editable."""
    srv = Server("up-srv", OLD_D)
    srv.init()
    load_master(srv, new_format=False)
    pc = Pc("up-pc", OLD_K)
    pc.init(srv)
    with serving(srv):
        a = pc.add("activity", "nip=" + EMP_STAFF, "date=" + day(6), "indicator=DOC",
                   "quantity=2.123456")  # 6 decimals: fine in protocol 1
        pc.sync()
    srv.bin = NEW_D  # the server is upgraded, then gets the new master data
    load_master(srv, new_format=True)
    srv.cmd("import", "complaint", write(os.path.join(tmp, "up-complaints.csv"),
            "id,office,received,channel,summary,resolution\n"
            "0190a0b0-1c2d-7e3f-8a4b-5c6d7e8f9a77,36.73.01,%s,whatsapp,antre,dilayani\n"
            % day(6)))
    with serving(srv):
        pc.sync()
        offices = {rid(o): o for o in pc.json("list", "office", "--json")}
        check("head" not in offices["36.73.01"], "the old PC shows an office head")
        pc.sync(binary=NEW_K)  # the PC upgraded
        offices = {rid(o): o for o in pc.json("list", "office", "--json", binary=NEW_K)}
        check(offices["36.73.01"].get("head") == EMP_HEAD and
              offices["36.73.01"].get("timezone") == "Asia/Jakarta",
              "the upgraded PC lacks the office's head and timezone: %s" % offices["36.73.01"])
        comp = pc.json("show", "0190a0b0-1c2d-7e3f-8a4b-5c6d7e8f9a77", "--json", binary=NEW_K)
        check(comp.get("resolution") == "dilayani" and comp.get("channel") == "whatsapp",
              "the upgraded PC lacks the complaint's resolution/channel: %s" % comp)
        services = pc.json("list", "service", "--json", binary=NEW_K)
        check(len(services) == 2, "the upgraded PC has %d services, expected 2" % len(services))
        pc.k("update", a, "minutes=30", binary=NEW_K)
        r = pc.sync(binary=NEW_K)
        check(r["rejected"] == 0, "an edit of a record holding a value of the old bounds was "
              "rejected: %s" % pc.k("list", "--rejected", binary=NEW_K).stdout.strip())
        states = srv.pull_all()
        check(field(states, "activity", a, "minutes") == "30" and
              field(states, "activity", a, "quantity") == "2.123456",
              "the edit of the old activity: %s" % states.get(("activity", a)))


SECTIONS = [("hello", section_hello), ("pairing1", section_pairing1),
            ("pairing2", section_pairing2), ("pairing3", section_pairing3),
            ("rollback", section_rollback), ("upgraded", section_upgraded_pc),
            ("newer", section_newer)]
only = [s for s in os.environ.get("KJ_COMPAT_ONLY", "").split(",") if s]
failed = []
t_all = time.time()
try:
    for name, fn in SECTIONS:
        if only and name not in only:
            continue
        t0 = time.time()
        try:
            fn()
            print("compat: ok %-9s %.1f s" % (name, time.time() - t0), flush=True)
        except (Fail, subprocess.TimeoutExpired) as e:
            print("compat: FAILED %s: %s" % (name, e), file=sys.stderr, flush=True)
            failed.append(name)
        except Exception:  # an answer of an unexpected shape: still run the other sections
            print("compat: FAILED %s:\n%s" % (name, traceback.format_exc()), file=sys.stderr,
                  flush=True)
            failed.append(name)
finally:
    cleanup(keep=bool(failed))
if failed:
    print("compat: FAILED %s (files kept in %s)" % (", ".join(failed), tmp), file=sys.stderr)
    sys.exit(1)
print("compat: ok, all sections in %.1f s (old release: %s)"
      % (time.time() - t_all, os.path.dirname(os.path.dirname(OLD_K))))
