/**
 * Deploying a whole environment from the dashboard, in Debian's Chromium against the real server with NOMAD_ADDR on
 * the Nomad test double: a project with a service and a PostgreSQL database → the environment's Deploy action → a
 * confirmation listing the service and the database (and that an unchanged database is not restarted) → the batch's
 * deployment turns healthy live, the database deployed with it → deploy again: healthy, the database reported
 * unchanged (its Nomad job registered once only) → the deployment page, with Roll back for a service's deployment →
 * the database page's own Deploy (explicit, registers again) → its deployment page has no Roll back (the API answers
 * 409) → an environment holding only a database: its deployment turns healthy, then "unchanged" on the second deploy,
 * on the batch and on the database page's list. Screenshots go to artifacts/screenshots/, each checked with axe.
 */
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import type { Page } from 'playwright-core';
import { startNomadDouble, type NomadDouble } from '../../scheduler/src/testing/nomad-double/index.ts';
import { a11yViolations, ensureBuild, launchBrowser, pageApi, pageRequest, screenshot, setupAndSignIn, startServer, type Browser, type RunningServer } from './harness.ts';

async function shot(page: Page, name: string): Promise<void> {
  await screenshot(page, name);
  assert.deepEqual(await a11yViolations(page), [], `accessibility violations on ${name}`);
}

let nomad: NomadDouble;
let server: RunningServer;
let browser: Browser;

before(async () => {
  ensureBuild();
  nomad = await startNomadDouble({ stepMs: 50, nodes: 3 });
  server = await startServer({ env: { NOMAD_ADDR: nomad.url } });
  browser = await launchBrowser();
});

after(async () => {
  await browser?.close();
  await server?.stop();
  await nomad?.close();
});

const email = 'env-deploy@example.com';
const password = 'environment horse battery staple';

/** databaseRegistrations counts the database job registrations of database `databaseId` the double accepted. */
function databaseRegistrations(databaseId: string): number {
  return nomad.control.requests()
    .filter((c) => (c.method === 'PUT' || c.method === 'POST') && c.status === 200 && /^\/v1\/jobs?(\/[^/]+)?$/.test(c.path))
    .map((c) => (c.body as { Job?: { Meta?: Record<string, string>; Type?: string } } | undefined)?.Job)
    .filter((j) => j?.Meta?.['drover.database'] === databaseId && j.Type === 'service').length;
}

