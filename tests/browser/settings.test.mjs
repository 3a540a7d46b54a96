// Provider settings, API clients and the audit log in real headless Chromium against the real
// binary (issue 12). One demo server for this file; each test has its own browser context.
// The tests run in order: the audit log test looks for the changes the ones before it made.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { useDemo, newPage, signIn, checkA11y, screenshots } from './harness.mjs';

let demo;
let browser;

useDemo((d, b) => {
  demo = d;
  browser = b;
});

/** A provider admin's page on the settings, signed in. */
async function provider() {
  const { context, page } = await newPage(browser);
  await signIn(page, demo.url, demo.logins.portal);
  return { context, page };
}

/** The text of the settings section `id` (trunks, carriers, attributes, rates). */
const section = (page, id) => page.locator(`section#${id}`);

/** Follows a Delete… link to its confirmation page, checks it, and confirms. */
async function confirmDelete(page, linkName, what) {
  await page.getByRole('link', { name: linkName }).click();
  await page.waitForURL(/\/delete$/);
  await checkA11y(page, `the confirmation to delete ${what}`);
  assert.match(await page.locator('main p').first().innerText(), new RegExp(what));
  await page.getByRole('button', { name: /^Delete/ }).click();
}

test('SIP trunks: create, rename, delete refused while numbers use it, delete an unused one', async () => {
  const { context, page } = await provider();
  await page.getByRole('link', { name: 'Settings' }).click();
  await page.waitForURL(`${demo.url}/portal/settings`);
  await page.getByRole('heading', { name: 'Provider settings', level: 1 }).waitFor();
  await checkA11y(page, 'the provider settings');

  const trunks = section(page, 'trunks');
  await trunks.getByLabel('Name').fill('edge-test-1');
  await trunks.getByLabel('Region').fill('ap-south');
  await trunks.getByRole('button', { name: 'Create trunk' }).click();
  await page.waitForURL(/done=sip_trunk.create/);
  assert.equal(await trunks.getByRole('status').innerText(), 'SIP trunk created: edge-test-1.');
  assert.equal(await trunks.getByRole('row', { name: /edge-test-1/ }).locator('td').first().innerText(), 'ap-south');

  // The same name again is refused in the section, with what was typed kept.
  await trunks.getByLabel('Name').fill('edge-test-1');
  await trunks.getByLabel('Region').fill('ap-east');
  await trunks.getByRole('button', { name: 'Create trunk' }).click();
  await trunks.getByRole('alert').waitFor();
  assert.equal(await trunks.getByRole('alert').innerText(), 'A SIP trunk named edge-test-1 already exists.');
  assert.equal(await trunks.getByLabel('Region').inputValue(), 'ap-east');
  await checkA11y(page, 'the settings with a refused trunk');

  // Rename it on its edit page.
  await page.goto(`${demo.url}/portal/settings`);
  await page.getByRole('link', { name: 'Edit SIP trunk edge-test-1' }).click();
  await page.getByRole('heading', { name: 'Edit SIP trunk edge-test-1' }).waitFor();
  await checkA11y(page, 'the trunk edit page');
  await page.getByLabel('Name').fill('edge-test-2');
  await page.getByRole('button', { name: 'Save' }).click();
  await page.waitForURL(/done=sip_trunk.update/);
  assert.equal(await trunks.getByRole('status').innerText(), 'SIP trunk changed: edge-test-2.');
  assert.equal(await trunks.getByRole('row', { name: /edge-test-1/ }).count(), 0);

  // The demo's numbers go out on us-east-1: R-PROV-2 keeps it.
  await confirmDelete(page, 'Delete SIP trunk us-east-1', 'us-east-1');
  await trunks.getByRole('alert').waitFor();
  assert.match(
    await trunks.getByRole('alert').innerText(),
    /^SIP trunk us-east-1 was not deleted: numbers use this SIP trunk; move them to another trunk first \(R-PROV-2\)$/,
  );
  assert.equal(await trunks.getByRole('row', { name: /us-east-1/ }).count(), 1);
  await checkA11y(page, 'the settings with a refused deletion');

  // The demo's first trunk is the default; another takes it over from the list (R-PROV-3),
  // and the default is not deleted while other trunks remain.
  const defaultOf = (name) => trunks.getByRole('row', { name: new RegExp(name) }).locator('td').nth(1).innerText();
  assert.equal(await defaultOf('us-east-1'), 'Default');
  assert.equal(await defaultOf('edge-test-2'), 'No');
  await trunks.getByRole('button', { name: 'Make default SIP trunk: edge-test-2' }).click();
  await page.waitForURL(/done=sip_trunk.update/);
  assert.equal(await defaultOf('edge-test-2'), 'Default');
  assert.equal(await defaultOf('us-east-1'), 'No');
  await confirmDelete(page, 'Delete SIP trunk edge-test-2', 'edge-test-2');
  await trunks.getByRole('alert').waitFor();
  assert.match(await trunks.getByRole('alert').innerText(), /make another one the default first \(R-PROV-3\)$/);
  await trunks.getByRole('button', { name: 'Make default SIP trunk: us-east-1' }).click();
  await page.waitForURL(/done=sip_trunk.update/);
  assert.equal(await defaultOf('us-east-1'), 'Default');

  // An unused one goes.
  await confirmDelete(page, 'Delete SIP trunk edge-test-2', 'edge-test-2');
  await page.waitForURL(/done=sip_trunk.delete/);
  assert.equal(await trunks.getByRole('status').innerText(), 'SIP trunk deleted: edge-test-2.');
  assert.equal(await trunks.getByRole('row', { name: /edge-test-2/ }).count(), 0);
  await screenshots(page, 'settings-trunks');
  await context.close();
});

