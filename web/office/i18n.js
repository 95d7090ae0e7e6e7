// i18n.js - the office app's words: Indonesian first (ui.md "Words"),
// English when the browser asks for it (navigator.languages) or setLang("en")
// chose it; the cookie kj_lang tells the API the page's language.  t(text)
// takes the Indonesian text and gives it in the browser's language; num()
// writes numbers the Indonesian way on screen (82,35; 1.234).
const EN = {
  "Beranda": "Home",
  "Kegiatan harian": "Daily activities",
  "Persetujuan": "Approvals",
  "Survei": "Survey",
  "Sinkronisasi": "Sync",
  "Setujui": "Approve",
  "Tolak": "Reject",
  "Draf": "Draft",
  "Diajukan": "Submitted",
  "Disetujui": "Approved",
  "Ditolak": "Rejected",
  "Semua": "All",
  "Survei Kepuasan Masyarakat (SKM)": "Citizen satisfaction survey",
  "Tersinkron": "Synced",
  "Menunggu": "Waiting",
  "Luring": "Offline",
  "Daring": "Online",
  "Ditolak server": "Rejected by the server",
  "Masuk": "Sign in",
  "Keluar": "Sign out",
  "Kirim": "Send",
  "Simpan": "Save",
  "Tidak ada data": "No data",
  "Sinkronkan sekarang": "Sync now",
  "Menyinkronkan...": "Syncing...",
  "Terakhir": "Last",
  "belum pernah": "never",
  "Masuk sebagai pegawai": "Sign in as an employee",
  "Masuk sebagai operator": "Sign in as the operator",
  "NIP": "NIP",
  "PIN": "PIN",
  "Kata sandi operator": "Operator password",
  "Nama": "Name",
  "Tanggal": "Date",
  "Layanan": "Service",
  "Jawaban": "Answers",
  "Umur": "Age",
  "Jenis kelamin": "Sex",
  "Pendidikan": "Education",
  "Pekerjaan": "Occupation",
  "Saran": "Comment",
  "Indikator": "Indicator",
  "Jumlah": "Quantity",
  "Menit": "Minutes",
  "Uraian": "Description",
  "Status": "Status",
  "Alasan": "Reason",
  "Tambah kegiatan": "Add activity",
  "Salin kegiatan kemarin": "Copy yesterday's activities",
  "Ajukan yang dipilih": "Submit selected",
  "Setujui yang dipilih": "Approve selected",
  "Tolak yang dipilih": "Reject selected",
  "Pilih semua": "Select all",
  "Perlu persetujuan": "Needs approval",
  "Menunggu sinkronisasi": "Waiting to sync",
  "Perubahan menunggu": "Changes waiting",
  "Jenis": "Type",
  "Terakhir tersinkron": "Last synced",
  "Perlu perhatian": "Needs attention",
  "Entri survei kertas": "Paper survey entry",
  "Survei tersimpan": "Surveys saved",
  "dientri sekarang": "entered now",
  "Tersimpan.": "Saved.",
  "Periksa isian berikut": "Check these fields",
  "Pegawai": "Employee",
  "Operator": "Operator",
  "Atasan": "Supervisor",
  "Semua pegawai": "All employees",
  "Filter": "Filter",
  "Dipilih": "Selected",
  "Buang": "Discard",
  "Pengaduan": "Complaints",
  "Laporan": "Report",
  "Catat pengaduan": "Record a complaint",
  "Selesaikan pengaduan": "Resolve a complaint",
  "Selesaikan": "Resolve",
  "Diterima": "Received",
  "Saluran": "Channel",
  "Kategori": "Category",
  "Ringkasan": "Summary",
  "Selesai": "Resolved",
  "Penyelesaian": "Resolution",
  "Terbuka": "Open",
  "Lewat 5 hari": "Over 5 days",
  "Terlambat": "Late",
  "Tepat waktu": "On time",
  "Lama": "Days",
  "hari": "days",
  "Periode": "Period",
  "per": "as of",
  "Cetak": "Print",
  "Peringkat": "Rank",
  "Mutu pelayanan": "Service grade",
  "Unsur pelayanan": "Service element",
  "NRR per unsur": "Mean score per element",
  "Capaian": "Achievement",
  "Predikat kinerja": "Performance rating",
  "Penilaian perilaku": "Behaviour rating",
  "Target kinerja": "Work targets",
  "Impor & Ekspor": "Import & Export",
  "Beri penilaian": "Rate a colleague",
  "Pegawai yang dinilai": "Person rated",
  "Peran Anda": "Your role",
  "Peran": "Role",
  "Rekan": "Peer",
  "Bawahan": "Subordinate",
  "1 = sangat kurang · 3 = sesuai harapan · 5 = sangat baik": "1 = far below · 3 = as expected · 5 = far above",
  "Catatan": "Comment",
  "Simpan penilaian": "Save rating",
  "Penilaian yang Anda berikan": "Ratings you gave",
  "Nilai": "Score",
  "Tidak ada pegawai yang dapat Anda nilai.": "There is nobody you can rate.",
  "Tetapkan target": "Set a target",
  "Target": "Target",
  "Bobot": "Weight",
  "Realisasi": "Actual",
  "Dicatat": "Entered",
  "Simpan target": "Save target",
  "Realisasi dan capaian dihitung server dari kegiatan yang disetujui; muncul setelah sinkronisasi.": "The server computes actual and achievement from approved activities; they appear after a sync.",
  "Impor CSV": "Import CSV",
  "Berkas CSV": "CSV file",
  "Baris pertama: nama kolom, mis.": "First line: the column names, e.g.",
  "Pemisah ; dan tanggal DD/MM/YYYY dari spreadsheet juga dibaca.": "A ; separator and DD/MM/YYYY dates from a spreadsheet are read too.",
  "Impor lagi walau baris ini pernah diimpor": "Import again even if these rows were imported before",
  "Impor": "Import",
  "Pilih berkas CSV": "Choose a CSV file",
  "Pilih berkas": "Choose a file",
  "Belum ada berkas dipilih": "No file chosen",
  "Ekspor": "Export",
  "Unduh CSV": "Download CSV",
  "Unduh XLSX": "Download XLSX",
  "Data kantor ini, kolom sama dengan berkas impor.": "This office's records, with the columns of the import file.",
  "Kegiatan": "Activities",
  "Penilaian": "Ratings",
  "Tersimpan": "Stored",
  "Perbaiki baris yang ditolak lalu impor hanya baris itu, dalam berkas tersendiri: mengimpor seluruh berkas ini lagi akan menyimpan baris barunya dua kali.":
    "Fix the rejected rows and import only them, in a file of their own: importing this whole file again would store its new rows a second time.",
  "baru": "new",
  "diperbarui": "updated",
  "tidak berubah": "unchanged",
  "Dibaca sebagai": "Read as",
  "Kepala kolom": "Header",
  "Pernah diimpor": "Imported before",
  "Baris berkas ini sudah diimpor pada": "The rows of this file were imported on",
  "Tidak ada yang ditambahkan.": "Nothing was added.",
  "Hasil impor": "Import result",
  "Baris": "Line",
  "Isi baris": "Line text",
  "Hasil": "Result",
  // Kegiatan harian: editing; Laporan: the kiosk's QR code, the IKM sheet
  "Ubah": "Edit",
  "Ubah kegiatan": "Edit activity",
  "Simpan perubahan": "Save changes",
  "Batal": "Cancel",
  "Setelah diubah, kegiatan ini diajukan lagi kepada atasan.": "Once edited, this activity goes to your supervisor again.",
  "Diajukan lagi kepada atasan.": "Sent to your supervisor again.",
  "Kode QR kios survei": "Survey kiosk QR code",
  "Pindai untuk mengisi survei kepuasan": "Scan to fill in the satisfaction survey",
  "Cetak kode QR": "Print the QR code",
  "Cetak lembar IKM": "Print the IKM sheet",
  "Hasil Survei Kepuasan Masyarakat": "Citizen satisfaction survey results",
  "Jumlah responden": "Respondents",
  "Nilai IKM": "IKM value",
  "Nilai interval konversi": "Interval value",
  "NRR tertimbang": "Weighted mean score",
  "Data per": "Data as of",
  "Kinerja unit pelayanan": "Service unit performance",
  // Persetujuan: the inbox in pages
  "Sebelumnya": "Previous",
  "Berikutnya": "Next",
  "Halaman": "Page",
  "kegiatan": "activities",
  // the kiosk (kiosk.html, kiosk.js)
  "Survei Kepuasan Masyarakat": "Citizen satisfaction survey",
  "Mohon lengkapi isian berikut": "Please complete the following",
  "Layanan yang Anda terima": "The service you received",
  "Tentang Anda (boleh dilewati)": "About you (optional)",
  "Laki-laki": "Male",
  "Perempuan": "Female",
  "Saran dan masukan (boleh dilewati)": "Suggestions and comments (optional)",
  "Terima kasih!": "Thank you!",
  "Jawaban Anda sudah kami terima dan membantu kami memperbaiki pelayanan.": "We have received your answers; they help us improve our service.",
  "Isi survei baru": "Fill in a new survey",
  "Pilih layanan yang Anda terima.": "Choose the service you received.",
  "Jawab pertanyaan": "Answer question",
  "Jawaban belum dapat disimpan, coba lagi.": "Your answers could not be saved yet, please try again.",
  "Belum ada daftar layanan: minta petugas mengisinya.": "No list of services yet: ask the staff to fill it in.",
  "Daftar layanan tidak dapat dimuat.": "The list of services could not be loaded.",
  "Periode seperti 2026, 2026-Q1 atau 2026-01": "A period like 2026, 2026-Q1 or 2026-01",
  // Kegiatan harian: "1 kegiatan disalin dari 29 Nov 2026"; Laporan: charts, period
  "kegiatan disalin dari": "activities copied from",
  "IKM per layanan": "IKM per service",
  "IKM per bulan": "IKM per month",
  "Belum ada nilai: nilai datang bersama sinkronisasi berikutnya.": "No scores yet: they come with the next sync.",
  // the lists' filters; Laporan: the employees' chart and the predikat
  "Dari tanggal": "From",
  "Sampai tanggal": "To",
  "Capaian dan predikat pegawai": "Employees' achievement and rating",
  "Sangat Baik": "Very good",
  "Baik": "Good",
  "Butuh Perbaikan": "Needs improvement",
  "Kurang": "Poor",
  "Sangat Kurang": "Very poor",
  "Kurang Baik": "Fair",
  "Tidak Baik": "Poor",
  "Belum ada predikat": "No rating yet",
  "Belum ada penilaian atasan": "No atasan (supervisor) rating yet",
  "Belum ada target": "No target yet",
  "untuk periode ini": "for this period",
  "Belum ada target dan penilaian atasan": "No target and no atasan rating yet",
};

