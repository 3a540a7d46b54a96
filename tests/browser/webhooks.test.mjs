// Webhooks in the portal (issue 15), in real headless Chromium against the real binary and a
// receiver in this process: a provider adds a webhook for every event, copies its secret once,
// adds a number, and sees the delivery in the webhook's log with the receiver's answer; the
// receiver got the event signed with that secret. The receiver then fails: the log shows the
// failure and the next try; sent again once it answers, the same event id arrives again.
// Turned off, then on. On the dashboard, a segment of the pool watched shows its days to
// exhaustion. One demo server (allowed to deliver to loopback) for this file.

import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { createServer } from 'node:http';
import { createHmac } from 'node:crypto';
import { useDemo, newPage, signIn, checkA11y, screenshots } from './harness.mjs';

let demo;
let browser;

useDemo(
  (d, b) => {
    demo = d;
    browser = b;
  },
  { env: { NUMBERPOOL_WEBHOOK_ALLOW_PRIVATE: 'true', NUMBERPOOL_WEBHOOK_RETRY_BASE_SECS: '60' } },
);

// The receiver: records each request, answers 500 while `failing`.
const seen = [];
let failing = false;
const receiver = createServer((req, res) => {
  const chunks = [];
  req.on('data', (c) => chunks.push(c));
  req.on('end', () => {
    seen.push({ headers: req.headers, body: Buffer.concat(chunks), answered: failing ? 500 : 200 });
    res.writeHead(failing ? 500 : 200).end();
  });
});
await new Promise((r) => receiver.listen(0, '127.0.0.1', r));
const hookUrl = `http://127.0.0.1:${receiver.address().port}/hook`;
after(() => receiver.close());

