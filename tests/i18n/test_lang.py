#!/usr/bin/env python3
"""test_lang.py KINERJA KINERJAD - kinerja's language (common/i18n.h, po/).

The real binaries, each run with an environment of our own (not the
suite's LANGUAGE=en):
  1. no LANG at all, LANG=C, C.UTF-8, POSIX, fr_FR.UTF-8, LANGUAGE=id:en:
     Indonesian --help, errors naming the record and field, status, CSV
     import errors (exactly: a problem reported once), a pending record's
     state in list and show;
  2. LANG=en_US.UTF-8, LANGUAGE=en, LC_ALL=en_GB.UTF-8 over LANG=id_ID,
     LANGUAGE=fr:en: the same in English;
  3. kinerjad stays English in an environment kinerja reads as Indonesian
     (its admins read the logs; it never binds the catalogue);
  4. `kinerja ui`: the API answers a survey with a missing answer in the
     language of the page (cookie kj_lang, web/office/i18n.js), Indonesian
     without one, and each request in its own language when many run at
     once on the thread pool.
"""
import atexit, json, os, shutil, subprocess, sys, tempfile, threading, urllib.request

KINERJA, KINERJAD = sys.argv[1], sys.argv[2]
tmp = tempfile.mkdtemp(prefix="kj-i18n.")
HERE = os.path.dirname(os.path.abspath(__file__))
# An office PC whose HEAD has a PIN (tests/browser/office_env.py: a real
# kinerjad on 127.0.0.1): --as asks the PIN only of someone who can sign in
# (a pty: not kinerja.exe's console under Wine)
office = None
if not os.environ.get("KJ_WINE_EXE"):
    sys.path.insert(0, os.path.join(HERE, "..", "browser"))
    import office_env  # noqa: E402
    office = office_env.Office(KINERJA, KINERJAD, os.path.join(HERE, "..", "data"))
    atexit.register(office.close)
NOPIN = "197412122018081005"  # Eko Hendra, on the office's roster, no PIN at the PC
fails = []


def check(cond, what):
    if not cond:
        fails.append(what)
        print("FAIL:", what, file=sys.stderr)


def env(**kw):
    """A clean environment: no LANG, LANGUAGE or LC_* unless given."""
    e = {k: v for k, v in os.environ.items()
         if not (k.startswith("LC_") or k in ("LANG", "LANGUAGE", "KINERJA_DB"))}
    e.update(kw)
    return e


def run(args, e, db=None, stdin=None):
    cmd = [KINERJA] + (["--db", db] if db else []) + args
    p = subprocess.run(cmd, env=e, capture_output=True, text=True, timeout=60, input=stdin)
    return p.returncode, p.stdout, p.stderr


db = os.path.join(tmp, "k.db")
csv = os.path.join(tmp, "bad.csv")
with open(csv, "w") as f:
    f.write("date,service,u1\n2026-03-02,KTP-el,9\n")
sci = os.path.join(tmp, "nip.csv")
with open(sci, "w") as f:
    f.write("nip,date,indicator,quantity\n1.98501E+17,2026-03-02,DOC,1\n")
SURVEY = ["date=2026-03-02", "service=KTP-el", "u1=4", "u2=3", "u3=4", "u4=4",
          "u5=3", "u6=4", "u7=4", "u8=3"]  # u9 missing

