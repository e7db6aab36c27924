/**
 * LogsService: authorizes a caller on a service and opens log sessions over the shared LogHub. It never sees HTTP:
 * the route hands it a LogSink (an SSE stream).
 */
import type { NomadClient } from '@drover/scheduler/nomad/index.ts';
import type { Actor } from '../core/actor.ts';
import type { LogHub } from './hub.ts';
import { LogSession, type LogQuery, type LogSessionOptions, type LogSink } from './session.ts';
import type { ServiceTarget, ServiceTargets } from './target.ts';

/** LogsServiceDeps are the adapters the logs service uses. */
export interface LogsServiceDeps {
  /** targets resolves and authorizes services. */
  targets: ServiceTargets;
  /** nomad is the Nomad client (allocation lists, history reads). */
  nomad: NomadClient;
  /** hub shares live upstreams. */
  hub: LogHub;
  /** session tunes every session (bounds, polling). */
  session?: LogSessionOptions;
}

/** LogsService serves runtime logs of services. */
export class LogsService {
  private readonly d: LogsServiceDeps;
  private active = 0;

  constructor(d: LogsServiceDeps) {
    this.d = d;
  }

  /** activeSessions is the number of open sessions of this process. */
  get activeSessions(): number {
    return this.active;
  }

  /** hub is the shared upstream hub (for tests and shutdown). */
  get hub(): LogHub {
    return this.d.hub;
  }

  /** authorize checks the caller may read the service's logs (`service/not_found` otherwise) and returns its target. */
  authorize(actor: Actor, serviceId: string): Promise<ServiceTarget> {
    return this.d.targets.require(actor, serviceId, 'read');
  }

  /** stream serves one session into `sink` until the client leaves (or history is read without follow). */
  async stream(target: ServiceTarget, query: LogQuery, sink: LogSink): Promise<void> {
    this.active += 1;
    try {
      await new LogSession({ nomad: this.d.nomad, hub: this.d.hub }, target, query, sink, this.d.session).run();
    } finally {
      this.active -= 1;
    }
  }
}
