/**
 * Ports of Nomad's own job validation (nomad/structs: `Job.Validate`, `TaskGroup.Validate`, `Task.Validate`,
 * `Service.Validate`, `ServiceCheck.validate`, `UpdateStrategy.Validate`, `PeriodicConfig.Validate`,
 * `RestartPolicy.Validate`, `ReschedulePolicy.Validate`, `Resources.Validate`, `VolumeRequest.Validate`,
 * `VolumeMount.Validate`, `Template.Validate`, `Vault.Validate`, `LogConfig.Validate`, `EphemeralDisk.Validate`,
 * network/port checks; nomad/job_endpoint*.go: the register hooks, `validateJobUpdate`, job warnings) as pure
 * functions over the JSON the HTTP API receives. Messages keep Nomad's wording; each error carries the JSON pointer
 * of the offending value.
 */
import { arr, isObj, type Obj } from './canonicalize.ts';
import { parseCron, validTimeZone } from './cron.ts';
import { goDuration, SECOND } from './duration.ts';

/** JobValidationError is one rule a job breaks: the JSON pointer of the value (`/Job/TaskGroups/0/Count`) and Nomad's message. */
export interface JobValidationError {
  /** path is a JSON pointer into the register body, starting at `/Job`. */
  path: string;
  /** message is Nomad's error text for the rule. */
  message: string;
}

type Add = (path: string, message: string) => void;

const num = (v: unknown, d = 0): number => (typeof v === 'number' && Number.isFinite(v) ? v : d);
const str = (v: unknown, d = ''): string => (typeof v === 'string' ? v : d);
const bool = (v: unknown): boolean => v === true;
const esc = (k: string): string => k.replaceAll('~', '~0').replaceAll('/', '~1');

/** JOB_MIN_PRIORITY and JOB_MAX_PRIORITY bound `Job.Priority` (Nomad's defaults for `job_max_priority`). */
export const JOB_MIN_PRIORITY = 1;
/** JOB_MAX_PRIORITY is Nomad's default `job_max_priority`. */
export const JOB_MAX_PRIORITY = 100;

const SERVICE_NAME_RE = /^(?:[a-z0-9]|[a-z0-9][a-z0-9-]{0,61}[a-z0-9])$/i;
const JOB_TYPES = new Set(['service', 'batch', 'system', 'sysbatch']);
const HOST_ACCESS_MODES = new Set(['', 'single-node-reader-only', 'single-node-writer', 'single-node-single-writer', 'single-node-multi-writer', 'multi-node-reader-only', 'multi-node-single-writer', 'multi-node-multi-writer']);
const ATTACHMENT_MODES = new Set(['', 'file-system', 'block-device']);
const HOST_VOLUME_CREATE_ACCESS = new Set(['single-node-reader-only', 'single-node-writer', 'single-node-single-writer', 'single-node-multi-writer']);

/** validateServiceName ports `Service.ValidateName`: RFC 1123 label, alphanumerics and dashes, at most 63 characters. */
export function validateServiceName(name: string): boolean {
  // Nomad strips ${…} interpolations first, replacing them with a placeholder.
  return SERVICE_NAME_RE.test(name.replace(/\$\{[^}]*\}/g, 'ENV-VAR'));
}

/** pathEscapesAllocDir ports `PathEscapesAllocDir(prefix, path)` for task-relative destinations. */
export function pathEscapesAllocDir(prefix: string, p: string): boolean {
  const parts: string[] = [];
  const base = ['alloc', 'id', ...prefix.split('/').filter(Boolean)];
  const abs = p.startsWith('/') ? ['alloc', 'id', ...p.split('/')] : [...base, ...p.split('/')];
  for (const seg of abs) {
    if (seg === '' || seg === '.') continue;
    if (seg === '..') {
      if (parts.length === 0) return true;
      parts.pop();
    } else parts.push(seg);
  }
  return !(parts[0] === 'alloc' && parts[1] === 'id');
}

const CONSTRAINT_OPERANDS = new Set(['=', '==', 'is', '!=', 'not', '>', '>=', '<', '<=', 'distinct_hosts', 'distinct_property', 'regexp', 'version', 'semver', 'set_contains', 'set_contains_all', 'set_contains_any', 'is_set', 'is_not_set']);

/** validateConstraints ports `Constraint.Validate` for a list of constraints at one level. */
function validateConstraints(list: Obj[], p: string, add: Add): void {
  list.forEach((c, i) => {
    const cp = `${p}/${i}`;
    const e: Add = (path, m) => add(path, `Constraint ${i + 1} validation failed: ${m}`);
    const op = str(c.Operand), l = str(c.LTarget), r = str(c.RTarget);
    if (op === '') {
      e(`${cp}/Operand`, 'Missing constraint operand');
      return;
    }
    if (!CONSTRAINT_OPERANDS.has(op)) {
      e(`${cp}/Operand`, `Unknown constraint type "${op}"`);
      return;
    }
    let requireL = true;
    if (op === 'distinct_hosts') requireL = false;
    else if (op === 'set_contains' || op === 'set_contains_all' || op === 'set_contains_any') {
      if (r === '') e(`${cp}/RTarget`, 'Set contains constraint requires an RTarget');
    } else if (op === 'regexp') {
      try {
        new RegExp(r);
      } catch (err) {
        e(`${cp}/RTarget`, `Regular expression failed to compile: ${(err as Error).message}`);
      }
    } else if (op === 'version' || op === 'semver') {
      if (!/^\s*(?:(?:[<>]=?|=|!=|~>)?\s*v?\d+(?:\.\d+){0,2}(?:-[0-9A-Za-z.-]+)?\s*)(?:,\s*(?:[<>]=?|=|!=|~>)?\s*v?\d+(?:\.\d+){0,2}(?:-[0-9A-Za-z.-]+)?\s*)*$/.test(r)) e(`${cp}/RTarget`, `Version constraint is invalid: Malformed constraint: ${r}`);
    } else if (op === 'distinct_property') {
      if (r !== '') {
        if (!/^\d+$/.test(r)) e(`${cp}/RTarget`, `Failed to convert RTarget "${r}" to uint64`);
        else if (Number(r) < 1) e(`${cp}/RTarget`, `Distinct Property must have an allowed count of 1 or greater: ${r} < 1`);
      }
    } else if (op === 'is_set' || op === 'is_not_set') {
      if (r !== '') e(`${cp}/RTarget`, `Operator "${op}" does not support an RTarget`);
    } else if (r === '') e(`${cp}/RTarget`, `Operator "${op}" requires an RTarget`);
    if (requireL && l === '') e(`${cp}/LTarget`, 'No LTarget provided but is required by constraint');
  });
}

/** validateAffinities ports `Affinity.Validate`. */
function validateAffinities(list: Obj[], p: string, add: Add): void {
  list.forEach((a, i) => {
    const ap = `${p}/${i}`;
    const e: Add = (path, m) => add(path, `Affinity ${i + 1} validation failed: ${m}`);
    const op = str(a.Operand), w = num(a.Weight);
    if (op === '') e(`${ap}/Operand`, 'Missing affinity operand');
    else if (op === 'distinct_hosts' || op === 'distinct_property' || !CONSTRAINT_OPERANDS.has(op)) e(`${ap}/Operand`, `Unknown affinity operator "${op}"`);
    if (str(a.LTarget) === '') e(`${ap}/LTarget`, 'No LTarget provided but is required');
    if (w > 100 || w < -100) e(`${ap}/Weight`, `Affinity weight must be within the range [-100,100]`);
    if (w === 0) e(`${ap}/Weight`, 'Affinity weight cannot be zero');
  });
}