async function until(what, check, ms = 30_000) {
  const end = Date.now() + ms;
  for (;;) {
    const v = check();
    if (v) return v;
    assert.ok(Date.now() < end, `gave up waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

// The receiver has a request before the server has recorded its answer: the log is read again
// until its first row says what is expected.
async function logSays(page, url, pattern) {
  const end = Date.now() + 30_000;
  for (;;) {
    await page.goto(url);
    const text = await page.locator('#deliveries tbody tr').first().innerText().catch(() => '');
    if (pattern.test(text)) return text;
    assert.ok(Date.now() < end, `the log's first row never matched ${pattern}: ${text}`);
    await new Promise((r) => setTimeout(r, 200));
  }
}

test('a provider adds a webhook, sees it deliver a signed event, and sends one again', async () => {
  const { page } = await newPage(browser);
  await signIn(page, demo.url, demo.logins.portal);
  await page.getByRole('navigation', { name: 'Portal' }).getByRole('link', { name: 'Webhooks' }).click();
  assert.equal(await page.locator('h1').innerText(), 'Webhooks');
  await checkA11y(page, 'the webhooks page');

  // Only some types, none ticked: refused, and the form keeps what was typed.
  await page.getByLabel('URL').fill(hookUrl);
  await page.getByLabel('Only the types ticked below').check();
  await page.getByRole('button', { name: 'Add webhook' }).click();
  assert.match(await page.getByRole('alert').innerText(), /Tick at least one event type/);
  assert.equal(await page.getByLabel('URL').inputValue(), hookUrl);
  await page.getByLabel('Every event').check();
  await page.getByRole('button', { name: 'Add webhook' }).click();
  const secret = await page.getByLabel('Signing secret').inputValue();
  assert.match(secret, /^whsec_[A-Za-z0-9_-]{43}$/);
  assert.match(await page.getByRole('status').innerText(), /Copy the secret now; it is not shown again/);
  await checkA11y(page, 'the webhooks page with a new secret');
  await screenshots(page, 'webhook-secret');
  await page.getByRole('link', { name: 'I have copied it' }).click();
  await page.waitForURL(/\/portal\/webhooks\/[0-9a-f-]+$/);
  const hookPage = page.url();
  assert.match(await page.locator('main').innerText(), /Nothing sent yet/);
  assert.equal(await page.getByLabel('Signing secret').count(), 0, 'the secret is not shown again');

  // An event: a number added.
  await page.goto(`${demo.url}/portal/numbers/new`);
  await page.getByLabel('Phone number').fill('+442079460959');
  await page.getByRole('button', { name: 'Add number' }).click();
  await page.waitForURL(/\/portal\/numbers\/[0-9a-f-]+\?added=1/);
  const got = await until('the delivery', () => seen.find((r) => r.headers['numberpool-event-type'] === 'number.add'));
  assert.equal(got.answered, 200);
  // Signed with the secret the page showed (the check docs/EVENTS.md describes).
  const sig = got.headers['numberpool-signature'];
  const [, t, v1] = /^t=(\d+),v1=([0-9a-f]{64})$/.exec(sig) ?? [];
  assert.ok(t, `signature header: ${sig}`);
  const expected = createHmac('sha256', secret).update(`${t}.`).update(got.body).digest('hex');
  assert.equal(v1, expected, 'the signature verifies with the secret');
  const event = JSON.parse(got.body.toString());
  assert.equal(event.type, 'number.add');
  assert.deepEqual(event.after.phone_numbers, ['+442079460959']);

  await logSays(page, hookPage, /number\.add[\s\S]*delivered\s+1\s+HTTP 200/);
  await checkA11y(page, 'a webhook with its deliveries');
  await screenshots(page, 'webhook-deliveries');

  // The receiver fails: the log says so and when it is tried next.
  failing = true;
  const before = seen.length;
  await page.goto(`${demo.url}/portal/numbers/new`);
  await page.getByLabel('Phone number').fill('+442079460960');
  await page.getByRole('button', { name: 'Add number' }).click();
  await page.waitForURL(/\/portal\/numbers\/[0-9a-f-]+\?added=1/);
  await until('the failed attempt', () => seen.length > before);
  await logSays(page, hookPage, /number\.add[\s\S]*pending\s+1\s+HTTP 500\s+Next try/);
  await screenshots(page, 'webhook-failing');

  // Fixed; the delivered one sent again arrives with the same event id.
  failing = false;
  const firstId = got.headers['numberpool-event-id'];
  const delivered = page.locator('#deliveries tbody tr').filter({ hasText: 'delivered' }).first();
  await delivered.getByRole('button', { name: /^Send again/ }).click();
  await page.waitForURL(/done=replayed/);
  assert.match(await page.getByRole('status').innerText(), /queued to be sent again/);
  await until('the replay', () => seen.filter((r) => r.headers['numberpool-event-id'] === firstId).length === 2);

  // Off, then on again.
  await page.getByRole('button', { name: 'Turn off' }).click();
  await page.waitForURL(/done=webhook\.update/);
  assert.match(await page.locator('h1').innerText(), /Off/);
  await page.getByRole('button', { name: 'Turn on and send what waited' }).click();
  assert.match(await page.locator('h1').innerText(), /On/);
});

test('a viewer sees the webhooks but cannot change them, on a phone', async () => {
  const { page } = await newPage(browser, { size: 'phone' });
  await signIn(page, demo.url, demo.logins.viewer);
  await page.goto(`${demo.url}/portal/webhooks`);
  assert.match(await page.locator('main').innerText(), /127\.0\.0\.1/);
  assert.equal(await page.getByRole('button', { name: 'Add webhook' }).count(), 0);
  await page.getByRole('link', { name: /127\.0\.0\.1/ }).click();
  assert.equal(await page.getByRole('button', { name: /Turn (off|on)/ }).count(), 0);
  assert.equal(await page.getByRole('button', { name: /^Send again/ }).count(), 0);
  await checkA11y(page, 'the webhooks page on a phone');
  await screenshots(page, 'webhooks-phone');
});

test('a provider watches a segment of its pool and sees its days to exhaustion', async () => {
  const { page } = await newPage(browser);
  await signIn(page, demo.url, demo.logins.portal);
  assert.match(await page.locator('#forecast').innerText(), /No segment of the pool is watched/);
  // A bad prefix is refused beside the form.
  await page.getByLabel('Prefix').fill('14a5');
  await page.getByRole('button', { name: 'Watch segment' }).click();
  assert.match(await page.getByRole('alert').innerText(), /prefix: give up to 15 digits/);
  // The demo's +1 415 numbers, some allocated today: a pace, and so an end in sight.
  await page.getByLabel('Prefix').fill('1415');
  await page.getByLabel('Alert when out within (days)').fill('3650');
  await page.getByRole('button', { name: 'Watch segment' }).click();
  await page.waitForURL(/done=pool_threshold\.create/);
  assert.match(await page.getByRole('status').innerText(), /Pool threshold added: \+1415\./);
  const row = page.locator('#forecast tbody tr').first();
  assert.match(await row.innerText(), /\+1415\s+\d+\s+\d+\.\d\s+\d+\s+Alert: \d+ free at [\d.]+ a day: out in \d+ days \(within 3650\)/);
  await checkA11y(page, 'the dashboard with a watched segment');
  await screenshots(page, 'dashboard-forecast');
  await row.getByRole('button', { name: /Stop watching/ }).click();
  await page.waitForURL(/done=pool_threshold\.delete/);
  assert.match(await page.locator('#forecast').innerText(), /No segment of the pool is watched/);
});
