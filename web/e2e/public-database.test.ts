/**
 * Public access on the database page, in Debian's Chromium against the real server with DROVER_DB_PUBLIC_ACCESS on:
 * a database starts private; a hostname outside the apps domain is refused under the field; opening it with a
 * hostname shows the public address and a connection URL without credentials; the revealed credentials add
 * DATABASE_PUBLIC_URL; closing it makes it private again.
 */
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { a11yViolations, ensureBuild, launchBrowser, pageApi, screenshot, setupAndSignIn, startServer, type Browser, type RunningServer } from './harness.ts';

let server: RunningServer;
let browser: Browser;

before(async () => {
  ensureBuild();
  server = await startServer({ env: { DROVER_DB_PUBLIC_ACCESS: 'true', DROVER_APPS_DOMAIN: 'apps.example.test' } });
  browser = await launchBrowser();
});

after(async () => {
  await browser?.close();
  await server?.stop();
});

const email = 'public-db-owner@example.com';
const password = 'public horse battery staple';

test('a database is opened and closed from its page, the public URL shown without credentials', async () => {
  const page = browser.page;
  page.setDefaultTimeout(15_000);
  const base = server.url;
  const teamId = await setupAndSignIn(page, base, { email, password, name: 'Owner' });

  // The project and its database through the API, with the page's own session.
  const project = await pageApi(page, 'POST', `/api/teams/${teamId}/projects`, { slug: 'shop' });
  const env = (await pageApi(page, 'GET', `/api/projects/${project.id}/environments`)).items[0];
  const databaseId = (await pageApi(page, 'POST', `/api/environments/${env.id}/databases`, { name: 'maindb', engine: 'postgres' })).id as string;

  await page.goto(`${base}/databases/${databaseId}`);
  assert.match((await page.getByTestId('db-public').textContent()) ?? '', /Private/);

  const form = page.getByRole('form', { name: 'Public access' });
  await form.getByLabel('Open to the internet').check();
  await form.getByLabel('Public hostname').fill('maindb.example.org');
  await form.getByRole('button', { name: 'Save' }).click();
  await form.locator('input[name="hostname"][aria-invalid="true"]').waitFor();
  assert.match((await page.getByTestId('db-public').textContent()) ?? '', /Private/, 'nothing was opened');

  await form.getByLabel('Public hostname').fill('maindb.apps.example.test');
  await form.getByRole('button', { name: 'Save' }).click();
  await page.getByTestId('db-public-url').waitFor();
  assert.equal(await page.getByTestId('db-public-url').textContent(), 'postgresql://maindb.apps.example.test:5432/?sslmode=require');
  await screenshot(page, '27-database-public');
  assert.deepEqual(await a11yViolations(page), []);

  await page.getByRole('button', { name: 'Reveal credentials' }).click();
  await page.getByRole('button', { name: 'Hide' }).waitFor();
  const secret = (await page.getByTestId('db-public-secret-url').textContent()) ?? '';
  const shown = (await page.getByTestId('db-password').textContent()) ?? '';
  assert.ok(secret.startsWith('postgresql://') && secret.includes(`:${shown}@maindb.apps.example.test:5432/`), 'DATABASE_PUBLIC_URL holds the revealed password');

  await form.getByLabel('Open to the internet').uncheck();
  await form.getByRole('button', { name: 'Save' }).click();
  await page.getByTestId('db-public').filter({ hasText: 'Private' }).waitFor();
});