/** validateSpreads ports `Spread.Validate`. */
function validateSpreads(list: Obj[], p: string, add: Add): void {
  list.forEach((s, i) => {
    const sp = `${p}/${i}`;
    const e: Add = (path, m) => add(path, `Spread ${i + 1} validation failed: ${m}`);
    if (str(s.Attribute) === '') e(`${sp}/Attribute`, 'Missing spread attribute');
    const w = num(s.Weight);
    if (w <= 0 || w > 100) e(`${sp}/Weight`, 'Spread block must have a positive weight from 0 to 100');
    const seen = new Set<string>();
    let sum = 0;
    arr(s.SpreadTarget).forEach((t, ti) => {
      const v = str(t.Value);
      if (seen.has(v)) e(`${sp}/SpreadTarget/${ti}/Value`, `Spread target value "${v}" already defined`);
      seen.add(v);
      const pct = num(t.Percent);
      if (pct < 0 || pct > 100) e(`${sp}/SpreadTarget/${ti}/Percent`, `Spread target percentage for value "${v}" must be between 0 and 100`);
      sum += pct;
    });
    if (sum > 100) e(`${sp}/SpreadTarget`, `Sum of spread target percentages must not be greater than 100%; got ${sum}%`);
  });
}

function validateUpdate(u: Obj, p: string, add: Add): void {
  const hc = str(u.HealthCheck);
  if (!['checks', 'task_states', 'manual'].includes(hc)) add(`${p}/HealthCheck`, `Invalid health check given: "${hc}"`);
  const mp = num(u.MaxParallel), canary = num(u.Canary), mht = num(u.MinHealthyTime), hd = num(u.HealthyDeadline), pd = num(u.ProgressDeadline), stagger = num(u.Stagger);
  if (mp < 0) add(`${p}/MaxParallel`, `Max parallel can not be less than zero: ${mp} < 0`);
  if (canary < 0) add(`${p}/Canary`, `Canary count can not be less than zero: ${canary} < 0`);
  if (canary === 0 && bool(u.AutoPromote)) add(`${p}/AutoPromote`, 'Auto Promote requires a Canary count greater than zero');
  if (mht < 0) add(`${p}/MinHealthyTime`, `Minimum healthy time may not be less than zero: ${goDuration(mht)}`);
  if (hd <= 0) add(`${p}/HealthyDeadline`, `Healthy deadline must be greater than zero: ${goDuration(hd)}`);
  if (pd < 0) add(`${p}/ProgressDeadline`, `Progress deadline must be zero or greater: ${goDuration(pd)}`);
  if (mht >= hd) add(`${p}/MinHealthyTime`, `Minimum healthy time must be less than healthy deadline: ${goDuration(mht)} > ${goDuration(hd)}`);
  if (pd !== 0 && hd >= pd) add(`${p}/HealthyDeadline`, `Healthy deadline must be less than progress deadline: ${goDuration(hd)} > ${goDuration(pd)}`);
  if (stagger <= 0) add(`${p}/Stagger`, `Stagger must be greater than zero: ${goDuration(stagger)}`);
}

function validateRestart(r: Obj, p: string, add: Add): void {
  const mode = str(r.Mode), attempts = num(r.Attempts), interval = num(r.Interval), delay = num(r.Delay);
  if (mode !== 'delay' && mode !== 'fail') add(`${p}/Mode`, `Unsupported restart mode: "${mode}"`);
  if (attempts === 0 && mode !== 'fail') add(`${p}/Attempts`, `Restart policy "${mode}" with ${attempts} attempts is ambiguous`);
  if (attempts < 0) add(`${p}/Attempts`, `Restart policy attempts can not be negative: ${attempts}`);
  if (interval < 5 * SECOND) add(`${p}/Interval`, `Interval can not be less than 5s (got ${goDuration(interval)})`);
  if (attempts * delay > interval) add(`${p}/Delay`, `Nomad can't restart the TaskGroup ${attempts} times in an interval of ${goDuration(interval)} with a delay of ${goDuration(delay)}`);
}

function viableAttempts(r: { attempts: number; interval: number; delay: number; fn: string; maxDelay: number }): [boolean, number, number] {
  let possible = 0;
  let recommended = 0;
  let valid = true;
  if (r.fn === 'constant') {
    recommended = r.attempts * r.delay;
    if (r.interval < recommended) {
      possible = Math.floor(r.interval / r.delay);
      valid = false;
    }
  } else if (r.fn === 'exponential') {
    for (let i = 0; i < r.attempts; i++) {
      let next = 2 ** i * r.delay;
      if (next > r.maxDelay) {
        next = r.maxDelay;
        recommended += next;
      } else recommended = next;
      if (recommended < r.interval) possible++;
    }
    if (possible < r.attempts) valid = false;
  } else {
    const slots = [r.delay, r.delay];
    let ceiling = false;
    for (let i = 2; i < r.attempts; i++) {
      let next: number;
      if (ceiling) next = (slots[i - 1] ?? 0) + r.maxDelay;
      else {
        next = (slots[i - 1] ?? 0) + (slots[i - 2] ?? 0);
        if (next > r.maxDelay) {
          next = r.maxDelay;
          ceiling = true;
        }
      }
      slots.push(next);
    }
    recommended = slots[slots.length - 1] ?? 0;
    if (r.interval < recommended) {
      valid = false;
      const idx = slots.findIndex((s) => s > r.interval);
      possible = idx < 0 ? 0 : idx;
    }
  }
  return [valid, Math.max(0, possible), recommended];
}

function validateReschedule(r: Obj, p: string, add: Add): void {
  const attempts = num(r.Attempts), unlimited = bool(r.Unlimited);
  if (!(attempts > 0 || unlimited)) return; // ReschedulePolicy.Enabled() is false: nothing to check
  const interval = num(r.Interval), delay = num(r.Delay), fn = str(r.DelayFunction), maxDelay = num(r.MaxDelay);
  if (attempts > 0) {
    if (interval <= 0) add(`${p}/Interval`, 'Interval must be a non zero value if Attempts > 0');
    if (unlimited) {
      add(`${p}/Unlimited`, `Reschedule Policy with Attempts = ${attempts}, Interval = ${goDuration(interval)}, and Unlimited = true is ambiguous`);
      add(`${p}/Unlimited`, 'If Attempts >0, Unlimited cannot also be set to true');
    }
  }
  let pre = true;
  if (delay < 5 * SECOND) {
    add(`${p}/Delay`, `Delay cannot be less than 5s (got ${goDuration(delay)})`);
    pre = false;
  }
  if (!['constant', 'exponential', 'fibonacci'].includes(fn)) {
    add(`${p}/DelayFunction`, `Invalid delay function "${fn}", must be one of ["constant" "exponential" "fibonacci"]`);
    pre = false;
  }
  if (fn !== 'constant') {
    if (maxDelay < 5 * SECOND) {
      add(`${p}/MaxDelay`, `Max Delay cannot be less than 5s (got ${goDuration(delay)})`);
      pre = false;
    }
    if (maxDelay < delay) {
      add(`${p}/MaxDelay`, `Max Delay cannot be less than Delay ${goDuration(delay)} (got ${goDuration(maxDelay)})`);
      pre = false;
    }
  }
  if (!unlimited) {
    if (interval < 15 * SECOND) add(`${p}/Interval`, `Interval cannot be less than 15s (got ${goDuration(interval)})`);
    if (!pre) return;
    const [ok, possible, recommended] = viableAttempts({ attempts, interval, delay, fn, maxDelay });
    if (!ok) {
      add(`${p}/Interval`, fn === 'constant'
        ? `Nomad can only make ${possible} attempts in ${goDuration(interval)} with initial delay ${goDuration(delay)} and delay function "${fn}"`
        : `Nomad can only make ${possible} attempts in ${goDuration(interval)} with initial delay ${goDuration(delay)}, delay function "${fn}", and delay ceiling ${goDuration(maxDelay)}`);
      add(`${p}/Interval`, `Set the interval to at least ${goDuration(Math.round(recommended / SECOND) * SECOND)} to accommodate ${attempts} attempts`);
    }
  }
}

