#!/usr/bin/python3
"""web_bench.py - the web apps' render budget (issues 17 and 18), run by
`make bench` (bench/bench.py starts it with Debian's /usr/bin/python3, whose
dist-packages hold selenium).

  bench/web_bench.py BUILD_DIR OUT.json [RUNS]

Measures, in Debian's headless chromium with the HTTP cache off (every load
fetches every asset: a first visit):
- each page of the office app (`kinerja ui` against a real kinerjad, office
  36.73.01 with eleven months of scripts/gen-data.py data pushed and its
  scores pulled): navigation start to app.js's performance mark
  "kj-page-drawn" (the page drawn with its data) and to the first
  contentful paint, median of RUNS loads;
- the BKD dashboard (`kinerjad serve`, 50 offices and a year of
  gen-data.py data): navigation start until each page's main table or
  section is in the document (a MutationObserver added before the page's
  scripts: web/bkd has no mark of its own) and its first contentful paint;
- the bytes each page transferred for its documents, scripts, styles and
  fonts (Resource Timing encodedBodySize: compressed as served, the API's
  JSON left out), and all distinct assets together;
- whether every page fits 1366x768 and a 360 px phone without a page-wide
  horizontal scroll.
Writes the figures as JSON to OUT.json.  Everything binds 127.0.0.1 and
lives in temporary directories removed at the end."""
import json
import os
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, os.path.join(ROOT, "tests", "browser"))
import kjbrowser  # noqa: E402
import office_env as oe  # noqa: E402

GEN = os.path.join(ROOT, "scripts", "gen-data.py")
OFFICE_PAGES = {  # role -> pages (path, name): every page of the app
    "operator": [("/beranda", "Beranda"), ("/survei", "Survei"), ("/pengaduan", "Pengaduan"),
                 ("/target", "Target kinerja"), ("/impor", "Impor & Ekspor"),
                 ("/laporan", "Laporan"), ("/sinkronisasi", "Sinkronisasi")],
    "supervisor": [("/kegiatan", "Kegiatan harian"), ("/persetujuan", "Persetujuan"),
                   ("/penilaian", "Penilaian perilaku")],
}
# pages that draw charts after their figures: also the time until the
# last chart is drawn (app.js's mark kj-charts-drawn)
CHART_MARK = {"Laporan": "kj-charts-drawn"}
BKD_YEAR = "2025"
BKD_PAGES = [("/#ringkasan?period=" + BKD_YEAR, "Ringkasan", "#peringkat tbody tr"),
             ("/#tren?year=" + BKD_YEAR, "Tren", "section.tren-kantor"),
             ("/#kantor?office=36.73.01&period=" + BKD_YEAR, "Kantor", "#unsur tbody tr"),
             ("/#pegawai?period=" + BKD_YEAR, "Pegawai", "#daftar-pegawai tbody tr"),
             ("/#konflik", "Konflik", "#konflik, #konflik-kosong"),
             ("/publik", "Publik (no sign-in)", "main table tbody tr")]
BKD_PW = "analis-bkd-2025"


def gen(*args):
    subprocess.run([sys.executable, GEN] + list(args), check=True, capture_output=True)


def concat(files, out):
    """CSV files of one type (same header) into one."""
    with open(out, "w") as o:
        for i, f in enumerate(files):
            with open(f) as inp:
                lines = inp.read().splitlines(True)
            o.writelines(lines if i == 0 else lines[1:])
    return out


def watch_for(b, selector):
    """Before every document of this browser: a mark kj-bench-drawn when
    selector first matches (the page shows its data)."""
    src = ("(() => { const sel = %s; const done = () => { if (document.querySelector(sel)) {"
           " performance.mark('kj-bench-drawn'); return true; } return false; };"
           " const mo = new MutationObserver(() => { if (done()) mo.disconnect(); });"
           " mo.observe(document, { childList: true, subtree: true }); })();" % json.dumps(selector))
    return b.driver.execute_cdp_cmd("Page.addScriptToEvaluateOnNewDocument", {"source": src})


def no_cache(b):
    b.driver.execute_cdp_cmd("Network.enable", {})
    b.driver.execute_cdp_cmd("Network.setCacheDisabled", {"cacheDisabled": True})


