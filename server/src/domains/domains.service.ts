/**
 * DomainsService: a service's domains. Generated ones follow the service's `public` flag (see ServiceConfigsService);
 * custom ones are added here, strictly validated (hostname.ts), unique across all teams (a taken name is 409
 * `domain/taken` whoever holds it, a service or a public database: database-hostnames.ts), and routed only once ownership is verified — by a TXT record
 * `_drover-challenge.<domain>` holding the token, or by the token served at `/.well-known/drover-challenge/<token>`
 * on the domain — unless the operator allows unverified domains. Certificate status stays `unknown` until the
 * Traefik integration reports it through `setCertificateStatus`.
 */
import { randomBytes, randomUUID } from 'node:crypto';
import type { DataSource } from 'typeorm';
import type { Actor } from '../core/actor.ts';
import { DomainError } from '../core/errors.ts';
import type { Page, PageParams } from '../core/pagination.ts';
import { isUniqueViolation, isUuid, keysetPage, loadOwned, now, type ScopeDeps } from '../projects/scope.ts';
import { ServiceEntity, type ServiceRow } from '../service-configs/service.entity.ts';
import { DomainEntity, type CertificateStatus, type DomainRow, type VerificationMethod } from './domain.entity.ts';
import { refuseDatabaseHostname } from './database-hostnames.ts';
import { isUnder, parseHostname } from './hostname.ts';
import { CHALLENGE_LABEL, CHALLENGE_PATH, ChallengeRefused, type ChallengeFetcher, type DnsResolver } from './verification.ts';

/** DomainsServiceDeps are what DomainsService needs. */
export interface DomainsServiceDeps extends ScopeDeps {
  /** dataSource runs queries and transactions. */
  dataSource: DataSource;
  /** appsDomain is the parent of generated domains; custom domains may not sit under it. */
  appsDomain: string;
  /** allowUnverified routes custom domains before verification (DROVER_ALLOW_UNVERIFIED_DOMAINS, labs only). */
  allowUnverified: boolean;
  /** resolver looks up the TXT challenge. */
  resolver: DnsResolver;
  /** fetcher fetches the HTTP challenge. */
  fetcher: ChallengeFetcher;
}

/** DomainView is a domain with whether it is routed now. */
export type DomainView = DomainRow & { routed: boolean };

/** VerifyOutcome reports how each check went (for the problem detail of a failed verification). */
interface CheckResult {
  ok: boolean;
  method: VerificationMethod;
  reason: string;
}

function invalidHostname(message: string): DomainError {
  return new DomainError('domain/invalid', `body.hostname: ${message}`, { errors: [{ path: 'body.hostname', message }] });
}

/** DomainsService implements the domain operations; every user-facing method checks access first. */
export class DomainsService {
  private readonly d: DomainsServiceDeps;

  constructor(deps: DomainsServiceDeps) {
    this.d = deps;
  }

  /** add registers a custom hostname for a service (write permission); it starts `pending` verification. */
  async add(actor: Actor, serviceId: string, input: string): Promise<DomainView> {
    const s = await this.service(actor, serviceId, 'write');
    const parsed = parseHostname(input);
    if (!parsed.ok) throw invalidHostname(parsed.message);
    if (isUnder(parsed.hostname, this.d.appsDomain)) throw invalidHostname(`must not be under ${this.d.appsDomain}, which Drover generates names in`);
    const at = now(this.d.clock);
    const row: DomainRow = {
      id: randomUUID(), teamId: s.teamId, projectId: s.projectId, environmentId: s.environmentId, serviceId: s.id,
      hostname: parsed.hostname, kind: 'custom', verificationStatus: 'pending', verificationToken: randomBytes(16).toString('hex'),
      verifiedAt: null, verifiedBy: null, certificateStatus: 'unknown', lastCheckedAt: null, lastCheckError: null, createdAt: at, updatedAt: at,
    };
    try {
      await this.d.dataSource.transaction(async (tx) => {
        // A public database's hostname is taken too (one under an earlier apps domain could otherwise be claimed here).
        await refuseDatabaseHostname(tx, row.hostname, 'body.hostname');
        await tx.getRepository(DomainEntity).insert(row);
        await this.d.audit.record({ actor, teamId: s.teamId, action: 'domain.create', targetType: 'domain', targetId: row.id, details: { serviceId: s.id, hostname: row.hostname } }, tx);
      });
    } catch (e) {
      if (isUniqueViolation(e, 'domains_hostname_uq')) {
        throw new DomainError('domain/taken', 'This hostname is already in use', { errors: [{ path: 'body.hostname', message: 'is already in use' }] });
      }
      throw e;
    }
    return this.view(row, s);
  }

