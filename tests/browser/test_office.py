"""test_office.py - the office app of `kinerja ui` in Debian's chromium
(issue 17): sign-in and lockout; ten paper surveys entered by keyboard; the
kiosk on a phone-sized window whose survey then appears in `kinerja list
survey`; an employee's activities (add, copy yesterday, submit); the camat
approving twenty at once; the words in English when the browser asks; and
on every page: no request to another host, no JavaScript error.

  test_office.py KINERJA KINERJAD DATA_DIR

With KJ_SCREENSHOT_DIR set, the main pages are saved there as PNGs (make
screenshots: docs/screenshots/).  First renders (first contentful paint)
are printed, never asserted."""
import base64
import datetime
import json
import os
import subprocess
import sys
import tempfile

from selenium.webdriver.common.print_page_options import PrintOptions

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import kjbrowser  # noqa: E402
import office_env as oe  # noqa: E402
from kjbrowser import wait_until  # noqa: E402

# The C rules' and the app's messages as the pages show them: Indonesian from kinerja's
# catalogue (po/id.po).  kinerja.exe has no catalogue and says them in
# English (docs/windows-port.md), so test_office_wine.py swaps these.
RULE_WORDS = {"required": "wajib diisi", "range": "dari 10 sampai 120", "must": "harus",
              "pause": "satu survei per 60 detik dari satu perangkat: tunggu",
              "reason": "penolakan memerlukan alasan",
              # kinerjad's refusal (English on the wire) as kinerja says it
              "supervisor": "hanya atasan {nip} ({sup}) yang menyetujui kegiatannya",
              "rejected": "ditolak"}

RENDERS = {}


def shot(b, name):
    b.js("window.scrollTo(0, 0)")
    b.screenshot(name)


def clean(b, what):
    """No request left the PC and no script failed on the page so far."""
    other = b.other_hosts()
    assert not other, f"{what}: requests to other hosts: {other}"
    errs = b.js_errors()
    assert not errs, f"{what}: JavaScript errors: {errs}"


def render(b, name):
    """Load the current page again from its address and keep the time from
    navigation start until app.js marked it drawn, data included
    (performance mark kj-page-drawn), and chromium's first contentful paint."""
    b.get(b.driver.current_url)
    try:
        wait_until(lambda: b.js("return performance.getEntriesByName('kj-page-drawn').length"),
                   what=f"{name} drawn")
    except AssertionError as e:
        raise AssertionError(f"{e}; console: {b.console()}")
    drawn = b.js("return performance.getEntriesByName('kj-page-drawn')[0].startTime")
    RENDERS[name] = {"drawn_ms": round(drawn), "fcp_ms": round(b.first_render_ms() or 0)}


def print_text(b, what, name):
    """The page printed by chromium (print to PDF, A4) as Laporan's printAs(what)
    lays it out, as text (pdftotext -layout); with KJ_SCREENSHOT_DIR set the
    PDF's first page is kept there as NAME.png (pdftoppm)."""
    b.js("document.body.dataset.print = arguments[0]", what)
    opts = PrintOptions()
    opts.page_width, opts.page_height = 21.0, 29.7
    pdf = base64.b64decode(b.driver.print_page(opts))
    b.js("delete document.body.dataset.print")
    with tempfile.TemporaryDirectory() as d:
        path = os.path.join(d, name + ".pdf")
        with open(path, "wb") as f:
            f.write(pdf)
        if os.environ.get("KJ_SCREENSHOT_DIR"):
            subprocess.run(["pdftoppm", "-png", "-r", "60", "-singlefile", path,
                            os.path.join(os.environ["KJ_SCREENSHOT_DIR"], name)], check=True)
        return subprocess.run(["pdftotext", "-layout", path, "-"], capture_output=True, text=True,
                              check=True).stdout


def signin_asn(b, url, nip, pin):
    b.get(url + "/")
    b.type("#nip", nip)
    b.type("#pin", pin + "\n")


def test_signin_and_lockout(o, url):
    with kjbrowser.Browser() as b:
        b.get(url + "/")
        b.find("#signin-asn")
        render(b, "signin")
        shot(b, "masuk")
        # the icon: declared by the page, served as SVG (and at /favicon.ico,
        # which a browser asks of a page naming none): no 404 in the log
        assert b.js("return document.querySelector('link[rel=icon]').getAttribute('href')") \
            == "/assets/favicon.svg"
        for path in ("/assets/favicon.svg", "/favicon.ico"):
            st = b.js("return fetch(arguments[0]).then(r => [r.status, r.headers.get('Content-Type')])",
                      path)
            assert st == [200, "image/svg+xml"], (path, st)
        # four wrong PINs: each says how many tries are left, once, in the
        # form's summary only (not again under the field)
        for left in (4, 3, 2, 1):
            b.type("#nip", oe.LOCKME)
            b.type("#pin", "999999\n")
            t = b.wait_text("#signin-asn .error-summary",
                            f"sisa {left} percobaan sebelum terkunci 15 menit")
            assert t.count("percobaan") == 1, t
            assert not b.find_all("#signin-asn .field-error"), b.text("#signin-asn")
        # the fifth locks, with the time in the office's zone, said once
        b.type("#pin", "999999\n")
        t = b.wait_text("#signin-asn .error-summary", "5 kali salah, terkunci sampai")
        assert t.count("WIB") == 1 and "Terkunci sampai" not in t, t
        # locked: the right PIN is refused too
        b.type("#pin", oe.PIN + "\n")
        t = b.wait_text("#signin-asn .error-summary", "terkunci setelah 5 kali salah sampai")
        assert t.count("WIB") == 1 and t.count("terkunci") == 1, t
        assert not b.find_all("#signin-asn .field-error"), b.text("#signin-asn")
        assert b.find("[data-field=pin].invalid")
        # the cookie is HttpOnly and SameSite=Strict once someone signs in
        signin_asn(b, url, oe.STAFF, oe.PIN)
        b.wait_text("h1", "Beranda")
        c = b.cookies()["kinerja_ui"]
        assert c["httpOnly"] and c.get("sameSite") == "Strict", c
        # the header shows the sync state
        b.wait_text("#sync-badge", "Daring")
        b.wait_text("#sync-last", "WIB")
        assert "Menunggu" in b.text("#sync-waiting")
        menu = [e.text for e in b.find_all("#menu a")]
        assert menu == ["Beranda", "Kegiatan harian", "Penilaian perilaku", "Target kinerja",
                        "Laporan", "Sinkronisasi"], menu
        # a change without the CSRF token is refused
        st = b.js("return fetch('/api/activities/submit', {method:'POST', headers:{'Content-Type':"
                  "'application/json'}, body:'{\"ids\":[\"x\"]}'}).then(r => r.status)")
        assert st == 403, st
        b.click("#signout")
        b.find("#signin-asn")
        clean(b, "sign-in")