function validatePeriodic(pc: Obj, p: string, add: Add): void {
  if (pc.Enabled === false) return;
  const specs: string[] = [];
  if (typeof pc.Spec === 'string' && pc.Spec !== '') specs.push(pc.Spec);
  if (Array.isArray(pc.Specs)) for (const s of pc.Specs) if (typeof s === 'string') specs.push(s);
  if (specs.length === 0) add(`${p}/Spec`, 'Must specify a spec');
  if (typeof pc.Spec === 'string' && pc.Spec !== '' && Array.isArray(pc.Specs) && pc.Specs.length > 0) add(`${p}/Specs`, 'Only cron or crons may be used');
  const tz = str(pc.TimeZone);
  if (!validTimeZone(tz)) add(`${p}/TimeZone`, `Invalid time zone "${tz}": unknown time zone ${tz}`);
  const type = str(pc.SpecType, 'cron');
  if (type === 'cron') {
    const located: [string, string][] = [];
    if (typeof pc.Spec === 'string' && pc.Spec !== '') located.push([`${p}/Spec`, pc.Spec]);
    if (Array.isArray(pc.Specs)) pc.Specs.forEach((s, i) => { if (typeof s === 'string') located.push([`${p}/Specs/${i}`, s]); });
    for (const [at, s] of located) {
      try {
        parseCron(s);
      } catch (e) {
        add(at, `Invalid cron spec "${s}": ${(e as Error).message}`);
      }
    }
  } else if (type !== '_internal_test') add(`${p}/SpecType`, `Unknown periodic specification type "${type}"`);
}

function validateCheck(c: Obj, p: string, add: Add, provider: string): void {
  const type = str(c.Type).toLowerCase();
  const allowed = provider === 'nomad' ? ['http', 'tcp'] : ['http', 'tcp', 'script', 'grpc'];
  if (!allowed.includes(type)) {
    add(`${p}/Type`, provider === 'nomad'
      ? `invalid type ("${str(c.Type)}"), must be one of "http", "tcp" for Nomad service checks`
      : `invalid type ("${str(c.Type)}"), must be one of "http", "tcp", "script", "grpc" type`);
    return;
  }
  if (type === 'http') {
    const path = str(c.Path);
    if (path === '') add(`${p}/Path`, 'http type must have http path');
    else if (/^[a-z][a-z0-9+.-]*:/i.test(path)) add(`${p}/Path`, 'http type must have a relative http path');
    const method = str(c.Method);
    if (method !== '' && !['GET', 'HEAD', 'POST', 'PUT', 'DELETE', 'OPTIONS', 'PATCH', 'CONNECT', 'TRACE'].includes(method.toUpperCase())) add(`${p}/Method`, `method type "${method}" not supported in Nomad http check`);
  }
  if (type === 'script' && str(c.Command) === '') add(`${p}/Command`, 'script type must have a valid script path');
  const interval = num(c.Interval), timeout = num(c.Timeout);
  if (interval === 0) add(`${p}/Interval`, 'missing required value interval. Interval cannot be less than 1s');
  else if (interval < SECOND) add(`${p}/Interval`, `interval (${goDuration(interval)}) cannot be lower than 1s`);
  if (timeout === 0) add(`${p}/Timeout`, 'missing required value timeout. Timeout cannot be less than 1s');
  else if (timeout < SECOND) add(`${p}/Timeout`, `timeout (${goDuration(timeout)}) is lower than required minimum timeout 1s`);
  const initial = str(c.InitialStatus);
  if (!['', 'passing', 'warning', 'critical'].includes(initial)) add(`${p}/InitialStatus`, `invalid initial check state (${initial}), must be one of "passing", "warning", "critical" or empty`);
  const am = str(c.AddressMode);
  if (am === 'auto') add(`${p}/AddressMode`, `invalid address_mode "auto" - auto only valid for services`);
  else if (!['', 'host', 'driver', 'alloc'].includes(am)) add(`${p}/AddressMode`, `invalid address_mode "${am}"`);
  const ou = str(c.OnUpdate);
  if (!['', 'require_healthy', 'ignore_warnings', 'ignore'].includes(ou)) add(`${p}/OnUpdate`, `on_update must be "require_healthy", "ignore_warnings" or "ignore", got "${ou}"`);
  if (num(c.SuccessBeforePassing) < 0) add(`${p}/SuccessBeforePassing`, 'success_before_passing must be non-negative');
  if (num(c.FailuresBeforeCritical) < 0) add(`${p}/FailuresBeforeCritical`, 'failures_before_critical must be non-negative');
  if (isObj(c.CheckRestart)) {
    if (num(c.CheckRestart.Limit) < 0) add(`${p}/CheckRestart/Limit`, `limit must be greater than or equal to 0 but found ${num(c.CheckRestart.Limit)}`);
    if (num(c.CheckRestart.Grace) < 0) add(`${p}/CheckRestart/Grace`, `grace period must be greater than or equal to 0 but found ${num(c.CheckRestart.Grace)}`);
  }
}

const requiresPort = (c: Obj): boolean => ['http', 'tcp', 'grpc'].includes(str(c.Type).toLowerCase());

/**
 * validateServices ports `validateServices` (task level) and `TaskGroup.validateServices` (group level): names,
 * duplicates, checks, and that every port label a service or check uses names a port of the network in scope.
 */
function validateServices(services: Obj[], p: string, add: Add, portLabels: Set<string>, scope: 'group' | 'task', taskNames: Set<string>): void {
  const servicePorts = new Map<string, Set<string>>();
  const addPort = (label: string, svc: string, path: string): void => {
    if (!servicePorts.has(label)) servicePorts.set(label, new Set());
    servicePorts.get(label)?.add(`${svc}\u0000${path}`);
  };
  services.forEach((s, i) => {
    const sp = `${p}/${i}`;
    const name = str(s.Name), portLabel = str(s.PortLabel), provider = str(s.Provider, 'consul');
    if (!validateServiceName(name)) add(`${sp}/Name`, `service name must be valid per RFC 1123 and can contain only alphanumeric characters or dashes: "${name}"`);
    if (!['consul', 'nomad'].includes(provider)) add(`${sp}/Provider`, `Service provider must be one of "consul", "nomad"; not "${provider}"`);
    const am = str(s.AddressMode);
    if (!['', 'auto', 'host', 'driver', 'alloc'].includes(am)) add(`${sp}/AddressMode`, `Service address_mode must be "alloc", "auto", "driver", or "host"; not "${am}"`);
    const ou = str(s.OnUpdate);
    if (!['', 'require_healthy', 'ignore_warnings', 'ignore'].includes(ou)) add(`${sp}/OnUpdate`, `Service on_update must be "require_healthy", "ignore_warnings" or "ignore"; not "${ou}"`);
    if (provider === 'nomad' && isObj(s.Connect)) add(`${sp}/Connect`, 'Service with provider nomad cannot include Connect blocks');
    if (scope === 'group' && str(s.TaskName) !== '' && !taskNames.has(str(s.TaskName))) add(`${sp}/TaskName`, `Service ${name} references unknown task ${str(s.TaskName)}`);
    if (portLabel !== '' && !(am === 'driver' && /^\d+$/.test(portLabel))) addPort(portLabel, name, `${sp}/PortLabel`);
    const checkNames = new Set<string>();
    arr(s.Checks).forEach((c, ci) => {
      const cp = `${sp}/Checks/${ci}`;
      const cname = str(c.Name);
      if (checkNames.has(cname)) add(`${cp}/Name`, `check "${cname}" is duplicate`);
      checkNames.add(cname);
      if (portLabel === '' && str(c.PortLabel) === '' && requiresPort(c)) {
        add(`${cp}/PortLabel`, `check ${cname} invalid: check requires a port but neither check nor service "${name}" have a port`);
        return;
      }
      validateCheck(c, cp, (path, m) => add(path, `check ${cname} invalid: ${m}`), provider);
      if (!requiresPort(c)) return;
      const eff = str(c.PortLabel) || portLabel;
      if (/^\d+$/.test(eff)) {
        if (str(c.AddressMode) === 'driver') {
          if (Number(eff) <= 0) add(`${cp}/PortLabel`, `check "${cname}" has invalid numeric port ${eff}`);
        } else add(`${cp}/PortLabel`, `check "${cname}" cannot use a numeric port ${eff} without setting address_mode="driver"`);
        return;
      }
      addPort(eff, name, str(c.PortLabel) ? `${cp}/PortLabel` : `${sp}/PortLabel`);
    });
  });
  for (const label of [...servicePorts.keys()].sort()) {
    if (portLabels.has(label)) continue;
    const entries = [...(servicePorts.get(label) ?? [])];
    const names = [...new Set(entries.map((e) => e.split('\u0000')[0]))].sort();
    const path = entries[0]?.split('\u0000')[1] ?? p;
    add(path, `port label "${label}" referenced by services ${names.join(', ')} does not exist`);
  }
}