ID = {
    "help": "cara pakai: kinerja [--db PATH] COMMAND [ARGS]\n",
    "summary": "  init     membuat basis data lokal untuk sebuah kantor\n",
    "init": "'%s' dibuat untuk kantor 36.73.04\n" % db,
    "add": "kinerja: survey: isian 'u9': wajib diisi\n",
    "status": "kantor:        36.73.04\n",
    "status2": "tertunda:      0 perubahan\n",
    "skew": "selisih jam:   0 ms\n",
    "state": "keadaan:       belum pernah\n",
    "oldest": "tertunda:      1 perubahan (terlama ",
    "import": f"{csv}:2: isian 'u1': harus bilangan bulat dari 1 sampai 4\n"
              f"{csv}:2: isian 'u2': wajib diisi\n",
    "import_out": "diimpor 0 baris dari '%s': 0 baru" % csv,
    "cmd": "kinerja: perintah 'stauts' tidak dikenal (maksud Anda 'status'?)\n",
    "pending": " [tertunda]\n",
    "sync": "sync         tertunda\n",
    "sci": "{}:2: isian 'nip': 1.98501E+17 bukan NIP: spreadsheet mengubah NIP menjadi angka "
           "dan kehilangan angka terakhirnya; format kolom sebagai teks lalu ketik NIP-nya lagi\n",
    "resolved": "kinerja: complaint: isian 'resolved': tidak boleh sebelum isian 'received'\n",
    "as": "kinerja: add rating: --as NIP wajib: penilaian ditulis oleh penilainya, yang masuk "
          "dengan PIN-nya\n",
    "prompt": "PIN 198503012020112001: ",
    "nopin": "kinerja: 197412122018081005 belum punya PIN di PC ini",
    # the employees' table: Indonesian heads; capaian, hasil, perilaku, predikat
    # (and the values diatas/sesuai/dibawah) are the regulation's words
    "emp_head": ["nip", "nama", "capaian", "hasil", "perilaku", "penilaian", "predikat"],
    "comma": "kinerja: activity: isian 'quantity': '1,5' memakai koma desimal: pakai titik "
             "desimal: 1.5\n",
    "rules": ["isian 'nip': harus NIP 18 angka",
              "isian 'indicator': harus 1 sampai 32 karakter dari 0-9 A-Z a-z . _ -",
              "isian 'description': tidak boleh berisi karakter kendali (baris baru dan tab boleh)",
              "isian 'evidence': tidak boleh berisi karakter kendali\n"],
}
EN = {
    "help": "usage: kinerja [--db PATH] COMMAND [ARGS]\n",
    "summary": "  init     create the local database for an office\n",
    "init": "created '%s' for office 36.73.04\n" % db,
    "add": "kinerja: survey: field 'u9': is required\n",
    "status": "office:        36.73.04\n",
    "status2": "pending:       0 changes\n",
    "skew": "clock skew:    0 ms\n",
    "state": "state:         never\n",
    "oldest": "pending:       1 change (oldest ",
    "import": f"{csv}:2: field 'u1': must be an integer from 1 to 4\n"
              f"{csv}:2: field 'u2': is required\n",
    "import_out": "imported 0 rows from '%s': 0 new" % csv,
    "cmd": "kinerja: unknown command 'stauts' (did you mean 'status'?)\n",
    "pending": " [pending]\n",
    "sync": "sync         pending\n",
    "sci": "{}:2: field 'nip': 1.98501E+17 is not a NIP: the spreadsheet turned the NIP into a "
           "number and lost its last digits; format the column as text and type the NIPs again\n",
    "resolved": "kinerja: complaint: field 'resolved': must not be before received\n",
    "as": "kinerja: add rating: --as NIP is required: a rating is written by its rater, signed in "
          "with their PIN\n",
    "prompt": "PIN for 198503012020112001: ",
    "nopin": "kinerja: 197412122018081005 has no PIN at this PC",
    "emp_head": ["nip", "name", "capaian", "hasil", "perilaku", "rating", "predikat"],
    "comma": "kinerja: activity: field 'quantity': '1,5' has a decimal comma: use a decimal "
             "point: 1.5\n",
    "rules": ["field 'nip': must be an 18-digit NIP",
              "field 'indicator': must be 1 to 32 of 0-9 A-Z a-z . _ -",
              "field 'description': must not contain control characters (newline and tab are "
              "allowed)",
              "field 'evidence': must not contain control characters\n"],
}


def prompt_of(args, e, db):
    """What kinerja asks on a terminal (stdin and stderr a pty) before
    reading the empty line sent back."""
    import pty, select
    master, slave = pty.openpty()
    e = {k: v for k, v in e.items() if k != "KINERJA_PIN"}
    p = subprocess.Popen([KINERJA, "--db", db] + args, env=e, stdin=slave, stdout=subprocess.PIPE,
                         stderr=slave, close_fds=True)
    os.close(slave)
    said = b""
    try:
        while b": " not in said:
            r, _, _ = select.select([master], [], [], 30)
            if not r:
                break
            said += os.read(master, 1024)
        # the line may be typed before the echo is off (a flush drops it):
        # again until kinerja has read one
        for _ in range(60):
            os.write(master, b"\n")
            try:
                p.wait(timeout=0.5)
                break
            except subprocess.TimeoutExpired:
                pass
        p.communicate(timeout=30)
    except OSError:
        pass
    finally:
        if p.poll() is None:
            p.kill()
            p.wait()
        os.close(master)
    return said.decode(errors="replace")


def said_at_terminal(args, e, db):
    """All kinerja writes to a terminal (stdin and stderr a pty) until it
    exits; a line is typed whenever it waits 3 s for one (a prompt)."""
    import pty, select
    master, slave = pty.openpty()
    e = {k: v for k, v in e.items() if k != "KINERJA_PIN"}
    p = subprocess.Popen([KINERJA, "--db", db] + args, env=e, stdin=slave, stdout=subprocess.PIPE,
                         stderr=slave, close_fds=True)
    os.close(slave)
    said = b""
    try:
        for _ in range(20):
            r, _, _ = select.select([master], [], [], 3)
            if r:
                try:
                    b = os.read(master, 1024)
                except OSError:
                    break
                if not b:
                    break
                said += b
            elif p.poll() is None:
                os.write(master, b"\n")
            else:
                break
        p.communicate(timeout=30)
    finally:
        if p.poll() is None:
            p.kill()
            p.wait()
        os.close(master)
    return said.decode(errors="replace")


