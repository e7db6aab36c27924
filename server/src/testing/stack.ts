/**
 * The deployment test stack most HTTP tests of deployments and databases start the same way: the Nomad double, the
 * Vault KV test server when Vault mode is asked for, the real app on a fresh test database pointed at both, an owner
 * signed up, and the deployment worker running. `close` stops them in the reverse order. Only test code imports this.
 */
import { randomBytes } from 'node:crypto';
import { namespaceName } from '@drover/scheduler/compiler/names.ts';
import { startNomadDouble, type NomadDouble } from '@drover/scheduler/testing/nomad-double/index.ts';
import { startKvTestServer, type KvTestServer } from '../secrets/kv-test-server.ts';
import { expectStatus, setupOwner, startTestApp, type Client, type TestApp } from './app.ts';

/** STACK_NOMAD_TOKEN is the ACL token the stack's double expects and the app sends (random per test process). */
export const STACK_NOMAD_TOKEN = randomBytes(16).toString('hex');

/** DeployStackOptions choose the variable mode, the double's pace and extra configuration. */
export interface DeployStackOptions {
  /** vault starts the KV test server and points VAULT_ADDR/VAULT_TOKEN at it (default: Nomad Variables). */
  vault?: boolean;
  /** stepMs is the double's state-machine step (default 50 ms). */
  stepMs?: number;
  /** env adds configuration variables for the app. */
  env?: Record<string, string>;
}

/** DeployStack is a started stack; every part is live until `close`. */
export interface DeployStack {
  /** nomad is the Nomad double. */
  nomad: NomadDouble;
  /** kv is the Vault KV test server, in Vault mode only. */
  kv: KvTestServer | undefined;
  /** sut is the app under test. */
  sut: TestApp;
  /** owner is the signed-up owner's client. */
  owner: Client;
  /** teamId is the owner's team. */
  teamId: string;
  /** ns is the team's Nomad namespace. */
  ns: string;
  /** close stops the worker, the app, the double and the KV server. */
  close(): Promise<void>;
}

/** startDeployStack starts the stack (see the module comment); a failure part-way closes what was started. */
export async function startDeployStack(o: DeployStackOptions = {}): Promise<DeployStack> {
  const nomad = await startNomadDouble({ token: STACK_NOMAD_TOKEN, stepMs: o.stepMs ?? 50 });
  let kv: KvTestServer | undefined;
  let sut: TestApp | undefined;
  const close = async (): Promise<void> => {
    await sut?.services.deployments.stop();
    await sut?.services.deployments.closeNomad();
    await sut?.close();
    await nomad.close();
    await kv?.close();
  };
  try {
    kv = o.vault ? await startKvTestServer() : undefined;
    sut = await startTestApp({
      env: {
        NOMAD_ADDR: nomad.url, NOMAD_TOKEN: STACK_NOMAD_TOKEN, NOMAD_MGMT_TOKEN: STACK_NOMAD_TOKEN,
        ...(kv ? { VAULT_ADDR: kv.url, VAULT_TOKEN: kv.token } : {}), ...o.env,
      },
    });
    const owner = await setupOwner(sut);
    const team = await expectStatus(owner.client.get(`/api/teams/${owner.teamId}`));
    sut.services.deployments.worker.start();
    return { nomad, kv, sut, owner: owner.client, teamId: owner.teamId, ns: namespaceName(team.slug, team.id), close };
  } catch (e) {
    await close().catch(() => undefined);
    throw e;
  }
}
