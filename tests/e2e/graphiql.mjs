// Browser test of GraphiQL at /: opens it in headless Chromium with every request off the hub's
// own origin refused, runs the default query, and opens the docs explorer, which must list the
// Query type. Usage: node tests/e2e/graphiql.mjs <hub base url>. Exit code 0 when all of it
// worked; 1 with a message saying what did not.

import { launch } from './browser.mjs';
const TIMEOUT_MS = 20000;

async function step(description, action) {
  try {
    return await action();
  } catch (error) {
    throw new Error(`${description}: ${error.message.split('\n')[0]}`);
  }
}

async function main(base) {
  const origin = new URL(base).origin;
  const browser = await launch();
  const refused = [];
  const errors = [];
  const page = await browser.newPage();
  try {
    page.setDefaultTimeout(TIMEOUT_MS);
    page.on('pageerror', (error) => errors.push(error.message));
    page.on('response', (response) => {
      if (response.status() >= 400 && !response.url().endsWith('/favicon.ico')) {
        errors.push(`${response.status()} from ${response.url()}`);
      }
    });
    await page.route('**/*', (route) => {
      const url = route.request().url();
      if (url.startsWith(origin) || url.startsWith('data:')) return route.continue();
      refused.push(url);
      return route.abort();
    });
    await step('open GraphiQL', () => page.goto(`${base}/`));
    await step('GraphiQL renders', () => page.waitForSelector('.graphiql-container'));
    await step('run the default query', () => page.click('.graphiql-execute-button'));
    await step('the result shows', () =>
      page.waitForFunction(() => {
        const result = document.querySelector('.result-window');
        return result && result.textContent.includes('"grids"');
      }));
    await step('open the docs explorer', () =>
      page.click('button[aria-label="Show Documentation Explorer"]'));
    await step('the docs list Query', () =>
      page.waitForSelector('.graphiql-doc-explorer a.graphiql-doc-explorer-type-name:has-text("Query")'));
    if (refused.length > 0) throw new Error(`requests off the hub: ${refused.join(', ')}`);
    if (errors.length > 0) throw new Error(`page errors: ${errors.join('; ')}`);
    console.log('ok: GraphiQL ran a query and listed Query in its docs, all from the hub');
  } catch (error) {
    const shown = await page
      .evaluate(() => document.querySelector('.graphiql-response')?.textContent?.slice(0, 300))
      .catch(() => undefined);
    const seen = [...errors, ...refused.map((url) => `refused ${url}`)];
    if (shown) seen.push(`the result pane shows: ${shown}`);
    throw new Error(`${error.message}${seen.length ? ` (${seen.join('; ')})` : ''}`);
  } finally {
    await browser.close();
  }
}

main(process.argv[2]).catch((error) => {
  console.error(error.message);
  process.exit(1);
});
