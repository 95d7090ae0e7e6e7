"""test_office_lang.py - the office app's language switch (issue 17: pages
in Indonesian, English available): the ID | EN switch in the header turns
the menu and a page to English and back, and is remembered (cookie
kj_lang, read by client/ui_lang.c); a refused operator sign-in shows
client/ui_api.c's message in Indonesian by default and in English after
the switch (po/id.po); the kiosk's switch does the same for its form.  All
on a 360 px phone, where the switch must fit without a sideways scroll.

  test_office_lang.py KINERJA KINERJAD DATA_DIR"""
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import kjbrowser  # noqa: E402
import office_env as oe  # noqa: E402
from kjbrowser import wait_until  # noqa: E402


def clean(b, what):
    other = b.other_hosts()
    assert not other, f"{what}: requests to other hosts: {other}"
    errs = b.js_errors()
    assert not errs, f"{what}: JavaScript errors: {errs}"


def fits(b, what):
    """The switch is on screen and the page needs no sideways scroll."""
    for l in ("id", "en"):
        r = b.js("const r = document.querySelector(`#lang-switch button[data-lang=${arguments[0]}]`)"
                 ".getBoundingClientRect(); return [r.left, r.right, r.width, r.height]", l)
        assert r[2] > 0 and r[3] > 0 and r[0] >= 0 and r[1] <= 360, (what, l, r)
    sw = b.js("return document.documentElement.scrollWidth")
    assert sw <= 360, f"{what}: the page is {sw} px wide at 360 px"


def pressed(b):
    return b.js("return document.querySelector('#lang-switch [aria-pressed=true]').dataset.lang")


def switch(b, l):
    b.click(f"#lang-switch button[data-lang={l}]")
    wait_until(lambda: b.js("return document.documentElement.lang") == l
               and b.js("return document.readyState") == "complete", what=f"page in {l}")


def refused_operator(b):
    b.type("#password", "not-the-password\n")
    return b.wait_text("#signin-operator .error-summary", "15")


def test_app(url):
    with kjbrowser.Browser(kjbrowser.PHONE) as b:
        b.get(url + "/")
        b.find("#signin-operator")
        fits(b, "sign-in")
        assert pressed(b) == "id"
        assert b.text("#masuk") == "Masuk"
        t = refused_operator(b)
        # the tries left said once, in the message (no app suffix beside it)
        assert "kata sandi operator salah: sisa 4 percobaan sebelum terkunci 15 menit" in t, t
        assert t.count("percobaan") == 1, t
        assert "wrong operator password" not in t, t
        # the session library's refusal (http/session.c, English for kinerjad)
        # in the page's language: not signed in, then no CSRF token
        e = b.js("return fetch('/api/status').then(r => r.json().then(d => [r.status, d.error]))")
        assert e[0] == 401 and "masuk dulu" in e[1] and "sign in" not in e[1], e

        switch(b, "en")
        b.wait_text("#masuk", "Sign in")
        assert pressed(b) == "en"
        assert b.cookies()["kj_lang"]["value"] == "en", b.cookies()
        t = refused_operator(b)
        assert "wrong operator password: 3 tries left before a 15-minute lock" in t, t
        assert t.count("left") == 1, t
        assert "salah" not in t, t
        e = b.js("return fetch('/api/status').then(r => r.json().then(d => [r.status, d.error]))")
        assert e[0] == 401 and "sign in first" in e[1], e

        # signed in, in English: the menu and the home page
        b.type("#nip", oe.HEAD)
        b.type("#pin", oe.PIN + "\n")
        b.wait_text("nav.menu", "Home")
        menu = b.text("nav.menu")
        assert "Daily activities" in menu and "Approvals" in menu and "Beranda" not in menu, menu
        b.wait_text("main h1", "Home")
        assert b.text("#signout") == "Sign out"
        fits(b, "home, English")

        # back to Indonesian, still signed in
        switch(b, "id")
        b.wait_text("nav.menu", "Beranda")
        e = b.js("return fetch('/api/sync', {method: 'POST', headers: {'Content-Type': "
                 "'application/json'}, body: '{}'}).then(r => r.json().then(d => [r.status, d.error]))")
        assert e[0] == 403 and "token CSRF" in e[1] and "missing" not in e[1], e
        # a page of another role says both roles in words of the page
        e = b.js("return fetch('/api/surveys').then(r => r.json().then(d => [r.status, d.error]))")
        assert e[0] == 403 and "untuk operator" in e[1] and "atasan" in e[1], e
        menu = b.text("nav.menu")
        assert "Kegiatan harian" in menu and "Persetujuan" in menu and "Home" not in menu, menu
        b.wait_text("main h1", "Beranda")
        assert b.text("#signout") == "Keluar"
        assert b.cookies()["kj_lang"]["value"] == "id", b.cookies()

        # remembered: a new visit stays in the chosen language
        switch(b, "en")
        b.get(url + "/kegiatan")
        b.wait_text("main h1", "Daily activities")
        assert pressed(b) == "en"
        clean(b, "app")


def test_kiosk(url):
    with kjbrowser.Browser(kjbrowser.PHONE) as b:
        b.get(url + "/kiosk")
        b.find("#layanan button")
        fits(b, "kiosk")
        assert b.text("h1") == "Survei Kepuasan Masyarakat"
        assert b.text("#kirim") == "Kirim"
        switch(b, "en")
        b.find("#layanan button")
        assert b.text("h1") == "Citizen satisfaction survey"
        assert b.text("#kirim") == "Send"
        b.click("#kirim")
        t = b.wait_text("#ringkasan-galat", "Choose the service you received.")
        assert "Please complete the following" in t, t
        fits(b, "kiosk, English")
        switch(b, "id")
        b.find("#layanan button")
        assert b.text("h1") == "Survei Kepuasan Masyarakat"
        assert b.text("#kirim") == "Kirim"
        clean(b, "kiosk")


def main():
    kinerja, kinerjad, data = sys.argv[1:4]
    o = oe.Office(kinerja, kinerjad, data)
    try:
        url = o.start_ui()
        for t in (test_app, test_kiosk):
            t(url)
            print(f"ok {t.__name__}", flush=True)
        o.stop_ui()
    finally:
        o.close()
    print("office language switch: ok")


if __name__ == "__main__":
    main()
