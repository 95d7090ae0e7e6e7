// lang.js - the two languages of the dashboard and /publik (ui.md "Words"):
// Indonesian by default, English when chosen with the switch in the header
// (kept in this browser's localStorage).  t("Indonesian text") is the text
// in the chosen language; the Indonesian text is the key, so a page reads
// as it shows.  The pages send Accept-Language with the language chosen,
// so the server's error messages come in it too.
const KEY = "kj_lang";

let cur = "id";
try {
  if (localStorage.getItem(KEY) === "en") cur = "en";
} catch (e) { /* storage closed: Indonesian */ }
document.documentElement.lang = cur;

export function lang() {
  return cur;
}

// The locale of numbers and dates: "82,35" and "30 Nov 2026" in
// Indonesian, "82.35" and "30 Nov 2026" in English.
export function locale() {
  return cur === "en" ? "en-GB" : "id-ID";
}

export function setLang(l) {
  cur = l === "en" ? "en" : "id";
  try { localStorage.setItem(KEY, cur); } catch (e) { /* this page only */ }
  document.documentElement.lang = cur;
}

// t("{n} dari {m} pegawai", {n: 3, m: 9})
export function t(s, vars) {
  let r = cur === "en" && Object.prototype.hasOwnProperty.call(EN, s) ? EN[s] : s;
  if (vars) r = r.replace(/\{(\w+)\}/g, (m, k) => (k in vars ? String(vars[k]) : m));
  return r;
}

// The switch: a button naming the other language; onchange() redraws.
export function langSwitch(h, onchange) {
  return h("button", {
    type: "button", id: "bahasa", class: "lang", lang: cur === "en" ? "id" : "en",
    onclick: () => { setLang(cur === "en" ? "id" : "en"); onchange(); },
  }, cur === "en" ? "Bahasa Indonesia" : "English");
}

