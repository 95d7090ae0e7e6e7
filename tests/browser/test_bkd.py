"""test_bkd.py - the BKD dashboard and /publik in Debian's chromium against a
real `kinerjad serve` (127.0.0.1, port 0, plain HTTP) holding the vectors of
tests/data/vectors/set1 imported with `kinerjad import`.

Checked: sign-in (a wrong password refused, no session cookie; the failure
limit answers 429), the analyst cannot reach Perangkat (page and API), the
CSRF token is required on a change, Ringkasan's table and bar chart (canvas
drawn, numbers equal to `kinerjad report offices --json`), offices without
data not ranked, Kantor's unsur and comments, Tren lists the offices that
need attention (computed here from the monthly reports) first, Pegawai
sorts, Kantor lists the office's records with filters and pages, Perangkat
enrols a device with a code and a QR image and, end to end, a PC enrolled
with that code (`kinerja init --enrol` against the same data served over
TLS) syncs and appears with the version, pending and rejected counts of its
`kinerja status` and its last sync in its office's zone, XLSX and CSV
exports of raw records and of the reports (ranking, Tren, Pegawai) open
with the report's figures, English (pages and API errors) by the switch,
`kinerjad user remove` ends the user's session, one CSP and
X-Frame-Options header per answer, a bad publik.exclude stops serve,
/publik's IKM equals the report and shows no comment and no NIP, no
request to another host, no JavaScript error.  Screenshots go to
$KJ_SCREENSHOT_DIR when set (docs/screenshots/ via `make screenshots`).

Usage: test_bkd.py KINERJAD SOURCE_DIR KINERJA"""
import csv
import http.cookiejar
import io
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.parse
import urllib.request
import uuid
import zipfile
from datetime import datetime, timedelta, timezone

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import kjbrowser  # noqa: E402

KINERJAD, SRC, KINERJA = sys.argv[1], sys.argv[2], sys.argv[3]
DATA = os.path.join(SRC, "tests", "data", "vectors", "set1", "data")
TYPES = ["offices", "services", "employees", "indicators", "targets", "surveys",
         "complaints", "activities", "ratings"]
PW_ANA, PW_ADM = "sandi-analis-2026", "sandi-admin-2026"


def run(d, *args, env=None):
    e = dict(os.environ)
    e.update(env or {})
    r = subprocess.run([KINERJAD, "--data", d, *args], capture_output=True, text=True, env=e)
    if r.returncode != 0:
        raise AssertionError(f"kinerjad {' '.join(args)}: {r.returncode} {r.stderr}")
    return r.stdout


def report(d, period):
    return json.loads(run(d, "report", "offices", "--period", period, "--json"))


def id_num(s):
    """'1.234,56' -> 1234.56; 'Tidak ada data' -> None."""
    s = s.strip()
    if s == "Tidak ada data":
        return None
    return float(s.replace(".", "").replace(",", "."))


def post(opener, url, form, headers=None):
    req = urllib.request.Request(url, data=urllib.parse.urlencode(form).encode(),
                                 headers=headers or {}, method="POST")
    try:
        with opener.open(req) as r:
            return r.status, json.loads(r.read())
    except urllib.error.HTTPError as e:
        return e.code, json.loads(e.read())


def get(opener, url):
    try:
        with opener.open(url) as r:
            return r.status, r.read(), r.headers
    except urllib.error.HTTPError as e:
        return e.code, e.read(), e.headers


def setup(tmp):
    d = os.path.join(tmp, "srv")
    out = run(d, "init")
    admin = [ln.split()[-1] for ln in out.splitlines() if ln.startswith("admin token:")][0]
    out = run(d, "device", "add", "--office", "36.73.02", "--name", "PC Cipocok")
    dev = [ln.split()[-1] for ln in out.splitlines() if ln.startswith("device token:")][0]
    with open(os.path.join(tmp, "tokens"), "w") as f:
        f.write(admin + " " + dev)
    for t in TYPES:
        run(d, "import", t, os.path.join(DATA, t + ".csv"))
    # 2023 (set1 holds none): office 36.73.02 steady all year, 36.73.03 falls in February (IKM
    # 100.00 -> 75.00, so its IKK falls too): the one office Tren must flag
    rows = ["id,office,date,service,u1,u2,u3,u4,u5,u6,u7,u8,u9,age,sex,education,"
            "occupation,comment"]
    for off in ("36.73.02", "36.73.03"):
        for m in range(1, 13):
            v = 4 if off == "36.73.03" and m == 1 else 3
            for day in (6, 7):
                uid = uuid.uuid5(uuid.NAMESPACE_URL, f"kinerja/test_bkd/{off}/{m}/{day}")
                rows.append(f"{uid},{off},2023-{m:02d}-{day:02d},KTP-el," +
                            ",".join([str(v)] * 9) + ",,,,,")
    extra = os.path.join(tmp, "surveys-2023.csv")
    with open(extra, "w") as f:
        f.write("\n".join(rows) + "\n")
    run(d, "import", "surveys", extra)
    # an office with no data at all: shown as such, never ranked as 0
    empty = os.path.join(tmp, "office-empty.csv")
    with open(empty, "w") as f:
        f.write("code,name,region,population,head,timezone\n"
                "36.73.09,Kecamatan Tanpa Data,Kota Serang,,,Asia/Jakarta\n")
    run(d, "import", "offices", empty)
    run(d, "user", "add", "ana", "--role", "analyst", env={"KINERJAD_PASSWORD": PW_ANA})
    run(d, "user", "add", "adm", "--role", "admin", env={"KINERJAD_PASSWORD": PW_ADM})
    return d


