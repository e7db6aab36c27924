/**
 * Team event log benchmark (`node bench/event-log.ts`): on an embedded Postgres in a temporary directory, migrated,
 * prints
 *   1. the publish latency of a deployment event p50/p99 through the in-process bus alone (the baseline) and through
 *      the recording bus (INSERT into `events`, then the bus), and their ratio;
 *   2. the time of one Last-Event-ID replay of 1,000 missed events out of a log of `--rows` events of 20 teams;
 *   3. the time to prune the whole log past its retention window.
 *
 * Usage: node bench/event-log.ts [--events 2000] [--rows 100000]
 */
import { randomUUID } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { systemClock } from '../server/src/core/clock.ts';
import { publishDeploymentEvent } from '../server/src/deployments/events.ts';
import { EventLog, RecordingEventBus } from '../server/src/events/log.ts';
import { createMemoryCoordination } from '../server/src/platform/coordination/index.ts';
import { startEmbeddedPostgres } from '../server/src/platform/db/embedded-postgres.ts';
import { createDataSource, discoverMigrations, runMigrations } from '../server/src/platform/db/index.ts';

const { values: args } = parseArgs({ options: { events: { type: 'string', default: '2000' }, rows: { type: 'string', default: '100000' } } });
const EVENTS = Number(args.events);
const ROWS = Number(args.rows);

function pct(xs: number[], p: number): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.ceil((p / 100) * s.length) - 1)] ?? NaN;
}
const ms = (n: number) => `${n.toFixed(3)} ms`;

const dir = mkdtempSync(join(tmpdir(), 'drover-bench-events-'));
const pgServer = await startEmbeddedPostgres({ dataDir: dir, fastInit: true, settings: { fsync: 'off' } });
const ds = createDataSource({ url: pgServer.url(), migrations: await discoverMigrations(), poolSize: 4 });
await ds.initialize();
const coordination = createMemoryCoordination();
try {
  await runMigrations(ds);
  const teams = Array.from({ length: 20 }, () => randomUUID());
  for (const [i, id] of teams.entries()) {
    await ds.query('INSERT INTO teams (id, slug, name, created_at, updated_at) VALUES ($1, $2, $3, now(), now())', [id, `t${i}`, `T${i}`]);
  }
  const team = teams[0] as string;
  const log = new EventLog(ds, systemClock);
  const recording = new RecordingEventBus(coordination.events, log);
  const event = { type: 'deployment.deploying', teamId: team, serviceId: randomUUID(), deploymentId: randomUUID(), reason: 'bench' };

  async function time(bus: typeof coordination.events): Promise<number[]> {
    const out: number[] = [];
    for (let i = 0; i < EVENTS; i++) {
      const t0 = performance.now();
      await publishDeploymentEvent(bus, event);
      out.push(performance.now() - t0);
    }
    return out;
  }
  await time(coordination.events); // warm-up of both paths
  await time(recording);
  const base = await time(coordination.events);
  const rec = await time(recording);
  console.log(`publish, bus only (baseline): p50 ${ms(pct(base, 50))}  p99 ${ms(pct(base, 99))}`);
  console.log(`publish, recorded then bus:   p50 ${ms(pct(rec, 50))}  p99 ${ms(pct(rec, 99))}  (ratio p50 ${(pct(rec, 50) / pct(base, 50)).toFixed(1)}×)`);

  // A log of ROWS events over 20 teams, then 1,000 events of one team missed by a client.
  await ds.query(
    `INSERT INTO events (team_id, type, payload, created_at)
     SELECT ($1::uuid[])[1 + (g % 20)], 'deployment.healthy', jsonb_build_object('type', 'deployment.healthy', 'n', g), now() FROM generate_series(1, $2) g`,
    [teams, ROWS],
  );
  const lastId = await log.newest();
  await ds.query(
    `INSERT INTO events (team_id, type, payload, created_at)
     SELECT $1::uuid, 'deployment.queued', jsonb_build_object('type', 'deployment.queued', 'teamId', $1::text, 'n', g), now() FROM generate_series(1, 1000) g`,
    [team],
  );
  await ds.query('ANALYZE events');
  const replays: number[] = [];
  for (let i = 0; i < 20; i++) {
    const t0 = performance.now();
    const r = await log.since(team, lastId);
    replays.push(performance.now() - t0);
    if (r.kind !== 'events' || r.events.length !== 1000) throw new Error(`replay returned ${r.kind === 'events' ? r.events.length : r.reason}`);
  }
  console.log(`replay of 1,000 missed events from a log of ${ROWS + 2 * EVENTS + 1000} rows: p50 ${ms(pct(replays, 50))}  max ${ms(Math.max(...replays))}`);

  await ds.query(`UPDATE events SET created_at = now() - interval '8 days'`);
  const t0 = performance.now();
  const pruned = await log.prune();
  console.log(`prune past the 7-day window: ${pruned} rows in ${ms(performance.now() - t0)}`);
} finally {
  await coordination.close();
  await ds.destroy();
  await pgServer.stop();
  rmSync(dir, { recursive: true, force: true });
}