def test_paper_surveys(o, url):
    before = len(json.loads(o.k("list", "survey", "--json").stdout))
    with kjbrowser.Browser() as b:
        b.get(url + "/")
        b.type("#password", oe.OPERATOR_PASSWORD + "\n")
        b.wait_text("h1", "Beranda")
        menu = [e.text for e in b.find_all("#menu a")]
        assert menu == ["Beranda", "Survei", "Pengaduan", "Target kinerja", "Impor & Ekspor",
                        "Laporan", "Sinkronisasi"], menu
        render(b, "beranda")
        shot(b, "beranda")
        b.click("a[href='/survei']")
        b.find("#survey-form")
        # the pick-list is focused: type the service, Tab to the answers,
        # nine digits, Enter; the next form starts at U1 with the service kept
        active = b.js("return document.activeElement.id")
        assert active == "service", active
        b.driver.switch_to.active_element.send_keys("KTP")
        for i in range(10):
            if i == 0:
                b.driver.switch_to.active_element.send_keys("\t")
            digits = "".join(str((i + k) % 4 + 1) for k in range(9))
            b.driver.switch_to.active_element.send_keys(digits + "\n")
            b.wait_text("#count", str(i + 1))
            wait_until(lambda: b.js("return document.activeElement.id") == "u1", what="focus on U1")
        # the list reloads after each save (not awaited): wait for the tenth
        wait_until(lambda: len(b.find_all("#surveys tbody tr")) == 10, what="10 surveys listed")
        # a refused form: the error is shown against the field, what was typed stays
        b.driver.switch_to.active_element.send_keys("4444")
        b.type("#age", "7")
        b.driver.switch_to.active_element.send_keys("\n")
        b.wait_text("[data-error-for=u5]", "1-4")
        # the rules' messages in the page's language (cookie kj_lang, po/id.po)
        summary = b.text("#survey-form .error-summary")
        assert "U5: " in summary and RULE_WORDS["required"] in summary, summary
        b.wait_text("[data-error-for=age]", RULE_WORDS["range"])
        assert b.js("return document.getElementById('u4').value") == "4"
        assert b.js("return document.getElementById('age').value") == "7"
        assert b.text("#count") == "10"
        shot(b, "survei")
        # the list's filter, kept in the address: the service, then dates
        b.js("const f = document.getElementById('sf-service'); f.value = 'Kartu Keluarga';"
             "f.dispatchEvent(new Event('change', {bubbles: true}))")
        wait_until(lambda: "service=Kartu+Keluarga" in b.driver.current_url
                   and not b.find_all("#surveys tbody tr[data-id]")
                   and "Tidak ada data" in b.text("#surveys tbody"), what="no Kartu Keluarga survey")
        b.get(url + "/survei?service=KTP-el")
        wait_until(lambda: len(b.find_all("#surveys tbody tr[data-id]")) == 10, what="10 KTP-el")
        tomorrow = (datetime.datetime.now(datetime.timezone(datetime.timedelta(hours=7))).date()
                    + datetime.timedelta(days=1)).isoformat()
        b.get(url + f"/survei?service=KTP-el&from={tomorrow}")
        wait_until(lambda: "Tidak ada data" in b.text("#surveys tbody"), what="none from tomorrow")
        assert b.js("return document.getElementById('sf-from').value") == tomorrow
        b.get(url + f"/survei?to={tomorrow}")
        wait_until(lambda: len(b.find_all("#surveys tbody tr[data-id]")) == 10, what="10 up to tomorrow")
        clean(b, "survei")
    after = json.loads(o.k("list", "survey", "--json").stdout)
    assert len(after) == before + 10, (before, len(after))
    assert all(s["service"] == "KTP-el" for s in after[-10:]), after[-10:]


