// The browser tests' harness: starts the real `numberpool demo` binary on a fresh database,
// launches Debian's Chromium through playwright-core, and gives each test helpers to sign in,
// run axe-core on a page, and save the last page's screenshot at both sizes.
//
// Environment (set by scripts/browser-test):
//   NUMBERPOOL_BIN       the built binary
//   NP_DATABASE_URL      a PostgreSQL database to use; unset: SQLite in a temp dir
//   NP_BACKEND           a label for screenshots (sqlite, postgres)
//   NP_SCREENSHOT_DIR    where screenshots go
//   CHROMIUM             the browser (default /usr/bin/chromium)

import { spawn } from 'node:child_process';
import { mkdtempSync, mkdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, dirname } from 'node:path';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import assert from 'node:assert/strict';
import { before, after } from 'node:test';
import { chromium } from 'playwright-core';

const here = dirname(fileURLToPath(import.meta.url));
const AXE = readFileSync(join(here, 'node_modules/axe-core/axe.min.js'), 'utf8');

export const SIZES = {
  desktop: { width: 1280, height: 800 },
  phone: { width: 390, height: 844 },
};

/** Starts `numberpool demo --json` and resolves with its logins once it serves. */
export async function startDemo({ env = {} } = {}) {
  const bin = process.env.NUMBERPOOL_BIN;
  assert.ok(bin, 'NUMBERPOOL_BIN must name the numberpool binary (scripts/browser-test sets it)');
  const dataDir = mkdtempSync(join(tmpdir(), 'np-browser-'));
  const args = ['demo', '--json', '--listen', '127.0.0.1:0', '--data-dir', dataDir, '--log-level', 'warn'];
  if (process.env.NP_DATABASE_URL) args.push('--database-url', process.env.NP_DATABASE_URL);
  const child = spawn(bin, args, { stdio: ['ignore', 'pipe', 'inherit'], env: { ...process.env, ...env } });
  const lines = createInterface({ input: child.stdout });
  const first = await new Promise((resolve, reject) => {
    child.once('exit', (code) => reject(new Error(`numberpool demo exited with ${code} before serving`)));
    lines.once('line', resolve);
  });
  const logins = JSON.parse(first);
  return {
    logins,
    url: logins.url,
    async stop() {
      child.kill('SIGTERM');
      await new Promise((r) => (child.exitCode !== null ? r() : child.once('exit', r)));
      rmSync(dataDir, { recursive: true, force: true });
    },
  };
}

/** One demo server and one browser for a test file: started before its tests (handed to
 *  `ready`), stopped after them. `options.env` adds to the server's environment. */
export function useDemo(ready, options = {}) {
  let demo;
  let browser;
  before(async () => {
    demo = await startDemo(options);
    browser = await launchBrowser();
    ready(demo, browser);
  });
  after(async () => {
    await browser?.close();
    await demo?.stop();
  });
}

/** Debian's Chromium, headless, with the flags this machine's closed network needs. */
export async function launchBrowser() {
  return chromium.launch({
    executablePath: process.env.CHROMIUM || '/usr/bin/chromium',
    headless: true,
    args: [
      '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
      '--disable-background-networking', '--disable-component-update', '--disable-sync',
    ],
  });
}

/** A new browser context (its own cookies) at a size; `javaScript: false` for the no-JS flows. */
export async function newPage(browser, { size = 'desktop', javaScript = true } = {}) {
  const context = await browser.newContext({ viewport: SIZES[size], javaScriptEnabled: javaScript });
  const page = await context.newPage();
  return { context, page };
}

/** Signs in through the form and waits for the portal. */
export async function signIn(page, base, login) {
  await page.goto(`${base}/signin`);
  await page.getByLabel('Email').fill(login.email);
  await page.getByLabel('Password').fill(login.password);
  await Promise.all([page.waitForURL(`${base}/portal`), page.getByRole('button', { name: 'Sign in' }).click()]);
}

/** Runs axe-core on the page; fails on any serious or critical violation, naming each. */
export async function checkA11y(page, what) {
  // Evaluated over the DevTools protocol, which the page's CSP does not govern.
  if (!(await page.evaluate(() => typeof window.axe === 'object'))) {
    await page.evaluate(AXE);
  }
  const result = await page.evaluate(async () => {
    const r = await window.axe.run(document, { resultTypes: ['violations'] });
    return r.violations.map((v) => ({ id: v.id, impact: v.impact, help: v.help, nodes: v.nodes.map((n) => n.target.join(' ')).slice(0, 5) }));
  });
  const bad = result.filter((v) => v.impact === 'serious' || v.impact === 'critical');
  assert.deepEqual(bad, [], `axe found serious or critical violations on ${what}: ${JSON.stringify(bad, null, 2)}`);
  return result;
}

/** Saves the page as it is now at both sizes: `<dir>/<backend>-<name>-<size>.png`. */
export async function screenshots(page, name) {
  const dir = process.env.NP_SCREENSHOT_DIR || join(tmpdir(), 'np-screenshots');
  mkdirSync(dir, { recursive: true });
  const backend = process.env.NP_BACKEND || 'sqlite';
  const original = page.viewportSize();
  for (const [size, viewport] of Object.entries(SIZES)) {
    await page.setViewportSize(viewport);
    await page.screenshot({ path: join(dir, `${backend}-${name}-${size}.png`), fullPage: true });
  }
  await page.setViewportSize(original);
}