def language_case(name, e, want):
    for f in os.listdir(tmp):
        if f.startswith("k.db"):
            os.unlink(os.path.join(tmp, f))
    rc, out, err = run(["--help"], e)
    check(rc == 0 and out.startswith(want["help"]), f"{name}: --help: {out[:60]!r}")
    check(want["summary"] in out, f"{name}: --help command summary: {out!r}")
    rc, out, err = run(["init", "--office", "36.73.04"], e, db)
    check(rc == 0 and out == want["init"], f"{name}: init: {out!r} {err!r}")
    rc, out, err = run(["add", "survey"] + SURVEY, e, db)
    check(rc == 1 and err == want["add"], f"{name}: add without u9: {err!r}")
    # the NIP, code and control-character rules are translated too
    rc, out, err = run(["add", "activity", "nip=12345", "date=2026-03-02", "indicator=D!C",
                        "quantity=1", "description=a\x01b", "evidence=c\x7fd"], e, db)
    check(rc == 1 and all(m in err for m in want["rules"]), f"{name}: add activity: {err!r}")
    rc, out, err = run(["status"], e, db)
    check(rc == 0 and want["status"] in out and want["status2"] in out and want["skew"] in out
          and want["state"] in out,
          f"{name}: status: {out!r}")
    rc, out, err = run(["import", "survey", csv], e, db)
    # each problem once: the id's rule is skipped (csvio.c skipped())
    lines = err.splitlines(True)
    check(rc == 1 and "".join(lines[:2]) == want["import"] and len(lines) == 9
          and out.startswith(want["import_out"]), f"{name}: import: {out!r} {err!r}")
    # a record not yet sent: its state in list and show (JSON stays English)
    rc, out, err = run(["add", "survey"] + SURVEY + ["u9=4"], e, db)
    check(rc == 0, f"{name}: add survey: {err!r}")
    sid = out.strip()
    rc, out, err = run(["list", "survey"], e, db)
    check(rc == 0 and out.startswith(sid) and out.endswith(want["pending"]),
          f"{name}: list survey: {out!r} {err!r}")
    rc, out, err = run(["status"], e, db)
    check(rc == 0 and want["oldest"] in out, f"{name}: status with one pending: {out!r}")
    rc, out, err = run(["show", sid], e, db)
    check(rc == 0 and want["sync"] in out, f"{name}: show: {out!r} {err!r}")
    rc, out, err = run(["list", "survey", "--json"], e, db)
    check(rc == 0 and json.loads(out)[0]["sync"] == "pending", f"{name}: list --json: {out!r}")
    # a NIP a spreadsheet turned into a number: one line for the row, saying so
    rc, out, err = run(["import", "activity", sci], e, db)
    check(rc == 1 and err == want["sci"].format(sci), f"{name}: import NIP 1.98501E+17: {err!r}")
    # a rule across two fields, and the command's words as typed
    # a decimal comma: use a point (never read as one: 1,500 is ambiguous)
    rc, out, err = run(["add", "activity", "nip=198001012005011001", "date=2026-03-02",
                        "indicator=DOC", "quantity=1,5"], e, db)
    check(rc == 1 and err == want["comma"], f"{name}: quantity=1,5: {err!r}")
    rc, out, err = run(["add", "complaint", "received=2026-03-05", "resolved=2026-03-01"], e, db)
    check(rc == 1 and err == want["resolved"], f"{name}: add complaint: {err!r}")
    rc, out, err = run(["add", "rating"], e, db)
    check(rc == 2 and err == want["as"], f"{name}: add rating without --as: {err!r}")
    # the PIN prompt at a terminal (a pty: not kinerja.exe's console under Wine)
    if office:
        said = prompt_of(["approve", "01900000-0000-7000-8000-0000000000a1", "--as",
                          office_env.HEAD], e, office.db)
        check(said.startswith(want["prompt"]), f"{name}: PIN prompt: {said!r}")
        # the report's employees table (the scores as pulled), its heads
        rc, out, err = run(["report"], e, office.db)
        head = next((l for l in out.splitlines() if l.startswith("nip ")), "")
        check(rc == 0 and head.split() == want["emp_head"], f"{name}: report heads: {out!r}")
        # someone without a PIN at this PC is told so, not asked for a PIN
        said = said_at_terminal(["approve", "01900000-0000-7000-8000-0000000000a1", "--as",
                                 NOPIN], e, office.db)
        check(said.startswith(want["nopin"]) and "PIN " + NOPIN + ":" not in said
              and "PIN for" not in said, f"{name}: --as without a PIN here: {said!r}")
    rc, out, err = run(["stauts"], e)
    check(rc == 2 and err == want["cmd"], f"{name}: unknown command: {err!r}")