def test_kiosk(o, url):
    # by id: a line's "[pending]" goes when the sync thread pushes it
    before = {s["id"] for s in json.loads(o.k("list", "survey", "--json").stdout)}
    with kjbrowser.Browser(kjbrowser.PHONE) as b:
        b.get(url + "/kiosk")
        b.find("#layanan button")
        render(b, "kiosk")
        assert b.js("return document.documentElement.scrollWidth") <= 360
        shot(b, "kiosk")
        # Kirim with nothing chosen: every missing answer is named
        b.click("#kirim")
        b.wait_text("#ringkasan-galat", "Pilih layanan")
        b.click("#layanan button[data-value='Kartu Keluarga']")
        for i in range(1, 10):
            b.click(f"#q-u{i} button[data-value='{4 if i % 2 else 3}']")
        b.type("#saran", "Pelayanan cepat sekali di kiosk")
        b.click("#kirim")
        b.wait_text("#terima-kasih", "Terima kasih")
        shot(b, "kiosk-terima-kasih")
        # it resets by itself
        b.click("#lagi")
        b.find("#kirim")
        assert b.js("return document.querySelectorAll('[aria-checked=true]').length") == 0
        # a second one at once is refused by the pause, in the page's language
        b.click("#layanan button[data-value='KTP-el']")
        for i in range(1, 10):
            b.click(f"#q-u{i} button[data-value='2']")
        b.click("#kirim")
        b.wait_text("#ringkasan-galat", RULE_WORDS["pause"])
        clean(b, "kiosk")
    new = [line for line in o.k("list", "survey").stdout.splitlines()
           if line.split(" ", 1)[0] not in before]
    assert len(new) == 1, new
    assert 'service="Kartu Keluarga"' in new[0] and "u1=4 u2=3" in new[0], new[0]


def test_activities(o, url):
    today = datetime.datetime.now(datetime.timezone(datetime.timedelta(hours=7))).date()
    yesterday = (today - datetime.timedelta(days=1)).isoformat()
    o.k("add", "activity", f"nip={oe.STAFF}", f"date={yesterday}", "indicator=LYN",
        "quantity=12", "minutes=240", "description=Layanan KTP di loket", "--as", oe.STAFF,
        env={"KINERJA_PIN": oe.PIN})
    with kjbrowser.Browser() as b:
        signin_asn(b, url, oe.STAFF, oe.PIN)
        b.wait_text("h1", "Beranda")
        b.click("a[href='/kegiatan']")
        b.find("#activity-form")
        render(b, "kegiatan")
        # a refused add: the field is named, what was typed stays
        b.driver.find_element("css selector", "#a-indicator option[value='DOC']").click()
        b.type("#a-quantity", "-3")
        b.type("#a-description", "Dokumen selesai")
        b.click("#a-add")
        b.wait_text("[data-error-for=quantity]", RULE_WORDS["must"])
        assert b.js("return document.getElementById('a-description').value") == "Dokumen selesai"
        b.type("#a-quantity", "5")
        b.click("#a-add")
        wait_until(lambda: len(b.find_all("#activities tbody tr[data-id]")) == 2, what="2 rows")
        b.click("#a-copy")
        wait_until(lambda: len(b.find_all("#activities tbody tr[data-id]")) == 3, what="3 rows")
        b.wait_text("#a-msg", "1 kegiatan disalin dari")  # a sentence, not "1 ← 29 Nov"
        dates = [r.find_element("css selector", "td:nth-child(2)").text
                 for r in b.find_all("#activities tbody tr[data-id]")]
        assert dates[-1].startswith(str(yesterday.split("-")[2].lstrip("0"))), dates
        assert len(set(dates[:2])) == 1, dates  # newest first: today's two, then yesterday
        for c in b.find_all("#activities input.pick")[:2]:
            c.click()
        b.click("#a-submit")
        b.wait_text("#a-msg", "Diajukan: 2")
        # the two drafts, and yesterday's from the command line: a record
        # without a status is submitted (docs/protocol.md), in the app too
        wait_until(lambda: len(b.find_all("#activities tr[data-status=submitted]")) == 3,
                   what="3 submitted")
        assert not b.find_all("#activities tr[data-status=draft]")
        shot(b, "kegiatan")
        clean(b, "kegiatan")
    mine = json.loads(o.k("list", "activity", "--nip", oe.STAFF, "--json").stdout)
    assert sorted(a.get("status", "submitted") for a in mine) == ["submitted"] * 3, mine
    assert sum(1 for a in mine if "status" not in a) == 1, mine  # the command line's


