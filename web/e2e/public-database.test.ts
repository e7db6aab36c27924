/**
 * Public access on the database page, in Debian's Chromium against the real server with DROVER_DB_PUBLIC_ACCESS on:
 * a database starts private; a hostname outside the apps domain is refused under the field; opening it with a
 * hostname shows the public address and a connection URL without credentials; the revealed credentials add
 * DATABASE_PUBLIC_URL; closing it makes it private again.
 */
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { a11yViolations, ensureBuild, launchBrowser, screenshot, startServer, type Browser, type RunningServer } from './harness.ts';

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
  const setup = await fetch(`${base}/api/setup`, {
    method: 'POST', headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ email, name: 'Owner', password, teamName: 'Acme', teamSlug: 'acme' }),
  });
  const setupText = await setup.text();
  assert.equal(setup.status, 201, setupText);
  const teamId = (JSON.parse(setupText) as { team: { id: string } }).team.id;
  await page.goto(`${base}/login`);
  await page.getByLabel('Email').fill(email);
  await page.getByLabel('Password').fill(password);
  await page.getByRole('button', { name: 'Sign in' }).click();
  await page.waitForURL((u) => !u.pathname.startsWith('/login'));

  // The project and its database through the API, with the page's own session.
  const databaseId = await page.evaluate(async (team) => {
    const csrf = document.cookie.split('; ').find((c) => c.startsWith('drover_csrf='))?.split('=')[1] ?? '';
    const call = async (method: string, path: string, body?: unknown) => {
      const r = await fetch(path, { method, headers: { 'content-type': 'application/json', 'x-csrf-token': decodeURIComponent(csrf) }, ...(body ? { body: JSON.stringify(body) } : {}) });
      if (!r.ok) throw new Error(`${method} ${path}: ${r.status} ${await r.text()}`);
      return r.json();
    };
    const project = await call('POST', `/api/teams/${team}/projects`, { slug: 'shop' });
    const env = (await call('GET', `/api/projects/${project.id}/environments`)).items[0];
    return (await call('POST', `/api/environments/${env.id}/databases`, { name: 'maindb', engine: 'postgres' })).id as string;
  }, teamId);

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
