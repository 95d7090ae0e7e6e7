// bkd.js - the BKD dashboard (issue 18): sign-in, Ringkasan, Kantor, Tren,
// Pegawai, Perangkat.  Pages are views of the address (#ringkasan?period=...)
// so a link can be shared; every figure comes from /api/ as the reports
// compute it; nothing is fetched from another host.
import { NODATA, h, num, int, change, dateTime, date, periodName, periodPicker, table } from "./fmt.js";

const main = document.getElementById("main");
const nav = document.getElementById("nav");
let me = null; // {user, role, csrf}
const charts = [];

// --- server ----------------------------------------------------------------

async function api(path, form) {
  const opt = { credentials: "same-origin", headers: {} };
  if (form) {
    opt.method = "POST";
    opt.headers["Content-Type"] = "application/x-www-form-urlencoded";
    if (me) opt.headers["X-CSRF-Token"] = me.csrf;
    opt.body = new URLSearchParams(form).toString();
  }
  const r = await fetch(path, opt);
  let body = null;
  try { body = await r.json(); } catch (e) { body = null; }
  if (r.status === 401 && path !== "/api/masuk") {
    // "session ended" only when there was one: a first visit just signs in
    const had = me !== null;
    me = null;
    showSignin(had ? "Sesi berakhir: silakan masuk lagi." : undefined);
    throw new Error("signed out");
  }
  if (!r.ok) throw new Error((body && body.error) || `HTTP ${r.status}`);
  return body;
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
  location.hash = page + (s ? "?" + s : "");
}

function defaultPeriod() {
  return String(new Date().getFullYear());
}

// --- frame -----------------------------------------------------------------

function clearCharts() {
  while (charts.length) charts.pop().destroy();
}

function page(title, ...kids) {
  clearCharts();
  main.replaceChildren(h("h1", {}, title), ...kids);
  document.title = title + " - Dasbor BKD";
}

function error(msg) {
  return h("p", { class: "error", role: "alert" }, msg);
}

function drawNav() {
  const cur = route().page;
  const items = [["ringkasan", "Ringkasan"], ["tren", "Tren"], ["pegawai", "Pegawai"], ["konflik", "Konflik"]];
  if (me && me.role === "admin") items.push(["perangkat", "Perangkat"]);
  nav.replaceChildren(
    ...items.map(([p, t]) => h("a", { href: "#" + p, "aria-current": cur === p ? "page" : null }, t)),
    h("span", { class: "who" }, me ? `${me.user} (${me.role})` : ""),
    me ? h("button", { id: "keluar", type: "button", onclick: signout }, "Keluar") : null,
  );
}

function showSignin(msg) {
  nav.replaceChildren();
  const user = h("input", { id: "user", name: "user", autocomplete: "username", required: true });
  const pass = h("input", { id: "password", name: "password", type: "password", autocomplete: "current-password", required: true });
  const out = h("div", { id: "masuk-pesan" }, msg ? error(msg) : null);
  const form = h("form", { id: "masuk", class: "card narrow" },
    out,
    h("label", { for: "user" }, "Nama pengguna"), user,
    h("label", { for: "password" }, "Kata sandi"), pass,
    h("button", { type: "submit", class: "primary" }, "Masuk"));
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
  main.replaceChildren(h("h1", {}, "Masuk ke Dasbor BKD"), form);
  user.focus();
}

async function signout() {
  try { await api("/api/keluar", {}); } catch (e) { /* signed out anyway */ }
  me = null;
  showSignin();
}

// --- Ringkasan ----------------------------------------------------------------

function exportBox(office, period) {
  const type = h("select", { id: "ekspor-jenis", "aria-label": "Data" },
    [["surveys", "Survei (SKM)"], ["complaints", "Pengaduan"], ["activities", "Kegiatan"],
      ["ratings", "Penilaian perilaku"], ["targets", "Target kinerja"], ["employees", "Pegawai"],
      ["services", "Layanan"], ["offices", "Kantor"]].map(([v, t]) => h("option", { value: v }, t)));
  const link = (fmt) => {
    const a = h("a", { class: "button", id: "ekspor-" + fmt, download: "" }, fmt.toUpperCase());
    const upd = () => {
      const q = new URLSearchParams({ type: type.value, format: fmt });
      const noPeriod = ["employees", "services", "offices", "indicators"].includes(type.value);
      if (office && type.value !== "offices") q.set("office", office);
      if (period && !noPeriod) q.set("period", period);
      a.href = "/api/ekspor?" + q.toString();
    };
    type.addEventListener("change", upd);
    upd();
    return a;
  };
  return h("section", { class: "card ekspor" }, h("h2", {}, "Ekspor"),
    h("p", {}, "Data mentah ", office ? "kantor ini" : "semua kantor", " untuk ", periodName(period), ": "),
    type, " ", link("csv"), " ", link("xlsx"));
}