def test_approve_twenty(o, url):
    for i in range(20):
        o.k("add", "activity", f"nip={oe.STAFF2}", f"date=2026-11-{(i % 20) + 1:02d}",
            "indicator=DOC", f"quantity={i + 1}", "status=submitted", "--as", oe.STAFF2,
            env={"KINERJA_PIN": oe.PIN})
    with kjbrowser.Browser() as b:
        # an employee has no Persetujuan
        signin_asn(b, url, oe.STAFF2, oe.PIN)
        b.wait_text("h1", "Beranda")
        assert not b.find_all("a[href='/persetujuan']")
        b.click("#signout")
        signin_asn(b, url, oe.HEAD, oe.PIN)
        b.wait_text("#card-approve", "23")  # 20 of STAFF2, 3 of STAFF
        b.click("a[href='/persetujuan']")
        b.find("#inbox")
        render(b, "persetujuan")
        # the filter stays in the address
        b.driver.find_element("css selector", f"#f-nip option[value='{oe.STAFF2}']").click()
        wait_until(lambda: f"nip={oe.STAFF2}" in b.driver.current_url, what="filter in URL")
        wait_until(lambda: len(b.find_all("#inbox input.pick")) == 20, what="20 rows")
        assert "Ahmad Ahmad" in b.text("#inbox tbody")
        # from/to dates: the five days 5-9 Nov, kept in the address with the NIP
        b.js("const f = document.getElementById('f-from'); f.value = '2026-11-05';"
             "f.dispatchEvent(new Event('change', {bubbles: true}))")
        wait_until(lambda: "from=2026-11-05" in b.driver.current_url, what="from in URL")
        # the list is drawn again for the new range: set 'to' once its field is there
        wait_until(lambda: b.js("const f = document.getElementById('f-to');"
                                "if (!f || document.getElementById('f-from').value !== '2026-11-05')"
                                " return false;"
                                "f.value = '2026-11-09';"
                                "f.dispatchEvent(new Event('change', {bubbles: true})); return true;"),
                   what="the 'to' field")
        wait_until(lambda: "to=2026-11-09" in b.driver.current_url
                   and len(b.find_all("#inbox input.pick")) == 5, what="5 rows of 5-9 Nov")
        assert f"nip={oe.STAFF2}" in b.driver.current_url, b.driver.current_url
        dates = [r.find_element("css selector", "td:nth-child(2)").text
                 for r in b.find_all("#inbox tbody tr[data-id]")]
        assert [d.split(" ")[0] for d in dates] == ["9", "8", "7", "6", "5"], dates  # newest first
        # a date the API cannot read is named, not ignored
        st = b.js("return fetch('/api/approvals?from=5-11-2026').then(r => r.json())")
        assert st.get("field") == "from", st
        b.get(url + f"/persetujuan?nip={oe.STAFF2}")
        wait_until(lambda: len(b.find_all("#inbox input.pick")) == 20, what="20 rows again")
        assert "null" not in b.text("main"), b.text("main")  # one page: no pager, nothing for it
        # a rejection needs a reason
        b.click("#pick-all")
        assert b.text("#picked") == "20"
        shot(b, "persetujuan")
        b.click("#reject")
        b.wait_text("[data-error-for=reason]", RULE_WORDS["reason"])
        # Enter in Alasan neither sends the form nor loses the ticked rows
        b.type("#reason", "\n")
        assert b.text("#picked") == "20" and len(b.find_all("#inbox input.pick:checked")) == 20
        assert not b.driver.current_url.endswith("?"), b.driver.current_url
        b.click("#approve")
        b.wait_text("#r-msg", "Disetujui: 20")
        wait_until(lambda: not b.find_all("#inbox input.pick"), what="inbox empty")
        clean(b, "persetujuan")
    acts = json.loads(o.k("list", "activity", "--nip", oe.STAFF2, "--json").stdout)
    assert len(acts) == 20 and all(a["status"] == "approved" and a["reviewed_by"] == oe.HEAD
                                   for a in acts), acts
    show = o.k("show", acts[0]["id"]).stdout
    assert oe.HEAD in show


def test_edit_activity(o, url):
    """Ubah: an employee edits their own activities with the rules of
    `kinerja update`: a draft stays a draft, a refused value is shown at
    its field (what was typed stays), and an edit of an activity the camat
    rejected sends it for review again (submitted, reviewed_by cleared)."""
    rid = o.k("add", "activity", f"nip={oe.STAFF}", "date=2026-11-24", "indicator=RPT",
              "quantity=1", "description=Laporan mingguan", "status=submitted", "--as", oe.STAFF,
              env={"KINERJA_PIN": oe.PIN}).stdout.strip().splitlines()[-1]
    o.k("reject", rid, "--as", oe.HEAD, "--reason", "jumlah laporan salah",
        env={"KINERJA_PIN": oe.PIN})
    draft = o.k("add", "activity", f"nip={oe.STAFF}", "date=2026-11-23", "indicator=DOC",
                "quantity=2", "description=Dokumen", "status=draft", "--as", oe.STAFF,
                env={"KINERJA_PIN": oe.PIN}).stdout.strip().splitlines()[-1]
    other = json.loads(o.k("list", "activity", "--nip", oe.STAFF2, "--json").stdout)[0]
    with kjbrowser.Browser() as b:
        signin_asn(b, url, oe.STAFF, oe.PIN)
        b.wait_text("h1", "Beranda")
        b.click("a[href='/kegiatan']")
        # the draft: the form takes its values, a bad quantity is refused
        b.click(f"#activities tr[data-id='{draft}'] button.edit")
        b.wait_text("#a-title", "Ubah kegiatan")
        assert b.js("return document.getElementById('a-description').value"), "form not filled"
        b.type("#a-quantity", "-2")
        b.type("#a-description", "Dokumen diperbaiki")
        b.click("#a-add")
        b.wait_text("[data-error-for=quantity]", RULE_WORDS["must"])
        assert b.js("return document.getElementById('a-description').value") == "Dokumen diperbaiki"
        b.type("#a-quantity", "7")
        b.click("#a-add")
        b.wait_text("#a-msg", "Tersimpan")
        b.wait_text(f"#activities tr[data-id='{draft}']", "Dokumen diperbaiki")
        assert b.find_all(f"#activities tr[data-id='{draft}'][data-status=draft]")
        # the rejected one: the camat's reason is shown, an edit resubmits it
        row = f"#activities tr[data-id='{rid}']"
        assert "jumlah laporan salah" in b.text(row), b.text(row)
        # the decision in the page's language, the camat named by name
        assert "ditolak oleh Nur Dewi" in b.text(row), b.text(row)
        assert "rejected by" not in b.text(row) and "at this PC" not in b.text(row), b.text(row)
        # the filter: rejected ones only, kept in the address
        b.get(url + "/kegiatan?status=rejected")
        wait_until(lambda: [r.get_attribute("data-id") for r in b.find_all("#activities tr[data-id]")]
                   == [rid], what="only the rejected activity")
        assert b.js("return document.getElementById('kf-status').value") == "rejected"
        b.get(url + "/kegiatan")
        b.find(row)
        b.click(row + " button.edit")
        b.wait_text("#a-edit-note", "diajukan lagi")
        b.type("#a-quantity", "3")
        b.click("#a-add")
        b.wait_text("#a-msg", "Diajukan lagi kepada atasan")
        wait_until(lambda: b.find_all(row + "[data-status=submitted]"), what="resubmitted")
        assert b.text("#a-title") == "Tambah kegiatan"
        shot(b, "kegiatan-ubah")
        # a colleague's activity cannot be changed through the API either
        st = b.js("return fetch('/api/session').then(r => r.json()).then(s => fetch("
                  "'/api/activities/update', {method: 'POST', headers: {'Content-Type': "
                  "'application/json', 'X-CSRF-Token': s.csrf}, body: JSON.stringify({id: "
                  "arguments[0], quantity: '99'})})).then(r => r.status)", other["id"])
        assert st == 404, st
        clean(b, "edit activity")
    acts = {a["id"]: a for a in json.loads(o.k("list", "activity", "--nip", oe.STAFF,
                                                  "--json").stdout)}
    d, r = acts[draft], acts[rid]
    assert d.get("status", "draft") == "draft" and d["quantity"] == "7" and \
        d["description"] == "Dokumen diperbaiki", d
    assert r["status"] == "submitted" and r["quantity"] == "3" and not r.get("reviewed_by"), r
    again = [a for a in json.loads(o.k("list", "activity", "--nip", oe.STAFF2, "--json").stdout)
             if a["id"] == other["id"]][0]
    again.pop("sync", None)  # pending or synced: the sync thread may have pushed it since
    other.pop("sync", None)
    assert again == other, (again, other)


