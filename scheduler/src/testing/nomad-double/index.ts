/**
 * The Nomad test double: a real HTTP server with Nomad's API and state machine for the server's integration tests
 * and for local development (`npm run nomad-double -w scheduler`). Start it with startNomadDouble; steer it with the
 * returned control (scenarios per job, faults, index reset) or over HTTP (`POST /__double/scenario`,
 * `POST /__double/faults`, `GET /__double/volume-deletes`, `GET /__double/requests`).
 */
import { NomadDoubleServer, type Faults, type RecordedCall } from './server.ts';
import { NomadState, type BatchGate, type Obj, type VolumeDelete } from './state.ts';
import { isScenario, SCENARIOS, type Scenario } from './scenarios.ts';

export { SCENARIOS, isScenario, scenarioFromJob } from './scenarios.ts';
export type { Scenario } from './scenarios.ts';
export type { Faults, RecordedCall } from './server.ts';
export type { BatchGate, VolumeDelete } from './state.ts';
export { compileFilter } from './filter.ts';
export { diffJobs } from './diff.ts';

/** NomadDoubleOptions configure a double. */
export interface NomadDoubleOptions {
  /** port to listen on (0 = any free port, the default). */
  port?: number;
  /** host to bind (default 127.0.0.1). */
  host?: string;
  /** token, when set, must be sent as X-Nomad-Token on every /v1 request except /v1/status/*; others get 403 "Permission denied". */
  token?: string;
  /** stepMs is the real time of one simulated transition (default 50: a healthy deploy takes ~300 ms). */
  stepMs?: number;
  /** nodes is the number of client nodes (default 3). */
  nodes?: number;
  /** nodeMemoryMB is each node's memory (default 8192); larger requests fail placement on memory. */
  nodeMemoryMB?: number;
  /** memoryOversubscription mirrors the cluster's scheduler setting (default false: `MemoryMaxMB` gets Nomad's warning). */
  memoryOversubscription?: boolean;
  /** logHeartbeatMs / eventHeartbeatMs are the `{}` heartbeat intervals of followed logs and the event stream. */
  logHeartbeatMs?: number;
  /** eventHeartbeatMs is the event stream heartbeat interval (default 10 000 ms, as Nomad). */
  eventHeartbeatMs?: number;
  /** periodicTickMs, when set, runs a fast clock: every tick advances simulated time by one minute and launches due periodic jobs. */
  periodicTickMs?: number;
  /** seed makes fault injection reproducible. */
  seed?: number;
  /** namespaces to create at start besides `default`. */
  namespaces?: string[];
}

/** NomadDoubleControl steers a running double from a test. */
export interface NomadDoubleControl {
  /** state is the simulated cluster (read it to assert; mutate with care). */
  state: NomadState;
  /** setScenario forces the behaviour of a job's allocations (by job ID, optionally in one namespace). */
  setScenario(jobId: string, scenario: Scenario, namespace?: string): void;
  /**
   * gateBatch holds the batch allocations of jobs whose ID starts with `prefix` (optionally in one namespace) while
   * `gate` runs: it does what the containers would (writeFile, an upload) and may return the Scenario their tasks end
   * with. The first matching gate applies; the returned function removes it.
   */
  gateBatch(prefix: string, gate: BatchGate, namespace?: string): () => void;
  /** setFaults replaces the injected faults (empty object = none). */
  setFaults(faults: Faults): void;
  /** resetIndex moves the index below every index a read reported, as a restore of an older snapshot would; it grows again with the next write. */
  resetIndex(): void;
  /** volumeDeletes lists every host volume delete request received (tests assert none happened). */
  volumeDeletes(): VolumeDelete[];
  /** requests lists the /v1 requests received. */
  requests(): RecordedCall[];
  /** appendLog appends output to a task's stdout or stderr (rotating to a new file at the size limit, as Nomad does). */
  appendLog(allocId: string, task: string, type: 'stdout' | 'stderr', text: string): void;
  /** rotateLog starts a new log file (`<task>.<type>.<n+1>`) for a task's stream now, deleting files beyond MaxFiles. */
  rotateLog(allocId: string, task: string, type: 'stdout' | 'stderr'): void;
  /**
   * onLogsRequest calls `fn` synchronously as each logs request arrives, before it picks its file (a test can rotate or
   * delete files there, as a rotation racing the request would); returns the function that removes it.
   */
  onLogsRequest(fn: (r: { allocId: string; task: string; type: string; follow: boolean }) => void): () => void;
  /** dropLogStreams ends every followed log stream now (as a client agent restart would); readers reconnect. */
  dropLogStreams(): void;
  /** setLogLimits overrides every task's LogConfig (file size in bytes, files kept); {} restores the tasks' own. */
  setLogLimits(limits: { maxFileBytes?: number; maxFiles?: number }): void;
  /** writeFile puts a file in an allocation's directory (path relative to it, e.g. `alloc/data/dump.pgc`), served by the fs endpoints. */
  writeFile(allocId: string, path: string, data: Buffer | string): void;
  /** createNamespace creates a namespace directly. */
  createNamespace(name: string): void;
  /**
   * setVolumePluginCapacity makes the host volume plugin `pluginId` report `bytes` as the size of the volumes it creates
   * (undefined: the minimum requested, the default). The built-in `mkdir` always reports 0, as Nomad's does.
   */
  setVolumePluginCapacity(pluginId: string, bytes: number | undefined): void;
  /** tickPeriodic advances the fast clock by one minute and launches due periodic jobs. */
  tickPeriodic(): void;
  /** job returns the current version of a job. */
  job(jobId: string, namespace?: string): Obj | undefined;
}

