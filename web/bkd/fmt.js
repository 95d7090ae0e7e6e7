// fmt.js - numbers, dates and DOM helpers shared by the dashboard and
// /publik (ui.md: Indonesian style on screen, "82,35", "1.234",
// "30 Nov 2026", times with the zone; English style when English is
// chosen, lang.js).
import { t, locale } from "./lang.js";

export { t };

export function nodata() {
  return t("Tidak ada data");
}

// An employee's predikat, or why there is none (docs/scoring.md: no
// target, capaian null; no atasan rating, perilaku null; either null,
// predikat null), for the period shown: a month's target or rating counts
// in that month only.
export function predikat(e) {
  if (e.predikat) return t(e.predikat);
  const noTarget = e.capaian === null || e.capaian === undefined;
  const noAtasan = e.perilaku === null || e.perilaku === undefined;
  const why = noTarget && noAtasan ? "Belum ada target dan penilaian atasan"
    : noAtasan ? "Belum ada penilaian atasan" : noTarget ? "Belum ada target" : "Tidak ada data";
  return `${t(why)} ${t("untuk periode ini")}`;
}

// Formatters made once per locale and options: toLocaleString() makes a new
// Intl formatter at every call (Tren formats some 6,000 numbers).
const formatters = new Map();
function formatter(kind, opts) {
  const key = kind + " " + locale() + " " + JSON.stringify(opts);
  let f = formatters.get(key);
  if (!f) {
    f = kind === "n" ? new Intl.NumberFormat(locale(), opts) : new Intl.DateTimeFormat(locale(), opts);
    formatters.set(key, f);
  }
  return f;
}

export function num(v, digits = 2) {
  if (v === null || v === undefined) return nodata();
  return formatter("n", { minimumFractionDigits: digits, maximumFractionDigits: digits }).format(Number(v));
}

export function int(v) {
  if (v === null || v === undefined) return nodata();
  return formatter("n", {}).format(Number(v));
}

export function change(v) {
  if (v === null || v === undefined) return "";
  const s = num(Math.abs(v));
  return v > 0 ? "▲ " + s : v < 0 ? "▼ " + s : "= " + s;
}

// Indonesia's zones (fixed offsets, no daylight saving time)
const ZONES = { "Asia/Jakarta": "WIB", "Asia/Pontianak": "WIB", "Asia/Makassar": "WITA", "Asia/Jayapura": "WIT" };

// ms in an office's zone (IANA name; WIB when unknown): "30 Nov 2026 14.05 WITA"
export function zoned(ms, tz) {
  if (!ms) return t("belum pernah");
  const zone = ZONES[tz] ? tz : "Asia/Jakarta";
  const d = new Date(ms);
  const day = formatter("d", { day: "numeric", month: "short", year: "numeric", timeZone: zone }).format(d);
  const time = formatter("d", { hour: "2-digit", minute: "2-digit", timeZone: zone }).format(d);
  return `${day} ${time} ${ZONES[zone]}`;
}

export function dateTime(ms) {
  return zoned(ms, "Asia/Jakarta");
}

export function date(iso) {
  if (!iso) return "";
  const [y, m, d] = iso.split("-").map(Number);
  return formatter("d", { day: "numeric", month: "short", year: "numeric", timeZone: "UTC" }).format(new Date(Date.UTC(y, m - 1, d)));
}

export const MONTHS = ["Januari", "Februari", "Maret", "April", "Mei", "Juni", "Juli",
  "Agustus", "September", "Oktober", "November", "Desember"];

export function periodName(p) {
  if (!p) return "";
  const [y, part] = p.split("-");
  if (!part) return t("Tahun {y}", { y });
  if (part[0] === "Q") return t("Triwulan {q} {y}", { q: part.slice(1), y });
  return t(MONTHS[Number(part) - 1]) + " " + y;
}

// h("td", {class: "x"}, "text", node...): an element; strings become text
// nodes (never HTML).
export function h(tag, attrs, ...kids) {
  const e = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs || {})) {
    if (v === null || v === undefined || v === false) continue;
    if (k.startsWith("on")) e.addEventListener(k.slice(2), v);
    else e.setAttribute(k, v === true ? "" : v);
  }
  for (const k of kids.flat()) {
    if (k === null || k === undefined || k === false) continue;
    e.append(k instanceof Node ? k : String(k));
  }
  return e;
}

// A year select: this year and the five before.
export function yearSelect(year) {
  const now = new Date().getFullYear();
  const sel = h("select", { id: "tahun", "aria-label": t("Tahun") });
  for (let y = now; y >= now - 5; y--) sel.append(h("option", { value: y }, y));
  if (![...sel.options].some((o) => o.value === String(year))) sel.append(h("option", { value: year }, year));
  sel.value = String(year);
  return sel;
}

// A period picker: year select + part select (whole year, quarters,
// months); onchange(period).
export function periodPicker(period, onchange) {
  const [y0, p0] = (period || String(new Date().getFullYear())).split("-");
  const year = yearSelect(y0);
  const part = h("select", { id: "bagian", "aria-label": t("Bagian tahun") },
    h("option", { value: "" }, t("Setahun")),
    [1, 2, 3, 4].map((q) => h("option", { value: "Q" + q }, t("Triwulan {q}", { q }))),
    MONTHS.map((m, i) => h("option", { value: String(i + 1).padStart(2, "0") }, t(m))));
  part.value = p0 || "";
  const fire = () => onchange(year.value + (part.value ? "-" + part.value : ""));
  year.addEventListener("change", fire);
  part.addEventListener("change", fire);
  return h("span", { class: "picker" }, h("label", {}, t("Periode ")), year, part);
}

export function table(caption, head, rows, attrs) {
  // in a box that scrolls sideways on a phone, not the whole page
  return h("div", { class: "table-wrap" }, h("table", attrs || {},
    caption ? h("caption", {}, caption) : null,
    h("thead", {}, h("tr", {}, head.map((c) => (c instanceof Node ? c : h("th", { scope: "col" }, c))))),
    h("tbody", {}, rows)));
}
