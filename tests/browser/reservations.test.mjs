// Reservations in the portal (issue 14), in real headless Chromium against the real binary: a
// provider chooses numbers on Find numbers, reserves them for a customer from the review page
// instead of provisioning, sees the reservation with its time left, finds the numbers gone
// from its own search, gives the reservation more time, opens the review that provisions them
// to that customer, and releases the reservation after a confirmation. The customer sees the
// reservation held for it. On PostgreSQL the files share one database, one after another: the
// numbers come from a block this file adds (+1312555800x) and removes again.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { useDemo, newPage, signIn, checkA11y, screenshots } from './harness.mjs';

let demo;
let browser;

useDemo((d, b) => {
  demo = d;
  browser = b;
});

const SEARCH = '/portal/numbers/available?country=US&area_code=312&contains=555800*';

test('a provider reserves numbers for a customer, gives more time and releases them', async () => {
  const { context, page } = await newPage(browser);
  await signIn(page, demo.url, demo.logins.portal);
  await page.goto(`${demo.url}/portal/blocks`);
  await page.getByLabel('Start number').fill('+13125558000');
  await page.getByLabel('Size', { exact: true }).fill('3');
  await page.getByRole('button', { name: 'Add block' }).click();
  await page.waitForURL(/done=number_block.create/);

  await page.goto(`${demo.url}${SEARCH}`);
  await page.getByRole('checkbox', { name: 'Choose +13125558000' }).check();
  await page.getByRole('checkbox', { name: 'Choose +13125558001' }).check();
  await page.getByLabel('Provision the chosen numbers to').selectOption({ label: 'Globex Corporation (customer)' });
  await Promise.all([
    page.waitForURL(/\/portal\/numbers\/provision\?/),
    page.getByRole('button', { name: 'Review and provision…' }).click(),
  ]);
  await Promise.all([
    page.waitForURL(/\/portal\/reservations\?done=reservation.create/),
    page.getByRole('button', { name: 'Reserve for 1 day instead' }).click(),
  ]);
  assert.match(
    await page.getByRole('status').innerText(),
    /^Numbers reserved: \+13125558000, \+13125558001 until \d{4}-\d{2}-\d{2} \d{2}:\d{2} UTC\.$/,
  );
  const row = page.locator('table tbody tr', { hasText: '+13125558000' });
  assert.match(await row.innerText(), /Globex Corporation/);
  assert.match(await row.innerText(), /23 h 59 min left|1 day left/);
  await checkA11y(page, 'the reservations page');
  await screenshots(page, 'reservations');

  // Hidden from the provider's own search: only the third number of the block shows.
  await page.goto(`${demo.url}${SEARCH}`);
  const found = await page.locator('table tbody').innerText();
  assert.match(found, /\+13125558002/);
  assert.doesNotMatch(found, /\+1312555800[01]/);

  // More time: seven days from now.
  await page.goto(`${demo.url}/portal/reservations`);
  await row.getByLabel('Hold until, from now').selectOption('168');
  await Promise.all([
    page.waitForURL(/done=reservation.extend/),
    row.getByRole('button', { name: 'Give more time' }).click(),
  ]);
  assert.match(await page.locator('table tbody tr', { hasText: '+13125558000' }).innerText(), /(6 days 23 h|7 days) left/);

  // Provision leads to the review with the customer chosen and both numbers takeable.
  await Promise.all([
    page.waitForURL(/\/portal\/numbers\/provision\?/),
    page.locator('table tbody tr', { hasText: '+13125558000' }).getByRole('link', { name: 'Provision' }).click(),
  ]);
  assert.equal(await page.locator('table tbody tr').count(), 2);
  assert.equal(await page.locator('tr.bad').count(), 0);
  assert.match(await page.getByLabel('Provision to').locator('option:checked').innerText(), /^Globex Corporation/);

  // Released after a confirmation that says what becomes free.
  await page.goto(`${demo.url}/portal/reservations`);
  await Promise.all([
    page.waitForURL(/\/portal\/reservations\/[^/]+\/release$/),
    page.getByRole('link', { name: /^Release the reservation of \+13125558000/ }).click(),
  ]);
  assert.match(await page.locator('main').innerText(), /\+13125558000, \+13125558001 will be free again at once/);
  await screenshots(page, 'reservation-release');
  await Promise.all([
    page.waitForURL(/done=reservation.release/),
    page.getByRole('button', { name: 'Release reservation' }).click(),
  ]);
  assert.match(await page.locator('table tbody tr').first().innerText(), /released/);
  await page.goto(`${demo.url}${SEARCH}`);
  assert.match(await page.locator('table tbody').innerText(), /\+13125558000[\s\S]*\+13125558001[\s\S]*\+13125558002/);

  // The block goes again, leaving the pool as the demo has it.
  await page.goto(`${demo.url}/portal/blocks`);
  await page.locator('table tbody tr', { hasText: '+13125558000' }).getByRole('link', { name: /^Release the block/ }).click();
  await page.getByRole('button', { name: 'Release block' }).click();
  await page.waitForURL(/done=number_block.release/);
  await context.close();
});

test('a customer sees the reservations held for it', async () => {
  const { context, page } = await newPage(browser);
  await signIn(page, demo.url, demo.logins.customer);
  await page.getByRole('link', { name: 'Reservations' }).click();
  assert.equal(await page.locator('h1').innerText(), 'Reservations');
  // The released one of the test before, kept with its status. (Its Find numbers page finds
  // what its provider opens to self-service; available.test.mjs walks it.)
  assert.match(await page.locator('main').innerText(), /released|No reservations yet/);
  assert.equal(await page.getByRole('link', { name: 'Find numbers' }).count(), 1);
  await context.close();
});
