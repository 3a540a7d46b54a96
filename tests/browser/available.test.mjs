// Finding numbers in the portal (issue 14), in real headless Chromium against the real binary:
// a provider sets a rate, searches its pool by country, area code and a `contains` pattern,
// sees each number's place, capabilities and monthly cost, is told what is wrong with a bad
// pattern, and widens a search that finds nothing. A customer has no such page in its menu.
// One demo server for this file; the tests run in order.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { useDemo, newPage, signIn, checkA11y, screenshots } from './harness.mjs';

let demo;
let browser;

useDemo((d, b) => {
  demo = d;
  browser = b;
});

/** Fills the search form with `fields` (label → value) and submits it. */
async function search(page, fields) {
  for (const [label, value] of Object.entries(fields)) {
    await page.getByLabel(label, { exact: true }).fill(value);
  }
  await Promise.all([
    page.waitForURL(/\/portal\/numbers\/available\?/),
    page.getByRole('button', { name: 'Search' }).click(),
  ]);
}

const rows = (page) => page.locator('table tbody tr');

test('a provider finds free numbers with their place and monthly cost', async () => {
  const { context, page } = await newPage(browser);
  await signIn(page, demo.url, demo.logins.portal);

  // The rate card prices US local numbers; the search shows it beside each one.
  await page.goto(`${demo.url}/portal/settings#rates`);
  const rates = page.locator('section#rates');
  await rates.getByLabel('Country').fill('US');
  await rates.getByLabel('Number type').selectOption('local');
  await rates.getByLabel('Monthly cost').fill('1.25');
  await rates.getByRole('button', { name: 'Add rate' }).click();
  await page.waitForURL(/done=rate.create/);

  await page.getByRole('link', { name: 'Find numbers' }).click();
  assert.equal(await page.locator('h1').innerText(), 'Find numbers');
  assert.equal(await page.getByRole('link', { name: 'Find numbers' }).getAttribute('aria-current'), 'page');
  // Before anything is typed: the first ten free numbers.
  assert.equal(await rows(page).count(), 10);
  assert.match(await page.locator('p.count').innerText(), /^10 free numbers/);

  await search(page, { Country: 'us', 'Area code': '415', Contains: '555010*' });
  assert.equal(await rows(page).count(), 10);
  const first = await rows(page).nth(0).innerText();
  assert.match(first, /^\+14155550100\s+San Francisco, CA, US\s+Local\s+Voice\s+1\.25 USD a month$/);
  // The form keeps what was asked.
  assert.equal(await page.getByLabel('Contains', { exact: true }).inputValue(), '555010*');
  await checkA11y(page, 'the search results');
  await screenshots(page, 'find-numbers');

  // A number leads to its page.
  await Promise.all([
    page.waitForURL(/\/portal\/numbers\/%2B14155550100$/),
    rows(page).nth(0).getByRole('link', { name: '+14155550100' }).click(),
  ]);
  assert.match(await page.locator('h1').innerText(), /\+1 415-555-0100|\+14155550100/);
  await page.goBack();

  // A character a keypad does not have is said, naming the field; nothing is listed.
  await search(page, { Contains: '41#' });
  const alert = page.getByRole('alert');
  assert.match(await alert.innerText(), /^contains: `#` is not a digit, a letter or `\*`/);
  assert.equal(await rows(page).count(), 0);
  assert.equal(await page.getByLabel('Contains', { exact: true }).inputValue(), '41#');
  await checkA11y(page, 'a refused pattern');

  // Letters as on a keypad: no free number spells FLOWERS, and the page says what to do.
  await search(page, { Contains: '*FLOWERS' });
  assert.match(await page.locator('main').innerText(), /No free number matches\. Widen the search/);
  await screenshots(page, 'find-numbers-none');
  await context.close();
});

test('a customer has no pool to search', async () => {
  const { context, page } = await newPage(browser);
  await signIn(page, demo.url, demo.logins.customer);
  assert.equal(await page.getByRole('link', { name: 'Find numbers' }).count(), 0);
  await page.goto(`${demo.url}/portal/numbers/available`);
  assert.match(await page.locator('main').innerText(), /None has yet, so nothing can be found here/);
  assert.equal(await rows(page).count(), 0);
  await context.close();
});
