/**
 * Ownership verification adapters: a DNS resolver (TXT records of `_drover-challenge.<domain>`, and addresses) and an
 * HTTP challenge fetcher (`http://<domain>/.well-known/drover-challenge/<token>`). The fetcher connects to an address
 * it resolved and checked itself — never a loopback, private, link-local or metadata address unless the operator's
 * lab setting allows it — follows no redirects, and reads at most 1 KiB.
 */
import { Resolver } from 'node:dns/promises';
import { request } from 'node:http';
import { isIP } from 'node:net';
import { isForbiddenAddress } from '../service-configs/validation.ts';

/** CHALLENGE_LABEL is the DNS label under which the TXT challenge lives. */
export const CHALLENGE_LABEL = '_drover-challenge';
/** CHALLENGE_PATH is the HTTP path prefix of the challenge (Drover answers it publicly). */
export const CHALLENGE_PATH = '/.well-known/drover-challenge/';

/** DnsResolver is the DNS adapter: TXT records and A/AAAA addresses of a name. */
export interface DnsResolver {
  /** resolveTxt returns every TXT record of `name` as joined strings; an absent name or record is []. */
  resolveTxt(name: string): Promise<string[]>;
  /** resolveAddresses returns the IPv4 and IPv6 addresses of `name`; an absent name is []. */
  resolveAddresses(name: string): Promise<string[]>;
}

const ABSENT = new Set(['ENOTFOUND', 'ENODATA', 'NXDOMAIN', 'ENONAME']);

/** SystemDnsResolver implements DnsResolver with node:dns (optionally on chosen servers, `127.0.0.1:5353` form). */
export class SystemDnsResolver implements DnsResolver {
  private readonly r: Resolver;

  constructor(servers?: string[], timeoutMs = 3_000) {
    this.r = new Resolver({ timeout: timeoutMs, tries: 2 });
    if (servers && servers.length > 0) this.r.setServers(servers);
  }

  /** resolveTxt joins each record's chunks. */
  async resolveTxt(name: string): Promise<string[]> {
    try {
      return (await this.r.resolveTxt(name)).map((chunks) => chunks.join(''));
    } catch (e) {
      if (ABSENT.has((e as NodeJS.ErrnoException).code ?? '')) return [];
      throw e;
    }
  }

  /** resolveAddresses asks for A and AAAA records. */
  async resolveAddresses(name: string): Promise<string[]> {
    const out: string[] = [];
    for (const f of [() => this.r.resolve4(name), () => this.r.resolve6(name)]) {
      try {
        out.push(...(await f()));
      } catch (e) {
        if (!ABSENT.has((e as NodeJS.ErrnoException).code ?? '')) throw e;
      }
    }
    return out;
  }
}

/** ChallengeResponse is what the challenge URL answered. */
export interface ChallengeResponse {
  /** status is the HTTP status. */
  status: number;
  /** body is the first KiB of the body. */
  body: string;
}

/** ChallengeFetcher fetches `http://<hostname><path>`; it throws ChallengeRefused for a target it may not contact. */
export interface ChallengeFetcher {
  /** fetch performs one GET without redirects. */
  fetch(hostname: string, path: string): Promise<ChallengeResponse>;
}

/** ChallengeRefused says why the fetcher would not contact a target (in words the user can act on). */
export class ChallengeRefused extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'ChallengeRefused';
  }
}

/** HttpChallengeFetcherOptions configure HttpChallengeFetcher. */
export interface HttpChallengeFetcherOptions {
  /** resolver resolves the hostname (the fetcher connects to the address, not the name). */
  resolver: DnsResolver;
  /** allowPrivateTargets permits loopback/private targets (tests and labs; never in production). */
  allowPrivateTargets: boolean;
  /** port is the HTTP port (default 80; tests use a loopback server's port). */
  port?: number;
  /** timeoutMs bounds the request (default 5 s). */
  timeoutMs?: number;
}

/** HttpChallengeFetcher implements ChallengeFetcher over node:http. */
export class HttpChallengeFetcher implements ChallengeFetcher {
  private readonly o: HttpChallengeFetcherOptions;

  constructor(options: HttpChallengeFetcherOptions) {
    this.o = options;
  }

  /** fetch resolves, checks the addresses, then GETs the path with the Host header set to the hostname. */
  async fetch(hostname: string, path: string): Promise<ChallengeResponse> {
    const addresses = await this.o.resolver.resolveAddresses(hostname);
    if (addresses.length === 0) throw new ChallengeRefused(`${hostname} has no A or AAAA record`);
    if (!this.o.allowPrivateTargets && addresses.some((a) => isIP(a) === 0 || isForbiddenAddress(a))) {
      throw new ChallengeRefused(`${hostname} resolves to a private, loopback or link-local address`);
    }
    const address = addresses[0] as string;
    return new Promise<ChallengeResponse>((resolve, reject) => {
      const req = request({
        host: address, port: this.o.port ?? 80, path, method: 'GET', family: isIP(address),
        headers: { Host: hostname, 'User-Agent': 'drover-domain-verifier', Accept: 'text/plain' },
        timeout: this.o.timeoutMs ?? 5_000,
      }, (res) => {
        const chunks: Buffer[] = [];
        let size = 0;
        res.on('data', (c: Buffer) => {
          if (size < 1024) chunks.push(c.subarray(0, 1024 - size));
          size += c.length;
          if (size >= 1024) res.destroy();
        });
        const done = () => resolve({ status: res.statusCode ?? 0, body: Buffer.concat(chunks).toString('utf8') });
        res.on('end', done);
        res.on('close', done);
        res.on('error', done);
      });
      req.on('timeout', () => req.destroy(new Error('timed out')));
      req.on('error', reject);
      req.end();
    });
  }
}
