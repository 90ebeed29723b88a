// The plugin on a real WordPress: a visitor in Chromium, the Emstek rush of
// form posts with a pause pressed in wp-admin, the mails at a real SMTP server,
// and the delivery-slot picker. See harness.mjs for what runs.
import assert from "node:assert/strict";
import { after, before, test } from "node:test";
import * as h from "./harness.mjs";

let k, site, smtp, browser;

before(async () => {
  const db = await h.startMariaDB();
  smtp = await h.startSmtp();
  const port = await h.freePort();
  k = await h.startKontingent({ at: h.OPENS - 300_000, smtpPort: smtp.port, siteOrigin: `http://127.0.0.1:${port}` });
  site = await h.startWordPress({
    port,
    db,
    settings: { server_url: k.base, public_url: k.base, client_key: h.CLIENT, operator_key: h.OPERATOR, ledger: "emstek" },
    pages: {
      vouchers: "[kontingent_vouchers]",
      block: '<!-- wp:kontingent/vouchers {"offers":"zur-post-20,landhaus-linde-20"} /-->',
      delivery: '[kontingent_slots ledger="pampanin" template="delivery" products="vanilla-tub,chocolate-tub,raspberry-sorbet-tub" count="6"]',
    },
  });
  browser = await h.launchChromium();
});

after(async () => {
  await browser?.close();
  // The site's PHP log: WordPress 6.1 itself is noisy on PHP 8.2; the plugin must not be.
  const ours = (site?.debugLog() ?? "").split("\n").filter((l) => l.includes("plugins/kontingent"));
  h.stopAll();
  assert.deepEqual(ours, [], "PHP notices, warnings or errors from the plugin");
});

const outcome = (page) => page.locator(".kontingent-outcome");
const left = (page, offer) => page.locator(`[data-offer="${offer}"] .kontingent-left`).first();

/** Choose a voucher, give an address, send; the result page after the redirect. */
async function send(page, offer, email) {
  await page.check(`input[name=offer][value="${offer}"]`);
  await page.fill("input[name=email]", email);
  await Promise.all([page.waitForNavigation(), page.click("form.kontingent-form button[type=submit]")]);
  return outcome(page);
}

test("the voucher form: live availability, a countdown before the opening, every outcome on the page", async () => {
  const page = await browser.newPage();
  const served = await (await page.goto(site.page("vouchers"))).text();
  // Each page view mints its own request id (a page cache would share the served one).
  const minted = await page.inputValue("input[name=request_id]");
  assert.match(minted, /^[0-9a-f]{32}$/);
  assert.ok(!served.includes(minted), "the page's id is not the served one");
  // Grouped by restaurant (not by the budget every voucher draws from), with what is left.
  assert.deepEqual(await page.locator("fieldset.kontingent-pool legend").allTextContents(), ["zur-post", "eiscafe-venezia", "landhaus-linde"]);
  assert.equal(await left(page, "zur-post-20").textContent(), "20");
  // The countdown counts by the server's (rehearsal) clock: five minutes, ticking.
  const countdown = page.locator(".kontingent-banner[data-reason=not_open_yet] .kontingent-countdown");
  const first = await countdown.textContent();
  assert.match(first, /^0:0[45]:\d\d$/);
  await page.waitForTimeout(2_200);
  const later = await countdown.textContent();
  assert.ok(later < first, `${later} after ${first}`);

  let o = await send(page, "zur-post-20", "anna@example.org");
  assert.equal(await o.getAttribute("data-reason"), "not_open_yet");
  assert.match(await o.locator(".kontingent-countdown").textContent(), /^0:0[45]:\d\d$/);

  await k.setClock(h.OPENS + 1_000);
  await page.goto(site.page("vouchers"));
  assert.equal(await page.locator(".kontingent-banner").count(), 0, "no banner once open");
  o = await send(page, "zur-post-20", "anna@example.org");
  assert.equal(await o.getAttribute("data-status"), "confirmed");
  assert.match(await o.textContent(), /reservation \d+ is yours/);
  assert.equal(await left(page, "zur-post-20").textContent(), "19");

  // A second visitor's form is open while the small restaurant sells out elsewhere:
  // the page greys it out by itself (the server's event stream), and sending it
  // anyway is refused with what is left.
  const late = await browser.newPage();
  await late.goto(site.page("vouchers"));
  await late.check('input[name=offer][value="eiscafe-venezia-20"]');
  await k.call("POST", "/v1/ledgers/emstek/capacity", h.OPERATOR, { pool: "eiscafe-venezia", capacity: 1 });
  const bob = await k.reserve("emstek", { request_id: "bob-1", customer: "bob@example.org", lines: [{ offer: "eiscafe-venezia-20", quantity: 1 }], confirm: true });
  assert.equal(bob.status, "confirmed");
  await late.locator('[data-offer="eiscafe-venezia-20"].kontingent-full').waitFor({ timeout: 10_000 });
  assert.equal(await left(late, "eiscafe-venezia-20").textContent(), "0");
  assert.equal(await left(late, "zur-post-20").textContent(), "19");
  o = await send(late, "eiscafe-venezia-20", "late@example.org");
  assert.equal(await o.getAttribute("data-reason"), "sold_out");
  assert.match(await o.textContent(), /eiscafe-venezia has 0 left, you asked for 1/);
  assert.deepEqual(await o.locator(".kontingent-still li").allTextContents(), ["zur-post-20: 19 left", "landhaus-linde-20: 35 left"]);
  // A reload of the result page shows the same outcome, without asking again.
  const shown = await o.textContent();
  await late.reload();
  assert.equal(await outcome(late).textContent(), shown);
  await page.close();
  await late.close();
});

