/**
 * Variables: user variables travel only as data. This module resolves `${{ target.NAME }}` references (with cycle
 * detection), splits each value into data items, catalog addresses and Drover constants, and writes the templates
 * that render them: one template for data-only values (`noop` on change: the data is pinned) and one for values that
 * carry addresses of other services or databases, rendered at run time from the catalog with `change_mode =
 * "restart"`. Each value is emitted through `toJSON`, so any text reaches the task verbatim; the template text
 * holds only Drover-generated names (validated variable names, item keys, job IDs, paths).
 */
import { CompileError } from './errors.ts';
import type { Database, DesiredState, Service, Variable } from './model.ts';
import { ENV_NAME_PATTERN } from './model.ts';
import type { NomadTemplate } from './nomad-types.ts';
import { nomadVariablesPath, vaultKvDataPath } from './names.ts';

/** ItemSource says where the deployer takes a data item's value from; the compiler never sees secret values. */
export type ItemSource =
  | { kind: 'literal'; value: string }
  | { kind: 'secret'; owner: 'service' | 'shared'; ownerId: string; name: string }
  | { kind: 'database'; databaseId: string; field: DatabaseField }
  | { kind: 'registry'; credentialId: string; field: 'username' | 'password' };

/** DatabaseField is a generated credential of a database (the deployer generates URL-safe `[A-Za-z0-9]` values). */
export type DatabaseField = 'USER' | 'PASSWORD' | 'NAME' | 'ROOT_PASSWORD';

/** JobData is what the deployer writes for one job before registering it: items keyed as the templates read them. */
export interface JobData {
  /** backend is `nomad` (Nomad Variables) or `vault` (KV v2). */
  backend: 'nomad' | 'vault';
  /** namespace is the job's namespace (Nomad Variables live in it; Vault paths include it). */
  namespace: string;
  /** path is `nomad/jobs/<job ID>` or the KV v2 data path `<mount>/data/drover/<namespace>/<job ID>`. */
  path: string;
  /** items maps each item key (prefixed with the deployment ID) to its source. */
  items: Record<string, ItemSource>;
}

/** Segment is one piece of a rendered value. */
export type Segment =
  | { t: 'data'; source: ItemSource }
  | { t: 'addr'; service: string; part: 'host' | 'port' }
  | { t: 'const'; text: string };

/** EnvLine is one environment variable a template renders. */
export interface EnvLine {
  /** name is the variable name (ENV_NAME_PATTERN). */
  name: string;
  /** segments are joined in order. */
  segments: Segment[];
}

/** AddressBook answers references to services and databases: their catalog names and reference names. */
export interface AddressBook {
  /** serviceCatalogName is the Consul/Nomad service name (job ID) of a service slug. */
  serviceCatalogName(slug: string): string;
  /** publicUrl is `https://<generated domain>` of a public service, undefined when it is private. */
  publicUrl(slug: string): string | undefined;
  /**
   * databaseReference resolves `${{ db.NAME }}`, undefined when the engine has no such name, a `problem` when the
   * name exists but this database cannot give it (DATABASE_PUBLIC_URL of a private database).
   */
  databaseReference(db: Database, name: string): Segment[] | { problem: string } | undefined;
}

const CONST_TEXT = /^[A-Za-z0-9:/@?=&.+_-]*$/;

type Owner = { kind: 'service'; service: Service } | { kind: 'shared' };

/**
 * Resolver resolves the variables of one environment. `resolveService` returns the env lines of one service;
 * unknown names and cycles throw CompileError naming the path and the chain.
 */
export class Resolver {
  private readonly services = new Map<string, Service>();
  private readonly databases = new Map<string, Database>();
  private readonly shared = new Map<string, Variable>();
  private readonly state: DesiredState;
  private readonly book: AddressBook;

  constructor(state: DesiredState, book: AddressBook) {
    this.state = state;
    this.book = book;
    for (const s of state.services) this.services.set(s.slug, s);
    for (const d of state.databases) this.databases.set(d.name, d);
    for (const v of state.shared) this.shared.set(v.name, v);
  }

  /** resolveService returns one env line per variable of the service, in the service's order. */
  resolveService(service: Service): EnvLine[] {
    return service.variables.map((v) => ({
      name: v.name,
      segments: merge(this.resolveValue({ kind: 'service', service }, v, [`${service.slug}.${v.name}`], `services.${service.slug}.variables.${v.name}`)),
    }));
  }

  private resolveValue(owner: Owner, v: Variable, chain: string[], path: string): Segment[] {
    if (v.value.kind === 'secret') {
      return [{
        t: 'data',
        source: owner.kind === 'service'
          ? { kind: 'secret', owner: 'service', ownerId: owner.service.id, name: v.name }
          : { kind: 'secret', owner: 'shared', ownerId: this.state.environment.id, name: v.name },
      }];
    }
    const out: Segment[] = [];
    for (const p of v.value.parts) {
      if (p.kind === 'literal') {
        if (p.text !== '') out.push({ t: 'data', source: { kind: 'literal', value: p.text } });
      } else out.push(...this.resolveRef(p.target, p.name, chain, path));
    }
    return out;
  }