# 1. Indonesian by default
for name, e in [("no LANG", env()), ("LANG=C", env(LANG="C")),
                ("LANG=C.UTF-8", env(LANG="C.UTF-8")), ("LC_ALL=POSIX", env(LC_ALL="POSIX")),
                ("LANG=fr_FR.UTF-8", env(LANG="fr_FR.UTF-8")),
                ("LANGUAGE=id:en LANG=en_US.UTF-8", env(LANGUAGE="id:en", LANG="en_US.UTF-8"))]:
    language_case(name, e, ID)

# 2. English when asked
for name, e in [("LANG=en_US.UTF-8", env(LANG="en_US.UTF-8")), ("LANGUAGE=en", env(LANGUAGE="en")),
                ("LC_ALL=en_GB.UTF-8 LANG=id_ID.UTF-8", env(LC_ALL="en_GB.UTF-8", LANG="id_ID.UTF-8")),
                ("LANGUAGE=fr:en", env(LANGUAGE="fr:en")),
                ("LC_MESSAGES=en", env(LC_MESSAGES="en", LANG="id_ID.UTF-8"))]:
    language_case(name, e, EN)

# 3. kinerjad: the same proto/ rules, English whatever the environment
sdata = os.path.join(tmp, "server")
p = subprocess.run([KINERJAD, "--data", sdata, "init"], env=env(), capture_output=True,
                   text=True, timeout=60)
check(p.returncode == 0, f"kinerjad init: {p.stderr!r}")
p = subprocess.run([KINERJAD, "--data", sdata, "import", "survey", csv], env=env(),
                   capture_output=True, text=True, timeout=60)
check("field 'u1': must be an integer from 1 to 4" in p.stderr and "isian" not in p.stderr,
      f"kinerjad import is English: rc {p.returncode} {p.stderr!r}")

# 4. kinerja ui: the API's messages in the page's language
for f in os.listdir(tmp):
    if f.startswith("k.db"):
        os.unlink(os.path.join(tmp, f))
rc, out, err = run(["init", "--office", "36.73.04"], env(), db)
check(rc == 0, f"init for ui: {err!r}")
ui = subprocess.Popen([KINERJA, "--db", db, "ui", "--listen", "127.0.0.1:0", "--kiosk-pause", "0"],
                      env=env(), stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)
try:
    line = ui.stdout.readline()
    check(line.startswith("open http://127.0.0.1:"), f"kinerja ui: {line!r}")
    base = line.split()[1].rstrip("/")
    form = {k: v for k, v in (a.split("=") for a in SURVEY) if k != "date"}

    def post(cookie):
        req = urllib.request.Request(base + "/api/kiosk/survey", data=json.dumps(form).encode(),
                                     method="POST", headers={"Content-Type": "application/json"})
        if cookie:
            req.add_header("Cookie", cookie)
        try:
            urllib.request.urlopen(req, timeout=30)
            return 200, {}
        except urllib.error.HTTPError as e:
            return e.code, json.loads(e.read())

    want_id = {"field": "u9", "message": "isian 'u9': wajib diisi"}
    want_en = {"field": "u9", "message": "field 'u9': is required"}
    for cookie, want in [(None, want_id), ("kj_lang=id", want_id), ("kj_lang=en", want_en),
                         ("kinerja_ui=x; kj_lang=en-GB", want_en), ("kj_lang=xx", want_id)]:
        code, body = post(cookie)
        check(code == 400 and body.get("errors") == [want] and body.get("error") == want["message"],
              f"ui survey without u9, cookie {cookie}: {code} {body}")

    # many at once: each answer in its own request's language
    results = []

    def worker(k):
        for i in range(15):
            en = (k + i) % 2 == 0
            code, body = post("kj_lang=en" if en else "kj_lang=id")
            results.append((en, code, body.get("error")))

    threads = [threading.Thread(target=worker, args=(k,)) for k in range(6)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    wrong = [r for r in results
             if r[1] != 400 or r[2] != (want_en if r[0] else want_id)["message"]]
    check(len(results) == 90 and not wrong, f"concurrent requests: {len(wrong)} wrong: {wrong[:3]}")
finally:
    ui.terminate()
    ui.wait(timeout=30)

shutil.rmtree(tmp, ignore_errors=True)
if fails:
    print(f"{len(fails)} failure(s)", file=sys.stderr)
    sys.exit(1)
print("i18n_cli: ok")