test('carriers: create one, make it the default of its kind, give the default back, delete it', async () => {
  const { context, page } = await provider();
  await page.goto(`${demo.url}/portal/settings#carriers`);
  const carriers = section(page, 'carriers');
  await carriers.getByLabel('Kind', { exact: true }).selectOption('voice');
  await carriers.getByLabel('Name', { exact: true }).fill('Carrier Test');
  await carriers.getByRole('button', { name: 'Create carrier' }).click();
  await page.waitForURL(/done=carrier.create/);
  const row = (name) => carriers.getByRole('row', { name: new RegExp(name) });
  assert.equal(await row('Carrier Test').locator('td').nth(1).innerText(), 'No');

  await carriers.getByRole('button', { name: 'Make default voice carrier: Carrier Test' }).click();
  await page.waitForURL(/done=carrier.update/);
  assert.equal(await row('Carrier Test').locator('td').nth(1).innerText(), 'Default');
  assert.equal(await row('Carrier One').locator('td').nth(1).innerText(), 'No');

  // R-PROV-3: the default goes only as the last of its kind.
  await confirmDelete(page, 'Delete Carrier Test', 'Carrier Test');
  await carriers.getByRole('alert').waitFor();
  assert.match(await carriers.getByRole('alert').innerText(), /make another one the default first \(R-PROV-3\)$/);

  await carriers.getByRole('button', { name: 'Make default voice carrier: Carrier One' }).click();
  await page.waitForURL(/done=carrier.update/);
  await confirmDelete(page, 'Delete Carrier Test', 'Carrier Test');
  await page.waitForURL(/done=carrier.delete/);
  assert.equal(await row('Carrier Test').count(), 0);
  assert.equal(await row('Carrier One').locator('td').nth(1).innerText(), 'Default');
  await checkA11y(page, 'the carriers');
  await screenshots(page, 'settings-carriers');
  await context.close();
});