function networkPortLabels(networks: Obj[]): Set<string> {
  const labels = new Set<string>();
  for (const n of networks) for (const port of [...arr(n.ReservedPorts), ...arr(n.DynamicPorts)]) if (typeof port.Label === 'string') labels.add(port.Label);
  return labels;
}

/**
 * validateGroupNetworks ports `TaskGroup.validateNetworks`: unique port labels across the group network and task
 * networks, static ports unique per host network and ≤ 65535, `To` within [-1, 65535], hostnames valid DNS names.
 */
function validateGroupNetworks(tg: Obj, p: string, addRaw: Add): void {
  const add: Add = (path, m) => addRaw(path, `Task group network validation failed: ${m}`);
  const labels = new Map<string, string>();
  const staticPorts = new Map<string, Map<number, string>>();
  const checkPort = (port: Obj, pp: string, owner: string, isTask: boolean): void => {
    const label = str(port.Label);
    const other = labels.get(label);
    if (other !== undefined) add(`${pp}/Label`, `Port label ${label} already in use by ${other}`);
    else if (!isTask) labels.set(label, 'taskgroup network');
    const value = num(port.Value);
    if (value !== 0) {
      const hn = str(port.HostNetwork) || 'default';
      const ports = staticPorts.get(hn) ?? new Map<number, string>();
      const taken = ports.get(value);
      if (taken !== undefined) add(`${pp}/Value`, `Static port ${value} already reserved by ${taken}`);
      else if (value > 65535) add(`${pp}/Value`, `Port ${label} (${value}) cannot be greater than 65535`);
      else {
        ports.set(value, `${owner}:${label}`);
        staticPorts.set(hn, ports);
      }
    }
    if (!isTask) {
      const to = num(port.To);
      if (to < -1) add(`${pp}/To`, `Port "${label}" cannot be mapped to negative value ${to}`);
      else if (to > 65535) add(`${pp}/To`, `Port "${label}" cannot be mapped to a port (${to}) greater than 65535`);
    }
  };
  arr(tg.Networks).forEach((n, ni) => {
    const np = `${p}/Networks/${ni}`;
    arr(n.ReservedPorts).forEach((port, pi) => checkPort(port, `${np}/ReservedPorts/${pi}`, 'taskgroup network', false));
    arr(n.DynamicPorts).forEach((port, pi) => checkPort(port, `${np}/DynamicPorts/${pi}`, 'taskgroup network', false));
    const hostname = str(n.Hostname);
    if (hostname !== '' && !hostname.includes('${') && !/^(?=.{1,253}\.?$)([a-zA-Z0-9_]([a-zA-Z0-9_-]{0,61}[a-zA-Z0-9_])?)(\.[a-zA-Z0-9_]([a-zA-Z0-9_-]{0,61}[a-zA-Z0-9_])?)*\.?$/.test(hostname)) add(`${np}/Hostname`, 'Hostname is not a valid DNS name');
  });
  arr(tg.Tasks).forEach((t, ti) => {
    if (!isObj(t.Resources)) return;
    arr(t.Resources.Networks).forEach((n, ni) => {
      const np = `${p}/Tasks/${ti}/Resources/Networks/${ni}`;
      arr(n.ReservedPorts).forEach((port, pi) => checkPort(port, `${np}/ReservedPorts/${pi}`, str(t.Name), true));
      arr(n.DynamicPorts).forEach((port, pi) => checkPort(port, `${np}/DynamicPorts/${pi}`, str(t.Name), true));
    });
  });
}

/**
 * validateGroupServiceSet ports the rest of `TaskGroup.validateServices` and
 * `validateScriptChecksInGroupServices`: services unique by (task, name, port), one provider per group, task
 * services and checks naming only their own task, group checks naming existing tasks, no driver address mode on
 * group services, and group script checks naming a task.
 */
function validateGroupServiceSet(tg: Obj, p: string, add: Add): void {
  const seen = new Set<string>();
  const dups: string[] = [];
  const providers = new Set<string>();
  const taskNames = new Set(arr(tg.Tasks).map((t) => str(t.Name)));
  const track = (task: string, svc: Obj): void => {
    const id = `${task}->${str(svc.Name)}${str(svc.PortLabel) ? `:${str(svc.PortLabel)}` : ''}`;
    if (seen.has(id)) dups.push(id);
    seen.add(id);
    providers.add(str(svc.Provider, 'consul'));
  };
  const sv: Add = (path, m) => add(path, `Task group service validation failed: ${m}`);
  arr(tg.Tasks).forEach((t, ti) => {
    arr(t.Services).forEach((svc, si) => {
      const sp = `${p}/Tasks/${ti}/Services/${si}`;
      if (str(svc.TaskName) !== '' && svc.TaskName !== t.Name) sv(`${sp}/TaskName`, `Service ${str(svc.Name)} is invalid: may only specify task the service belongs to, got "${str(svc.TaskName)}"`);
      arr(svc.Checks).forEach((c, ci) => {
        if (str(c.TaskName) !== '' && c.TaskName !== t.Name) sv(`${sp}/Checks/${ci}/TaskName`, `Check ${str(c.Name)} is invalid: may only specify task the check belongs to, got "${str(c.TaskName)}"`);
      });
      track(str(t.Name), svc);
    });
  });
  arr(tg.Services).forEach((svc, si) => {
    const sp = `${p}/Services/${si}`;
    track('group', svc);
    if (str(svc.AddressMode) === 'driver') sv(`${sp}/AddressMode`, `service "${str(svc.Name)}" cannot use address_mode="driver", only services defined in a "task" block can use this mode`);
    arr(svc.Checks).forEach((c, ci) => {
      if (str(c.TaskName) === '') return;
      if (str(c.AddressMode) === 'driver') sv(`${sp}/Checks/${ci}/AddressMode`, `Check "${str(svc.Name)}" invalid: cannot use address_mode="driver", only checks defined in a "task" service block can use this mode`);
      if (!taskNames.has(str(c.TaskName))) sv(`${sp}/Checks/${ci}/TaskName`, `Check ${str(c.Name)} invalid: refers to non-existent task ${str(c.TaskName)}`);
    });
    if (str(svc.TaskName) === '') {
      arr(svc.Checks).forEach((c, ci) => {
        if (str(c.Type) === 'script' && str(c.TaskName) === '') add(`${sp}/Checks/${ci}/TaskName`, `Task group service check validation failed: Service [${str(tg.Name)}]->${str(svc.Name)} or Check ${str(c.Name)} must specify task parameter`);
      });
    }
  });
  if (dups.length > 0) sv(`${p}/Services`, `Services are not unique: ${dups.join(', ')}`);
  if (providers.size > 1) sv(`${p}/Services`, 'Multiple service providers used: task group services must use the same provider');
}

function validateResources(r: Obj, p: string, add: Add): void {
  const cpu = num(r.CPU), cores = num(r.Cores), mem = num(r.MemoryMB), memMax = num(r.MemoryMaxMB);
  if (cores > 0 && cpu > 0) add(`${p}/Cores`, "Task can only ask for 'cpu' or 'cores' resource, not both.");
  if (cores < 0) add(`${p}/Cores`, `Cores must be a positive value: ${cores}`);
  if (cpu < 1 && cores === 0) add(`${p}/CPU`, `minimum CPU value is 1; got ${cpu}`);
  if (mem < 10) add(`${p}/MemoryMB`, `minimum MemoryMB value is 10; got ${mem}`);
  if (memMax !== 0 && memMax < mem) add(`${p}/MemoryMaxMB`, `MemoryMaxMB value (${memMax}) should be larger than MemoryMB value (${mem})`);
  if (num(r.DiskMB) > 0) add(`${p}/DiskMB`, "Task can't ask for disk resources, they have to be specified at the task group level.");
  const secrets = num(r.SecretsMB);
  if (secrets < 0) add(`${p}/SecretsMB`, `SecretsMB value (${secrets}) cannot be negative`);
  if (secrets > mem) add(`${p}/SecretsMB`, `SecretsMB value (${secrets}) cannot be larger than MemoryMB value (${mem})`);
}

