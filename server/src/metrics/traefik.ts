/**
 * TraefikTraffic: the network figures of Drover services, read from Traefik's Prometheus metrics (Nomad's allocation
 * stats carry no network counters). It scrapes `traefik_service_requests_bytes_total` (ingress: request bytes that
 * reached the service) and `traefik_service_responses_bytes_total` (egress: response bytes it returned), which Traefik
 * labels by `service` when `metrics.prometheus.addServicesLabels` is on, and turns the counters into bytes per second
 * between two scrapes. These are HTTP bytes through Traefik, not raw socket traffic: an unrouted service, TCP/UDP
 * traffic and traffic between services inside the cluster are not counted.
 *
 * Traefik service names are the compiler's router names with the provider's suffix: `d-<service ID>@consulcatalog`
 * and the canaries' `d-<service ID>-canary@consulcatalog` (or `@nomad`), both counted for the service. Other Traefik
 * services (the dashboard, internals) are ignored.
 *
 * Counters: every series (one per code, method and protocol) is followed on its own; a value below the last one is a
 * counter reset (Traefik restarted) and counts from zero; a series that appears after the first scrape counts from zero
 * too (Traefik creates a series at its first request). The first scrape, and one after a gap longer than `maxGapMs`,
 * is only a baseline: no rates.
 */
import { parsePrometheusText, type PrometheusSample } from './prometheus.ts';

/** REQUEST_BYTES is the counter of request bytes per Traefik service (ingress of the service). */
export const REQUEST_BYTES = 'traefik_service_requests_bytes_total';

/** RESPONSE_BYTES is the counter of response bytes per Traefik service (egress of the service). */
export const RESPONSE_BYTES = 'traefik_service_responses_bytes_total';

const COUNTERS: ReadonlySet<string> = new Set([REQUEST_BYTES, RESPONSE_BYTES]);

/** TrafficRates are a service's HTTP bytes per second through Traefik between two scrapes. */
export interface TrafficRates {
  /** rxBytesPerSecond is the request bytes per second the service received. */
  rxBytesPerSecond: number;
  /** txBytesPerSecond is the response bytes per second the service sent. */
  txBytesPerSecond: number;
}

/** TrafficSource reads the current rates per Drover service ID; null when no rates can be given yet. */
export interface TrafficSource {
  /** read scrapes at `at` and returns the rates since the previous scrape per service ID (null: baseline only). */
  read(at: Date): Promise<ReadonlyMap<string, TrafficRates> | null>;
}

/** TraefikTrafficOptions configure the scraper. */
export interface TraefikTrafficOptions {
  /** url is Traefik's Prometheus endpoint (http or https), e.g. `http://10.0.0.5:8083/metrics`. */
  url: string;
  /** timeoutMs bounds one scrape (default 5 s). */
  timeoutMs?: number;
  /** maxBytes bounds the exposition read (default 32 MiB); a larger one fails the scrape. */
  maxBytes?: number;
  /** maxGapMs is the longest interval rates are computed over (default 120 s); a longer gap only re-baselines. */
  maxGapMs?: number;
}

/** TraefikScrapeError is a failed scrape (unreachable, not 200, too large, malformed); the message says which. */
export class TraefikScrapeError extends Error {
  constructor(message: string, options?: ErrorOptions) {
    super(message, options);
    this.name = 'TraefikScrapeError';
  }
}

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;

/**
 * serviceIdOfTraefikService maps a Traefik service name (`d-<id>@consulcatalog`, `d-<id>-canary@nomad`, …) to the
 * Drover service ID it carries, or undefined for any other name.
 */
export function serviceIdOfTraefikService(name: string): string | undefined {
  const m = /^d-(.+?)(-canary)?@(consulcatalog|nomad)$/.exec(name);
  const id = m?.[1];
  return id !== undefined && UUID.test(id) ? id : undefined;
}

/** TraefikTraffic scrapes Traefik's Prometheus endpoint and keeps the last counters to compute rates. */
export class TraefikTraffic implements TrafficSource {
  private readonly o: Required<TraefikTrafficOptions>;
  private last: { atMs: number; values: Map<string, number> } | null = null;