const langs = (navigator.languages && navigator.languages.length) ? navigator.languages : [navigator.language || "id"];
let chosen = null;
try { chosen = localStorage.getItem("kj_lang"); } catch (e) { /* storage off: the browser's language */ }
export const lang = chosen === "en" || chosen === "id" ? chosen
  : String(langs[0] || "id").toLowerCase().startsWith("en") ? "en" : "id";
// The API answers in the page's language (its messages, the rules' included:
// client/ui_lang.h reads this cookie on every request).
document.cookie = `kj_lang=${lang}; Path=/; SameSite=Strict`;

// A language switch: remember the choice on this device and show the page in it.
export function setLang(l) {
  try { localStorage.setItem("kj_lang", l === "en" ? "en" : "id"); } catch (e) { /* kept for this page only */ }
  document.cookie = `kj_lang=${l === "en" ? "en" : "id"}; Path=/; SameSite=Strict`;
  location.reload();
}

// The ID | EN switch in a page's header (index.html, kiosk.html): the
// language shown is pressed; a click on the other calls setLang().
export function wireLangSwitch() {
  document.documentElement.lang = lang;
  for (const b of document.querySelectorAll("#lang-switch button[data-lang]")) {
    b.setAttribute("aria-pressed", String(b.dataset.lang === lang));
    b.addEventListener("click", () => { if (b.dataset.lang !== lang) setLang(b.dataset.lang); });
  }
}

