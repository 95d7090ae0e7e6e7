// page_impor.js - Impor & Ekspor (the operator): a CSV file of surveys,
// activities, complaints or targets imported through the import of
// `kinerja import` (POST /api/import; good rows stored, every problem
// shown against its line of the file), and the office's records of a type
// downloaded as CSV or XLSX (GET /api/export, the writer of `kinerjad
// export`).  kit: app.js's helpers (h, api, ...).
import { t, num } from "./i18n.js";

const IMPORT_TYPES = ["survey", "activity", "complaint", "target"];
const EXPORT_TYPES = ["survey", "activity", "complaint", "rating", "target"];
export const TYPE_WORD = { survey: "Survei", activity: "Kegiatan", complaint: "Pengaduan", rating: "Penilaian", target: "Target" };
// the columns a file of each type needs (its first line; the others are
// optional: the list of `kinerja import`'s unknown-column error)
const COLUMNS = { survey: "date,service,u1,...,u9", activity: "nip,date,indicator,quantity",
  complaint: "received,channel,category,summary", target: "nip,indicator,period,target" };
const SHOWN_LINES = 2000; // lines of a file drawn in the table (all problems are listed)

export async function impor(kit) {
  const { h, api, showErrors, summary, errorsOf, main } = kit;
  const q = new URLSearchParams(location.search);
  // the names errors are shown with (added, never replacing another page's)
  for (const [k, v] of Object.entries({ type: "Jenis", file: "Berkas CSV" })) kit.labels[k] ??= v;
  const itype = IMPORT_TYPES.includes(q.get("type")) ? q.get("type") : "survey";
  const form = h("form", { id: "import-form", class: "card", novalidate: true },
    h("h2", { text: t("Impor CSV") }), summary(),
    h("div", { class: "row" },
      h("div", { "data-field": "type" }, h("label", { for: "i-type", text: t("Jenis") }),
        h("select", { id: "i-type" }, IMPORT_TYPES.map((x) => h("option", { value: x, selected: x === itype, text: t(TYPE_WORD[x]) })))),
      // the file picker in the page's words (the browser's own button
      // speaks the browser's language): the input, hidden, behind a label
      h("div", { "data-field": "file" }, h("label", { for: "i-file", text: t("Berkas CSV") }),
        h("div", { class: "file-pick" },
          h("input", { id: "i-file", class: "file-input", type: "file", accept: ".csv,text/csv" }),
          h("label", { for: "i-file", class: "button", id: "i-file-pick", text: t("Pilih berkas") }),
          h("span", { id: "i-file-name", class: "hint", text: t("Belum ada berkas dipilih") })))),
    h("p", { class: "hint", id: "i-columns" }),
    h("label", { class: "check" }, h("input", { id: "i-again", type: "checkbox" }), ` ${t("Impor lagi walau baris ini pernah diimpor")}`),
    h("div", { class: "actions" }, h("button", { class: "primary", type: "submit", id: "i-go", text: t("Impor") })));
  // the hint names the chosen type's columns
  const columns = () => {
    form.querySelector("#i-columns").textContent = `${t("Baris pertama: nama kolom, mis.")} ` +
      `${COLUMNS[form.querySelector("#i-type").value]}. ${t("Pemisah ; dan tanggal DD/MM/YYYY dari spreadsheet juga dibaca.")}`;
  };
  form.querySelector("#i-type").addEventListener("change", columns);
  columns();
  form.querySelector("#i-file").addEventListener("change", (ev) => {
    const f = ev.target.files[0];
    form.querySelector("#i-file-name").textContent = f ? f.name : t("Belum ada berkas dipilih");
  });
  const result = h("div", { id: "import-result" });
  form.addEventListener("submit", async (ev) => {
    ev.preventDefault();
    const file = form.querySelector("#i-file").files[0];
    if (!file) return showErrors(form, [{ field: "file", message: t("Pilih berkas CSV") }]);
    const text = await file.text();
    const type = form.querySelector("#i-type").value;
    const btn = form.querySelector("#i-go");
    btn.disabled = true;
    const r = await api("/api/import", { type, name: file.name, csv: text, again: form.querySelector("#i-again").checked });
    btn.disabled = false;
    if (!r.ok) {
      result.replaceChildren();
      return showErrors(form, errorsOf(r.data));
    }
    showErrors(form, []);
    drawResult(h, result, r.data, text);
  });
  // export: links to the file, kept up to date with the choices
  const etype = EXPORT_TYPES.includes(q.get("export")) ? q.get("export") : "survey";
  const csv = h("a", { id: "e-csv", class: "button primary", download: "" , text: t("Unduh CSV") });
  const xlsx = h("a", { id: "e-xlsx", class: "button primary", download: "", text: t("Unduh XLSX") });
  const exp = h("form", { id: "export-form", class: "card", novalidate: true }, summary(),
    h("h2", { text: t("Ekspor") }),
    h("div", { class: "row" },
      h("div", {}, h("label", { for: "e-type", text: t("Jenis") }),
        h("select", { id: "e-type" }, EXPORT_TYPES.map((x) => h("option", { value: x, selected: x === etype, text: t(TYPE_WORD[x]) })))),
      h("div", { "data-field": "period" }, h("label", { for: "e-period", text: t("Periode") }),
        h("input", { id: "e-period", maxlength: "7", value: q.get("period") || "", placeholder: t("Semua") }))),
    h("p", { class: "hint", text: t("Data kantor ini, kolom sama dengan berkas impor.") }),
    h("div", { class: "actions" }, csv, xlsx));
  const links = () => {
    const base = { type: exp.querySelector("#e-type").value };
    const p = exp.querySelector("#e-period").value.trim();
    if (p) base.period = p;
    // a period as the export takes it (2026, 2026-Q1, 2026-01): a bad one is
    // named at its field and the links wait, never a silent failed download
    const bad = p && !/^\d{4}(-(0[1-9]|1[0-2]|Q[1-4]))?$/.test(p);
    showErrors(exp, bad ? [{ field: "period", message: t("Periode seperti 2026, 2026-Q1 atau 2026-01") }] : []);
    for (const a of [csv, xlsx]) {
      if (bad) a.removeAttribute("href");
      else a.href = `/api/export?${new URLSearchParams({ ...base, format: a === csv ? "csv" : "xlsx" })}`;
      a.setAttribute("aria-disabled", bad ? "true" : "false");
    }
  };
  exp.addEventListener("input", links);
  exp.addEventListener("change", links);
  exp.addEventListener("submit", (ev) => ev.preventDefault());
  links();
  main.append(h("h1", { text: t("Impor & Ekspor") }), h("div", { class: "grid wide" }, form, exp), result);
}

