// The page: a Preview per story, fed by the server's snapshot and SSE deltas.
import { init, Preview, systemClock } from "/js/browser.mjs";

const TZ = { timeZone: "Europe/Berlin", hour: "2-digit", minute: "2-digit" };
const fmtTime = (ms) => new Date(ms).toLocaleTimeString("en-GB", TZ);
const pad = (n) => String(n).padStart(2, "0");

/** A story's preview, kept current by the server's deltas; its clock follows the server's. */
async function connect(story, onChange) {
  const [catalog, snapshot, time] = await Promise.all(
    ["catalog", "snapshot", "time"].map((p) => fetch(`/api/${story}/${p}`).then((r) => r.json())),
  );
  const s = { catalog, preview: new Preview(catalog, snapshot), offset: time.now - systemClock.now(), errors: [] };
  s.now = () => systemClock.now() + s.offset;
  const events = new EventSource(`/api/${story}/events?after=${s.preview.seq}`);
  events.onmessage = (m) => {
    if (Number(m.lastEventId) <= s.preview.seq) return; // replayed after a reconnect
    try {
      s.preview.applyDelta(m.data); // JSON text: the fastest way in
    } catch (e) {
      s.errors.push(`${e.code}: ${e.message}`);
    }
    onChange();
  };
  return s;
}

function renderEmstek(s) {
  const now = s.now();
  const why = s.preview.whyUnavailable("zur-post-20", "web", now);
  const status = document.querySelector("[data-testid=emstek-status]");
  if (why?.reason === "not_open_yet") {
    const left = Math.max(0, Math.ceil((why.opensAt - now) / 1000));
    status.textContent = `opens in ${pad(Math.floor(left / 60))}:${pad(left % 60)}`;
  } else {
    status.textContent = why ? `closed (${why.reason})` : "open: vouchers are being sold";
  }
  const snap = s.preview.snapshot();
  const rows = snap.pools
    .filter((p) => p.name !== "budget")
    .map((p) => {
      const left = Math.max(0, p.capacity - p.held - p.confirmed);
      return `<tr class="${left === 0 ? "soldout" : ""}" data-pool="${p.name}"><td>${p.name}</td><td class="left">${left} left</td></tr>`;
    });
  document.querySelector("[data-testid=emstek-table]").innerHTML = rows.join("");
}

function renderPampanin(s) {
  const now = s.now();
  const day = new Date(now).toLocaleDateString("en-CA", { timeZone: "Europe/Berlin" });
  const slots = s.catalog.offers.filter((o) => o.slot && o.name.includes(`@${day}T`));
  const buttons = slots.map((o) => {
    const left = s.preview.available(o.name, "web") ?? 0;
    const why = s.preview.whyUnavailable(o.name, "web", now);
    const full = left === 0 || why !== null;
    const label = `${fmtTime(o.slot.starts_at)} · ${full ? (why?.reason ?? "full") : `${left} free`}`;
    return `<button class="${full ? "full" : ""}" ${full ? "disabled" : ""} data-offer="${o.name}">${label}</button>`;
  });
  document.querySelector("[data-testid=pampanin-slots]").innerHTML = buttons.join("");
  const next = s.preview.nextSlots("delivery", now, "web", 1)[0];
  document.querySelector("[data-testid=pampanin-next]").textContent = next
    ? `next free slot: ${new Date(next.startsAt).toLocaleDateString("en-GB", { timeZone: "Europe/Berlin", weekday: "long" })} ${fmtTime(next.startsAt)}`
    : "no free slot left";
}

const TEST_REQUESTS = [
  ["2 vouchers at Zur Post", "emstek", { requestId: "t1", customer: "t1", lines: [{ offer: "zur-post-20", quantity: 2 }] }],
  ["3 × 50 EUR (over the limit)", "emstek", { requestId: "t2", customer: "t2", lines: [{ offer: "hofcafe-50", quantity: 3 }] }],
  ["a tub to Berlin", "pampanin", { requestId: "t3", customer: "t3", attributes: { postal_code: "10115" }, lines: [{ offer: "vanilla-tub", quantity: 3 }] }],
  ["3 tubs to Emstek", "pampanin", { requestId: "t4", customer: "t4", attributes: { postal_code: "49685" }, lines: [{ offer: "vanilla-tub", quantity: 3 }] }],
];

function renderChecks(stories) {
  document.querySelector("[data-testid=checks]").innerHTML = TEST_REQUESTS.map(([label, story, req]) => {
    const s = stories[story];
    let answer;
    try { answer = JSON.stringify(s.preview.check(req, s.now())); } catch (e) { answer = `error ${e.code}`; }
    return `<li>${label}: ${answer}</li>`;
  }).join("");
}

await init();
const stories = {};
const render = () => {
  if (stories.emstek) renderEmstek(stories.emstek);
  if (stories.pampanin) renderPampanin(stories.pampanin);
  if (stories.emstek && stories.pampanin) renderChecks(stories);
};
stories.emstek = await connect("emstek", render);
stories.pampanin = await connect("pampanin", render);
render();
setInterval(render, 250); // the countdown
// For tests and the curious: the previews themselves.
window.kontingent = { stories, ready: true };
