/**
 * End-to-end harness: builds the dashboard when web/build is missing, starts the REAL Drover server
 * (`node server/src/main.ts`, argv only) on a fresh database of the shared test Postgres and a temporary data
 * directory, and drives Debian's Chromium (/usr/bin/chromium) headless through playwright-core — never a downloaded
 * browser. Screenshots go to artifacts/screenshots/.
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { chromium, type BrowserContext, type Page } from 'playwright-core';
import { createTestDatabase, type TestDatabase } from '../../server/src/testing/db.ts';

/** root is the repository root. */
export const root = join(dirname(fileURLToPath(import.meta.url)), '..', '..');
/** screenshotsDir is where the e2e tests write screenshots of the main screens (gitignored). */
export const screenshotsDir = join(root, 'artifacts', 'screenshots');
/** chromiumPath is Debian's Chromium (scripts/system-packages.txt installs it). */
export const chromiumPath = process.env.DROVER_CHROMIUM ?? '/usr/bin/chromium';

/** CHROMIUM_ARGS are the flags every headless launch uses (no sandbox: CI runs as root). */
export const CHROMIUM_ARGS = [
  '--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update', '--disable-sync',
  '--no-first-run', '--disable-dev-shm-usage',
];

/**
 * ensureBuild builds web/build (vite) unless it exists already. `npm run check` builds it before the tests; when test
 * files run on their own, several may start at once, so the build is serialised by a lock directory (mkdir is
 * atomic): the first builds, the others wait for it.
 */
export function ensureBuild(): void {
  const index = join(root, 'web', 'build', 'index.html');
  const lock = join(root, 'web', '.build-lock');
  const deadline = Date.now() + 10 * 60_000;
  while (!existsSync(index)) {
    try {
      mkdirSync(lock);
    } catch {
      if (Date.now() > deadline) throw new Error(`building the dashboard: ${lock} held for 10 minutes`);
      Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, 250);
      continue;
    }
    try {
      if (existsSync(index)) return;
      const r = spawnSync('npm', ['run', '--silent', 'build', '-w', 'web'], { cwd: root, stdio: 'inherit' });
      if (r.status !== 0) throw new Error(`building the dashboard failed (status ${r.status})`);
    } finally {
      rmSync(lock, { recursive: true, force: true });
    }
  }
}

/** freePort asks the kernel for a free loopback port. */
export async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = createServer();
    s.once('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const port = (s.address() as { port: number }).port;
      s.close(() => resolve(port));
    });
  });
}

/** RunningServer is a started Drover server. */
export interface RunningServer {
  /** url is its base URL, e.g. http://127.0.0.1:41234. */
  url: string;
  /** output is everything it printed so far (for failure messages). */
  output: () => string;
  /** dataDir is the server's DROVER_DATA_DIR; mails land in `<dataDir>/outbox` (server/src/auth/mailer.ts). */
  dataDir: string;
  /** stop sends SIGTERM, waits for exit, drops the database and the data directory. */
  stop: () => Promise<void>;
}

/**
 * startServer starts `node server/src/main.ts` on a fresh, empty database (the server migrates it at boot). `env` adds
 * configuration (e.g. NOMAD_ADDR of a Nomad double); without it Nomad is the unreachable default.
 */
