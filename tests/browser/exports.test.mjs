// Exports, notifications and jobs in the portal (issue 13), in real headless Chromium against
// the real binary: export the numbers list from the numbers page, watch it be made, download
// it; the navigation's badge and the notifications page announce it; mark it read; schedule a
// weekly export and delete the schedule; the jobs page lists the export and an applied import.
// One demo server for this file; the tests run in order.

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

test('a provider exports its numbers, is notified, downloads the file and schedules another', async () => {
  const { context, page } = await newPage(browser);
  await signIn(page, demo.url, demo.logins.portal);
  await page.getByRole('link', { name: 'Numbers', exact: true }).click();
  await page.getByRole('link', { name: 'Export', exact: true }).click();
  assert.equal(await page.locator('h1').innerText(), 'Export numbers');
  await checkA11y(page, 'the export page');
  await screenshots(page, 'export-form');

  await page.getByLabel('Numbers list').check();
  await page.getByLabel('CSV').check();
  await Promise.all([
    page.waitForURL(/\/portal\/exports\?done=queued$/),
    page.getByRole('button', { name: 'Export', exact: true }).click(),
  ]);
  assert.match(await page.getByRole('status').innerText(), /Export started/);
  // The page refreshes itself until the file is made.
  const download = page.getByRole('link', { name: 'Download' }).first();
  await download.waitFor({ timeout: 30_000 });
  const row = page.locator('tbody tr').first();
  assert.match(await row.innerText(), /Numbers list\s+CSV\s+ready\s+\d+ numbers, \d+ KB; kept until/);
  await screenshots(page, 'export-ready');
  const [file] = await Promise.all([page.waitForEvent('download'), download.click()]);
  assert.match(file.suggestedFilename(), /^numbers-list-\d{4}-\d{2}-\d{2}\.csv$/);
  const text = readFileSync(await file.path(), 'utf8');
  assert.ok(text.startsWith('\uFEFF'), 'a BOM, for Excel');
  assert.match(text.split(/\r?\n/)[1] ?? '', /^\+1\d{10},/);

  // The navigation says there is one unread notification; the page says what it is.
  const nav = page.getByRole('navigation', { name: 'Portal' }).getByRole('link', { name: /Notifications/ });
  await nav.getByText('1').waitFor();
  assert.match(await nav.innerText(), /Notifications\s*1/);
  await nav.click();
  assert.match(await page.locator('main').innerText(), /1 unread\./);
  const note = page.locator('ul.notes li').first();
  assert.match(await note.innerText(), /New Your numbers list export is ready: \d+ numbers \(CSV\)\./);
  assert.equal(await note.getByRole('link', { name: 'Download the file' }).count(), 1);
  await checkA11y(page, 'the notifications page');
  await screenshots(page, 'notifications');
  await page.getByRole('button', { name: 'Mark all read' }).click();
  assert.match(await page.locator('main').innerText(), /Nothing new\./);
  assert.equal(await page.locator('ul.notes li.unread').count(), 0);

  // A weekly schedule, then deleted.
  await page.goto(`${demo.url}/portal/exports`);
  await page.getByLabel('What', { exact: true }).selectOption('update_template');
  await page.getByLabel('Format', { exact: true }).selectOption('xlsx');
  await page.getByLabel('How often').selectOption('weekly');
  await page.getByRole('button', { name: 'Schedule' }).click();
  assert.match(await page.getByRole('status').innerText(), /Scheduled\./);
  const schedules = page.getByRole('region', { name: 'Schedules', exact: true });
  assert.match(await schedules.innerText(), /Update template\s+XLSX\s+Weekly/);
  await checkA11y(page, 'the export page with a schedule');
  await page.getByRole('button', { name: 'Delete the weekly update template export' }).click();
  assert.match(await page.getByRole('status').innerText(), /Schedule deleted/);
  assert.equal(await page.getByRole('region', { name: 'Schedules', exact: true }).count(), 0);

  // A refused form says why, on the page.
  const csrf = await page.locator('form[action="/portal/exports"] input[name="csrf"]').inputValue();
  const bad = await page.request.post(`${demo.url}/portal/exports`, { form: { csrf, kind: 'everything', format: 'csv' } });
  assert.equal(bad.status(), 422);
  assert.match(await bad.text(), /Choose what to export\./);
  await context.close();
});

test('the jobs page lists exports and applied imports with how they ended', async () => {
  const { context, page } = await newPage(browser);
  await signIn(page, demo.url, demo.logins.portal);
  // An import applied, so that the page has both kinds.
  await page.goto(`${demo.url}/portal/imports`);
  await page.getByLabel('CSV or XLSX file').setInputFiles({ name: 'jobs.csv', mimeType: 'text/csv', buffer: Buffer.from('Phone Number\n+14155550991\n') });
  await page.getByRole('button', { name: 'Upload and check' }).click();
  await page.getByRole('button', { name: 'Apply' }).click();
  await page.getByRole('status').filter({ hasText: /Applied: 1 number added/ }).waitFor({ timeout: 30_000 });

  await page.getByRole('link', { name: 'Jobs' }).click();
  assert.equal(await page.locator('h1').innerText(), 'Jobs');
  const rows = page.locator('tbody tr');
  const all = await rows.allInnerTexts();
  assert.ok(all.some((r) => /Import \(Add\): jobs\.csv\s.*applied\s+done\s+1 row: 1 added/s.test(r)), all.join('\n'));
  assert.ok(all.some((r) => /Export: Numbers list \(CSV\)\s.*ready\s+done/s.test(r)), all.join('\n'));
  await checkA11y(page, 'the jobs page');
  await screenshots(page, 'jobs');
  await context.close();
});
