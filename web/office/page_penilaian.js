// page_penilaian.js - Penilaian Perilaku (behaviour ratings, BerAKHLAK):
// a person rates a colleague on the seven values s1..s7 (1-5, 3 = as
// expected) in the role the roster gives (atasan, rekan, bawahan), and
// lists the ratings they gave, newest first, with names beside NIPs and
// filters kept in the address.  The rules (one live rating per period,
// rater and ratee; the roles) are the store's: GET/POST /api/ratings
// (client/ui_api_data.c).  kit: app.js's helpers (h, api, ...).
import { t, num, day } from "./i18n.js";

export const ROLE_WORD = { atasan: "Atasan", rekan: "Rekan", bawahan: "Bawahan" };
const SCALE = ["1", "2", "3", "4", "5"];

export async function penilaian(kit) {
  const { h, api, showErrors, summary, errorsOf, session, main, route, listFilter, listQuery, dateFields, personField, periodField } = kit;
  const q = new URLSearchParams(location.search);
  const f = { period: q.get("period") || "", role: q.get("role") || "" };
  const r = await api("/api/ratings" + listQuery(q, "period", "role", "nip", "from", "to"));
  const d = r.ok ? r.data : {};
  const choices = d.choices || [];
  const aspects = d.aspects || [];
  const year = (session.today || "").slice(0, 4);
  // the names errors are shown with (showErrors)
  // (added, never replacing another page's: app.js's FIELD_LABEL is shared)
  const names = { period: "Periode", ratee: "Pegawai yang dinilai", role: "Peran" };
  aspects.forEach((a, i) => { names[`s${i + 1}`] = `${i + 1}. ${a}`; });
  for (const [k, v] of Object.entries(names)) kit.labels[k] ??= v;
  const roleOut = h("p", { id: "p-role", class: "hint" });
  const ratee = h("select", { id: "p-ratee" }, h("option", { value: "", text: "—" }),
    choices.map((c) => h("option", { value: c.nip, "data-role": c.role, text: `${c.name} · ${c.nip} (${t(ROLE_WORD[c.role])})` })));
  const showRole = () => {
    const o = ratee.selectedOptions[0];
    const role = o && o.dataset.role;
    roleOut.textContent = role ? `${t("Peran Anda")}: ${t(ROLE_WORD[role])}` : "";
  };
  ratee.addEventListener("change", showRole);
  const form = h("form", { id: "rating-form", class: "card", novalidate: true },
    h("h2", { text: t("Beri penilaian") }), summary(),
    h("div", { class: "row" },
      h("div", { "data-field": "period" }, h("label", { for: "p-period", text: t("Periode") }),
        h("input", { id: "p-period", value: f.period || year, maxlength: "7", placeholder: "2026, 2026-Q1, 2026-01" })),
      h("div", { "data-field": "ratee" }, h("label", { for: "p-ratee", text: t("Pegawai yang dinilai") }), ratee, roleOut)),
    h("p", { class: "hint", text: t("1 = sangat kurang · 3 = sesuai harapan · 5 = sangat baik") }),
    h("div", { class: "aspects" }, aspects.map((a, i) => h("div", { class: "aspect", "data-field": `s${i + 1}` },
      h("label", { for: `p-s${i + 1}`, text: `${i + 1}. ${a}` }),
      h("select", { id: `p-s${i + 1}` }, h("option", { value: "", text: "—" }), SCALE.map((v) => h("option", { value: v, text: v })))))),
    h("div", { "data-field": "comment" }, h("label", { for: "p-comment", text: t("Catatan") }),
      h("input", { id: "p-comment", maxlength: "2000" })),
    h("div", { class: "actions" }, h("button", { class: "primary", type: "submit", id: "p-save", text: t("Simpan penilaian") })));
  const msg = h("p", { id: "p-msg", class: "notice", hidden: true, "aria-live": "polite" });
  form.addEventListener("submit", async (ev) => {
    ev.preventDefault();
    const v = (id) => form.querySelector("#p-" + id).value.trim();
    const body = { period: v("period"), ratee: v("ratee") };
    const o = ratee.selectedOptions[0];
    if (o && o.dataset.role) body.role = o.dataset.role;
    for (let i = 1; i <= 7; i++) body[`s${i}`] = v(`s${i}`);
    if (v("comment")) body.comment = v("comment");
    const res = await api("/api/ratings", body);
    if (!res.ok) return showErrors(form, errorsOf(res.data));
    showErrors(form, []);
    await route();
    const m = document.getElementById("p-msg");
    if (m) { m.textContent = t("Tersimpan."); m.hidden = false; }
  });
  // the list: filters in the address (app.js's, as every list has them):
  // the period, the role, the person rated, the dates the period overlaps
  const filter = listFilter("p-filter", "/penilaian", q, periodField("pf", q),
    h("div", {}, h("label", { for: "pf-role", text: t("Peran") }),
      h("select", { id: "pf-role", name: "role" }, h("option", { value: "", text: t("Semua") }),
        Object.entries(ROLE_WORD).map(([k, w]) => h("option", { value: k, selected: k === f.role, text: t(w) })))),
    personField("pf", q, d.people), ...dateFields("pf", q));
  if (!r.ok) showErrors(filter, errorsOf(r.data));
  const list = d.ratings || [];
  const tbody = h("tbody", {}, list.length ? list.map((x) => h("tr", { "data-id": x.id },
    h("td", { text: day(x.date) }),
    h("td", {}, x.ratee_name || "", h("div", { class: "hint", text: x.ratee })),
    h("td", { text: t(ROLE_WORD[x.role] || x.role) }), h("td", { text: x.period }),
    h("td", { class: "num", text: num(x.score, 2) }),
    h("td", { class: "scores", title: aspects.map((a, i) => `${a}: ${x.scores[i]}`).join("\n"), text: x.scores.join(" ") }),
    h("td", {}, x.comment || "", x.rejected_reason ? h("div", { class: "field-error", text: x.rejected_reason }) : null)))
    : h("tr", {}, h("td", { colspan: "7", class: "muted", text: t("Tidak ada data") })));
  main.append(h("h1", { text: t("Penilaian perilaku") }), msg,
    choices.length ? form : h("p", { class: "card muted", text: t("Tidak ada pegawai yang dapat Anda nilai.") }),
    h("h2", { text: t("Penilaian yang Anda berikan") }), filter,
    h("div", { class: "table-wrap" }, h("table", { id: "ratings" }, h("thead", {}, h("tr", {},
      h("th", { text: t("Tanggal") }), h("th", { text: t("Nama") }), h("th", { text: t("Peran") }), h("th", { text: t("Periode") }),
      h("th", { class: "num", text: t("Nilai") }), h("th", { text: "S1-S7" }), h("th", { text: t("Catatan") }))), tbody)));
}