function validateTemplate(t: Obj, p: string, add: Add): void {
  if (str(t.SourcePath) === '' && str(t.EmbeddedTmpl) === '') add(`${p}/EmbeddedTmpl`, 'Must specify a source path or have an embedded template');
  const dest = str(t.DestPath);
  if (dest === '') add(`${p}/DestPath`, 'Must specify a destination for the template');
  else if (pathEscapesAllocDir('task', dest)) add(`${p}/DestPath`, 'destination escapes allocation directory');
  const cm = str(t.ChangeMode);
  if (cm === 'signal') {
    if (str(t.ChangeSignal) === '') add(`${p}/ChangeSignal`, 'Must specify signal value when change mode is signal');
    if (bool(t.Envvars)) add(`${p}/Envvars`, 'cannot use signals with env var templates');
  } else if (cm === 'script') {
    const cs = isObj(t.ChangeScript) ? t.ChangeScript : undefined;
    if (!cs) add(`${p}/ChangeScript`, 'must specify change script configuration value when change mode is script');
    else if (str(cs.Command) === '') add(`${p}/ChangeScript/Command`, 'must specify script path value when change mode is script');
  } else if (cm !== 'noop' && cm !== 'restart') add(`${p}/ChangeMode`, 'Invalid change mode. Must be one of the following: noop, signal, script, restart');
  if (num(t.Splay) < 0) add(`${p}/Splay`, 'Must specify positive splay value');
  const perms = str(t.Perms);
  if (perms !== '' && !/^[0-7]{1,4}$/.test(perms)) add(`${p}/Perms`, `Failed to parse "${perms}" as octal`);
  if (num(t.VaultGrace) < 0) add(`${p}/VaultGrace`, `Vault grace must be greater than zero: ${goDuration(num(t.VaultGrace))} < 0`);
  if (isObj(t.Wait)) {
    const min = t.Wait.Min, max = t.Wait.Max;
    if (typeof min === 'number' && min < 0) add(`${p}/Wait/Min`, 'wait min must be zero or greater');
    if (typeof max === 'number' && max < 0) add(`${p}/Wait/Max`, 'wait max must be zero or greater');
    if (typeof min === 'number' && typeof max === 'number' && min > max) add(`${p}/Wait`, 'wait min must be less than max');
  }
}

function validateVault(v: Obj, p: string, add: Add): void {
  const cm = str(v.ChangeMode, 'restart');
  if (cm === 'signal') {
    if (str(v.ChangeSignal) === '') add(`${p}/ChangeSignal`, 'Signal must be specified when using change mode "signal"');
  } else if (cm !== 'noop' && cm !== 'restart') add(`${p}/ChangeMode`, `Unknown change mode "${cm}"`);
  if (Array.isArray(v.Policies) && v.Policies.includes('root')) add(`${p}/Policies`, 'Can not specify "root" policy');
}

function validateVolumeRequest(name: string, v: Obj, p: string, add: Add, jobType: string, count: number, canaries: number): void {
  const type = str(v.Type);
  if (type !== 'host' && type !== 'csi') {
    add(`${p}/Type`, `Volume ${name} has unrecognised type ${type}`);
    return;
  }
  const e: Add = (path, m) => add(path, `Task group volume validation for ${name} failed: ${m}`);
  if (str(v.Source) === '') e(`${p}/Source`, 'volume has an empty source');
  if (str(v.Name) !== '' && str(v.Name) !== name) e(`${p}/Name`, `volume name "${str(v.Name)}" does not match its key "${name}"`);
  if (bool(v.PerAlloc)) {
    if (jobType === 'system' || jobType === 'sysbatch') e(`${p}/PerAlloc`, 'volume cannot be per_alloc for system or sysbatch jobs');
    if (canaries > 0) e(`${p}/PerAlloc`, 'volume cannot be per_alloc when canaries are in use');
  }
  const am = str(v.AccessMode), at = str(v.AttachmentMode);
  if (type === 'host') {
    if (v.MountOptions !== undefined && v.MountOptions !== null) e(`${p}/MountOptions`, 'host volumes cannot have mount options');
    if (!HOST_ACCESS_MODES.has(am)) e(`${p}/AccessMode`, `host volumes cannot have an access mode of "${am}"`);
    if (!ATTACHMENT_MODES.has(at)) e(`${p}/AttachmentMode`, `host volumes cannot have an attachment mode of "${at}"`);
    if ((am === 'single-node-reader-only' || am === 'multi-node-reader-only') && !bool(v.ReadOnly)) e(`${p}/ReadOnly`, `${am} volumes must be read-only`);
    if (bool(v.Sticky) && bool(v.PerAlloc)) e(`${p}/Sticky`, 'volume cannot be sticky and per_alloc');
  } else {
    if (bool(v.Sticky)) e(`${p}/Sticky`, 'CSI volumes cannot be sticky');
    if (at === '') e(`${p}/AttachmentMode`, 'CSI volumes must have an attachment mode');
    if (at === 'block-device' && v.MountOptions) e(`${p}/MountOptions`, 'block devices cannot have mount options');
    if (am === '') e(`${p}/AccessMode`, 'CSI volumes must have an access mode');
    if (am === 'single-node-reader-only') {
      if (!bool(v.ReadOnly)) e(`${p}/ReadOnly`, `${am} volumes must be read-only`);
      if (count > 1 && !bool(v.PerAlloc)) e(`${p}/AccessMode`, `volume with ${am} access mode allows only one reader`);
    }
    if (am === 'single-node-writer' && count > 1 && !bool(v.PerAlloc)) e(`${p}/AccessMode`, `volume with ${am} access mode allows only one reader or writer`);
  }
}

