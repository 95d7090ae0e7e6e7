#!/usr/bin/env python3
"""Generate realistic kinerja CSV files (domain.md formats), reproducibly.

  scripts/gen-data.py master OUTDIR [--offices N] [--employees-per-office K]
      offices.csv, employees.csv, indicators.csv (N over 6: made-up kecamatan
      36.90.01, 36.90.02, ... after the six of Kota Serang)
  scripts/gen-data.py month OUTDIR --office CODE --month YYYY-MM [--seed S]
      surveys.csv, activities.csv, complaints.csv, ratings.csv, targets.csv
      for one office's month (its employees from OUTDIR/../employees.csv or
      --employees FILE)
  scripts/gen-data.py surveys FILE --rows N --office CODE [--seed S] [--ids v7|v4]
      N survey rows (benchmarks); their ids are time-ordered UUIDv7 as
      kinerja makes them (RFC 9562 section 5.7: one millisecond apart, in
      row order), or random UUIDv4 (--ids v4: ids made elsewhere, the worst
      case for the id indexes)
"""
import argparse
import calendar
import csv
import datetime
import os
import random
import uuid

OFFICES = [
    ("36.73.01", "Kecamatan Serang", "Kota Serang", 9000),
    ("36.73.02", "Kecamatan Kasemen", "Kota Serang", 1000),
    ("36.73.03", "Kecamatan Walantaka", "Kota Serang", 400),
    ("36.73.04", "Kecamatan Curug", "Kota Serang", 2500),
    ("36.73.05", "Kecamatan Cipocok Jaya", "Kota Serang", 5000),
    ("36.73.06", "Kecamatan Taktakan", "Kota Serang", 800),
]
FIRST = ["Nur", "Ahmad", "Siti", "Budi", "Dewi", "Rina", "Agus", "Maya", "Joko", "Sri", "Eko", "Lina"]
LAST = ["Hidayat", "Lestari", "Santoso", "Wulan", "Pratama", "Sari", "Rahman", "Putri", "Saputra"]
SERVICES = ["KTP-el", "Kartu Keluarga", "Akta Kelahiran", "Surat Pindah", "Izin Usaha Mikro"]
INDICATORS = [("DOC", "Dokumen kependudukan selesai", "dokumen"),
              ("LYN", "Layanan tatap muka", "layanan"),
              ("RPT", "Laporan kegiatan", "laporan"),
              ("SOS", "Sosialisasi warga", "kegiatan")]


def uid(rng):
    return str(uuid.UUID(int=rng.getrandbits(128), version=4))


def uid7(rng, ms):
    """A UUIDv7 (RFC 9562 section 5.7): 48 bits of Unix milliseconds, the
    version, 12 random bits, the variant, 62 random bits."""
    v = (ms & 0xFFFFFFFFFFFF) << 80 | 0x7 << 76 | rng.getrandbits(12) << 64 | 0b10 << 62 | rng.getrandbits(62)
    return str(uuid.UUID(int=v))


def nip(rng, seq):
    birth = datetime.date(1965, 1, 1) + datetime.timedelta(days=rng.randrange(0, 365 * 30))
    appt = rng.randrange(1990, 2024)
    return "%s%04d%02d%d%03d" % (birth.strftime("%Y%m%d"), appt, rng.randrange(1, 13),
                                rng.choice((1, 2)), seq % 1000)


def write(path, header, rows):
    with open(path, "w", newline="", encoding="utf-8") as f:
        w = csv.writer(f, lineterminator="\n")
        w.writerow(header)
        w.writerows(rows)


