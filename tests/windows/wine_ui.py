#!/usr/bin/env python3
"""wine_ui.py - `kinerja ui` of kinerja.exe under Wine (issue 20 point 4):
it opens a database whose name is not ASCII (the exe's UTF-8 code page),
serves the office app on 127.0.0.1, runs its sync loop, and Ctrl-C
(SIGINT, which Wine turns into the console's CTRL_C_EVENT: common/plat_win.c
kj_on_interrupt) stops it with exit code 0.  Exit 77 without Wine or
kinerja.exe.  Environment: KJ_WINE, KJ_WINE_EXE, WINEPREFIX (set by
tests/windows/CMakeLists.txt)."""
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time
import urllib.request

wine, exe = os.environ.get("KJ_WINE", ""), os.environ.get("KJ_WINE_EXE", "")
if not wine or not os.access(wine, os.X_OK):
    print("SKIP: no Wine (apt-get install wine wine64, or scripts/install-deps --windows)")
    sys.exit(77)
if not os.path.exists(exe):
    print(f"SKIP: no kinerja.exe at '{exe}' (run 'make windows' first)")
    sys.exit(77)


def get(port, path):
    with urllib.request.urlopen(f"http://127.0.0.1:{port}{path}", timeout=10) as r:
        return r.status, r.headers, r.read()


d = tempfile.mkdtemp(prefix="kjt-wine-ui-")
try:
    # a name outside ASCII: kinerja.exe's manifest makes its code page UTF-8
    db = os.path.join(d, "kantor-ñé.db")
    r = subprocess.run([wine, exe, "--db", db, "init", "--office", "3201010"],
                       capture_output=True, text=True, timeout=60)
    assert r.returncode == 0, r.stderr
    assert os.path.exists(db), os.listdir(d)
    err = open(os.path.join(d, "err.txt"), "w")
    p = subprocess.Popen([wine, exe, "--db", db, "ui", "--listen", "127.0.0.1:0"],
                         stdout=subprocess.PIPE, stderr=err, text=True)
    line = p.stdout.readline()
    want = "open http://127.0.0.1:"
    assert line.startswith(want) and line.endswith("/ in a browser\n"), repr(line)
    port = int(line[len(want):].split("/")[0])
    st, h, body = get(port, "/")
    assert st == 200 and h["Content-Type"] == "text/html; charset=utf-8", (st, h)
    assert b"<html" in body
    st, h, body = get(port, "/static/chart.min.js")
    assert st == 200 and len(body) > 100000, (st, len(body))
    assert get(port, "/healthz")[0] == 200
    # the sync loop runs in the process: no server set, it says so
    for _ in range(100):
        if "no server set" in open(os.path.join(d, "err.txt")).read():
            break
        time.sleep(0.1)
    assert "no server set" in open(os.path.join(d, "err.txt")).read()
    t0 = time.time()
    p.send_signal(signal.SIGINT)
    rc = p.wait(timeout=30)
    err.close()
    text = open(os.path.join(d, "err.txt")).read()
    assert rc == 0, (rc, text)
    assert "kinerja: stopped" in text, text
    print(f"ui served on port {port}, stopped by Ctrl-C in {time.time() - t0:.1f} s")
finally:
    shutil.rmtree(d, ignore_errors=True)