function validateTask(t: Obj, p: string, add: Add, ctx: { jobType: string; tg: Obj; volumes: Set<string>; groupPortLabels: Set<string> }): void {
  const name = str(t.Name);
  if (name === '') add(`${p}/Name`, 'Missing task name');
  if (/[/\\]/.test(name)) add(`${p}/Name`, 'Task name cannot include slashes');
  if (name.includes('\u0000')) add(`${p}/Name`, 'Task name cannot include null characters');
  if (str(t.Driver) === '') add(`${p}/Driver`, 'Missing task driver');
  if (num(t.KillTimeout) < 0) add(`${p}/KillTimeout`, 'KillTimeout must be a positive value');
  if (typeof t.ShutdownDelay === 'number' && t.ShutdownDelay < 0) add(`${p}/ShutdownDelay`, 'ShutdownDelay must be a positive value');
  if (!isObj(t.Resources)) add(`${p}/Resources`, 'Missing task resources');
  else validateResources(t.Resources, `${p}/Resources`, add);
  const lc = isObj(t.LogConfig) ? t.LogConfig : undefined;
  if (!lc) add(`${p}/LogConfig`, 'Missing Log Config');
  else {
    if (num(lc.MaxFiles) < 1) add(`${p}/LogConfig/MaxFiles`, `minimum number of files is 1; got ${num(lc.MaxFiles)}`);
    if (num(lc.MaxFileSizeMB) < 1) add(`${p}/LogConfig/MaxFileSizeMB`, `minimum file size is 1MB; got ${num(lc.MaxFileSizeMB)}`);
    const disk = isObj(ctx.tg.EphemeralDisk) ? num(ctx.tg.EphemeralDisk.SizeMB) : undefined;
    const usage = num(lc.MaxFiles) * num(lc.MaxFileSizeMB);
    if (disk !== undefined && !bool(lc.Disabled) && disk <= usage) add(`${p}/LogConfig`, `log storage (${usage} MB) must be less than requested disk capacity (${disk} MB)`);
  }
  validateConstraints(arr(t.Constraints), `${p}/Constraints`, add);
  if (ctx.jobType === 'system') {
    if (Array.isArray(t.Affinities)) add(`${p}/Affinities`, 'System jobs may not have an affinity block');
  } else validateAffinities(arr(t.Affinities), `${p}/Affinities`, add);
  const update = isObj(ctx.tg.Update) ? ctx.tg.Update : undefined;
  if (ctx.jobType === 'service' && update && num(update.ProgressDeadline) > 0 && num(t.KillTimeout) > num(update.ProgressDeadline)) {
    add(`${p}/KillTimeout`, `KillTimout (${goDuration(num(t.KillTimeout))}) longer than the group's ProgressDeadline (${goDuration(num(update.ProgressDeadline))})`);
  }
  arr(t.Constraints).forEach((c, i) => {
    const op = str(c.Operand);
    if (op === 'distinct_hosts' || op === 'distinct_property') add(`${p}/Constraints/${i}/Operand`, `Constraint ${i + 1} has disallowed Operand at task level: ${op}`);
  });
  const taskLabels = networkPortLabels(isObj(t.Resources) ? arr(t.Resources.Networks) : []);
  const labels = new Set([...ctx.groupPortLabels, ...taskLabels]);
  validateServices(arr(t.Services), `${p}/Services`, add, labels, 'task', new Set());
  arr(t.Artifacts).forEach((a, i) => {
    const ap = `${p}/Artifacts/${i}`;
    if (str(a.GetterSource) === '') add(`${ap}/GetterSource`, `Artifact ${i + 1} validation failed: source must be specified`);
    const mode = str(a.GetterMode, 'any');
    if (!['any', 'file', 'dir'].includes(mode)) add(`${ap}/GetterMode`, `Artifact ${i + 1} validation failed: invalid artifact mode "${mode}"; must be one of: any, file, dir`);
    if (pathEscapesAllocDir('task', str(a.RelativeDest))) add(`${ap}/RelativeDest`, `Artifact ${i + 1} validation failed: destination escapes allocation directory`);
    const opts = isObj(a.GetterOptions) ? a.GetterOptions : {};
    const checksum = opts.checksum;
    if (typeof checksum === 'string' && checksum !== '') {
      const m = /^(md5|sha1|sha256|sha512):([0-9a-fA-F]+)$/.exec(checksum);
      const lens: Record<string, number> = { md5: 32, sha1: 40, sha256: 64, sha512: 128 };
      if (!m) add(`${ap}/GetterOptions/checksum`, `Artifact ${i + 1} validation failed: checksum must be given as 'type:value'; unsupported or malformed checksum "${checksum}"`);
      else if (m[2]?.length !== lens[m[1] ?? '']) add(`${ap}/GetterOptions/checksum`, `Artifact ${i + 1} validation failed: invalid ${m[1]} checksum: ${m[2]}`);
    }
  });
  if (isObj(t.Vault)) validateVault(t.Vault, `${p}/Vault`, (path, m) => add(path, `Vault validation failed: ${m}`));
  const dests = new Map<string, number>();
  arr(t.Templates).forEach((tpl, i) => {
    validateTemplate(tpl, `${p}/Templates/${i}`, (path, m) => add(path, `Template ${i + 1} validation failed: ${m}`));
    const d = str(tpl.DestPath);
    const other = dests.get(d);
    if (other !== undefined) add(`${p}/Templates/${i}/DestPath`, `Template ${i + 1} has same destination as ${other}`);
    else dests.set(d, i + 1);
  });
  if (isObj(t.Lifecycle)) {
    const hook = str(t.Lifecycle.Hook);
    if (hook === '') add(`${p}/Lifecycle/Hook`, 'Lifecycle validation failed: no lifecycle hook provided');
    else if (!['prestart', 'poststart', 'poststop'].includes(hook)) add(`${p}/Lifecycle/Hook`, `Lifecycle validation failed: invalid hook "${hook}"`);
  }
  if (isObj(t.DispatchPayload) && pathEscapesAllocDir('task/local/', str(t.DispatchPayload.File))) add(`${p}/DispatchPayload/File`, 'Dispatch Payload validation failed: destination escapes allocation directory');
  arr(t.VolumeMounts).forEach((vm, i) => {
    const vp = `${p}/VolumeMounts/${i}`;
    const vol = str(vm.Volume);
    if (vol === '') add(`${vp}/Volume`, `Volume Mount (${i}) references an empty volume`);
    else if (!ctx.volumes.has(vol)) add(`${vp}/Volume`, `Volume Mount (${i}) references undefined volume ${vol}`);
    const pm = str(vm.PropagationMode);
    if (!['', 'private', 'host-to-task', 'bidirectional'].includes(pm)) add(`${vp}/PropagationMode`, `Volume Mount (${i}) has an invalid propagation mode: "${pm}"`);
    const se = str(vm.SELinuxLabel);
    if (!['', 'z', 'Z'].includes(se)) add(`${vp}/SELinuxLabel`, `Volume Mount (${i}) is invalid: "volume mount has an invalid SELinux label"`);
  });
  if (isObj(t.RestartPolicy)) validateRestart(t.RestartPolicy, `${p}/RestartPolicy`, add);
  if (t.Leader === true && isObj(t.Lifecycle)) add(`${p}/Leader`, 'Task cannot be both a leader and have a lifecycle');
  if (ctx.jobType === 'system' && isObj(t.Lifecycle) && t.Lifecycle.Sidecar === true && str(t.Lifecycle.Hook) === 'poststop') add(`${p}/Lifecycle`, 'Lifecycle validation failed: poststop tasks cannot be sidecars');
}

