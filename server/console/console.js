// The operator console: the public snapshot kept current by the public event
// stream (like the browser preview), the operator's overview polled beside it,
// and the operator's verbs. No build step, no dependencies.
//
// Every value from the server reaches the DOM as text (textContent, option
// values, CSSOM widths): names come from catalogs and customers from forms.

const KEY = "kontingent-operator-key";
const OVERVIEW_MS = 2000;
const EVENTS_SHOWN = 60;
const REFUSAL_MINUTES_SHOWN = 10;
const SOON_MS = 60_000;

const $ = (id) => document.getElementById(id);
const el = (tag, text, cls) => {
  const e = document.createElement(tag);
  if (text !== undefined) e.textContent = String(text);
  if (cls) e.className = cls;
  return e;
};
const row = (cells) => {
  const tr = el("tr");
  for (const c of cells) tr.append(c instanceof Node ? c : el("td", c));
  return tr;
};

/** What the console shows about one ledger. */
const view = {
  ledger: null,
  catalog: null,
  snap: null, // the availability snapshot, as the deltas so far left it
  source: null,
  syncing: null, // the snapshot being fetched again, if one is
  pending: [], // deltas that arrived while it was
  overview: null,
  timer: null,
  zone: "UTC",
  busy: false, // a pause or resume on its way
  log: [], // events not drawn yet, oldest first
  frame: null, // the frame that will draw them
};

// ------------------------------------------------------------------ calls

class Refused extends Error {}

/** A call with the operator key; a key the server turns down ends the session. */
async function call(method, path, body) {
  const init = { method, headers: { Authorization: `Bearer ${sessionStorage.getItem(KEY) ?? ""}` }, cache: "no-store" };
  if (body !== undefined) {
    init.headers["Content-Type"] = "application/json";
    init.body = JSON.stringify(body);
  }
  const r = await fetch(path, init);
  if (r.status === 401 || r.status === 403) {
    const why = r.status === 403
      ? "That is not the operator key (the client key cannot pause or export)."
      : "The key is not valid.";
    signOut(why);
    throw new Refused(why);
  }
  if (!r.ok) {
    const e = await r.json().catch(() => ({}));
    throw new Error(`${e.code ?? r.status}: ${e.message ?? r.statusText}`);
  }
  return r;
}
const json = async (method, path, body) => (await call(method, path, body)).json();
const ledgerPath = (what) => `/v1/ledgers/${encodeURIComponent(view.ledger)}/${what}`;

function say(text, isError = false) {
  const m = $("message");
  m.textContent = text;
  m.classList.toggle("error", isError);
}
const failed = (what) => (e) => {
  if (!(e instanceof Refused)) say(`${what} failed: ${e.message}`, true);
};

// ------------------------------------------------------------------ session

function signOut(why) {
  sessionStorage.removeItem(KEY);
  closeLedger();
  $("console").hidden = true;
  $("login").hidden = false;
  $("login-error").textContent = why ?? "";
  $("key").value = "";
  $("key").focus();
}

async function start() {
  let ledgers;
  try {
    ({ ledgers } = await json("GET", "/v1/ledgers"));
  } catch (e) {
    if (!(e instanceof Refused)) $("login-error").textContent = `The server did not answer: ${e.message}`;
    return;
  }
  $("login").hidden = true;
  $("console").hidden = false;
  const select = $("ledger");
  select.replaceChildren(...ledgers.map((name) => {
    const o = el("option", name);
    o.value = name;
    return o;
  }));
  const wanted = new URLSearchParams(location.search).get("ledger");
  select.value = ledgers.includes(wanted) ? wanted : ledgers[0];
  if (select.value) await openLedger(select.value);
  else say("This server serves no ledger.", true);
}

// ------------------------------------------------------------------ the ledger

function closeLedger() {
  view.source?.close();
  clearInterval(view.timer);
  Object.assign(view, { ledger: null, snap: null, source: null, syncing: null, pending: [], overview: null, timer: null, log: [] });
}