  /** list pages through a service's domains, generated and custom (read permission). */
  async list(actor: Actor, serviceId: string, page: PageParams): Promise<Page<DomainView>> {
    const s = await this.service(actor, serviceId, 'read');
    const qb = this.d.dataSource.getRepository(DomainEntity).createQueryBuilder('d')
      .where('d.service_id = :sid AND d.team_id = :tid', { sid: s.id, tid: s.teamId });
    const p = await keysetPage(qb, 'd', page);
    return { items: p.items.map((r) => this.view(r, s)), nextCursor: p.nextCursor };
  }

  /** get returns one domain (read permission). */
  async get(actor: Actor, domainId: string): Promise<DomainView> {
    const r = await this.load(actor, domainId, 'read');
    return this.view(r, await this.serviceRow(r.serviceId));
  }

  /** delete removes a custom domain (write permission); a generated one follows the service's `public` flag instead. */
  async delete(actor: Actor, domainId: string): Promise<void> {
    const r = await this.load(actor, domainId, 'write');
    if (r.kind === 'generated') throw new DomainError('domain/invalid', 'A generated domain is removed by making its service private (public: false)');
    await this.d.dataSource.transaction(async (tx) => {
      await tx.getRepository(DomainEntity).delete({ id: r.id, teamId: r.teamId });
      await this.d.audit.record({ actor, teamId: r.teamId, action: 'domain.delete', targetType: 'domain', targetId: r.id, details: { hostname: r.hostname } }, tx);
    });
  }

  /**
   * verify checks ownership of a pending custom domain (write permission): the TXT record first, then the HTTP
   * token. The outcome is recorded on the domain and audited: success marks it verified (and routable); failure keeps
   * it pending with `lastCheckError` saying what each check found. An already verified or generated domain is
   * returned unchanged.
   */
  async verify(actor: Actor, domainId: string): Promise<DomainView> {
    const r = await this.load(actor, domainId, 'write');
    const s = await this.serviceRow(r.serviceId);
    if (r.verificationStatus === 'verified' || r.verificationToken === null) return this.view(r, s);
    const token = r.verificationToken;
    const results: CheckResult[] = [await this.checkDns(r.hostname, token)];
    if (!results[0]?.ok) results.push(await this.checkHttp(r.hostname, token));
    const passed = results.find((x) => x.ok);
    const at = now(this.d.clock);
    const change: Partial<DomainRow> = passed
      ? { verificationStatus: 'verified', verifiedAt: at, verifiedBy: passed.method, lastCheckedAt: at, lastCheckError: null, updatedAt: at }
      : { lastCheckedAt: at, lastCheckError: results.map((x) => `${x.method}: ${x.reason}`).join('; ').slice(0, 2000), updatedAt: at };
    await this.d.dataSource.transaction(async (tx) => {
      await tx.getRepository(DomainEntity).update({ id: r.id, teamId: r.teamId }, change);
      await this.d.audit.record({
        actor, teamId: r.teamId, action: 'domain.verify', targetType: 'domain', targetId: r.id,
        details: { hostname: r.hostname, verified: passed !== undefined, ...(passed ? { method: passed.method } : {}) },
      }, tx);
    });
    return this.view({ ...r, ...change }, s);
  }