def start(d, log, *extra, tls=False):
    plain = [] if tls else ["--plain-http"]
    p = subprocess.Popen([KINERJAD, "--data", d, "serve", "--listen", "127.0.0.1:0",
                          *plain, *extra], stdout=subprocess.PIPE, stderr=log, text=True)
    line = p.stdout.readline()
    if "listening on" not in line:
        p.kill()
        raise AssertionError(f"serve did not start: {line!r}")
    return p, line.split()[-1].rstrip("/")


def push_conflict(url, admin, device):
    """Two writes of one survey's service from two devices (the admin's
    token and an office PC's) through the bearer API: the older stamp loses
    and is logged as a conflict."""
    now = int(time.time() * 1000)
    rid = str(uuid.uuid5(uuid.NAMESPACE_URL, "kinerja/test_bkd/conflict"))
    f = {"office": "36.73.02", "date": "2025-02-03", "service": "KTP-el"}
    f.update({f"u{i}": "3" for i in range(1, 10)})
    changes = [{"seq": 1, "id": rid, "type": "survey", "hlc": str(now << 16), "f": f},
               {"seq": 2, "id": rid, "type": "survey", "hlc": str((now - 5000) << 16),
                "f": {"service": "Kartu Keluarga"}}]
    for token, ch in ((admin, changes[0]), (device, changes[1])):
        body = json.dumps({"device_time": now, "protocol": 2, "changes": [ch]}).encode()
        req = urllib.request.Request(url + "/v1/push", data=body, method="POST", headers={
            "Authorization": "Bearer " + token, "Content-Type": "application/json"})
        with urllib.request.urlopen(req) as r:
            res = json.loads(r.read())["results"]
        assert [x["status"] for x in res] == ["applied"], res
    return rid


def charts_drawn(b):
    """Wait until every chart of the page is drawn: bkd.js draws them after
    the page's tables (Chart.js loaded then), marking each canvas
    data-drawn."""
    kjbrowser.wait_until(lambda: b.js("return [...document.querySelectorAll('main canvas')]"
                                      ".every((c) => c.hasAttribute('data-drawn'))"),
                         timeout=15, step=0.05, what="charts drawn")


def shot(b, name):
    charts_drawn(b)
    b.screenshot(name)


def pc(db, *args, ok=(0,)):
    r = subprocess.run([KINERJA, "--db", db, *args], capture_output=True, text=True)
    if r.returncode not in ok:
        raise AssertionError(f"kinerja {' '.join(args)}: {r.returncode} {r.stderr}")
    return r.stdout


def xlsx_cells(body):
    """The sheet names and the cells of the first sheet of an XLSX file as
    text (shared strings resolved), row by row."""
    import xml.etree.ElementTree as ET
    ns = {"m": "http://schemas.openxmlformats.org/spreadsheetml/2006/main"}
    z = zipfile.ZipFile(io.BytesIO(body))
    wb = ET.fromstring(z.read("xl/workbook.xml"))
    sheets = [e.get("name") for e in wb.findall("m:sheets/m:sheet", ns)]
    shared = []
    if "xl/sharedStrings.xml" in z.namelist():
        for si in ET.fromstring(z.read("xl/sharedStrings.xml")).findall("m:si", ns):
            shared.append("".join(x.text or "" for x in si.iter(f"{{{ns['m']}}}t")))
    rows = []
    for r in ET.fromstring(z.read("xl/worksheets/sheet1.xml")).iter(f"{{{ns['m']}}}row"):
        row = []
        for c in r.findall("m:c", ns):
            col = 0
            for ch in c.get("r"):  # "C7": column C; an empty cell has no <c>
                if ch.isalpha():
                    col = col * 26 + ord(ch) - ord("A") + 1
            row += [None] * (col - 1 - len(row))
            v = c.find("m:v", ns)
            is_ = c.find("m:is", ns)
            if c.get("t") == "s":
                row.append(shared[int(v.text)])
            elif c.get("t") == "inlineStr":
                row.append("".join(x.text or "" for x in is_.iter(f"{{{ns['m']}}}t")))
            else:
                row.append(float(v.text) if v is not None else None)
        rows.append(row)
    return sheets, rows


def cookie_opener(b):
    jar = http.cookiejar.CookieJar()
    op = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(jar))
    c = b.cookies()["kj_bkd"]
    jar.set_cookie(http.cookiejar.Cookie(
        0, "kj_bkd", c["value"], None, False, "127.0.0.1", False, False, "/", True,
        False, None, False, None, None, {}))
    return op