function validateGroup(tg: Obj, p: string, add: Add, job: Obj): void {
  const jobType = str(job.Type);
  const name = str(tg.Name);
  const count = num(tg.Count);
  if (name === '') add(`${p}/Name`, 'Missing task group name');
  else if (/[/\\]/.test(name) || name.includes('\u0000')) add(`${p}/Name`, 'Task group name cannot include slashes or null characters');
  if (count < 0) add(`${p}/Count`, "Task group count can't be negative");
  const tasks = arr(tg.Tasks);
  if (tasks.length === 0) add(`${p}/Tasks`, 'Missing tasks for task group');
  if (typeof tg.ShutdownDelay === 'number' && tg.ShutdownDelay < 0) add(`${p}/ShutdownDelay`, 'ShutdownDelay must be a positive value');
  validateConstraints(arr(tg.Constraints), `${p}/Constraints`, add);
  if (jobType === 'system') {
    if (Array.isArray(tg.Affinities)) add(`${p}/Affinities`, 'System jobs may not have an affinity block');
    if (Array.isArray(tg.Spreads)) add(`${p}/Spreads`, 'System jobs may not have a spread block');
  } else {
    validateAffinities(arr(tg.Affinities), `${p}/Affinities`, add);
    validateSpreads(arr(tg.Spreads), `${p}/Spreads`, add);
  }
  if (typeof tg.MaxClientDisconnect === 'number' && tg.MaxClientDisconnect < 0) add(`${p}/MaxClientDisconnect`, 'max_client_disconnect cannot be negative');
  if (isObj(tg.RestartPolicy)) validateRestart(tg.RestartPolicy, `${p}/RestartPolicy`, add);
  else add(`${p}/RestartPolicy`, `Task Group ${name} should have a restart policy`);
  if (jobType === 'system' || jobType === 'sysbatch') {
    if (isObj(tg.ReschedulePolicy)) add(`${p}/ReschedulePolicy`, 'System jobs should not have a reschedule policy');
  } else if (isObj(tg.ReschedulePolicy)) validateReschedule(tg.ReschedulePolicy, `${p}/ReschedulePolicy`, add);
  else add(`${p}/ReschedulePolicy`, `Task Group ${name} should have a reschedule policy`);
  if (isObj(tg.EphemeralDisk)) {
    const size = num(tg.EphemeralDisk.SizeMB);
    if (size < 10) add(`${p}/EphemeralDisk/SizeMB`, `minimum DiskMB value is 10; got ${size}`);
  } else add(`${p}/EphemeralDisk`, `Task Group ${name} should have an ephemeral disk object`);
  const canaries = isObj(tg.Update) ? num(tg.Update.Canary) : 0;
  if (isObj(tg.Update)) {
    if (jobType !== 'service' && jobType !== 'system') add(`${p}/Update`, `Job type "${jobType}" does not allow update block`);
    validateUpdate(tg.Update, `${p}/Update`, add);
  }
  if (isObj(tg.Migrate)) {
    if (jobType !== 'service') add(`${p}/Migrate`, `Job type "${jobType}" does not allow migrate block`);
    else {
      const m = tg.Migrate;
      if (num(m.MaxParallel) < 0) add(`${p}/Migrate/MaxParallel`, `MaxParallel must be >= 0 but found ${num(m.MaxParallel)}`);
      const hc = str(m.HealthCheck);
      if (hc === '' && num(m.MaxParallel) > 0) add(`${p}/Migrate/HealthCheck`, 'Missing HealthCheck');
      else if (hc !== '' && hc !== 'checks' && hc !== 'task_states') add(`${p}/Migrate/HealthCheck`, `Invalid HealthCheck: "${hc}"`);
      if (num(m.MinHealthyTime) > num(m.HealthyDeadline)) add(`${p}/Migrate/MinHealthyTime`, 'MinHealthyTime must be less than HealthyDeadline');
    }
  }
  if (isObj(tg.Scaling)) {
    const sc: Add = (path, m) => add(path, `Task group scaling policy validation failed: Scaling policy invalid: ${m}`);
    const min = num(tg.Scaling.Min), max = typeof tg.Scaling.Max === 'number' ? tg.Scaling.Max : -1;
    if (max < 0) sc(`${p}/Scaling/Max`, 'maximum count must be specified and non-negative');
    else if (max < min) sc(`${p}/Scaling/Max`, 'maximum count must not be less than minimum count');
    if (min < 0) sc(`${p}/Scaling/Min`, 'minimum count must be specified and non-negative');
    if (max < count) sc(`${p}/Count`, 'task group count must not be greater than maximum count in scaling policy');
    if (count < min) sc(`${p}/Count`, 'task group count must not be less than minimum count in scaling policy');
  }
  const networks = arr(tg.Networks);
  validateGroupNetworks(tg, p, add);
  validateGroupServiceSet(tg, p, add);
  const groupLabels = networkPortLabels(networks);
  const seen = new Map<string, number>();
  let leaders = 0;
  tasks.forEach((t, i) => {
    const tn = str(t.Name);
    if (tn === '') add(`${p}/Tasks/${i}/Name`, `Task ${i + 1} missing name`);
    else if (seen.has(tn)) add(`${p}/Tasks/${i}/Name`, `Task ${i + 1} redefines '${tn}' from task ${(seen.get(tn) ?? 0) + 1}`);
    else seen.set(tn, i);
    if (t.Leader === true) leaders++;
  });
  if (leaders > 1) add(`${p}/Tasks`, 'Only one task may be marked as leader');
  const volumes = isObj(tg.Volumes) ? tg.Volumes : {};
  for (const [vname, v] of Object.entries(volumes)) {
    if (!isObj(v)) continue;
    validateVolumeRequest(vname, v, `${p}/Volumes/${esc(vname)}`, add, jobType, count, canaries);
  }
  validateServices(arr(tg.Services), `${p}/Services`, (path, m) => add(path, `Task group service validation failed: ${m}`), groupLabels, 'group', new Set(seen.keys()));
  tasks.forEach((t, i) => {
    validateTask(t, `${p}/Tasks/${i}`, (path, m) => add(path, `Task ${str(t.Name)} validation failed: ${m}`), {
      jobType, tg, volumes: new Set(Object.keys(volumes)), groupPortLabels: groupLabels,
    });
  });
}

/** validateJobRules runs Nomad's `Job.Validate` plus the register endpoint's validators over a canonicalized job object. */
export function validateJobRules(job: Obj, root = '/Job'): JobValidationError[] {
  const out: JobValidationError[] = [];
  const add: Add = (path, message) => out.push({ path, message });
  const jobType = str(job.Type);
  const id = str(job.ID), name = str(job.Name);
  if (str(job.Region) === '' && !isObj(job.Multiregion)) add(`${root}/Region`, 'Missing job region');
  if (id === '') add(`${root}/ID`, 'Missing job ID');
  else if (id.includes(' ')) add(`${root}/ID`, 'Job ID contains a space');
  else if (id.includes('\u0000')) add(`${root}/ID`, 'Job ID contains a null character');
  if (name === '') add(`${root}/Name`, 'Missing job name');
  else if (name.includes('\u0000')) add(`${root}/Name`, 'Job Name contains a null character');
  if (str(job.Namespace) === '') add(`${root}/Namespace`, 'Job must be in a namespace');
  if (jobType === '') add(`${root}/Type`, 'Missing job type');
  else if (jobType === '_core') add(`${root}/Type`, 'job type cannot be core');
  else if (!JOB_TYPES.has(jobType)) add(`${root}/Type`, `Invalid job type: "${jobType}"`);
  const dcs = Array.isArray(job.Datacenters) ? job.Datacenters : [];
  if (dcs.length === 0 && !isObj(job.Multiregion)) add(`${root}/Datacenters`, 'Missing job datacenters');
  dcs.forEach((dc, i) => {
    if (dc === '') add(`${root}/Datacenters/${i}`, 'Job datacenter must be non-empty string');
  });
  const prio = num(job.Priority);
  if (prio < JOB_MIN_PRIORITY || prio > JOB_MAX_PRIORITY) add(`${root}/Priority`, `Job priority must be between [${JOB_MIN_PRIORITY}, ${JOB_MAX_PRIORITY}]`);
  const groups = arr(job.TaskGroups);
  if (groups.length === 0) add(`${root}/TaskGroups`, 'Missing job task groups');
  validateConstraints(arr(job.Constraints), `${root}/Constraints`, add);
  if (jobType === 'system') {
    if (Array.isArray(job.Affinities)) add(`${root}/Affinities`, 'System jobs may not have an affinity block');
    if (Array.isArray(job.Spreads)) add(`${root}/Spreads`, 'System jobs may not have a spread block');
  } else {
    validateAffinities(arr(job.Affinities), `${root}/Affinities`, add);
    validateSpreads(arr(job.Spreads), `${root}/Spreads`, add);
  }
  const seen = new Map<string, number>();
  groups.forEach((tg, i) => {
    const n = str(tg.Name);
    if (n === '') add(`${root}/TaskGroups/${i}/Name`, `Job task group ${i + 1} missing name`);
    else if (seen.has(n)) add(`${root}/TaskGroups/${i}/Name`, `Job task group ${i + 1} redefines '${n}' from group ${(seen.get(n) ?? 0) + 1}`);
    else seen.set(n, i);
    const sacd = tg.StopAfterClientDisconnect;
    if (typeof sacd === 'number' && sacd !== 0) {
      if (sacd > 0 && !(jobType === 'batch' || jobType === 'service')) add(`${root}/TaskGroups/${i}/StopAfterClientDisconnect`, 'stop_after_client_disconnect can only be set in batch and service jobs');
      else if (sacd < 0) add(`${root}/TaskGroups/${i}/StopAfterClientDisconnect`, 'stop_after_client_disconnect must be a positive value');
    }
    if (jobType === 'system' && num(tg.Count) > 1) add(`${root}/TaskGroups/${i}/Count`, `Job task group ${n} has count ${num(tg.Count)}. Count cannot exceed 1 with system scheduler`);
  });
  groups.forEach((tg, i) => {
    validateGroup(tg, `${root}/TaskGroups/${i}`, (path, m) => add(path, `Task group ${str(tg.Name)} validation failed: ${m}`), job);
  });
  if (isObj(job.Periodic) && job.Periodic.Enabled !== false) {
    if (jobType !== 'batch' && jobType !== 'sysbatch') add(`${root}/Periodic`, 'Periodic can only be used with "batch" or "sysbatch" scheduler');
    validatePeriodic(job.Periodic, `${root}/Periodic`, add);
  }
  if (isObj(job.ParameterizedJob)) {
    if (jobType !== 'batch' && jobType !== 'sysbatch') add(`${root}/ParameterizedJob`, 'Parameterized job can only be used with "batch" or "sysbatch" scheduler');
    const payload = str(job.ParameterizedJob.Payload, 'optional');
    if (!['optional', 'required', 'forbidden'].includes(payload)) add(`${root}/ParameterizedJob/Payload`, `Unknown payload requirement: "${payload}"`);
    const req = Array.isArray(job.ParameterizedJob.MetaRequired) ? job.ParameterizedJob.MetaRequired : [];
    const opt = Array.isArray(job.ParameterizedJob.MetaOptional) ? job.ParameterizedJob.MetaOptional : [];
    const both = req.filter((k) => opt.includes(k));
    if (both.length > 0) add(`${root}/ParameterizedJob`, `Required and optional meta keys should be disjoint. Following keys exist in both: [${both.join(' ')}]`);
  }
  if (typeof job.Payload === 'string' && job.Payload.length > 0) add(`${root}/Payload`, "job can't be submitted with a payload, only dispatched");
  return out;
}