test('attributes: create a key with values, edit the values, refuse a taken key', async () => {
  const { context, page } = await provider();
  await page.goto(`${demo.url}/portal/settings#attributes`);
  const attributes = section(page, 'attributes');
  await attributes.getByLabel('Key').fill('tier');
  await attributes.getByLabel('Allowed values').fill('gold\nsilver\n\n');
  await attributes.getByRole('button', { name: 'Create attribute' }).click();
  await page.waitForURL(/done=attribute.create/);
  const values = () => attributes.getByRole('row', { name: /tier/ }).locator('ul.values li').allInnerTexts();
  assert.deepEqual(await values(), ['gold', 'silver']);

  await page.getByRole('link', { name: 'Edit values of tier' }).click();
  await page.getByRole('heading', { name: 'Edit attribute tier' }).waitFor();
  assert.equal(await page.getByLabel('Allowed values').inputValue(), 'gold\nsilver');
  await checkA11y(page, 'the attribute edit page');
  await page.getByLabel('Allowed values').fill('gold\nbronze\nplatinum');
  await page.getByRole('button', { name: 'Save' }).click();
  await page.waitForURL(/done=attribute.update/);
  assert.equal(await attributes.getByRole('status').innerText(), 'Attribute values changed: tier.');
  assert.deepEqual(await values(), ['gold', 'bronze', 'platinum']);

  await attributes.getByLabel('Key').fill('tier');
  await attributes.getByLabel('Allowed values').fill('x');
  await attributes.getByRole('button', { name: 'Create attribute' }).click();
  await attributes.getByRole('alert').waitFor();
  assert.equal(await attributes.getByRole('alert').innerText(), 'The attribute tier already exists.');
  await checkA11y(page, 'the settings with a refused attribute');
  await screenshots(page, 'settings-attributes');
  await context.close();
});

test('the rate card: a rate created, edited and deleted', async () => {
  const { context, page } = await provider();
  await page.goto(`${demo.url}/portal/settings#rates`);
  const rates = section(page, 'rates');
  await rates.getByLabel('Country').fill('us');
  await rates.getByLabel('Number type').selectOption('toll_free');
  await rates.getByLabel('Monthly cost').fill('1.5');
  await rates.getByRole('button', { name: 'Add rate' }).click();
  await page.waitForURL(/done=rate.create/);
  const row = () => rates.getByRole('row', { name: /US/ });
  assert.deepEqual(await row().locator('td').allInnerTexts().then((t) => t.slice(0, 2)), ['Toll free', '1.50 USD']);

  // A cost that is no amount is said beside the form, not sent.
  await rates.getByLabel('Country').fill('GB');
  await rates.getByLabel('Monthly cost').fill('1,50');
  await rates.getByRole('button', { name: 'Add rate' }).click();
  await rates.getByRole('alert').waitFor();
  assert.match(await rates.getByRole('alert').innerText(), /^Monthly cost: give an amount such as 1\.25/);
  assert.equal(await rates.getByLabel('Country').inputValue(), 'GB');

  await page.getByRole('link', { name: 'Edit the rate for US Toll free' }).click();
  await page.getByLabel('Monthly cost').fill('2.05');
  await page.getByRole('button', { name: 'Save' }).click();
  await page.waitForURL(/done=rate.update/);
  assert.equal(await row().locator('td').nth(1).innerText(), '2.05 USD');

  await confirmDelete(page, 'Delete the rate for US Toll free', 'Toll free numbers in US \\(2\\.05 USD a month\\)');
  await page.waitForURL(/done=rate.delete/);
  assert.equal(await rates.getByRole('status').innerText(), 'Rate deleted: US Toll free.');
  assert.equal(await row().count(), 0);
  await checkA11y(page, 'the rate card');
  await screenshots(page, 'settings-rates');
  await context.close();
});

/** Asks the API for a token with a client's credentials; the HTTP status. */
async function tokenStatus(clientId, secret) {
  const res = await fetch(`${demo.url}/oauth/token`, {
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded' },
    body: new URLSearchParams({ grant_type: 'client_credentials', client_id: clientId, client_secret: secret }),
  });
  return res.status;
}