def master(a):
    rng = random.Random(a.seed)
    os.makedirs(a.outdir, exist_ok=True)
    offices = OFFICES[: a.offices]
    # more than the six of Kota Serang (the BKD dashboard's bench: 50): kecamatan of
    # made-up kabupaten 36.90 onwards, 20 to a kabupaten
    for i in range(len(offices), a.offices):
        k = i - len(OFFICES)
        offices.append(("36.%02d.%02d" % (90 + k // 20, k % 20 + 1), "Kecamatan Contoh %d" % (k + 1),
                        "Kabupaten Contoh %d" % (k // 20 + 1), 1000 + 250 * (k % 17)))
    write(os.path.join(a.outdir, "offices.csv"), ["code", "name", "region", "population"],
          [list(o) for o in offices])
    rows = []
    seq = 1
    for code, _, _, _ in offices:
        head = None
        for k in range(a.employees_per_office):
            n = nip(rng, seq)
            seq += 1
            pos = "Camat" if k == 0 else rng.choice(["Kasi Pelayanan", "Analis", "Pengadministrasi"])
            rows.append([n, "%s %s" % (rng.choice(FIRST), rng.choice(LAST)), code, pos, head or ""])
            head = head or n
    write(os.path.join(a.outdir, "employees.csv"), ["nip", "name", "office", "position", "supervisor"], rows)
    write(os.path.join(a.outdir, "indicators.csv"), ["id", "name", "unit"], [list(i) for i in INDICATORS])


def month(a):
    rng = random.Random("%s/%s/%s" % (a.seed, a.office, a.month))
    y, m = map(int, a.month.split("-"))
    days = [datetime.date(y, m, d) for d in range(1, calendar.monthrange(y, m)[1] + 1)]
    workdays = [d for d in days if d.weekday() < 5]
    with open(a.employees, encoding="utf-8") as f:
        emps = [r for r in csv.DictReader(f) if r["office"] == a.office]
    head = emps[0]["nip"]
    os.makedirs(a.outdir, exist_ok=True)
    mood = rng.uniform(2.4, 3.8)
    surveys = []
    for _ in range(rng.randrange(40, 90)):
        u = [max(1, min(4, round(rng.gauss(mood, 0.6)))) for _ in range(9)]
        surveys.append([uid(rng), a.office, rng.choice(workdays).isoformat(), rng.choice(SERVICES)] + u +
                       [rng.randrange(17, 80), rng.choice("LP"), rng.choice(["SMA", "D4-S1", "SMP"]),
                        rng.choice(["Wiraswasta", "Petani", "Pelajar", ""]), ""])
    write(os.path.join(a.outdir, "surveys.csv"),
          "id,office,date,service,u1,u2,u3,u4,u5,u6,u7,u8,u9,age,sex,education,occupation,comment".split(","),
          surveys)
    acts, targets, ratings = [], [], []
    for e in emps:
        per = {}
        for d in workdays:
            if rng.random() < 0.85:
                ind = rng.choice(INDICATORS)[0]
                q = rng.randrange(1, 6)
                per[ind] = per.get(ind, 0) + q
                rng.random()  # (kept: the same data for a seed as before)
                # entered at the office as submitted: only the approver decides
                # (docs/scoring.md "Who may write what"; make demo's camats do)
                acts.append([uid(rng), a.office, e["nip"], d.isoformat(), ind, q, rng.randrange(60, 480),
                             "Kegiatan harian", "", "submitted", ""])
        for ind, total in per.items():
            t = max(1, round(total * rng.uniform(0.75, 1.1)))  # capaian around 90-110
            targets.append([uid(rng), a.office, e["nip"], ind, a.month, t, rng.choice(["", "1", "2"])])
        if e["nip"] != head:
            ratings.append([uid(rng), a.office, a.month, head, e["nip"], "atasan"] +
                           [rng.randrange(2, 6) for _ in range(7)] + [""])
        peer = rng.choice(emps)["nip"]
        if peer != e["nip"]:
            ratings.append([uid(rng), a.office, a.month, peer, e["nip"], "rekan"] +
                           [rng.randrange(2, 6) for _ in range(7)] + [""])
    write(os.path.join(a.outdir, "activities.csv"),
          "id,office,nip,date,indicator,quantity,minutes,description,evidence,status,reviewed_by".split(","), acts)
    write(os.path.join(a.outdir, "targets.csv"), "id,office,nip,indicator,period,target,weight".split(","), targets)
    write(os.path.join(a.outdir, "ratings.csv"),
          "id,office,period,rater,ratee,role,s1,s2,s3,s4,s5,s6,s7,comment".split(","), ratings)
    comps = []
    for _ in range(rng.randrange(3, 10)):
        r = rng.choice(workdays)
        res = r + datetime.timedelta(days=rng.randrange(0, 10)) if rng.random() < 0.8 else None
        comps.append([uid(rng), a.office, r.isoformat(), res.isoformat() if res else "",
                      rng.choice(["langsung", "telepon", "sp4n-lapor", "media-sosial"]), "Pelayanan",
                      "Antrean lama, \"loket\" tutup"])
    write(os.path.join(a.outdir, "complaints.csv"),
          "id,office,received,resolved,channel,category,summary".split(","), comps)


def surveys(a):
    rng = random.Random(a.seed)
    with open(a.file, "w", newline="", encoding="utf-8") as f:
        w = csv.writer(f, lineterminator="\n")
        w.writerow("id,office,date,service,u1,u2,u3,u4,u5,u6,u7,u8,u9,age,sex,education,occupation,comment".split(","))
        base = datetime.date(2026, 1, 1)
        made = 1793491200000  # 2026-11-01 00:00 UTC, in ms: when the rows were entered
        for i in range(a.rows):
            w.writerow([uid7(rng, made + i) if a.ids == "v7" else uid(rng), a.office, (base + datetime.timedelta(days=rng.randrange(0, 300))).isoformat(),
                        rng.choice(SERVICES)] + [rng.randrange(1, 5) for _ in range(9)] +
                       [rng.randrange(17, 80), rng.choice("LP"), "SMA", "Wiraswasta", "Pelayanan cepat"])


def main():
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = p.add_subparsers(dest="cmd", required=True)
    m = sub.add_parser("master")
    m.add_argument("outdir")
    m.add_argument("--offices", type=int, default=3)
    m.add_argument("--employees-per-office", type=int, default=10)
    m.add_argument("--seed", default="1")
    mo = sub.add_parser("month")
    mo.add_argument("outdir")
    mo.add_argument("--office", required=True)
    mo.add_argument("--month", required=True)
    mo.add_argument("--employees", required=True)
    mo.add_argument("--seed", default="1")
    s = sub.add_parser("surveys")
    s.add_argument("file")
    s.add_argument("--rows", type=int, required=True)
    s.add_argument("--office", required=True)
    s.add_argument("--seed", default="1")
    s.add_argument("--ids", choices=("v7", "v4"), default="v7")
    a = p.parse_args()
    {"master": master, "month": month, "surveys": surveys}[a.cmd](a)


if __name__ == "__main__":
    main()