def check_records(b, url):
    """Kantor: the office's records with filters (in the address) and pages,
    equal to the CSV files imported."""
    with open(os.path.join(DATA, "activities.csv"), newline="") as f:
        acts = [r for r in csv.DictReader(f) if r["office"] == "36.73.02"]
    want = [r for r in acts if r["date"].startswith("2025") and r["status"] == "approved"]
    assert want, "set1 has approved activities of 36.73.02 in 2025"
    b.get(url + "/#kantor?office=36.73.02&period=2025&jenis=activity&status=approved")
    b.find("#catatan tbody tr")
    assert b.js("return document.getElementById('catatan-status').value") == "approved"
    ids = [r.get_attribute("data-id") for r in b.find_all("#catatan tbody tr")]
    assert len(want) <= 50 and sorted(ids) == sorted(r["id"] for r in want), (len(ids), len(want))
    assert f"{len(want)} catatan" in b.text("#catatan-jumlah"), b.text("#catatan-jumlah")
    b.js("document.getElementById('catatan-kantor').scrollIntoView()")
    shot(b, "bkd-kantor-catatan")
    # one employee's
    nip = want[0]["nip"]
    b.get(url + f"/#kantor?office=36.73.02&period=2025&jenis=activity&nip={nip}")
    b.wait_text("#catatan-jumlah", "catatan")
    mine = {r["id"] for r in acts if r["date"].startswith("2025") and r["nip"] == nip}
    got = {r.get_attribute("data-id") for r in b.find_all("#catatan tbody tr")}
    assert got == mine, (len(got), len(mine))
    # surveys of every year: set1's, 24 of 2023 and push_conflict's one: two
    # pages, newest first
    with open(os.path.join(DATA, "surveys.csv"), newline="") as f:
        n = sum(1 for r in csv.DictReader(f) if r["office"] == "36.73.02") + 24 + 1
    b.get(url + "/#kantor?office=36.73.02&period=2025&jenis=survey&dari=2020-01-01&sampai=2026-12-31")
    b.find("#catatan tbody tr")
    assert f"{n} catatan, halaman 1 dari 2" in b.text("#catatan-jumlah"), b.text("#catatan-jumlah")
    first = [r.get_attribute("data-id") for r in b.find_all("#catatan tbody tr")]
    assert len(first) == 50, len(first)
    b.click("#catatan-berikutnya")
    b.wait_text("#catatan-jumlah", "halaman 2 dari 2")
    second = [r.get_attribute("data-id") for r in b.find_all("#catatan tbody tr")]
    assert len(second) == n - 50 and not set(first) & set(second), (len(second), n)
    dates = [t.text for t in b.find_all("#catatan tbody tr td:nth-child(1)")]
    assert all("2023" in d for d in dates), dates  # the oldest last


def check_report_exports(op, url, d):
    """The reports' tables as XLSX and CSV, with the report's figures."""
    doc = report(d, "2025-Q1")
    st, body, hd = get(op, url + "/api/ekspor?type=ranking&format=xlsx&period=2025-Q1")
    assert st == 200 and "peringkat_2025-Q1.xlsx" in hd["Content-Disposition"], (st, hd)
    sheets, rows = xlsx_cells(body)
    assert sheets == ["Peringkat"], sheets
    assert rows[0][:4] == ["Peringkat", "Kode", "Kantor", "IKK"], rows[0]
    assert [r[1] for r in rows[1:]] == [o["office"] for o in doc["offices"]], rows
    for r, o in zip(rows[1:], doc["offices"]):
        assert (r[3] if len(r) > 3 else None) == o["ikk"], (r, o["ikk"])
    st, body, _ = get(op, url + "/api/ekspor?type=tren&format=csv&year=2023")
    rows = list(csv.reader(io.StringIO(body.decode())))
    assert st == 200 and rows[0][:4] == ["Kode", "Kantor", "Bulan", "IKK"], rows[:2]
    feb = [r for r in rows if r[0] == "36.73.03" and r[2] == "2023-02"][0]
    assert "ikk" in feb[-1].split() and float(feb[4]) < 0, feb  # the decline Tren flags
    st, body, _ = get(op, url + "/api/ekspor?type=pegawai&format=xlsx&period=2025")
    sheets, rows = xlsx_cells(body)
    emp = []
    for o in report(d, "2025")["offices"]:
        emp += json.loads(run(d, "report", "employees", "--office", o["office"], "--period",
                              "2025", "--json"))["employees"]
    assert sheets == ["Pegawai"] and len(rows) == len(emp) + 1, (sheets, len(rows), len(emp))
    assert sorted(r[2] for r in rows[1:]) == sorted(e["nip"] for e in emp)


