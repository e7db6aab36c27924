/**
 * Standalone Nomad double for local development: `npm run nomad-double -w scheduler` (or
 * `node scheduler/src/testing/nomad-double/main.ts`). Settings from the environment: NOMAD_DOUBLE_PORT (default
 * 4646), NOMAD_DOUBLE_HOST (127.0.0.1), NOMAD_TOKEN (required token when set), NOMAD_DOUBLE_STEP_MS (50),
 * NOMAD_DOUBLE_NAMESPACES (comma-separated), NOMAD_DOUBLE_PERIODIC_TICK_MS (fast cron clock, off by default).
 */
import { startNomadDouble } from './index.ts';

const env = process.env;
const double = await startNomadDouble({
  port: Number(env.NOMAD_DOUBLE_PORT ?? '4646'),
  host: env.NOMAD_DOUBLE_HOST ?? '127.0.0.1',
  token: env.NOMAD_TOKEN || undefined,
  stepMs: env.NOMAD_DOUBLE_STEP_MS ? Number(env.NOMAD_DOUBLE_STEP_MS) : undefined,
  namespaces: (env.NOMAD_DOUBLE_NAMESPACES ?? '').split(',').map((s) => s.trim()).filter(Boolean),
  periodicTickMs: env.NOMAD_DOUBLE_PERIODIC_TICK_MS ? Number(env.NOMAD_DOUBLE_PERIODIC_TICK_MS) : undefined,
});
console.log(`Nomad double listening on ${double.url} (export NOMAD_ADDR=${double.url})`);
const stop = (): void => {
  void double.close().then(() => process.exit(0));
};
process.on('SIGINT', stop);
process.on('SIGTERM', stop);