/**
 * jobWarningsOf ports the warnings Nomad returns on register (`Job.Warnings`, `TaskGroup.Warnings`, the memory
 * oversubscription hook): update MaxParallel above a group count > 1, deprecated `mbits`, auto_promote on some
 * groups only, `memory_max` without memory oversubscription, and the deprecated `cron` (`Periodic.Spec`) instead of
 * `crons` (`Periodic.Specs`) that Nomad ≥ 1.6 reports on every registration using it.
 */
export function jobWarningsOf(job: Obj, opts: { memoryOversubscription?: boolean } = {}): string[] {
  const out: string[] = [];
  let hasAutoPromote = false;
  let allAutoPromote = true;
  for (const tg of arr(job.TaskGroups)) {
    const group: string[] = [];
    const count = num(tg.Count);
    if (isObj(tg.Update)) {
      if (count > 1 && num(tg.Update.MaxParallel) > count) group.push(`Update max parallel count is greater than task group count (${num(tg.Update.MaxParallel)} > ${count}). A destructive change would result in the simultaneous replacement of all allocations.`);
      hasAutoPromote ||= tg.Update.AutoPromote === true;
      allAutoPromote &&= num(tg.Update.Canary) === 0 || tg.Update.AutoPromote === true;
    }
    if (num(arr(tg.Networks)[0]?.MBits) > 0) group.push('mbits has been deprecated as of Nomad 0.12.0. Please remove mbits from the network block');
    if (group.length > 0) out.push(`Group "${str(tg.Name)}" has warnings: ${group.length} error${group.length === 1 ? '' : 's'} occurred:\n${group.map((g) => `\t* ${g}`).join('\n')}\n\n`);
    for (const t of arr(tg.Tasks)) {
      if (!opts.memoryOversubscription && isObj(t.Resources) && num(t.Resources.MemoryMaxMB) > 0) {
        out.push(`Memory oversubscription is not enabled; Task "${str(tg.Name)}.${str(t.Name)}" memory_max value will be ignored. Update the Scheduler Configuration to allow oversubscription.`);
      }
    }
  }
  if (hasAutoPromote && !allAutoPromote) out.push('auto_promote must be true for all groups to enable automatic promotion');
  if (isObj(job.Periodic) && str(job.Periodic.Spec) !== '') out.push('cron is deprecated and may be removed in a future release. Use crons instead');
  return out;
}

/** validateJobUpdateRules ports `validateJobUpdate` from nomad/job_endpoint.go over two canonicalized jobs. */
export function validateJobUpdateRules(old: Obj | undefined, next: Obj, root = '/Job'): JobValidationError[] {
  const out: JobValidationError[] = [];
  const isPeriodic = (j: Obj): boolean => isObj(j.Periodic);
  const isParam = (j: Obj): boolean => isObj(j.ParameterizedJob) && !bool(j.Dispatched);
  if (!old) {
    if (bool(next.Dispatched)) out.push({ path: `${root}/Dispatched`, message: "job can't be submitted with 'Dispatched' set" });
    return out;
  }
  if (old.Type !== next.Type) out.push({ path: `${root}/Type`, message: `cannot update job from type "${str(old.Type)}" to "${str(next.Type)}"` });
  if (isPeriodic(old) && !isPeriodic(next)) out.push({ path: `${root}/Periodic`, message: 'cannot update periodic job to being non-periodic' });
  if (isPeriodic(next) && !isPeriodic(old)) out.push({ path: `${root}/Periodic`, message: 'cannot update non-periodic job to being periodic' });
  if (isParam(old) && !isParam(next)) out.push({ path: `${root}/ParameterizedJob`, message: 'cannot update parameterized job to being non-parameterized' });
  if (isParam(next) && !isParam(old)) out.push({ path: `${root}/ParameterizedJob`, message: 'cannot update non-parameterized job to being parameterized' });
  if (bool(old.Dispatched) !== bool(next.Dispatched)) out.push({ path: `${root}/Dispatched`, message: "field 'Dispatched' is read-only" });
  return out;
}

/**
 * validateHostVolumeRules ports `HostVolume.Validate` (nomad/structs/host_volumes.go) for a dynamic host volume
 * create: a UUID ID if any, a name, capacity_max ≥ capacity_min, capabilities with a known attachment and access
 * mode, valid constraints other than distinct_hosts/distinct_property. Missing PluginID and capabilities are
 * defaulted by Nomad (`default`; file-system + single-node-writer), so they are not errors.
 */
export function validateHostVolumeRules(vol: Obj, root = '/Volume'): JobValidationError[] {
  const out: JobValidationError[] = [];
  const add: Add = (path, message) => out.push({ path, message });
  const id = str(vol.ID);
  if (id !== '' && !/^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/.test(id)) add(`${root}/ID`, `invalid ID "${id}"`);
  if (str(vol.Name) === '') add(`${root}/Name`, 'missing name');
  const min = num(vol.RequestedCapacityMinBytes), max = num(vol.RequestedCapacityMaxBytes);
  if (max < min) add(`${root}/RequestedCapacityMaxBytes`, `capacity_max (${max}) must be larger than capacity_min (${min})`);
  arr(vol.RequestedCapabilities).forEach((c, i) => {
    const at = str(c.AttachmentMode), am = str(c.AccessMode);
    if (at !== 'file-system' && at !== 'block-device') add(`${root}/RequestedCapabilities/${i}/AttachmentMode`, `invalid attachment mode: "${at}"`);
    else if (!HOST_VOLUME_CREATE_ACCESS.has(am)) add(`${root}/RequestedCapabilities/${i}/AccessMode`, `invalid access mode: "${am}"`);
  });
  const constraints = arr(vol.Constraints);
  validateConstraints(constraints, `${root}/Constraints`, (path, m) => add(path, `invalid constraint: ${m.replace(/^Constraint \d+ validation failed: /, '')}`));
  constraints.forEach((c, i) => {
    const op = str(c.Operand);
    if (op === 'distinct_hosts' || op === 'distinct_property') add(`${root}/Constraints/${i}/Operand`, `invalid constraint ${op}: host volumes of the same name are always on distinct hosts`);
  });
  return out;
}

/**
 * validateHostVolumeUpdate ports `HostVolume.ValidateUpdate`: creating a volume whose name exists updates it, and
 * an update may not touch a volume in use, move it to another node or pool, or shrink below its capacity.
 */
export function validateHostVolumeUpdate(vol: Obj, existing: Obj, claimedBy: string[], root = '/Volume'): JobValidationError[] {
  const out: JobValidationError[] = [];
  if (claimedBy.length > 0) out.push({ path: root, message: `cannot update a volume in use: claimed by allocs (${claimedBy.join(', ')})` });
  if (str(vol.NodeID) !== '' && vol.NodeID !== existing.NodeID) out.push({ path: `${root}/NodeID`, message: 'node ID cannot be updated' });
  if (str(vol.NodePool) !== '' && vol.NodePool !== existing.NodePool) out.push({ path: `${root}/NodePool`, message: 'node pool cannot be updated' });
  const max = num(vol.RequestedCapacityMaxBytes), cap = num(existing.CapacityBytes);
  if (max > 0 && max < cap) out.push({ path: `${root}/RequestedCapacityMaxBytes`, message: `capacity_max (${max}) cannot be less than existing provisioned capacity (${cap})` });
  return out;
}