def test_rejected_and_discard(o, url):
    """A change the server refuses is listed with its reason, and Buang
    (kjc_store_discard) drops it: the camat approves under the roster this
    PC knows while the BKD has just given the employee another supervisor."""
    aid = o.k("add", "activity", f"nip={oe.STAFF2}", "date=2026-11-25", "indicator=RPT",
              "quantity=1", "status=submitted", "--as", oe.STAFF2,
              env={"KINERJA_PIN": oe.PIN}).stdout.strip().splitlines()[-1]
    o.sync()
    roster = os.path.join(o.tmp, "moved.csv")
    with open(roster, "w") as f:
        f.write("nip,name,office,position,supervisor\n"
                f"{oe.STAFF2},Ahmad Ahmad,{oe.OFFICE},Kasi Pelayanan,197412122018081005\n")
    o.d("import", "employee", roster)
    o.k("approve", aid, "--as", oe.HEAD, env={"KINERJA_PIN": oe.PIN})
    o.k("sync", check=False)
    # kinerjad says its rules in English; the answer carries the rule's code
    # and values, and kinerja says it in its reader's language
    new_sup = "197412122018081005"
    rule_en = f"only the supervisor of {oe.STAFF2} ({new_sup}) approves their activities"
    rule_id = RULE_WORDS["supervisor"].format(nip=oe.STAFF2, sup=new_sup)
    out = o.k("list", "--rejected", env={"LANGUAGE": "id"}).stdout
    assert aid in out and f"[{RULE_WORDS['rejected']}: {rule_id}]" in out, out
    out = o.k("list", "--rejected", env={"LANGUAGE": "en"}).stdout
    assert f"[rejected: {rule_en}]" in out, out
    out = o.k("show", aid, env={"LANGUAGE": "id"}).stdout
    assert rule_id in out, out
    with kjbrowser.Browser() as b:
        b.get(url + "/")
        b.type("#password", oe.OPERATOR_PASSWORD + "\n")
        b.wait_text("#sync-waiting", "Ditolak server: 1")
        # the app's API: the reason in the page's language, with its field
        api = b.driver.execute_async_script(
            "const done = arguments[arguments.length - 1];"
            "fetch('/api/outbox').then(r => r.json()).then(done, e => done(String(e)))")
        rej = [r for r in api["rejected"] if r["id"] == aid]
        assert rej and rej[0]["reason"] == rule_id and rej[0]["field"] == "status", api
        b.click("a[href='/sinkronisasi']")
        row = f"#rejected tr[data-id='{aid}']"
        t = b.wait_text(row, rule_id)
        # whose record: the name beside the NIP
        assert "Ahmad Ahmad" in b.text(row + " td.who") and oe.STAFF2 in b.text(row + " td.who"), t
        shot(b, "sinkronisasi")
    with kjbrowser.Browser(kjbrowser.PHONE) as b:
        # on a phone each change is a card: the reason and Buang on screen
        b.get(url + "/")
        b.type("#password", oe.OPERATOR_PASSWORD + "\n")
        b.wait_text("h1", "Beranda")
        b.get(url + "/sinkronisasi")
        b.wait_text(row + " td.reason", rule_id)
        out = b.js("return [...document.querySelectorAll(arguments[0] + ' td, ' + arguments[0] + ' button')]"
                   ".filter(e => e.getBoundingClientRect().right > window.innerWidth)"
                   ".map(e => e.className || e.tagName)", row)
        assert not out, f"Sinkronisasi at 360 px: off the screen: {out}"
        shot(b, "sinkronisasi-ponsel")
        clean(b, "sinkronisasi phone")
    with kjbrowser.Browser() as b:
        b.get(url + "/")
        b.type("#password", oe.OPERATOR_PASSWORD + "\n")
        b.wait_text("h1", "Beranda")
        b.get(url + "/sinkronisasi")
        b.find(row)
        # the filter by type, in the address: no survey is rejected
        b.js("const f = document.getElementById('of-type'); f.value = 'survey';"
             "f.dispatchEvent(new Event('change', {bubbles: true}))")
        wait_until(lambda: "type=survey" in b.driver.current_url and not b.find_all(row),
                   what="surveys only")
        b.get(url + "/sinkronisasi?type=activity")
        b.find(row)
        b.click(row + " button.discard")
        wait_until(lambda: not b.find_all(row), what="rejected row gone")
        clean(b, "discard")
    assert aid not in o.k("list", "--rejected").stdout