def load(b, url, mark, then=None):
    """One fresh load of url: (ms to mark, ms to first contentful paint,
    {asset url: encoded bytes}, ms to the mark `then` or None)."""
    b.get("about:blank")
    b.get(url)
    for m in (mark, then) if then else (mark,):
        kjbrowser.wait_until(lambda: b.js("return performance.getEntriesByName(arguments[0]).length", m),
                             timeout=30, step=0.02, what=f"{url}: {m}")
    drawn = b.js("return performance.getEntriesByName(arguments[0])[0].startTime", mark)
    later = b.js("return performance.getEntriesByName(arguments[0])[0].startTime", then) if then else None
    fcp = b.first_render_ms() or 0
    assets = b.js("""const out = {};
        const nav = performance.getEntriesByType('navigation')[0];
        out[nav.name.split('#')[0]] = nav.encodedBodySize;
        for (const r of performance.getEntriesByType('resource'))
          if (!new URL(r.name).pathname.startsWith('/api/')) out[r.name] = r.encodedBodySize;
        return out;""")
    return drawn, fcp, assets, later


def fits(b):
    return b.js("return document.documentElement.scrollWidth <= window.innerWidth")


def measure(b, url, mark, runs, then=None):
    drawn, fcp, assets, later = [], [], {}, []
    for _ in range(runs):
        d, f, a, z = load(b, url, mark, then)
        drawn.append(d)
        fcp.append(f)
        assets = a
        if z is not None:
            later.append(z)
    r = {"drawn_ms": statistics.median(drawn), "fcp_ms": statistics.median(fcp),
         "runs_ms": [round(x, 1) for x in drawn], "bytes": sum(assets.values()), "assets": assets}
    if later:
        r["then_ms"] = statistics.median(later)
        r["then_runs_ms"] = [round(x, 1) for x in later]
    return r


def office(build, runs):
    o = oe.Office(os.path.join(build, "client", "kinerja"), os.path.join(build, "server", "kinerjad"),
                  os.path.join(ROOT, "tests", "data"))
    res = {}
    try:
        emp = os.path.join(ROOT, "tests", "data", "server", "employees.csv")
        months = [f"2026-{m:02d}" for m in range(1, 12)]
        d = os.path.join(o.tmp, "gen")
        per = {t: [] for t in ("surveys", "activities", "complaints")}
        for m in months:
            md = os.path.join(d, m)
            gen("month", md, "--office", oe.OFFICE, "--month", m, "--employees", emp)
            for t in per:
                per[t].append(os.path.join(md, t + ".csv"))
        for t, files in per.items():
            o.k("import", t, concat(files, os.path.join(d, t + ".csv")), check=False)
        o.sync()
        o.sync()
        counts = {t: len(json.loads(o.k("list", t.rstrip("s") if t != "activities" else "activity",
                                         "--json").stdout)) for t in per}
        res["data"] = counts
        url = o.start_ui()
        pages = {}
        for role, plist in OFFICE_PAGES.items():
            for size, key in ((kjbrowser.DESKTOP, "desktop"), (kjbrowser.PHONE, "phone")):
                with kjbrowser.Browser(size) as b:
                    no_cache(b)
                    b.get(url + "/")
                    if role == "operator":
                        b.type("#password", oe.OPERATOR_PASSWORD + "\n")
                    else:
                        b.type("#nip", oe.HEAD)
                        b.type("#pin", oe.PIN + "\n")
                    b.find("#signout")
                    for path, name in plist:
                        if key == "desktop":
                            pages[name] = measure(b, url + path, "kj-page-drawn", runs,
                                                  CHART_MARK.get(name))
                        else:
                            load(b, url + path, "kj-page-drawn", CHART_MARK.get(name))
                        pages[name]["fits_" + key] = fits(b)
        for path, name in (("/", "Masuk (sign-in)"), ("/kiosk", "Kios (kiosk)")):
            for size, key in ((kjbrowser.DESKTOP, "desktop"), (kjbrowser.PHONE, "phone")):
                with kjbrowser.Browser(size) as b:
                    no_cache(b)
                    if path == "/kiosk":
                        watch_for(b, "#layanan button")
                    mark = "kj-bench-drawn" if path == "/kiosk" else "kj-page-drawn"
                    if key == "desktop":
                        pages[name] = measure(b, url + path, mark, runs)
                    else:
                        load(b, url + path, mark)
                    pages[name]["fits_" + key] = fits(b)
        res["pages"] = pages
        o.stop_ui()
    finally:
        o.close()
    return res


