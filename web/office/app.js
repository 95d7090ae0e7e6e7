// app.js - the office app (kinerja ui): sign-in, the header with the sync
// state, the menu by role and the pages Beranda, Survei, Kegiatan harian,
// Persetujuan and Sinkronisasi.  Every change goes to the JSON API under
// /api/ (client/ui_api.c) with the session's CSRF token; the server's rules
// decide, and their messages are shown against the field.
import { t, num, day, exact, STATUS, wireLangSwitch } from "./i18n.js";
import { penilaian } from "./page_penilaian.js";
import { target } from "./page_target.js";
import { impor, TYPE_WORD } from "./page_impor.js";

const main = document.getElementById("main");
let session = null;
let meta = null;

// ---- helpers ---------------------------------------------------------------

function h(tag, attrs, ...kids) {
  const e = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs || {})) {
    if (v === false || v === null || v === undefined) continue;
    if (k.startsWith("on")) e.addEventListener(k.slice(2), v);
    else if (k === "text") e.textContent = v;
    else e.setAttribute(k, v === true ? "" : v);
  }
  for (const k of kids.flat()) if (k !== null && k !== undefined && k !== false) e.append(k);
  return e;
}

async function api(path, body) {
  const opts = { headers: { Accept: "application/json" }, credentials: "same-origin" };
  if (body !== undefined) {
    opts.method = "POST";
    opts.headers["Content-Type"] = "application/json";
    if (session) opts.headers["X-CSRF-Token"] = session.csrf;
    opts.body = JSON.stringify(body);
  }
  const r = await fetch(path, opts);
  const d = await r.json().catch(() => ({}));
  if (r.status === 401 && path !== "/api/signin" && path !== "/api/session") {
    session = null;
    route();
  }
  return { ok: r.ok, status: r.status, data: d };
}

const FIELD_LABEL = {
  nip: "NIP", pin: "PIN", password: "Kata sandi operator", date: "Tanggal", service: "Layanan",
  age: "Umur", sex: "Jenis kelamin", education: "Pendidikan", occupation: "Pekerjaan",
  comment: "Saran", indicator: "Indikator", quantity: "Jumlah", minutes: "Menit",
  description: "Uraian", reason: "Alasan", from: "Dari tanggal", to: "Sampai tanggal",
};