test("the voucher form as a block: rendered on the server by the same code, with its attributes; nothing outside them can be posted", async () => {
  const html = await (await fetch(site.page("block"))).text();
  assert.deepEqual([...html.matchAll(/name="offer" value="([^"]+)"/g)].map((m) => m[1]), ["zur-post-20", "landhaus-linde-20"]);
  assert.match(html, /name="request_id" value="[0-9a-f]{32}"/);
  // The offers and the ledger are signed into the form's nonce.
  const form = parseForm(html);
  const hidden = await post(form, "eiscafe-venezia-20", "mallory@example.org");
  assert.deepEqual([hidden.status, hidden.reservation], ["invalid", ""]);
  const other = await fetch(`${site.url}/wp-admin/admin-post.php`, { method: "POST", redirect: "manual", body: new URLSearchParams({
    action: "kontingent_voucher", kontingent_nonce: form.nonce, request_id: "0".repeat(32), ledger: "pampanin", scope: form.scope,
    return: site.url, offer: "vanilla-tub", quantity: "1", email: "mallory@example.org" }) });
  assert.equal(other.status, 403);
  const widened = await fetch(`${site.url}/wp-admin/admin-post.php`, { method: "POST", redirect: "manual", body: new URLSearchParams({
    action: "kontingent_voucher", kontingent_nonce: form.nonce, request_id: "1".repeat(32), ledger: "emstek", scope: "",
    return: site.url, offer: "eiscafe-venezia-20", quantity: "1", email: "mallory@example.org" }) });
  assert.equal(widened.status, 403);
  // The availability route answers for the ledgers this site's pages show (signed), no other.
  const signed = html.match(/data-availability="([^"]+)"/)[1].replaceAll("&#038;", "&");
  assert.equal((await fetch(signed)).status, 200);
  assert.equal((await fetch(signed.replace("ledger=emstek", "ledger=pampanin"))).status, 404);
  assert.equal((await fetch(`${site.url}/?rest_route=/kontingent/v1/availability&ledger=emstek`)).status, 404);
  assert.equal((await k.availability()).pools.find((p) => p.name === "budget").held, 0, "nothing was reserved");
});

test("a form sent whose answer the tab never saw keeps its request id; a fresh page view mints a new one", async () => {
  const page = await browser.newPage();
  await page.goto(site.page("vouchers"));
  const sent = await page.inputValue("input[name=request_id]");
  // The post is lost on its way (a proxy's timeout page): the tab never sees a result.
  await page.route("**/admin-post.php", (r) => r.abort("timedout"));
  await page.check('input[name=offer][value="zur-post-20"]');
  await page.fill("input[name=email]", "gina@example.org");
  await page.click("form.kontingent-form button[type=submit]").catch(() => {});
  await page.waitForTimeout(500);
  await page.unroute("**/admin-post.php");
  await page.goto(site.page("vouchers"));
  assert.equal(await page.inputValue("input[name=request_id]"), sent, "sent again, the same id");
  // Once its result page is shown, the next form is a new one.
  const o = await send(page, "zur-post-20", "gina@example.org");
  assert.match(page.url(), new RegExp(`kontingent=${sent}`));
  assert.equal(await o.getAttribute("data-status"), "confirmed");
  await page.goto(site.page("vouchers"));
  assert.notEqual(await page.inputValue("input[name=request_id]"), sent);
  await page.close();
});

