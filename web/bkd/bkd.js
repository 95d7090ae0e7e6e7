// bkd.js - the BKD dashboard (issue 18): sign-in, Ringkasan, Kantor, Tren,
// Pegawai, Konflik, Perangkat, Ekspor.  Pages are views of the address
// (#ringkasan?period=...) so a link can be shared; every figure comes from
// /api/ as the reports compute it; nothing is fetched from another host.
// Every text goes through t() (lang.js): Indonesian, or English when chosen.
import { nodata, predikat, h, num, int, change, zoned, date, periodName, periodPicker, yearSelect, table, t } from "./fmt.js";
import { lang, langSwitch } from "./lang.js";

const main = document.getElementById("main");
const nav = document.getElementById("nav");
let me = null; // {user, role, csrf}
const charts = [];

// --- server ----------------------------------------------------------------

async function api(path, form) {
  // the language chosen, so that the server's messages come in it
  const opt = { credentials: "same-origin", headers: { "Accept-Language": lang() } };
  if (form) {
    opt.method = "POST";
    opt.headers["Content-Type"] = "application/x-www-form-urlencoded";
    if (me) opt.headers["X-CSRF-Token"] = me.csrf;
    opt.body = new URLSearchParams(form).toString();
  }
  const early = !form && prefetched.get(path);
  prefetched.delete(path);
  const r = await (early || fetch(path, opt));
  let body = null;
  try { body = await r.json(); } catch (e) { body = null; }
  if (r.status === 401 && path !== "/api/masuk") {
    // "session ended" only when there was one: a first visit just signs in
    const had = me !== null;
    me = null;
    showSignin(had ? (body && body.error && /dihapus|removed/.test(body.error) ? body.error : t("Sesi berakhir: silakan masuk lagi.")) : undefined);
    throw new Error("signed out");
  }
  if (!r.ok) throw new Error((body && body.error) || `HTTP ${r.status}`);
  return body;
}

// A page's own answer asked for while /api/saya is on its way (a first
// visit): one round trip less before the page shows.  api() takes it.
const prefetched = new Map();
function prefetch(path) {
  const r = fetch(path, { credentials: "same-origin", headers: { "Accept-Language": lang() } });
  r.catch(() => {}); // unused when not signed in
  prefetched.set(path, r);
}

// --- address ---------------------------------------------------------------

