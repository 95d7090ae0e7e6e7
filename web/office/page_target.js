// page_target.js - Target Kinerja: work targets per employee and period
// (indicator, target, unit, weight).  The operator enters them for anyone
// of the office, a supervisor for the people they supervise; everyone
// sees their own, with realisasi and capaian from the scores the server
// sent (null until the period is scored).  Newest period first, names
// beside NIPs, filters kept in the address: GET/POST /api/targets
// (client/ui_api_data.c).  kit: app.js's helpers (h, api, ...).
import { t, num, day, exact } from "./i18n.js";

export async function target(kit) {
  const { h, api, showErrors, summary, errorsOf, session, meta, main, route, listFilter, listQuery, dateFields, personField, periodField } = kit;
  const q = new URLSearchParams(location.search);
  const f = { period: q.get("period") || "" };
  const r = await api("/api/targets" + listQuery(q, "period", "nip", "from", "to"));
  const d = r.ok ? r.data : {};
  const people = d.people || {};
  const canEnter = Object.entries(d.can_enter || {});
  const inds = meta.indicators || [];
  const year = (session.today || "").slice(0, 4);
  // the names errors are shown with (added, never replacing another page's)
  for (const [k, v] of Object.entries({ period: "Periode", target: "Target", weight: "Bobot" })) kit.labels[k] ??= v;
  const dec = exact; // target and realisasi: exact decimals
  const form = h("form", { id: "target-form", class: "card", novalidate: true },
    h("h2", { text: t("Tetapkan target") }), summary(),
    h("div", { class: "row" },
      h("div", { "data-field": "nip" }, h("label", { for: "t-nip", text: t("Pegawai") }),
        h("select", { id: "t-nip" }, h("option", { value: "", text: "—" }),
          canEnter.map(([n, name]) => h("option", { value: n, text: `${name} · ${n}` })))),
      h("div", { "data-field": "period" }, h("label", { for: "t-period", text: t("Periode") }),
        h("input", { id: "t-period", value: f.period || year, maxlength: "7", placeholder: "2026, 2026-Q1, 2026-01" }))),
    h("div", { class: "row" },
      h("div", { "data-field": "indicator" }, h("label", { for: "t-indicator", text: t("Indikator") }),
        h("select", { id: "t-indicator" }, h("option", { value: "", text: "—" }),
          inds.map((i) => h("option", { value: i.id, text: `${i.name} (${i.unit})` })))),
      h("div", { "data-field": "target" }, h("label", { for: "t-target", text: t("Target") }),
        h("input", { id: "t-target", inputmode: "decimal" })),
      h("div", { "data-field": "weight" }, h("label", { for: "t-weight", text: t("Bobot") }),
        h("input", { id: "t-weight", inputmode: "decimal", placeholder: "1" }))),
    h("div", { class: "actions" }, h("button", { class: "primary", type: "submit", id: "t-save", text: t("Simpan target") })));
  form.addEventListener("submit", async (ev) => {
    ev.preventDefault();
    const v = (id) => form.querySelector("#t-" + id).value.trim().replace(",", ".");
    const body = { nip: v("nip"), period: v("period"), indicator: v("indicator"), target: v("target") };
    if (v("weight")) body.weight = v("weight");
    const res = await api("/api/targets", body);
    if (!res.ok) return showErrors(form, errorsOf(res.data));
    showErrors(form, []);
    await route();
    const m = document.getElementById("t-msg");
    if (m) { m.textContent = t("Tersimpan."); m.hidden = false; }
  });
  // the list's filters (app.js's, as every list has them): the period, the
  // person (when there is more than one), the dates the period overlaps
  const filter = listFilter("t-filter", "/target", q, periodField("tf", q),
    Object.keys(people).length > 1 ? personField("tf", q, people) : null, ...dateFields("tf", q));
  if (!r.ok) showErrors(filter, errorsOf(r.data));
  const list = d.targets || [];
  const tbody = h("tbody", {}, list.length ? list.map((x) => h("tr", { "data-id": x.id },
    h("td", { text: x.period }),
    h("td", {}, x.name || "", h("div", { class: "hint", text: x.nip })),
    h("td", {}, x.indicator_name || x.indicator, x.unit ? h("div", { class: "hint", text: x.unit }) : null),
    h("td", { class: "num", text: dec(x.target) }), h("td", { class: "num", text: dec(x.weight) }),
    h("td", { class: "num", text: x.realisasi === undefined ? "—" : dec(x.realisasi) }),
    h("td", { class: "num", text: x.capaian === undefined || x.capaian === null ? "—" : `${num(x.capaian, 2)} %` }),
    h("td", {}, day(x.date), x.rejected_reason ? h("div", { class: "field-error", text: x.rejected_reason }) : null)))
    : h("tr", {}, h("td", { colspan: "8", class: "muted", text: t("Tidak ada data") })));
  main.append(h("h1", { text: t("Target kinerja") }),
    h("p", { id: "t-msg", class: "notice", hidden: true, "aria-live": "polite" }),
    ...(canEnter.length ? [form] : []), filter,
    h("div", { class: "table-wrap" }, h("table", { id: "targets" }, h("thead", {}, h("tr", {},
      h("th", { text: t("Periode") }), h("th", { text: t("Nama") }), h("th", { text: t("Indikator") }),
      h("th", { class: "num", text: t("Target") }), h("th", { class: "num", text: t("Bobot") }),
      h("th", { class: "num", text: t("Realisasi") }), h("th", { class: "num", text: t("Capaian") }),
      h("th", { text: t("Dicatat") }))), tbody)),
    h("p", { class: "hint", text: t("Realisasi dan capaian dihitung server dari kegiatan yang disetujui; muncul setelah sinkronisasi.") }));
}