test('API clients: created with chosen scopes, secret shown once, rotated, deleted', async () => {
  const { context, page } = await provider();
  await page.getByRole('link', { name: 'API clients' }).click();
  await page.waitForURL(`${demo.url}/portal/clients`);
  await checkA11y(page, 'the API clients');

  // Reading scopes are ticked to start with; the test asks for numbers only.
  assert.equal(await page.getByRole('checkbox', { name: 'phone:read:admin' }).isChecked(), true);
  await page.getByRole('checkbox', { name: 'phone:read:admin' }).uncheck();
  await page.getByRole('checkbox', { name: 'phone_number:write:admin' }).check();
  await page.getByRole('button', { name: 'Create client' }).click();
  await page.getByRole('heading', { name: /is created$/ }).waitFor();
  await checkA11y(page, 'the new client and its secret');
  assert.match(await page.getByRole('status').innerText(), /Copy the secret now; it is not shown again\./);
  const clientId = await page.getByLabel('Client id').inputValue();
  const secret = await page.getByLabel('Client secret').inputValue();
  assert.match(clientId, /^np_[0-9a-f]+$/);
  assert.match(secret, /^[0-9a-f]{64}$/);
  assert.equal(await tokenStatus(clientId, secret), 200);
  const row = page.getByRole('row', { name: new RegExp(clientId) });
  assert.equal(await row.locator('td').first().innerText(), 'phone_number:read:admin phone_number:write:admin');

  // Once left, the page never shows it again.
  await page.getByRole('link', { name: 'I have copied it' }).click();
  await page.waitForURL(`${demo.url}/portal/clients`);
  await page.reload();
  assert.equal(await page.getByLabel('Client secret').count(), 0);
  assert.ok(!(await page.content()).includes(secret), 'the secret is on the list page');

  // None ticked is refused with the reason.
  for (const box of await page.getByRole('checkbox').all()) await box.uncheck();
  await page.getByRole('button', { name: 'Create client' }).click();
  await page.getByRole('alert').waitFor();
  assert.match(await page.getByRole('alert').innerText(), /^Tick at least one scope/);

  // Rotation: confirmed, a new secret once, the old one stops working.
  await page.goto(`${demo.url}/portal/clients`);
  await page.getByRole('link', { name: `Rotate secret of ${clientId}` }).click();
  await checkA11y(page, 'the rotation confirmation');
  assert.match(await page.locator('main p').first().innerText(), /the current secret stops working at once/);
  await page.getByRole('button', { name: 'Rotate secret' }).click();
  await page.getByRole('heading', { name: `New secret of ${clientId}` }).waitFor();
  const rotated = await page.getByLabel('Client secret').inputValue();
  assert.notEqual(rotated, secret);
  assert.equal(await tokenStatus(clientId, secret), 401);
  assert.equal(await tokenStatus(clientId, rotated), 200);

  // Deletion: confirmed, then gone, and its secret with it.
  await page.goto(`${demo.url}/portal/clients`);
  await confirmDelete(page, `Delete ${clientId}`, clientId);
  await page.waitForURL(/done=client.delete/);
  assert.equal(await page.getByRole('status').innerText(), `API client deleted: ${clientId}.`);
  assert.equal(await page.getByRole('row', { name: new RegExp(clientId) }).count(), 0);
  assert.equal(await tokenStatus(clientId, rotated), 401);
  await checkA11y(page, 'the API clients after a deletion');
  await screenshots(page, 'clients');
  await context.close();
});