  private resolveRef(target: string, name: string, chain: string[], path: string): Segment[] {
    const key = `${target}.${name}`;
    if (chain.includes(key)) throw new CompileError(path, `reference cycle: ${[...chain, key].join(' → ')}`);
    const next = [...chain, key];
    if (target === 'shared') {
      const v = this.shared.get(name);
      if (!v) throw new CompileError(path, `unknown reference \${{ shared.${name} }}`);
      return this.resolveValue({ kind: 'shared' }, v, next, path);
    }
    const svc = this.services.get(target);
    if (svc) {
      const host: Segment = { t: 'addr', service: this.book.serviceCatalogName(target), part: 'host' };
      const port: Segment = { t: 'addr', service: this.book.serviceCatalogName(target), part: 'port' };
      if (svc.cron || (svc.source.kind === 'image' && svc.source.port === undefined)) {
        if (name.startsWith('PRIVATE_') || name === 'PUBLIC_URL') throw new CompileError(path, `${target} listens on no port, so it has no ${name}`);
      }
      if (name === 'PRIVATE_HOST') return [host];
      if (name === 'PRIVATE_PORT') return [port];
      if (name === 'PRIVATE_URL') return [{ t: 'const', text: 'http://' }, host, { t: 'const', text: ':' }, port];
      if (name === 'PUBLIC_URL') {
        const url = this.book.publicUrl(target);
        if (url === undefined) throw new CompileError(path, `${target} is not public, so it has no PUBLIC_URL`);
        return [{ t: 'const', text: url }];
      }
      const v = svc.variables.find((x) => x.name === name);
      if (!v) throw new CompileError(path, `unknown reference \${{ ${key} }}`);
      return this.resolveValue({ kind: 'service', service: svc }, v, next, path);
    }
    const db = this.databases.get(target);
    if (db) {
      const segs = this.book.databaseReference(db, name);
      if (!segs) throw new CompileError(path, `unknown reference \${{ ${key} }}: a ${db.engine} database has no ${name}`);
      if (!Array.isArray(segs)) throw new CompileError(path, segs.problem);
      return segs;
    }
    throw new CompileError(path, `unknown reference \${{ ${key} }}: no service, database or shared set named ${target}`);
  }
}

/** sourceKey identifies a source, so equal sources share one data item. */
function sourceKey(s: ItemSource): string {
  switch (s.kind) {
    case 'literal': return `l\0${s.value}`;
    case 'secret': return `s\0${s.owner}\0${s.ownerId}\0${s.name}`;
    case 'database': return `d\0${s.databaseId}\0${s.field}`;
    case 'registry': return `r\0${s.credentialId}\0${s.field}`;
  }
}

/** merge joins adjacent literal data items and adjacent constants, so a value needs as few items as possible. */
export function merge(segs: Segment[]): Segment[] {
  const out: Segment[] = [];
  for (const s of segs) {
    const last = out[out.length - 1];
    if (last?.t === 'data' && s.t === 'data' && last.source.kind === 'literal' && s.source.kind === 'literal') {
      out[out.length - 1] = { t: 'data', source: { kind: 'literal', value: last.source.value + s.source.value } };
    } else if (last?.t === 'const' && s.t === 'const') {
      out[out.length - 1] = { t: 'const', text: last.text + s.text };
    } else out.push(s);
  }
  return out;
}

/** TemplateContext says where a job's data lives. */
export interface TemplateContext {
  /** state gives the deployment and the secrets backend. */
  state: DesiredState;
  /** namespace is the job's namespace. */
  namespace: string;
  /** job is the job ID. */
  job: string;
}

/** RenderedTemplates is what renderTemplates returns for one task. */
export interface RenderedTemplates {
  /** templates are the task's template blocks (empty when there is nothing to render). */
  templates: NomadTemplate[];
  /** data is what the deployer writes (null when no data item is needed). */
  data: JobData | null;
  /** readsCatalog says a template reads service addresses (the task needs a `consul {}` block with Consul). */
  readsCatalog: boolean;
}

function goString(s: string): string {
  if (!/^[A-Za-z0-9:/@?=&.+_ -]*$/.test(s)) throw new Error(`internal: ${JSON.stringify(s)} is not a safe template literal`);
  return `"${s}"`;
}

/**
 * renderTemplates turns env lines into template blocks and the data the deployer must write. Names are checked
 * against ENV_NAME_PATTERN; constants against a URL-safe charset; nothing else reaches the template text.
 */
