/**
 * Password reset end to end, in Debian's Chromium against the real server: "Forgot your password?" on the sign-in
 * page → the reset link is mailed to the server's outbox folder → the link's page refuses two differing passwords,
 * sets the new one, and the old password stops working while the new one signs in; a used link is refused. The
 * mail is read from `<data dir>/outbox`, where the server's FileMailer writes it.
 */
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { a11yViolations, ensureBuild, launchBrowser, outboxLink, screenshot, startServer, type Browser, type RunningServer } from './harness.ts';

let server: RunningServer;
let browser: Browser;

before(async () => {
  ensureBuild();
  server = await startServer();
  browser = await launchBrowser();
});

after(async () => {
  await browser?.close();
  await server?.stop();
});

const email = 'reset-owner@example.com';
const oldPassword = 'old horse battery staple';
const newPassword = 'new horse battery staple';

test('forgot password → mailed link → new password signs in, the old one and the used link do not', async (t) => {
  const page = browser.page;
  page.setDefaultTimeout(15_000);
  const base = server.url;
  const setup = await fetch(`${base}/api/setup`, {
    method: 'POST', headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ email, name: 'Reset Owner', password: oldPassword, teamName: 'Acme', teamSlug: 'acme' }),
  });
  assert.equal(setup.status, 201, await setup.text());
  let link = '';

  await t.test('the sign-in page links to the reset page, which mails a link without saying whether the account exists', async () => {
    await page.goto(`${base}/login`);
    await page.getByRole('link', { name: 'Forgot your password?' }).click();
    await page.waitForURL(`${base}/reset-password`);
    await page.getByLabel('Email').fill(email);
    await page.getByRole('button', { name: 'Mail me a reset link' }).click();
    await page.getByTestId('reset-requested').waitFor();
    await screenshot(page, '20-reset-requested');
    assert.deepEqual(await a11yViolations(page), []);
    link = await outboxLink(server, 'password_reset', email);
    assert.ok(link.startsWith(`${base}/reset-password#token=`), link);
  });

  await t.test('the link asks for the new password twice and refuses two that differ', async () => {
    await page.goto(link);
    await page.getByLabel('New password', { exact: true }).fill(newPassword);
    await page.getByLabel('Repeat the new password').fill(`${newPassword}!`);
    await page.getByRole('button', { name: 'Set the new password' }).click();
    await page.getByText('The two passwords differ.').waitFor();
    await screenshot(page, '21-reset-form');
    assert.deepEqual(await a11yViolations(page), []);
  });

  await t.test('a too short password is refused with the field named', async () => {
    await page.getByLabel('New password', { exact: true }).fill('short');
    await page.getByLabel('Repeat the new password').fill('short');
    await page.getByRole('button', { name: 'Set the new password' }).click();
    await page.locator('input[name="password"][aria-invalid="true"]').waitFor();
    assert.equal(page.url(), link, 'still on the link: nothing was spent');
  });

  await t.test('matching passwords set it; the token leaves the address bar', async () => {
    await page.getByLabel('New password', { exact: true }).fill(newPassword);
    await page.getByLabel('Repeat the new password').fill(newPassword);
    await page.getByRole('button', { name: 'Set the new password' }).click();
    await page.getByTestId('reset-done').waitFor();
    assert.equal(page.url(), `${base}/reset-password`);
  });

  await t.test('the old password is refused and the new one signs in', async () => {
    const old = await fetch(`${base}/api/auth/login`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ email, password: oldPassword }) });
    assert.equal(old.status, 401);
    await page.getByRole('link', { name: 'Sign in' }).click();
    await page.waitForURL(`${base}/login`);
    await page.getByLabel('Email').fill(email);
    await page.getByLabel('Password').fill(newPassword);
    await page.getByRole('button', { name: 'Sign in' }).click();
    await page.waitForURL((u) => !u.pathname.startsWith('/login'));
  });

  await t.test('the used link is refused and offers a new one', async () => {
    await page.goto('about:blank');
    await page.goto(link);
    await page.getByLabel('New password', { exact: true }).fill(`${newPassword} again`);
    await page.getByLabel('Repeat the new password').fill(`${newPassword} again`);
    await page.getByRole('button', { name: 'Set the new password' }).click();
    await page.getByRole('alert').filter({ hasText: 'invalid, used or expired' }).waitFor();
    assert.ok(await page.getByRole('link', { name: 'Ask for a new link' }).isVisible());
  });
});