async function ringkasan(q) {
  const period = q.get("period") || defaultPeriod();
  const box = h("div", { id: "isi" }, "Memuat...");
  page("Ringkasan", h("div", { class: "tools" }, periodPicker(period, (p) => go("ringkasan", { period: p }))), box);
  let d;
  try { d = await api("/api/ringkasan?period=" + encodeURIComponent(period)); } catch (e) { box.replaceChildren(error(e.message)); return; }
  const ranked = d.offices.filter((o) => o.rank !== null && o.ikk !== null);
  const nodata = d.offices.filter((o) => !(o.rank !== null && o.ikk !== null));
  const rows = [...ranked, ...nodata].map((o) => h("tr", { "data-office": o.office },
    h("td", { class: "n" }, o.rank === null || o.ikk === null ? "-" : o.rank),
    h("td", {}, h("a", { href: `#kantor?office=${encodeURIComponent(o.office)}&period=${period}` }, o.name || o.office), h("br"), h("small", {}, o.office)),
    h("td", { class: "n ikk" }, o.ikk === null ? NODATA : num(o.ikk)),
    h("td", { class: "n" }, o.ikm.value === null ? NODATA : `${num(o.ikm.value)} (${o.ikm.mutu})`),
    h("td", { class: "n" }, int(o.ikm.n)),
    h("td", { class: "n" }, num(o.complaints.on_time_rate)),
    h("td", { class: "n" }, num(o.compliance)),
    h("td", { class: "n" }, num(o.employees.capaian_mean)),
    h("td", { class: "n" }, int(o.employees.count))));
  const canvas = h("canvas", { id: "grafik-ikk", role: "img", "aria-label": "IKK per kantor" });
  box.replaceChildren(
    h("p", {}, `${periodName(d.period)}, dihitung per ${date(d.as_of)}.`),
    h("div", { class: "chart" }, canvas),
    table("Peringkat kantor (IKK)", ["Peringkat", "Kantor", "IKK", "IKM (mutu)", "Survei", "Pengaduan tepat waktu (%)", "Kepatuhan (%)", "Capaian rata-rata", "Pegawai"], rows, { id: "peringkat" }),
    ...(nodata.length ? [h("p", { class: "muted" }, "Tidak ada data (tidak diperingkat): ", nodata.map((o) => o.name || o.office).join(", "))] : []),
    exportBox(null, period));
  charts.push(new Chart(canvas, {
    type: "bar",
    data: { labels: ranked.map((o) => o.name || o.office), datasets: [{ label: "IKK", data: ranked.map((o) => o.ikk), backgroundColor: "#1d70b8" }] },
    options: { animation: false, responsive: true, maintainAspectRatio: false, plugins: { legend: { display: false } }, scales: { y: { beginAtZero: true, max: 100 } } },
  }));
}

// --- Kantor -------------------------------------------------------------------