export async function startServer(opts: { env?: Record<string, string> } = {}): Promise<RunningServer> {
  const db: TestDatabase = await createTestDatabase({ empty: true, poolSize: 1 });
  await db.dataSource.destroy();
  const dataDir = mkdtempSync(join(tmpdir(), 'drover-e2e-'));
  const port = await freePort();
  const url = `http://127.0.0.1:${port}`;
  const env: NodeJS.ProcessEnv = {
    PATH: process.env.PATH, HOME: process.env.HOME, LANG: 'C.UTF-8',
    DATABASE_URL: db.url, DROVER_DATA_DIR: dataDir, DROVER_PORT: String(port), DROVER_HOST: '127.0.0.1',
    DROVER_PUBLIC_URL: url, DROVER_LOG_LEVEL: 'warn', ...opts.env,
  };
  const child: ChildProcess = spawn(process.execPath, [join(root, 'server', 'src', 'main.ts')], { cwd: root, env, stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  child.stdout?.on('data', (b: Buffer) => (out += b.toString()));
  child.stderr?.on('data', (b: Buffer) => (out += b.toString()));
  const exited = new Promise<number | null>((r) => child.once('exit', (code) => r(code)));
  const stop = async () => {
    if (child.exitCode === null && child.signalCode === null) child.kill('SIGTERM');
    const timer = setTimeout(() => child.kill('SIGKILL'), 10_000);
    await exited;
    clearTimeout(timer);
    await db.cleanup();
    rmSync(dataDir, { recursive: true, force: true });
  };
  const deadline = Date.now() + 60_000;
  for (;;) {
    if (child.exitCode !== null) {
      await stop();
      throw new Error(`the server exited with ${child.exitCode} before answering:\n${out}`);
    }
    try {
      const r = await fetch(`${url}/readyz`);
      if (r.ok) break;
    } catch {
      // not listening yet
    }
    if (Date.now() > deadline) {
      await stop();
      throw new Error(`the server did not become ready within 60 s:\n${out}`);
    }
    await new Promise((r) => setTimeout(r, 200));
  }
  return { url, output: () => out, dataDir, stop };
}

/** Browser is one isolated Chromium with a fresh user-data directory. */
export interface Browser {
  /** context is the persistent context (cookies live here). */
  context: BrowserContext;
  /** page is its first tab. */
  page: Page;
  /** close closes Chromium and removes the user-data directory. */
  close: () => Promise<void>;
}

/** launchBrowser starts headless Debian Chromium with a fresh user-data dir, sized like a laptop screen. */
export async function launchBrowser(opts: { colorScheme?: 'light' | 'dark' } = {}): Promise<Browser> {
  const userDataDir = mkdtempSync(join(tmpdir(), 'drover-chromium-'));
  const context = await chromium.launchPersistentContext(userDataDir, {
    executablePath: chromiumPath,
    headless: true,
    args: CHROMIUM_ARGS,
    viewport: { width: 1280, height: 860 },
    colorScheme: opts.colorScheme ?? 'light',
  });
  const page = context.pages()[0] ?? (await context.newPage());
  return {
    context,
    page,
    close: async () => {
      await context.close();
      rmSync(userDataDir, { recursive: true, force: true });
    },
  };
}

/** screenshot writes a full-page PNG of the page as artifacts/screenshots/<name>.png. */
export async function screenshot(page: Page, name: string): Promise<void> {
  mkdirSync(screenshotsDir, { recursive: true });
  await page.screenshot({ path: join(screenshotsDir, `${name}.png`), fullPage: true });
}

/** A11yViolation is one axe-core rule a page breaks, with the selectors of the offending nodes. */
export interface A11yViolation {
  /** id is the axe rule, e.g. `label` or `color-contrast`. */
  id: string;
  /** impact is axe's severity. */
  impact: string | null;
  /** targets are CSS selectors of the offending nodes. */
  targets: string[];
}

/** a11yViolations runs axe-core (WCAG 2 A and AA rules) in the page and returns the serious and critical violations. */
export async function a11yViolations(page: Page): Promise<A11yViolation[]> {
  await page.addScriptTag({ path: join(root, 'node_modules', 'axe-core', 'axe.min.js') });
  const out = await page.evaluate(async () => {
    const axe = (window as unknown as { axe: { run: (ctx: Document, opts: object) => Promise<{ violations: { id: string; impact: string | null; nodes: { target: unknown[] }[] }[] }> } }).axe;
    const r = await axe.run(document, { runOnly: { type: 'tag', values: ['wcag2a', 'wcag2aa'] }, resultTypes: ['violations'] });
    return r.violations.map((v) => ({ id: v.id, impact: v.impact, targets: v.nodes.map((n) => String(n.target[0])) }));
  });
  return out.filter((v) => v.impact === 'serious' || v.impact === 'critical');
}

/**
 * outboxLink reads the newest mail of `kind` (`password_reset`, `invitation`) to `to` from the server's outbox folder
 * (`<data dir>/outbox/<time>-<kind>-<uuid>.eml`, written by the FileMailer) and returns the link it carries, waiting
 * up to `timeoutMs` for it to appear.
 */
export async function outboxLink(server: RunningServer, kind: string, to: string, timeoutMs = 10_000): Promise<string> {
  const dir = join(server.dataDir, 'outbox');
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const files = existsSync(dir) ? readdirSync(dir).filter((f) => f.includes(`-${kind}-`) && f.endsWith('.eml')).sort().reverse() : [];
    for (const f of files) {
      const text = readFileSync(join(dir, f), 'utf8');
      if (!text.split('\n').includes(`To: ${to}`)) continue;
      const link = /https?:\/\/\S+#token=[A-Za-z0-9_-]+/.exec(text)?.[0];
      if (link) return link;
    }
    if (Date.now() > deadline) throw new Error(`no ${kind} mail to ${to} in ${dir}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

/** PageAnswer is what an API call made from inside a page answered. */
export interface PageAnswer {
  /** status is the HTTP status. */
  status: number;
  /** type is the content type. */
  type: string;
  /** text is the body. */
  text: string;
}

/**
 * pageRequest calls the API from inside `page`, as the dashboard does: with the page's session cookie and its CSRF
 * token (the `drover_csrf` cookie sent back in `x-csrf-token`). Whatever the status, it returns the answer.
 */
export async function pageRequest(page: Page, method: string, path: string, body?: unknown): Promise<PageAnswer> {
  return page.evaluate(async ([m, p, b]) => {
    const csrf = document.cookie.split('; ').find((c) => c.startsWith('drover_csrf='))?.split('=')[1] ?? '';
    const r = await fetch(p, {
      method: m, headers: { 'content-type': 'application/json', 'x-csrf-token': decodeURIComponent(csrf) },
      ...(b === undefined ? {} : { body: JSON.stringify(b) }),
    });
    return { status: r.status, type: r.headers.get('content-type') ?? '', text: await r.text() };
  }, [method, path, body] as const);
}

/** pageApi is pageRequest for a call that must succeed: a non-2xx answer throws with its body; returns the parsed JSON. */
// eslint-disable-next-line @typescript-eslint/no-explicit-any -- JSON answers of the API
export async function pageApi<T = any>(page: Page, method: string, path: string, body?: unknown): Promise<T> {
  const r = await pageRequest(page, method, path, body);
  if (r.status < 200 || r.status > 299) throw new Error(`${method} ${path}: ${r.status} ${r.text}`);
  return JSON.parse(r.text) as T;
}

/**
 * setupAndSignIn creates the first user and their team (`Acme`, slug `acme`) through POST /api/setup, signs in as them
 * on `page` through the sign-in form, and returns the team's ID. Setup answers 201 only on a fresh server.
 */
export async function setupAndSignIn(page: Page, base: string, user: { email: string; password: string; name: string }): Promise<string> {
  const setup = await fetch(`${base}/api/setup`, {
    method: 'POST', headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ ...user, teamName: 'Acme', teamSlug: 'acme' }),
  });
  const text = await setup.text();
  if (setup.status !== 201) throw new Error(`setup: ${setup.status} ${text}`);
  await page.goto(`${base}/login`);
  await page.getByLabel('Email').fill(user.email);
  await page.getByLabel('Password').fill(user.password);
  await page.getByRole('button', { name: 'Sign in' }).click();
  await page.waitForURL((u) => !u.pathname.startsWith('/login'));
  return (JSON.parse(text) as { team: { id: string } }).team.id;
}
