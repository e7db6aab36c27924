/**
 * Drover's entry point (`npm run serve`): parses the configuration once (exit 1 listing every bad variable),
 * starts the platform (embedded Postgres when DATABASE_URL is unset, migrations, coordination), serves the HTTP
 * app, prints its URL and shuts down gracefully on SIGTERM/SIGINT.
 */
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { createApp } from './http/app.ts';
import { ConfigError, loadConfig } from './platform/config.ts';
import type { Config } from './platform/config.ts';
import { startPlatform } from './platform/index.ts';
import type { Platform } from './platform/index.ts';
import { installShutdown } from './platform/lifecycle.ts';

let config: Config;
try {
  config = loadConfig(process.env);
} catch (e) {
  if (e instanceof ConfigError) {
    console.error(`drover: ${e.message}`);
    process.exit(1);
  }
  throw e;
}

// A signal during start-up is honoured once the platform is up (so the embedded Postgres is stopped too).
let earlySignal: string | undefined;
const onEarlySignal = (signal: string) => { earlySignal = signal; };
process.once('SIGTERM', onEarlySignal);
process.once('SIGINT', onEarlySignal);
let platform: Platform;
try {
  platform = await startPlatform(config);
} catch (e) {
  console.error(`drover: could not start: ${(e as Error).message}`);
  process.exit(1);
}
process.off('SIGTERM', onEarlySignal);
process.off('SIGINT', onEarlySignal);
if (earlySignal !== undefined) {
  platform.logger.info({ reason: earlySignal }, 'signal during start-up: stopping');
  await platform.close();
  process.exit(0);
}

const app = createApp(platform, { draining: platform.draining });
const server = createServer({ keepAliveTimeout: 5_000 }, app.koa.callback());
// The deployment worker and reconciler run beside the API; on shutdown they stop before the platform closes.
app.services.deployments.start();
// Scheduled and on-demand backups (Nomad batch jobs, judged by the dump task and the object read back).
app.services.backupRunner.start();
// Metrics sampling and webhook delivery; a Redis outage at start is logged and retried.
const startRuntime = (): void => {
  app.services.runtime.start().catch((err: unknown) => {
    platform.logger.warn({ err }, 'runtime background work could not start; retrying in 5 s');
    setTimeout(startRuntime, 5_000).unref();
  });
};
startRuntime();
const shutdownTarget = {
  startDraining: () => platform.startDraining(),
  close: async () => {
    await app.services.deployments.stop();
    await app.services.backupRunner.stop();
    await app.services.runtime.close();
    await app.services.deployments.closeNomad();
    await platform.close();
  },
};
installShutdown({ server, platform: shutdownTarget, logger: platform.logger });
server.on('error', async (e) => {
  platform.logger.fatal({ err: e }, 'http server failed');
  await shutdownTarget.close();
  process.exit(1);
});
server.listen(config.port, config.host, () => {
  const addr = server.address() as AddressInfo;
  const host = addr.family === 'IPv6' ? `[${addr.address}]` : addr.address;
  platform.logger.info({ address: `${host}:${addr.port}`, publicUrl: config.publicUrl }, 'listening');
  console.log(`Drover is listening on http://${host}:${addr.port} (public URL ${config.publicUrl})`);
});