async function openLedger(name) {
  closeLedger();
  view.ledger = name;
  const url = new URL(location.href);
  url.searchParams.set("ledger", name);
  history.replaceState(null, "", url);
  $("events").replaceChildren();
  try {
    await resync();
  } catch (e) {
    return failed("Loading the campaign")(e);
  }
  listen();
  pollOverview();
  view.timer = setInterval(pollOverview, OVERVIEW_MS);
}

/** Fetch the catalog and snapshot again (at the start, after a gap, after a catalog change). */
function resync() {
  view.syncing ??= (async () => {
    try {
      const [catalog, snap] = await Promise.all([json("GET", ledgerPath("catalog")), json("GET", ledgerPath("availability"))]);
      view.catalog = catalog;
      view.zone = zoneOf(catalog);
      view.snap = snap;
      renderPools(true);
      renderState();
    } finally {
      view.syncing = null;
    }
    const waiting = view.pending;
    view.pending = [];
    for (const d of waiting) onDelta(d);
  })();
  return view.syncing;
}

/** The public event stream, from the snapshot's seq (the browser resumes by Last-Event-ID). */
function listen() {
  const source = new EventSource(`${ledgerPath("events")}?after=${view.snap.seq}`);
  view.source = source;
  source.onopen = () => streamState("live");
  source.onmessage = (m) => {
    try {
      onDelta(JSON.parse(m.data));
    } catch (e) {
      say(`An event could not be read: ${e.message}`, true);
    }
  };
  source.addEventListener("error", (e) => {
    if (e.data === undefined) {
      streamState(source.readyState === EventSource.CLOSED ? "closed" : "reconnecting…");
      return;
    }
    // The server's own error event: the deltas after our seq are gone (a compaction).
    source.close();
    streamState("catching up…");
    resync().then(() => view.ledger && listen(), failed("Catching up"));
  });
}

function streamState(text) {
  $("stream").textContent = `events: ${text}`;
}

function onDelta(d) {
  if (view.syncing) {
    view.pending.push(d);
    return;
  }
  const snap = view.snap;
  if (!snap || d.seq <= snap.seq) return; // a replay after a reconnect
  if (d.seq !== snap.seq + 1) {
    view.pending.push(d); // a gap: the snapshot again, then what follows it
    resync().catch(failed("Catching up"));
    return;
  }
  const c = d.change;
  switch (c.type) {
    case "levels":
      if (!c.changes.every((l) => snap.pools[l.pool])) return resync().catch(failed("Catching up"));
      for (const l of c.changes) {
        snap.pools[l.pool].held += l.held;
        snap.pools[l.pool].confirmed += l.confirmed;
      }
      break;
    case "capacity":
      if (!snap.pools[c.pool]) return resync().catch(failed("Catching up"));
      snap.pools[c.pool].capacity = c.capacity;
      break;
    case "paused":
    case "resumed":
      snap.paused = c.type === "paused";
      break;
    case "none":
      break;
    default: // pools, offers or rules changed: read them whole
      snap.seq = d.seq;
      logEvent(d);
      scheduleDraw();
      return resync().catch(failed("Catching up"));
  }
  snap.seq = d.seq;
  logEvent(d);
  scheduleDraw();
}

// ------------------------------------------------------------------ rendering

function zoneOf(catalog) {
  try {
    const zone = catalog?.time_zone || "UTC";
    new Intl.DateTimeFormat("en-GB", { timeZone: zone });
    return zone;
  } catch {
    return "UTC";
  }
}
const clock = (ms, seconds = true) => new Date(ms).toLocaleTimeString("en-GB", {
  timeZone: view.zone, hour: "2-digit", minute: "2-digit", ...(seconds ? { second: "2-digit" } : {}),
});
const poolName = (id) => view.snap?.pools[id]?.name ?? `pool ${id}`;