def check_enrol_e2e(b, url, d, tmp):
    """In Perangkat: a code; at a PC: `kinerja init --enrol` and a sync
    against the same data served over TLS; the device then shows the
    version, pending and rejected counts of the PC's `kinerja status` and
    its last sync in its office's zone (36.73.02: Asia/Jayapura, WIT)."""
    b.get(url + "/#perangkat")
    b.find("#daftar")
    b.js("document.getElementById('kantor-baru').value = '36.73.02'")
    b.type("#nama-perangkat", "PC uji pendaftaran")
    b.click("#daftar button[type=submit]")
    b.wait_text("#perangkat tbody", "PC uji pendaftaran")
    code = b.text("#kode")
    row = [r for r in b.find_all("#perangkat tbody tr") if "PC uji pendaftaran" in r.text][0]
    dev = row.get_attribute("data-device")
    assert "belum dilaporkan" in row.text, row.text
    log = open(os.path.join(tmp, "tls.log"), "w")
    p, tls_url = start(d, log, tls=True)
    try:
        db = os.path.join(tmp, "pc.db")
        # a PC set up for another office: refused with both offices named,
        # nothing created, and the code is not spent (the init below uses it)
        r = subprocess.run([KINERJA, "--db", db, "init", "--server", tls_url, "--enrol", code,
                            "--office", "36.73.01"], capture_output=True, text=True,
                           env=dict(os.environ, LANGUAGE="en"))
        assert r.returncode == 1, (r.returncode, r.stderr)
        assert "for office 36.73.02, not 36.73.01" in r.stderr, r.stderr
        assert "code is not spent" in r.stderr and "nothing created" in r.stderr, r.stderr
        assert not os.path.exists(db)
        enrol = [t for t in json.loads(run(d, "device", "list", "--json")) if t["id"] == dev]
        assert enrol[0]["enrolment"] == "pending", enrol
        out = pc(db, "init", "--server", tls_url, "--enrol", code, "--office", "36.73.02")
        assert dev in out, out
        # an activity of a NIP not on the roster: refused by the server
        pc(db, "add", "activity", "nip=198512312010121001", "date=2025-01-10",
           "indicator=LYN", "quantity=1", "minutes=30", "description=uji", "status=submitted")
        pc(db, "sync", ok=(3,))
        status = json.loads(pc(db, "status", "--json"))
        assert status["rejected"] == 1 and status["pending"] == 0, status
    finally:
        p.terminate()
        assert p.wait(30) == 0
        log.close()
    with open(os.path.join(tmp, "tls.log")) as f:
        text = f.read()
    for bad in ("AddressSanitizer", "LeakSanitizer", "runtime error:"):
        assert bad not in text, text[-4000:]
    version = pc(db, "--version").split()[-1]
    b.driver.refresh()  # the same address: load the page again
    b.wait_text(f"#perangkat tr[data-device='{dev}'] td.version", version)
    cells = b.find(f"#perangkat tr[data-device='{dev}']")
    assert cells.find_element("css selector", "td.version").text.split()[0] == version
    assert cells.find_element("css selector", "td.pending").text == str(status["pending"])
    assert cells.find_element("css selector", "td.rejected").text == str(status["rejected"])
    assert "terpakai" in cells.text, cells.text
    devs = json.loads(run(d, "device", "list", "--json"))
    seen = [t["last_seen"] for t in devs if t["id"] == dev][0]
    wit = datetime.fromtimestamp(seen / 1000, timezone(timedelta(hours=9)))
    shown = cells.find_element("css selector", "td.seen").text
    assert shown.endswith(f"{wit.hour:02d}.{wit.minute:02d} WIT"), (shown, wit)
    b.js(f"document.querySelector(\"tr[data-device='{dev}']\").scrollIntoView()")


def check_english(b, url):
    """The switch: the pages and the API's errors in English, Indonesian
    again after."""
    b.get(url + "/#ringkasan?period=2025-Q1")
    b.find("#peringkat tbody tr")
    b.click("#bahasa")
    b.wait_text("nav", "Summary")
    b.wait_text("h1", "Summary")
    assert "Ranking of offices" in b.text("#peringkat caption")
    assert "Tidak ada data" not in b.text("main")
    shot(b, "bkd-ringkasan-en")
    b.get(url + "/#kantor?office=36.73.99&period=2025")
    b.wait_text(".error", "no office '36.73.99'")
    b.get(url + "/#tren?year=2023")
    b.wait_text("#perhatian h2", "Needs attention")
    b.click("#bahasa")
    b.wait_text("nav", "Ringkasan")
    b.get(url + "/#kantor?office=36.73.99&period=2025")
    b.wait_text(".error", "kantor '36.73.99' tidak ada")


def check_publik_other(b, url, d, tmp):
    """/publik: a survey under a name the office does not list (a mistyped
    'Akta Kelahran', kept as typed) is in the row 'Layanan lain' ('Other
    services' in English), never a row of its own; 36.73.02 lists Akta
    Kelahiran. 2024 holds nothing else."""
    rows = ["id,office,date,service,u1,u2,u3,u4,u5,u6,u7,u8,u9"]
    for i, (svc, v) in enumerate((("Akta Kelahiran", 4), ("Akta Kelahran", 4),
                                  ("Akta Kelahran", 4), ("Paspor", 1))):
        uid = uuid.uuid5(uuid.NAMESPACE_URL, f"kinerja/test_bkd/other/{i}")
        rows.append(f"{uid},36.73.02,2024-03-0{i + 4},{svc},{v}," + ",".join(["3"] * 8))
    f = os.path.join(tmp, "surveys-2024.csv")
    with open(f, "w") as fh:
        fh.write("\n".join(rows) + "\n")
    subprocess.run([KINERJAD, "--data", d, "import", "survey", f], capture_output=True)
    b.get(url + "/publik?period=2024")
    sec = b.find(".kantor-publik[data-office='36.73.02']")
    b.wait_text(".kantor-publik[data-office='36.73.02'] .layanan-lain", "Layanan lain")
    other = sec.find_element("css selector", ".layanan-lain").find_elements("css selector", "td")
    # n 3, IKM 25 * (28 + 28 + 25) / 27 = 75,00 from the summed answers
    assert [c.text for c in other[1:]] == ["3", "75,00", "C"], [c.text for c in other]
    assert "Akta Kelahran" not in sec.text and "Paspor" not in sec.text, sec.text
    assert "Akta Kelahiran" in sec.text, sec.text
    b.click("#bahasa")
    b.wait_text(".kantor-publik[data-office='36.73.02'] .layanan-lain", "Other services")
    b.click("#bahasa")
    b.wait_text(".kantor-publik[data-office='36.73.02'] .layanan-lain", "Layanan lain")