export function renderTemplates(ctx: TemplateContext, lines: EnvLine[], provider: 'consul' | 'nomad', destPrefix = 'drover'): RenderedTemplates {
  const { state } = ctx;
  const backend = state.settings.secrets;
  const items: Record<string, ItemSource> = {};
  const keys = new Map<string, string>();
  const keyFor = (source: ItemSource): string => {
    const id = sourceKey(source);
    const found = keys.get(id);
    if (found !== undefined) return found;
    const key = `${state.deployment.id}.${keys.size}`;
    keys.set(id, key);
    items[key] = source;
    return key;
  };
  const names = new Set<string>();
  for (const l of lines) {
    if (!ENV_NAME_PATTERN.test(l.name)) throw new CompileError(`variables.${l.name}`, 'is not a valid variable name');
    if (names.has(l.name)) throw new CompileError(`variables.${l.name}`, 'is defined twice');
    names.add(l.name);
    for (const s of l.segments) if (s.t === 'const' && !CONST_TEXT.test(s.text)) throw new Error('internal: unsafe constant');
  }
  let path: string;
  let open: string;
  let access: (key: string) => string;
  if (backend.kind === 'vault') {
    const version = state.deployment.vaultKvVersion;
    if (version === undefined || !Number.isInteger(version) || version < 1) {
      throw new CompileError('deployment.vaultKvVersion', 'Vault mode needs the KV version the deployer wrote (a positive integer)');
    }
    path = vaultKvDataPath(backend.kvMount, ctx.namespace, ctx.job);
    open = `{{ with secret ${goString(`${path}?version=${version}`)} }}{{ $d := .Data.data }}`;
    access = (key) => `(index $d ${goString(key)})`;
  } else {
    path = nomadVariablesPath(ctx.job);
    open = `{{ with nomadVar ${goString(path)} }}{{ $d := . }}`;
    access = (key) => `(index $d ${goString(key)}).Value`;
  }
  const dataOnly = lines.filter((l) => l.segments.every((s) => s.t !== 'addr'));
  const withAddr = lines.filter((l) => l.segments.some((s) => s.t === 'addr'));

  const valueExpr = (segs: EnvLine['segments'], addrVar: (s: { service: string; part: 'host' | 'port' }) => string): string => {
    const parts = segs.map((s) => (s.t === 'data' ? access(keyFor(s.source)) : s.t === 'const' ? goString(s.text) : addrVar(s)));
    if (parts.length === 1 && segs[0]?.t === 'data') return `${parts[0]} | toJSON`;
    return `printf "${"%v".repeat(parts.length)}" ${parts.join(" ")} | toJSON`;
  };

  const templates: NomadTemplate[] = [];
  const block = (text: string, dest: string, changeMode: string): NomadTemplate => ({
    EmbeddedTmpl: text, DestPath: `secrets/${dest}`, Envvars: true, ChangeMode: changeMode, Perms: '0400',
    LeftDelim: '{{', RightDelim: '}}', ErrMissingKey: false,
  });

  if (dataOnly.length > 0) {
    const body = dataOnly.map((l) => `${l.name}={{ ${valueExpr(l.segments, () => '')} }}\n`).join('');
    templates.push(block(`${open}\n${body}{{ end }}\n`, `${destPrefix}.env`, 'noop'));
  }
  if (withAddr.length > 0) {
    const services: string[] = [];
    for (const l of withAddr) for (const s of l.segments) if (s.t === 'addr' && !services.includes(s.service)) services.push(s.service);
    const fn = provider === 'nomad' ? 'nomadService' : 'service';
    let text = '';
    services.forEach((svc, i) => {
      text += `{{ $h${i} := "" }}{{ $p${i} := 0 }}{{ range ${fn} ${goString(svc)} }}{{ $h${i} = .Address }}{{ $p${i} = .Port }}{{ end }}\n`;
    });
    const addrVar = (s: { service: string; part: 'host' | 'port' }): string => `$${s.part === 'host' ? 'h' : 'p'}${services.indexOf(s.service)}`;
    for (const l of withAddr) {
      const used = [...new Set(l.segments.flatMap((s) => (s.t === 'addr' ? [services.indexOf(s.service)] : [])))];
      const cond = used.length === 1 ? `ne $h${used[0]} ""` : `and ${used.map((i) => `(ne $h${i} "")`).join(' ')}`;
      text += `{{ if ${cond} }}${l.name}={{ ${valueExpr(l.segments, addrVar)} }}\n{{ end }}`;
    }
    const needsData = withAddr.some((l) => l.segments.some((s) => s.t === 'data'));
    templates.push(block(needsData ? `${open}\n${text}{{ end }}\n` : text, `${destPrefix}-addresses.env`, 'restart'));
  }
  const data: JobData | null = keys.size > 0 ? { backend: backend.kind, namespace: ctx.namespace, path, items } : null;
  return { templates, data, readsCatalog: withAddr.length > 0 };
}
