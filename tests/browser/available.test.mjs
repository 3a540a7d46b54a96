// Finding numbers in the portal (issue 14), in real headless Chromium against the real binary:
// a provider sets a rate, searches its pool by country, area code and a `contains` pattern,
// sees each number's place, capabilities and monthly cost, is told what is wrong with a bad
// pattern, and widens a search that finds nothing. A customer finds nothing until the provider
// opens its pool to self-service; then it provisions a number for itself (+1415555013x), and
// the provider closes the pool again at the end.
// One demo server for this file; the tests run in order. On PostgreSQL the files share one
// database, one after another: these tests use demo numbers the other files leave alone
// (+1415555014x and 015x) and take their rate out of the rate card again at the end.

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
  // Before anything is typed: the first free numbers, ten at most.
  const shown = await rows(page).count();
  assert.ok(shown >= 1 && shown <= 10, `${shown} rows`);
  assert.match(await page.locator('p.count').innerText(), /^\d+ free numbers?, in number order/);

  await search(page, { Country: 'us', 'Area code': '415', Contains: '555015*' });
  assert.equal(await rows(page).count(), 10);
  const first = await rows(page).nth(0).innerText();
  assert.match(first, /^\s*\+14155550150\s+San Francisco, CA, US\s+Local\s+Voice\s+1\.25 USD a month$/);
  // The form keeps what was asked.
  assert.equal(await page.getByLabel('Contains', { exact: true }).inputValue(), '555015*');
  await checkA11y(page, 'the search results');
  await screenshots(page, 'find-numbers');

  // A number leads to its page.
  await Promise.all([
    page.waitForURL(/\/portal\/numbers\/%2B14155550150$/),
    rows(page).nth(0).getByRole('link', { name: '+14155550150' }).click(),
  ]);
  assert.match(await page.locator('h1').innerText(), /\+1 415-555-0150|\+14155550150/);
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

test('a customer finds nothing while its provider keeps its pool closed', async () => {
  const { context, page } = await newPage(browser);
  await signIn(page, demo.url, demo.logins.customer);
  await page.getByRole('link', { name: 'Find numbers' }).click();
  assert.match(await page.locator('main').innerText(), /None has yet, so nothing can be found here/);
  assert.equal(await rows(page).count(), 0);
  await context.close();
});

test('a provider chooses numbers, reviews their cost and provisions them to a customer', async () => {
  const { context, page } = await newPage(browser);
  await signIn(page, demo.url, demo.logins.portal);
  await page.goto(`${demo.url}/portal/numbers/available?country=US&area_code=415&contains=555014*`);
  await page.getByRole('checkbox', { name: 'Choose +14155550140' }).check();
  await page.getByRole('checkbox', { name: 'Choose +14155550141' }).check();
  // Only accounts the provider allocates to are offered: not the reseller's own customer.
  const sites = await page.getByLabel('Provision the chosen numbers to').locator('option').allInnerTexts();
  assert.deepEqual(sites.filter((s) => s.startsWith('Umbrella')), [], sites.join(', '));
  assert.ok(sites.includes('Blue Sky Reseller (reseller)'), sites.join(', '));
  await page.getByLabel('Provision the chosen numbers to').selectOption({ label: 'Globex Corporation (customer)' });
  await Promise.all([
    page.waitForURL(/\/portal\/numbers\/provision\?/),
    page.getByRole('button', { name: 'Review and provision…' }).click(),
  ]);
  assert.equal(await page.locator('h1').innerText(), 'Provision numbers');
  const chosen = page.locator('table tbody tr');
  assert.equal(await chosen.count(), 2);
  assert.match(await chosen.nth(0).innerText(), /^\+14155550140\s+San Francisco, CA, US\s+Local\s+1\.25 USD a month$/);
  // The cost of the whole set, before anything is taken.
  assert.match(await page.locator('p.total').innerText(), /^Together: 2\.50 USD a month/);
  assert.equal(await page.getByLabel('Provision to').inputValue() !== '', true);
  assert.match(await page.getByLabel('SIP trunk').locator('option:checked').innerText(), /us-east-1 \(us-east\), the default/);
  await checkA11y(page, 'the provision review');
  await screenshots(page, 'provision-review');
  const review = page.url();

  await Promise.all([
    page.waitForURL(/\/portal\/numbers\/available\?provisioned=2/),
    page.getByRole('button', { name: 'Provision 2 numbers' }).click(),
  ]);
  assert.equal(await page.getByRole('status').innerText(), '2 numbers provisioned to Globex Corporation.');
  // They left the pool: the search no longer finds them.
  await page.goto(`${demo.url}/portal/numbers/available?country=US&area_code=415&contains=555014*`);
  const left = await page.locator('table tbody').innerText();
  assert.doesNotMatch(left, /\+1415555014[01]/);

  // The same review again: both are gone, said per number, and nothing can be sent.
  await page.goto(review);
  assert.equal(await page.locator('tr.bad').count(), 2);
  assert.match(await page.locator('tr.bad').first().innerText(), /No longer free to take/);
  assert.equal(await page.getByRole('button', { name: /^Provision/ }).count(), 0);

  // The rate this file made goes again, leaving the rate card as the demo has it.
  await page.goto(`${demo.url}/portal/settings#rates`);
  await page.getByRole('link', { name: 'Delete the rate for US Local' }).click();
  await page.waitForURL(/\/delete$/);
  await page.getByRole('button', { name: /^Delete/ }).click();
  await page.waitForURL(/done=rate.delete/);
  await context.close();
});