async function kantor(q) {
  const period = q.get("period") || defaultPeriod();
  const office = q.get("office") || "";
  const box = h("div", { id: "isi" }, "Memuat...");
  page("Kantor " + office, h("div", { class: "tools" }, h("a", { href: "#ringkasan?period=" + period }, "← Ringkasan"), " ",
    periodPicker(period, (p) => go("kantor", { office, period: p }))), box);
  let d;
  try { d = await api(`/api/kantor?office=${encodeURIComponent(office)}&period=${encodeURIComponent(period)}`); } catch (e) { box.replaceChildren(error(e.message)); return; }
  const o = d.office;
  main.querySelector("h1").textContent = (o.name || o.office) + " (" + o.office + ")";
  const nrr = o.ikm.nrr || [];
  const unsurRows = d.unsur.map((u, i) => h("tr", {}, h("td", {}, u.field.toUpperCase()), h("td", {}, u.name), h("td", { class: "n" }, nrr.length ? num(nrr[i]) : NODATA)));
  const canvas = h("canvas", { id: "grafik-unsur", role: "img", "aria-label": "NRR per unsur" });
  const svcCanvas = h("canvas", { id: "grafik-layanan", role: "img", "aria-label": "IKM per layanan" });
  const c = o.complaints;
  const pred = o.employees.predikat || {};
  box.replaceChildren(
    h("p", {}, `${periodName(period)}: peringkat ${o.rank === null ? "-" : o.rank}, IKK ${num(o.ikk)}, IKM ${num(o.ikm.value)}${o.ikm.mutu ? " (mutu " + o.ikm.mutu + ", " + o.ikm.kinerja + ")" : ""}, ${int(o.ikm.n)} survei.`),
    h("div", { class: "grid" },
      h("section", {}, h("h2", {}, "IKM per unsur pelayanan"), h("div", { class: "chart" }, canvas),
        table(null, ["", "Unsur", "NRR"], unsurRows, { id: "unsur" })),
      h("section", {}, h("h2", {}, "IKM per layanan"), h("div", { class: "chart" }, svcCanvas),
        table(null, ["Layanan", "Survei", "IKM", "Mutu"], (o.services || []).map((s) => h("tr", {}, h("td", {}, s.service), h("td", { class: "n" }, int(s.n)), h("td", { class: "n" }, num(s.ikm)), h("td", {}, s.mutu || ""))), { id: "layanan" }))),
    h("div", { class: "grid" },
      h("section", {}, h("h2", {}, "Pengaduan"),
        h("dl", {}, h("dt", {}, "Diterima"), h("dd", {}, int(c.received)), h("dt", {}, "Selesai"), h("dd", {}, int(c.resolved)),
          h("dt", {}, "Tepat waktu"), h("dd", {}, `${int(c.on_time)} (${num(c.on_time_rate)} %)`), h("dt", {}, "Median hari"), h("dd", {}, num(c.median_days)))),
      h("section", {}, h("h2", {}, "Kepatuhan pelaporan"), h("p", { class: "big" }, num(o.compliance) + (o.compliance === null ? "" : " %")),
        h("h2", {}, "Predikat kinerja"), h("p", {}, Object.entries(pred).map(([k, v]) => `${k}: ${v}`).join(" · ")))),
    h("section", {}, h("h2", {}, "Pegawai"),
      table(null, ["NIP", "Nama", "Capaian", "Perilaku", "Predikat"], d.employees.map((e) => h("tr", {}, h("td", {}, e.nip), h("td", {}, e.name || ""), h("td", { class: "n" }, num(e.capaian)), h("td", { class: "n" }, num(e.perilaku)), h("td", {}, e.predikat || NODATA))), { id: "pegawai-kantor" })),
    h("section", {}, h("h2", {}, "Komentar warga"),
      d.comments.length ? h("ul", { id: "komentar", class: "comments" }, d.comments.map((k) => h("li", {}, h("small", {}, date(k.date), " · ", k.service), h("br"), k.comment))) : h("p", { class: "muted" }, "Belum ada komentar pada periode ini.")),
    exportBox(o.office, period));
  charts.push(new Chart(canvas, {
    type: "bar",
    data: { labels: d.unsur.map((u) => u.name), datasets: [{ label: "NRR", data: nrr, backgroundColor: "#00703c" }] },
    options: { animation: false, indexAxis: "y", maintainAspectRatio: false, plugins: { legend: { display: false } }, scales: { x: { min: 0, max: 4 } } },
  }));
  charts.push(new Chart(svcCanvas, {
    type: "bar",
    data: { labels: (o.services || []).map((s) => s.service), datasets: [{ label: "IKM", data: (o.services || []).map((s) => s.ikm), backgroundColor: "#1d70b8" }] },
    options: { animation: false, maintainAspectRatio: false, plugins: { legend: { display: false } }, scales: { y: { beginAtZero: true, max: 100 } } },
  }));
}

// --- Tren ---------------------------------------------------------------------

const TREND = [["ikk", "IKK"], ["ikm", "IKM"], ["on_time_rate", "Pengaduan tepat waktu"], ["compliance", "Kepatuhan"], ["capaian", "Capaian"]];