function renderState() {
  const paused = view.snap.paused;
  const s = $("selling");
  s.textContent = paused ? "paused" : "selling";
  s.className = `state ${paused ? "paused" : "selling"}`;
  const b = $("pause");
  b.textContent = paused ? "Resume sales" : "Pause sales";
  b.classList.toggle("pausing", !paused);
  b.disabled = view.busy === true;
  $("seq").textContent = `seq ${view.snap.seq}`;
}

/** The pools' rows: rebuilt when the pools change, updated in place otherwise (an edit in progress stays). */
function renderPools(rebuild) {
  const body = $("pools");
  const pools = view.snap.pools;
  const names = pools.map((p) => p.name).join("\n");
  if (rebuild || body.dataset.names !== names) {
    body.dataset.names = names;
    body.replaceChildren(...pools.map(poolRow));
    const csv = $("csv-pool");
    csv.replaceChildren(csv.options[0], ...pools.map((p) => {
      const o = el("option", p.name);
      o.value = p.name;
      return o;
    }));
  }
  pools.forEach((p, i) => updatePool(body.children[i], p));
}

function poolRow(p) {
  const tr = el("tr");
  tr.dataset.pool = p.name;
  const bar = el("div", undefined, "bar");
  bar.setAttribute("role", "img");
  bar.append(el("span", undefined, "confirmed"), el("span", undefined, "held"));
  const barCell = el("td", undefined, "bar-cell");
  barCell.append(bar);
  const form = el("form", undefined, "capacity");
  const input = el("input");
  Object.assign(input, { type: "number", min: "0", step: "1", name: "capacity", required: true });
  input.setAttribute("aria-label", `new capacity of ${p.name}`);
  input.addEventListener("input", () => { input.dataset.dirty = "1"; });
  const set = el("button", "Set");
  set.type = "submit";
  form.append(input, set);
  form.addEventListener("submit", (e) => {
    e.preventDefault();
    setCapacity(p.name, input, set);
  });
  const editCell = el("td");
  editCell.append(form);
  tr.append(el("td", p.name), barCell, el("td", "", "num confirmed"), el("td", "", "num held"),
    el("td", "", "num left"), el("td", "", "num capacity"), editCell);
  return tr;
}

function updatePool(tr, p) {
  const promised = p.held + p.confirmed;
  const left = Math.max(0, p.capacity - promised);
  // Lowered below what is promised: the bar is scaled to the promise and marked.
  const scale = Math.max(p.capacity, promised, 1);
  tr.classList.toggle("full", left === 0);
  const bar = tr.querySelector(".bar");
  bar.querySelector(".confirmed").style.width = `${(100 * p.confirmed) / scale}%`;
  bar.querySelector(".held").style.width = `${(100 * p.held) / scale}%`;
  bar.setAttribute("aria-label", `${p.confirmed} confirmed and ${p.held} held of ${p.capacity}`);
  bar.title = bar.getAttribute("aria-label");
  tr.querySelector("td.confirmed").textContent = p.confirmed;
  tr.querySelector("td.held").textContent = p.held;
  tr.querySelector("td.left").textContent = left;
  tr.querySelector("td.capacity").textContent = p.capacity;
  const input = tr.querySelector("input");
  if (!input.dataset.dirty && document.activeElement !== input) input.value = String(p.capacity);
}

/** What moved units this way, in a clerk's words (a delta names no reservation). */
function movement(changes) {
  const held = changes.reduce((a, l) => a + l.held, 0);
  const confirmed = changes.reduce((a, l) => a + l.confirmed, 0);
  if (confirmed > 0) return held < 0 ? "hold confirmed" : "confirmed";
  if (confirmed < 0) return "confirmed reservation released";
  return held > 0 ? "held" : "hold released or expired";
}