// The import's answer: the counts, then the file's lines, each with what
// became of it (stored, or the reasons it was not) beside it.
function drawResult(h, box, d, text) {
  const byLine = new Map((d.lines || []).map((l) => [l.line, l]));
  const stored = d.created + d.updated + d.unchanged;
  const head = [];
  if (d.seen_before) {
    head.push(h("p", { class: "notice", id: "i-seen", text: `${t("Baris berkas ini sudah diimpor pada")} ${d.seen_before.when}` +
      (d.seen_before.file ? ` (${d.seen_before.file})` : "") + `. ${t("Tidak ada yang ditambahkan.")}` }));
  } else {
    head.push(h("p", { class: "notice", id: "i-counts" },
      h("strong", { text: `${t("Tersimpan")}: ${num(stored)}` }),
      ` (${t("baru")} ${num(d.created)}, ${t("diperbarui")} ${num(d.updated)}, ${t("tidak berubah")} ${num(d.unchanged)}) · `,
      h("strong", { class: d.bad ? "bad-text" : "", text: `${t("Ditolak")}: ${num(d.bad)}` })));
  }
  // the usual next step, the corrected file imported whole, would store its
  // new rows a second time (its digest differs: not "imported before")
  if (!d.seen_before && d.bad && d.created) {
    head.push(h("p", { class: "notice", id: "i-fix-only",
      text: t("Perbaiki baris yang ditolak lalu impor hanya baris itu, dalam berkas tersendiri: mengimpor seluruh berkas ini lagi akan menyimpan baris barunya dua kali.") }));
  }
  if (d.read_as) head.push(h("p", { class: "hint", text: `${t("Dibaca sebagai")}: ${d.read_as}` }));
  const lines = text.replace(/\r\n?/g, "\n").replace(/\n$/, "").split("\n");
  const rows = [];
  // lines with a problem always; the others up to SHOWN_LINES
  lines.forEach((raw, i) => {
    const n = i + 1;
    const l = byLine.get(n);
    if (!l && n > SHOWN_LINES) return;
    const errs = l ? l.errors : [], warns = l ? l.warnings : [];
    let state;
    if (n === 1) state = h("span", { class: "muted", text: t("Kepala kolom") });
    else if (errs.length) state = h("ul", { class: "line-errors" }, errs.map((e) => h("li", { text: e })));
    else if (!raw.trim()) state = "";
    else state = h("span", { class: "ok-text", text: d.seen_before ? t("Pernah diimpor") : t("Tersimpan") });
    rows.push(h("tr", { "data-line": String(n), class: errs.length ? "bad" : "" },
      h("td", { class: "num", text: String(n) }), h("td", { class: "raw", text: raw }),
      h("td", {}, state, warns.length ? h("ul", { class: "line-warnings" }, warns.map((w) => h("li", { text: w }))) : null)));
  });
  box.replaceChildren(h("h2", { text: `${t("Hasil impor")}: ${d.name}` }), ...head,
    h("div", { class: "table-wrap" }, h("table", { id: "import-rows" }, h("thead", {}, h("tr", {},
      h("th", { class: "num", text: t("Baris") }), h("th", { text: t("Isi baris") }), h("th", { text: t("Hasil") }))), h("tbody", {}, rows))));
}
