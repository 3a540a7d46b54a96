// Accounts below an account, in real headless Chromium against the real binary (issue 12):
// a provider makes a customer and allocates to its reseller; a customer admin adds numbers of
// its own only while the provider allows it (R-ACC-2), makes a unit and moves a number into it.
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

/** Adds `phone` through the Add Numbers form; the page it lands on. */
async function addNumber(page, phone) {
  await page.goto(`${demo.url}/portal/numbers/new`);
  await page.getByLabel('Phone number').fill(phone);
  await page.getByRole('button', { name: 'Add number' }).click();
}

test('a provider creates a customer, and allocates a number to its reseller', async () => {
  const { context, page } = await newPage(browser);
  await signIn(page, demo.url, demo.logins.portal);
  await page.getByRole('link', { name: 'Customers' }).click();
  // A name the tree refuses is said on the page, with what was typed kept.
  await page.getByLabel('Name').fill('   ');
  await page.getByRole('button', { name: 'Create customer' }).click();
  await page.getByRole('alert').waitFor();
  await page.getByLabel('Name').fill('Hooli Health');
  await page.getByLabel('Allow External Numbers').check();
  await checkA11y(page, 'the customers page with its New customer form');
  await page.getByRole('button', { name: 'Create customer' }).click();
  await page.waitForURL(/\/portal\/customers\/[0-9a-f-]+$/);
  assert.equal(await page.locator('h1').innerText(), 'Hooli Health');
  assert.equal(await page.getByLabel('Allow External Numbers').isChecked(), true);
  await page.getByRole('link', { name: '← Customers' }).click();
  assert.equal(await page.getByRole('row', { name: /Hooli Health/ }).count(), 1);

  // Seed 003: a number goes to the reseller, which then holds it.
  await page.goto(`${demo.url}/portal/numbers?position=free`);
  await page.locator('tbody tr th a').first().click();
  await page.getByLabel('To account').selectOption({ label: 'Blue Sky Reseller (reseller)' });
  await page.getByRole('button', { name: 'Allocate' }).click();
  await page.waitForURL(/\/portal\/numbers\/[0-9a-f-]+$/);
  assert.match(await page.locator('dl.fields').first().innerText(), /Held by\s+Blue Sky Reseller/);
  assert.match(await page.locator('h1').innerText(), /In use/);
  await screenshots(page, 'allocated-to-reseller');
  await context.close();
});

test('a customer admin adds its own numbers only while allowed (R-ACC-2)', async () => {
  const cust = await newPage(browser);
  await signIn(cust.page, demo.url, demo.logins.customer);
  await addNumber(cust.page, '+14155550911');
  await cust.page.waitForURL(/\/portal\/numbers\/[0-9a-f-]+\?added=1/);
  assert.match(await cust.page.getByRole('status').innerText(), /\+14155550911 is added/);
  // Its own upload: the customer may delete it (R-DEL-2), when it is free in its pool.
  assert.equal(await cust.page.getByRole('link', { name: 'Delete…' }).count(), 1);

  // The provider withdraws it; the next add is refused with the rule, in words.
  const prov = await newPage(browser);
  await signIn(prov.page, demo.url, demo.logins.portal);
  await prov.page.goto(`${demo.url}/portal/customers`);
  await prov.page.getByRole('link', { name: 'Globex Corporation', exact: true }).click();
  await prov.page.getByLabel('Allow External Numbers').uncheck();
  await prov.page.getByRole('button', { name: 'Save settings' }).click();
  await prov.page.getByRole('status').waitFor();

  await addNumber(cust.page, '+14155550912');
  const refusal = cust.page.getByRole('alert').or(cust.page.locator('p.error')).first();
  await refusal.waitFor();
  assert.match(await cust.page.locator('main').innerText(), /R-ACC-2/);
  await checkA11y(cust.page, 'the Add Numbers form refused by R-ACC-2');
  await screenshots(cust.page, 'add-refused-r-acc-2');

  // Allowed again, the same number goes in.
  await prov.page.getByLabel('Allow External Numbers').check();
  await prov.page.getByRole('button', { name: 'Save settings' }).click();
  await prov.page.getByRole('status').waitFor();
  await cust.page.getByRole('button', { name: 'Add number' }).click();
  await cust.page.waitForURL(/\/portal\/numbers\/[0-9a-f-]+\?added=1/);
  await prov.context.close();
  await cust.context.close();
});

test('a customer admin makes a unit and moves a number into it', async () => {
  const { context, page } = await newPage(browser);
  await signIn(page, demo.url, demo.logins.customer);
  await page.getByRole('link', { name: 'Units' }).click();
  await page.waitForURL(/\/portal\/units$/);
  const sales = page.getByRole('row', { name: /Globex Sales/ });
  assert.match(await sales.innerText(), /Globex Sales\s+Globex Corporation\s+\d+/);
  await page.getByLabel('Name').fill('Globex Support');
  await page.getByLabel('Inside').selectOption({ label: 'Globex Sales' });
  await checkA11y(page, 'the units page');
  await page.getByRole('button', { name: 'Create unit' }).click();
  await page.waitForURL(/\/portal\/units\?created=/);
  assert.match(await page.getByRole('status').innerText(), /Unit created: Globex Support/);
  assert.match(await page.getByRole('row', { name: /Globex Support/ }).innerText(), /Globex Support\s+Globex Sales\s+0/);

  // A number of the customer's own moves into it, and the unit's count and filter show it.
  await page.goto(`${demo.url}/portal/numbers?position=unassigned`);
  const phone = await page.locator('tbody tr th a').first().innerText();
  await page.locator('tbody tr th a').first().click();
  await page.getByLabel('Unit').selectOption({ label: 'Globex Support' });
  await page.getByRole('button', { name: 'Move' }).click();
  await page.waitForURL(/\/portal\/numbers\/[0-9a-f-]+$/);
  assert.match(await page.locator('dl.fields').first().innerText(), /Held by\s+Globex Support/);
  await page.goto(`${demo.url}/portal/units`);
  await page.getByRole('link', { name: '1 numbers in Globex Support' }).click();
  await page.waitForURL(/\/portal\/numbers\?unit=/);
  assert.deepEqual(await page.locator('tbody tr th').allInnerTexts(), [phone]);
  assert.equal(await page.getByLabel('Unit').inputValue() !== '', true);
  await screenshots(page, 'units');
  await context.close();
});