def bkd(build, runs):
    kinerjad = os.path.join(build, "server", "kinerjad")
    tmp = tempfile.mkdtemp(prefix="kj-webbench-")
    srv = None
    res = {}
    try:
        d = os.path.join(tmp, "srv")
        run = lambda *a, **kw: subprocess.run([kinerjad, "--data", d] + list(a), check=True,  # noqa: E731
                                              capture_output=True, text=True, **kw)
        run("init")
        g = os.path.join(tmp, "gen")
        gen("master", g, "--offices", "50", "--employees-per-office", "6")
        for t in ("offices", "employees", "indicators"):
            run("import", t, os.path.join(g, t + ".csv"))
        with open(os.path.join(g, "offices.csv")) as f:
            codes = [line.split(",")[0] for line in f.read().splitlines()[1:]]
        per = {t: [] for t in ("surveys", "activities", "complaints", "ratings", "targets")}
        for code in codes:
            for m in range(1, 13):
                md = os.path.join(g, code, f"{m:02d}")
                gen("month", md, "--office", code, "--month", f"{BKD_YEAR}-{m:02d}",
                    "--employees", os.path.join(g, "employees.csv"))
                for t in per:
                    per[t].append(os.path.join(md, t + ".csv"))
        counts = {}
        for t, files in per.items():
            f = concat(files, os.path.join(g, t + ".csv"))
            counts[t] = sum(1 for _ in open(f)) - 1
            run("import", t, f)
        res["data"] = dict(counts, offices=len(codes))
        env = dict(os.environ, KINERJAD_PASSWORD=BKD_PW)
        run("user", "add", "ana", "--role", "analyst", env=env)
        log = open(os.path.join(tmp, "serve.log"), "w")
        srv = subprocess.Popen([kinerjad, "--data", d, "serve", "--listen", "127.0.0.1:0", "--plain-http"],
                               stdout=subprocess.PIPE, stderr=log, text=True)
        line = srv.stdout.readline()
        if "listening on" not in line:
            raise SystemExit(f"web bench: kinerjad serve does not start: {line!r}")
        url = line.split()[-1].rstrip("/")
        pages = {}
        for size, key in ((kjbrowser.DESKTOP, "desktop"), (kjbrowser.PHONE, "phone")):
            for path, name, sel in BKD_PAGES:
                with kjbrowser.Browser(size) as b:
                    no_cache(b)
                    if not path.startswith("/publik"):
                        b.get(url + "/")
                        b.type("#user", "ana")
                        b.type("#password", BKD_PW)
                        b.click("#masuk button[type=submit]")
                        b.find("#keluar")
                    watch_for(b, sel)
                    if key == "desktop":
                        pages[name] = measure(b, url + path, "kj-bench-drawn", runs)
                    else:
                        load(b, url + path, "kj-bench-drawn")
                    pages[name]["fits_" + key] = fits(b)
        res["pages"] = pages
    finally:
        if srv:
            srv.send_signal(signal.SIGTERM)
            srv.wait(timeout=30)
        shutil.rmtree(tmp, ignore_errors=True)
    return res


def main():
    build, out = sys.argv[1], sys.argv[2]
    runs = int(sys.argv[3]) if len(sys.argv) > 3 else 5
    t = time.monotonic()
    load0 = os.getloadavg()[0]
    r = {"runs": runs, "office": office(build, runs), "bkd": bkd(build, runs)}
    for app in ("office", "bkd"):
        seen = {}
        for p in r[app]["pages"].values():
            for u, n in p["assets"].items():
                seen[u.split("?")[0]] = max(n, seen.get(u.split("?")[0], 0))
        r[app]["all_assets_bytes"] = sum(seen.values())
        r[app]["all_assets"] = seen
    r["wall_s"] = time.monotonic() - t
    r["load"] = [load0, os.getloadavg()[0]]  # the machine may be shared: say how busy
    with open(out, "w") as f:
        json.dump(r, f, indent=1)


if __name__ == "__main__":
    main()
