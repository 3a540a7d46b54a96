// File imports in the portal (issue 13), in real headless Chromium against the real binary:
// upload a file with two bad rows, see them in the plan, apply the good row, download the
// rejected rows, fix them, upload that file as it is, apply. Also: what a file's cells hold
// shows as text, a viewer gets no upload form, and an upload without the form's token is
// refused. One demo server for this file; the tests run in order.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { useDemo, newPage, signIn, checkA11y, screenshots } from './harness.mjs';

let demo;
let browser;

useDemo((d, b) => {
  demo = d;
  browser = b;
});

/** Chooses `text` as the file `name` on the upload form and submits it; waits for the plan. */
async function upload(page, name, text) {
  await page.getByLabel('CSV or XLSX file').setInputFiles({ name, mimeType: 'text/csv', buffer: Buffer.from(text) });
  await Promise.all([
    page.waitForURL(/\/portal\/imports\/[0-9a-f-]+$/),
    page.getByRole('button', { name: 'Upload and check' }).click(),
  ]);
}

// Waits (through the page's own refreshes) until the apply's notice says `text`.
async function applied(page, text) {
  await page.getByRole('status').filter({ hasText: text }).waitFor({ timeout: 30_000 });
}

test('a provider imports a file, fixes its rejected rows and imports them', async () => {
  const { context, page } = await newPage(browser);
  await signIn(page, demo.url, demo.logins.portal);
  await page.getByRole('link', { name: 'Numbers', exact: true }).click();
  await page.getByRole('link', { name: 'Import a file' }).click();
  assert.equal(await page.locator('h1').innerText(), 'Import numbers from a file');
  assert.equal(await page.getByRole('link', { name: 'Add', exact: true }).getAttribute('aria-current'), 'page');
  await checkA11y(page, 'the import page');
  await screenshots(page, 'import-upload');

  // One good row, two bad: a trunk the provider does not have, a number without + or country.
  const file = 'Phone Number;SIP Trunk;Billing Reference\n+14155550971;;B-71\n+14155550972;no-such-trunk;B-72\n4155550973;;B-73\n';
  await upload(page, 'batch.csv', file);
  const main = page.locator('main');
  assert.match(await main.innerText(), /The plan: nothing has changed yet/);
  assert.match(await page.locator('dl.counts').innerText(), /To add\s+1/);
  assert.match(await page.locator('dl.counts').innerText(), /Rejected\s+2/);
  const rows = page.locator('table tbody tr');
  assert.equal(await rows.count(), 2);
  assert.match(await rows.nth(0).innerText(), /^3\s+\+14155550972\s+SIP Trunk: "no-such-trunk" is not a SIP trunk of the provider\s+unknown_trunk/);
  assert.match(await rows.nth(1).innerText(), /^4\s+4155550973\s+.*no leading \+.*\s+needs_country R-NUM-2$/s);
  await checkA11y(page, 'an import plan with rejected rows');
  await screenshots(page, 'import-plan');

  // Apply the good row; the page says so and the number is there.
  await Promise.all([
    page.waitForURL(/\/portal\/imports\/[0-9a-f-]+\?done=applied$/),
    page.getByRole('button', { name: 'Apply' }).click(),
  ]);
  // The apply runs as a job: the page shows its progress and refreshes itself until it ends.
  assert.match(await page.locator('#plan-h').innerText(), /^(Applying…|Applied)$/);
  await applied(page, /Applied: 1 number added/);
  assert.equal(await page.getByRole('button', { name: 'Apply' }).count(), 0, 'applied once');

  // The rejected rows, as the uploaded CSV with a reason column.
  const [download] = await Promise.all([
    page.waitForEvent('download'),
    page.getByRole('link', { name: 'Download the rejected rows' }).click(),
  ]);
  assert.equal(download.suggestedFilename(), 'batch-rejected.csv');
  const rejected = readFileSync(await download.path(), 'utf8').replace(/^\uFEFF/, '');
  const lines = rejected.trim().split(/\r?\n/);
  assert.equal(lines[0], 'Phone Number;SIP Trunk;Billing Reference;reason');
  assert.equal(lines.length, 3, rejected);
  assert.match(lines[1], /^\+14155550972;no-such-trunk;B-72;"unknown_trunk: /);

  // Fixed in place and uploaded as it is, reason column and all.
  const fixed = rejected.replace('no-such-trunk', '').replace('4155550973;', '+14155550973;');
  await page.goto(`${demo.url}/portal/imports`);
  await upload(page, 'batch-rejected.csv', fixed);
  assert.match(await page.locator('dl.counts').innerText(), /To add\s+2/);
  assert.match(await page.locator('dl.counts').innerText(), /Rejected\s+0/);
  await page.getByRole('button', { name: 'Apply' }).click();
  await page.waitForURL(/done=applied$/);
  await applied(page, /Applied: 2 numbers added/);
  await screenshots(page, 'import-applied');

  // All three are in the inventory now; the recent imports list both files.
  await page.goto(`${demo.url}/portal/numbers?prefix=%2B141555509`);
  for (const n of ['+14155550971', '+14155550972', '+14155550973']) {
    assert.equal(await page.getByRole('link', { name: n, exact: true }).count(), 1, n);
  }
  // An imported US number has its place from the number (libphonenumber's geocoding data).
  await page.getByRole('link', { name: '+14155550971', exact: true }).click();
  assert.match(await page.locator('dl.fields').innerText(), /Location\s+San Francisco, CA/);
  await page.goto(`${demo.url}/portal/imports`);
  assert.equal(await page.getByRole('row', { name: /batch/ }).count(), 2);

  // An Update file changes what its cells say, and shows each change before it applies.
  await page.getByRole('link', { name: 'Update', exact: true }).click();
  await upload(page, 'update.csv', 'Phone Number,Billing Reference\n+14155550971,B-71 new\n+14155550972,B-72\n');
  assert.match(await page.locator('dl.counts').innerText(), /To update\s+1/);
  assert.match(await page.locator('dl.counts').innerText(), /Unchanged\s+1/);
  assert.match(await page.getByRole('region', { name: /Changes/ }).innerText(), /billing_reference\s+B-71\s+B-71 new/);
  await checkA11y(page, 'an update plan with its changes');
  await screenshots(page, 'import-update-plan');
  await page.getByRole('button', { name: 'Apply' }).click();
  await page.waitForURL(/done=applied$/);
  await applied(page, /Applied: 1 number updated/);
  await context.close();
});

test("seed 003's form: a provider uploads a file for its reseller with the carriers chosen", async () => {
  const { context, page } = await newPage(browser);
  await signIn(page, demo.url, demo.logins.portal);
  await page.goto(`${demo.url}/portal/imports`);
  await page.getByLabel('Voice carrier').selectOption({ label: 'Carrier Two' });
  assert.deepEqual(
    await page.getByLabel('SMS carrier profile').locator('option').allInnerTexts(),
    ["The provider's default SMS carrier", 'SMS Profile A'],
  );
  await page.getByLabel('Allocate the numbers to').selectOption({ label: 'Blue Sky Reseller (reseller)' });
  await checkA11y(page, 'the import form with its seed 003 fields');
  await screenshots(page, 'import-seed-003-form');
  await upload(page, 'reseller.csv', 'Country Code,Phone Number,Voice,SMS,Fax\n1,4155550981,TRUE,TRUE,FALSE\n1,4155550982,FALSE,FALSE,TRUE\n');
  assert.match(await page.locator('dl.counts').innerText(), /To add\s+2/);
  await page.getByRole('button', { name: 'Apply' }).click();
  await page.waitForURL(/done=applied$/);
  await applied(page, /Applied: 2 numbers added/);

  // The number shows the form's voice carrier, and that it is with the reseller.
  await page.goto(`${demo.url}/portal/numbers?prefix=%2B14155550981`);
  await page.getByRole('link', { name: '+14155550981', exact: true }).click();
  const main = await page.locator('main').innerText();
  assert.match(main, /Carrier Two/);
  assert.match(main, /Blue Sky Reseller/);
  await context.close();
});

test('a file is refused whole with the reason, and its cells show as text', async () => {
  const { context, page } = await newPage(browser);
  await signIn(page, demo.url, demo.logins.portal);
  await page.goto(`${demo.url}/portal/imports`);
  await page.getByLabel('CSV or XLSX file').setInputFiles({ name: 'bad.csv', mimeType: 'text/csv', buffer: Buffer.from('Phone Number,Colour\n+14155550974,red\n') });
  await page.getByRole('button', { name: 'Upload and check' }).click();
  assert.match(await page.getByRole('alert').innerText(), /"Colour" is not a column of a Add import/);

  const hostile = 'Phone Number\n"<img src=x onerror=alert(1)>"\n<script>alert(2)</script>\n';
  await upload(page, '<b>x</b>.csv', hostile);
  const cells = await page.locator('table tbody td:nth-child(2)').allInnerTexts();
  assert.deepEqual(cells, ['<img src=x onerror=alert(1)>', '<script>alert(2)</script>']);
  assert.equal(await page.locator('main img').count(), 0);
  assert.match(await page.locator('h1').innerText(), /<b>x<\/b>\.csv/);
  await context.close();
});

test('a viewer cannot import, and an upload without the form token is refused', async () => {
  const viewer = await newPage(browser);
  await signIn(viewer.page, demo.url, demo.logins.viewer);
  await viewer.page.goto(`${demo.url}/portal/imports`);
  assert.equal(await viewer.page.getByLabel('CSV or XLSX file').count(), 0);
  assert.match(await viewer.page.locator('main').innerText(), /Viewers can look but not import/);
  await viewer.context.close();

  const { context, page } = await newPage(browser);
  await signIn(page, demo.url, demo.logins.portal);
  const res = await page.request.post(`${demo.url}/portal/imports`, {
    multipart: { action: 'add', file: { name: 'x.csv', mimeType: 'text/csv', buffer: Buffer.from('Phone Number\n+14155550975\n') } },
    maxRedirects: 0,
  });
  assert.equal(res.status(), 403);
  // With the token but without a file: refused on the tab it came from, with what to do.
  await page.goto(`${demo.url}/portal/imports?action=delete`);
  const csrf = await page.locator('form[action="/portal/imports"] input[name="csrf"]').inputValue();
  const empty = await page.request.post(`${demo.url}/portal/imports`, { multipart: { csrf, action: 'delete' } });
  assert.equal(empty.status(), 422);
  const html = await empty.text();
  assert.match(html, /Choose a CSV or XLSX file to upload/);
  assert.match(html, /href="\/portal\/imports\?action=delete" aria-current="page"/);
  await context.close();
});
