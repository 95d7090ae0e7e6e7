// kiosk.js - the citizens' survey form (/kiosk): the nine unsur of
// PermenPANRB 14/2017 answered with the regulation's words as large
// buttons, no typing needed, no account; one submission = one survey
// record, sent to the office app's /api/kiosk/survey.  The unsur and their
// words come from GET /api/kiosk (proto/unsur.c: one table for every form).
import { t, wireLangSwitch, translateStatic } from "./i18n.js";

const form = document.getElementById("survei");
const answers = {};
let UNSUR = [];
let resetTimer = null;

function el(tag, attrs, text) {
  const e = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs || {})) e.setAttribute(k, v);
  if (text !== undefined) e.textContent = text;
  return e;
}

function choose(group, button) {
  for (const b of group.querySelectorAll("button")) b.setAttribute("aria-checked", "false");
  button.setAttribute("aria-checked", "true");
  answers[group.dataset.field] = button.dataset.value;
  group.closest(".q, .q-small")?.classList.remove("invalid");
}

function buildUnsur() {
  const box = document.getElementById("unsur");
  UNSUR.forEach((u, i) => {
    const sec = el("section", { class: "q", id: `q-u${i + 1}` });
    sec.append(el("h2", {}, `${i + 1}. ${u.name}`));
    const group = el("div", { class: "choices", role: "radiogroup", "aria-label": u.name, "data-field": `u${i + 1}` });
    u.answers.forEach((words, k) => {
      const b = el("button", { type: "button", "data-value": String(k + 1), "aria-checked": "false", role: "radio" }, words);
      group.append(b);
    });
    sec.append(group);
    box.append(sec);
  });
}

function wire() {
  for (const group of document.querySelectorAll(".choices")) {
    group.addEventListener("click", (ev) => {
      const b = ev.target.closest("button");
      if (b && group.contains(b)) choose(group, b);
    });
  }
}

async function loadServices() {
  const group = document.getElementById("layanan");
  group.dataset.field = "service";
  try {
    const r = await fetch("/api/kiosk", { headers: { Accept: "application/json" } });
    const d = await r.json();
    document.getElementById("kantor").textContent = d.office_name || d.office || "";
    UNSUR = d.unsur || [];
    buildUnsur();
    for (const s of d.services || []) {
      group.append(el("button", { type: "button", "data-value": s, role: "radio", "aria-checked": "false" }, s));
    }
    if (!(d.services || []).length) {
      group.append(el("p", { class: "muted" }, t("Belum ada daftar layanan: minta petugas mengisinya.")));
    }
  } catch (e) {
    group.append(el("p", { class: "muted" }, t("Daftar layanan tidak dapat dimuat.")));
  }
}

function showErrors(errors) {
  const box = document.getElementById("ringkasan-galat");
  const ul = box.querySelector("ul");
  ul.replaceChildren();
  for (const e of errors) {
    const li = el("li");
    const a = el("a", { href: `#q-${e.field === "service" ? "layanan" : e.field}` }, e.message);
    li.append(a);
    ul.append(li);
    document.getElementById(`q-${e.field === "service" ? "layanan" : e.field}`)?.classList.add("invalid");
  }
  box.hidden = errors.length === 0;
  if (errors.length) box.scrollIntoView({ behavior: "smooth" });
}

function reset() {
  clearTimeout(resetTimer);
  for (const k of Object.keys(answers)) delete answers[k];
  for (const b of document.querySelectorAll(".choices button")) b.setAttribute("aria-checked", "false");
  form.reset();
  showErrors([]);
  document.getElementById("terima-kasih").hidden = true;
  form.hidden = false;
  window.scrollTo(0, 0);
}

function thanks() {
  form.hidden = true;
  const t = document.getElementById("terima-kasih");
  t.hidden = false;
  let n = 10;
  const c = document.getElementById("hitung");
  c.textContent = String(n);
  const tick = () => {
    n -= 1;
    c.textContent = String(n);
    if (n <= 0) reset();
    else resetTimer = setTimeout(tick, 1000);
  };
  resetTimer = setTimeout(tick, 1000);
}

form.addEventListener("submit", async (ev) => {
  ev.preventDefault();
  const missing = [];
  if (!answers.service) missing.push({ field: "service", message: t("Pilih layanan yang Anda terima.") });
  UNSUR.forEach((u, i) => {
    if (!answers[`u${i + 1}`]) missing.push({ field: `u${i + 1}`, message: `${t("Jawab pertanyaan")} ${i + 1}: ${u.name}.` });
  });
  if (missing.length) return showErrors(missing);
  const body = { ...answers };
  const age = document.getElementById("umur").value.trim();
  if (age) body.age = age;
  const occ = document.getElementById("pekerjaan").value.trim();
  if (occ) body.occupation = occ;
  const comment = document.getElementById("saran").value.trim();
  if (comment) body.comment = comment;
  const btn = document.getElementById("kirim");
  btn.disabled = true;
  try {
    const r = await fetch("/api/kiosk/survey", {
      method: "POST",
      headers: { "Content-Type": "application/json", Accept: "application/json" },
      body: JSON.stringify(body),
    });
    const d = await r.json().catch(() => ({}));
    if (r.ok) thanks();
    else showErrors(d.errors || [{ field: "service", message: d.error || t("Jawaban belum dapat disimpan, coba lagi.") }]);
  } catch (e) {
    showErrors([{ field: "service", message: t("Jawaban belum dapat disimpan, coba lagi.") }]);
  } finally {
    btn.disabled = false;
  }
});

document.getElementById("lagi").addEventListener("click", reset);
wireLangSwitch();
translateStatic();
document.title = t("Survei Kepuasan Masyarakat");
loadServices().then(wire).then(() => performance.mark("kj-page-drawn"));