def test_sync_page_and_english(o, url):
    with kjbrowser.Browser(lang="en-US") as b:
        b.get(url + "/")
        b.wait_text("#signin-asn h2", "Sign in as an employee")
        b.type("#password", oe.OPERATOR_PASSWORD + "\n")
        b.wait_text("h1", "Home")
        b.click("a[href='/sinkronisasi']")
        b.find("#pending")
        render(b, "sinkronisasi")
        assert "Waiting" in b.text("#sync-waiting")
        b.click("#sync-now")
        wait_until(lambda: b.text("#sync-waiting").startswith("Waiting: 0"), timeout=30,
                   what="everything pushed")
        clean(b, "sync")


def test_laporan(o, url):
    """The scores the server sent, as the office sees them: IKM and the NRR
    per unsur drawn by Chart.js with their numbers in a table (82,35 style);
    an employee sees their own row only."""
    o.sync()
    o.sync()
    rep = json.loads(o.k("report", "--json").stdout)
    ikm = rep["office"]["ikm"]["value"]
    with kjbrowser.Browser() as b:
        b.get(url + "/")
        b.type("#password", oe.OPERATOR_PASSWORD + "\n")
        b.wait_text("h1", "Beranda")
        b.click("a[href='/laporan']")
        want = f"{ikm:.2f}".replace(".", ",")
        b.wait_text("#card-ikm .figure", want)
        wait_until(lambda: b.find_all("#chart-unsur[data-drawn='1']"), what="chart drawn")
        for c in ("#chart-services", "#chart-months"):
            wait_until(lambda: b.find_all(c + "[data-drawn='1']"), what=c + " drawn")
        # the months of the year held on the PC with an IKM, as `kinerja report --period`
        held = []
        for m in range(1, 13):
            r = o.k("report", "--period", f"{rep['period'][:4]}-{m:02d}", "--json", check=False)
            if r.returncode == 0:
                held.append(f"{rep['period'][:4]}-{m:02d}")
                if json.loads(r.stdout)["office"]["ikm"].get("value") is None:
                    held.pop()
        assert held, "the server sent no month with an IKM"
        assert b.js("return document.getElementById('chart-months').dataset.months") == str(len(held))
        # the period picker: the months held are there; picking one shows it
        opts = b.js("return [...document.querySelectorAll('#r-period option')].map(o => o.value)")
        assert rep["period"] in opts and all(m in opts for m in held), (opts, held)
        b.js(f"const s = document.getElementById('r-period'); s.value = '{held[-1]}';"
             "s.dispatchEvent(new Event('change'))")
        b.wait_text("#report-period", held[-1])
        b.find("#chart-months[data-drawn='1']")
        # a period with no scores on this PC: said in Indonesian like the page
        b.get(url + "/laporan?period=1999")
        b.wait_text("#no-report", "Belum ada nilai")
        b.get(url + "/laporan")
        b.wait_text("#card-ikm .figure", want)
        rows = b.find_all("#table-unsur tbody tr")
        assert len(rows) == 9, len(rows)
        assert "KTP-el" in b.text("#table-services")
        assert len(b.find_all("#table-employees tbody tr")) == len(rep["employees"])
        # an employee without a predikat: why (docs/scoring.md "either rating
        # null: null"), not "Tidak ada data"
        cells = [c.text for c in b.find_all("#table-employees tbody td:nth-child(4)")]
        unrated = 0
        for e, cell in zip(rep["employees"], cells):
            if e.get("predikat"):
                continue
            unrated += 1
            why = ("Belum ada target dan penilaian atasan" if e.get("capaian") is None and e.get("perilaku") is None
                   else "Belum ada penilaian atasan" if e.get("perilaku") is None
                   else "Belum ada target" if e.get("capaian") is None else "Tidak ada data")
            assert cell == why + " untuk periode ini", (e, cell)
        assert unrated and "Tidak ada data" not in cells, cells
        render(b, "laporan")
        # one request for the page's data: the report brings the kiosk's QR code
        apis = b.js("return performance.getEntriesByType('resource').map(r => new URL(r.name).pathname)"
                    ".filter(p => p.startsWith('/api/'))")
        assert apis.count("/api/report") == 1 and "/api/kiosk/qr" not in apis, apis
        for c in ("#chart-unsur", "#chart-services", "#chart-months", "#chart-employees"):
            wait_until(lambda: b.find_all(c + "[data-drawn='1']"), what=c + " drawn")
        # every month of the year on the months chart, those without an IKM as gaps
        months = b.js("const c = Chart.getChart(document.getElementById('chart-months'));"
                      "return [c.data.labels.length, c.data.datasets[0].data.filter(v => v === null).length]")
        assert months == [12, 12 - len(held)], (months, held)
        # the employees' capaian and predikat as a chart: a bar each, coloured by predikat
        emp = b.js("const c = Chart.getChart(document.getElementById('chart-employees'));"
                   "return [c.data.labels, c.data.datasets[0].data, c.options.animation]")
        assert len(emp[0]) == len(rep["employees"]), emp
        assert sorted(x for x in emp[1] if x is not None) == sorted(
            e["capaian"] for e in rep["employees"] if e.get("capaian") is not None), emp
        assert emp[2] is False, "charts are drawn without animation"
        counts = {li.get_attribute("data-predikat"): int(li.get_attribute("data-count"))
                  for li in b.find_all("#legend-predikat li")}
        for p in {e.get("predikat") or "" for e in rep["employees"]}:
            assert counts[p] == sum(1 for e in rep["employees"] if (e.get("predikat") or "") == p), (p, counts)
        shot(b, "laporan")
        # the heading after the Layanan table keeps a section's gap
        gap = b.js("const w = document.getElementById('table-services').closest('.table-wrap');"
                   "return w.nextElementSibling.getBoundingClientRect().top"
                   " - w.getBoundingClientRect().bottom")
        assert gap >= 16, gap
        # the kiosk's address as this PC serves it, with its QR code: on the
        # printed poster only (Cetak kode QR), not at the foot of the screen
        qr = b.find_all("#kiosk-qr")
        assert qr and not qr[0].is_displayed()
        kurl = b.js("return document.getElementById('kiosk-url').textContent")
        assert kurl == url + "/kiosk", kurl
        wait_until(lambda: b.js("return document.getElementById('kiosk-qr-img').naturalWidth > 0"),
                   what="QR code drawn")
        # the IKM publication sheet alone on A4 (chromium's print to PDF)
        sheet = print_text(b, "ikm", "lembar-ikm")
        for want in ("Hasil Survei Kepuasan Masyarakat", f"{ikm:.2f}".replace(".", ","),
                     rep["office"]["ikm"]["mutu"], str(rep["office"]["ikm"]["n"]), rep["period"],
                     "Kinerja unit pelayanan", "PermenPANRB"):
            assert want in sheet, f"{want!r} not on the printed IKM sheet: {sheet}"
        assert "Predikat kinerja" not in sheet and "Kode QR" not in sheet, sheet
        assert sheet.count("\f") <= 1, "the IKM sheet takes more than one A4 page"
        poster = print_text(b, "qr", "kode-qr-kios")
        assert url + "/kiosk" in poster and "Hasil Survei" not in poster, poster
        clean(b, "laporan")
    with kjbrowser.Browser() as b:
        signin_asn(b, url, oe.STAFF, oe.PIN)
        b.wait_text("h1", "Beranda")
        b.click("a[href='/laporan']")
        b.find("#table-employees")
        assert not b.find_all("#card-ikm")
        rows = b.find_all("#table-employees tbody tr")
        assert len(rows) == 1 and oe.STAFF in rows[0].text, [r.text for r in rows]
        clean(b, "laporan employee")