// Static words in a page's HTML marked data-t: shown in the page's language.
export function translateStatic(root = document) {
  for (const e of root.querySelectorAll("[data-t]")) e.textContent = t(e.textContent.trim());
}

export function t(text) {
  return lang === "en" && EN[text] !== undefined ? EN[text] : text;
}

const fmt = {};
export function num(n, dec = 0) {
  if (n === null || n === undefined || n === "" || Number.isNaN(Number(n))) return t("Tidak ada data");
  const key = String(dec);
  fmt[key] ||= new Intl.NumberFormat(lang === "en" ? "en-GB" : "id-ID",
    { minimumFractionDigits: dec, maximumFractionDigits: dec });
  return fmt[key].format(Number(n));
}

// An exact decimal (a quantity, target or realisasi: docs/scoring.md) with
// as many decimals as it has, at most 6: 2.5 as "2,5", 0.1234 keeps four.
export function exact(v) {
  return num(v, Math.min((/\.(\d+)$/.exec(String(v ?? "")) || ["", ""])[1].length, 6));
}

const MONTHS = ["Jan", "Feb", "Mar", "Apr", "Mei", "Jun", "Jul", "Agu", "Sep", "Okt", "Nov", "Des"];
const MONTHS_EN = ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"];
// "2026-11-30" as "30 Nov 2026"
export function day(iso) {
  const m = /^(\d{4})-(\d{2})-(\d{2})$/.exec(iso || "");
  if (!m) return iso || "";
  return `${Number(m[3])} ${(lang === "en" ? MONTHS_EN : MONTHS)[Number(m[2]) - 1]} ${m[1]}`;
}

export const STATUS = { draft: "Draf", submitted: "Diajukan", approved: "Disetujui", rejected: "Ditolak" };