def check_headers(url):
    """One Content-Security-Policy and one X-Frame-Options per answer; the
    icon is served (it was a 404 at every page load)."""
    r = urllib.request.urlopen(url + "/favicon.ico")
    assert r.status == 200 and r.headers["Content-Type"] == "image/x-icon", r.headers
    assert r.read()[:4] == b"\0\0\1\0"
    for path in ("/", "/publik", "/favicon.ico", "/assets/bkd.js", "/api/saya", "/api/nope"):
        try:
            r = urllib.request.urlopen(url + path)
        except urllib.error.HTTPError as e:
            r = e
        for k in ("Content-Security-Policy", "X-Frame-Options"):
            n = len(r.headers.get_all(k) or [])
            assert n == 1, (path, k, n)


def check_user_remove(url, d):
    """`kinerjad user remove NAME`: a request with NAME's cookie is refused
    at once, while serve runs."""
    run(d, "user", "add", "sementara", "--role", "analyst",
        env={"KINERJAD_PASSWORD": "sandi-sementara-1"})
    jar = http.cookiejar.CookieJar()
    op = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(jar))
    st, me = post(op, url + "/api/masuk", {"user": "sementara", "password": "sandi-sementara-1"})
    assert st == 200, (st, me)
    st, _, _ = get(op, url + "/api/ringkasan?period=2025")
    assert st == 200, st
    run(d, "user", "remove", "sementara")
    st, body, _ = get(op, url + "/api/ringkasan?period=2025")
    assert st == 401 and "dihapus" in json.loads(body)["error"], (st, body)
    st, _, _ = get(op, url + "/api/saya")
    assert st == 401, st


def sign_in(b, user, pw):
    b.type("#user", user)
    b.type("#password", pw)
    b.click("#masuk button[type=submit]")


def declining(d, year, months):
    """Offices that need attention in year per domain.md "Trends", from the
    monthly reports (the figures the dashboard must judge)."""
    docs = [report(d, f"{year}-{m:02d}") for m in range(1, months + 1)]
    keys = [("ikk", None, 5.0), ("ikm", "value", 5.0), ("complaints", "on_time_rate", 20.0),
            ("compliance", None, 20.0)]
    out = set()
    for prev, cur in zip(docs, docs[1:]):
        p = {o["office"]: o for o in prev["offices"]}
        for o in cur["offices"]:
            q = p.get(o["office"])
            if not q:
                continue
            for k, sub, lim in keys:
                a = q[k][sub] if sub else q[k]
                c = o[k][sub] if sub else o[k]
                if a is not None and c is not None and round(a - c, 2) >= lim:
                    out.add(o["office"])
    return out


def check_ringkasan(b, url, d):
    b.get(url + "/#ringkasan?period=2025-Q1")
    b.find("#peringkat tbody tr")
    doc = report(d, "2025-Q1")
    rows = b.find_all("#peringkat tbody tr")
    assert len(rows) == len(doc["offices"]), (len(rows), len(doc["offices"]))
    shown = {r.get_attribute("data-office"): r for r in rows}
    ranked = [o for o in doc["offices"] if o["rank"] is not None and o["ikk"] is not None]
    assert any(o["ikk"] is None for o in doc["offices"]), "an office without data expected"
    for o in doc["offices"]:
        r = shown[o["office"]]
        cells = r.find_elements("css selector", "td")
        if o in ranked:
            assert cells[0].text == str(o["rank"]), (o["office"], cells[0].text)
            assert id_num(cells[2].text) == o["ikk"], (o["office"], cells[2].text, o["ikk"])
        else:
            assert cells[2].text == "Tidak ada data", cells[2].text
            assert cells[0].text == "-", cells[0].text
    # the chart: its data are the ranked offices' IKK, and it was drawn
    charts_drawn(b)
    data = b.js("return Chart.getChart('grafik-ikk').data.datasets[0].data")
    assert data == [o["ikk"] for o in ranked], (data, ranked)
    inked = b.js("""const c = document.getElementById('grafik-ikk');
        const d = c.getContext('2d').getImageData(0, 0, c.width, c.height).data;
        let n = 0; for (let i = 3; i < d.length; i += 4) if (d[i]) n++; return n;""")
    assert inked > 1000, f"chart canvas nearly empty: {inked} pixels"
    # a period where every office has data: no stray text in the page
    b.get(url + "/#ringkasan?period=2025")
    b.find("#peringkat tbody tr")
    assert "null" not in b.text("main"), b.text("main")
    shot(b, "bkd-ringkasan")
    return doc


class NoRedirect(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *a):
        return None


