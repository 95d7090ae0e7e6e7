"""test_office_slowsync.py - a long sync never holds up the office app
(issue 17, "Sync never blocks the app"): 3,000 changes wait in the outbox,
the link to kinerjad is slow (tests/tools/linkem: 32 kbit/s, 300 ms each
way), so the sync of `kinerja ui`'s thread takes half a minute; meanwhile
someone presses "Sinkronkan sekarang" (POST /api/sync), and the app's other
requests (the header's status, a new survey, a page, the kiosk) each answer
within a few seconds while that sync is still under way.  No browser: plain
HTTP with a cookie jar.

  test_office_slowsync.py KINERJA KINERJAD LINKEM DATA_DIR"""
import datetime
import http.cookiejar
import json
import os
import sys
import threading
import time
import urllib.request

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import office_env as oe  # noqa: E402

N = 3000
LIMIT_S = 3.0  # what "answers at once" means here, on a loaded 2-core machine


class Client:
    def __init__(self, url):
        self.url = url
        self.op = urllib.request.build_opener(
            urllib.request.HTTPCookieProcessor(http.cookiejar.CookieJar()))
        self.csrf = None

    def call(self, path, body=None, timeout=LIMIT_S):
        """(seconds, status, JSON or text) of one request; raises on timeout."""
        r = urllib.request.Request(self.url + path, headers={"Accept": "application/json"},
                                   data=None if body is None else json.dumps(body).encode())
        if body is not None:
            r.add_header("Content-Type", "application/json")
            if self.csrf:
                r.add_header("X-CSRF-Token", self.csrf)
        t = time.monotonic()
        with self.op.open(r, timeout=timeout) as resp:
            raw = resp.read()
            st = resp.status
        dt = time.monotonic() - t
        try:
            return dt, st, json.loads(raw)
        except ValueError:
            return dt, st, raw.decode()


def main():
    kinerja, kinerjad, linkem, data = sys.argv[1:5]
    o = oe.Office(kinerja, kinerjad, data, linkem=linkem, ui_args=["--kiosk-pause", "0"])
    try:
        today = datetime.datetime.now(datetime.timezone(datetime.timedelta(hours=7))).date()
        csv = os.path.join(o.tmp, "surveys.csv")
        with open(csv, "w") as f:
            f.write("date,service,u1,u2,u3,u4,u5,u6,u7,u8,u9,comment\n")
            for i in range(N):
                f.write(f"{today},KTP-el,3,4,3,4,3,4,3,4,3,survei kertas nomor {i}\n")
        o.k("import", "survey", csv)
        o.relink("--rate", "32", "--delay", "300")
        url = o.start_ui()
        c = Client(url)
        _, st, s = c.call("/api/signin", {"operator": True, "password": oe.OPERATOR_PASSWORD})
        assert st == 200, s
        c.csrf = s["csrf"]
        # the sync thread starts at once; "Sinkronkan sekarang" on top of it
        answer = {}

        def sync_now():
            answer["r"] = c.call("/api/sync", {}, timeout=60)

        th = threading.Thread(target=sync_now)
        th.start()
        time.sleep(0.5)
        worst = 0.0
        seen_syncing = False
        survey = {"date": today.isoformat(), "service": "KTP-el",
                  **{f"u{i}": "3" for i in range(1, 10)}}
        for _ in range(5):
            for path, body in (("/api/status", None), ("/api/surveys", survey),
                               ("/api/outbox", None), ("/beranda", None), ("/api/kiosk", None)):
                try:
                    dt, st, d = c.call(path, body)
                except OSError as e:
                    raise AssertionError(f"{path} did not answer within {LIMIT_S} s while the "
                                         f"sync runs: {e}")
                worst = max(worst, dt)
                assert st == 200, (path, st, d)
                if path == "/api/status":
                    seen_syncing |= d["syncing"]
                    pending = d["pending"]
            time.sleep(0.5)
        # all that happened while the slow sync was still going on
        _, _, d = c.call("/api/status")
        assert d["syncing"] and d["pending"] > 1000, d
        assert seen_syncing
        print(f"slowest app request during the sync: {worst * 1000:.0f} ms "
              f"(pending {pending})", flush=True)
        # the button's request answers too (after its wait), without a second sync
        th.join(70)
        assert not th.is_alive(), "POST /api/sync never answered"
        dt, st, d = answer["r"]
        assert st == 200 and d["ok"], d
        print(f"POST /api/sync answered after {dt:.1f} s: {d}", flush=True)
        o.relink()  # a fast link again: the sync finishes
        end = time.time() + 120
        while time.time() < end:
            _, _, d = c.call("/api/status")
            if d["pending"] == 0 and not d["syncing"]:
                break
            time.sleep(1)
        assert d["pending"] == 0, d
        o.stop_ui()
    finally:
        o.close()
    print("office app during a slow sync: ok")


if __name__ == "__main__":
    main()