  constructor(o: TraefikTrafficOptions) {
    this.o = { timeoutMs: 5_000, maxBytes: 32 << 20, maxGapMs: 120_000, ...o };
  }

  /** read scrapes once; throws TraefikScrapeError when the scrape fails (the baseline is kept). */
  async read(at: Date): Promise<ReadonlyMap<string, TrafficRates> | null> {
    const samples = await this.scrape();
    const values = new Map<string, number>();
    const series: { key: string; serviceId: string; dir: 'rx' | 'tx'; value: number }[] = [];
    for (const s of samples) {
      const dir = s.name === REQUEST_BYTES ? 'rx' : s.name === RESPONSE_BYTES ? 'tx' : undefined;
      if (!dir) continue;
      const serviceId = serviceIdOfTraefikService(s.labels.service ?? '');
      if (!serviceId || !Number.isFinite(s.value) || s.value < 0) continue;
      const key = seriesKey(s);
      values.set(key, s.value);
      series.push({ key, serviceId, dir, value: s.value });
    }
    const prev = this.last;
    const atMs = at.getTime();
    this.last = { atMs, values };
    if (!prev || atMs <= prev.atMs || atMs - prev.atMs > this.o.maxGapMs) return null;
    const seconds = (atMs - prev.atMs) / 1000;
    const bytes = new Map<string, { rx: number; tx: number }>();
    for (const s of series) {
      const before = prev.values.get(s.key);
      const delta = before === undefined || s.value < before ? s.value : s.value - before;
      const b = bytes.get(s.serviceId) ?? { rx: 0, tx: 0 };
      b[s.dir] += delta;
      bytes.set(s.serviceId, b);
    }
    const out = new Map<string, TrafficRates>();
    for (const [id, b] of bytes) out.set(id, { rxBytesPerSecond: b.rx / seconds, txBytesPerSecond: b.tx / seconds });
    return out;
  }

  private async scrape(): Promise<PrometheusSample[]> {
    let res: Response;
    const signal = AbortSignal.timeout(this.o.timeoutMs);
    const get = () => fetch(this.o.url, { headers: { accept: 'text/plain;version=0.0.4' }, redirect: 'error', signal });
    try {
      // A kept-alive connection the server closed while idle fails at once: one more try on a fresh one.
      res = await get().catch((e: unknown) => { if (signal.aborted) throw e; return get(); });
    } catch (e) {
      throw new TraefikScrapeError(`Traefik metrics unreachable: ${(e as Error).message}`, { cause: e });
    }
    if (res.status !== 200) {
      await res.body?.cancel();
      throw new TraefikScrapeError(`Traefik metrics answered ${res.status}`);
    }
    const type = res.headers.get('content-type') ?? '';
    if (!/^text\/plain\b/i.test(type)) {
      await res.body?.cancel();
      throw new TraefikScrapeError(`Traefik metrics answered ${JSON.stringify(type)}, not the text format`);
    }
    const chunks: Uint8Array[] = [];
    let size = 0;
    try {
      for await (const chunk of res.body ?? []) {
        size += chunk.byteLength;
        if (size > this.o.maxBytes) throw new TraefikScrapeError(`Traefik metrics exceed ${this.o.maxBytes} bytes`);
        chunks.push(chunk);
      }
    } catch (e) {
      await res.body?.cancel().catch(() => undefined);
      if (e instanceof TraefikScrapeError) throw e;
      throw new TraefikScrapeError(`Traefik metrics read failed: ${(e as Error).message}`, { cause: e });
    }
    try {
      return parsePrometheusText(Buffer.concat(chunks).toString('utf8'), { only: COUNTERS });
    } catch (e) {
      throw new TraefikScrapeError(`Traefik metrics are malformed: ${(e as Error).message}`, { cause: e });
    }
  }
}

function seriesKey(s: PrometheusSample): string {
  return JSON.stringify([s.name, ...Object.entries(s.labels).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))]);
}