test('the audit log shows those changes, filters by action and pages', async () => {
  const { context, page } = await provider();
  await page.getByRole('link', { name: 'Audit log' }).click();
  await page.waitForURL(`${demo.url}/portal/audit`);
  await checkA11y(page, 'the audit log');
  const rows = page.locator('tbody tr');
  // Newest first: the last test's deletion leads.
  const [action, record, , who, channel] = await rows.first().locator('th, td').allInnerTexts();
  assert.deepEqual([action, who, channel], ['API client deleted', `You (${demo.logins.portal.email})`, 'Portal']);
  assert.match(record, /^API client np_[0-9a-f]+$/);
  const actions = await page.locator('tbody th').allInnerTexts();
  for (const a of ['API client secret rotated', 'API client created', 'Rate deleted', 'Attribute values changed', 'SIP trunk deleted']) {
    assert.ok(actions.includes(a), `${a} is not in the log: ${actions}`);
  }

  // Filtered to one action (a plain GET form: the URL keeps the filter).
  await page.getByLabel('Action', { exact: true }).selectOption('sip_trunk.create');
  await page.getByRole('button', { name: 'Filter' }).click();
  await page.waitForURL(/action=sip_trunk.create/);
  assert.match(await page.locator('p.count').innerText(), /^1 event matches\.$/);
  const cells = await rows.first().locator('th, td').allInnerTexts();
  assert.deepEqual([cells[0], cells[1], cells[3], cells[4]], [
    'SIP trunk created', 'SIP trunk edge-test-1', `You (${demo.logins.portal.email})`, 'Portal',
  ]);

  // A day range that ends before anything happened finds nothing, and says how to see all.
  await page.getByLabel('Action', { exact: true }).selectOption('');
  await page.getByLabel('To', { exact: true }).fill('2001-01-01');
  await page.getByRole('button', { name: 'Filter' }).click();
  await page.waitForURL(/until=2001-01-01/);
  await page.getByRole('link', { name: 'Clear the filters' }).waitFor();

  // Numbers link to their page; the demo's hundreds of events page by 50.
  // On PostgreSQL the files share one database, and the newest events can be of numbers
  // another file has deleted since (their page is gone): follow the newest one still there.
  await page.goto(`${demo.url}/portal/audit?entity=number`);
  let link;
  for (let i = 0; i < 50 && !link; i += 1) {
    const candidate = rows.nth(i).getByRole('link');
    const href = await candidate.getAttribute('href');
    assert.match(href, /^\/portal\/numbers\/[0-9a-f-]{36}$/);
    if ((await page.request.get(`${demo.url}${href}`)).status() === 200) link = candidate;
  }
  assert.ok(link, 'no number of the first 50 events is still on the platform');
  const number = await link.innerText();
  await link.click();
  await page.getByRole('heading', { level: 1, name: new RegExp(number.replace('+', '\\+')) }).waitFor();
  await page.goBack();
  const firstPage = await rows.locator('td:nth-child(2)').allInnerTexts();
  assert.equal(firstPage.length, 50);
  await page.getByRole('link', { name: 'Next page' }).click();
  await page.waitForURL(/before=/);
  assert.equal(await page.getByLabel('Record', { exact: true }).inputValue(), 'number');
  assert.ok((await rows.count()) > 0, 'the second page is empty');
  await page.getByRole('link', { name: 'First page' }).waitFor();
  await checkA11y(page, 'the second page of the audit log');
  await screenshots(page, 'audit');
  await context.close();
});

test('a viewer sees the settings, the clients and the log, and no control that changes them', async () => {
  const { context, page } = await newPage(browser);
  await signIn(page, demo.url, demo.logins.viewer);
  await page.getByRole('link', { name: 'Settings' }).click();
  await page.waitForURL(`${demo.url}/portal/settings`);
  await page.getByRole('row', { name: /us-east-1/ }).waitFor();
  assert.equal(await page.getByRole('row', { name: /Carrier One/ }).count(), 1);
  assert.equal(await page.locator('main form').count(), 0);
  assert.equal(await page.getByRole('button').filter({ hasNotText: 'Sign out' }).count(), 0);
  assert.equal(await page.locator('main').getByRole('link', { name: /^(Edit|Delete|Rename)/ }).count(), 0);
  await checkA11y(page, 'the settings as a viewer');

  await page.getByRole('link', { name: 'API clients' }).click();
  await page.waitForURL(`${demo.url}/portal/clients`);
  assert.ok((await page.getByRole('row').count()) > 1, 'the viewer sees the demo API client');
  assert.equal(await page.locator('main form').count(), 0);
  assert.equal(await page.locator('main').getByRole('link', { name: /^(Rotate|Delete)/ }).count(), 0);
  await checkA11y(page, 'the API clients as a viewer');

  // Forms posted anyway are refused.
  const res = await page.request.post(`${demo.url}/portal/settings/trunks`, {
    form: { csrf: await page.locator('header input[name=csrf]').inputValue(), name: 'viewer-trunk', region: 'x' },
  });
  assert.equal(res.status(), 403);

  await page.getByRole('link', { name: 'Audit log' }).click();
  await page.waitForURL(`${demo.url}/portal/audit`);
  await page.locator('p.count').waitFor();
  await checkA11y(page, 'the audit log as a viewer');
  await screenshots(page, 'settings-viewer');
  await context.close();
});
