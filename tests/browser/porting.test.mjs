// Porting in the portal (issue 14), in real headless Chromium against the real binary: a
// provider checks numbers before ordering (a number already on the platform is said so, with
// the form kept), places a port-in order, sees it pending in its list and on its page with the
// PIN as its last digit only, moves it to pending and to scheduled with a date (each kept in
// the history), and cancels it after a confirmation, which takes its numbers off the platform
// again (on PostgreSQL the files share one database). A customer has no Porting page.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { useDemo, newPage, signIn, checkA11y, screenshots } from './harness.mjs';

let demo;
let browser;

useDemo((d, b) => {
  demo = d;
  browser = b;
});

async function fillOrder(page, numbers) {
  await page.getByLabel('Numbers', { exact: true }).fill(numbers);
  await page.getByLabel('Losing carrier').fill('Previous Carrier');
  await page.getByLabel('Account number with that carrier').fill('123456789');
  await page.getByLabel('Account PIN').fill('1234');
  await page.getByLabel('Authorized person').fill('John Doe');
  await page.getByLabel('Billing address').fill('123 Main St');
  await page.getByLabel('City', { exact: true }).fill('San Francisco');
  await page.getByLabel('State', { exact: true }).fill('CA');
  await page.getByLabel('ZIP').fill('94105');
  await page.getByLabel('Requested port date').fill('2030-02-01');
}

test('a provider checks, places, follows and cancels a porting order', async () => {
  const { context, page } = await newPage(browser);
  await signIn(page, demo.url, demo.logins.portal);
  await page.getByRole('link', { name: 'Porting' }).click();
  assert.equal(await page.locator('h1').innerText(), 'Porting');

  // The check before ordering: one number is on the platform already.
  await fillOrder(page, '+13125559000\n+14155550100');
  await page.getByRole('button', { name: 'Check numbers' }).click();
  await page.waitForLoadState('load');
  assert.match(await page.getByRole('alert').innerText(), /Some numbers cannot be ported/);
  const checks = page.locator('section', { has: page.getByRole('heading', { name: 'Portability check' }) }).locator('tbody tr');
  assert.match(await checks.nth(0).innerText(), /\+13125559000\s+Yes/);
  assert.match(await checks.nth(1).innerText(), /\+14155550100\s+No: already on the platform/);
  assert.equal(await page.getByLabel('Losing carrier').inputValue(), 'Previous Carrier', 'the form is kept');
  assert.equal(await page.getByLabel('Account PIN').inputValue(), '', 'the PIN is not sent back');
  await checkA11y(page, 'the portability check');

  // Ordered: the order's page, submitted, its PIN as the last digit.
  await fillOrder(page, '+13125559000\n+13125559001');
  await Promise.all([
    page.waitForURL(/\/portal\/porting\/[0-9a-f-]{36}\?done=porting_order.create/),
    page.getByRole('button', { name: 'Place order' }).click(),
  ]);
  assert.match(await page.getByRole('status').innerText(), /^Porting order placed: \+13125559000, \+13125559001\.$/);
  const details = await page.locator('dl.fields').innerText();
  assert.match(details, /Status\s+submitted/);
  assert.match(details, /Account PIN\s+\*\*\*4/);
  assert.doesNotMatch(await page.content(), /1234(?!5)/, 'the PIN is nowhere on the page');
  await checkA11y(page, 'a porting order');

  // Its numbers are in the pool as pending.
  const order = page.url().replace(/\?.*$/, '');
  await page.goto(`${demo.url}/portal/numbers?prefix=%2B131255590`);
  assert.match(await page.locator('p.count').innerText(), /^2 numbers/);
  assert.match(await page.locator('table tbody').innerText(), /Pending/i);

  // The signed letter of authorization, attached; a file of another type is refused.
  await page.goto(order);
  await page.getByLabel('File', { exact: true }).setInputFiles({ name: 'notes.txt', mimeType: 'text/plain', buffer: Buffer.from('not a letter') });
  await page.getByRole('button', { name: 'Attach' }).click();
  await page.waitForLoadState('load');
  assert.match(await page.getByRole('alert').innerText(), /PDF, PNG or JPEG/);
  await page.getByLabel('What it is').selectOption('loa');
  await page.getByLabel('File', { exact: true }).setInputFiles({ name: 'loa.pdf', mimeType: 'application/pdf', buffer: Buffer.from('%PDF-1.4\n% signed\n') });
  await page.getByRole('button', { name: 'Attach' }).click();
  await page.waitForURL(/done=porting_order.update/);
  assert.match(await page.locator('#attachments li').innerText(), /^loa\.pdf \(letter of authorization, \d+ bytes\)$/);
  const download = await page.request.get(`${demo.url}${await page.locator('#attachments li a').getAttribute('href')}`);
  assert.equal(download.headers()['content-type'], 'application/pdf');

  // Moves, each kept in the history; a scheduled move needs its date.
  await page.getByLabel('Move to').selectOption('pending');
  await page.getByRole('button', { name: 'Save' }).click();
  await page.waitForURL(/done=porting_order.status/);
  await page.getByLabel('Move to').selectOption('scheduled');
  await page.getByRole('button', { name: 'Save' }).click();
  await page.waitForLoadState('load');
  assert.match(await page.getByRole('alert').innerText(), /scheduled_date/);
  await page.getByLabel('Move to').selectOption('scheduled');
  await page.getByLabel('Firm date (when scheduled)').fill('2030-02-03');
  await page.getByRole('button', { name: 'Save' }).click();
  await page.waitForURL(/done=porting_order.status/);
  assert.match(await page.locator('dl.fields').innerText(), /Expected\s+2030-02-03/);
  const history = await page.locator('section', { has: page.getByRole('heading', { name: 'History' }) }).locator('tbody tr').allInnerTexts();
  assert.equal(history.length, 4, history.join(' | '));
  assert.match(history[0], /Order placed/);
  assert.match(history[1], /Details changed\s+attached loa\.pdf/);
  assert.match(history[3], /Now scheduled\s+2030-02-03/);
  await screenshots(page, 'port-order');

  // Cancelled after a confirmation: its numbers leave the platform.
  await Promise.all([
    page.waitForURL(/\/cancel$/),
    page.getByRole('link', { name: 'Cancel the order…' }).click(),
  ]);
  assert.match(await page.locator('main').innerText(), /\+13125559000, \+13125559001 is withdrawn/);
  await page.getByRole('button', { name: 'Cancel order' }).click();
  await page.waitForURL(/done=porting_order.status/);
  assert.match(await page.locator('dl.fields').innerText(), /Status\s+cancelled/);
  assert.equal(await page.getByLabel('Move to').count(), 0, 'a closed order offers no move');
  await page.goto(`${demo.url}/portal/numbers?prefix=%2B131255590`);
  assert.match(await page.locator('main').innerText(), /No numbers match these filters/);
  await page.goto(`${demo.url}/portal/porting`);
  assert.match(await page.locator('#orders tbody').innerText(), /\+13125559000, \+13125559001\s+Previous Carrier\s+cancelled/);
  await screenshots(page, 'porting');
  await context.close();
});

test('a customer has no porting page', async () => {
  const { context, page } = await newPage(browser);
  await signIn(page, demo.url, demo.logins.customer);
  assert.equal(await page.getByRole('link', { name: 'Porting' }).count(), 0);
  await context.close();
});