test('a provider opens its pool to self-service and a customer provisions a number for itself', async () => {
  const prov = await newPage(browser);
  await signIn(prov.page, demo.url, demo.logins.portal);
  await prov.page.goto(`${demo.url}/portal/numbers/available`);
  const sw = prov.page.locator('form.switch');
  assert.match(await sw.innerText(), /Customer self-service is off\. Only you provision these numbers/);
  await Promise.all([
    prov.page.waitForURL(/self_service=on/),
    sw.getByRole('button', { name: 'Let customers take numbers' }).click(),
  ]);
  assert.match(await prov.page.getByRole('status').innerText(), /^Self-service is on: your customers find/);
  assert.match(await prov.page.locator('form.switch').innerText(), /Customer self-service is on\./);
  await checkA11y(prov.page, 'the self-service switch');
  await screenshots(prov.page, 'find-numbers-self-service');

  const { context, page } = await newPage(browser);
  await signIn(page, demo.url, demo.logins.customer);
  await page.getByRole('link', { name: 'Find numbers' }).click();
  assert.match(await page.locator('p.lead').innerText(), /^Free numbers that Acme Telecom \(demo\) lets you take for yourself/);
  await search(page, { Country: 'us', 'Area code': '415', Contains: '555013*' });
  assert.equal(await rows(page).count(), 10);
  await page.getByRole('checkbox', { name: 'Choose +14155550133' }).check();
  // A customer provisions to itself only.
  const sites = await page.getByLabel('Provision the chosen numbers to').locator('option').allInnerTexts();
  assert.deepEqual(sites.slice(1), ['Globex Corporation (customer)']);
  await page.getByLabel('Provision the chosen numbers to').selectOption({ label: 'Globex Corporation (customer)' });
  await Promise.all([
    page.waitForURL(/\/portal\/numbers\/provision\?/),
    page.getByRole('button', { name: 'Review and provision…' }).click(),
  ]);
  assert.match(await page.locator('p.lead').innerText(), /come from your provider's pool into Globex Corporation/);
  assert.equal(await page.locator('table tbody tr').count(), 1);
  assert.equal(await page.getByRole('button', { name: /^Reserve/ }).count(), 0, 'a customer reserves nothing here');
  assert.equal(await page.getByLabel('SIP trunk').count(), 0, "the provider's default trunk, not a choice");
  assert.match(await page.locator('main').innerText(), /They go out on your provider's default SIP trunk/);
  await checkA11y(page, "a customer's provision review");
  await screenshots(page, 'provision-review-customer');
  await Promise.all([
    page.waitForURL(/\/portal\/numbers\/available\?provisioned=1/),
    page.getByRole('button', { name: 'Provision 1 number' }).click(),
  ]);
  assert.equal(await page.getByRole('status').innerText(), '1 number provisioned to Globex Corporation.');
  // The number is the customer's now, and no longer offered.
  await search(page, { Contains: '555013*' });
  assert.doesNotMatch(await page.locator('table tbody').innerText(), /\+14155550133/);
  await page.goto(`${demo.url}/portal/numbers/%2B14155550133`);
  assert.match(await page.locator('h1').innerText(), /\+1 415-555-0133|\+14155550133/);

  // Closed again: the customer finds nothing.
  await Promise.all([
    prov.page.waitForURL(/self_service=off/),
    prov.page.locator('form.switch').getByRole('button', { name: 'Turn self-service off' }).click(),
  ]);
  assert.match(await prov.page.getByRole('status').innerText(), /^Self-service is off/);
  await page.goto(`${demo.url}/portal/numbers/available`);
  assert.match(await page.locator('main').innerText(), /None has yet, so nothing can be found here/);
  await context.close();
  await prov.context.close();
});
