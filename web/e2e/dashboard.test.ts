/**
 * The dashboard end to end, in Debian's Chromium against the real server (real Postgres, migrations at boot):
 * first-run setup → create a project → add services → set variables (one a reference) → reveal a value →
 * a refused and an accepted custom domain → duplicate the environment → pan the canvas by keyboard, dark theme →
 * invite a member as viewer → the viewer accepts the invitation, finds every mutation control (deploy too) disabled, and the
 * server refuses a mutation sent anyway. Screenshots of the main screens go to artifacts/screenshots/.
 */
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import type { Page } from 'playwright-core';
import { a11yViolations, ensureBuild, launchBrowser, pageRequest, screenshot, startServer, type Browser, type RunningServer } from './harness.ts';

/** shot writes the screenshot and asserts the screen has no serious or critical WCAG 2 A/AA violation (axe-core). */
async function shot(page: Page, name: string): Promise<void> {
  await screenshot(page, name);
  assert.deepEqual(await a11yViolations(page), [], `accessibility violations on ${name}`);
}

let server: RunningServer;
let owner: Browser;
let viewer: Browser | undefined;

before(async () => {
  ensureBuild();
  server = await startServer();
  owner = await launchBrowser();
});

after(async () => {
  await viewer?.close();
  await owner?.close();
  await server?.stop();
});

const ownerEmail = 'owner@example.com';
const ownerPassword = 'correct horse battery staple';
const secretValue = 'tok_9f8e7d6c5b4a';

