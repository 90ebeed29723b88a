// A shop's page on its own origin: the browser Preview (WASM) built from the
// server's catalog and availability, kept current by the server's event stream,
// exactly as the README tells a shop to do it. `?server=URL&ledger=NAME`;
// `&drop=SEQ` loses that one delta on purpose (the test's control: a lost delta
// must be noticed).
import { init, Preview } from "/js/browser.mjs";

const q = new URLSearchParams(location.search);
const server = q.get("server");
const ledger = q.get("ledger");
const drop = Number(q.get("drop") ?? 0);
const state = { ready: false, errors: [], received: 0, applied: 0, types: {}, preview: null };
window.follower = state;

await init();
const get = async (what) => {
  const r = await fetch(`${server}/v1/ledgers/${ledger}/${what}`);
  if (!r.ok) throw new Error(`${what}: ${r.status}`);
  return r.json();
};
const preview = new Preview(await get("catalog"), await get("availability"));
state.preview = preview;
state.startSeq = preview.seq;
const events = new EventSource(`${server}/v1/ledgers/${ledger}/events?after=${preview.seq}`);
events.onmessage = (m) => {
  state.received = Number(m.lastEventId);
  if (state.received === drop) return;
  try {
    preview.applyDelta(m.data);
    state.applied += 1;
    const { type } = JSON.parse(m.data).change;
    state.types[type] = (state.types[type] ?? 0) + 1;
  } catch (e) {
    state.errors.push(`${e.code}: ${e.message}`);
  }
  document.getElementById("seq").textContent = String(preview.seq);
};
events.addEventListener("error", (e) => {
  if (e.data !== undefined) state.errors.push(`server: ${e.data}`);
});
events.onopen = () => { state.ready = true; };