async function tren(q) {
  const year = q.get("year") || String(new Date().getFullYear());
  const ysel = h("select", { id: "tahun", "aria-label": "Tahun" });
  const now = new Date().getFullYear();
  for (let y = now; y >= now - 5; y--) ysel.append(h("option", { value: y }, y));
  ysel.value = year;
  ysel.addEventListener("change", () => go("tren", { year: ysel.value }));
  const box = h("div", { id: "isi" }, "Memuat...");
  page("Tren", h("div", { class: "tools" }, h("label", {}, "Tahun "), ysel), box);
  let d;
  try { d = await api("/api/tren?year=" + encodeURIComponent(year)); } catch (e) { box.replaceChildren(error(e.message)); return; }
  const attn = d.offices.filter((o) => o.attention);
  const lim = d.limits;
  const canvas = h("canvas", { id: "grafik-tren", role: "img", "aria-label": "IKK per bulan" });
  const months = d.offices.length ? d.offices[0].months.map((m) => periodName(m.period).split(" ")[0].slice(0, 3)) : [];
  box.replaceChildren(
    h("p", { class: "muted" }, `Perlu perhatian: IKK atau IKM turun ${num(lim.ikk)} poin atau lebih, pengaduan tepat waktu atau kepatuhan turun ${num(lim.on_time_rate)} poin atau lebih dari bulan sebelumnya.`),
    attn.length ? h("section", { id: "perhatian", class: "card warn" }, h("h2", {}, "Perlu perhatian"),
      h("ul", {}, attn.map((o) => h("li", { "data-office": o.office }, h("a", { href: `#kantor?office=${encodeURIComponent(o.office)}&period=${year}` }, o.name || o.office), ": ",
        o.months.filter((m) => m.declined.length).map((m) => `${periodName(m.period)} (${m.declined.map((f) => TREND.find((t) => t[0] === f)[1] + " " + change(m.change[f])).join(", ")})`).join("; ")))))
      : h("p", { id: "perhatian-kosong" }, "Tidak ada kantor yang perlu perhatian."),
    h("div", { class: "chart" }, canvas),
    ...d.offices.map((o) => h("section", { class: "tren-kantor" + (o.attention ? " attention" : ""), "data-office": o.office },
      h("h2", {}, o.name || o.office, " ", h("small", {}, o.office), o.attention ? h("span", { class: "badge" }, "Perlu perhatian") : null),
      table(null, ["Bulan", ...TREND.map((t) => t[1])],
        o.months.map((m) => h("tr", {}, h("td", {}, periodName(m.period)),
          TREND.map(([k]) => h("td", { class: "n" + (m.declined.includes(k) ? " decline" : "") }, num(m[k]), m.change[k] !== null ? h("small", {}, " ", change(m.change[k])) : null)))),
        { class: "tren" }))));
  charts.push(new Chart(canvas, {
    type: "line",
    data: { labels: months, datasets: d.offices.map((o, i) => ({ label: o.name || o.office, data: o.months.map((m) => m.ikk), borderColor: `hsl(${(i * 67) % 360} 60% 40%)`, spanGaps: false })) },
    options: { animation: false, maintainAspectRatio: false, scales: { y: { beginAtZero: true, max: 100 } } },
  }));
}

// --- Pegawai ------------------------------------------------------------------

