// Browser test of the command-centre screen: opens /screen?grid=<code> in headless Chromium,
// waits until the page is connected, reports an event through /graphql and waits until the
// event shows in the page's feed and its open-events counter has changed.
//
// Usage: node tests/e2e/screen.mjs <hub base url> <grid code> [<screen token> [<reporter token>]]
// The screen token goes into the page's fragment (`#token=`); the reporter token (default: the screen
// token) authorises `reportEvent`. Exit code 0 when the page showed the change; 1 with a message
// saying what it did not show.

import { launch } from './browser.mjs';
const STEP_TIMEOUT_MS = 20000;

class Failure extends Error {}

async function step(description, action) {
  try {
    return await action();
  } catch (error) {
    throw new Failure(`${description}: ${error.message.split('\n')[0]}`);
  }
}

function bearer(token) {
  return token ? { Authorization: `Bearer ${token}` } : {};
}

async function reportEvent(base, gridCode, title, token) {
  const mutation = `mutation Report($input: ReportEventInput!) {
    reportEvent(input: $input) { id title status }
  }`;
  const input = {
    gridCode,
    category: 'SAFETY_HAZARD',
    priority: 'URGENT',
    title,
    description: 'Smoke in the stairwell of building 3 <script>alert(1)</script>',
  };
  const response = await fetch(`${base}/graphql`, {
    method: 'POST',
    headers: { 'Content-Type': 'application/json', ...bearer(token) },
    body: JSON.stringify({ query: mutation, variables: { input } }),
  });
  const body = await response.json();
  if (body.errors) throw new Error(JSON.stringify(body.errors));
  return body.data.reportEvent;
}

/** The open-events counter as a number (NaN when it shows none). */
async function openEvents(page) {
  const text = await page.locator('[data-stat="openEvents"] .value').innerText();
  return /\d/.test(text) ? Number(text.replace(/\D/g, '')) : NaN;
}

/** What the page shows about its connection and errors, to explain a failure. */
async function pageState(page) {
  const text = (selector) => page.locator(selector).innerText({ timeout: 1000 }).catch(() => '?');
  const connection = await text('#connection-text');
  const errors = (await text('#errors')).trim();
  return `the page shows connection "${connection}"${errors ? ` and errors "${errors}"` : ''}`;
}

async function run(base, gridCode, tokens) {
  const browser = await launch();
  const problems = [];
  const page = await browser.newPage();
  try {
    await check(page, problems, base, gridCode, tokens);
  } catch (error) {
    if (error instanceof Failure) throw new Failure(`${error.message}; ${await pageState(page)}`);
    throw error;
  } finally {
    await browser.close();
  }
}

async function check(page, problems, base, gridCode, tokens) {
  page.on('pageerror', (error) => problems.push(`page error: ${error.message}`));
  page.on('console', (message) => {
    if (message.type() === 'error') problems.push(`console error: ${message.text()}`);
  });
  const query = new URLSearchParams({ grid: gridCode });
  const fragment = tokens.screen ? `#${new URLSearchParams({ token: tokens.screen })}` : '';
  await step('open the screen', () => page.goto(`${base}/screen?${query}${fragment}`));
  await step('wait for the connection state "connected"', () =>
    page.waitForSelector('#connection[data-state="connected"]', { timeout: STEP_TIMEOUT_MS }));
  await step('wait for the grid title', () =>
    page.waitForFunction((code) => document.getElementById('grid-title').textContent.includes(code),
      gridCode, { timeout: STEP_TIMEOUT_MS }));
  await step('wait for the first counters from the stats subscription', () =>
    page.waitForSelector('#stats[data-live="true"] [data-stat="openEvents"]', { timeout: STEP_TIMEOUT_MS }));
  const before = await openEvents(page);
  if (Number.isNaN(before)) throw new Failure('the open-events counter shows no number');

  const title = `e2e 楼道堆物 <b>${Date.now()}-${Math.random().toString(36).slice(2)}</b>`;
  const event = await step('report an event through /graphql', () => reportEvent(base, gridCode, title, tokens.reporter));

  await step(`wait for "${title}" to arrive live in the event feed`, () =>
    page.waitForFunction((t) => [...document.querySelectorAll('#feed li:not([data-initial]) .title')]
      .some((e) => e.textContent === t), title, { timeout: STEP_TIMEOUT_MS }));
  await step(`wait for the open-events counter to go from ${before} to ${before + 1}`, () =>
    page.waitForFunction((n) => {
      const text = document.querySelector('[data-stat="openEvents"] .value').textContent;
      return Number(text.replace(/\D/g, '')) === n;
    }, before + 1, { timeout: STEP_TIMEOUT_MS }));
  const after = await openEvents(page);

  const markup = await page.locator('#feed b').count();
  if (markup > 0) throw new Failure('the feed rendered an event title as markup instead of text');
  const errors = await page.locator('#errors').innerText();
  if (errors.trim()) throw new Failure(`the page shows errors: ${errors.trim()}`);
  if (problems.length) throw new Failure(problems.join('; '));
  console.log(`ok: event ${event.id} shown in the feed; open events ${before} -> ${after}`);
}

const [base, gridCode, screenToken, reporterToken] = process.argv.slice(2);
if (!base || !gridCode) {
  console.error('usage: node tests/e2e/screen.mjs <hub base url> <grid code> [<screen token> [<reporter token>]]');
  process.exit(2);
}
try {
  const tokens = { screen: screenToken, reporter: reporterToken || screenToken };
  await run(base.replace(/\/$/, ''), gridCode, tokens);
} catch (error) {
  console.error(`screen e2e failed: ${error instanceof Failure ? error.message : error.stack}`);
  process.exit(1);
}
