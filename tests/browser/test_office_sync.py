"""test_office_sync.py - the office app offline, then online again, in
Debian's chromium (issue 17, "offline to online"): with kinerjad down the
operator enters paper surveys, each stored at once on the PC; the header
turns Luring, Beranda counts what waits and Sinkronisasi lists it; then
kinerjad comes back and, without a reload, the header shows Daring and
nothing waiting (the sync thread of `kinerja ui` saw the server and pushed
them), and the server has them.

  test_office_sync.py KINERJA KINERJAD DATA_DIR"""
import json
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import kjbrowser  # noqa: E402
import office_env as oe  # noqa: E402
from kjbrowser import wait_until  # noqa: E402

N = 3


def clean(b, what):
    other = b.other_hosts()
    assert not other, f"{what}: requests to other hosts: {other}"
    errs = b.js_errors()
    assert not errs, f"{what}: JavaScript errors: {errs}"


def pending_lines(o):
    # the JSON's "sync" (the text's "[tertunda]" follows the language)
    return [s for s in json.loads(o.k("list", "survey", "--json").stdout) if s["sync"] == "pending"]


def main():
    kinerja, kinerjad, data = sys.argv[1:4]
    o = oe.Office(kinerja, kinerjad, data)
    try:
        url = o.start_ui()
        o.stop_server()
        with kjbrowser.Browser() as b:
            b.get(url + "/")
            b.type("#password", oe.OPERATOR_PASSWORD + "\n")
            b.wait_text("h1", "Beranda")
            b.click("a[href='/survei']")
            b.find("#survey-form")
            b.driver.switch_to.active_element.send_keys("KTP\t")
            for i in range(N):
                b.driver.switch_to.active_element.send_keys(f"{i % 4 + 1}23412341\n")
                b.wait_text("#count", str(i + 1))
                wait_until(lambda: b.js("return document.activeElement.id") == "u1",
                           what="focus on U1")
            # stored on the PC at once, while the server is away
            assert len(pending_lines(o)) == N, o.k("list", "survey").stdout
            # the sync thread tried (a second after the change) and failed: Luring
            b.wait_text("#sync-badge", "Luring", timeout=30)
            b.wait_text("#sync-waiting", f"Menunggu: {N}", timeout=15)
            b.click("a[href='/beranda']")
            b.wait_text("#card-waiting .figure", str(N))
            b.wait_text("#card-sync .figure", "Luring")
            b.click("a[href='/sinkronisasi']")
            wait_until(lambda: len(b.find_all("#pending tbody tr[data-id]")) == N,
                       what=f"{N} changes listed as waiting")
            b.screenshot("sinkronisasi-luring")
            # the server comes back: no reload, no button
            o.start_server()
            b.wait_text("#sync-badge", "Daring", timeout=60)
            b.wait_text("#sync-waiting", "Menunggu: 0", timeout=30)
            assert b.js("return performance.getEntriesByType('navigation').length") == 1
            assert b.find_all("#pending"), "the page was left or reloaded"
            clean(b, "offline to online")
        assert not pending_lines(o), o.k("list", "survey").stdout
        # the server holds them
        ids = {x["id"] for x in json.loads(o.k("list", "survey", "--json").stdout)}
        server = o.d("export", "survey", "--office", oe.OFFICE).stdout
        missing = [i for i in ids if i not in server]
        assert len(ids) == N and not missing, (ids, server)
        o.stop_ui()
    finally:
        o.close()
    print("office app offline to online: ok")


if __name__ == "__main__":
    main()