/** NomadDouble is a running double. */
export interface NomadDouble {
  /** url is the base address (`http://127.0.0.1:<port>`), usable as NOMAD_ADDR. */
  url: string;
  /** close stops timers, streams and the server. */
  close(): Promise<void>;
  /** control steers the double. */
  control: NomadDoubleControl;
}

/** startNomadDouble starts a Nomad double on a socket and resolves once it listens. */
export async function startNomadDouble(opts: NomadDoubleOptions = {}): Promise<NomadDouble> {
  const state = new NomadState({ stepMs: opts.stepMs, nodes: opts.nodes, nodeMemoryMB: opts.nodeMemoryMB });
  state.memoryOversubscription = opts.memoryOversubscription === true;
  for (const ns of opts.namespaces ?? []) state.namespaces.set(ns, { Name: ns, Description: '', Quota: '', Meta: null, Capabilities: null, NodePoolConfiguration: null, VaultConfiguration: null, ConsulConfiguration: null, CreateIndex: 1, ModifyIndex: 1 });
  const server = new NomadDoubleServer(state, { token: opts.token, logHeartbeatMs: opts.logHeartbeatMs, eventHeartbeatMs: opts.eventHeartbeatMs, seed: opts.seed });
  const url = await server.listen(opts.port ?? 0, opts.host ?? '127.0.0.1');
  let simNow = Date.now();
  const lastLaunch = new Map<string, number>();
  const tick = (): void => {
    simNow += 60_000;
    state.launchDuePeriodic(new Date(simNow), lastLaunch);
  };
  const clock = opts.periodicTickMs ? setInterval(tick, opts.periodicTickMs) : undefined;
  const control: NomadDoubleControl = {
    state,
    setScenario(jobId, scenario, namespace) {
      if (!isScenario(scenario)) throw new Error(`unknown scenario ${String(scenario)}; one of ${SCENARIOS.join(', ')}`);
      state.scenarios.set(namespace ? `${namespace}\u0000${jobId}` : jobId, scenario);
    },
    gateBatch(prefix, gate, namespace) {
      const entry = { prefix, gate, ...(namespace !== undefined ? { namespace } : {}) };
      state.batchGates.push(entry);
      return () => {
        const i = state.batchGates.indexOf(entry);
        if (i >= 0) state.batchGates.splice(i, 1);
      };
    },
    setFaults(faults) {
      server.faults = { ...faults };
    },
    resetIndex() {
      state.resetIndex();
    },
    volumeDeletes: () => [...state.volumeDeletes],
    requests: () => [...server.calls],
    appendLog(allocId, task, type, text) {
      const a = state.allocs.get(allocId);
      if (!a) throw new Error(`unknown allocation ${allocId}`);
      state.appendLog(a, task, type, text);
    },
    rotateLog(allocId, task, type) {
      const a = state.allocs.get(allocId);
      if (!a) throw new Error(`unknown allocation ${allocId}`);
      state.rotateLog(a, task, type);
    },
    onLogsRequest(fn) {
      state.emitter.on('logs-request', fn);
      return () => { state.emitter.off('logs-request', fn); };
    },
    dropLogStreams() {
      state.emitter.emit('log-drop');
    },
    setLogLimits(limits) {
      state.logLimit = { ...limits };
    },
    writeFile(allocId, path, data) {
      const a = state.allocs.get(allocId);
      if (!a) throw new Error(`unknown allocation ${allocId}`);
      a.files.set(path.split('/').filter(Boolean).join('/'), { data: Buffer.isBuffer(data) ? data : Buffer.from(data), mtime: new Date() });
    },
    createNamespace(name) {
      state.namespaces.set(name, { Name: name, Description: '', Quota: '', Meta: null, Capabilities: null, NodePoolConfiguration: null, VaultConfiguration: null, ConsulConfiguration: null, CreateIndex: state.index, ModifyIndex: state.bump('namespaces') });
    },
    setVolumePluginCapacity(pluginId, bytes) {
      if (bytes === undefined) state.volumePluginCapacity.delete(pluginId);
      else state.volumePluginCapacity.set(pluginId, bytes);
    },
    tickPeriodic: tick,
    job: (jobId, namespace = 'default') => state.currentJob(namespace, jobId),
  };
  return {
    url,
    control,
    async close() {
      if (clock) clearInterval(clock);
      state.close();
      await server.close();
    },
  };
}
