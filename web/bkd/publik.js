// publik.js - /publik, the published IKM (PermenPANRB 14/2017): per office,
// service and period n, IKM, mutu and NRR per unsur; nothing about any
// person.  The period is in the address (?period=2026-Q1).
import { h, num, int, date, periodName, periodPicker, table, NODATA } from "./fmt.js";

const main = document.getElementById("main");

async function render() {
  const q = new URLSearchParams(location.search);
  const period = q.get("period") || String(new Date().getFullYear());
  const box = h("div", { id: "isi" }, "Memuat...");
  main.replaceChildren(h("div", { class: "tools no-print" },
    periodPicker(period, (p) => { location.search = "?period=" + encodeURIComponent(p); }), " ",
    h("button", { type: "button", onclick: () => window.print() }, "Cetak")),
  h("h1", {}, "Hasil Survei Kepuasan Masyarakat, " + periodName(period)), box);
  let d;
  try {
    const r = await fetch("/api/publik?period=" + encodeURIComponent(period));
    d = await r.json();
    if (!r.ok) throw new Error(d.error || "HTTP " + r.status);
  } catch (e) {
    box.replaceChildren(h("p", { class: "error", role: "alert" }, e.message));
    return;
  }
  box.replaceChildren(h("p", {}, `Dihitung per ${date(d.as_of)}.`),
    ...d.offices.map((o) => h("section", { class: "kantor-publik", "data-office": o.office },
      h("h2", {}, o.name || o.office),
      h("p", { class: "ikm" }, "IKM ", h("strong", { class: "ikm-value" }, num(o.ikm.value)),
        o.ikm.mutu ? ` mutu ${o.ikm.mutu} (${o.ikm.kinerja})` : "", `, ${int(o.ikm.n)} responden`),
      h("div", { class: "grid" },
        table("Per layanan", ["Layanan", "Responden", "IKM", "Mutu"],
          (o.services || []).map((s) => h("tr", {}, h("td", {}, s.service), h("td", { class: "n" }, int(s.n)), h("td", { class: "n" }, num(s.ikm)), h("td", {}, s.mutu || "")))),
        table("Nilai per unsur (NRR)", ["", "Unsur pelayanan", "NRR"],
          d.unsur.map((u, i) => h("tr", {}, h("td", {}, u.field.toUpperCase()), h("td", {}, u.name), h("td", { class: "n" }, o.ikm.nrr ? num(o.ikm.nrr[i]) : NODATA))))))));
}

render();
