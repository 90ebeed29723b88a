// A fast webhook receiver for bench/notify.sh: answers 204 at once and keeps,
// per notification, the lag from the event's `at` (the server's clock when its
// batch was stamped, just before the write and fdatasync) to its receipt.
// GET /stats answers {count, distinct, p50, p90, p99, max} in ms; GET /reset forgets.
import http from "node:http";

const lags = [];
const keys = new Set();
const server = http.createServer((req, res) => {
  if (req.method === "GET" && req.url === "/reset") {
    lags.length = 0;
    keys.clear();
    res.writeHead(204).end();
    return;
  }
  if (req.method === "GET") {
    const s = [...lags].sort((a, b) => a - b);
    const q = (p) => s.length ? s[Math.min(s.length - 1, Math.floor(p * s.length))] : null;
    res.writeHead(200, { "content-type": "application/json" });
    res.end(JSON.stringify({ count: s.length, distinct: keys.size, p50: q(0.5), p90: q(0.9), p99: q(0.99), max: s.at(-1) ?? null }));
    return;
  }
  let body = "";
  req.on("data", (d) => (body += d));
  req.on("end", () => {
    // The wall clock on purpose: the lag is measured against the event's `at`,
    // the server's system clock (bench/notify.sh starts it without --clock), on
    // the same machine. A benchmark of real time; no test runs it.
    const now = Date.now();
    const n = JSON.parse(body);
    lags.push(now - n.event.at);
    keys.add(n.key);
    res.writeHead(204).end();
  });
});
server.keepAliveTimeout = 60_000;
server.listen(0, "127.0.0.1", () => console.log(server.address().port));
