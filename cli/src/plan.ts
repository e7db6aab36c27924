/**
 * `drover plan`: read a manifest, validate it and print the Nomad jobs Drover would register — a readable summary,
 * or with `--json` a JSON array of JobRegisterRequest bodies (no variable values in them). Invalid input exits
 * non-zero with one line per problem: `<file>: <path>: <reason>`.
 */
import { readFileSync } from 'node:fs';
import { compile, CompileError, type CompileResult } from '@drover/scheduler/compiler/index.ts';
import { loadManifest } from '@drover/scheduler/manifest/index.ts';
import type { JobRegisterRequest } from '@drover/scheduler/compiler/nomad-types.ts';

/** PlanArgs are the parsed arguments of `drover plan`. */
export interface PlanArgs {
  /** file is the manifest path. */
  file: string;
  /** json prints JobRegisterRequest bodies instead of a summary. */
  json: boolean;
  /** team is the team slug the plan assumes. */
  team?: string;
}

/** Output receives what a command prints, one line (or chunk) at a time; main decides where it goes. */
export interface Output {
  /** stdout takes one chunk for standard output (a newline is added). */
  stdout: (chunk: string) => void;
  /** stderr takes one line for standard error. */
  stderr: (line: string) => void;
}

/** summarize renders one job as a few readable lines. */
export function summarize(req: JobRegisterRequest): string[] {
  const j = req.Job;
  const g = j.TaskGroups[0];
  const t = g?.Tasks[0];
  const lines = [`job ${j.ID}  (${j.Type}${j.Periodic ? `, cron "${(j.Periodic.Specs ?? (j.Periodic.Spec ? [j.Periodic.Spec] : [])).join('", "')}" ${j.Periodic.TimeZone}` : ''})  namespace ${req.Namespace}`];
  if (t) {
    const what = t.Driver === 'docker' ? `image ${String(t.Config.image)}` : `${t.Driver} ${t.Artifacts?.[0]?.GetterSource ?? ''}`;
    lines.push(`  ${what}  count ${g?.Count ?? 0}  cpu ${t.Resources.CPU} MHz  memory ${t.Resources.MemoryMB} MiB${t.Resources.MemoryMaxMB ? ` (max ${t.Resources.MemoryMaxMB})` : ''}`);
    if (t.Templates) lines.push(`  variables: ${t.Templates.length} template(s)${t.Vault ? ' from Vault' : ' from Nomad Variables'}`);
  }
  for (const s of g?.Services ?? []) {
    const rule = s.Tags.find((x) => x.includes('.rule='));
    const hosts = rule ? [...rule.matchAll(/Host\(`([^`]*)`\)/g)].map((m) => m[1]) : [];
    lines.push(`  service ${s.Name} (${s.Provider}, port ${s.PortLabel}, check ${s.Checks[0]?.Type ?? 'none'})${hosts.length ? `  routes ${hosts.join(', ')}` : '  private'}`);
  }
  for (const [name, v] of Object.entries(g?.Volumes ?? {})) lines.push(`  volume ${name} = host volume ${v.Source}`);
  if (j.Update) lines.push(`  update: canary ${j.Update.Canary}, auto-promote ${j.Update.AutoPromote}, auto-revert ${j.Update.AutoRevert}`);
  return lines;
}

/** runPlan runs `drover plan` and returns its exit status. */
export function runPlan(args: PlanArgs, out: Output): number {
  let text: string;
  try {
    text = readFileSync(args.file, 'utf8');
  } catch (e) {
    out.stderr(`${args.file}: cannot read: ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}`);
    return 1;
  }
  const loaded = loadManifest(text, args.file, args.team !== undefined ? { team: args.team } : {});
  if (!loaded.ok) {
    for (const p of loaded.problems) out.stderr(`${args.file}: ${p.path === '' ? '(document)' : p.path}: ${p.reason}`);
    out.stderr(`${args.file}: invalid manifest (${loaded.problems.length} problem${loaded.problems.length === 1 ? '' : 's'})`);
    return 1;
  }
  let result: CompileResult;
  try {
    result = compile(loaded.state);
  } catch (e) {
    if (!(e instanceof CompileError)) throw e;
    out.stderr(`${args.file}: ${e.path}: ${e.reason}`);
    return 1;
  }
  if (args.json) {
    // One chunk per job: 10,000 jobs never become one giant string.
    out.stdout('[');
    result.jobs.forEach((job, i) => out.stdout(`${JSON.stringify(job, null, 2)}${i < result.jobs.length - 1 ? ',' : ''}`));
    out.stdout(']');
    for (const w of result.warnings) out.stderr(`warning: ${w}`);
    return 0;
  }
  for (const job of result.jobs) for (const line of [...summarize(job), '']) out.stdout(line);
  const data = Object.keys(result.variables).length;
  out.stdout(`${result.jobs.length} job(s); ${data} with variables written as data before registering; ${Object.values(result.volumes).flat().length} host volume(s)`);
  for (const w of result.warnings) out.stdout(`warning: ${w}`);
  return 0;
}
