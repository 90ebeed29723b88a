// The web preview's server: both stories on the Node ledger (durable journals),
// serving the page, the catalog and a snapshot, and the deltas after it as
// Server-Sent Events, on 127.0.0.1 only.
//
//   node server.mjs [--port 8080] [--dir DIR] [--frozen]
//
// Each story runs on its own clock, started just before its interesting moment
// (Emstek: two minutes before the noon opening; Pampanin: the launch afternoon),
// running at real speed unless --frozen (then time moves only by POST /api/:story/advance).
import http from "node:http";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { Ledger, ManualClock, compileCatalog, systemClock } from "../../bindings-wasm/js/node.mjs";

const HERE = path.dirname(fileURLToPath(import.meta.url));
const ROOT = path.resolve(HERE, "../..");
const arg = (name, fallback) => {
  const i = process.argv.indexOf(`--${name}`);
  return i > 0 ? process.argv[i + 1] : fallback;
};
const PORT = Number(arg("port", "8080"));
const DIR = arg("dir", fs.mkdtempSync(path.join(os.tmpdir(), "kontingent-web-")));
const FROZEN = process.argv.includes("--frozen");

const STORIES = {
  emstek: {
    catalog: "examples/emstek-vouchers/catalog.toml",
    start: Date.UTC(2026, 10, 29, 10, 58), // 11:58 in Berlin, two minutes before the opening
  },
  pampanin: {
    catalog: "examples/pampanin-delivery/catalog.toml",
    start: Date.UTC(2026, 9, 23, 12, 5), // 14:05 in Berlin on the launch Friday
  },
};

/** The wall clock, shifted onto the story's day: it runs at real speed from `start`. */
class StoryClock {
  #offset;
  constructor(start) { this.#offset = start - systemClock.now(); }
  now() { return systemClock.now() + this.#offset; }
  advance(ms) { this.#offset += ms; }
}

const stories = {};
for (const [name, s] of Object.entries(STORIES)) {
  // The story's own clock, whatever today's date is: every command without a time reads it.
  const clock = FROZEN ? new ManualClock(s.start) : new StoryClock(s.start);
  const ledger = Ledger.open(path.join(DIR, `${name}.journal`), { clock });
  const text = fs.readFileSync(path.join(ROOT, s.catalog), "utf8");
  const story = { ledger, clock, clients: new Set(), sent: 0 };
  story.now = () => Math.max(clock.now(), ledger.now);
  if (ledger.catalog() === null) {
    await ledger.loadCatalog(compileCatalog(text, "toml", s.catalog));
  }
  story.sent = ledger.seq;
  stories[name] = story;
}

/** Push every delta not yet sent to every listening browser. */
function publish(story) {
  const deltas = story.ledger.deltasAfter(story.sent, 10_000);
  if (deltas.length === 0) return;
  story.sent = deltas[deltas.length - 1].seq;
  const frames = deltas.map((d) => `id: ${d.seq}\ndata: ${JSON.stringify(d)}\n\n`).join("");
  for (const res of story.clients) res.write(frames);
}

// Time passes on the server: due holds expire and their deltas go out.
if (!FROZEN) {
  setInterval(async () => {
    for (const story of Object.values(stories)) {
      await story.ledger.tick().catch(() => {});
      publish(story);
    }
  }, 1000).unref();
}

const TYPES = { ".html": "text/html", ".mjs": "text/javascript", ".js": "text/javascript", ".wasm": "application/wasm", ".css": "text/css" };
const STATIC = {
  "/": path.join(HERE, "index.html"),
  "/app.mjs": path.join(HERE, "app.mjs"),
  "/style.css": path.join(HERE, "style.css"),
  "/js/browser.mjs": path.join(ROOT, "bindings-wasm/js/browser.mjs"),
  "/js/clock.mjs": path.join(ROOT, "bindings-wasm/js/clock.mjs"),
  "/pkg-web/kontingent_wasm.js": path.join(ROOT, "bindings-wasm/pkg-web/kontingent_wasm.js"),
  "/pkg-web/kontingent_wasm_bg.wasm": path.join(ROOT, "bindings-wasm/pkg-web/kontingent_wasm_bg.wasm"),
};

const json = (res, status, body) => {
  res.writeHead(status, { "content-type": "application/json" });
  res.end(JSON.stringify(body));
};
const body = (req) =>
  new Promise((resolve, reject) => {
    let data = "";
    req.on("data", (c) => {
      data += c;
      if (data.length > 1 << 20) req.destroy();
    });
    req.on("end", () => {
      try { resolve(data ? JSON.parse(data) : {}); } catch (e) { reject(e); }
    });
  });
const problem = (e) => ({ error: { code: e.code ?? "invalid_input", message: e.message } });

const server = http.createServer(async (req, res) => {
  const url = new URL(req.url, "http://127.0.0.1");
  const file = STATIC[url.pathname];
  if (req.method === "GET" && file) {
    res.writeHead(200, { "content-type": TYPES[path.extname(file) || ".html"] ?? "application/octet-stream" });
    return fs.createReadStream(file).pipe(res);
  }
  const m = url.pathname.match(/^\/api\/(\w+)\/([\w-]+)$/);
  const story = m && stories[m[1]];
  if (!story) return json(res, 404, { error: { code: "not_found", message: url.pathname } });
  const l = story.ledger;
  try {
    switch (`${req.method} ${m[2]}`) {
      case "GET catalog": return json(res, 200, l.catalog());
      case "GET snapshot": return json(res, 200, l.snapshot());
      case "GET time": return json(res, 200, { now: story.now() });
      case "GET events": {
        // Server-Sent Events: the deltas after ?after=seq (or Last-Event-ID), then live.
        const after = Number(req.headers["last-event-id"] ?? url.searchParams.get("after") ?? l.seq);
        res.writeHead(200, { "content-type": "text/event-stream", "cache-control": "no-cache", connection: "keep-alive" });
        const backlog = l.deltasAfter(after, 100_000).filter((d) => d.seq <= story.sent);
        res.write(backlog.map((d) => `id: ${d.seq}\ndata: ${JSON.stringify(d)}\n\n`).join("") || ": ok\n\n");
        story.clients.add(res);
        req.on("close", () => story.clients.delete(res));
        return;
      }
      case "POST reserve": {
        const b = await body(req);
        const outcome = await l.reserve(b.request, b.at);
        publish(story);
        return json(res, 200, outcome);
      }
      case "POST confirm":
      case "POST release": {
        const b = await body(req);
        const outcome = await (m[2] === "confirm" ? l.confirm(b.reservation) : l.release(b.reservation));
        publish(story);
        return json(res, 200, outcome);
      }
      case "POST preview": {
        // What the server itself would answer, for many requests at one time.
        const b = await body(req);
        return json(res, 200, b.requests.map((r) => {
          try { return l.preview(r, b.at); } catch (e) { return problem(e); }
        }));
      }
      case "POST advance": {
        const b = await body(req);
        story.clock.advance(b.ms ?? 0);
        await l.tick();
        publish(story);
        return json(res, 200, { now: story.now() });
      }
      default:
        return json(res, 404, { error: { code: "not_found", message: url.pathname } });
    }
  } catch (e) {
    return json(res, 400, problem(e));
  }
});

server.listen(PORT, "127.0.0.1", () => {
  console.log(`kontingent web preview on http://127.0.0.1:${server.address().port}/ (journals in ${DIR})`);
});
