// The portal in real headless Chromium against the real binary (issue 12). One demo server
// per run; each test has its own browser context (its own cookies).

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { useDemo, newPage, signIn, checkA11y, screenshots } from './harness.mjs';

let demo;
let browser;

useDemo((d, b) => {
  demo = d;
  browser = b;
});

test('/ leads to the sign-in page, which passes axe', async () => {
  const { context, page } = await newPage(browser);
  await page.goto(`${demo.url}/`);
  assert.equal(new URL(page.url()).pathname, '/signin');
  await assert.doesNotReject(page.getByRole('heading', { name: 'Sign in to Numberpool' }).waitFor());
  await checkA11y(page, 'the sign-in page');
  await screenshots(page, 'signin');
  await context.close();
});

test('a wrong password is refused with a message, and the form stays usable', async () => {
  const { context, page } = await newPage(browser);
  await page.goto(`${demo.url}/signin`);
  await page.getByLabel('Email').fill(demo.logins.portal.email);
  await page.getByLabel('Password').fill('not the password at all');
  await page.getByRole('button', { name: 'Sign in' }).click();
  await page.getByRole('alert').waitFor();
  assert.match(await page.getByRole('alert').innerText(), /do not match an active user/);
  assert.equal(await page.getByLabel('Email').inputValue(), demo.logins.portal.email);
  await checkA11y(page, 'the sign-in page with an error');
  await signIn(page, demo.url, demo.logins.portal);
  await context.close();
});

test('the provider sees the dashboard and filters its numbers, with htmx and without JavaScript', async () => {
  const { context, page } = await newPage(browser);
  await signIn(page, demo.url, demo.logins.portal);
  const lead = await page.locator('p.lead').innerText();
  assert.match(lead, /^\d+ numbers in Acme Telecom \(demo\)/);
  for (const title of ['Pool position', 'Status', 'Product', 'Type']) {
    await page.getByRole('figure', { name: title }).waitFor();
  }
  await checkA11y(page, 'the dashboard');
  await screenshots(page, 'dashboard');

  // A bar leads to the list filtered to it.
  await page.getByRole('link', { name: /^Free: \d+$/ }).click();
  await page.waitForURL(/\/portal\/numbers\?position=free/);
  assert.equal(await page.getByLabel('Position').inputValue(), 'free');
  const freeCount = Number((await page.locator('p.count').innerText()).match(/^(\d+)/)[1]);
  assert.ok(freeCount > 0);
  assert.equal(await page.getByRole('row').count(), Math.min(freeCount, 50) + 1);
  for (const cell of await page.locator('tbody tr td:nth-child(5)').allInnerTexts()) {
    assert.equal(cell, 'Free');
  }

  // Sorting: by phone number, descending, across a page boundary; the column says its order.
  await page.goto(`${demo.url}/portal/numbers`);
  await page.getByLabel('Sort by').selectOption('phone_number_desc');
  await page.waitForURL(/sort=phone_number_desc/);
  await page.locator('th[aria-sort="descending"]').waitFor();
  const sortedPage = await page.locator('tbody tr th').allInnerTexts();
  assert.equal(sortedPage.length, 50, 'the demo has more than one page of numbers');
  assert.deepEqual(sortedPage, [...sortedPage].sort().reverse(), 'descending by phone number');
  await page.getByRole('link', { name: 'Next page' }).click();
  await page.waitForURL(/after=%2B/);
  const nextSorted = await page.locator('tbody tr th').allInnerTexts();
  assert.ok(nextSorted[0] < sortedPage[49], `the next page goes on below ${sortedPage[49]}: ${nextSorted[0]}`);
  assert.equal(await page.getByLabel('Sort by').inputValue(), 'phone_number_desc');
  await page.goto(`${demo.url}/portal/numbers?position=free`);

  // htmx swaps the results only, and the URL follows the filters.
  await page.getByLabel('Status').selectOption('pending');
  await page.waitForURL(/status=pending/);
  await page.locator('p.count, section.empty').first().waitFor();
  for (const cell of await page.locator('tbody tr td:nth-child(3)').allInnerTexts()) {
    assert.equal(cell, 'Pending');
  }
  await checkA11y(page, 'the numbers list');
  await screenshots(page, 'numbers');

  // A bad filter is said in words beside the results.
  await page.goto(`${demo.url}/portal/numbers?prefix=12ab`);
  assert.match(await page.getByRole('alert').innerText(), /Starts with: give up to 15 digits/);
  await context.close();

  // Without JavaScript the same form reloads the page with the filters applied.
  const nojs = await newPage(browser, { javaScript: false });
  await signIn(nojs.page, demo.url, demo.logins.portal);
  await nojs.page.goto(`${demo.url}/portal/numbers`);
  await nojs.page.getByLabel('Position').selectOption('returned');
  await nojs.page.getByRole('button', { name: 'Filter' }).click();
  await nojs.page.waitForURL(/position=returned/);
  for (const cell of await nojs.page.locator('tbody tr td:nth-child(5)').allInnerTexts()) {
    assert.equal(cell, 'Returned');
  }
  // Paging: the next page starts after the last number of this one.
  const all = await nojs.page.goto(`${demo.url}/portal/numbers`);
  assert.equal(all.status(), 200);
  const firstPage = await nojs.page.locator('tbody th').allInnerTexts();
  await nojs.page.getByRole('link', { name: 'Next page' }).click();
  const secondPage = await nojs.page.locator('tbody th').allInnerTexts();
  assert.equal(firstPage.length, 50);
  assert.ok(secondPage.length > 0);
  assert.ok(secondPage.every((n) => !firstPage.includes(n)), 'pages overlap');
  await nojs.context.close();
});