const EN = {
  // frame
  "Dasbor BKD": "BKD dashboard",
  "Dasbor Kinerja BKD": "BKD performance dashboard",
  "Publikasi IKM": "IKM publication",
  "Halaman": "Pages",
  "Memuat...": "Loading...",
  "Grafik tidak dapat dimuat.": "The chart cannot be loaded.",
  "Ringkasan": "Summary",
  "Tren": "Trends",
  "Pegawai": "Employees",
  "Konflik": "Conflicts",
  "Perangkat": "Devices",
  "Ekspor": "Export",
  "Kantor": "Office",
  "Keluar": "Sign out",
  "analis": "analyst",
  "Masuk": "Sign in",
  "Masuk ke Dasbor BKD": "Sign in to the BKD dashboard",
  "Nama pengguna": "User name",
  "Kata sandi": "Password",
  "Sesi berakhir: silakan masuk lagi.": "Session ended: please sign in again.",
  "Halaman ini hanya untuk admin.": "This page is for administrators only.",
  "Tidak ada data": "No data",
  "Belum ada target dan penilaian atasan": "No target and no atasan (supervisor) rating yet",
  "Belum ada penilaian atasan": "No atasan (supervisor) rating yet",
  "Belum ada target": "No target yet",
  "untuk periode ini": "for this period",
  "belum pernah": "never",
  "Periode ": "Period ",
  "Tahun ": "Year ",
  "Tahun": "Year",
  "Bagian tahun": "Part of the year",
  "Setahun": "Whole year",
  "Tahun {y}": "Year {y}",
  "Triwulan {q}": "Quarter {q}",
  "Triwulan {q} {y}": "Quarter {q} {y}",
  "Januari": "January", "Februari": "February", "Maret": "March", "April": "April", "Mei": "May",
  "Juni": "June", "Juli": "July", "Agustus": "August", "September": "September",
  "Oktober": "October", "November": "November", "Desember": "December",
  "Cetak": "Print",
  "Sebelumnya": "Previous",
  "Berikutnya": "Next",
  "Terapkan": "Apply",
  // Ringkasan
  "{p}, dihitung per {d}.": "{p}, computed as of {d}.",
  "IKK per kantor": "IKK per office",
  "Peringkat kantor (IKK)": "Ranking of offices (IKK)",
  "Peringkat": "Rank",
  "IKM (mutu)": "IKM (grade)",
  "Survei": "Surveys",
  "Pengaduan tepat waktu (%)": "Complaints on time (%)",
  "Kepatuhan (%)": "Compliance (%)",
  "Capaian rata-rata": "Mean achievement",
  "Tidak ada data (tidak diperingkat): ": "No data (not ranked): ",
  "Unduh tabel ini: ": "Download this table: ",
  // Kantor
  "← Ringkasan": "← Summary",
  "Kantor {o}": "Office {o}",
  "{p}: peringkat {r}, IKK {ikk}, IKM {ikm}{mutu}, {n} survei.": "{p}: rank {r}, IKK {ikk}, IKM {ikm}{mutu}, {n} surveys.",
  " (mutu {m}, {k})": " (grade {m}, {k})",
  "NRR per unsur": "NRR per element",
  "IKM per layanan": "IKM per service",
  "IKM per unsur pelayanan": "IKM per service element",
  "Unsur": "Element",
  "Layanan": "Service",
  "Layanan lain": "Other services",
  "Mutu": "Grade",
  "Pengaduan": "Complaints",
  "Diterima": "Received",
  "Selesai": "Resolved",
  "Tepat waktu": "On time",
  "Median hari": "Median days",
  "Kepatuhan pelaporan": "Reporting compliance",
  "Predikat kinerja": "Performance rating",
  "Nama": "Name",
  "Capaian": "Achievement",
  "Perilaku": "Behaviour",
  "Predikat": "Rating",
  "Komentar warga": "Citizens' comments",
  "Belum ada komentar pada periode ini.": "No comments in this period yet.",
  "Catatan kantor": "The office's records",
  "Jenis": "Type",
  "Status": "Status",
  "Dari": "From",
  "Sampai": "To",
  "Semua status": "All statuses",
  "Semua pegawai": "All employees",
  "{n} catatan, halaman {p} dari {m}.": "{n} records, page {p} of {m}.",
  "Tidak ada catatan yang cocok.": "No records match.",
  "Terbuka": "Open",
  // record types and fields
  "Survei (SKM)": "Surveys (SKM)",
  "Kegiatan": "Activities",
  "Penilaian perilaku": "Behaviour ratings",
  "Target kinerja": "Performance targets",
  "Indikator": "Indicators",
  "Tanggal": "Date",
  "Usia": "Age",
  "Jenis kelamin": "Sex",
  "Pendidikan": "Education",
  "Pekerjaan": "Occupation",
  "Komentar": "Comment",
  "Jumlah": "Quantity",
  "Menit": "Minutes",
  "Uraian": "Description",
  "Bukti": "Evidence",
  "Diperiksa oleh": "Reviewed by",
  "Saluran": "Channel",
  "Kategori": "Category",
  "Isi": "Summary",
  "Penyelesaian": "Resolution",
  "Diselesaikan oleh": "Resolved by",
  "Periode": "Period",
  "Penilai": "Rater",
  "Dinilai": "Ratee",
  "Peran": "Role",
  "Target": "Target",
  "Bobot": "Weight",
  "Draf": "Draft",
  "Diajukan": "Submitted",
  "Disetujui": "Approved",
  "Ditolak": "Rejected",
  // Tren
  "Perlu perhatian: IKK atau IKM turun {a} poin atau lebih, pengaduan tepat waktu atau kepatuhan turun {b} poin atau lebih dari bulan sebelumnya.":
    "Needs attention: IKK or IKM fell {a} points or more, complaints on time or compliance fell {b} points or more from the month before.",
  "Perlu perhatian": "Needs attention",
  "Tidak ada kantor yang perlu perhatian.": "No office needs attention.",
  "IKK per bulan": "IKK per month",
  "Bulan": "Month",
  "Pengaduan tepat waktu": "Complaints on time",
  "Kepatuhan": "Compliance",
  // Pegawai
  "Nama, NIP atau kantor": "Name, NIP or office",
  "Cari": "Search",
  "Semua predikat": "All ratings",
  "{n} dari {m} pegawai, {p}.": "{n} of {m} employees, {p}.",
  "Sangat Baik": "Very good", "Baik": "Good", "Butuh Perbaikan": "Needs improvement",
  "Kurang": "Poor", "Sangat Kurang": "Very poor",
  // Konflik
  "Dua perangkat mengubah kolom yang sama tanpa saling tahu: nilai yang lebih baru disimpan, yang lain tercatat di sini. Waktu menurut zona kantor.":
    "Two devices changed the same field without knowing of each other: the newer value is kept, the other is logged here. Times in the office's zone.",
  "Tidak ada konflik.": "No conflicts.",
  "{n} terbaru dari {m}.": "The newest {n} of {m}.",
  "(kosong)": "(empty)",
  "tidak disimpan: tidak sah, {b} byte ({why})": "not kept: not valid, {b} bytes ({why})",
  "{type} {id}…, kolom '{f}': disimpan {w} dari perangkat {wd}, ": "{type} {id}…, field '{f}': kept {w} from device {wd}, ",
  "tertimpa {l} dari perangkat {ld}.": "overwritten {l} from device {ld}.",
  "Pegawai (data)": "Employees (master data)",
  // Perangkat
  "Daftarkan perangkat": "Enrol a device",
  "Nama perangkat": "Device name",
  "PC loket depan": "Front desk PC",
  "Buat kode pendaftaran": "Make an enrolment code",
  "Cabut perangkat {d}? PC itu tidak bisa sinkron lagi.": "Revoke device {d}? That PC can no longer sync.",
  "Perangkat terdaftar": "Enrolled devices",
  "Terakhir terlihat": "Last seen",
  "Versi": "Version",
  "Menunggu": "Waiting",
  "Pendaftaran": "Enrolment",
  "menunggu": "waiting",
  "terpakai": "used",
  "kedaluwarsa": "expired",
  "dicabut": "revoked",
  "aktif": "active",
  "Cabut": "Revoke",
  "dilaporkan {t}": "reported {t}",
  "belum dilaporkan": "not reported yet",
  "Versi, menunggu dan ditolak: yang dilaporkan PC pada sinkronisasi terakhirnya (kinerja 0.2 ke atas).":
    "Version, waiting and rejected: what the PC reported at its last sync (kinerja 0.2 and later).",
  "Kantor tanpa sinkronisasi {n} hari terakhir": "Offices without a sync in the last {n} days",
  "terakhir {t}": "last {t}",
  "belum ada perangkat": "no device yet",
  "perangkatnya belum pernah sinkron": "its devices never synced",
  "Semua kantor tersinkron.": "Every office has synced.",
  "Kode pendaftaran untuk ": "Enrolment code for ",
  " ({o}), berlaku sampai {t}:": " ({o}), valid until {t}:",
  "Kode QR pendaftaran": "Enrolment QR code",
  "Di PC kantor: ": "At the office PC: ",
  // Ekspor
  "Laporan": "Reports",
  "Peringkat kantor": "Ranking of offices",
  "Tren bulanan": "Monthly trends",
  "Data mentah": "Raw records",
  "Data mentah {w} untuk {p}: ": "Raw records of {w} for {p}: ",
  "Data mentah untuk {p}: ": "Raw records for {p}: ",
  "kantor ini": "this office",
  "semua kantor": "all offices",
  "Data": "Data",
  "Semua kantor": "All offices",
  "Tabel laporan seperti di halamannya, dalam CSV (untuk program lain) atau XLSX (untuk Excel/LibreOffice).":
    "The reports' tables as on their pages, as CSV (for other programs) or XLSX (for Excel/LibreOffice).",
  "Layanan (data)": "Services",
  "Kantor (data)": "Offices",
  // /publik
  "Indeks Kepuasan Masyarakat": "Satisfaction index",
  "Indeks Kepuasan Masyarakat (IKM)": "Satisfaction index (IKM)",
  "Hasil Survei Kepuasan Masyarakat, {p}": "Citizen satisfaction survey results, {p}",
  "Dihitung per {d}.": "Computed as of {d}.",
  " mutu {m} ({k})": " grade {m} ({k})",
  ", {n} responden": ", {n} respondents",
  "Per layanan": "Per service",
  "Responden": "Respondents",
  "Nilai per unsur (NRR)": "Score per element (NRR)",
  "Unsur pelayanan": "Service element",
  "Survei Kepuasan Masyarakat menurut PermenPANRB Nomor 14 Tahun 2017. Nilai per unsur (NRR) 1–4; IKM 25–100; mutu A (sangat baik) sampai D (tidak baik).":
    "Citizen satisfaction survey per PermenPANRB 14/2017. Score per element (NRR) 1–4; IKM 25–100; grade A (very good) to D (poor).",
  "Tidak Baik": "Poor",
  "Kurang Baik": "Fair",
};