async function pegawai(q) {
  const period = q.get("period") || defaultPeriod();
  const sort = q.get("sort") || "office";
  const dir = q.get("dir") === "desc" ? -1 : 1;
  const filter = q.get("q") || "";
  const pred = q.get("predikat") || "";
  const box = h("div", { id: "isi" }, "Memuat...");
  const params = () => ({ period, sort, dir: dir < 0 ? "desc" : "", q: filter, predikat: pred });
  const find = h("input", { id: "cari", type: "search", placeholder: "Nama, NIP atau kantor", value: filter, "aria-label": "Cari" });
  find.addEventListener("change", () => go("pegawai", { ...params(), q: find.value }));
  const psel = h("select", { id: "predikat", "aria-label": "Predikat" }, h("option", { value: "" }, "Semua predikat"),
    ["Sangat Baik", "Baik", "Butuh Perbaikan", "Kurang", "Sangat Kurang"].map((p) => h("option", { value: p }, p)));
  psel.value = pred;
  psel.addEventListener("change", () => go("pegawai", { ...params(), predikat: psel.value }));
  page("Pegawai", h("div", { class: "tools" }, periodPicker(period, (p) => go("pegawai", { ...params(), period: p })), " ", find, " ", psel), box);
  let d;
  try { d = await api("/api/pegawai?period=" + encodeURIComponent(period)); } catch (e) { box.replaceChildren(error(e.message)); return; }
  const f = filter.toLowerCase();
  let rows = d.employees.filter((e) => (!f || [e.nip, e.name, e.office, e.office_name].some((x) => (x || "").toLowerCase().includes(f))) && (!pred || e.predikat === pred));
  rows.sort((a, b) => {
    const x = a[sort], y = b[sort];
    if (x === y) return 0;
    if (x === null || x === undefined) return 1; // no data last either way
    if (y === null || y === undefined) return -1;
    return (typeof x === "number" ? x - y : String(x).localeCompare(String(y), "id")) * dir;
  });
  const cols = [["office_name", "Kantor"], ["nip", "NIP"], ["name", "Nama"], ["capaian", "Capaian"], ["perilaku", "Perilaku"], ["predikat", "Predikat"]];
  const head = cols.map(([k, t]) => h("th", { scope: "col", "aria-sort": sort === k ? (dir > 0 ? "ascending" : "descending") : null },
    h("a", { href: "#", onclick: (ev) => { ev.preventDefault(); go("pegawai", { ...params(), sort: k, dir: sort === k && dir > 0 ? "desc" : "" }); } }, t, sort === k ? (dir > 0 ? " ▲" : " ▼") : "")));
  box.replaceChildren(h("p", {}, `${rows.length} dari ${d.employees.length} pegawai, ${periodName(period)}.`),
    table(null, head, rows.map((e) => h("tr", {}, h("td", {}, e.office_name || e.office), h("td", {}, e.nip), h("td", {}, e.name || ""),
      h("td", { class: "n" }, num(e.capaian)), h("td", { class: "n" }, num(e.perilaku)), h("td", {}, e.predikat || NODATA))), { id: "daftar-pegawai" }));
}

// --- Konflik --------------------------------------------------------------------

const TYPES = { survey: "Survei", complaint: "Pengaduan", activity: "Kegiatan", rating: "Penilaian perilaku",
  target: "Target kinerja", employee: "Pegawai", office: "Kantor", service: "Layanan", indicator: "Indikator" };
const ZONES = { "Asia/Jakarta": "WIB", "Asia/Pontianak": "WIB", "Asia/Makassar": "WITA", "Asia/Jayapura": "WIT" };

// ms in the office's zone: "30 Nov 2026 14.05 WITA"
function zoned(ms, tz) {
  const zone = tz || "Asia/Jakarta";
  let d;
  try {
    d = new Date(ms).toLocaleString("id-ID", { day: "numeric", month: "short", year: "numeric", hour: "2-digit", minute: "2-digit", timeZone: zone });
  } catch (e) {
    return dateTime(ms);
  }
  return `${d} ${ZONES[zone] || zone}`;
}

function stampDevice(st) {
  const i = (st || "").indexOf("/");
  return i < 0 ? "?" : st.slice(i + 1);
}

function value(o, k) {
  if (o[k] === null || o[k] === undefined) return o[k + "_note"] ? `(${o[k + "_note"]})` : "(kosong)";
  return `«${o[k]}»`;
}

async function konflik() {
  const box = h("div", { id: "isi" }, "Memuat...");
  page("Konflik", h("p", { class: "muted" }, "Dua perangkat mengubah kolom yang sama tanpa saling tahu: nilai yang lebih baru disimpan, yang lain tercatat di sini. Waktu menurut zona kantor."), box);
  let d;
  try { d = await api("/api/konflik"); } catch (e) { box.replaceChildren(error(e.message)); return; }
  if (!d.conflicts.length) { box.replaceChildren(h("p", { id: "konflik-kosong" }, "Tidak ada konflik.")); return; }
  box.replaceChildren(
    h("p", {}, `${d.conflicts.length} terbaru dari ${d.total}.`),
    h("ul", { id: "konflik", class: "comments" }, d.conflicts.map((o) => h("li", { "data-id": o.id },
      h("small", {}, zoned(o.at, o.timezone), " · ", o.office_name || o.office || "", o.office ? ` (${o.office})` : ""), h("br"),
      `${TYPES[o.type] || o.type} ${o.id.slice(0, 8)}…, kolom '${o.field}': disimpan ${value(o, "winner")} dari perangkat ${stampDevice(o.winner_stamp)}, `,
      `tertimpa ${value(o, "loser")} dari perangkat ${stampDevice(o.loser_stamp)}.`))));
}

