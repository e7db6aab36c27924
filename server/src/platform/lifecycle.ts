/**
 * Graceful shutdown: on SIGTERM or SIGINT, readiness fails, the server stops accepting connections, in-flight
 * requests drain until a deadline (then the remaining connections are cut), and the platform closes its pools and
 * stops the embedded Postgres. A second signal forces an immediate exit.
 */
import type { Server } from 'node:http';
import type { Logger } from 'pino';

/** ShutdownTarget is what a shutdown closes after the HTTP server: the platform. */
export interface ShutdownTarget {
  /** startDraining makes readiness fail. */
  startDraining(): void;
  /** close releases pools and stops the embedded Postgres. */
  close(): Promise<void>;
}

/** ShutdownOptions configure installShutdown. */
export interface ShutdownOptions {
  /** server is the listening HTTP server. */
  server: Server;
  /** platform is closed after the server drained. */
  platform: ShutdownTarget;
  /** logger records the steps. */
  logger: Logger;
  /** drainTimeoutMs bounds the wait for in-flight requests (default 10 s). */
  drainTimeoutMs?: number;
  /** exit ends the process (default process.exit); injectable for tests. */
  exit?: (code: number) => void;
  /** signals to handle (default SIGTERM and SIGINT). */
  signals?: NodeJS.Signals[];
  /** signalSource emits the signals (default `process`); tests pass their own emitter. */
  signalSource?: { on(event: NodeJS.Signals, listener: () => void): unknown };
}

/**
 * drainServer stops accepting connections and resolves once every connection has closed, closing idle keep-alive
 * connections as they become idle and cutting the rest after `deadlineMs`. Resolves true when it drained in time.
 */
export function drainServer(server: Server, deadlineMs: number): Promise<boolean> {
  return new Promise((resolve) => {
    if (!server.listening) {
      resolve(true);
      return;
    }
    let timedOut = false;
    const poll = setInterval(() => server.closeIdleConnections(), 50);
    const deadline = setTimeout(() => {
      timedOut = true;
      server.closeAllConnections();
    }, deadlineMs);
    server.close(() => {
      clearInterval(poll);
      clearTimeout(deadline);
      resolve(!timedOut);
    });
    server.closeIdleConnections();
  });
}

/**
 * installShutdown handles the signals: first signal → graceful shutdown (exit 0, or 1 when a step failed);
 * a second signal while shutting down → immediate exit 1. Returns the shutdown function for direct use.
 */
export function installShutdown(options: ShutdownOptions): (reason: string) => Promise<void> {
  const exit = options.exit ?? ((code: number) => process.exit(code));
  const { server, platform, logger } = options;
  let shuttingDown: Promise<void> | undefined;
  const shutdown = (reason: string) => (shuttingDown ??= (async () => {
    logger.info({ reason }, 'shutting down: draining requests');
    platform.startDraining();
    let code = 0;
    const drained = await drainServer(server, options.drainTimeoutMs ?? 10_000);
    if (!drained) logger.warn('drain deadline reached: remaining connections were closed');
    try {
      await platform.close();
    } catch (e) {
      code = 1;
      logger.error({ err: e }, 'platform close failed');
    }
    logger.info({ code }, 'stopped');
    await new Promise<void>((res) => logger.flush(() => res()));
    exit(code);
  })());
  const source = options.signalSource ?? process;
  for (const sig of options.signals ?? ['SIGTERM', 'SIGINT']) {
    source.on(sig, () => {
      if (shuttingDown) {
        logger.warn({ signal: sig }, 'second signal: exiting now');
        logger.flush();
        exit(1);
        return;
      }
      void shutdown(sig);
    });
  }
  return shutdown;
}