def test_pengaduan(o, url):
    """Complaints: one open for 10 days is over the SP4N-LAPOR! 5 days; a
    new one recorded by the form (a refusal shown at its field first); the
    old one resolved with its resolution."""
    today = datetime.datetime.now(datetime.timezone(datetime.timedelta(hours=7))).date()
    old = (today - datetime.timedelta(days=10)).isoformat()
    cid = o.k("add", "complaint", f"received={old}", "channel=whatsapp", "category=Jalan",
              "summary=Lampu jalan mati").stdout.strip().splitlines()[-1]
    with kjbrowser.Browser() as b:
        b.get(url + "/")
        b.type("#password", oe.OPERATOR_PASSWORD + "\n")
        b.wait_text("h1", "Beranda")
        b.click("a[href='/pengaduan']")
        b.wait_text("#card-overdue .figure", "1")
        row = f"#complaints tr[data-id='{cid}']"
        assert "10 hari" in b.text(row) and "Lewat 5 hari" in b.text(row), b.text(row)
        render(b, "pengaduan")
        # a refused form: no summary (the rule of proto/rules.c, as `kinerja add`)
        b.click("#c-add")
        b.wait_text("[data-error-for=summary]", "tuliskan isi pengaduannya")
        # a refused form: no date received
        b.js("document.getElementById('c-received').value = ''")
        b.type("#c-summary", "Antrean KTP lama")
        b.click("#c-add")
        b.wait_text("[data-error-for=received]", RULE_WORDS["required"])
        assert b.js("return document.getElementById('c-summary').value") == "Antrean KTP lama"
        b.js(f"document.getElementById('c-received').value = '{today.isoformat()}'")
        b.click("#c-add")
        b.wait_text("#complaints", "Antrean KTP lama")
        b.click(row + " button.resolve")
        b.type("#r-resolution", "Lampu diganti oleh kelurahan")
        b.click("#r-save")
        wait_until(lambda: not b.find_all(row), what="resolved complaint leaves the open list")
        shot(b, "pengaduan")
        clean(b, "pengaduan")
    c = [x for x in json.loads(o.k("list", "complaint", "--json").stdout) if x["id"] == cid][0]
    assert c["resolved"] == today.isoformat() and c["resolution"] == "Lampu diganti oleh kelurahan", c
    assert any(x.get("summary") == "Antrean KTP lama"
               for x in json.loads(o.k("list", "complaint", "--json").stdout))


