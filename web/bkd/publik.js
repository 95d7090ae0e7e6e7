// publik.js - /publik, the published IKM (PermenPANRB 14/2017): per office,
// service and period n, IKM, mutu and NRR per unsur; nothing about any
// person.  The period is in the address (?period=2026-Q1).  Indonesian by
// default, English with the switch (lang.js).
import { h, num, int, date, periodName, periodPicker, table, nodata, t } from "./fmt.js";
import { lang, langSwitch } from "./lang.js";

const main = document.getElementById("main");
const FOOT = "Survei Kepuasan Masyarakat menurut PermenPANRB Nomor 14 Tahun 2017. Nilai per unsur (NRR) 1–4; IKM 25–100; mutu A (sangat baik) sampai D (tidak baik).";

function frame() {
  document.querySelector(".brand").textContent = t("Indeks Kepuasan Masyarakat (IKM)");
  document.getElementById("kaki").textContent = t(FOOT);
  document.getElementById("bahasa-tempat").replaceChildren(langSwitch(h, () => { frame(); render(); }));
}

async function render() {
  const q = new URLSearchParams(location.search);
  const period = q.get("period") || String(new Date().getFullYear());
  const box = h("div", { id: "isi" }, t("Memuat..."));
  document.title = t("Indeks Kepuasan Masyarakat") + ", " + periodName(period);
  main.replaceChildren(h("div", { class: "tools no-print" },
    periodPicker(period, (p) => { location.search = "?period=" + encodeURIComponent(p); }), " ",
    h("button", { type: "button", onclick: () => window.print() }, t("Cetak"))),
  h("h1", {}, t("Hasil Survei Kepuasan Masyarakat, {p}", { p: periodName(period) })), box);
  let d;
  try {
    const r = await fetch("/api/publik?period=" + encodeURIComponent(period), { headers: { "Accept-Language": lang() } });
    d = await r.json();
    if (!r.ok) throw new Error(d.error || "HTTP " + r.status);
  } catch (e) {
    box.replaceChildren(h("p", { class: "error", role: "alert" }, e.message));
    return;
  }
  const uname = (u) => (lang() === "en" && u.name_en ? u.name_en : u.name);
  box.replaceChildren(h("p", {}, t("Dihitung per {d}.", { d: date(d.as_of) + (d.as_of_zone ? " " + d.as_of_zone : "") })),
    ...d.offices.map((o) => h("section", { class: "kantor-publik", "data-office": o.office },
      h("h2", {}, o.name || o.office),
      h("p", { class: "ikm" }, "IKM ", h("strong", { class: "ikm-value" }, num(o.ikm.value)),
        o.ikm.mutu ? t(" mutu {m} ({k})", { m: o.ikm.mutu, k: t(o.ikm.kinerja) }) : "", t(", {n} responden", { n: int(o.ikm.n) })),
      h("div", { class: "grid" },
        table(t("Per layanan"), [t("Layanan"), t("Responden"), "IKM", t("Mutu")],
          (o.services || []).map((s) => h("tr", s.other ? { class: "layanan-lain" } : {}, h("td", {}, s.other ? t("Layanan lain") : s.service), h("td", { class: "n" }, int(s.n)), h("td", { class: "n" }, num(s.ikm)), h("td", {}, s.mutu || "")))),
        table(t("Nilai per unsur (NRR)"), ["", t("Unsur pelayanan"), "NRR"],
          d.unsur.map((u, i) => h("tr", {}, h("td", {}, u.field.toUpperCase()), h("td", {}, uname(u)), h("td", { class: "n" }, o.ikm.nrr ? num(o.ikm.nrr[i]) : nodata()))))))));
}

frame();
render();
