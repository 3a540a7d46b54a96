// Number blocks in the portal (issue 14), in real headless Chromium against the real binary: a
// provider adds a range as one block, is told what is wrong with a bad or overlapping range
// beside the form it typed, follows a block's free count to its numbers, and releases the
// block after a confirmation that says what goes. A customer has no Blocks page in its menu.
// One demo server for this file; the tests run in order. On PostgreSQL the files share one
// database, one after another: the block uses +1312555 numbers no other file touches, and is
// released again before the file ends.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { useDemo, newPage, signIn, checkA11y, screenshots } from './harness.mjs';

let demo;
let browser;

useDemo((d, b) => {
  demo = d;
  browser = b;
});

async function addBlock(page, start, size) {
  await page.getByLabel('Start number').fill(start);
  await page.getByLabel('Size', { exact: true }).fill(size);
  await page.getByRole('button', { name: 'Add block' }).click();
  await page.waitForLoadState('load');
}

const blockRow = (page) => page.locator('table tbody tr', { hasText: '+13125557000' });

test('a provider adds a block, follows it to its numbers and releases it', async () => {
  const { context, page } = await newPage(browser);
  await signIn(page, demo.url, demo.logins.portal);
  await page.getByRole('link', { name: 'Blocks' }).click();
  assert.equal(await page.locator('h1').innerText(), 'Number blocks');
  assert.equal(await page.getByRole('link', { name: 'Blocks' }).getAttribute('aria-current'), 'page');

  // A range that runs off its area code: said beside the form, which keeps what was typed.
  await addBlock(page, '+13129999998', '5');
  assert.match(await page.getByRole('alert').innerText(), /\+13130000000 \(number 3 of the block\) is not a valid US number/);
  assert.equal(await page.getByLabel('Start number').inputValue(), '+13129999998');
  assert.equal(await page.getByLabel('Size', { exact: true }).inputValue(), '5');
  await checkA11y(page, 'a refused block');

  await addBlock(page, '+13125557000', '25');
  await page.waitForURL(/done=number_block.create/);
  assert.match(
    await page.getByRole('status').innerText(),
    /^Number block added: \+13125557000 – \+13125557024 \(25 numbers\)\.$/,
  );
  const row = blockRow(page);
  assert.match(await row.innerText(), /^\s*\+13125557000 – \+13125557024\s+25\s+25\s+0\s+0\s+0\s+\d{4}-\d{2}-\d{2}\s+Release\s*$/);
  await checkA11y(page, 'the blocks page');
  await screenshots(page, 'blocks');

  // A range that overlaps it goes nowhere, naming the number already there.
  await addBlock(page, '+13125557020', '10');
  assert.match(await page.getByRole('alert').innerText(), /\+13125557020/);
  assert.equal(await blockRow(page).count(), 1);

  // The free count leads to the block's numbers.
  await Promise.all([
    page.waitForURL(/\/portal\/numbers\?block=/),
    blockRow(page).getByRole('link', { name: /^25 free numbers of/ }).click(),
  ]);
  assert.match(await page.locator('p.count').first().innerText(), /^25 numbers/);
  await page.goto(`${demo.url}/portal/blocks`);

  // The release says what goes, and goes only on the button.
  await Promise.all([
    page.waitForURL(/\/portal\/blocks\/[^/]+\/release$/),
    blockRow(page).getByRole('link', { name: /^Release the block/ }).click(),
  ]);
  assert.match(await page.locator('h1').innerText(), /^Release the block \+13125557000 – \+13125557024\?$/);
  assert.match(await page.locator('main').innerText(), /The 25 numbers of this block still in your pool \(25 free, 0 returned\) will be deleted/);
  await screenshots(page, 'block-release');
  await page.getByRole('button', { name: 'Release block' }).click();
  await page.waitForURL(/done=number_block.release/);
  assert.match(await page.getByRole('status').innerText(), /\(25 numbers removed\)\.$/);
  assert.equal(await blockRow(page).count(), 0);
  await context.close();
});

test('a customer has no blocks page', async () => {
  const { context, page } = await newPage(browser);
  await signIn(page, demo.url, demo.logins.customer);
  assert.equal(await page.getByRole('link', { name: 'Blocks' }).count(), 0);
  await context.close();
});