// --- Perangkat (admin) ----------------------------------------------------------

async function perangkat() {
  const box = h("div", { id: "isi" }, "Memuat...");
  page("Perangkat", box);
  let d;
  try { d = await api("/api/perangkat"); } catch (e) { box.replaceChildren(error(e.message)); return; }
  const list = h("div", { id: "daftar-perangkat" });
  const office = h("select", { id: "kantor-baru", name: "office", required: true },
    Object.entries(d.offices).map(([k, v]) => h("option", { value: k }, `${v} (${k})`)));
  const name = h("input", { id: "nama-perangkat", name: "name", placeholder: "PC loket depan", maxlength: 64 });
  const result = h("div", { id: "hasil-daftar" });
  const form = h("form", { id: "daftar", class: "card" }, h("h2", {}, "Daftarkan perangkat"),
    h("label", { for: "kantor-baru" }, "Kantor"), office, h("label", { for: "nama-perangkat" }, "Nama perangkat"), name,
    h("button", { type: "submit", class: "primary" }, "Buat kode pendaftaran"), result);
  const revoke = async (dev) => {
    if (!confirm(`Cabut perangkat ${dev}? PC itu tidak bisa sinkron lagi.`)) return;
    try { await api("/api/perangkat/cabut", { device: dev }); drawList(await api("/api/perangkat")); } catch (e) { alert(e.message); }
  };
  const drawList = (d) => list.replaceChildren(
    table("Perangkat terdaftar", ["Perangkat", "Kantor", "Terakhir terlihat", "Pendaftaran", "Status", ""],
      d.devices.map((v) => h("tr", { "data-device": v.id }, h("td", {}, v.name || "", h("br"), h("small", {}, v.id)), h("td", {}, v.office_name || "", " ", h("small", {}, v.office || "")),
        h("td", {}, dateTime(v.last_seen)), h("td", {}, v.enrolment === "pending" ? "menunggu" : v.enrolment === "used" ? "terpakai" : v.enrolment === "expired" ? "kedaluwarsa" : "-"),
        h("td", {}, v.revoked ? "dicabut" : "aktif"), h("td", {}, v.revoked ? "" : h("button", { type: "button", onclick: () => revoke(v.id) }, "Cabut")))), { id: "perangkat" }),
    h("p", { class: "muted", id: "belum-dilaporkan" }, "Belum tersedia: ", d.missing, "."),
    h("section", { class: "card" }, h("h2", {}, `Kantor tanpa sinkronisasi ${d.stale_days} hari terakhir`),
      d.stale_offices.length ? h("ul", { id: "kantor-diam" }, d.stale_offices.map((s) => h("li", {}, `${s.name} (${s.office}): `, s.has_device ? "terakhir " + dateTime(s.last_seen) : "belum ada perangkat")))
        : h("p", {}, "Semua kantor tersinkron.")));
  form.addEventListener("submit", async (ev) => {
    ev.preventDefault();
    try {
      const r = await api("/api/perangkat", { office: office.value, name: name.value });
      result.replaceChildren(h("div", { class: "enrol" },
        h("p", {}, "Kode pendaftaran untuk ", h("strong", {}, r.name || r.device), ` (${r.office}), berlaku sampai ${dateTime(r.expires)}:`),
        h("p", { class: "code", id: "kode" }, r.code),
        r.qr ? h("img", { id: "qr", src: r.qr, alt: "Kode QR pendaftaran", width: 200, height: 200 }) : null,
        h("p", {}, "Di PC kantor: ", h("code", {}, `kinerja init --server ${location.origin} --enrol ${r.code}`)),
        h("button", { type: "button", onclick: () => window.print() }, "Cetak")));
      drawList(await api("/api/perangkat"));
    } catch (e) { result.replaceChildren(error(e.message)); }
  });
  drawList(d);
  box.replaceChildren(form, list);
}

// --- start --------------------------------------------------------------------

const PAGES = { ringkasan, kantor, tren, pegawai, konflik, perangkat };

async function render() {
  if (!me) {
    try { me = await api("/api/saya"); } catch (e) { return; }
  }
  drawNav();
  const { page: p, q } = route();
  if (p === "perangkat" && me.role !== "admin") {
    page("Perangkat", error("Halaman ini hanya untuk admin."));
    return;
  }
  (PAGES[p] || ringkasan)(q);
}

window.addEventListener("hashchange", render);
render();