// Show errors [{field, message}] in the form's summary and against each
// field (an element [data-field=NAME]); what was typed stays.  opts.inline
// false: the summary alone says them (each field only marked invalid), for
// a form as short as the sign-in's, where the two would say it twice.
function showErrors(form, errors, opts = {}) {
  for (const e of form.querySelectorAll(".field-error")) e.remove();
  for (const e of form.querySelectorAll(".invalid")) e.classList.remove("invalid");
  const box = form.querySelector(".error-summary");
  const ul = box.querySelector("ul");
  ul.replaceChildren();
  for (const e of errors) {
    const f = form.querySelector(`[data-field="${e.field}"]`) || form.querySelector("[data-field]");
    // the rule's message without its "field 'x': " (the label says which)
    const text = String(e.message || "").replace(/^((record|rekaman) '[^']*': )?(field|isian) '[^']*': /, "");
    const label = t(FIELD_LABEL[e.field] || (e.field || "").toUpperCase());
    ul.append(h("li", {}, h("a", { href: "#", onclick: (ev) => { ev.preventDefault(); f?.querySelector("input,select,textarea")?.focus(); } },
      label ? `${label}: ${text}` : text)));
    if (f) {
      f.classList.add("invalid");
      if (opts.inline === false) continue;
      const small = f.classList.contains("answer");
      f.append(h("p", { class: "field-error", "data-error-for": e.field, title: text, text: small ? "1-4" : text }));
    }
  }
  box.hidden = errors.length === 0;
}

// A list's filter form (its fields named as the API's query), kept in the
// address: a change draws the page again from it.  dates: the from/to pair
// ("Dari tanggal", "Sampai tanggal") every list that has dates gets.
function listFilter(id, path, q, ...fields) {
  const f = h("form", { id, class: "card row filter", novalidate: true }, summary(), ...fields);
  const apply = () => {
    const p = new URLSearchParams();
    for (const [k, v] of new FormData(f)) if (v) p.set(k, v);
    go(p.toString() ? `${path}?${p}` : path);
  };
  f.addEventListener("change", apply);
  f.addEventListener("submit", (ev) => { ev.preventDefault(); apply(); });
  return f;
}

function dateFields(prefix, q) {
  return [
    h("div", { "data-field": "from" }, h("label", { for: `${prefix}-from`, text: t("Dari tanggal") }),
      h("input", { id: `${prefix}-from`, name: "from", type: "date", value: q.get("from") || "" })),
    h("div", { "data-field": "to" }, h("label", { for: `${prefix}-to`, text: t("Sampai tanggal") }),
      h("input", { id: `${prefix}-to`, name: "to", type: "date", value: q.get("to") || "" })),
  ];
}

// The person filter of a list (the API's nip=): people {nip: name}, each
// by name beside the NIP, by name.
function personField(prefix, q, people) {
  const nip = q.get("nip") || "";
  return h("div", {}, h("label", { for: `${prefix}-nip`, text: t("Pegawai") }),
    h("select", { id: `${prefix}-nip`, name: "nip" }, h("option", { value: "", text: t("Semua pegawai") }),
      Object.entries(people || {}).sort((a, b) => a[1].localeCompare(b[1]))
        .map(([n, name]) => h("option", { value: n, selected: n === nip, text: `${name} · ${n}` }))));
}

// The period filter (period=: 2026, 2026-Q1, 2026-01) of the lists of records with a period.
function periodField(prefix, q) {
  return h("div", {}, h("label", { for: `${prefix}-period`, text: t("Periode") }),
    h("input", { id: `${prefix}-period`, name: "period", value: q.get("period") || "", maxlength: "7", placeholder: t("Semua") }));
}

// The query of a list's API from the page's address: only the names given.
function listQuery(q, ...names) {
  const p = new URLSearchParams();
  for (const n of names) if (q.get(n)) p.set(n, q.get(n));
  return p.toString() ? `?${p}` : "";
}

function summary() {
  return h("div", { class: "error-summary", role: "alert", hidden: true },
    h("h2", { text: t("Periksa isian berikut") }), h("ul"));
}

function errorsOf(d) {
  if (d.errors) return d.errors;
  return [{ field: d.field || "", message: d.error || "?" }];
}

// ---- header: sync state, menu ---------------------------------------------

async function refreshStatus() {
  if (!session) return;
  const r = await api("/api/status");
  if (!r.ok) return;
  const s = r.data;
  const badge = document.getElementById("sync-badge");
  badge.textContent = t(s.online ? "Daring" : "Luring");
  badge.className = "badge " + (s.online ? "online" : "offline");
  badge.title = s.last_error || "";
  document.getElementById("sync-waiting").textContent = `${t("Menunggu")}: ${num(s.pending)}` +
    (s.rejected ? ` · ${t("Ditolak server")}: ${num(s.rejected)}` : "");
  document.getElementById("sync-last").textContent = `${t("Terakhir")}: ` +
    (s.last_sync ? s.last_sync : t("belum pernah"));
  return s;
}

const PAGES = [
  { path: "/beranda", name: "Beranda", roles: ["operator", "employee", "supervisor"], draw: beranda },
  { path: "/survei", name: "Survei", roles: ["operator"], draw: survei },
  { path: "/kegiatan", name: "Kegiatan harian", roles: ["employee", "supervisor"], draw: kegiatan },
  { path: "/persetujuan", name: "Persetujuan", roles: ["supervisor"], draw: persetujuan },
  { path: "/pengaduan", name: "Pengaduan", roles: ["operator"], draw: pengaduan },
  { path: "/penilaian", name: "Penilaian perilaku", roles: ["employee", "supervisor"], draw: () => penilaian(kit()) },
  { path: "/target", name: "Target kinerja", roles: ["operator", "employee", "supervisor"], draw: () => target(kit()) },
  { path: "/impor", name: "Impor & Ekspor", roles: ["operator"], draw: () => impor(kit()) },
  { path: "/laporan", name: "Laporan", roles: ["operator", "employee", "supervisor"], draw: laporan },
  { path: "/sinkronisasi", name: "Sinkronisasi", roles: ["operator", "employee", "supervisor"], draw: sinkronisasi },
];

// What the pages in their own files (page_*.js) draw with.
function kit() {
  return { h, api, showErrors, summary, errorsOf, session, meta, main, go, route, labels: FIELD_LABEL,
    listFilter, listQuery, dateFields, personField, periodField };
}

function drawChrome() {
  const menu = document.getElementById("menu");
  const ul = menu.querySelector("ul");
  ul.replaceChildren();
  document.getElementById("sync-state").hidden = !session;
  document.getElementById("signout").hidden = !session;
  menu.hidden = !session;
  document.getElementById("who").textContent = !session ? "" : session.role === "operator" ? t("Operator") : `${session.name} (${t(ROLE[session.role])})`;
  document.getElementById("signout").textContent = t("Keluar");
  document.getElementById("sync-now").textContent = t("Sinkronkan sekarang");
  document.getElementById("brand").textContent = session ? `Kinerja · ${session.office_name}` : "Kinerja";
  if (!session) return;
  for (const p of PAGES.filter((p) => p.roles.includes(session.role))) {
    const a = h("a", { href: p.path, "data-page": p.path, text: t(p.name) });
    if (location.pathname === p.path || (location.pathname === "/" && p.path === "/beranda")) a.setAttribute("aria-current", "page");
    ul.append(h("li", {}, a));
  }
}

const ROLE = { operator: "Operator", employee: "Pegawai", supervisor: "Atasan" };

function go(path) {
  history.pushState(null, "", path);
  route();
}

document.addEventListener("click", (ev) => {
  const a = ev.target.closest("a[data-page]");
  if (a && !ev.ctrlKey && !ev.metaKey) {
    ev.preventDefault();
    go(a.getAttribute("href"));
  }
});
window.addEventListener("popstate", () => route());

// "Sinkronkan sekarang": the app's sync thread syncs at once; the answer
// comes when it ended (or after 10 s while it goes on: the header then
// follows it through /api/status)
document.getElementById("sync-now").addEventListener("click", async (ev) => {
  const b = ev.currentTarget;
  b.disabled = true;
  b.textContent = t("Menyinkronkan...");
  const r = await api("/api/sync", {});
  let s = await refreshStatus();
  while (s && s.syncing) {
    await new Promise((ok) => setTimeout(ok, 2000));
    s = await refreshStatus();
  }
  b.disabled = false;
  b.textContent = t("Sinkronkan sekarang");
  if (r.ok && r.data.ok === false) document.getElementById("sync-badge").title = r.data.error || "";
});

document.getElementById("signout").addEventListener("click", async () => {
  await api("/api/signout", {});
  session = null;
  history.pushState(null, "", "/");
  route();
});

async function route() {
  if (!session) {
    // the session and the office's lists (the same for everyone signed
    // in) asked for at once: one round trip before a first page, not two
    const m = meta ? null : fetch("/api/meta", { headers: { Accept: "application/json" }, credentials: "same-origin" })
      .then((x) => (x.ok ? x.json() : null)).catch(() => null);
    const r = await api("/api/session");
    if (r.ok) {
      session = r.data;
      meta ||= await m;
    }
  }
  drawChrome();
  main.replaceChildren();
  if (!session) return signin();
  if (!meta) meta = (await api("/api/meta")).data;
  let page = PAGES.find((p) => p.path === location.pathname && p.roles.includes(session.role));
  if (!page) page = PAGES[0];
  document.title = `${t(page.name)} · Kinerja`;
  await page.draw();
  // the page is drawn (its data in it): tests and the benchmark read this
  performance.mark("kj-page-drawn");
  refreshStatus();
}

// ---- sign-in ---------------------------------------------------------------

function signin() {
  document.title = `${t("Masuk")} · Kinerja`;
  const asn = h("form", { id: "signin-asn", class: "card", novalidate: true },
    h("h2", { text: t("Masuk sebagai pegawai") }), summary(),
    h("div", { "data-field": "nip" }, h("label", { for: "nip", text: t("NIP") }),
      h("input", { id: "nip", name: "nip", inputmode: "numeric", autocomplete: "username", maxlength: "18" })),
    h("div", { "data-field": "pin" }, h("label", { for: "pin", text: t("PIN") }),
      h("input", { id: "pin", name: "pin", type: "password", inputmode: "numeric", autocomplete: "current-password" })),
    h("div", { class: "actions" }, h("button", { class: "primary", type: "submit", id: "masuk", text: t("Masuk") })));
  const op = h("form", { id: "signin-operator", class: "card", novalidate: true },
    h("h2", { text: t("Masuk sebagai operator") }), summary(),
    h("div", { "data-field": "password" }, h("label", { for: "password", text: t("Kata sandi operator") }),
      h("input", { id: "password", type: "password", autocomplete: "current-password" })),
    h("div", { class: "actions" }, h("button", { class: "primary", type: "submit", id: "masuk-operator", text: t("Masuk") })));
  const submit = async (form, body) => {
    const r = await api("/api/signin", body);
    if (r.ok) {
      session = r.data;
      if (location.pathname === "/") history.replaceState(null, "", "/beranda");
      return route();
    }
    // the message says the tries left or the lock's end itself
    // (client/ui_api.c), once: shown as it is, in the summary only
    const d = r.data;
    showErrors(form, [{ field: d.field || "nip", message: d.error || "?" }], { inline: false });
  };
  asn.addEventListener("submit", (ev) => {
    ev.preventDefault();
    submit(asn, { nip: asn.querySelector("#nip").value.trim(), pin: asn.querySelector("#pin").value });
  });
  op.addEventListener("submit", (ev) => {
    ev.preventDefault();
    submit(op, { operator: true, password: op.querySelector("#password").value });
  });
  main.append(h("h1", { text: t("Masuk") }), h("div", { class: "grid" }, asn, op));
  asn.querySelector("#nip").focus();
  performance.mark("kj-page-drawn");
}

// ---- Beranda ---------------------------------------------------------------

async function beranda() {
  const s = (await refreshStatus()) || {};
  const cards = [
    h("div", { class: "card", id: "card-sync" }, h("h2", { text: t("Sinkronisasi") }),
      h("p", { class: "figure", text: t(s.online ? "Daring" : "Luring") }),
      h("p", {}, `${t("Terakhir tersinkron")}: ${s.last_sync ? `${day(s.last_sync_day)} ${s.last_sync}` : t("belum pernah")}`)),
    h("div", { class: "card", id: "card-waiting" }, h("h2", { text: t("Menunggu sinkronisasi") }),
      h("p", { class: "figure", text: num(s.pending) }),
      s.rejected ? h("p", {}, h("a", { href: "/sinkronisasi", "data-page": "1", text: `${t("Ditolak server")}: ${num(s.rejected)}` })) : null),
  ];
  if (session.role === "supervisor") {
    cards.push(h("div", { class: "card", id: "card-approve" }, h("h2", { text: t("Perlu persetujuan") }),
      h("p", { class: "figure", text: num(s.to_approve) }),
      h("a", { href: "/persetujuan", "data-page": "1", text: t("Persetujuan") })));
  }
  main.append(h("h1", { text: `${t("Beranda")}` }), h("p", { class: "muted" }, `${session.name} · ${day(session.today)}`),
    h("div", { class: "grid" }, cards));
}

// ---- Survei: paper forms by keyboard --------------------------------------

async function survei() {
  const unsur = meta.unsur || [];
  const svc = meta.services || [];
  const answers = h("div", { class: "answers", "data-field": "u" },
    unsur.map((u, i) => h("div", { class: "answer", "data-field": u.field },
      h("label", { for: u.field, title: u.name, text: `U${i + 1}` }),
      h("input", { id: u.field, name: u.field, class: "digit", inputmode: "numeric", maxlength: "1", autocomplete: "off",
        "aria-label": `${u.name} (1-4)` }))));
  const form = h("form", { id: "survey-form", class: "card", novalidate: true, autocomplete: "off" },
    summary(),
    h("div", { class: "row" },
      h("div", { "data-field": "date" }, h("label", { for: "date", text: t("Tanggal") }),
        h("input", { id: "date", name: "date", type: "date", value: session.today })),
      h("div", { "data-field": "service" }, h("label", { for: "service", text: t("Layanan") }),
        svc.length ? h("select", { id: "service", name: "service" }, h("option", { value: "", text: "—" }), svc.map((s) => h("option", { value: s, text: s })))
          : h("input", { id: "service", name: "service", maxlength: "200" }))),
    h("p", { class: "hint", text: "U1-U9: 1 = " + (unsur[0]?.answers[0] || "") + " … 4 = " + (unsur[0]?.answers[3] || "") + ". Enter = " + t("Simpan") }),
    answers,
    h("div", { class: "row" },
      h("div", { "data-field": "age" }, h("label", { for: "age", text: t("Umur") }), h("input", { id: "age", inputmode: "numeric", maxlength: "3" })),
      h("div", { "data-field": "sex" }, h("label", { for: "sex", text: t("Jenis kelamin") }),
        h("select", { id: "sex" }, h("option", { value: "", text: "—" }), h("option", { value: "L", text: "L" }), h("option", { value: "P", text: "P" }))),
      h("div", { "data-field": "education" }, h("label", { for: "education", text: t("Pendidikan") }),
        h("select", { id: "education" }, h("option", { value: "", text: "—" }),
          ["SD", "SMP", "SMA", "D1-D3", "D4-S1", "S2", "S3"].map((e) => h("option", { value: e, text: e })))),
      h("div", { "data-field": "occupation" }, h("label", { for: "occupation", text: t("Pekerjaan") }), h("input", { id: "occupation", maxlength: "200" }))),
    h("div", { "data-field": "comment" }, h("label", { for: "comment", text: t("Saran") }), h("input", { id: "comment", maxlength: "2000" })),
    h("div", { class: "actions" }, h("button", { class: "primary", type: "submit", id: "simpan", text: t("Simpan") }),
      h("span", { id: "saved", class: "notice-inline", "aria-live": "polite" })));
  const list = h("tbody");
  const count = h("span", { id: "count", text: "0" });
  // the list: newest first, filtered by dates and service (in the address)
  const q = new URLSearchParams(location.search);
  const filter = listFilter("s-filter", "/survei", q, ...dateFields("sf", q),
    h("div", {}, h("label", { for: "sf-service", text: t("Layanan") }),
      h("select", { id: "sf-service", name: "service" }, h("option", { value: "", text: t("Semua") }),
        svc.map((x) => h("option", { value: x, selected: x === q.get("service"), text: x })))));
  main.append(h("h1", { text: t("Entri survei kertas") }), form,
    // the list holds every survey; count, the forms entered since this page opened
    h("h2", {}, t("Survei tersimpan"), h("span", { class: "muted" }, ` · ${t("dientri sekarang")}: `, count)), filter,
    h("div", { class: "table-wrap" }, h("table", { id: "surveys" },
      h("thead", {}, h("tr", {}, h("th", { text: t("Tanggal") }), h("th", { text: t("Layanan") }),
        unsur.map((u, i) => h("th", { class: "num", title: u.name, text: `U${i + 1}` })))), list)));
  let saved = 0;
  const digits = [...form.querySelectorAll("input.digit")];
  digits.forEach((inp, i) => {
    inp.addEventListener("input", () => {
      inp.value = inp.value.replace(/[^1-4]/g, "").slice(-1);
      if (inp.value && i + 1 < digits.length) digits[i + 1].focus();
    });
    inp.addEventListener("keydown", (ev) => {
      if (ev.key === "Backspace" && !inp.value && i > 0) digits[i - 1].focus();
    });
  });
  const load = async () => {
    const r = await api("/api/surveys" + listQuery(q, "from", "to", "service"));
    if (!r.ok) return showErrors(filter, errorsOf(r.data));
    const rows = r.data.surveys || [];
    list.replaceChildren(...rows.map((s) => h("tr", { "data-id": s.id },
      h("td", { text: day(s.date) }), h("td", { text: s.service }), unsur.map((u) => h("td", { class: "num", text: s[u.field] || "" })))));
    if (!rows.length) list.append(h("tr", {}, h("td", { colspan: String(2 + unsur.length), class: "muted", text: t("Tidak ada data") })));
  };
  form.addEventListener("submit", async (ev) => {
    ev.preventDefault();
    const v = (id) => form.querySelector("#" + id).value.trim();
    const body = { date: v("date"), service: v("service") };
    for (const u of unsur) body[u.field] = v(u.field);
    for (const k of ["age", "sex", "education", "occupation", "comment"]) if (v(k)) body[k] = v(k);
    const r = await api("/api/surveys", body);
    if (!r.ok) {
      showErrors(form, errorsOf(r.data));
      return;
    }
    showErrors(form, []);
    saved += 1;
    count.textContent = num(saved);
    document.getElementById("saved").textContent = t("Tersimpan.");
    // the next form: date and service stay, the answers start again
    for (const id of [...unsur.map((u) => u.field), "age", "sex", "education", "occupation", "comment"]) form.querySelector("#" + id).value = "";
    digits[0].focus();
    load();
  });
  await load();
  (svc.length ? form.querySelector("#service") : digits[0]).focus();
}

// ---- Kegiatan harian ------------------------------------------------------

async function kegiatan() {
  const inds = meta.indicators || [];
  const form = h("form", { id: "activity-form", class: "card", novalidate: true },
    h("h2", { id: "a-title", text: t("Tambah kegiatan") }), summary(),
    h("div", { class: "row" },
      h("div", { "data-field": "date" }, h("label", { for: "a-date", text: t("Tanggal") }),
        h("input", { id: "a-date", type: "date", value: session.today })),
      h("div", { "data-field": "indicator" }, h("label", { for: "a-indicator", text: t("Indikator") }),
        h("select", { id: "a-indicator" }, h("option", { value: "", text: "—" }),
          inds.map((i) => h("option", { value: i.id, text: `${i.name} (${i.unit})` })))),
      h("div", { "data-field": "quantity" }, h("label", { for: "a-quantity", text: t("Jumlah") }),
        h("input", { id: "a-quantity", inputmode: "decimal" })),
      h("div", { "data-field": "minutes" }, h("label", { for: "a-minutes", text: t("Menit") }),
        h("input", { id: "a-minutes", inputmode: "numeric" }))),
    h("div", { "data-field": "description" }, h("label", { for: "a-description", text: t("Uraian") }),
      h("input", { id: "a-description", maxlength: "2000" })),
    h("p", { id: "a-edit-note", class: "hint", hidden: true }),
    h("div", { class: "actions" }, h("button", { class: "primary", type: "submit", id: "a-add", text: t("Tambah kegiatan") }),
      h("button", { type: "button", id: "a-copy", text: t("Salin kegiatan kemarin") }),
      h("button", { type: "button", id: "a-cancel", hidden: true, text: t("Batal") })));
  // editing: the form holds one of the rows (its id in form.dataset.id)
  const FIELDS = ["date", "indicator", "quantity", "minutes", "description"];
  const edit = (a) => {
    form.dataset.id = a ? a.id : "";
    for (const k of FIELDS) form.querySelector("#a-" + k).value = a ? (a[k] ?? "") : k === "date" ? session.today : "";
    form.querySelector("#a-title").textContent = t(a ? "Ubah kegiatan" : "Tambah kegiatan");
    form.querySelector("#a-add").textContent = t(a ? "Simpan perubahan" : "Tambah kegiatan");
    form.querySelector("#a-copy").hidden = !!a;
    form.querySelector("#a-cancel").hidden = !a;
    const note = form.querySelector("#a-edit-note");
    const decided = a && (a.status === "rejected" || a.status === "approved");
    note.hidden = !decided;
    note.textContent = decided ? t("Setelah diubah, kegiatan ini diajukan lagi kepada atasan.") : "";
    showErrors(form, []);
    if (a) form.querySelector("#a-date").focus();
  };
  form.querySelector("#a-cancel").addEventListener("click", () => edit(null));
  const tbody = h("tbody");
  const msg = h("p", { id: "a-msg", class: "notice", hidden: true, "aria-live": "polite" });
  const submit = h("button", { class: "primary", type: "button", id: "a-submit", text: t("Ajukan yang dipilih") });
  const q = new URLSearchParams(location.search);
  const filter = listFilter("k-filter", "/kegiatan", q,
    h("div", {}, h("label", { for: "kf-status", text: t("Status") }),
      h("select", { id: "kf-status", name: "status" }, h("option", { value: "", text: t("Semua") }),
        ["draft", "submitted", "approved", "rejected"].map((x) => h("option", { value: x, selected: x === q.get("status"), text: t(STATUS[x]) })))),
    ...dateFields("kf", q));
  main.append(h("h1", { text: t("Kegiatan harian") }), form, msg, filter,
    h("div", { class: "table-wrap" }, h("table", { id: "activities" }, h("thead", {}, h("tr", {},
      h("th", {}, ""), h("th", { text: t("Tanggal") }), h("th", { text: t("Indikator") }), h("th", { class: "num", text: t("Jumlah") }),
      h("th", { class: "num", text: t("Menit") }), h("th", { text: t("Uraian") }), h("th", { text: t("Status") }), h("th", {}, ""))), tbody)),
    h("div", { class: "actions" }, submit));
  const indName = Object.fromEntries(inds.map((i) => [i.id, i.name]));
  const load = async () => {
    const r = await api("/api/activities" + listQuery(q, "status", "from", "to"));
    if (!r.ok) return showErrors(filter, errorsOf(r.data));
    const acts = r.data.activities || [];
    tbody.replaceChildren(...acts.map((a) => {
      const st = a.status || "submitted"; // absent is submitted (docs/protocol.md)
      const can = st === "draft" || st === "rejected";
      const editable = can || st === "submitted";
      return h("tr", { "data-id": a.id, "data-status": st },
        h("td", {}, can ? h("input", { type: "checkbox", class: "pick", value: a.id, "aria-label": a.id }) : ""),
        h("td", { text: day(a.date) }), h("td", { text: indName[a.indicator] || a.indicator }),
        h("td", { class: "num", text: exact(a.quantity) }),
        h("td", { class: "num", text: a.minutes ? num(a.minutes) : "" }), h("td", { text: a.description || "" }),
        h("td", {}, t(STATUS[st] || st), a.review ? h("div", { class: "hint", text: a.review }) : null),
        h("td", {}, editable ? h("button", { type: "button", class: "link edit", text: t("Ubah"), onclick: () => edit({ ...a, status: st }) }) : ""));
    }));
    if (!acts.length) tbody.append(h("tr", {}, h("td", { colspan: "8", class: "muted", text: t("Tidak ada data") })));
  };
  const say = (text) => { msg.textContent = text; msg.hidden = !text; };
  form.addEventListener("submit", async (ev) => {
    ev.preventDefault();
    const v = (id) => form.querySelector("#a-" + id).value.trim();
    const body = {};
    const id = form.dataset.id;
    // an edit sends every field ("" clears an optional one), an add what is filled
    for (const k of FIELDS) if (v(k) || id) body[k] = v(k);
    if (id) body.id = id;
    const r = await api(id ? "/api/activities/update" : "/api/activities", body);
    if (!r.ok) return showErrors(form, errorsOf(r.data));
    showErrors(form, []);
    if (id) {
      edit(null);
      say(t("Tersimpan.") + (r.data.resubmitted ? ` ${t("Diajukan lagi kepada atasan.")}` : "") +
        (r.data.warnings?.length ? ` ${r.data.warnings.join("; ")}` : ""));
    } else {
      for (const k of ["quantity", "minutes", "description"]) form.querySelector("#a-" + k).value = "";
      say(t("Tersimpan."));
    }
    await load();
  });
  form.querySelector("#a-copy").addEventListener("click", async () => {
    const r = await api("/api/activities/copy", {});
    say(r.ok ? `${num(r.data.copied)} ${t("kegiatan disalin dari")} ${day(r.data.from)}` : r.data.error);
    await load();
  });
  submit.addEventListener("click", async () => {
    const ids = [...tbody.querySelectorAll("input.pick:checked")].map((c) => c.value);
    const r = await api("/api/activities/submit", { ids });
    say(r.ok ? `${t("Diajukan")}: ${num(r.data.done)}` + (r.data.refused.length ? ` · ${r.data.refused.map((x) => x.error).join("; ")}` : "") : r.data.error);
    await load();
  });
  await load();
}

// ---- Persetujuan ----------------------------------------------------------

const INBOX_PAGE = 100; // rows of the approval inbox drawn at once

async function persetujuan() {
  const q = new URLSearchParams(location.search);
  const status = q.get("status") || "submitted";
  const nip = q.get("nip") || "";
  const r = await api(`/api/approvals?${new URLSearchParams({ status, nip, from: q.get("from") || "", to: q.get("to") || "" })}`);
  const team = r.data.team || {};
  const every = r.data.activities || [];
  // a page of INBOX_PAGE rows at a time (the page number in the address)
  const pages = Math.max(1, Math.ceil(every.length / INBOX_PAGE));
  const page = Math.min(pages, Math.max(1, parseInt(q.get("page") || "1", 10) || 1));
  const acts = every.slice((page - 1) * INBOX_PAGE, page * INBOX_PAGE);
  const pageLink = (n, text) => {
    const p = new URLSearchParams(location.search);
    p.set("page", String(n));
    return h("a", { href: `/persetujuan?${p}`, "data-page": "1", text });
  };
  const pager = pages > 1 ? h("p", { id: "inbox-pages", class: "row" },
    page > 1 ? pageLink(page - 1, `‹ ${t("Sebelumnya")}`) : null,
    h("span", { text: `${t("Halaman")} ${num(page)} / ${num(pages)} · ${num(every.length)} ${t("kegiatan")}` }),
    page < pages ? pageLink(page + 1, `${t("Berikutnya")} ›`) : null) : null;
  const inds = Object.fromEntries((meta.indicators || []).map((i) => [i.id, i.name]));
  const filter = listFilter("filter", "/persetujuan", q,
    h("div", {}, h("label", { for: "f-status", text: t("Status") }),
      h("select", { id: "f-status", name: "status" }, ["submitted", "approved", "rejected", "all"].map((s) =>
        h("option", { value: s, selected: s === status, text: t(s === "all" ? "Semua" : STATUS[s]) })))),
    personField("f", q, team), ...dateFields("f", q));
  if (!r.ok) showErrors(filter, errorsOf(r.data));
  const all = h("input", { type: "checkbox", id: "pick-all", "aria-label": t("Pilih semua") });
  const tbody = h("tbody", {}, acts.map((a) => h("tr", { "data-id": a.id },
    h("td", {}, h("input", { type: "checkbox", class: "pick", value: a.id, "aria-label": a.id })),
    h("td", { text: day(a.date) }), h("td", {}, a.name || "", h("div", { class: "hint", text: a.nip })),
    h("td", { text: inds[a.indicator] || a.indicator }), h("td", { class: "num", text: exact(a.quantity) }),
    h("td", { text: a.description || "" }), h("td", { text: t(STATUS[a.status || "submitted"]) }))));
  if (!acts.length) tbody.append(h("tr", {}, h("td", { colspan: "7", class: "muted", text: t("Tidak ada data") })));
  all.addEventListener("change", () => { for (const c of tbody.querySelectorAll("input.pick")) c.checked = all.checked; count(); });
  const picked = h("span", { id: "picked", text: "0" });
  const count = () => { picked.textContent = num(tbody.querySelectorAll("input.pick:checked").length); };
  tbody.addEventListener("change", count);
  const form = h("form", { id: "review-form", class: "card", novalidate: true }, summary(),
    h("p", {}, `${t("Dipilih")}: `, picked),
    h("div", { "data-field": "reason" }, h("label", { for: "reason", text: t("Alasan") }), h("input", { id: "reason", maxlength: "2000" })),
    h("div", { class: "actions" },
      h("button", { class: "primary", type: "button", id: "approve", text: t("Setujui yang dipilih") }),
      h("button", { class: "danger", type: "button", id: "reject", text: t("Tolak yang dipilih") })));
  const msg = h("p", { id: "r-msg", class: "notice", hidden: true, "aria-live": "polite" });
  const act = async (action) => {
    const ids = [...tbody.querySelectorAll("input.pick:checked")].map((c) => c.value);
    const body = { action, ids };
    const reason = form.querySelector("#reason").value.trim();
    if (reason) body.reason = reason;
    const res = await api("/api/approvals", body);
    if (!res.ok) return showErrors(form, errorsOf(res.data));
    await route();
    const m = document.getElementById("r-msg");
    m.textContent = `${t(STATUS[res.data.status])}: ${num(res.data.done)}` +
      (res.data.refused.length ? ` · ${res.data.refused.map((x) => x.error).join("; ")}` : "");
    m.hidden = false;
  };
  // Enter in Alasan would submit the form: the page drawn again, the
  // ticked rows lost (Dipilih: 0); the buttons decide
  form.addEventListener("submit", (ev) => ev.preventDefault());
  form.querySelector("#approve").addEventListener("click", () => act("approve"));
  form.querySelector("#reject").addEventListener("click", () => act("reject"));
  main.append(h("h1", { text: t("Persetujuan") }), msg, filter, form,
    h("div", { class: "table-wrap" }, h("table", { id: "inbox" }, h("thead", {}, h("tr", {},
      h("th", {}, all), h("th", { text: t("Tanggal") }), h("th", { text: t("Nama") }), h("th", { text: t("Indikator") }),
      h("th", { class: "num", text: t("Jumlah") }), h("th", { text: t("Uraian") }), h("th", { text: t("Status") }))), tbody)),
    ...(pager ? [pager] : [])); // append(null) would show the word "null"
}

// ---- Pengaduan: complaints and the SP4N-LAPOR! 5-day clock ---------------

const CHANNELS = ["langsung", "telepon", "whatsapp", "sp4n-lapor", "media-sosial", "surat", "lainnya"];

async function pengaduan() {
  const q = new URLSearchParams(location.search);
  const state = q.get("state") || "open";
  const r = await api(`/api/complaints?${new URLSearchParams({ state, from: q.get("from") || "", to: q.get("to") || "" })}`);
  const d = r.data;
  const add = h("form", { id: "complaint-form", class: "card", novalidate: true },
    h("h2", { text: t("Catat pengaduan") }), summary(),
    h("div", { class: "row" },
      h("div", { "data-field": "received" }, h("label", { for: "c-received", text: t("Diterima") }),
        h("input", { id: "c-received", type: "date", value: session.today })),
      h("div", { "data-field": "channel" }, h("label", { for: "c-channel", text: t("Saluran") }),
        h("select", { id: "c-channel" }, h("option", { value: "", text: "—" }), CHANNELS.map((c) => h("option", { value: c, text: c })))),
      h("div", { "data-field": "category" }, h("label", { for: "c-category", text: t("Kategori") }), h("input", { id: "c-category", maxlength: "200" }))),
    h("div", { "data-field": "summary" }, h("label", { for: "c-summary", text: t("Ringkasan") }), h("input", { id: "c-summary", maxlength: "2000" })),
    h("div", { class: "actions" }, h("button", { class: "primary", type: "submit", id: "c-add", text: t("Simpan") })));
  add.addEventListener("submit", async (ev) => {
    ev.preventDefault();
    const body = {};
    for (const k of ["received", "channel", "category", "summary"]) {
      const v = add.querySelector("#c-" + k).value.trim();
      if (v) body[k] = v;
    }
    const res = await api("/api/complaints", body);
    if (!res.ok) return showErrors(add, errorsOf(res.data));
    route();
  });
  const resolve = h("form", { id: "resolve-form", class: "card", novalidate: true, hidden: true },
    h("h2", { text: t("Selesaikan pengaduan") }), summary(), h("p", { class: "hint", id: "resolve-what" }),
    h("div", { class: "row" },
      h("div", { "data-field": "resolved" }, h("label", { for: "r-resolved", text: t("Selesai") }),
        h("input", { id: "r-resolved", type: "date", value: session.today })),
      h("div", { "data-field": "resolution" }, h("label", { for: "r-resolution", text: t("Penyelesaian") }), h("input", { id: "r-resolution", maxlength: "2000" }))),
    h("div", { class: "actions" }, h("button", { class: "primary", type: "submit", id: "r-save", text: t("Simpan") })));
  resolve.addEventListener("submit", async (ev) => {
    ev.preventDefault();
    const body = { id: resolve.dataset.id };
    for (const k of ["resolved", "resolution"]) {
      const v = resolve.querySelector("#r-" + k).value.trim();
      if (v) body[k] = v;
    }
    const res = await api("/api/complaints/resolve", body);
    if (!res.ok) return showErrors(resolve, errorsOf(res.data));
    route();
  });
  const filter = listFilter("c-filter", "/pengaduan", q, h("div", {}, h("label", { for: "c-state", text: t("Status") }),
    h("select", { id: "c-state", name: "state" }, [["open", "Terbuka"], ["resolved", "Selesai"], ["all", "Semua"]].map(([v, w]) =>
      h("option", { value: v, selected: v === state, text: t(w) })))), ...dateFields("cf", q));
  if (!r.ok) showErrors(filter, errorsOf(d));
  const list = d.complaints || [];
  const tbody = h("tbody", {}, list.length ? list.map((c) => h("tr", { "data-id": c.id, class: c.late && !c.resolved ? "late" : null },
    h("td", { text: day(c.received) }), h("td", { text: c.channel || "" }), h("td", { text: c.category || "" }), h("td", { text: c.summary || "" }),
    h("td", { class: "num" }, `${num(c.days)} ${t("hari")}`, c.late ? h("div", { class: "badge bad", text: t(c.resolved ? "Terlambat" : "Lewat 5 hari") })
      : c.resolved ? h("div", { class: "badge online", text: t("Tepat waktu") }) : null),
    h("td", {}, c.resolved ? `${day(c.resolved)}: ${c.resolution || ""}` : h("button", { type: "button", class: "resolve", text: t("Selesaikan"),
      onclick: () => {
        resolve.hidden = false;
        resolve.dataset.id = c.id;
        resolve.querySelector("#resolve-what").textContent = `${day(c.received)} · ${c.summary || c.category || c.id}`;
        resolve.querySelector("#r-resolution").focus();
      } }))))
    : h("tr", {}, h("td", { colspan: "6", class: "muted", text: t("Tidak ada data") })));
  main.append(h("h1", { text: t("Pengaduan") }),
    h("div", { class: "grid" },
      h("div", { class: "card", id: "card-open" }, h("h2", { text: t("Terbuka") }), h("p", { class: "figure", text: num(d.open) })),
      h("div", { class: "card", id: "card-overdue" }, h("h2", { text: t("Lewat 5 hari") }), h("p", { class: "figure", text: num(d.overdue) }))),
    add, resolve, filter,
    h("div", { class: "table-wrap" }, h("table", { id: "complaints" }, h("thead", {}, h("tr", {},
      h("th", { text: t("Diterima") }), h("th", { text: t("Saluran") }), h("th", { text: t("Kategori") }), h("th", { text: t("Ringkasan") }),
      h("th", { class: "num", text: t("Lama") }), h("th", { text: t("Penyelesaian") }))), tbody)));
}

// ---- Laporan: the scores the server sent ---------------------------------

let chartLib = null;
// Chart.js (Debian's libjs-chart.js, compiled into kinerja), loaded on the
// one page that draws charts.
function loadChart() {
  chartLib ||= new Promise((ok, bad) => {
    const sc = document.createElement("script");
    sc.src = "/static/chart.min.js";
    sc.onload = () => ok(window.Chart);
    sc.onerror = bad;
    document.head.append(sc);
  });
  return chartLib;
}

// The predikat of PermenPANRB 6/2022, best first, each with its colour in
// the chart of the employees (docs/scoring.md "Predikat"); the legend's
// swatches are style.css's .swatch.p0-.p4 (no inline style: the CSP).
const PREDIKAT = [["Sangat Baik", "#1b7837"], ["Baik", "#0b5394"], ["Butuh Perbaikan", "#e69f00"],
  ["Kurang", "#d55e00"], ["Sangat Kurang", "#b2182b"]];

// Laporan: one request (/api/report: the scores, the periods and months
// held and, for the operator, the kiosk's QR code), the tables drawn first
// (the page's figures: kj-page-drawn), the charts after them, without
// animation, once Chart.js is loaded.
async function laporan() {
  const q = new URLSearchParams(location.search);
  const chart = loadChart(); // fetched while the report is asked for and drawn
  chart.catch(() => null);
  const r = await api("/api/report" + (q.get("period") ? `?period=${encodeURIComponent(q.get("period"))}` : ""));
  main.append(h("h1", { text: t("Laporan") }));
  if (!r.ok) {
    main.append(h("p", { class: "notice", id: "no-report",
      text: r.status === 404 ? t("Belum ada nilai: nilai datang bersama sinkronisasi berikutnya.") : r.data.error || t("Tidak ada data") }));
    return;
  }
  const d = r.data;
  const o = d.office;
  // the periods of the year this PC holds (the year, its quarters, its months)
  const picker = h("select", { id: "r-period", "aria-label": t("Periode") },
    (d.periods || [d.period]).map((p) => h("option", { value: p, selected: p === d.period, text: p })));
  picker.addEventListener("change", () => go(`/laporan?period=${encodeURIComponent(picker.value)}`));
  main.append(h("div", { class: "row" }, h("div", {}, h("label", { for: "r-period", text: t("Periode") }), picker)),
    h("p", { class: "muted", id: "report-period" }, `${t("Periode")} ${d.period} · ${t("per")} ${day(d.as_of)}`),
    h("div", { class: "actions" }, h("button", { type: "button", id: "print", onclick: () => printAs("scorecard"), text: t("Cetak") }),
      o ? h("button", { type: "button", id: "print-ikm", onclick: () => printAs("ikm"), text: t("Cetak lembar IKM") }) : null,
      o ? h("button", { type: "button", id: "print-qr", onclick: () => printAs("qr"), text: t("Cetak kode QR") }) : null));
  const charts = []; // [canvas, Chart.js config] drawn once the tables are in
  const canvasOf = (id, label, height) => h("canvas", { id, role: "img", "aria-label": label, width: "640", height: String(height || 300) });
  const bars = (c, labels, data, max, colors) => ({
    type: "bar",
    data: { labels, datasets: [{ label: c, data, backgroundColor: colors || "#0b5394" }] },
    options: { animation: false, responsive: false, events: [], scales: { y: { min: 0, max } }, plugins: { legend: { display: false }, tooltip: { enabled: false } } },
  });
  if (o) {
    main.append(ikmSheet(d));
    const ikm = o.ikm || {};
    main.append(h("div", { class: "grid" },
      h("div", { class: "card", id: "card-ikk" }, h("h2", { text: "IKK" }), h("p", { class: "figure", text: num(o.ikk, 2) }),
        h("p", {}, `${t("Peringkat")}: ${o.rank ?? t("Tidak ada data")}`)),
      h("div", { class: "card", id: "card-ikm" }, h("h2", { text: "IKM" }), h("p", { class: "figure", text: num(ikm.value, 2) }),
        h("p", {}, `${t("Mutu pelayanan")}: ${ikm.mutu || "-"} · n = ${num(ikm.n)}`))));
    const unsur = meta.unsur || [];
    const nrr = ikm.nrr || [];
    const canvas = canvasOf("chart-unsur", t("NRR per unsur"));
    main.append(h("h2", { text: t("NRR per unsur") }),
      h("div", { class: "chart-row" }, h("div", { class: "chart-box" }, canvas),
        h("table", { id: "table-unsur" }, h("thead", {}, h("tr", {}, h("th", { text: t("Unsur pelayanan") }), h("th", { class: "num", text: "NRR" }))),
          h("tbody", {}, unsur.map((u, i) => h("tr", {}, h("td", { text: `U${i + 1} ${u.name}` }), h("td", { class: "num", text: num(nrr[i], 2) })))))));
    charts.push([canvas, bars("NRR", unsur.map((u, i) => `U${i + 1}`), nrr, 4)]);
    const services = o.services || [];
    main.append(h("h2", { text: t("Layanan") }),
      h("div", { class: "table-wrap" }, h("table", { id: "table-services" },
        h("thead", {}, h("tr", {}, h("th", { text: t("Layanan") }), h("th", { class: "num", text: "n" }), h("th", { class: "num", text: "IKM" }), h("th", { text: t("Mutu pelayanan") }))),
        h("tbody", {}, services.length ? services.map((x) => h("tr", {}, h("td", { text: x.service }), h("td", { class: "num", text: num(x.n) }),
          h("td", { class: "num", text: num(x.ikm, 2) }), h("td", { text: x.mutu || "-" })))
          : h("tr", {}, h("td", { colspan: "4", class: "muted", text: t("Tidak ada data") }))))));
    // IKM per service, and per month: all 12 months of the year, a month
    // this PC holds no IKM for is a gap (null)
    const cServices = canvasOf("chart-services", t("IKM per layanan"));
    const year = String(d.period).slice(0, 4);
    const held = Object.fromEntries((d.months || []).map((m) => [m.period, m]));
    const months = Array.from({ length: 12 }, (_, i) => `${year}-${String(i + 1).padStart(2, "0")}`);
    const cMonths = canvasOf("chart-months", t("IKM per bulan"));
    const monthIkm = months.map((m) => held[m]?.ikm ?? null);
    cMonths.dataset.months = String(monthIkm.filter((v) => v !== null).length);
    cMonths.dataset.labels = String(months.length);
    main.append(h("h2", { text: t("IKM per layanan") }), h("div", { class: "chart-box" }, cServices),
      h("h2", { text: `${t("IKM per bulan")} ${year}` }), h("div", { class: "chart-box" }, cMonths));
    charts.push([cServices, bars("IKM", services.map((x) => x.service), services.map((x) => x.ikm ?? null), 100)]);
    charts.push([cMonths, bars("IKM", months.map((m) => day(`${m}-01`).split(" ")[1]), monthIkm, 100)]);
  }
  // the employees: capaian (0-100+, %) and predikat, in a table and a chart
  // whose bars take the colour of their predikat; without one, why
  // (docs/scoring.md: no target, capaian null; no atasan rating, perilaku
  // null; either null, predikat null)
  const emps = d.employees || [];
  const predikatCell = (e) => {
    if (e.predikat) return h("td", { text: t(e.predikat) });
    const noTarget = e.capaian === null || e.capaian === undefined;
    const noAtasan = e.perilaku === null || e.perilaku === undefined;
    const why = noTarget && noAtasan ? "Belum ada target dan penilaian atasan"
      : noAtasan ? "Belum ada penilaian atasan" : noTarget ? "Belum ada target" : "Tidak ada data";
    // for this period: a target or rating of one month counts in that month
    // only, so the year can have none while a month has both
    return h("td", { class: "muted", "data-why": why, text: `${t(why)} ${t("untuk periode ini")}` });
  };
  const colour = Object.fromEntries(PREDIKAT);
  main.append(h("h2", { id: "h-employees", text: t("Capaian dan predikat pegawai") }),
    h("div", { class: "table-wrap" }, h("table", { id: "table-employees" },
      h("thead", {}, h("tr", {}, h("th", { text: t("Nama") }), h("th", { text: "NIP" }), h("th", { class: "num", text: t("Capaian") }), h("th", { text: t("Predikat kinerja") }))),
      h("tbody", {}, emps.length ? emps.map((e) => h("tr", {}, h("td", { text: e.name || "" }), h("td", { text: e.nip }),
        h("td", { class: "num", text: num(e.capaian, 2) }), predikatCell(e)))
        : h("tr", {}, h("td", { colspan: "4", class: "muted", text: t("Tidak ada data") }))))));
  if (emps.length) {
    const cEmps = canvasOf("chart-employees", t("Capaian dan predikat pegawai"), Math.max(160, 28 * emps.length + 60));
    const top = Math.max(100, ...emps.map((e) => Number(e.capaian) || 0));
    const cfg = bars(t("Capaian"), emps.map((e) => e.name || e.nip), emps.map((e) => e.capaian ?? null), Math.ceil(top / 10) * 10,
      emps.map((e) => colour[e.predikat] || "#999999"));
    cfg.options.indexAxis = "y";
    cfg.options.scales = { x: { min: 0, max: cfg.options.scales.y.max } };
    const none = emps.filter((e) => !colour[e.predikat]).length;
    const legend = h("ul", { class: "legend", id: "legend-predikat" }, PREDIKAT.map(([p, c]) =>
      h("li", { "data-predikat": p, "data-count": String(emps.filter((e) => e.predikat === p).length) },
        h("span", { class: `swatch p${PREDIKAT.findIndex((x) => x[1] === c)}` }), `${t(p)}: ${num(emps.filter((e) => e.predikat === p).length)}`)),
      none ? h("li", { "data-predikat": "", "data-count": String(none) },
        h("span", { class: "swatch pn" }), `${t("Belum ada predikat")}: ${num(none)}`) : null);
    main.append(h("div", { class: "chart-box" }, cEmps), legend);
    charts.push([cEmps, cfg]);
  }
  if (o && d.kiosk) main.append(kioskCard(d.kiosk));
  // the figures are on the page (route() marks kj-page-drawn when this
  // returns); the charts follow as soon as Chart.js is there, one a frame
  drawCharts(chart, charts);
}

async function drawCharts(chart, charts) {
  let Chart;
  try {
    Chart = await chart;
  } catch (e) {
    for (const [c] of charts) c.replaceWith(h("p", { class: "muted", text: t("Tidak ada data") }));
    return;
  }
  for (const [c, cfg] of charts) {
    await new Promise((ok) => requestAnimationFrame(ok));
    if (!c.isConnected) return; // another page was drawn meanwhile
    new Chart(c, cfg);
    c.dataset.drawn = "1";
  }
  performance.mark("kj-charts-drawn");
}

// What a print of Laporan holds (style.css "@media print"): the scorecard
// (the page), the IKM publication sheet or the kiosk's QR code poster.
function printAs(what) {
  document.body.dataset.print = what;
  window.print();
}
window.addEventListener("afterprint", () => { delete document.body.dataset.print; });

// Mutu pelayanan and the words of PermenPANRB 14/2017 for each grade
const KINERJA_UNIT = { A: "Sangat Baik", B: "Baik", C: "Kurang Baik", D: "Tidak Baik" };

// The IKM publication sheet (PermenPANRB 14/2017): the office, the period,
// n, the NRR of each unsur with its weighted NRR (NRR x 1/9), the IKM
// (the sum x 25) with its mutu and the unit's performance in words, and the
// IKM of each service; every figure as the report computed it.
function ikmSheet(d) {
  const ikm = d.office.ikm || {};
  const unsur = meta.unsur || [];
  const nrr = ikm.nrr || [];
  const ni = nrr.reduce((a, v) => a + (Number(v) || 0) / 9, 0);
  return h("section", { class: "sheet print-ikm", id: "ikm-sheet", "aria-hidden": "true" },
    h("h1", { text: t("Hasil Survei Kepuasan Masyarakat") }),
    h("p", { class: "sheet-office", text: session.office_name }),
    h("table", { class: "sheet-meta" }, h("tbody", {},
      h("tr", {}, h("th", { text: t("Periode") }), h("td", { id: "sheet-period", text: d.period })),
      h("tr", {}, h("th", { text: t("Jumlah responden") }), h("td", { id: "sheet-n", text: num(ikm.n) })),
      h("tr", {}, h("th", { text: t("Data per") }), h("td", { text: day(d.as_of) })))),
    h("table", { class: "sheet-unsur" },
      h("thead", {}, h("tr", {}, h("th", { text: "No" }), h("th", { text: t("Unsur pelayanan") }),
        h("th", { class: "num", text: "NRR" }), h("th", { class: "num", text: t("NRR tertimbang") }))),
      h("tbody", {}, unsur.map((u, i) => h("tr", {}, h("td", { text: `U${i + 1}` }), h("td", { text: u.name }),
        h("td", { class: "num", text: num(nrr[i], 2) }), h("td", { class: "num", text: num(Number(nrr[i]) / 9, 3) })))),
      h("tfoot", {}, h("tr", {}, h("th", { colspan: "3", text: t("Nilai interval konversi") }), h("td", { class: "num", text: num(ni, 3) })))),
    h("div", { class: "sheet-result" },
      h("p", {}, `${t("Nilai IKM")}: `, h("strong", { id: "sheet-ikm", text: num(ikm.value, 2) })),
      h("p", {}, `${t("Mutu pelayanan")}: `, h("strong", { id: "sheet-mutu", text: ikm.mutu || "-" })),
      h("p", {}, `${t("Kinerja unit pelayanan")}: `, h("strong", { text: t(KINERJA_UNIT[ikm.mutu] || "-") }))),
    (d.office.services || []).length ? h("table", { class: "sheet-services" },
      h("thead", {}, h("tr", {}, h("th", { text: t("Layanan") }), h("th", { class: "num", text: "n" }), h("th", { class: "num", text: "IKM" }), h("th", { text: t("Mutu pelayanan") }))),
      h("tbody", {}, d.office.services.map((x) => h("tr", {}, h("td", { text: x.service }), h("td", { class: "num", text: num(x.n) }),
        h("td", { class: "num", text: num(x.ikm, 2) }), h("td", { text: x.mutu || "-" }))))) : null,
    h("p", { class: "sheet-foot", text: "PermenPANRB No. 14 Tahun 2017" }));
}

// The kiosk's address (as this PC serves it) and its QR code ({url, qr}:
// /api/report's `kiosk`), printable as a poster for the counter.
function kioskCard(k) {
  if (k.error) return h("p", { class: "muted", id: "kiosk-qr-missing", text: k.error });
  return h("section", { class: "card print-qr", id: "kiosk-qr" },
    h("h2", { text: t("Kode QR kios survei") }),
    h("p", { class: "qr-office", text: session.office_name }),
    h("img", { id: "kiosk-qr-img", src: k.qr, alt: k.url, width: "220", height: "220" }),
    h("p", { class: "qr-say", text: t("Pindai untuk mengisi survei kepuasan") }),
    h("p", { class: "qr-url", id: "kiosk-url", text: k.url }));
}

// ---- Sinkronisasi ---------------------------------------------------------

async function sinkronisasi() {
  const q = new URLSearchParams(location.search);
  const [s0, r] = await Promise.all([refreshStatus(), api("/api/outbox" + listQuery(q, "type"))]);
  const s = s0 || {};
  const canDiscard = session.role === "operator";
  const filter = listFilter("o-filter", "/sinkronisasi", q,
    h("div", {}, h("label", { for: "of-type", text: t("Jenis") }),
      h("select", { id: "of-type", name: "type" }, h("option", { value: "", text: t("Semua") }),
        Object.entries(TYPE_WORD).map(([k, w]) => h("option", { value: k, selected: k === q.get("type"), text: t(w) })))));
  if (!r.ok) showErrors(filter, errorsOf(r.data));
  const discard = async (id) => {
    const d = await api("/api/outbox/discard", { id });
    if (d.ok) await route();
  };
  // (each cell names its column: on a phone a row is drawn as a card, style.css table.stack)
  const rows = (list, rejected) => list.length ? list.map((x) => h("tr", { "data-id": x.id },
    h("td", { "data-label": t("Jenis"), text: TYPE_WORD[x.type] ? t(TYPE_WORD[x.type]) : x.type }),
    h("td", { "data-label": t("Tanggal"), text: day(x.date) }),
    h("td", { class: "who", "data-label": t("Nama") }, x.nip ? [x.name || "", h("div", { class: "hint", text: x.nip })] : ""),
    h("td", { class: "id", "data-label": "ID", text: x.id }),
    h("td", { class: "reason", "data-label": t("Alasan"), text: x.reason || "" }),
    rejected && canDiscard ? h("td", {}, h("button", { type: "button", class: "danger discard", onclick: () => discard(x.id), text: t("Buang") })) : null))
    : [h("tr", {}, h("td", { colspan: "5", class: "muted", text: t("Tidak ada data") }))];
  const head = (rejected) => h("thead", {}, h("tr", {}, h("th", { text: t("Jenis") }), h("th", { text: t("Tanggal") }), h("th", { text: t("Nama") }),
    h("th", { text: "ID" }), h("th", { text: t("Alasan") }), rejected && canDiscard ? h("th", {}, "") : null));
  main.append(h("h1", { text: t("Sinkronisasi") }),
    h("div", { class: "card" }, h("p", {}, h("strong", { text: t(s.online ? "Daring" : "Luring") }),
      ` · ${t("Terakhir tersinkron")}: ${s.last_sync ? `${day(s.last_sync_day)} ${s.last_sync}` : t("belum pernah")}`),
      s.last_error ? h("p", { class: "hint", text: s.last_error }) : null),
    filter,
    h("h2", { text: `${t("Ditolak server")} (${num((r.data.rejected || []).length)})` }),
    h("div", { class: "table-wrap" }, h("table", { id: "rejected", class: "stack" }, head(true), h("tbody", {}, rows(r.data.rejected || [], true)))),
    h("h2", { text: `${t("Perubahan menunggu")} (${num((r.data.pending || []).length)})` }),
    h("div", { class: "table-wrap" }, h("table", { id: "pending", class: "stack" }, head(), h("tbody", {}, rows(r.data.pending || [])))));
}

wireLangSwitch();
route();
// the header follows the sync thread: every 5 s while changes wait or the
// server is away, else every 15 s
let statusTimer = null;
async function pollStatus() {
  const s = await refreshStatus().catch(() => null);
  const busy = !s || s.pending > 0 || !s.online || s.syncing;
  statusTimer = setTimeout(pollStatus, busy ? 5000 : 15000);
}
statusTimer = setTimeout(pollStatus, 5000);
