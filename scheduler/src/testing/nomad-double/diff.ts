/**
 * Job diffs in the shape of Nomad's `JobDiff` (plan and versions endpoints): fields and nested objects marked
 * Added/Deleted/Edited/None, task groups and tasks matched by name, and the per-group update counts.
 */
type Obj = Record<string, unknown>;

/** FieldDiff is Nomad's `api.FieldDiff`. */
export interface FieldDiff { Type: string; Name: string; Old: string; New: string; Annotations: string[] | null }
/** ObjectDiff is Nomad's `api.ObjectDiff`. */
export interface ObjectDiff { Type: string; Name: string; Fields: FieldDiff[] | null; Objects: ObjectDiff[] | null }
/** TaskDiff is Nomad's `api.TaskDiff`. */
export interface TaskDiff extends ObjectDiff { Annotations: string[] | null }
/** TaskGroupDiff is Nomad's `api.TaskGroupDiff`. */
export interface TaskGroupDiff extends ObjectDiff { Tasks: TaskDiff[] | null; Updates: Record<string, number> | null }
/** JobDiff is Nomad's `api.JobDiff`. */
export interface JobDiff { Type: string; ID: string; Fields: FieldDiff[] | null; Objects: ObjectDiff[] | null; TaskGroups: TaskGroupDiff[] | null }

const IGNORED = new Set(['ModifyIndex', 'JobModifyIndex', 'CreateIndex', 'Version', 'Status', 'StatusDescription', 'Stable', 'SubmitTime', 'TaskGroups', 'Tasks', 'VersionTag']);
const isObj = (v: unknown): v is Obj => typeof v === 'object' && v !== null && !Array.isArray(v);
const isPrim = (v: unknown): boolean => v === null || v === undefined || ['string', 'number', 'boolean'].includes(typeof v);
const show = (v: unknown): string => (v === null || v === undefined ? '' : String(v));

function kind(old: unknown, neu: unknown): string {
  const o = old !== undefined && old !== null, n = neu !== undefined && neu !== null;
  if (!o && n) return 'Added';
  if (o && !n) return 'Deleted';
  return JSON.stringify(old) === JSON.stringify(neu) ? 'None' : 'Edited';
}

function fieldsAndObjects(old: Obj | undefined, neu: Obj | undefined, contextual: boolean): { fields: FieldDiff[]; objects: ObjectDiff[] } {
  const fields: FieldDiff[] = [];
  const objects: ObjectDiff[] = [];
  const keys = [...new Set([...Object.keys(old ?? {}), ...Object.keys(neu ?? {})])].sort();
  for (const k of keys) {
    if (IGNORED.has(k)) continue;
    const a = old?.[k], b = neu?.[k];
    if (isPrim(a) && isPrim(b)) {
      const t = kind(a === '' ? undefined : a, b === '' ? undefined : b);
      if (t !== 'None' || contextual) fields.push({ Type: t, Name: k, Old: show(a), New: show(b), Annotations: null });
      continue;
    }
    if ((Array.isArray(a) || a == null) && (Array.isArray(b) || b == null) && [...(a ?? []), ...(b ?? [])].every(isPrim)) {
      const as = new Set((a ?? []).map(show)), bs = new Set((b ?? []).map(show));
      const fs: FieldDiff[] = [];
      for (const x of bs) if (!as.has(x)) fs.push({ Type: 'Added', Name: k, Old: '', New: x, Annotations: null });
      for (const x of as) if (!bs.has(x)) fs.push({ Type: 'Deleted', Name: k, Old: x, New: '', Annotations: null });
      if (fs.length > 0) objects.push({ Type: as.size === 0 ? 'Added' : bs.size === 0 ? 'Deleted' : 'Edited', Name: k, Fields: fs, Objects: null });
      continue;
    }
    if (Array.isArray(a) || Array.isArray(b)) {
      const aa = Array.isArray(a) ? a : [], bb = Array.isArray(b) ? b : [];
      for (let i = 0; i < Math.max(aa.length, bb.length); i++) {
        const d = objectDiff(k, isObj(aa[i]) ? aa[i] as Obj : undefined, isObj(bb[i]) ? bb[i] as Obj : undefined, contextual);
        if (d) objects.push(d);
      }
      continue;
    }
    const d = objectDiff(k, isObj(a) ? a : undefined, isObj(b) ? b : undefined, contextual);
    if (d) objects.push(d);
  }
  return { fields, objects };
}

function objectDiff(name: string, old: Obj | undefined, neu: Obj | undefined, contextual: boolean): ObjectDiff | undefined {
  const t = kind(old, neu);
  if (t === 'None' && !contextual) return undefined;
  const { fields, objects } = fieldsAndObjects(old, neu, contextual);
  return { Type: t, Name: name, Fields: fields.length ? fields : null, Objects: objects.length ? objects : null };
}

function byName(list: unknown): Map<string, Obj> {
  const m = new Map<string, Obj>();
  if (Array.isArray(list)) for (const x of list) if (isObj(x) && typeof x.Name === 'string') m.set(x.Name, x);
  return m;
}

/** diffJobs returns the JobDiff between an existing job (undefined when new) and the job being planned. */
export function diffJobs(old: Obj | undefined, neu: Obj, updates: Record<string, Record<string, number>> = {}, contextual = false): JobDiff {
  const { fields, objects } = fieldsAndObjects(old, neu, contextual);
  const oldGroups = byName(old?.TaskGroups), newGroups = byName(neu.TaskGroups);
  const groups: TaskGroupDiff[] = [];
  for (const name of [...new Set([...oldGroups.keys(), ...newGroups.keys()])].sort()) {
    const a = oldGroups.get(name), b = newGroups.get(name);
    const gt = kind(a, b);
    const fo = fieldsAndObjects(a, b, contextual);
    const oldTasks = byName(a?.Tasks), newTasks = byName(b?.Tasks);
    const tasks: TaskDiff[] = [];
    for (const tn of [...new Set([...oldTasks.keys(), ...newTasks.keys()])].sort()) {
      const ta = oldTasks.get(tn), tb = newTasks.get(tn);
      const tt = kind(ta, tb);
      const tf = fieldsAndObjects(ta, tb, contextual);
      const annotations = tt === 'Edited' || tt === 'Added' || tt === 'Deleted' ? ['forces create/destroy update'] : null;
      tasks.push({ Type: tt, Name: tn, Fields: tf.fields.length ? tf.fields : null, Objects: tf.objects.length ? tf.objects : null, Annotations: annotations });
    }
    const u = updates[name];
    groups.push({
      Type: gt === 'None' && tasks.some((t) => t.Type !== 'None') ? 'Edited' : gt, Name: name,
      Fields: fo.fields.length ? fo.fields : null, Objects: fo.objects.length ? fo.objects : null, Tasks: tasks.length ? tasks : null,
      Updates: u && Object.keys(u).length ? u : null,
    });
  }
  const type = !old ? 'Added' : fields.some((f) => f.Type !== 'None') || objects.some((o) => o.Type !== 'None') || groups.some((g) => g.Type !== 'None') ? 'Edited' : 'None';
  return { Type: type, ID: String(neu.ID ?? ''), Fields: fields.length ? fields : null, Objects: objects.length ? objects : null, TaskGroups: groups.length ? groups : null };
}
