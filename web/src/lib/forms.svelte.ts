/**
 * The one place where API problems become what users read: a form's message and its field errors. Every mutation
 * in the dashboard runs through `Action.run`, which clears old errors, calls the API, invalidates the resources the
 * mutation changed (`app:projects`, `app:services`, …) and, on failure, maps the ApiProblem to a message and field
 * errors by field name.
 */
import { invalidate } from '$app/navigation';
import { problemOf, type ApiProblem, type FieldErrors } from './api/client.ts';

/** messageFor words a problem for users: field problems point at the fields; auth and outage problems say what to do. */
export function messageFor(p: ApiProblem): string {
  if (p.status === 0) return 'The Drover server could not be reached. Check your connection and try again.';
  if (p.status === 401) return p.code === 'auth/invalid_credentials' ? p.message : 'Your session has ended. Sign in again.';
  if (p.status === 403) {
    if (p.code === 'auth/csrf') return 'Your session token is stale. Reload the page and try again.';
    return p.message || 'Your role does not allow this.';
  }
  if (p.status === 429) return 'Too many attempts. Wait a minute and try again.';
  if (p.status >= 500) return `${p.title}. Try again in a moment.`;
  if (p.errors.length > 0) return p.errors.length === 1 ? 'One field needs attention.' : `${p.errors.length} fields need attention.`;
  return p.message;
}

/** RunOptions says what a successful mutation invalidates and what it reports. */
export interface RunOptions {
  /** invalidate lists the dependency keys (`app:projects`) to reload after success. */
  invalidate?: string[];
  /** success is shown as the action's notice after success. */
  success?: string;
}

/**
 * Action is the state of one mutation in a component: busy flag, message, notice and field errors. Bind field
 * errors with `action.fields.name`; show `action.message` in a role="alert" element.
 */
export class Action {
  busy = $state(false);
  message = $state('');
  notice = $state('');
  fields = $state<FieldErrors>({});
  problem = $state<ApiProblem | null>(null);

  /** run executes a mutation; it resolves to the result, or undefined when it failed (the failure is in the state). */
  async run<T>(fn: () => Promise<T>, opts: RunOptions = {}): Promise<T | undefined> {
    this.busy = true;
    this.message = '';
    this.notice = '';
    this.fields = {};
    this.problem = null;
    try {
      const out = await fn();
      await Promise.all((opts.invalidate ?? []).map((k) => invalidate(k)));
      if (opts.success) this.notice = opts.success;
      return out;
    } catch (err) {
      const p = problemOf(err);
      this.problem = p;
      this.fields = p.fields;
      this.message = messageFor(p);
      return undefined;
    } finally {
      this.busy = false;
    }
  }

  /** reset clears messages and field errors. */
  reset(): void {
    this.message = '';
    this.notice = '';
    this.fields = {};
    this.problem = null;
  }
}
