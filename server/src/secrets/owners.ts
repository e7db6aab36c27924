/**
 * Owners: the secret owners a service or environment has, so that deleting one drops every value it owns.
 */
import type { SecretOwner, SecretWriter } from './secret-store.ts';

/** serviceOwners lists the secret owners of a service: its variables and its registry credentials. */
export function serviceOwners(teamId: string, serviceId: string): [vars: SecretOwner, registry: SecretOwner] {
  return [{ teamId, kind: 'service', id: serviceId }, { teamId, kind: 'registry', id: serviceId }];
}

/** environmentOwner is the secret owner of an environment's shared variables. */
export function environmentOwner(teamId: string, environmentId: string): SecretOwner {
  return { teamId, kind: 'environment', id: environmentId };
}

/** dropAll drops the values of every owner, in order, through the transaction's SecretWriter. */
export async function dropAll(secrets: SecretWriter, owners: readonly SecretOwner[]): Promise<void> {
  for (const o of owners) await secrets.drop(o);
}
