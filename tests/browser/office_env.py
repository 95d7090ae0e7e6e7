"""office_env.py - an office for the browser tests of `kinerja ui`: a real
kinerjad (127.0.0.1, TLS) holding the roster of tests/data/server and the
services of office 36.73.01, an office PC enrolled with a device token, PINs
set for the camat (HEAD) and three of their staff through activation codes,
an operator password, and `kinerja ui --listen 127.0.0.1:0` serving it.

Everything lives in a temporary directory removed at the end."""
import os
import re
import shutil
import signal
import socket
import subprocess
import tempfile
import time

OFFICE = "36.73.01"
HEAD = "198503012020112001"    # Nur Dewi, the camat: supervises the staff
STAFF = "196604102014071002"   # Maya Wulan, supervisor HEAD
STAFF2 = "197504071996061003"  # Ahmad Ahmad, supervisor HEAD
LOCKME = "198904151990071004"  # Joko Ahmad: the lockout test's
PIN = "246810"
OPERATOR_PASSWORD = "operator-kasemen-1"
SERVICES = ["KTP-el", "Kartu Keluarga", "Surat Pindah"]


def _free_port():
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    p = s.getsockname()[1]
    s.close()
    return p


class Office:
    def __init__(self, kinerja, kinerjad, data_dir, ui_args=(), linkem=None):
        """linkem: the path of tests/tools/linkem to put between the PC and
        the server (an unshaped link until relink() shapes it)."""
        self.k_bin, self.d_bin, self.data_dir = kinerja, kinerjad, data_dir
        self.linkem_bin, self.link = linkem, None
        self.tmp = tempfile.mkdtemp(prefix="kj-office-")
        self.srv = os.path.join(self.tmp, "srv")
        self.db = os.path.join(self.tmp, "pc.db")
        self.procs = []
        self.ui_args = list(ui_args)
        try:
            self._setup()
        except BaseException:
            self.close()
            raise

    # -- commands ---------------------------------------------------------
    def d(self, *a, check=True):
        r = subprocess.run([self.d_bin, "--data", self.srv] + list(a), capture_output=True,
                           text=True, timeout=120)
        if check and r.returncode:
            raise AssertionError(f"kinerjad {' '.join(a)}: {r.returncode} {r.stdout} {r.stderr}")
        return r

    def k(self, *a, check=True, env=None):
        e = dict(os.environ)
        e.pop("KINERJA_DB", None)
        e.update(env or {})
        r = subprocess.run([self.k_bin, "--db", self.db] + list(a), capture_output=True, text=True,
                           timeout=120, env=e, stdin=subprocess.DEVNULL)
        if check and r.returncode:
            raise AssertionError(f"kinerja {' '.join(a)}: {r.returncode} {r.stdout} {r.stderr}")
        return r

    def sync(self):
        for _ in range(5):
            if self.k("sync", check=False).returncode == 0:
                return
            time.sleep(0.5)
        raise AssertionError("kinerja sync does not succeed: " + self.k("sync", check=False).stderr)

    # -- setup ------------------------------------------------------------
    def _setup(self):
        admin = self.d("init").stdout
        assert "admin token: " in admin, admin
        for typ, f in (("office", "offices"), ("employee", "employees"), ("indicator", "indicators")):
            self.d("import", typ, os.path.join(self.data_dir, "server", f + ".csv"))
        svc = os.path.join(self.tmp, "services.csv")
        with open(svc, "w") as f:
            f.write("office,name\n" + "".join(f"{OFFICE},{s}\n" for s in SERVICES))
        self.d("import", "service", svc)
        tok = re.search(r"device token: (\S+)", self.d("device", "add", "--office", OFFICE,
                                                        "--name", "pc-kasemen").stdout).group(1)
        self.port = _free_port()
        self.url = f"https://127.0.0.1:{self.port}"
        self._serve()
        pc_url = self.url
        if self.linkem_bin:
            self.link_port = _free_port()
            self.relink()
            pc_url = f"https://127.0.0.1:{self.link_port}"
        self.k("init", "--office", OFFICE, "--server", pc_url, "--token", tok, "--ca",
               os.path.join(self.srv, "cert.pem"))
        codes = {}
        for nip in (HEAD, STAFF, STAFF2, LOCKME):
            out = self.d("person", "activate", nip).stdout
            codes[nip] = re.search(r"activation code: (\S+)", out).group(1)
        self.sync()
        for nip, code in codes.items():
            self.k("person", "setup", nip, "--code", code, env={"KINERJA_PIN": PIN})

    def _serve(self):
        for _ in range(20):
            p = subprocess.Popen([self.d_bin, "--data", self.srv, "serve", "--listen",
                                  f"127.0.0.1:{self.port}"], stdout=subprocess.PIPE,
                                 stderr=subprocess.DEVNULL, text=True)
            line = p.stdout.readline()
            if "listening on" in line:
                self.server = p
                self.procs.append(p)
                return
            p.wait()
            self.port = _free_port()
            self.url = f"https://127.0.0.1:{self.port}"
        raise AssertionError("kinerjad serve does not start")

    def relink(self, *args):
        """(Re)start linkem on the PC's server port with args (e.g. "--rate",
        "32", "--delay", "300"); none: an unshaped link."""
        if self.link:
            self.link.send_signal(signal.SIGTERM)
            self.link.wait(timeout=20)
        p = subprocess.Popen([self.linkem_bin, "--to", str(self.port), "--port",
                              str(self.link_port)] + list(args), stdout=subprocess.PIPE,
                             stderr=subprocess.DEVNULL, text=True)
        line = p.stdout.readline()
        if "listening on" not in line:
            p.kill()
            raise AssertionError(f"linkem does not start: {line!r}")
        self.link = p
        self.procs.append(p)

    def stop_server(self):
        """kinerjad stops (SIGTERM): the office is offline."""
        self.server.send_signal(signal.SIGTERM)
        self.server.wait(timeout=30)

    def start_server(self):
        """kinerjad serves again on the same port."""
        p = subprocess.Popen([self.d_bin, "--data", self.srv, "serve", "--listen",
                              f"127.0.0.1:{self.port}"], stdout=subprocess.PIPE,
                             stderr=subprocess.DEVNULL, text=True)
        line = p.stdout.readline()
        if "listening on" not in line:
            p.kill()
            raise AssertionError(f"kinerjad serve does not start again: {line!r}")
        self.server = p
        self.procs.append(p)

    def start_ui(self):
        pw = os.path.join(self.tmp, "operator.txt")
        with open(pw, "w") as f:
            f.write(OPERATOR_PASSWORD + "\n")
        e = dict(os.environ)
        e.pop("KINERJA_DB", None)
        p = subprocess.Popen([self.k_bin, "--db", self.db, "ui", "--listen", "127.0.0.1:0",
                              "--operator-password-file", pw] + self.ui_args,
                             stdout=subprocess.PIPE, stderr=open(os.path.join(self.tmp, "ui.log"), "w"),
                             text=True, env=e)
        self.procs.append(p)
        line = p.stdout.readline()
        m = re.search(r"open (http://127\.0\.0\.1:\d+)/ in a browser", line)
        if not m:
            p.kill()
            raise AssertionError(f"kinerja ui does not start: {line!r}: " +
                                 open(os.path.join(self.tmp, "ui.log")).read())
        self.ui = p
        self.ui_url = m.group(1)
        return self.ui_url

    def stop_ui(self):
        self.ui.send_signal(signal.SIGTERM)
        rc = self.ui.wait(timeout=30)
        assert rc == 0, f"kinerja ui exits {rc} on SIGTERM"

    def close(self):
        for p in self.procs:
            if p.poll() is None:
                p.send_signal(signal.SIGTERM)
                try:
                    p.wait(timeout=20)
                except subprocess.TimeoutExpired:
                    p.kill()
                    p.wait()
        shutil.rmtree(self.tmp, ignore_errors=True)