function logEvent(d) {
  const c = d.change;
  let text;
  switch (c.type) {
    case "levels":
      text = `${movement(c.changes)}: ${c.changes.map((l) => {
        const parts = [];
        if (l.held) parts.push(`held ${l.held > 0 ? "+" : ""}${l.held}`);
        if (l.confirmed) parts.push(`confirmed ${l.confirmed > 0 ? "+" : ""}${l.confirmed}`);
        return `${poolName(l.pool)} ${parts.join(", ")}`;
      }).join("; ")}`;
      break;
    case "capacity": text = `capacity of ${poolName(c.pool)} set to ${c.capacity}`; break;
    case "paused": text = "sales paused"; break;
    case "resumed": text = "sales resumed"; break;
    case "pool_defined": text = `new pool ${c.name} (${c.capacity})`; break;
    case "offer_defined": text = `new offer ${c.name}`; break;
    case "catalog_changed": text = "catalog changed"; break;
    case "none": text = "(a waiting-list change)"; break;
    default: text = c.type;
  }
  view.log.push({ seq: d.seq, text: `#${d.seq} ${text}` });
  if (view.log.length > EVENTS_SHOWN) view.log.splice(0, view.log.length - EVENTS_SHOWN);
}

/** Draw what the deltas changed once per frame: a rush brings thousands a second. */
function scheduleDraw() {
  view.frame ??= requestAnimationFrame(() => {
    view.frame = null;
    if (!view.snap) return;
    renderPools(false);
    renderState();
    const list = $("events");
    list.prepend(...view.log.splice(0).reverse().map(({ seq, text }) => {
      const item = el("li", text);
      item.dataset.seq = seq;
      return item;
    }));
    while (list.children.length > EVENTS_SHOWN) list.lastChild.remove();
  });
}

async function pollOverview() {
  const ledger = view.ledger;
  try {
    const o = await json("GET", ledgerPath("overview"));
    if (ledger !== view.ledger) return;
    view.overview = o;
    renderOverview(o);
  } catch (e) {
    failed("Reading the overview")(e);
  }
}

function renderOverview(o) {
  $("clock").textContent = `server clock ${clock(o.now)}`;

  const minutes = o.refusals.slice(-REFUSAL_MINUTES_SHOWN).reverse();
  const reasons = [...new Set(minutes.flatMap((m) => Object.keys(m.reasons)))].sort();
  $("refusal-head").replaceChildren(...["minute", ...reasons, "all"].map((h) => el("th", h)));
  $("refusals").replaceChildren(...minutes.map((m) => {
    const counts = reasons.map((r) => m.reasons[r] ?? 0);
    const tr = row([clock(m.minute, false), ...counts, counts.reduce((a, b) => a + b, 0)]);
    tr.dataset.minute = m.minute;
    return tr;
  }));
  $("no-refusals").hidden = minutes.length > 0;

  $("expiring").replaceChildren(...o.expiring.map((r) => {
    const inMs = r.expires_at - o.now;
    const due = el("td", inMs <= 0 ? "due" : `${Math.floor(inMs / 60_000)}:${String(Math.floor(inMs / 1000) % 60).padStart(2, "0")}`);
    if (inMs < SOON_MS) due.className = "soon";
    const what = r.lines.map(([offer, quantity]) => `${quantity} × ${offer}`).join(", ");
    const tr = row([`#${r.id}`, r.customer, what, clock(r.expires_at), due]);
    tr.dataset.reservation = r.id;
    return tr;
  }));
  $("no-holds").hidden = o.expiring.length > 0;

  const waiting = o.waiting.filter((w) => w.waiting > 0);
  $("waiting").replaceChildren(...waiting.map((w) => {
    const tr = row([w.offer, w.waiting]);
    tr.dataset.offer = w.offer;
    return tr;
  }));
  $("no-waiting").hidden = waiting.length > 0;

  renderConsumers(o.consumers ?? []);
}

/** Each consumer's cursor and, for those this server delivers, how it stands;
 * a dead one (it stopped after too many failures, later events wait behind it)
 * gets a button to retry it. */