def check_public_only(d, tmp):
    """`serve --public-only`: /publik and its data, nothing else (no sign-in,
    no bearer API even with a valid token); publik.exclude leaves an office
    out, and an unknown or malformed code in it stops serve at start."""
    conf = os.path.join(d, "kinerjad.conf")
    with open(conf) as f:
        base = f.read()
    for bad, words in (("36.73.01, 36.73.77", "no office '36.73.77'"),
                       ("36.73.01 kantor/x", "'kantor/x' is not an office code")):
        with open(conf, "w") as f:
            f.write(base + f"publik.exclude = {bad}\n")
        r = subprocess.run([KINERJAD, "--data", d, "serve", "--listen", "127.0.0.1:0",
                            "--plain-http", "--public-only"], capture_output=True, text=True,
                           timeout=30)
        assert r.returncode != 0 and "'publik.exclude'" in r.stderr and words in r.stderr, \
            (r.returncode, r.stderr)
    with open(conf, "w") as f:
        f.write(base + "publik.exclude = 36.73.01\n")
    with open(os.path.join(tmp, "tokens")) as f:
        admin = f.read().split()[0]
    log = open(os.path.join(tmp, "public.log"), "w")
    p, url = start(d, log, "--public-only")
    try:
        op = urllib.request.build_opener(NoRedirect)
        st, body, _ = get(op, url + "/publik")
        assert st == 200 and b"publik.js" in body, st
        st, body, _ = get(op, url + "/api/publik?period=2025-Q1")
        offices = [o["office"] for o in json.loads(body)["offices"]]
        assert st == 200 and "36.73.02" in offices and "36.73.01" not in offices, offices
        st, _, hd = get(op, url + "/")
        assert st == 302 and hd["Location"] == "/publik", (st, hd)
        for path in ("/api/ringkasan?period=2025", "/assets/bkd.js", "/metrics", "/v1/hello"):
            req = urllib.request.Request(url + path, headers={"Authorization": "Bearer " + admin})
            st, _, _ = get(op, req)
            assert st == 404, (path, st)
        st, _ = post(op, url + "/api/masuk", {"user": "ana", "password": PW_ANA})
        assert st == 404, st
    finally:
        p.terminate()
        assert p.wait(30) == 0
        log.close()