test('setup → project → services → variables → reveal → invite a viewer who cannot change anything', async (t) => {
  const page = owner.page;
  page.setDefaultTimeout(15_000);
  const base = server.url;
  let projectUrl = '';
  let inviteUrl = '';

  await t.test('a fresh Drover sends the visitor to first-run setup and creates the owner', async () => {
    await page.goto(`${base}/`);
    await page.waitForURL(`${base}/setup`);
    await shot(page, '01-setup');
    await page.getByLabel('Your name').fill('Olive Owner');
    await page.getByLabel('Email').fill(ownerEmail);
    await page.getByLabel('Password').fill(ownerPassword);
    await page.getByLabel('Team name').fill('Acme');
    await page.getByRole('button', { name: 'Create owner' }).click();
    await page.waitForURL(/\/teams\/[0-9a-f-]{36}$/);
    assert.equal(await page.getByTestId('role').textContent(), 'Your role: owner');
  });

  await t.test('a bad project slug is refused with the field named, a good one creates the project', async () => {
    await page.getByLabel('Slug').fill('Bad Slug!');
    await page.getByRole('button', { name: 'Create project' }).click();
    await page.locator('.field-error').first().waitFor();
    assert.match((await page.locator('.field-error').first().textContent()) ?? '', /\S/);
    await page.getByLabel('Slug').fill('shop');
    await page.getByLabel('Display name').fill('Shop');
    await page.getByRole('button', { name: 'Create project' }).click();
    await page.waitForURL(/\/projects\/[0-9a-f-]{36}\/environments\/[0-9a-f-]{36}$/);
    projectUrl = page.url();
    assert.equal(await page.getByRole('combobox', { name: 'Environment' }).inputValue().then(Boolean), true);
    await shot(page, '02-project-empty');
  });

  await t.test('services are added and appear on the canvas and in the list', async () => {
    for (const [slug, image, port] of [['api', 'ghcr.io/acme/api:1.0', '8080'], ['web', 'ghcr.io/acme/web:2.1', '3000']] as const) {
      await page.goto(projectUrl);
      const form = page.getByRole('form', { name: 'Add a service' });
      await form.getByLabel('Slug', { exact: true }).fill(slug);
      await form.getByLabel('Image').fill(image);
      await form.getByLabel(/^Port/).fill(port);
      await form.getByRole('button', { name: 'Add service' }).click();
      await page.waitForURL(/\/services\/[0-9a-f-]{36}/);
      await page.getByRole('heading', { level: 1 }).filter({ hasText: slug }).waitFor();
    }
    await page.goto(projectUrl);
    const canvas = page.getByTestId('canvas');
    await canvas.locator('[data-node]').nth(1).waitFor();
    assert.equal(await canvas.locator('[data-node]').count(), 2);
    await shot(page, '03-canvas');
    await page.getByRole('link', { name: 'List' }).click();
    const rows = page.getByRole('table', { name: 'Services' }).locator('tbody tr');
    await rows.nth(1).waitFor();
    assert.equal(await rows.count(), 2);
  });

  await t.test('service settings: a health check timeout above its interval is refused under its field, then saved', async () => {
    await page.goto(projectUrl + '?view=list');
    await page.getByRole('link', { name: 'api', exact: true }).first().click();
    await page.waitForURL(/\/services\//);
    const form = page.getByRole('form', { name: 'Service settings' });
    await form.getByLabel('Replicas').fill('2');
    await form.getByLabel('HTTP health check').check();
    await form.getByLabel('Path').fill('/healthz');
    await form.getByLabel('Interval').fill('5s');
    await form.getByLabel('Timeout').fill('10s');
    await form.getByRole('button', { name: 'Save settings' }).click();
    await form.getByRole('alert').waitFor();
    assert.equal(await form.getByLabel('Timeout').getAttribute('aria-invalid'), 'true');
    assert.match((await form.locator('.field-error').allTextContents()).join(' '), /interval/);
    await form.getByLabel('Timeout').fill('2s');
    await form.getByRole('button', { name: 'Save settings' }).click();
    await form.getByRole('status').filter({ hasText: 'Settings saved.' }).waitFor();
    await page.reload();
    const saved = page.getByRole('form', { name: 'Service settings' });
    assert.equal(await saved.getByLabel('Replicas').inputValue(), '2');
    assert.equal(await saved.getByLabel('Timeout').inputValue(), '2s');
  });

  await t.test('variables are set in the table, one of them a reference, and a value is revealed after reload', async () => {
    await page.goto(projectUrl + '?view=list');
    await page.getByRole('link', { name: 'web', exact: true }).first().click();
    await page.waitForURL(/\/services\//);
    await shot(page, '04-service-settings');
    await page.getByRole('link', { name: 'Variables' }).click();
    const editor = page.getByRole('form', { name: 'Service variables' });
    for (const [k, v] of [['SECRET_TOKEN', secretValue], ['API_URL', '${{ api.PRIVATE_URL }}']] as const) {
      await editor.getByRole('button', { name: 'Add variable' }).click();
      await editor.getByLabel('New variable name').last().fill(k);
      await editor.getByLabel(/^Value of new variable/).last().fill(v);
    }
    await editor.getByRole('button', { name: 'Save variables' }).click();
    await editor.getByRole('status').filter({ hasText: 'Variables saved.' }).waitFor();

    await page.reload();
    const reloaded = page.getByRole('form', { name: 'Service variables' });
    await reloaded.locator('[data-variable="SECRET_TOKEN"]').waitFor();
    assert.equal(await reloaded.getByLabel('Value of SECRET_TOKEN').count(), 0, 'values stay hidden until revealed');
    await shot(page, '05-variables-hidden');
    await reloaded.getByRole('button', { name: 'Reveal SECRET_TOKEN' }).click();
    assert.equal(await reloaded.getByLabel('Value of SECRET_TOKEN').inputValue(), secretValue);
    await reloaded.getByRole('button', { name: 'Raw .env' }).click();
    const raw = await reloaded.getByLabel('Raw .env').inputValue();
    assert.match(raw, new RegExp(`^SECRET_TOKEN=${secretValue}$`, 'm'));
    assert.match(raw, /^API_URL=/m);
    await shot(page, '06-variables-raw');
  });

  await t.test('a custom domain in upper case is refused under its field; a valid one is listed as pending', async () => {
    await page.getByRole('link', { name: 'Domains' }).click();
    const form = page.getByRole('form', { name: 'Add a custom domain' });
    await form.getByLabel('Custom domain').fill('Shop.Example.com');
    await form.getByRole('button', { name: 'Add domain' }).click();
    const error = form.locator('.field-error');
    await error.waitFor();
    assert.match((await error.textContent()) ?? '', /\S/);
    assert.equal(await form.getByLabel('Custom domain').getAttribute('aria-invalid'), 'true');
    await form.getByLabel('Custom domain').fill('shop.example.com');
    await form.getByRole('button', { name: 'Add domain' }).click();
    const row = page.locator('[data-domain="shop.example.com"]');
    await row.waitFor();
    assert.match((await row.textContent()) ?? '', /pending/);
    await shot(page, '06b-domains');
  });

  await t.test('the environment is duplicated with its services, and the switcher lists both', async () => {
    await page.goto(projectUrl);
    await page.getByLabel('New environment slug').fill('staging');
    await page.getByRole('button', { name: 'Duplicate' }).click();
    await page.waitForURL((u) => u.pathname.includes('/environments/') && u.href !== projectUrl);
    const switcher = page.getByRole('combobox', { name: 'Environment' });
    await switcher.locator('option').nth(1).waitFor({ state: 'attached' });
    assert.equal(await switcher.locator('option').count(), 2);
    await page.getByTestId('canvas').locator('[data-node]').nth(1).waitFor();
    assert.equal(await page.getByTestId('canvas').locator('[data-node]').count(), 2);
  });

  await t.test('the canvas pans with the keyboard and the theme toggle switches to dark', async () => {
    await page.goto(projectUrl);
    const canvas = page.getByTestId('canvas');
    await canvas.locator('[data-node]').first().waitFor();
    const layer = canvas.locator('.layer');
    const before = await layer.getAttribute('style');
    await canvas.focus();
    await page.keyboard.press('ArrowLeft');
    await page.keyboard.press('ArrowUp');
    assert.notEqual(await layer.getAttribute('style'), before);
    const toggle = page.getByRole('button', { name: /^Theme:/ });
    await toggle.click(); // system → light
    await toggle.click(); // light → dark
    assert.equal(await page.evaluate(() => document.documentElement.dataset.theme), 'dark');
    await shot(page, '03b-canvas-dark');
    await toggle.click(); // dark → system
    assert.equal(await page.evaluate(() => document.documentElement.dataset.theme ?? 'system'), 'system');
  });

  await t.test('the owner invites a viewer and gets the accept link once', async () => {
    await page.goto(projectUrl);
    await page.getByRole('link', { name: 'Acme', exact: true }).click();
    await page.getByRole('link', { name: 'Members' }).click();
    const form = page.getByRole('form', { name: 'Invite a member' });
    await form.getByLabel('Email').fill('viewer@example.com');
    await form.getByLabel('Role').selectOption('viewer');
    await form.getByRole('button', { name: 'Invite' }).click();
    inviteUrl = (await page.getByTestId('invite-link').textContent()) ?? '';
    assert.match(inviteUrl, /\/invitations\/accept#token=/);
    await shot(page, '07-members');
  });

  await t.test('the viewer accepts, sees mutation controls disabled, and the server refuses a mutation', async () => {
    viewer = await launchBrowser({ colorScheme: 'dark' });
    const v = viewer.page;
    v.setDefaultTimeout(15_000);
    await v.goto(inviteUrl);
    await v.getByLabel('Your name').fill('Vera Viewer');
    await v.getByLabel('Password').fill('another long passphrase');
    await v.getByRole('button', { name: 'Accept invitation' }).click();
    await v.waitForURL(/\/teams\/[0-9a-f-]{36}$/);
    assert.equal(await v.getByTestId('role').textContent(), 'Your role: viewer');
    assert.equal(await v.getByRole('button', { name: 'Create project' }).isDisabled(), true);
    await shot(v, '08-viewer-projects-dark');

    await v.goto(projectUrl);
    assert.equal(await v.getByRole('form', { name: 'Add a service' }).getByRole('button', { name: 'Add service' }).isDisabled(), true);
    await v.getByRole('link', { name: 'List' }).click();
    await v.getByRole('link', { name: 'web', exact: true }).first().click();
    await v.getByTestId('readonly').waitFor();
    assert.equal(await v.getByRole('button', { name: 'Save settings' }).isDisabled(), true);
    await v.getByRole('link', { name: 'Variables' }).click();
    const editor = v.getByRole('form', { name: 'Service variables' });
    assert.equal(await editor.getByRole('button', { name: 'Reveal SECRET_TOKEN' }).isDisabled(), true);
    assert.equal(await editor.getByRole('button', { name: 'Add variable' }).isDisabled(), true);
    assert.equal(await editor.getByRole('button', { name: 'Delete SECRET_TOKEN' }).isDisabled(), true);
    await shot(v, '09-viewer-service-dark');

    // A viewer cannot deploy: every deployment control is disabled.
    await v.goto(`${v.url().split('?')[0]}?tab=deployments`);
    await v.getByRole('heading', { name: 'Deployments' }).waitFor();
    for (const name of ['Deploy', 'Scale', 'Restart', 'Stop']) {
      assert.equal(await v.getByRole('button', { name, exact: true }).isDisabled(), true, `${name} is disabled for a viewer`);
    }

    // The controls are only a courtesy: the server itself refuses the viewer's mutation (403 problem+json).
    const serviceId = new URL(v.url()).pathname.split('/')[2]!;
    const refused = await pageRequest(v, 'PUT', `/api/services/${serviceId}/variables`, { variables: { SECRET_TOKEN: 'changed' } });
    assert.equal(refused.status, 403);
    assert.match(refused.type, /application\/problem\+json/);
    assert.ok(!refused.text.includes(secretValue));
  });

  await t.test('an API token is shown once, listed by its prefix, and revoked', async () => {
    await page.getByRole('link', { name: 'API tokens' }).click();
    const form = page.getByRole('form', { name: 'New API token' });
    await form.getByLabel('Name').fill('ci');
    await form.getByLabel('Scope').selectOption('deploy');
    await form.getByRole('button', { name: 'Create token' }).click();
    const secret = await page.getByLabel('New token').inputValue();
    assert.ok(secret.length >= 20, 'the new token is shown');
    const row = page.getByRole('table', { name: 'API tokens' }).locator('tbody tr').filter({ hasText: 'ci' });
    await row.waitFor();
    const text = (await row.textContent()) ?? '';
    assert.match(text, /deploy/);
    assert.ok(!text.includes(secret), 'the list never shows the token itself');
    await shot(page, '11-tokens');
    await row.getByRole('button', { name: 'Revoke ci' }).click();
    await row.waitFor({ state: 'detached' });
  });

  await t.test('signing out ends the session; signing in with a wrong password says so, the right one comes back', async () => {
    await page.getByRole('button', { name: 'Sign out' }).click();
    await page.waitForURL(/\/login/);
    await page.goto(projectUrl);
    await page.waitForURL(/\/login\?next=/);
    await page.getByLabel('Email').fill(ownerEmail);
    await page.getByLabel('Password').fill('not the password');
    await page.getByRole('button', { name: 'Sign in' }).click();
    await page.getByRole('alert').waitFor();
    await shot(page, '12-login-refused');
    await page.getByLabel('Password').fill(ownerPassword);
    await page.getByRole('button', { name: 'Sign in' }).click();
    await page.waitForURL(projectUrl);
  });

  await t.test('the owner sees the reveal and the invitation in the audit log', async () => {
    await page.goto(projectUrl);
    await page.getByRole('link', { name: 'Acme', exact: true }).click();
    await page.getByRole('link', { name: 'Audit log' }).click();
    const table = page.getByRole('table', { name: 'Audit log' });
    await table.locator('tbody tr').first().waitFor();
    const text = (await table.textContent()) ?? '';
    assert.match(text, /reveal/i);
    assert.match(text, /invit/i);
    assert.ok(!text.includes(secretValue));
    await shot(page, '10-audit');
  });

  await t.test('a project that does not exist (or is another team’s) shows the API’s 404 as a page, not a crash', async () => {
    await page.goto(`${base}/projects/00000000-0000-4000-8000-000000000000`);
    await page.getByRole('heading', { name: 'Not found' }).waitFor();
    assert.match((await page.getByRole('alert').textContent()) ?? '', /\S/);
  });
});
