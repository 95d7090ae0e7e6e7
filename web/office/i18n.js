// i18n.js - the office app's words: Indonesian first (ui.md "Words"),
// English when the browser asks for it (navigator.languages).  t(text)
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
  "Tersimpan.": "Saved.",
  "Periksa isian berikut": "Check these fields",
  "Terkunci sampai": "Locked until",
  "sisa percobaan": "tries left",
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
};

const langs = (navigator.languages && navigator.languages.length) ? navigator.languages : [navigator.language || "id"];
export const lang = String(langs[0] || "id").toLowerCase().startsWith("en") ? "en" : "id";

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

const MONTHS = ["Jan", "Feb", "Mar", "Apr", "Mei", "Jun", "Jul", "Agu", "Sep", "Okt", "Nov", "Des"];
const MONTHS_EN = ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"];
// "2026-11-30" as "30 Nov 2026"
export function day(iso) {
  const m = /^(\d{4})-(\d{2})-(\d{2})$/.exec(iso || "");
  if (!m) return iso || "";
  return `${Number(m[3])} ${(lang === "en" ? MONTHS_EN : MONTHS)[Number(m[2]) - 1]} ${m[1]}`;
}

export const STATUS = { draft: "Draf", submitted: "Diajukan", approved: "Disetujui", rejected: "Ditolak" };