function route() {
  const [page, q] = location.hash.replace(/^#/, "").split("?");
  return { page: page || "ringkasan", q: new URLSearchParams(q || "") };
}

function go(page, params) {
  const q = new URLSearchParams();
  for (const [k, v] of Object.entries(params || {})) if (v) q.set(k, v);
  const s = q.toString();
  const to = "#" + page + (s ? "?" + s : "");
  if (location.hash === to) render(); // the same address: draw it again
  else location.hash = to;
}

function defaultPeriod() {
  return String(new Date().getFullYear());
}

// --- frame -----------------------------------------------------------------

function clearCharts() {
  while (charts.length) charts.pop().destroy();
}

// Chart.js (66 KB compressed) is loaded once, when a page first has a chart
// to draw, and not before its tables: a first render waits for no chart.
let chartLib = null;
function chartJs() {
  if (window.Chart) return Promise.resolve(window.Chart);
  if (!chartLib) {
    chartLib = new Promise((ok, no) => {
      const s = document.createElement("script");
      s.src = "/assets/chart.min.js";
      s.onload = () => ok(window.Chart);
      s.onerror = () => { chartLib = null; no(new Error("chart.min.js")); };
      document.head.append(s);
    });
  }
  return chartLib;
}

// Draw a chart on canvas once the page around it is shown (the frame after
// this one, Chart.js loaded), unless the page was left meanwhile; the canvas
// then carries data-drawn (tests and screenshots wait for it).
function drawChart(canvas, config) {
  const shown = new Promise((ok) => requestAnimationFrame(() => setTimeout(ok, 0)));
  Promise.all([chartJs(), shown]).then(([Chart]) => {
    if (!canvas.isConnected) return;
    charts.push(new Chart(canvas, config));
    canvas.setAttribute("data-drawn", "1");
  }).catch(() => canvas.replaceWith(h("p", { class: "muted" }, t("Grafik tidak dapat dimuat."))));
}

// a records' filter or page keeps the reader at the records (records())
let toRecords = false;

// which page is drawn: work left for later frames stops when it changes
let drawn = 0;

function page(title, ...kids) {
  drawn++;
  clearCharts();
  main.replaceChildren(h("h1", {}, title), ...kids);
  if (!toRecords) window.scrollTo(0, 0); // a new page starts at its top
  document.title = title + " - " + t("Dasbor BKD");
}

function error(msg) {
  return h("p", { class: "error", role: "alert" }, msg);
}

// the texts of index.html, in the language chosen
function drawFrame() {
  document.querySelector(".brand").textContent = t("Dasbor Kinerja BKD");
  document.querySelector(".foot a").textContent = t("Publikasi IKM");
  nav.setAttribute("aria-label", t("Halaman"));
  const sw = document.getElementById("bahasa-tempat");
  sw.replaceChildren(langSwitch(h, () => { drawFrame(); me ? render() : showSignin(); }));
}

// the API's role codes (GET /api/saya) in words
const ROLES = { admin: "admin", analyst: "analis" };
function roleName(r) {
  return ROLES[r] ? t(ROLES[r]) : r;
}

function drawNav() {
  const cur = route().page;
  const items = [["ringkasan", "Ringkasan"], ["tren", "Tren"], ["pegawai", "Pegawai"], ["konflik", "Konflik"], ["ekspor", "Ekspor"]];
  if (me && me.role === "admin") items.push(["perangkat", "Perangkat"]);
  nav.replaceChildren(
    ...items.map(([p, w]) => h("a", { href: "#" + p, "aria-current": cur === p ? "page" : null }, t(w))),
    h("span", { class: "who" }, me ? `${me.user} (${roleName(me.role)})` : ""),
    me ? h("button", { id: "keluar", type: "button", onclick: signout }, t("Keluar")) : null,
  );
}

function showSignin(msg) {
  nav.replaceChildren();
  const user = h("input", { id: "user", name: "user", autocomplete: "username", required: true });
  const pass = h("input", { id: "password", name: "password", type: "password", autocomplete: "current-password", required: true });
  const out = h("div", { id: "masuk-pesan" }, msg ? error(msg) : null);
  const form = h("form", { id: "masuk", class: "card narrow" },
    out,
    h("label", { for: "user" }, t("Nama pengguna")), user,
    h("label", { for: "password" }, t("Kata sandi")), pass,
    h("button", { type: "submit", class: "primary" }, t("Masuk")));
  form.addEventListener("submit", async (ev) => {
    ev.preventDefault();
    try {
      me = await api("/api/masuk", { user: user.value, password: pass.value });
      pass.value = "";
      render();
    } catch (e) {
      pass.value = "";
      out.replaceChildren(error(e.message));
    }
  });
  clearCharts();
  main.replaceChildren(h("h1", {}, t("Masuk ke Dasbor BKD")), form);
  document.title = t("Masuk") + " - " + t("Dasbor BKD");
  user.focus();
}

async function signout() {
  try { await api("/api/keluar", {}); } catch (e) { /* signed out anyway */ }
  me = null;
  showSignin();
}

// --- exports ---------------------------------------------------------------------

// /api/ekspor links, CSV and XLSX, of the query params(); id prefix for tests
function exportLinks(idp, params) {
  const mk = (fmt) => {
    const a = h("a", { class: "button", id: `${idp}-${fmt}`, download: "" }, fmt.toUpperCase());
    a.upd = () => {
      const q = new URLSearchParams({ ...params(), format: fmt });
      a.href = "/api/ekspor?" + q.toString();
    };
    a.upd();
    return a;
  };
  const links = [mk("csv"), mk("xlsx")];
  const span = h("span", { class: "links" }, links[0], " ", links[1]);
  span.upd = () => links.forEach((a) => a.upd());
  return span;
}

// a report's own table: "Download this table: CSV XLSX"
function reportExport(params) {
  return h("p", { class: "ekspor no-print" }, t("Unduh tabel ini: "), exportLinks("unduh", params));
}

const RAW = [["surveys", "Survei (SKM)"], ["complaints", "Pengaduan"], ["activities", "Kegiatan"],
  ["ratings", "Penilaian perilaku"], ["targets", "Target kinerja"], ["employees", "Pegawai (data)"],
  ["services", "Layanan (data)"], ["offices", "Kantor (data)"]];
const NO_PERIOD = ["employees", "services", "offices", "indicators"];

function rawExport(office, period, offices) {
  const type = h("select", { id: "ekspor-jenis", "aria-label": t("Data") }, RAW.map(([v, w]) => h("option", { value: v }, t(w))));
  let osel = null;
  if (offices) {
    osel = h("select", { id: "ekspor-kantor", "aria-label": t("Kantor") }, h("option", { value: "" }, t("Semua kantor")),
      Object.entries(offices).map(([k, v]) => h("option", { value: k }, `${v} (${k})`)));
  }
  const links = exportLinks("ekspor", () => {
    const q = { type: type.value };
    const o = osel ? osel.value : office;
    if (o && type.value !== "offices") q.office = o;
    if (period && !NO_PERIOD.includes(type.value)) q.period = period;
    return q;
  });
  type.addEventListener("change", links.upd);
  if (osel) osel.addEventListener("change", links.upd);
  return h("section", { class: "card ekspor" }, h("h2", {}, t("Data mentah")),
    h("p", {}, offices ? t("Data mentah untuk {p}: ", { p: periodName(period) }) : t("Data mentah {w} untuk {p}: ", { w: office ? t("kantor ini") : t("semua kantor"), p: periodName(period) })),
    type, " ", osel, osel ? " " : null, links);
}

// --- Ringkasan ----------------------------------------------------------------

async function ringkasan(q) {
  const period = q.get("period") || defaultPeriod();
  const box = h("div", { id: "isi" }, t("Memuat..."));
  page(t("Ringkasan"), h("div", { class: "tools" }, periodPicker(period, (p) => go("ringkasan", { period: p }))), box);
  let d;
  try { d = await api("/api/ringkasan?period=" + encodeURIComponent(period)); } catch (e) { box.replaceChildren(error(e.message)); return; }
  const ranked = d.offices.filter((o) => o.rank !== null && o.ikk !== null);
  const nodataRows = d.offices.filter((o) => !(o.rank !== null && o.ikk !== null));
  const rows = [...ranked, ...nodataRows].map((o) => h("tr", { "data-office": o.office },
    h("td", { class: "n" }, o.rank === null || o.ikk === null ? "-" : o.rank),
    h("td", {}, h("a", { href: `#kantor?office=${encodeURIComponent(o.office)}&period=${period}` }, o.name || o.office), h("br"), h("small", {}, o.office)),
    h("td", { class: "n ikk" }, o.ikk === null ? nodata() : num(o.ikk)),
    h("td", { class: "n" }, o.ikm.value === null ? nodata() : `${num(o.ikm.value)} (${o.ikm.mutu})`),
    h("td", { class: "n" }, int(o.ikm.n)),
    h("td", { class: "n" }, num(o.complaints.on_time_rate)),
    h("td", { class: "n" }, num(o.compliance)),
    h("td", { class: "n" }, num(o.employees.capaian_mean)),
    h("td", { class: "n" }, int(o.employees.count))));
  const canvas = h("canvas", { id: "grafik-ikk", role: "img", "aria-label": t("IKK per kantor") });
  box.replaceChildren(
    h("p", {}, t("{p}, dihitung per {d}.", { p: periodName(d.period), d: date(d.as_of) + (d.as_of_zone ? " " + d.as_of_zone : "") })),
    h("div", { class: "chart" }, canvas),
    table(t("Peringkat kantor (IKK)"), [t("Peringkat"), t("Kantor"), "IKK", t("IKM (mutu)"), t("Survei"), t("Pengaduan tepat waktu (%)"), t("Kepatuhan (%)"), t("Capaian rata-rata"), t("Pegawai")], rows, { id: "peringkat" }),
    ...(nodataRows.length ? [h("p", { class: "muted" }, t("Tidak ada data (tidak diperingkat): "), nodataRows.map((o) => o.name || o.office).join(", "))] : []),
    reportExport(() => ({ type: "ranking", period })));
  drawChart(canvas, {
    type: "bar",
    data: { labels: ranked.map((o) => o.name || o.office), datasets: [{ label: "IKK", data: ranked.map((o) => o.ikk), backgroundColor: "#1d70b8" }] },
    options: { animation: false, responsive: true, maintainAspectRatio: false, plugins: { legend: { display: false } }, scales: { y: { beginAtZero: true, max: 100 } } },
  });
}

// --- Kantor -------------------------------------------------------------------

const FIELDS = { date: "Tanggal", service: "Layanan", age: "Usia", sex: "Jenis kelamin", education: "Pendidikan",
  occupation: "Pekerjaan", comment: "Komentar", nip: "NIP", indicator: "Indikator", quantity: "Jumlah", minutes: "Menit",
  description: "Uraian", evidence: "Bukti", status: "Status", reviewed_by: "Diperiksa oleh", received: "Diterima",
  resolved: "Selesai", channel: "Saluran", category: "Kategori", summary: "Isi", resolution: "Penyelesaian",
  resolved_by: "Diselesaikan oleh", period: "Periode", rater: "Penilai", ratee: "Dinilai", role: "Peran",
  target: "Target", weight: "Bobot" };
const REC_TYPES = [["survey", "Survei (SKM)"], ["activity", "Kegiatan"], ["complaint", "Pengaduan"],
  ["rating", "Penilaian perilaku"], ["target", "Target kinerja"]];
const STATUSES = { activity: [["draft", "Draf"], ["submitted", "Diajukan"], ["approved", "Disetujui"], ["rejected", "Ditolak"]],
  complaint: [["open", "Terbuka"], ["resolved", "Selesai"]] };
const WITH_NIP = ["activity", "rating", "target", "complaint"];

function fieldName(f) {
  return FIELDS[f] ? t(FIELDS[f]) : f.toUpperCase();
}

function cellText(f, v, names) {
  if (v === undefined) return "";
  if (f === "status") { const s = STATUSES.activity.find(([k]) => k === v); return s ? t(s[1]) : v; }
  if (names[v] && ["nip", "reviewed_by", "resolved_by", "rater", "ratee"].includes(f)) return `${names[v]} (${v})`;
  if (/^(date|received|resolved)$/.test(f)) return date(v);
  return v;
}

// The office's records with their filters, which stay in the address.
async function records(box, office, period, q, employees) {
  const type = q.get("jenis") || "survey";
  const status = q.get("status") || "";
  const from = q.get("dari") || "";
  const to = q.get("sampai") || "";
  const nip = q.get("nip") || "";
  const pg = Number(q.get("hal") || "1");
  const cur = { office, period, jenis: type, status, dari: from, sampai: to, nip, hal: "" };
  const tsel = h("select", { id: "catatan-jenis", "aria-label": t("Jenis") }, REC_TYPES.map(([v, w]) => h("option", { value: v }, t(w))));
  tsel.value = type;
  const ssel = h("select", { id: "catatan-status", "aria-label": t("Status"), disabled: !STATUSES[type] },
    h("option", { value: "" }, t("Semua status")), (STATUSES[type] || []).map(([v, w]) => h("option", { value: v }, t(w))));
  ssel.value = status;
  const fin = h("input", { id: "catatan-dari", type: "date", value: from, "aria-label": t("Dari") });
  const tin = h("input", { id: "catatan-sampai", type: "date", value: to, "aria-label": t("Sampai") });
  const esel = h("select", { id: "catatan-pegawai", "aria-label": t("Pegawai"), disabled: !WITH_NIP.includes(type) },
    h("option", { value: "" }, t("Semua pegawai")), employees.map((e) => h("option", { value: e.nip }, `${e.name || ""} (${e.nip})`)));
  esel.value = nip;
  const apply = (ev) => {
    if (ev) ev.preventDefault();
    const jt = tsel.value;
    toRecords = true;
    go("kantor", { ...cur, jenis: jt, status: jt === type ? ssel.value : "", dari: fin.value, sampai: tin.value, nip: WITH_NIP.includes(jt) ? esel.value : "" });
  };
  tsel.addEventListener("change", apply);
  const form = h("form", { id: "catatan-saring", class: "tools" },
    h("label", { for: "catatan-jenis" }, t("Jenis")), tsel,
    h("label", { for: "catatan-status" }, t("Status")), ssel,
    h("label", { for: "catatan-dari" }, t("Dari")), fin,
    h("label", { for: "catatan-sampai" }, t("Sampai")), tin,
    h("label", { for: "catatan-pegawai" }, t("Pegawai")), esel,
    h("button", { type: "submit" }, t("Terapkan")));
  form.addEventListener("submit", apply);
  const out = h("div", { id: "catatan-isi" }, t("Memuat..."));
  box.replaceChildren(h("h2", {}, t("Catatan kantor")), form, out);
  const qs = new URLSearchParams({ office, type, period, page: String(pg) });
  if (status) qs.set("status", status);
  if (from) qs.set("from", from);
  if (to) qs.set("to", to);
  if (nip) qs.set("nip", nip);
  let d;
  try { d = await api("/api/catatan?" + qs.toString()); } catch (e) { out.replaceChildren(error(e.message)); return; } finally {
    if (toRecords) box.scrollIntoView();
    toRecords = false;
  }
  if (!d.total) { out.replaceChildren(h("p", { id: "catatan-kosong", class: "muted" }, t("Tidak ada catatan yang cocok."))); return; }
  const names = Object.fromEntries(employees.map((e) => [e.nip, e.name]));
  const pager = h("p", { class: "pager" },
    d.page > 1 ? h("a", { id: "catatan-sebelumnya", href: "#", onclick: (ev) => { ev.preventDefault(); toRecords = true; go("kantor", { ...cur, hal: String(d.page - 1) }); } }, "← " + t("Sebelumnya")) : null, " ",
    d.page < d.pages ? h("a", { id: "catatan-berikutnya", href: "#", onclick: (ev) => { ev.preventDefault(); toRecords = true; go("kantor", { ...cur, hal: String(d.page + 1) }); } }, t("Berikutnya") + " →") : null);
  out.replaceChildren(
    h("p", { id: "catatan-jumlah" }, t("{n} catatan, halaman {p} dari {m}.", { n: int(d.total), p: d.page, m: d.pages })),
    table(null, d.fields.map(fieldName), d.records.map((r) => h("tr", { "data-id": r.id }, d.fields.map((f) => h("td", {}, cellText(f, r.f[f], names))))), { id: "catatan" }),
    pager);
}

async function kantor(q) {
  const period = q.get("period") || defaultPeriod();
  const office = q.get("office") || "";
  const box = h("div", { id: "isi" }, t("Memuat..."));
  page(t("Kantor {o}", { o: office }), h("div", { class: "tools" }, h("a", { href: "#ringkasan?period=" + period }, t("← Ringkasan")), " ",
    periodPicker(period, (p) => go("kantor", { office, period: p }))), box);
  let d;
  try { d = await api(`/api/kantor?office=${encodeURIComponent(office)}&period=${encodeURIComponent(period)}`); } catch (e) { box.replaceChildren(error(e.message)); return; }
  const o = d.office;
  main.querySelector("h1").textContent = (o.name || o.office) + " (" + o.office + ")";
  const nrr = o.ikm.nrr || [];
  const uname = (u) => (lang() === "en" && u.name_en ? u.name_en : u.name);
  const unsurRows = d.unsur.map((u, i) => h("tr", {}, h("td", {}, u.field.toUpperCase()), h("td", {}, uname(u)), h("td", { class: "n" }, nrr.length ? num(nrr[i]) : nodata())));
  const canvas = h("canvas", { id: "grafik-unsur", role: "img", "aria-label": t("NRR per unsur") });
  const svcCanvas = h("canvas", { id: "grafik-layanan", role: "img", "aria-label": t("IKM per layanan") });
  const c = o.complaints;
  const pred = o.employees.predikat || {};
  const recBox = h("section", { id: "catatan-kantor" });
  box.replaceChildren(
    h("p", {}, t("{p}: peringkat {r}, IKK {ikk}, IKM {ikm}{mutu}, {n} survei.", { p: periodName(period), r: o.rank === null ? "-" : o.rank, ikk: num(o.ikk), ikm: num(o.ikm.value), mutu: o.ikm.mutu ? t(" (mutu {m}, {k})", { m: o.ikm.mutu, k: t(o.ikm.kinerja) }) : "", n: int(o.ikm.n) })),
    h("div", { class: "grid" },
      h("section", {}, h("h2", {}, t("IKM per unsur pelayanan")), h("div", { class: "chart" }, canvas),
        table(null, ["", t("Unsur"), "NRR"], unsurRows, { id: "unsur" })),
      h("section", {}, h("h2", {}, t("IKM per layanan")), h("div", { class: "chart" }, svcCanvas),
        table(null, [t("Layanan"), t("Survei"), "IKM", t("Mutu")], (o.services || []).map((s) => h("tr", {}, h("td", {}, s.service), h("td", { class: "n" }, int(s.n)), h("td", { class: "n" }, num(s.ikm)), h("td", {}, s.mutu || ""))), { id: "layanan" }))),
    h("div", { class: "grid" },
      h("section", {}, h("h2", {}, t("Pengaduan")),
        h("dl", {}, h("dt", {}, t("Diterima")), h("dd", {}, int(c.received)), h("dt", {}, t("Selesai")), h("dd", {}, int(c.resolved)),
          h("dt", {}, t("Tepat waktu")), h("dd", {}, `${int(c.on_time)} (${num(c.on_time_rate)} %)`), h("dt", {}, t("Median hari")), h("dd", {}, num(c.median_days)))),
      h("section", {}, h("h2", {}, t("Kepatuhan pelaporan")), h("p", { class: "big" }, num(o.compliance) + (o.compliance === null ? "" : " %")),
        h("h2", {}, t("Predikat kinerja")), h("p", {}, Object.entries(pred).map(([k, v]) => `${t(k)}: ${v}`).join(" · ")))),
    h("section", {}, h("h2", {}, t("Pegawai")),
      table(null, ["NIP", t("Nama"), t("Capaian"), t("Perilaku"), t("Predikat")], d.employees.map((e) => h("tr", {}, h("td", {}, e.nip), h("td", {}, e.name || ""), h("td", { class: "n" }, num(e.capaian)), h("td", { class: "n" }, num(e.perilaku)), h("td", {}, predikat(e)))), { id: "pegawai-kantor" })),
    h("section", {}, h("h2", {}, t("Komentar warga")),
      d.comments.length ? h("ul", { id: "komentar", class: "comments" }, d.comments.map((k) => h("li", {}, h("small", {}, date(k.date), " · ", k.service), h("br"), k.comment))) : h("p", { class: "muted" }, t("Belum ada komentar pada periode ini."))),
    recBox,
    rawExport(o.office, period));
  drawChart(canvas, {
    type: "bar",
    data: { labels: d.unsur.map(uname), datasets: [{ label: "NRR", data: nrr, backgroundColor: "#00703c" }] },
    options: { animation: false, indexAxis: "y", maintainAspectRatio: false, plugins: { legend: { display: false } }, scales: { x: { min: 0, max: 4 } } },
  });
  drawChart(svcCanvas, {
    type: "bar",
    data: { labels: (o.services || []).map((s) => s.service), datasets: [{ label: "IKM", data: (o.services || []).map((s) => s.ikm), backgroundColor: "#1d70b8" }] },
    options: { animation: false, maintainAspectRatio: false, plugins: { legend: { display: false } }, scales: { y: { beginAtZero: true, max: 100 } } },
  });
  records(recBox, o.office, period, q, d.employees);
}

// --- Tren ---------------------------------------------------------------------

const TREND = [["ikk", "IKK"], ["ikm", "IKM"], ["on_time_rate", "Pengaduan tepat waktu"], ["compliance", "Kepatuhan"], ["capaian", "Capaian"]];

async function tren(q) {
  const year = q.get("year") || String(new Date().getFullYear());
  const ysel = yearSelect(year);
  ysel.addEventListener("change", () => go("tren", { year: ysel.value }));
  const box = h("div", { id: "isi" }, t("Memuat..."));
  page(t("Tren"), h("div", { class: "tools" }, h("label", { for: "tahun" }, t("Tahun ")), ysel), box);
  let d;
  try { d = await api("/api/tren?year=" + encodeURIComponent(year)); } catch (e) { box.replaceChildren(error(e.message)); return; }
  const attn = d.offices.filter((o) => o.attention);
  const lim = d.limits;
  const canvas = h("canvas", { id: "grafik-tren", role: "img", "aria-label": t("IKK per bulan") });
  const months = d.offices.length ? d.offices[0].months.map((m) => periodName(m.period).split(" ")[0].slice(0, 3)) : [];
  const tname = (f) => t(TREND.find((x) => x[0] === f)[1]);
  box.replaceChildren(
    h("p", { class: "muted" }, t("Perlu perhatian: IKK atau IKM turun {a} poin atau lebih, pengaduan tepat waktu atau kepatuhan turun {b} poin atau lebih dari bulan sebelumnya.", { a: num(lim.ikk), b: num(lim.on_time_rate) })),
    attn.length ? h("section", { id: "perhatian", class: "card warn" }, h("h2", {}, t("Perlu perhatian")),
      h("ul", {}, attn.map((o) => h("li", { "data-office": o.office }, h("a", { href: `#kantor?office=${encodeURIComponent(o.office)}&period=${year}` }, o.name || o.office), ": ",
        o.months.filter((m) => m.declined.length).map((m) => `${periodName(m.period)} (${m.declined.map((f) => tname(f) + " " + change(m.change[f])).join(", ")})`).join("; ")))))
      : h("p", { id: "perhatian-kosong" }, t("Tidak ada kantor yang perlu perhatian.")),
    h("div", { class: "chart" }, canvas),
    reportExport(() => ({ type: "tren", year })));
  // an office's months; the first offices (those needing attention lead)
  // are drawn at once, the rest a few at a time in the frames after, so
  // the page shows before 50 tables of 12 months are built
  const section = (o) => h("section", { class: "tren-kantor" + (o.attention ? " attention" : ""), "data-office": o.office },
    h("h2", {}, o.name || o.office, " ", h("small", {}, o.office), o.attention ? h("span", { class: "badge" }, t("Perlu perhatian")) : null),
    table(null, [t("Bulan"), ...TREND.map((x) => t(x[1]))],
      o.months.map((m) => h("tr", {}, h("td", {}, periodName(m.period)),
        TREND.map(([k]) => h("td", { class: "n" + (m.declined.includes(k) ? " decline" : "") }, num(m[k]), m.change[k] !== null ? h("small", {}, " ", change(m.change[k])) : null)))),
      { class: "tren" }));
  const mine = drawn;
  const more = (from, n) => {
    if (drawn !== mine) return; // another page meanwhile
    box.append(...d.offices.slice(from, from + n).map(section));
    if (from + n < d.offices.length) setTimeout(() => more(from + n, 10), 0);
    else box.setAttribute("data-complete", "1");
  };
  more(0, 4);
  drawChart(canvas, {
    type: "line",
    data: { labels: months, datasets: d.offices.map((o, i) => ({ label: o.name || o.office, data: o.months.map((m) => m.ikk), borderColor: `hsl(${(i * 67) % 360} 60% 40%)`, spanGaps: false })) },
    options: { animation: false, maintainAspectRatio: false, scales: { y: { beginAtZero: true, max: 100 } } },
  });
}

// --- Pegawai ------------------------------------------------------------------

const PREDIKAT = ["Sangat Baik", "Baik", "Butuh Perbaikan", "Kurang", "Sangat Kurang"];

async function pegawai(q) {
  const period = q.get("period") || defaultPeriod();
  const sort = q.get("sort") || "office";
  const dir = q.get("dir") === "desc" ? -1 : 1;
  const filter = q.get("q") || "";
  const pred = q.get("predikat") || "";
  const box = h("div", { id: "isi" }, t("Memuat..."));
  const params = () => ({ period, sort, dir: dir < 0 ? "desc" : "", q: filter, predikat: pred });
  const find = h("input", { id: "cari", type: "search", placeholder: t("Nama, NIP atau kantor"), value: filter, "aria-label": t("Cari") });
  find.addEventListener("change", () => go("pegawai", { ...params(), q: find.value }));
  const psel = h("select", { id: "predikat", "aria-label": t("Predikat") }, h("option", { value: "" }, t("Semua predikat")),
    PREDIKAT.map((p) => h("option", { value: p }, t(p))));
  psel.value = pred;
  psel.addEventListener("change", () => go("pegawai", { ...params(), predikat: psel.value }));
  page(t("Pegawai"), h("div", { class: "tools" }, periodPicker(period, (p) => go("pegawai", { ...params(), period: p })), " ", find, " ", psel), box);
  let d;
  try { d = await api("/api/pegawai?period=" + encodeURIComponent(period)); } catch (e) { box.replaceChildren(error(e.message)); return; }
  const f = filter.toLowerCase();
  const rows = d.employees.filter((e) => (!f || [e.nip, e.name, e.office, e.office_name].some((x) => (x || "").toLowerCase().includes(f))) && (!pred || e.predikat === pred));
  rows.sort((a, b) => {
    const x = a[sort], y = b[sort];
    if (x === y) return 0;
    if (x === null || x === undefined) return 1; // no data last either way
    if (y === null || y === undefined) return -1;
    return (typeof x === "number" ? x - y : String(x).localeCompare(String(y), "id")) * dir;
  });
  const cols = [["office_name", "Kantor"], ["nip", "NIP"], ["name", "Nama"], ["capaian", "Capaian"], ["perilaku", "Perilaku"], ["predikat", "Predikat"]];
  const head = cols.map(([k, w]) => h("th", { scope: "col", "aria-sort": sort === k ? (dir > 0 ? "ascending" : "descending") : null },
    h("a", { href: "#", onclick: (ev) => { ev.preventDefault(); go("pegawai", { ...params(), sort: k, dir: sort === k && dir > 0 ? "desc" : "" }); } }, t(w), sort === k ? (dir > 0 ? " ▲" : " ▼") : "")));
  box.replaceChildren(h("p", {}, t("{n} dari {m} pegawai, {p}.", { n: rows.length, m: d.employees.length, p: periodName(period) })),
    table(null, head, rows.map((e) => h("tr", {}, h("td", {}, e.office_name || e.office), h("td", {}, e.nip), h("td", {}, e.name || ""),
      h("td", { class: "n" }, num(e.capaian)), h("td", { class: "n" }, num(e.perilaku)), h("td", {}, predikat(e)))), { id: "daftar-pegawai" }),
    reportExport(() => ({ type: "pegawai", period })));
}

// --- Konflik --------------------------------------------------------------------

const TYPES = { survey: "Survei (SKM)", complaint: "Pengaduan", activity: "Kegiatan", rating: "Penilaian perilaku",
  target: "Target kinerja", employee: "Pegawai (data)", office: "Kantor (data)", service: "Layanan (data)", indicator: "Indikator" };

function stampDevice(st) {
  const i = (st || "").indexOf("/");
  return i < 0 ? "?" : st.slice(i + 1);
}

// why a value was not kept, as the store says it (docs/protocol.md: "not
// kept: field 'comment': must be 1 to 2000 characters (158000 bytes)"):
// in words, the field's rule left in the store's own (English) words
function note(n) {
  const m = /^not kept: (.*) \((\d+) bytes\)$/.exec(n);
  return m ? t("tidak disimpan: tidak sah, {b} byte ({why})", { b: int(Number(m[2])), why: m[1] }) : n;
}

function value(o, k) {
  if (o[k] === null || o[k] === undefined) return o[k + "_note"] ? `(${note(o[k + "_note"])})` : t("(kosong)");
  return `«${o[k]}»`;
}

async function konflik() {
  const box = h("div", { id: "isi" }, t("Memuat..."));
  page(t("Konflik"), h("p", { class: "muted" }, t("Dua perangkat mengubah kolom yang sama tanpa saling tahu: nilai yang lebih baru disimpan, yang lain tercatat di sini. Waktu menurut zona kantor.")), box);
  let d;
  try { d = await api("/api/konflik"); } catch (e) { box.replaceChildren(error(e.message)); return; }
  if (!d.conflicts.length) { box.replaceChildren(h("p", { id: "konflik-kosong" }, t("Tidak ada konflik."))); return; }
  box.replaceChildren(
    h("p", {}, t("{n} terbaru dari {m}.", { n: d.conflicts.length, m: d.total })),
    h("ul", { id: "konflik", class: "comments" }, d.conflicts.map((o) => h("li", { "data-id": o.id },
      h("small", {}, zoned(o.at, o.timezone), " · ", o.office_name || o.office || "", o.office ? ` (${o.office})` : ""), h("br"),
      t("{type} {id}…, kolom '{f}': disimpan {w} dari perangkat {wd}, ", { type: TYPES[o.type] ? t(TYPES[o.type]) : o.type, id: o.id.slice(0, 8), f: o.field, w: value(o, "winner"), wd: stampDevice(o.winner_stamp) }),
      t("tertimpa {l} dari perangkat {ld}.", { l: value(o, "loser"), ld: stampDevice(o.loser_stamp) })))));
}

// --- Perangkat (admin) ----------------------------------------------------------

const ENROL = { pending: "menunggu", used: "terpakai", expired: "kedaluwarsa" };

async function perangkat() {
  const box = h("div", { id: "isi" }, t("Memuat..."));
  page(t("Perangkat"), box);
  let d;
  try { d = await api("/api/perangkat"); } catch (e) { box.replaceChildren(error(e.message)); return; }
  const list = h("div", { id: "daftar-perangkat" });
  const office = h("select", { id: "kantor-baru", name: "office", required: true },
    Object.entries(d.offices).map(([k, v]) => h("option", { value: k }, `${v} (${k})`)));
  const name = h("input", { id: "nama-perangkat", name: "name", placeholder: t("PC loket depan"), maxlength: 64 });
  const result = h("div", { id: "hasil-daftar" });
  const form = h("form", { id: "daftar", class: "card" }, h("h2", {}, t("Daftarkan perangkat")),
    h("label", { for: "kantor-baru" }, t("Kantor")), office, h("label", { for: "nama-perangkat" }, t("Nama perangkat")), name,
    h("button", { type: "submit", class: "primary" }, t("Buat kode pendaftaran")), result);
  const revoke = async (dev) => {
    if (!confirm(t("Cabut perangkat {d}? PC itu tidak bisa sinkron lagi.", { d: dev }))) return;
    try { await api("/api/perangkat/cabut", { device: dev }); drawList(await api("/api/perangkat")); } catch (e) { alert(e.message); }
  };
  // what the PC last reported: version, waiting and rejected, and when
  const rep = (v, k) => (v.report ? int(v.report[k]) : "-");
  const drawList = (d) => list.replaceChildren(
    table(t("Perangkat terdaftar"), [t("Perangkat"), t("Kantor"), t("Terakhir terlihat"), t("Versi"), t("Menunggu"), t("Ditolak"), t("Pendaftaran"), t("Status"), ""],
      d.devices.map((v) => h("tr", { "data-device": v.id },
        h("td", {}, v.name || "", h("br"), h("small", {}, v.id)),
        h("td", {}, v.office_name || "", " ", h("small", {}, v.office || "")),
        h("td", { class: "seen" }, zoned(v.last_seen, v.timezone)),
        h("td", { class: "version" }, v.report ? v.report.version : "-", h("br"), h("small", {}, v.report ? t("dilaporkan {t}", { t: zoned(v.report.at, v.timezone) }) : t("belum dilaporkan"))),
        h("td", { class: "n pending" }, rep(v, "pending")),
        h("td", { class: "n rejected" + (v.report && v.report.rejected ? " decline" : "") }, rep(v, "rejected")),
        h("td", {}, ENROL[v.enrolment] ? t(ENROL[v.enrolment]) : "-"),
        h("td", {}, v.revoked ? t("dicabut") : t("aktif")),
        h("td", {}, v.revoked ? "" : h("button", { type: "button", onclick: () => revoke(v.id) }, t("Cabut"))))), { id: "perangkat" }),
    h("p", { class: "muted", id: "catatan-laporan" }, t("Versi, menunggu dan ditolak: yang dilaporkan PC pada sinkronisasi terakhirnya (kinerja 0.2 ke atas).")),
    h("section", { class: "card" }, h("h2", {}, t("Kantor tanpa sinkronisasi {n} hari terakhir", { n: d.stale_days })),
      d.stale_offices.length ? h("ul", { id: "kantor-diam" }, d.stale_offices.map((s) => h("li", {}, `${s.name} (${s.office}): `,
        !s.has_device ? t("belum ada perangkat") : s.last_seen ? t("terakhir {t}", { t: zoned(s.last_seen, s.timezone) }) : t("perangkatnya belum pernah sinkron"))))
        : h("p", {}, t("Semua kantor tersinkron."))));
  form.addEventListener("submit", async (ev) => {
    ev.preventDefault();
    try {
      const r = await api("/api/perangkat", { office: office.value, name: name.value });
      result.replaceChildren(h("div", { class: "enrol" },
        h("p", {}, t("Kode pendaftaran untuk "), h("strong", {}, r.name || r.device), t(" ({o}), berlaku sampai {t}:", { o: r.office, t: zoned(r.expires, d.timezones[r.office]) })),
        h("p", { class: "code", id: "kode" }, r.code),
        r.qr ? h("img", { id: "qr", src: r.qr, alt: t("Kode QR pendaftaran"), width: 200, height: 200 }) : null,
        h("p", {}, t("Di PC kantor: "), h("code", {}, `kinerja init --server ${location.origin} --enrol ${r.code}`)),
        h("button", { type: "button", onclick: () => window.print() }, t("Cetak"))));
      drawList(await api("/api/perangkat"));
    } catch (e) { result.replaceChildren(error(e.message)); }
  });
  drawList(d);
  box.replaceChildren(form, list);
}

// --- Ekspor ------------------------------------------------------------------------

async function ekspor(q) {
  const period = q.get("period") || defaultPeriod();
  const year = period.split("-")[0];
  let offices = null;
  try {
    const d = await api("/api/ringkasan?period=" + encodeURIComponent(period));
    offices = Object.fromEntries(d.offices.map((o) => [o.office, o.name || o.office]));
  } catch (e) { offices = {}; }
  const row = (id, w, params) => h("tr", { id }, h("td", {}, w), h("td", {}, exportLinks(id, params)));
  page(t("Ekspor"), h("div", { class: "tools" }, periodPicker(period, (p) => go("ekspor", { period: p }))),
    h("section", { class: "card" }, h("h2", {}, t("Laporan")),
      h("p", { class: "muted" }, t("Tabel laporan seperti di halamannya, dalam CSV (untuk program lain) atau XLSX (untuk Excel/LibreOffice).")),
      table(null, [t("Laporan"), ""], [
        row("ekspor-peringkat", `${t("Peringkat kantor")}, ${periodName(period)}`, () => ({ type: "ranking", period })),
        row("ekspor-tren", `${t("Tren bulanan")}, ${year}`, () => ({ type: "tren", year })),
        row("ekspor-pegawai", `${t("Pegawai")}, ${periodName(period)}`, () => ({ type: "pegawai", period })),
      ], { id: "ekspor-laporan" })),
    rawExport(null, period, offices));
}

// --- start --------------------------------------------------------------------

const PAGES = { ringkasan, kantor, tren, pegawai, konflik, perangkat, ekspor };

// The answer a page asks for first (as the page builds its path), or null.
function firstAnswer(p, q) {
  const period = encodeURIComponent(q.get("period") || defaultPeriod());
  if (p === "ringkasan" || p === "ekspor") return "/api/ringkasan?period=" + period;
  if (p === "tren") return "/api/tren?year=" + encodeURIComponent(q.get("year") || String(new Date().getFullYear()));
  if (p === "kantor") return `/api/kantor?office=${encodeURIComponent(q.get("office") || "")}&period=${period}`;
  if (p === "pegawai") return "/api/pegawai?period=" + period;
  if (p === "konflik") return "/api/konflik";
  return null;
}

async function render() {
  if (!me) {
    const { page: p0, q: q0 } = route();
    const first = firstAnswer(PAGES[p0] ? p0 : "ringkasan", q0);
    if (first) prefetch(first);
    try { me = await api("/api/saya"); } catch (e) { prefetched.clear(); return; }
  }
  drawNav();
  const { page: p, q } = route();
  if (p === "perangkat" && me.role !== "admin") {
    page(t("Perangkat"), error(t("Halaman ini hanya untuk admin.")));
    return;
  }
  (PAGES[p] || ringkasan)(q);
  prefetched.clear(); // taken by the page above, or not wanted
}

window.addEventListener("hashchange", render);
drawFrame();
render();
