// fmt.js - numbers, dates and DOM helpers shared by the dashboard and
// /publik (ui.md: Indonesian style on screen, "82,35", "1.234",
// "30 Nov 2026", times with the zone).
export const NODATA = "Tidak ada data";

export function num(v, digits = 2) {
  if (v === null || v === undefined) return NODATA;
  return Number(v).toLocaleString("id-ID", {
    minimumFractionDigits: digits,
    maximumFractionDigits: digits,
  });
}

export function int(v) {
  if (v === null || v === undefined) return NODATA;
  return Number(v).toLocaleString("id-ID");
}

export function change(v) {
  if (v === null || v === undefined) return "";
  const s = num(Math.abs(v));
  return v > 0 ? "▲ " + s : v < 0 ? "▼ " + s : "= " + s;
}

export function dateTime(ms) {
  if (!ms) return "belum pernah";
  const d = new Date(ms);
  const day = d.toLocaleDateString("id-ID", {
    day: "numeric", month: "short", year: "numeric", timeZone: "Asia/Jakarta",
  });
  const t = d.toLocaleTimeString("id-ID", {
    hour: "2-digit", minute: "2-digit", timeZone: "Asia/Jakarta",
  });
  return `${day} ${t} WIB`;
}

export function date(iso) {
  if (!iso) return "";
  const [y, m, d] = iso.split("-").map(Number);
  return new Date(Date.UTC(y, m - 1, d)).toLocaleDateString("id-ID", {
    day: "numeric", month: "short", year: "numeric", timeZone: "UTC",
  });
}

const MONTHS = ["Januari", "Februari", "Maret", "April", "Mei", "Juni", "Juli",
  "Agustus", "September", "Oktober", "November", "Desember"];

export function periodName(p) {
  if (!p) return "";
  const [y, part] = p.split("-");
  if (!part) return "Tahun " + y;
  if (part[0] === "Q") return "Triwulan " + part.slice(1) + " " + y;
  return MONTHS[Number(part) - 1] + " " + y;
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

// A period picker: year select + part select (whole year, quarters,
// months); onchange(period).
export function periodPicker(period, onchange) {
  const now = new Date().getFullYear();
  const [y0, p0] = (period || String(now)).split("-");
  const year = h("select", { id: "tahun", "aria-label": "Tahun" });
  for (let y = now; y >= now - 5; y--) year.append(h("option", { value: y }, y));
  year.value = y0;
  const part = h("select", { id: "bagian", "aria-label": "Bagian tahun" },
    h("option", { value: "" }, "Setahun"),
    [1, 2, 3, 4].map((q) => h("option", { value: "Q" + q }, "Triwulan " + q)),
    MONTHS.map((m, i) => h("option", { value: String(i + 1).padStart(2, "0") }, m)));
  part.value = p0 || "";
  const fire = () => onchange(year.value + (part.value ? "-" + part.value : ""));
  year.addEventListener("change", fire);
  part.addEventListener("change", fire);
  return h("span", { class: "picker" }, h("label", {}, "Periode "), year, part);
}

export function table(caption, head, rows, attrs) {
  // in a box that scrolls sideways on a phone, not the whole page
  return h("div", { class: "table-wrap" }, h("table", attrs || {},
    caption ? h("caption", {}, caption) : null,
    h("thead", {}, h("tr", {}, head.map((c) => (c instanceof Node ? c : h("th", { scope: "col" }, c))))),
    h("tbody", {}, rows)));
}