def test_complaint_lists(o, url):
    """Ten more complaints over three weeks, two of today, some resolved:
    every state of Pengaduan's list (open, resolved, all) lists exactly the
    complaints of that state in the database, each once, newest received
    first, and the open count is the open list's length (a sort that moved
    items inside the cJSON array lost some: 5 of 6 open were listed)."""
    today = datetime.datetime.now(datetime.timezone(datetime.timedelta(hours=7))).date()
    for i in range(10):
        rec = today - datetime.timedelta(days=2 * i if i != 1 else 0)
        extra = []
        if i % 3 == 2:
            extra = [f"resolved={(rec + datetime.timedelta(days=1)).isoformat()}",
                     "resolution=Selesai"]
        o.k("add", "complaint", f"received={rec.isoformat()}", "channel=langsung", "category=Layanan",
            f"summary=Aduan nomor {i}", *extra)
    db = json.loads(o.k("list", "complaint", "--json").stdout)
    assert len(db) >= 12, len(db)
    want = {"open": {c["id"] for c in db if not c.get("resolved")},
            "resolved": {c["id"] for c in db if c.get("resolved")},
            "all": {c["id"] for c in db}}
    with kjbrowser.Browser() as b:
        b.get(url + "/")
        b.type("#password", oe.OPERATOR_PASSWORD + "\n")
        b.wait_text("h1", "Beranda")
        for state, ids in want.items():
            r = b.js(f"return fetch('/api/complaints?state={state}').then(r => r.json())")
            got = [c["id"] for c in r["complaints"]]
            assert len(got) == len(set(got)) and set(got) == ids, (state, len(got), len(ids))
            rec = [c["received"] for c in r["complaints"]]
            assert rec == sorted(rec, reverse=True), (state, rec)
            assert r["open"] == len(want["open"]), (state, r["open"], len(want["open"]))
        # from/to narrow the list by the date received (the counts stay the office's)
        lo, hi = (today - datetime.timedelta(days=8)).isoformat(), (today - datetime.timedelta(days=2)).isoformat()
        r = b.js(f"return fetch('/api/complaints?state=all&from={lo}&to={hi}').then(r => r.json())")
        got = {c["id"] for c in r["complaints"]}
        assert got == {c["id"] for c in db if lo <= c["received"] <= hi} and got, (lo, hi, len(got))
        assert r["open"] == len(want["open"]), r["open"]
        b.get(url + f"/pengaduan?state=all&from={lo}&to={hi}")
        wait_until(lambda: len(b.find_all("#complaints tr[data-id]")) == len(got),
                   what="the complaints received in the dates")
        assert b.js("return document.getElementById('cf-to').value") == hi
        b.get(url + "/pengaduan")
        wait_until(lambda: len(b.find_all("#complaints tr[data-id]")) == len(want["open"]),
                   what="every open complaint in the Pengaduan table")
        clean(b, "pengaduan lists")


def test_phone(o, url):
    """The signed-in pages at 360 px: nothing wider than the screen (tables
    scroll inside their box)."""
    with kjbrowser.Browser(kjbrowser.PHONE) as b:
        signin_asn(b, url, oe.HEAD, oe.PIN)
        b.wait_text("h1", "Beranda")
        for path in ("/beranda", "/kegiatan", "/persetujuan?status=all", "/laporan", "/sinkronisasi"):
            b.get(url + path)
            wait_until(lambda: b.js("return performance.getEntriesByName('kj-page-drawn').length"),
                       what=f"{path} drawn")
            w = b.js("return document.documentElement.scrollWidth")
            assert w <= 360, f"{path}: {w} px wide on a 360 px phone"
            # Laporan's charts fit the screen (scaled down), none cut off in its box
            cut = b.js("return [...document.querySelectorAll('canvas')].filter(c =>"
                       " c.getBoundingClientRect().right > window.innerWidth).map(c => c.id)")
            assert not cut, f"{path}: charts wider than the phone: {cut}"
            if path == "/laporan":
                assert b.find_all("canvas#chart-unsur"), "Laporan has its charts"
        b.get(url + "/persetujuan?status=all")
        b.find("#inbox")
        shot(b, "persetujuan-ponsel")
        clean(b, "phone")


def main():
    kinerja, kinerjad, data = sys.argv[1:4]
    o = oe.Office(kinerja, kinerjad, data, ui_args=["--kiosk-pause", "60"])
    try:
        url = o.start_ui()
        for t in (test_signin_and_lockout, test_paper_surveys, test_kiosk, test_activities,
                  test_approve_twenty, test_edit_activity, test_rejected_and_discard,
                  test_sync_page_and_english, test_laporan, test_pengaduan, test_complaint_lists,
                  test_phone):
            t(o, url)
            print(f"ok {t.__name__}", flush=True)
        o.stop_ui()
    finally:
        o.close()
    print("first render per page: " + json.dumps(RENDERS))
    print("office app: ok")


if __name__ == "__main__":
    main()