def main():
    tmp = tempfile.mkdtemp(prefix="test_bkd-", dir=os.getcwd())
    srv = None
    try:
        d = setup(tmp)
        log = open(os.path.join(tmp, "serve.log"), "w")
        srv, url = start(d, log)
        with open(os.path.join(tmp, "tokens")) as f:
            rid = push_conflict(url, *f.read().split())
        with kjbrowser.Browser(kjbrowser.DESKTOP) as b:
            # --- sign-in: a wrong password is refused ----------------------
            b.get(url + "/")
            b.find("#user")
            # a first visit is a sign-in, not an ended session
            assert "Sesi berakhir" not in b.text("main"), b.text("main")
            sign_in(b, "ana", "bukan-sandinya")
            b.wait_text("#masuk-pesan", "salah")
            assert "kj_bkd" not in b.cookies(), b.cookies()
            shot(b, "bkd-masuk")
            sign_in(b, "ana", PW_ANA)
            b.find("#keluar")
            ck = b.cookies()["kj_bkd"]
            assert ck["httpOnly"] and ck.get("sameSite") == "Strict", ck

            # --- Ringkasan: table and chart equal the report ----------------
            doc = check_ringkasan(b, url, d)

            # --- Kantor: drill down ------------------------------------------
            first = doc["offices"][0]
            b.click(f"#peringkat tr[data-office='{first['office']}'] a")
            b.find("#unsur tbody tr")
            names = [r.text for r in b.find_all("#unsur tbody tr td:nth-child(2)")]
            assert names[0] == "Persyaratan" and len(names) == 9, names
            nrr = [id_num(t.text) for t in b.find_all("#unsur tbody tr td:nth-child(3)")]
            assert nrr == first["ikm"]["nrr"], (nrr, first["ikm"]["nrr"])
            b.find("#layanan tbody tr")
            with open(os.path.join(DATA, "surveys.csv"), newline="") as f:
                mine = [r for r in csv.DictReader(f) if r["comment"] and r["office"] ==
                        first["office"] and "2025-01-01" <= r["date"] <= "2025-03-31"]
            shown = b.find_all("#komentar li")
            assert len(shown) == len(mine), (len(shown), len(mine))
            page = " ".join(b.find("#komentar").text.split())
            for r in mine:
                assert " ".join(r["comment"].split()) in page, r["comment"]
            shot(b, "bkd-kantor")
            check_records(b, url)

            # --- Tren: the offices that need attention first -----------------
            b.get(url + "/#tren?year=2023")
            b.find(".tren-kantor")
            months = len(b.find_all(".tren-kantor")[0].find_elements("css selector", "tbody tr"))
            want = declining(d, 2023, months)
            assert want == {"36.73.03"}, want
            order = [s.get_attribute("data-office") for s in b.find_all(".tren-kantor")]
            assert order[0] == "36.73.03" and len(order) == 4, order
            listed = {li.get_attribute("data-office") for li in b.find_all("#perhatian li")}
            assert listed == want, (listed, want)
            assert b.find_all(".tren-kantor.attention .badge")
            shot(b, "bkd-tren")

            # --- Pegawai: sortable, filterable --------------------------------
            b.get(url + "/#pegawai?period=2025&sort=capaian&dir=desc")
            b.find("#daftar-pegawai tbody tr")
            caps = [id_num(t.text) for t in
                    b.find_all("#daftar-pegawai tbody tr td:nth-child(4)")]
            known = [c for c in caps if c is not None]
            assert known == sorted(known, reverse=True), caps
            assert caps[:len(known)] == known, "no data sorts last"
            # an employee without a predikat says why (docs/scoring.md: no
            # target, capaian null; no atasan rating, perilaku null)
            whys = 0
            for tr in b.find_all("#daftar-pegawai tbody tr"):
                td = tr.find_elements("css selector", "td")
                cap, per, pred = id_num(td[3].text), id_num(td[4].text), td[5].text
                if cap is not None and per is not None:
                    continue
                whys += 1
                why = ("Belum ada target dan penilaian atasan" if cap is None and per is None
                       else "Belum ada penilaian atasan" if per is None else "Belum ada target")
                assert pred == why + " untuk periode ini", (td[1].text, pred)
            assert whys, "no employee without a predikat in 2025"
            shot(b, "bkd-pegawai")
            b.get(url + "/#pegawai?period=2025&q=36.73.02")
            b.find("#daftar-pegawai")
            offices = {t.text for t in b.find_all("#daftar-pegawai tbody tr td:nth-child(1)")}
            assert len(offices) == 1, offices

            # --- Konflik: in words, in the office's zone ---------------------
            b.get(url + "/#konflik")
            li = b.find(f"#konflik li[data-id='{rid}']")
            words = " ".join(li.text.split())
            assert "«KTP-el»" in words and "«Kartu Keluarga»" in words, words
            assert "Kecamatan Cipocok Jaya" in words and " WIT" in words, words  # Asia/Jayapura
            shot(b, "bkd-konflik")

            # --- the analyst cannot reach Perangkat ---------------------------
            assert not [a for a in b.find_all("nav a") if a.text == "Perangkat"]
            b.get(url + "/#perangkat")
            b.wait_text("main", "hanya untuk admin")
            st = b.js("""return fetch('/api/perangkat').then(r => r.status)""")
            assert st == 403, st
            st = b.js("""return fetch('/api/keluar', {method: 'POST'}).then(r => r.status)""")
            assert st == 403, f"a change without the CSRF token: {st}"
            # the API's answers in the page's language (Indonesian here), the
            # role in words in the header
            assert "ana (analis)" in b.text("nav"), b.text("nav")
            answer = "return fetch(arguments[0], arguments[1]).then(r => r.json()).then(j => j.error)"
            said = b.js(answer, "/api/keluar", {"method": "POST"})
            assert said.startswith("token CSRF tidak ada atau salah"), said
            said = b.js(answer, "/api/ringkasan?period=2025", {"credentials": "omit"})
            assert said == "silakan masuk dulu", said
            said = b.js(answer, "/api/ekspor?type=surveys&format=csv&period=2025-13", {})
            assert said.startswith("periode '2025-13' tidak sah"), said

            # --- sign out, the admin enrols a device --------------------------
            b.click("#keluar")
            b.find("#masuk")
            st = b.js("return fetch('/api/saya').then(r => r.status)")
            assert st == 401, st
            sign_in(b, "adm", PW_ADM)
            b.find("#keluar")
            b.get(url + "/#perangkat")
            b.find("#daftar")
            # an office the server does not know: no device, said in words
            st, said = b.js("""return fetch('/api/saya').then(r => r.json()).then(me =>
                fetch('/api/perangkat', {method: 'POST', body: 'office=99.99.99&name=x', headers: {
                  'X-CSRF-Token': me.csrf, 'Content-Type': 'application/x-www-form-urlencoded'}}))
                .then(r => r.json().then(j => [r.status, j.error]))""")
            assert st == 404 and said == "kantor '99.99.99' tidak ada", (st, said)
            b.type("#nama-perangkat", "PC loket depan")
            b.click("#daftar button[type=submit]")
            code = b.text("#kode")
            assert len(code) > 20, code
            b.find("#qr")
            w = b.js("return document.getElementById('qr').naturalWidth")
            assert w > 0, "QR image not drawn"
            b.wait_text("#perangkat tbody", "PC loket depan")
            diam = b.text("#kantor-diam")
            assert "36.73.01" in diam and "36.73.02" not in diam, diam  # 02's PC pushed
            b.js("document.getElementById('hasil-daftar').scrollIntoView()")
            shot(b, "bkd-perangkat")
            tokens = json.loads(run(d, "device", "list", "--json"))
            assert any(t.get("name") == "PC loket depan" and t.get("enrolment") == "pending"
                       for t in tokens), tokens
            check_enrol_e2e(b, url, d, tmp)
            shot(b, "bkd-perangkat-laporan")

            # --- an XLSX export opens ------------------------------------------
            op = cookie_opener(b)
            st, body, hd = get(op, url + "/api/ekspor?type=surveys&format=xlsx&period=2025-Q1")
            assert st == 200, (st, body[:200])
            z = zipfile.ZipFile(io.BytesIO(body))
            assert "xl/worksheets/sheet1.xml" in z.namelist(), z.namelist()
            cells = z.read("xl/worksheets/sheet1.xml").decode() + z.read(
                "xl/sharedStrings.xml").decode() if "xl/sharedStrings.xml" in z.namelist() \
                else z.read("xl/worksheets/sheet1.xml").decode()
            with open(os.path.join(DATA, "surveys.csv"), newline="") as f:
                q1 = [r["id"] for r in csv.DictReader(f) if "2025-01" <= r["date"] < "2025-04"]
            assert q1 and all(i in cells for i in q1), "the XLSX lacks a survey of the period"
            assert "attachment" in hd["Content-Disposition"], hd
            st, body, _ = get(op, url + "/api/ekspor?type=surveys&format=csv&period=2025-Q1")
            rows = list(csv.reader(io.StringIO(body.decode())))
            assert rows[0][0] == "id" and len(rows) > 1, rows[:2]
            check_report_exports(op, url, d)
            b.get(url + "/#ekspor?period=2025-Q1")
            href = b.find("#ekspor-peringkat-xlsx").get_attribute("href")
            assert href.endswith("/api/ekspor?type=ranking&period=2025-Q1&format=xlsx"), href
            shot(b, "bkd-ekspor")

            check_english(b, url)

            assert not b.other_hosts(), b.other_hosts()
            assert not b.js_errors(), b.js_errors()

        # --- a phone (360 px): every page fits its width (tables scroll in
        # their box, not the page) ------------------------------------------
        with kjbrowser.Browser(kjbrowser.PHONE) as b:
            b.get(url + "/")
            sign_in(b, "adm", PW_ADM)
            b.find("#keluar")
            for name, path, ready in (
                    ("ringkasan", "#ringkasan?period=2025", "#peringkat tbody tr"),
                    ("kantor", "#kantor?office=36.73.02&period=2025", "#catatan tbody tr"),
                    ("tren", "#tren?year=2023", ".tren-kantor"),
                    ("pegawai", "#pegawai?period=2025", "#daftar-pegawai tbody tr"),
                    ("konflik", "#konflik", "#konflik li"),
                    ("perangkat", "#perangkat", "#perangkat tbody tr"),
                    ("ekspor", "#ekspor?period=2025", "#ekspor-laporan")):
                b.get(url + "/" + path)
                b.find(ready)
                w = b.js("return [document.documentElement.scrollWidth, window.innerWidth]")
                assert w[0] <= w[1], (name, w)
                if name in ("ringkasan", "perangkat"):
                    shot(b, f"bkd-{name}-ponsel")
            b.get(url + "/publik?period=2025-Q1")
            b.find(".kantor-publik")
            w = b.js("return [document.documentElement.scrollWidth, window.innerWidth]")
            assert w[0] <= w[1], ("publik", w)
            assert not b.js_errors(), b.js_errors()

        # --- /publik: no sign-in, the report's figures, nothing personal -------
        with kjbrowser.Browser(kjbrowser.DESKTOP) as b:
            b.get(url + "/publik?period=2025-Q1")
            b.find(".kantor-publik")
            doc = report(d, "2025-Q1")
            for o in doc["offices"]:
                sec = b.find(f".kantor-publik[data-office='{o['office']}']")
                v = sec.find_element("css selector", ".ikm-value").text
                assert id_num(v) == o["ikm"]["value"], (o["office"], v)
            text = " ".join(b.find("body").text.split())
            with open(os.path.join(DATA, "surveys.csv"), newline="") as f:
                comments = [r["comment"] for r in csv.DictReader(f) if r["comment"]]
            with open(os.path.join(DATA, "employees.csv"), newline="") as f:
                emps = list(csv.DictReader(f))
            for cm in comments:
                assert " ".join(cm.split()) not in text, f"comment shown: {cm!r}"
            for e in emps:
                assert e["nip"] not in text, f"NIP shown: {e['nip']}"
                assert e["name"] not in text, f"name shown: {e['name']}"
            assert not b.other_hosts(), b.other_hosts()
            assert not b.js_errors(), b.js_errors()
            shot(b, "bkd-publik")
            check_publik_other(b, url, d, tmp)
            # A4: the print stylesheet hides the controls
            b.driver.execute_cdp_cmd("Emulation.setEmulatedMedia", {"media": "print"})
            assert not b.find_all(".tools")[0].is_displayed()
            pdf = b.driver.execute_cdp_cmd("Page.printToPDF", {"preferCSSPageSize": True})
            assert pdf["data"], "no PDF"

        # --- the failure limit ------------------------------------------------------
        op = urllib.request.build_opener()
        st, body = post(op, url + "/api/masuk", {"user": "ana", "password": PW_ANA},
                        {"Origin": "http://evil.example"})
        assert st == 403, f"a sign-in posted by another site: {st} {body}"
        codes = [post(op, url + "/api/masuk", {"user": "adm", "password": f"x{i}"})[0]
                 for i in range(6)]
        assert codes == [401] * 5 + [429], codes
        st, _ = post(op, url + "/api/masuk", {"user": "adm", "password": PW_ADM})
        assert st == 429, f"the limit holds for the right password too: {st}"
        st, _ = post(op, url + "/api/masuk", {"user": "ana", "password": PW_ANA})
        assert st == 200, st
        # the bearer API is unchanged: no token, 401
        st, _, _ = get(op, url + "/v1/hello")
        assert st == 401, st
        check_headers(url)
        check_user_remove(url, d)
        check_public_only(d, tmp)
        # serve stops cleanly (under ASan+UBSan: no error, no leak)
        srv.terminate()
        rc = srv.wait(30)
        srv = None
        log.close()
        with open(os.path.join(tmp, "serve.log")) as f:
            text = f.read()
        assert rc == 0, f"serve exited {rc}: {text[-2000:]}"
        for bad in ("AddressSanitizer", "LeakSanitizer", "runtime error:"):
            assert bad not in text, text[-4000:]
    finally:
        if srv:
            srv.terminate()
            try:
                srv.wait(10)
            except subprocess.TimeoutExpired:
                srv.kill()
        shutil.rmtree(tmp, ignore_errors=True)
    print("test_bkd: ok")


if __name__ == "__main__":
    main()