// The walk of issue 12: a number from the provider's Add form to a customer's user and back.
test('the walk: add, allocate, assign, release, unbind, delete', async () => {
  const phone = '+442079460958';
  const prov = await newPage(browser);
  const p = prov.page;
  await signIn(p, demo.url, demo.logins.portal);
  await p.goto(`${demo.url}/portal/numbers`);
  await p.getByRole('link', { name: 'Add numbers' }).click();
  await p.waitForURL(/\/portal\/numbers\/new$/);
  await checkA11y(p, 'the Add Numbers form');
  await p.getByLabel('Phone number').fill(phone);
  // R-CUST-2 in the form: an inbound-only number cannot have the outbound dialer.
  await p.getByLabel('Voice direction').selectOption('inbound_only');
  await p.waitForFunction(() => document.querySelector('#f-dialer')?.disabled === true);
  // Forced past the disabled box, the server still refuses it, beside the field.
  await p.evaluate(() => { const c = document.querySelector('#f-dialer'); c.disabled = false; c.checked = true; });
  await p.getByRole('button', { name: 'Add number' }).click();
  await p.locator('#e-dialer').waitFor();
  assert.match(await p.locator('#e-dialer').innerText(), /outbound_dialer needs voice_direction both or outbound_only \(R-CUST-2\)/);
  assert.equal(await p.getByLabel('Phone number').inputValue(), phone, 'the form keeps what was typed');
  await checkA11y(p, 'the Add Numbers form with a refusal');
  await screenshots(p, 'add-refused');
  // A valid one: outbound allowed, so the dialer may stay on.
  await p.getByLabel('Voice direction').selectOption('both');
  await p.waitForFunction(() => document.querySelector('#f-dialer')?.disabled === false);
  await p.getByLabel('Outbound dialer').check();
  await p.getByRole('button', { name: 'Add number' }).click();
  await p.waitForURL(/\/portal\/numbers\/[0-9a-f-]+\?added=1/);
  assert.match(await p.getByRole('status').innerText(), new RegExp(`\\${phone} is added`));
  assert.match(await p.locator('h1').innerText(), /Free/);

  // Edit: a free, active number's billing reference; its type is not on the form (R-EDIT-1).
  await p.getByRole('link', { name: 'Edit…' }).click();
  assert.equal(await p.getByLabel('Type').count(), 0, 'an active number\'s type is not editable');
  await p.getByLabel('Service info').fill('Main office');
  await p.getByRole('button', { name: 'Save' }).click();
  await p.waitForURL(/\/portal\/numbers\/[0-9a-f-]+$/);
  assert.match(await p.locator('dl.fields').innerText(), /Service info\s+Main office/);

  // Allocate it to the customer with a trunk.
  await p.getByLabel('To account').selectOption({ label: 'Globex Corporation (customer)' });
  const trunk = (await p.getByLabel('SIP trunk').locator('option').allInnerTexts())[1];
  await p.getByLabel('SIP trunk').selectOption({ label: trunk });
  await p.getByLabel('Billing reference').fill('PO-7781');
  await p.getByRole('button', { name: 'Allocate' }).click();
  await p.waitForURL(/\/portal\/numbers\/[0-9a-f-]+$/);
  assert.match(await p.locator('h1').innerText(), /In use/);
  assert.match(await p.locator('dl.fields').innerText(), new RegExp(trunk.split(' (')[0]));
  const timeline = await p.getByRole('table').innerText();
  assert.match(timeline, /Allocate/);
  assert.match(timeline, /Globex Corporation/);
  await checkA11y(p, 'the number page');
  await screenshots(p, 'number-allocated');

  // The customer assigns it to a user, cannot release it while assigned, unassigns, releases.
  const cust = await newPage(browser);
  const c = cust.page;
  await signIn(c, demo.url, demo.logins.customer);
  await c.goto(`${demo.url}/portal/numbers/${encodeURIComponent(phone)}`);
  await c.getByLabel('Assign to a').selectOption('user');
  await c.getByLabel('Its id').fill('u-1001');
  await c.getByLabel('Display name').fill('Front desk');
  await c.getByRole('button', { name: 'Assign', exact: true }).click();
  await c.waitForURL(/\/portal\/numbers\/[0-9a-f-]+$/);
  assert.match(await c.locator('h1').innerText(), /Assigned/);
  // R-DEL-2: the provider uploaded it, so the customer is offered no Delete at all.
  assert.equal(await c.locator('main').getByRole('link', { name: /^Delete/ }).count(), 0, 'no Delete on a number another level uploaded');
  // View Assignments (seed 001): who holds it and under what name.
  const held = await c.getByRole('region', { name: 'Assignments' }).innerText();
  assert.match(held, /Business\s+Globex/, `the business is the customer: ${held}`);
  // The customer edits what is its own: call purpose and display name, nothing else.
  await c.getByRole('link', { name: 'Edit…' }).click();
  assert.equal(await c.getByLabel('Billing reference').count(), 0, 'a customer cannot edit the billing reference');
  await c.getByLabel('Call purpose').fill('Reception line');
  await c.getByLabel('Display name').fill('Front desk (main)');
  await checkA11y(c, 'the edit form');
  await c.getByRole('button', { name: 'Save' }).click();
  await c.waitForURL(/\/portal\/numbers\/[0-9a-f-]+$/);
  assert.match(await c.locator('dl.fields').first().innerText(), /Call purpose\s+Reception line/);
  assert.match(await c.getByRole('region', { name: 'Assignments' }).innerText(), /Display name\s+Front desk \(main\)/);
  await screenshots(c, 'number-assigned');
  await c.getByRole('link', { name: 'Release…' }).click();
  assert.match(await c.locator('main').innerText(), /will return to Acme Telecom \(demo\)'s pool/);
  await checkA11y(c, 'the release confirmation');
  await c.getByRole('button', { name: 'Release' }).click();
  await c.getByRole('alert').waitFor();
  const refusal = await c.getByRole('alert').innerText();
  assert.match(refusal, /R-[A-Z]+-\d/, `the refusal names its rule: ${refusal}`);
  await screenshots(c, 'release-refused');
  await c.getByRole('button', { name: 'Unassign u-1001' }).click();
  await c.waitForURL(/\/portal\/numbers\/[0-9a-f-]+$/);
  assert.match(await c.locator('h1').innerText(), /Unassigned/);
  await c.getByRole('link', { name: 'Release…' }).click();
  await c.getByRole('button', { name: 'Release' }).click();
  await c.waitForURL(/\/portal\/numbers\?done=release/);
  assert.match(await c.getByRole('status').innerText(), /is released to your provider/);
  const after = await c.goto(`${demo.url}/portal/numbers/${encodeURIComponent(phone)}`);
  assert.equal(after.status(), 404, 'the customer no longer sees the released number');
  await cust.context.close();

  // Back as the provider: its pool list (seed 001's Sub Account tab) shows the number
  // Returned, with Unbind beside it; unbound it is Free, with Allocate and Delete.
  await p.goto(`${demo.url}/portal/numbers?position=returned&prefix=${encodeURIComponent(phone)}`);
  const returnedRow = p.getByRole('row', { name: new RegExp(`\\${phone}`) });
  assert.match(await returnedRow.innerText(), /Returned/);
  await checkA11y(p, 'the pool list with row actions');
  await p.getByRole('link', { name: `Unbind ${phone}` }).click();
  await p.getByRole('button', { name: 'Unbind' }).click();
  await p.waitForURL(/\/portal\/numbers\/[0-9a-f-]+$/);
  assert.match(await p.locator('h1').innerText(), /Free/);
  await p.goto(`${demo.url}/portal/numbers?prefix=${encodeURIComponent(phone)}`);
  assert.equal(await p.getByRole('link', { name: `Allocate ${phone}` }).count(), 1);
  await p.getByRole('link', { name: `Delete ${phone}` }).click();
  assert.match(await p.locator('main').innerText(), /will be deleted from the inventory/);
  await p.getByRole('button', { name: 'Delete' }).click();
  await p.waitForURL(/\/portal\/numbers\?done=delete/);
  assert.match(await p.getByRole('status').innerText(), /is deleted/);
  await screenshots(p, 'number-deleted');
  await prov.context.close();
});

test('customers: the provider sees them with totals; a connected customer cannot disconnect while numbers are assigned', async () => {
  const prov = await newPage(browser);
  const p = prov.page;
  await signIn(p, demo.url, demo.logins.portal);
  await p.getByRole('link', { name: 'Customers' }).click();
  await p.waitForURL(/\/portal\/customers$/);
  assert.match(await p.locator('p.lead').innerText(), /^\d+ customers, with \d+ of your numbers\./);
  const row = p.getByRole('row', { name: /Initech/ });
  assert.match(await row.innerText(), /Provider Exchange\s+Connected/);
  await checkA11y(p, 'the customers tab');
  await screenshots(p, 'customers');
  await p.getByRole('link', { name: 'Initech (Provider Exchange)', exact: true }).click();
  assert.equal(await p.getByRole('button', { name: 'Deactivate connection' }).count(), 0, 'Deactivate appears only after a disconnect request');
  // Globex's settings: Allow External Numbers.
  await p.goto(`${demo.url}/portal/customers`);
  await p.getByRole('link', { name: 'Globex Corporation', exact: true }).click();
  await p.getByLabel('Allow External Numbers').setChecked(false);
  await p.getByRole('button', { name: 'Save settings' }).click();
  assert.match(await p.getByRole('status').innerText(), /Settings saved/);
  assert.equal(await p.getByLabel('Allow External Numbers').isChecked(), false);
  await p.getByLabel('Allow External Numbers').setChecked(true);
  await p.getByRole('button', { name: 'Save settings' }).click();
  assert.equal(await p.getByLabel('Allow External Numbers').isChecked(), true);
  await checkA11y(p, 'a customer page');

  // Initech assigns one of the provider's numbers, then asks to disconnect: refused, with it listed.
  const cust = await newPage(browser);
  const c = cust.page;
  await signIn(c, demo.url, demo.logins.exchange_customer);
  await c.goto(`${demo.url}/portal/numbers`);
  const phone = await c.locator('tbody th').first().innerText();
  await c.locator('tbody th a').first().click();
  await c.getByLabel('Its id').fill('desk-1');
  await c.getByRole('button', { name: 'Assign', exact: true }).click();
  await c.waitForURL(/\/portal\/numbers\/[0-9a-f-]+$/);
  await c.getByRole('link', { name: 'Provider Exchange' }).click();
  await c.getByRole('button', { name: /^Disconnect from Acme Telecom/ }).click();
  const alert = c.getByRole('alert');
  await alert.waitFor();
  assert.match(await alert.innerText(), /R-ACC-1/);
  assert.match(await alert.innerText(), new RegExp(`\\${phone}`), 'the blocking number is listed');
  await checkA11y(c, 'Provider Exchange with a refused disconnection');
  await screenshots(c, 'exchange-refused');
  // Unassigned, the request goes through; the provider may then deactivate.
  await c.locator('div.error a').first().click();
  await c.getByRole('button', { name: 'Unassign desk-1' }).click();
  await c.waitForURL(/\/portal\/numbers\/[0-9a-f-]+$/);
  await c.goto(`${demo.url}/portal/exchange`);
  await c.getByRole('button', { name: /^Disconnect from Acme Telecom/ }).click();
  assert.match(await c.getByRole('status').innerText(), /Disconnection from Acme Telecom \(demo\) is requested/);
  await p.goto(`${demo.url}/portal/customers`);
  await p.getByRole('link', { name: 'Initech (Provider Exchange)', exact: true }).click();
  await p.getByRole('button', { name: 'Deactivate connection' }).waitFor();
  await cust.context.close();
  await prov.context.close();
});

test('a viewer sees everything and can change nothing', async () => {
  const { context, page } = await newPage(browser);
  await signIn(page, demo.url, demo.logins.viewer);
  assert.match(await page.getByRole('note').innerText(), /signed in as a viewer/);
  await page.goto(`${demo.url}/portal/numbers`);
  assert.equal(await page.getByRole('link', { name: 'Add numbers' }).count(), 0);
  const listed = Number((await page.locator('p.count').innerText()).match(/^(\d+)/)[1]);
  assert.ok(listed > 0, 'the viewer sees the numbers');
  await page.getByLabel('Position').selectOption('free');
  await page.waitForURL(/position=free/);
  await page.locator('tbody th a').first().click();
  await page.waitForURL(/\/portal\/numbers\/[^/?]+$/);
  assert.equal(await page.locator('main form').count(), 0, 'no form to change the number');
  assert.match(await page.locator('main').innerText(), /Viewers can look but not change numbers/);
  await checkA11y(page, 'a number page as a viewer');
  // Posted anyway, with a valid token, the service refuses it.
  const id = new URL(page.url()).pathname.split('/').pop();
  const csrf = await page.locator('form[action="/signout"] input[name="csrf"]').inputValue();
  const res = await page.request.post(`${demo.url}/portal/numbers/${id}/delete`, { form: { csrf } });
  assert.equal(res.status(), 403);
  assert.match(await res.text(), /Your role lets you look, not change anything/);
  await page.goto(`${demo.url}/portal/customers`);
  await page.locator('tbody th a').first().click();
  assert.equal(await page.getByRole('button', { name: 'Save settings' }).count(), 0);
  await screenshots(page, 'viewer');
  await context.close();
});

/** The demo API client's token, for arranging data the portal cannot yet make. */
async function apiToken() {
  const { client_id, client_secret } = demo.logins.api;
  const res = await fetch(`${demo.url}/oauth/token`, {
    method: 'POST',
    headers: { authorization: `Basic ${Buffer.from(`${client_id}:${client_secret}`).toString('base64')}`, 'content-type': 'application/x-www-form-urlencoded' },
    body: 'grant_type=client_credentials',
  });
  assert.equal(res.status, 200);
  return (await res.json()).access_token;
}

async function api(token, method, path, body) {
  const res = await fetch(`${demo.url}${path}`, {
    method,
    headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  const text = await res.text();
  assert.ok(res.status < 300, `${method} ${path}: ${res.status} ${text}`);
  return text ? JSON.parse(text) : null;
}

test('stored markup renders as text and cannot run (CSP forbids inline script)', async () => {
  const token = await apiToken();
  const script = '<script>window.__xss = 1</script>';
  const img = '"><img src=x onerror="window.__xss = 2">';
  // A customer named with markup, a number carrying it in every free-text field and attribute.
  const accounts = await api(token, 'GET', '/v2/accounts');
  const globex = (accounts.accounts ?? accounts).find((a) => a.name === 'Globex Corporation');
  assert.ok(globex, 'the demo has Globex');
  await api(token, 'PATCH', `/v2/accounts/${globex.id}`, { name: `Globex ${script}` });
  await api(token, 'POST', '/v2/attributes', { key: 'xss_probe', allowed_values: [img] });
  const free = await api(token, 'GET', '/v2/phone/numbers?position=free&page_size=1');
  const n = free.phone_numbers[0];
  await api(token, 'PATCH', `/v2/phone/numbers/${n.id}`, {
    billing_reference: `bill ${img}`,
    service_info: `info ${script}`,
    attributes: { xss_probe: img },
  });
  const { context, page } = await newPage(browser);
  const dialogs = [];
  page.on('dialog', (d) => { dialogs.push(d.message()); d.dismiss(); });
  const res = await page.goto(`${demo.url}/signin`);
  const csp = res.headers()['content-security-policy'];
  assert.match(csp, /script-src 'self'(;|$)/);
  assert.doesNotMatch(csp, /unsafe-inline|unsafe-eval/);
  await signIn(page, demo.url, demo.logins.portal);
  const pages = [
    ['/portal', null],
    ['/portal/customers', script],
    [`/portal/customers/${globex.id}`, script],
    [`/portal/numbers?customer=${globex.id}`, null],
    [`/portal/numbers?position=free`, null],
    [`/portal/numbers/${n.id}`, img],
    ['/portal/numbers/new', script],
  ];
  for (const [path, shown] of pages) {
    await page.goto(`${demo.url}${path}`);
    assert.equal(await page.evaluate(() => window.__xss), undefined, `markup ran on ${path}`);
    assert.equal(await page.locator('img[src="x"]').count(), 0, `markup became an element on ${path}`);
    if (shown) assert.ok((await page.locator('main').innerText()).includes(shown), `${path} shows the text as typed`);
  }
  assert.deepEqual(dialogs, []);
  await screenshots(page, 'xss-number');
  // Put the name back for the tests that follow.
  await api(token, 'PATCH', `/v2/accounts/${globex.id}`, { name: 'Globex Corporation' });
  await context.close();
});

test('isolation: another tenant\'s portal URLs all answer 404', async () => {
  const token = await apiToken();
  const accounts = await api(token, 'GET', '/v2/accounts');
  const all = accounts.accounts ?? accounts;
  const initech = all.find((a) => a.name.startsWith('Initech'));
  const umbrella = all.find((a) => a.name.startsWith('Umbrella'));
  const free = (await api(token, 'GET', '/v2/phone/numbers?position=free&page_size=1')).phone_numbers[0];
  const initechs = (await api(token, 'GET', `/v2/phone/numbers?customer_id=${initech.id}&page_size=1`)).phone_numbers[0];
  const { context, page } = await newPage(browser);
  await signIn(page, demo.url, demo.logins.customer); // Globex
  const csrf = await page.locator('form[action="/signout"] input[name="csrf"]').inputValue();
  const gets = [];
  for (const num of [free, initechs]) {
    for (const id of [num.id, encodeURIComponent(num.phone_number)]) {
      gets.push(`/portal/numbers/${id}`, `/portal/numbers/${id}/release`, `/portal/numbers/${id}/unbind`, `/portal/numbers/${id}/delete`);
    }
  }
  for (const acc of [initech, umbrella, { id: demo.logins.api.account_id }]) gets.push(`/portal/customers/${acc.id}`);
  // The provider's API client: its confirmations are not Globex's to see.
  const client = demo.logins.api.client_id;
  gets.push(`/portal/clients/${client}/rotate`, `/portal/clients/${client}/delete`);
  // The provider's import (a plan with a rejected row): its plan and rejected rows.
  const upload = await fetch(`${demo.url}/v2/imports?action=add&file_name=p.csv`, {
    method: 'POST',
    headers: { authorization: `Bearer ${token}`, 'content-type': 'text/csv' },
    body: 'Phone Number\n+14155550981\n4155550982\n',
  });
  assert.equal(upload.status, 201);
  const imported = await upload.json();
  gets.push(`/portal/imports/${imported.id}`, `/portal/imports/${imported.id}/rejected`);
  // The provider's export (made by the server's job), its notification and a schedule.
  const exp = await api(token, 'POST', '/v2/exports', { kind: 'list' });
  for (let i = 0; i < 300; i++) {
    const e = await api(token, 'GET', `/v2/exports/${exp.id}`);
    if (e.status === 'ready') break;
    await new Promise((r) => setTimeout(r, 100));
  }
  const note = (await api(token, 'GET', '/v2/notifications')).notifications.find((n) => n.subject_id === exp.id);
  assert.ok(note, 'the export was announced');
  const sched = await api(token, 'POST', '/v2/export_schedules', { kind: 'list', cadence: 'daily' });
  gets.push(`/portal/exports/${exp.id}/file`);
  for (const path of gets) {
    const res = await page.request.get(`${demo.url}${path}`);
    assert.equal(res.status(), 404, `GET ${path}`);
    assert.doesNotMatch(await res.text(), /Initech|Umbrella|\+1\d{10}/, `GET ${path} names another tenant's data`);
  }
  const posts = [];
  for (const num of [free, initechs]) {
    for (const action of ['allocate', 'assign', 'unassign', 'unit', 'release', 'unbind', 'delete']) posts.push(`/portal/numbers/${num.id}/${action}`);
  }
  for (const acc of [initech, umbrella]) posts.push(`/portal/customers/${acc.id}/settings`, `/portal/customers/${acc.id}/deactivate`);
  posts.push(`/portal/clients/${client}/rotate`, `/portal/clients/${client}/delete`);
  posts.push(`/portal/imports/${imported.id}/apply`);
  posts.push(`/portal/notifications/${note.id}/read`, `/portal/exports/schedules/${sched.id}/delete`);
  for (const path of posts) {
    const res = await page.request.post(`${demo.url}${path}`, {
      form: { csrf, assignee_type: 'user', assignee_id: 'x', account: demo.logins.api.account_id, unit: initech.id },
    });
    assert.equal(res.status(), 404, `POST ${path}`);
  }
  // And nothing changed: Initech's number is still where it was.
  const still = await api(token, 'GET', `/v2/phone/numbers/${initechs.id}`);
  assert.equal(still.version, initechs.version);
  // The provider's import was not applied.
  assert.equal((await api(token, 'GET', `/v2/imports/${imported.id}`)).status, 'planned');
  // The provider's client still works: its secret was neither rotated nor deleted.
  assert.ok(await apiToken());
  await context.close();
});

test('the delete list (seed 004): checked as typed, then Removed and Rejected with reasons', async () => {
  const { context, page } = await newPage(browser);
  await signIn(page, demo.url, demo.logins.customer);
  await page.goto(`${demo.url}/portal/numbers?position=unassigned`);
  const free = await page.locator('tbody th').first().innerText();
  await page.goto(`${demo.url}/portal/numbers?position=assigned`);
  const busy = await page.locator('tbody th').first().innerText();
  await page.getByRole('link', { name: 'Delete list' }).click();
  await page.getByLabel('Phone numbers').fill(`${free}\n${busy}\n12345`);
  // htmx checks each line as it is typed.
  await page.locator('#checked li').nth(2).waitFor();
  const checks = await page.locator('#checked li').allInnerTexts();
  assert.match(checks[0], /Ready: it will return to your provider/);
  assert.match(checks[1], /Assigned: unassign it first \(R-MOVE-3\)/);
  assert.match(checks[2], /Not a phone number/);
  await checkA11y(page, 'the delete list as typed');
  await page.getByRole('button', { name: 'Add to Delete List' }).click();
  assert.match(await page.getByRole('heading', { name: /On the list: 3/ }).innerText(), /3/);
  assert.match(await page.locator('p.warning').innerText(), /1 numbers will leave Globex Corporation and return to your provider's pool/);
  await checkA11y(page, 'the delete list');
  await page.getByRole('button', { name: 'Release 1 numbers' }).click();
  await page.getByRole('heading', { name: 'Removed Numbers: 1' }).waitFor();
  await page.getByRole('heading', { name: 'Rejected Numbers: 2' }).waitFor();
  const rejected = await page.getByRole('table').innerText();
  assert.match(rejected, new RegExp(`\\${busy}\\s+Assigned: unassign it first`));
  assert.match(rejected, /12345\s+Not a phone number/);
  assert.match(await page.locator('ul.numbers').innerText(), new RegExp(`\\${free}`));
  await checkA11y(page, 'the delete list result');
  await screenshots(page, 'delete-list');
  // The released number is gone from the customer's list.
  const gone = await page.goto(`${demo.url}/portal/numbers/${encodeURIComponent(free)}`);
  assert.equal(gone.status(), 404);
  await context.close();
});

test('the customer sees only its own numbers', async () => {
  const { context, page } = await newPage(browser);
  await signIn(page, demo.url, demo.logins.customer);
  assert.match(await page.locator('.who .account').innerText(), /Globex Corporation/);
  assert.match(await page.locator('p.lead').innerText(), /numbers in Globex Corporation/);
  await page.goto(`${demo.url}/portal/numbers`);
  const positions = new Set(await page.locator('tbody tr td:nth-child(5)').allInnerTexts());
  for (const p of positions) assert.ok(['Assigned', 'Unassigned'].includes(p), `customer sees position ${p}`);
  await checkA11y(page, 'the customer numbers list');
  await screenshots(page, 'customer-numbers');
  await context.close();
});

test('a form posted without its CSRF token is refused', async () => {
  const { context, page } = await newPage(browser);
  await signIn(page, demo.url, demo.logins.portal);
  // The sign-out form, with its token taken out.
  await page.evaluate(() => document.querySelector('form[action="/signout"] input[name="csrf"]').remove());
  const [res] = await Promise.all([
    page.waitForResponse((r) => r.url().endsWith('/signout')),
    page.getByRole('button', { name: 'Sign out' }).click(),
  ]);
  assert.equal(res.status(), 403);
  await page.getByRole('heading', { name: 'Form expired' }).waitFor();
  // Still signed in: the refusal changed nothing.
  await page.goto(`${demo.url}/portal`);
  assert.equal(new URL(page.url()).pathname, '/portal');
  await context.close();
});

test('after sign-out the back button shows no data', async () => {
  const { context, page } = await newPage(browser);
  await signIn(page, demo.url, demo.logins.portal);
  await page.goto(`${demo.url}/portal/numbers`);
  const a_number = await page.locator('tbody th').first().innerText();
  await page.getByRole('button', { name: 'Sign out' }).click();
  await page.waitForURL(/\/signin\?signed_out=1/);
  assert.match(await page.getByRole('status').innerText(), /You are signed out/);
  await page.goBack();
  await page.waitForLoadState();
  assert.equal(new URL(page.url()).pathname, '/signin');
  const text = await page.locator('body').innerText();
  assert.ok(!text.includes(a_number), 'a number is still shown after sign-out');
  assert.ok(!text.includes('Acme Telecom'), 'the account is still shown after sign-out');
  await screenshots(page, 'signed-out');
  await context.close();
});

test('changing the password signs out the other sessions', async () => {
  const { context: a, page: first } = await newPage(browser);
  const { context: b, page: second } = await newPage(browser, { size: 'phone' });
  await signIn(first, demo.url, demo.logins.customer);
  await signIn(second, demo.url, demo.logins.customer);
  await first.goto(`${demo.url}/portal/account/password`);
  await first.getByLabel('Current password').fill(demo.logins.customer.password);
  await first.getByLabel('New password', { exact: true }).fill('short');
  await first.getByLabel('New password again').fill('short');
  // The browser's own minlength check stops it; bypass it to see the server's answer too.
  await first.evaluate(() => document.querySelectorAll('input[minlength]').forEach((i) => i.removeAttribute('minlength')));
  await first.getByRole('button', { name: 'Change password' }).click();
  assert.match(await first.getByRole('alert').innerText(), /at least 12 characters/);
  const fresh = 'a much longer password 42';
  await first.getByLabel('Current password').fill(demo.logins.customer.password);
  await first.getByLabel('New password', { exact: true }).fill(fresh);
  await first.getByLabel('New password again').fill(fresh);
  await first.getByRole('button', { name: 'Change password' }).click();
  assert.match(await first.getByRole('status').innerText(), /Your password is changed/);
  await checkA11y(first, 'the password page');
  await screenshots(first, 'password');
  // The other session is gone; this one stays.
  await second.goto(`${demo.url}/portal`);
  assert.equal(new URL(second.url()).pathname, '/signin');
  await first.goto(`${demo.url}/portal`);
  assert.equal(new URL(first.url()).pathname, '/portal');
  demo.logins.customer.password = fresh;
  await a.close();
  await b.close();
});

// Last: it also uses up this address's failures, which would slow every later sign-in.
test('repeated failed sign-ins for one email are slowed', async () => {
  const { context, page } = await newPage(browser);
  const email = 'nobody@nowhere.example';
  let last = '';
  for (let i = 0; i < 11; i += 1) {
    await page.goto(`${demo.url}/signin`);
    await page.getByLabel('Email').fill(email);
    await page.getByLabel('Password').fill(`guess number ${i}`);
    await page.getByRole('button', { name: 'Sign in' }).click();
    last = await page.getByRole('alert').innerText();
  }
  assert.match(last, /Too many failed sign-ins .* Try again in \d+ seconds/);
  await context.close();
});