function renderConsumers(consumers) {
  $("consumers").replaceChildren(...consumers.map((c) => {
    const d = c.delivery;
    const st = d?.status;
    const state = el("td", st ? st.state : "read by the application", st ? `delivery ${st.state}` : "quiet-text");
    if (st?.state === "dead" || st?.state === "retrying") state.textContent += ` at seq ${st.seq} (${st.failures} failures)`;
    const action = el("td");
    if (st?.state === "dead" || st?.state === "retrying") {
      const b = el("button", "Retry now");
      b.type = "button";
      b.dataset.testid = "retry";
      b.addEventListener("click", () => retryConsumer(c.name, b));
      action.append(b);
    }
    const tr = row([
      c.name,
      c.events.join(", "),
      c.cursor ?? "—",
      c.behind ?? "—",
      d ? `${d.kind} → ${d.target}` : "—",
      state,
      st ? `${st.delivered} (${st.skipped} skipped)` : "—",
      st?.last_error ?? "",
      action,
    ]);
    tr.dataset.consumer = c.name;
    if (st) tr.dataset.state = st.state;
    return tr;
  }));
  $("no-consumers").hidden = consumers.length > 0;
}

// ------------------------------------------------------------------ verbs

async function togglePause() {
  const b = $("pause");
  const pausing = !view.snap.paused;
  view.busy = b.disabled = true;
  try {
    await json("POST", ledgerPath(pausing ? "pause" : "resume"), {});
    say(pausing ? "Sales are paused: every new reservation is refused." : "Sales resumed.");
  } catch (e) {
    failed(pausing ? "Pausing" : "Resuming")(e);
  } finally {
    view.busy = b.disabled = false;
  }
}

async function setCapacity(pool, input, button) {
  const capacity = Number(input.value);
  if (!Number.isSafeInteger(capacity) || capacity < 0) {
    say(`${pool}: a capacity is a whole number, 0 or more.`, true);
    return;
  }
  button.disabled = true;
  try {
    await json("POST", ledgerPath("capacity"), { pool, capacity });
    delete input.dataset.dirty;
    input.blur();
    say(`${pool}: capacity set to ${capacity}.`);
  } catch (e) {
    failed(`Setting the capacity of ${pool}`)(e);
  } finally {
    button.disabled = false;
  }
}

async function retryConsumer(name, button) {
  button.disabled = true;
  try {
    await json("POST", ledgerPath(`consumers/${encodeURIComponent(name)}/retry`), {});
    say(`${name}: retrying now.`);
    pollOverview();
  } catch (e) {
    failed(`Retrying ${name}`)(e);
    button.disabled = false;
  }
}

/** The export needs the key in a header, so it is fetched and handed over as a file. */
async function downloadCsv() {
  const pool = $("csv-pool").value;
  const query = pool ? `?pool=${encodeURIComponent(pool)}` : "";
  try {
    const blob = await (await call("GET", ledgerPath(`reservations.csv${query}`))).blob();
    const a = el("a");
    a.href = URL.createObjectURL(blob);
    a.download = `${view.ledger}-${pool || "all-pools"}-reservations.csv`;
    document.body.append(a);
    a.click();
    a.remove();
    setTimeout(() => URL.revokeObjectURL(a.href), 60_000);
    say(`Exported ${a.download}.`);
  } catch (e) {
    failed("The export")(e);
  }
}

// ------------------------------------------------------------------ wiring

$("login").addEventListener("submit", (e) => {
  e.preventDefault();
  sessionStorage.setItem(KEY, $("key").value);
  $("login-error").textContent = "";
  start();
});
$("sign-out").addEventListener("click", () => signOut());
$("pause").addEventListener("click", togglePause);
$("csv").addEventListener("click", downloadCsv);
$("ledger").addEventListener("change", (e) => openLedger(e.target.value));

if (sessionStorage.getItem(KEY)) start();
else signOut();