  /**
   * challengeAnswer is the public HTTP challenge: it returns the token when a pending custom domain has it, otherwise
   * null (answered 404). The token (128 random bits) is bound to its domain row, and the checker only ever fetches a
   * domain's own token from that domain, so the answer proves the domain reaches Drover; it reveals nothing else.
   */
  async challengeAnswer(token: string): Promise<string | null> {
    if (!/^[0-9a-f]{32}$/.test(token)) return null;
    const r = await this.d.dataSource.getRepository(DomainEntity).findOneBy({ verificationToken: token });
    return r && r.verificationStatus === 'pending' ? token : null;
  }

  /** setCertificateStatus records what the Traefik integration reports about a domain's certificate (system action, audited). */
  async setCertificateStatus(domainId: string, status: CertificateStatus): Promise<void> {
    if (!isUuid(domainId)) throw new DomainError('domain/not_found');
    await this.d.dataSource.transaction(async (tx) => {
      const r = await tx.getRepository(DomainEntity).findOneBy({ id: domainId });
      if (!r) throw new DomainError('domain/not_found');
      if (r.certificateStatus === status) return;
      await tx.getRepository(DomainEntity).update({ id: r.id }, { certificateStatus: status, updatedAt: now(this.d.clock) });
      await this.d.audit.record({ actor: null, teamId: r.teamId, action: 'domain.certificate', targetType: 'domain', targetId: r.id, details: { hostname: r.hostname, status } }, tx);
    });
  }

  /** isRouted tells whether a domain is routed: its service is public and it is generated, verified or the lab allows unverified. */
  isRouted(r: DomainRow, s: Pick<ServiceRow, 'config'>): boolean {
    return s.config.public && (r.kind === 'generated' || r.verificationStatus === 'verified' || this.d.allowUnverified);
  }

  private view(r: DomainRow, s: Pick<ServiceRow, 'config'>): DomainView {
    return { ...r, routed: this.isRouted(r, s) };
  }

  private async checkDns(hostname: string, token: string): Promise<CheckResult> {
    const name = `${CHALLENGE_LABEL}.${hostname}`;
    try {
      const records = await this.d.resolver.resolveTxt(name);
      if (records.some((t) => t.trim() === token)) return { ok: true, method: 'dns', reason: 'TXT record found' };
      return { ok: false, method: 'dns', reason: records.length === 0 ? `no TXT record at ${name}` : `no TXT record at ${name} holds the token` };
    } catch (e) {
      return { ok: false, method: 'dns', reason: `the lookup of ${name} failed (${(e as NodeJS.ErrnoException).code ?? 'error'})` };
    }
  }

  private async checkHttp(hostname: string, token: string): Promise<CheckResult> {
    const path = `${CHALLENGE_PATH}${token}`;
    try {
      const res = await this.d.fetcher.fetch(hostname, path);
      if (res.status === 200 && res.body.trim() === token) return { ok: true, method: 'http', reason: 'token served' };
      return { ok: false, method: 'http', reason: `http://${hostname}${path} answered ${res.status} without the token` };
    } catch (e) {
      if (e instanceof ChallengeRefused) return { ok: false, method: 'http', reason: e.message };
      return { ok: false, method: 'http', reason: `http://${hostname}${path} could not be fetched` };
    }
  }

  private async serviceRow(id: string): Promise<ServiceRow> {
    const s = await this.d.dataSource.getRepository(ServiceEntity).findOneBy({ id });
    if (!s) throw new DomainError('domain/not_found');
    return s;
  }

  private service(actor: Actor, serviceId: string, permission: 'read' | 'write'): Promise<ServiceRow> {
    return loadOwned(this.d.access, actor, serviceId, permission, 'service/not_found',
      (id) => this.d.dataSource.getRepository(ServiceEntity).findOneBy({ id }));
  }

  private load(actor: Actor, domainId: string, permission: 'read' | 'write'): Promise<DomainRow> {
    return loadOwned(this.d.access, actor, domainId, permission, 'domain/not_found',
      (id) => this.d.dataSource.getRepository(DomainEntity).findOneBy({ id }));
  }
}
