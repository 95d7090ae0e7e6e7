#!/usr/bin/env python3
"""test_pgcluster: tests/tools/pgcluster's robustness, with clusters of its own
(not the shared pg fixture): two concurrent starts of one build tree share
one cluster, which outlives the first stop; a cluster whose ctest was killed
is replaced by the next start; a cluster whose build tree is gone is deleted
by another tree's start; the last stop deletes everything.  Exit 77 without
PostgreSQL.  About 3 cluster starts (2 s each)."""
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import threading

PGC = os.path.join(os.path.dirname(os.path.abspath(__file__)), "pgcluster")


def owner():
    """A process standing for one ctest run."""
    return subprocess.Popen(["sleep", "600"])


def pgc(cmd, statedir, who, check=True):
    env = dict(os.environ, KJ_PG_OWNER_PID=str(who.pid))
    p = subprocess.run([PGC, cmd, statedir], env=env, capture_output=True, text=True, timeout=120)
    if check and p.returncode != 0:
        sys.exit("pgcluster %s failed (%d): %s%s" % (cmd, p.returncode, p.stdout, p.stderr))
    return p.stdout.strip()


def folder(url):
    return url.split("host=")[1].split("&")[0]


def query(url, sql):
    p = subprocess.run(["psql", "-X", "-At", url, "-c", sql], capture_output=True, text=True, timeout=60)
    return p.stdout.strip() if p.returncode == 0 else None


def expect(cond, what):
    if not cond:
        sys.exit("FAIL: " + what)
    print("ok: " + what)


def main():
    if subprocess.run([PGC, "check"]).returncode == 77:
        sys.exit(77)
    root = tempfile.mkdtemp(prefix="kjpgtest-")
    s1, s2 = os.path.join(root, "s1"), os.path.join(root, "s2")
    procs = []
    try:
        # two ctest runs of one build tree start at the same moment
        a, b = owner(), owner()
        procs += [a, b]
        urls = {}
        ts = [threading.Thread(target=lambda w=w: urls.__setitem__(w.pid, pgc("start", s1, w)))
              for w in (a, b)]
        for t in ts:
            t.start()
        for t in ts:
            t.join()
        expect(urls[a.pid] == urls[b.pid], "concurrent starts share one cluster")
        u1 = urls[a.pid]
        expect(query(u1, "SELECT current_user") == "kinerja", "the URL logs in as kinerja")
        expect(query(u1, "SELECT rolsuper FROM pg_roles WHERE rolname=current_user") == "f",
               "kinerja is not a superuser")
        pgc("stop", s1, a)
        expect(query(u1, "SELECT 1") == "1", "the cluster outlives the first stop")

        # the other run is killed before its cleanup: the next start replaces
        # the stale cluster
        b.send_signal(signal.SIGKILL)
        b.wait()
        c = owner()
        procs.append(c)
        u2 = pgc("start", s1, c)
        expect(u2 != u1 and not os.path.exists(folder(u1)), "a killed run's cluster is replaced")
        expect(query(u1, "SELECT 1") is None, "the stale server is stopped")

        # another build tree's cluster whose state is gone is deleted
        d = owner()
        procs.append(d)
        u3 = pgc("start", s2, d)
        shutil.rmtree(s2)
        e = owner()
        procs.append(e)
        expect(pgc("start", s1, e) == u2, "a second run joins")
        expect(not os.path.exists(folder(u3)), "an orphaned cluster is deleted")
        expect(os.path.exists(folder(u2)), "a live cluster is kept")

        pgc("stop", s1, c)
        pgc("stop", s1, e)
        expect(not os.path.exists(folder(u2)) and query(u2, "SELECT 1") is None,
               "the last stop deletes the cluster")
        expect(subprocess.run([PGC, "url", s1], capture_output=True).returncode == 77,
               "url: no cluster, exit 77")
    finally:
        for p in procs:
            p.kill()
            p.wait()
        for s in (s1, s2):
            if os.path.exists(os.path.join(s, "state")):
                subprocess.run([PGC, "stop", s], env=dict(os.environ, KJ_PG_OWNER_PID="1"))
        shutil.rmtree(root, ignore_errors=True)


if __name__ == "__main__":
    main()