/** The form fields of one rendered voucher form. */
function parseForm(html) {
  const field = (name) => html.match(new RegExp(`name="${name}" value="([^"]*)"`))?.[1];
  const form = { nonce: field("kontingent_nonce"), request_id: field("request_id"), return: field("return"), scope: field("scope") };
  assert.ok(form.nonce && form.request_id && form.return, "a form with its nonce and request id");
  return form;
}

/** Post a form as a browser does (POST, 303, GET) and read the outcome it shows. */
async function post(form, offer, email, ledger = "emstek") {
  const body = new URLSearchParams({ action: "kontingent_voucher", kontingent_nonce: form.nonce, request_id: form.request_id,
    ledger, scope: form.scope, return: form.return.replaceAll("&#038;", "&"), offer, quantity: "1", email });
  const started = Date.now();
  const r = await fetch(`${site.url}/wp-admin/admin-post.php`, { method: "POST", body, redirect: "manual" });
  assert.equal(r.status, 303, await r.text());
  const html = await (await fetch(new URL(r.headers.get("location"), site.url))).text();
  const m = html.match(/class="kontingent-outcome[^"]*" role="status" data-status="([^"]*)" data-reason="([^"]*)" data-reservation="([^"]*)"/);
  assert.ok(m, "the result page shows an outcome");
  return { status: m[1], reason: m[2], reservation: m[3], started, email };
}

/** Run `jobs` (functions returning promises) `width` at a time. */
async function pool(jobs, width) {
  const results = new Array(jobs.length);
  let next = 0;
  await Promise.all(Array.from({ length: width }, async () => {
    while (next < jobs.length) {
      const i = next++;
      results[i] = await jobs[i]();
    }
  }));
  return results;
}

test("the Emstek rush through WordPress: double submits, reloads, a pause pressed in wp-admin, one e-mail per voucher", async (t) => {
  const t0 = Date.now();
  const OFFERS = ["zur-post-20", "eiscafe-venezia-20", "landhaus-linde-20"];
  const BEFORE_PAUSE = 230, AFTER_PAUSE = 100;
  // Every form is rendered (opened in a visitor's browser) before the rush starts.
  const pages = await pool(Array.from({ length: BEFORE_PAUSE + AFTER_PAUSE }, () => async () =>
    parseForm(await (await fetch(site.page("vouchers"))).text())), 24);
  let seed = 7;
  const random = () => (seed = (seed * 1103515245 + 12345) % 2 ** 31) / 2 ** 31;
  const forms = pages.map((form, i) => ({
    form,
    offer: OFFERS[Math.floor(random() * 3)],
    // Every seventh form is one of a few eager customers (the limit is two vouchers each).
    email: i % 7 === 0 ? `eager${i % 3}@example.org` : `visitor${i}@example.org`,
    double: i % 8 === 3,
    reload: i % 11 === 5,
  }));

  const admin = await h.adminContext(browser, site);
  let pausedAt = null;
  let done = 0;
  let pausing;
  const pressPause = async () => {
    await admin.page.goto(`${site.url}/wp-admin/admin.php?page=kontingent-campaign`);
    await Promise.all([admin.page.waitForNavigation(), admin.page.click("#kontingent-operate")]);
    await admin.page.locator('#kontingent-operated[data-done="pause"]').waitFor();
    pausedAt = Date.now();
  };
  const run = (f) => async () => {
    const sent = f.double
      ? await Promise.all([post(f.form, f.offer, f.email), post(f.form, f.offer, f.email)])
      : [await post(f.form, f.offer, f.email)];
    if (f.reload) sent.push(await post(f.form, f.offer, f.email));
    if (++done === 150) pausing = pressPause();
    return sent;
  };
  const rush = await pool(forms.slice(0, BEFORE_PAUSE).map(run), 32);
  await pausing;
  assert.ok(pausedAt, "the pause was pressed during the rush");
  const late = await pool(forms.slice(BEFORE_PAUSE).map(run), 32);

  const all = [...rush, ...late];
  const count = {};
  for (const o of all.flat()) count[o.reason || o.status] = (count[o.reason || o.status] ?? 0) + 1;
  t.diagnostic(`${all.length} forms, ${all.flat().length} posts (32 at a time) in ${Date.now() - t0} ms with the form pages; answers: ${JSON.stringify(count)}`);
  for (const [i, sent] of all.entries()) {
    // A double submit and a reload answer the first outcome.
    const key = (o) => `${o.status}/${o.reason}/${o.reservation}`;
    assert.equal(new Set(sent.map(key)).size, 1, `form ${i}: ${sent.map(key)}`);
    for (const o of sent) assert.notEqual(o.status, "error", `form ${i}: ${key(o)}`);
  }
  const firsts = all.map((sent) => sent[0]);
  for (const o of late.map((s) => s[0])) assert.equal(o.reason, "paused", "a form sent after the pause");
  for (const o of firsts.filter((o) => o.started > pausedAt)) assert.equal(o.reason, "paused", "a post that started after the pause");
  const confirmed = firsts.filter((o) => o.status === "confirmed");
  // Anna, Bob and Gina hold three vouchers from the tests before: 47 were left.
  assert.equal(confirmed.length, 47);
  assert.equal(new Set(confirmed.map((o) => o.reservation)).size, 47);
  const reasons = new Set(firsts.filter((o) => o.status === "refused").map((o) => o.reason));
  assert.ok(reasons.has("sold_out") && reasons.has("paused") && reasons.has("customer_limit"), [...reasons].join());
  const a = await k.availability();
  const budget = a.pools.find((p) => p.name === "budget");
  assert.deepEqual([budget.confirmed, budget.held, a.paused], [1000, 0, true], "exactly the budget confirmed, nothing held");

  // The server's mailer: one message per confirmed voucher, to its customer, none for anything else.
  const expected = [...confirmed.map((o) => o.email), "anna@example.org", "bob@example.org", "gina@example.org"].sort();
  const deadline = Date.now() + 60_000;
  while (smtp.messages().length < expected.length && Date.now() < deadline) await new Promise((r) => setTimeout(r, 200));
  await new Promise((r) => setTimeout(r, 1_500)); // a duplicate would come now
  const mails = smtp.messages();
  assert.equal(mails.length, 50);
  assert.equal(new Set(mails.map((m) => m.message_id)).size, 50);
  assert.deepEqual(mails.map((m) => m.to.join()).sort(), expected);
  for (const m of mails) assert.match(m.subject, /^Your voucher 1 × [a-z-]+-20 is confirmed$/);
  await admin.context.close();
});

test("wp-admin: resume on the campaign page, the operator console embedded, the connection check", async () => {
  const { context, page } = await h.adminContext(browser, site);
  await page.goto(`${site.url}/wp-admin/admin.php?page=kontingent-campaign`);
  assert.equal(await page.locator("#kontingent-state").getAttribute("data-paused"), "true");
  assert.equal(await page.locator('tr[data-pool="budget"] td').nth(3).textContent(), "1000");
  await Promise.all([page.waitForNavigation(), page.click("#kontingent-operate")]);
  await page.locator('#kontingent-operated[data-done="resume"]').waitFor();
  assert.equal(await page.locator("#kontingent-state").getAttribute("data-paused"), "false");
  assert.equal((await k.availability()).paused, false);
  // The server's console, framed (the server names this site as a frame ancestor), asks for the key.
  const consoleFrame = page.frameLocator("#kontingent-console");
  await consoleFrame.locator("[data-testid=login]").waitFor({ state: "visible", timeout: 10_000 });
  await consoleFrame.locator("[data-testid=key]").fill(h.OPERATOR);
  await consoleFrame.locator("[data-testid=login] button").click();
  await consoleFrame.locator("[data-testid=pause]").waitFor({ state: "visible", timeout: 10_000 });

  await page.goto(`${site.url}/wp-admin/options-general.php?page=kontingent-settings`);
  assert.equal(await page.inputValue("#kontingent_ledger"), "emstek");
  // The keys are never written back into the page; saving without them keeps them.
  assert.equal(await page.inputValue("#kontingent_client_key"), "");
  assert.ok(!(await page.content()).includes(h.OPERATOR) && !(await page.content()).includes(h.CLIENT), "a key in the page");
  await Promise.all([page.waitForNavigation(), page.click('form[action="options.php"] #submit')]);
  assert.equal(await page.inputValue("#kontingent_ledger"), "emstek");
  await Promise.all([page.waitForNavigation(), page.click('form[action$="admin-post.php"] input[type=submit]')]);
  assert.match(await page.locator("#kontingent-check").textContent(), /Connected: ledger emstek answers, with 3 offers/);
  await context.close();
});

test("the delivery-slot picker: free slots, a full one greyed out, the delivery area and the minimum order", async () => {
  // Fill the 13:30 slot (four deliveries) from elsewhere.
  for (let i = 0; i < 4; i++) {
    const o = await k.reserve("pampanin", { request_id: `phone-${i}`, customer: `d${i}@example.org`, channel: "web", confirm: true,
      lines: [{ offer: "vanilla-tub", quantity: 3 }, { offer: "delivery@2026-10-24T13:30", quantity: 1 }], attributes: { postal_code: "49685" } });
    assert.equal(o.status, "confirmed");
  }
  const page = await browser.newPage();
  await page.goto(site.page("delivery"));
  const slot = (t) => page.locator(`[data-offer="delivery@2026-10-24T${t}"]`);
  // 12:00 and 12:30 start within the 45 minutes' lead time: the first free slot is 13:00.
  assert.equal(await page.locator(".kontingent-slot-list label").first().getAttribute("data-offer"), "delivery@2026-10-24T13:00");
  assert.match(await slot("13:30").getAttribute("class"), /kontingent-full/);
  assert.equal(await slot("13:30").locator("input").isDisabled(), true);
  assert.equal(await slot("14:00").locator("input").isDisabled(), false);

  const order = async (tubs, postal) => {
    await page.fill('input[name="products[vanilla-tub]"]', String(tubs));
    await page.check('input[name=slot][value="delivery@2026-10-24T13:00"]');
    await page.fill("input[name=postal_code]", postal);
    await page.fill("input[name=email]", "eva@example.org");
    await Promise.all([page.waitForNavigation(), page.click("form.kontingent-form button[type=submit]")]);
    return outcome(page);
  };
  let o = await order(3, "10115");
  assert.equal(await o.getAttribute("data-reason"), "rule");
  assert.match(await o.textContent(), /delivery_area/);
  o = await order(1, "49685");
  assert.equal(await o.getAttribute("data-reason"), "rule");
  assert.match(await o.textContent(), /min_order_value/);
  o = await order(3, "49685");
  assert.equal(await o.getAttribute("data-status"), "confirmed");
  assert.equal(await slot("13:00").locator(".kontingent-left").textContent(), "3");
  await page.close();
});

test("no answer from the server: the result page sends the same post again, and it reserves once", async () => {
  const page = await browser.newPage();
  await page.goto(site.page("delivery"));
  const before = Number(await page.locator('[data-offer="delivery@2026-10-24T14:00"] .kontingent-left').textContent());
  await page.fill('input[name="products[chocolate-tub]"]', "3");
  await page.check('input[name=slot][value="delivery@2026-10-24T14:00"]');
  await page.fill("input[name=postal_code]", "49661");
  await page.fill("input[name=email]", "finn@example.org");
  await k.kill();
  await Promise.all([page.waitForNavigation(), page.click("form.kontingent-form button[type=submit]")]);
  let o = outcome(page);
  assert.equal(await o.getAttribute("data-status"), "error");
  assert.equal(await o.getAttribute("data-reason"), "transport");
  // The retry carries the request id the form was rendered with, not a new one.
  const id = await page.locator("form.kontingent-retry input[name=request_id]").inputValue();
  assert.match(page.url(), new RegExp(`kontingent=${id}`));
  await k.restart();
  await Promise.all([page.waitForNavigation(), page.click("form.kontingent-retry button")]);
  o = outcome(page);
  assert.equal(await o.getAttribute("data-status"), "confirmed");
  // Sent once more (a second click, a reload of the post): the first outcome, no second reservation.
  const first = await o.getAttribute("data-reservation");
  const again = await page.evaluate(async ([url, id]) => {
    const body = new URLSearchParams({ action: "kontingent_slot", kontingent_nonce: document.querySelector("input[name=kontingent_nonce]").value,
      request_id: id, ledger: "pampanin", scope: document.querySelector("input[name=scope]").value, return: location.href.split("?")[0] + "?" + new URL(location.href).searchParams.toString().replace(/&?kontingent=[0-9a-f]+/, ""),
      "products[chocolate-tub]": "3", slot: "delivery@2026-10-24T14:00", postal_code: "49661", email: "finn@example.org" });
    const r = await fetch(url, { method: "POST", body });
    return r.url;
  }, [`${site.url}/wp-admin/admin-post.php`, id]);
  await page.goto(again);
  assert.equal(await outcome(page).getAttribute("data-reservation"), first);
  const a = await k.availability("pampanin");
  const left = a.pools.find((p) => p.name === "delivery@2026-10-24T14:00");
  assert.equal(left.capacity - left.held - left.confirmed, before - 1, "one delivery taken, not two");
  await page.close();
});