test('deploy an environment: a batch turns healthy, a second deploy leaves the database unchanged', async (t) => {
  const page = browser.page;
  page.setDefaultTimeout(20_000);
  const base = server.url;
  const teamId = await setupAndSignIn(page, base, { email, password, name: 'Env Owner' });

  // The project, its service and database, and a second environment holding only a database, through the API with
  // the page's own session.
  const project = await pageApi(page, 'POST', `/api/teams/${teamId}/projects`, { slug: 'shop' });
  const env = (await pageApi(page, 'GET', `/api/projects/${project.id}/environments`)).items[0];
  const service = await pageApi(page, 'POST', `/api/environments/${env.id}/services`, { slug: 'api', image: 'ghcr.io/acme/api:1.0', port: 8080 });
  const db = await pageApi(page, 'POST', `/api/environments/${env.id}/databases`, { name: 'maindb', engine: 'postgres' });
  const data = await pageApi(page, 'POST', `/api/projects/${project.id}/environments`, { slug: 'data' });
  const cache = await pageApi(page, 'POST', `/api/environments/${data.id}/databases`, { name: 'cache', engine: 'redis' });
  const ids = { projectId: project.id as string, envId: env.id as string, serviceId: service.id as string, dbId: db.id as string, dataEnvId: data.id as string, cacheId: cache.id as string };
  const envUrl = `${base}/projects/${ids.projectId}/environments/${ids.envId}`;
  let serviceDeploymentUrl = '';

  await t.test('the environment page offers Deploy; the confirmation lists the service and the database', async () => {
    await page.goto(envUrl);
    await page.getByTestId('env-deploy').click();
    await page.waitForURL(`${envUrl}/deployments`);
    const plan = page.getByTestId('deploy-plan');
    await plan.getByTestId('plan-services').getByText('api', { exact: true }).waitFor();
    await plan.getByTestId('plan-databases').getByText('maindb', { exact: true }).waitFor();
    assert.match((await plan.getByTestId('plan-unchanged-note').textContent()) ?? '', /not restarted/);
    await page.getByTestId('live').filter({ hasText: 'live' }).waitFor();
    await shot(page, '28-environment-deploy-confirm');
  });

  await t.test('deploy: the batch turns healthy live and the database is deployed with it', async () => {
    await page.getByLabel('Note').fill('first environment deploy');
    await page.getByRole('button', { name: 'Deploy 1 service' }).click();
    await page.waitForURL(/\/deployments\?d=[0-9a-f-]{36}$/);
    const rows = page.getByTestId('batch-deployment');
    assert.equal(await rows.count(), 1, 'one deployment per service');
    await rows.first().getByTestId('batch-state').filter({ hasText: 'healthy' }).waitFor({ timeout: 30_000 });
    const db = page.getByTestId('batch-database').filter({ hasText: 'maindb' });
    await db.and(page.locator('[data-status="deployed"]')).waitFor();
    assert.equal(databaseRegistrations(ids.dbId), 1, 'the database job was registered');
    serviceDeploymentUrl = `${base}${(await rows.first().getByRole('link').getAttribute('href')) ?? ''}`;
    assert.match(serviceDeploymentUrl, /\/deployments\/[0-9a-f-]{36}$/);
  });

  await t.test('deploy again: healthy, the database reported unchanged and not registered again', async () => {
    await page.getByTestId('deploy-again').click();
    await page.waitForURL(`${envUrl}/deployments`);
    await page.getByRole('button', { name: 'Deploy 1 service' }).click();
    await page.waitForURL((u) => u.search.startsWith('?d=') && `${base}/deployments/${u.searchParams.get('d')}` !== serviceDeploymentUrl);
    const row = page.getByTestId('batch-deployment').first();
    await row.getByTestId('batch-state').filter({ hasText: 'healthy' }).waitFor({ timeout: 30_000 });
    const db = page.getByTestId('batch-database').filter({ hasText: 'maindb' });
    await db.and(page.locator('[data-status="unchanged"]')).waitFor();
    assert.match((await db.textContent()) ?? '', /not restarted: database maindb unchanged: still running deployment/);
    assert.equal(databaseRegistrations(ids.dbId), 1, 'an unchanged database is not registered again');
    await shot(page, '29-environment-deploy-batch');
  });

  await t.test("a service deployment's page: healthy, its timeline, Roll back offered", async () => {
    await page.goto(serviceDeploymentUrl);
    await page.getByTestId('deployment-state').filter({ hasText: 'healthy' }).waitFor();
    await page.getByTestId('timeline').getByText(/database .*registered on volume/).waitFor();
    await page.getByTestId('rollback').waitFor();
    assert.equal(await page.getByTestId('no-rollback').count(), 0);
  });

  await t.test("the database page: its own Deploy registers again; its deployment page offers no Roll back", async () => {
    await page.goto(`${base}/databases/${ids.dbId}`);
    await page.getByTestId('db-deploy').click();
    await page.getByRole('status').filter({ hasText: /Deployment queued.*even when unchanged/ }).waitFor();
    const own = page.getByTestId('db-deployment').first();
    await own.and(page.locator('[data-outcome="healthy"]')).waitFor({ timeout: 30_000 });
    assert.equal(databaseRegistrations(ids.dbId), 2, 'an explicit database deploy registers it');
    await own.getByRole('link').click();
    await page.waitForURL(/\/deployments\/[0-9a-f-]{36}$/);
    await page.getByRole('heading', { name: 'Deployment of database maindb' }).waitFor();
    await page.getByTestId('deployment-state').filter({ hasText: 'healthy' }).waitFor();
    await page.getByTestId('no-rollback').waitFor();
    assert.equal(await page.getByTestId('rollback').count(), 0, 'no Roll back for a database deployment');
    assert.equal(await page.getByRole('button', { name: /Roll back/ }).count(), 0);
    // The API refuses it too.
    const refused = await pageRequest(page, 'POST', `/api/deployments/${new URL(page.url()).pathname.split('/')[2] ?? ''}/rollback`, {});
    assert.equal(refused.status, 409);
    await shot(page, '30-database-deployment');
  });

  await t.test('an environment of databases only: one deployment per database, unchanged the second time', async () => {
    const dataUrl = `${base}/projects/${ids.projectId}/environments/${ids.dataEnvId}/deployments`;
    await page.goto(dataUrl);
    await page.getByTestId('plan-databases').getByText('cache', { exact: true }).waitFor();
    assert.equal(await page.getByTestId('plan-services').count(), 0);
    await page.getByRole('button', { name: 'Deploy 1 database' }).click();
    const row = page.getByTestId('batch-deployment').first();
    await row.and(page.locator('[data-state="healthy"]')).waitFor({ timeout: 30_000 });
    assert.equal(await row.getByTestId('batch-state').textContent(), 'healthy');
    assert.match((await row.getByRole('link').textContent()) ?? '', /cache \(database\)/);

    await page.getByTestId('deploy-again').click();
    await page.waitForURL(dataUrl);
    await page.getByRole('button', { name: 'Deploy 1 database' }).click();
    await page.waitForURL(/\?d=/);
    const again = page.getByTestId('batch-deployment').first();
    await again.and(page.locator('[data-unchanged="true"]')).waitFor({ timeout: 30_000 });
    assert.equal(await again.getByTestId('batch-state').textContent(), 'unchanged');
    assert.match((await again.textContent()) ?? '', /unchanged: database cache still runs deployment/);
    assert.equal(databaseRegistrations(ids.cacheId), 1, 'the second deploy registered nothing');

    // The database page's list says the same, newest first, each linked to its deployment page.
    await page.goto(`${base}/databases/${ids.cacheId}`);
    const list = page.getByTestId('db-deployment');
    await list.nth(1).waitFor();
    assert.equal(await list.first().getAttribute('data-outcome'), 'unchanged');
    assert.equal(await list.nth(1).getAttribute('data-outcome'), 'healthy');
    await list.first().getByRole('link').click();
    await page.getByTestId('unchanged-note').waitFor();
    assert.equal(await page.getByTestId('deployment-state').textContent(), 'unchanged');
  });
});
