import assert from 'node:assert/strict';
import { randomBytes, randomUUID } from 'node:crypto';
import { after, before, describe, it } from 'node:test';
import { VaultAdapter } from '@drover/scheduler/vault/index.ts';
import { systemClock } from '../core/clock.ts';
import { isDomainError } from '../core/errors.ts';
import { createTestDatabase, type TestDatabase } from '../testing/db.ts';
import { currentValues, startKvTestServer, type KvTestServer } from './kv-test-server.ts';
import { aadFor, deriveStoreKey, keyringFromRoot, open, PostgresSecretStore, seal } from './postgres-store.ts';
import { withSecrets, type SecretOwner, type SecretStore } from './secret-store.ts';
import { VaultAdapterKv } from './vault-kv.ts';
import { vaultLocation, VaultSecretStore } from './vault-store.ts';

const owner = (kind: SecretOwner['kind'] = 'service'): SecretOwner => ({ teamId: randomUUID(), kind, id: randomUUID() });
const HOSTILE = ['line1\nline2', '{{ env "X" }}${attr.unique.hostname}', '%{ x }', 'a=b#c "quoted"', 'ünïcødé ✓', ''];

let db: TestDatabase;
let kv: KvTestServer;
let vault: VaultAdapter;
before(async () => {
  db = await createTestDatabase();
  kv = await startKvTestServer();
  vault = new VaultAdapter({ address: kv.url, token: kv.token, kvMount: 'secret', timeoutMs: 2000 });
});
after(async () => {
  await vault.close();
  await kv.close();
  await db.cleanup();
});

const stores: [string, () => SecretStore][] = [
  ['postgres (AES-256-GCM)', () => new PostgresSecretStore(keyringFromRoot(randomBytes(32)), systemClock, db.dataSource.manager)],
  ['vault (KV v2)', () => new VaultSecretStore(new VaultAdapterKv(vault))],
];

for (const [name, make] of stores) {
  describe(`SecretStore contract: ${name}`, () => {
    it('writes, reads, deletes by null and drops an owner', async () => {
      const sut = make();
      const o = owner();
      await withSecrets(db.dataSource, sut, (_tx, s) => s.write(o, new Map(HOSTILE.map((v, i) => [`K${i}`, v]))));
      const all = await sut.read(o);
      assert.deepEqual([...all.entries()].sort(), HOSTILE.map((v, i) => [`K${i}`, v]).sort());
      assert.deepEqual([...(await sut.read(o, ['K1'])).entries()], [['K1', HOSTILE[1]]]);
      await withSecrets(db.dataSource, sut, (_tx, s) => s.write(o, new Map([['K0', null], ['K1', 'changed']])));
      const after1 = await sut.read(o);
      assert.equal(after1.has('K0'), false);
      assert.equal(after1.get('K1'), 'changed');
      await withSecrets(db.dataSource, sut, (_tx, s) => s.drop(o));
      assert.equal((await sut.read(o)).size, 0);
    });

    it('keeps owners apart', async () => {
      const sut = make();
      const a = owner();
      const b = { ...a, id: randomUUID() };
      await withSecrets(db.dataSource, sut, async (_tx, s) => {
        await s.write(a, new Map([['X', 'a']]));
        await s.write(b, new Map([['X', 'b']]));
      });
      assert.equal((await sut.read(a)).get('X'), 'a');
      assert.equal((await sut.read(b)).get('X'), 'b');
      assert.equal((await sut.read({ ...a, kind: 'registry' })).size, 0);
    });

    it('reads many owners at once, each as read would, in the order asked', async () => {
      const sut = make();
      const svc = owner();
      const reg: SecretOwner = { ...svc, kind: 'registry' };
      const env: SecretOwner = { teamId: svc.teamId, kind: 'environment', id: randomUUID() };
      const otherTeam: SecretOwner = { ...svc, teamId: randomUUID() };
      const empty = owner();
      await withSecrets(db.dataSource, sut, async (_tx, s) => {
        await s.write(svc, new Map(HOSTILE.map((v, i) => [`K${i}`, v])));
        await s.write(reg, new Map([['username', 'u'], ['password', 'p']]));
        await s.write(env, new Map([['SHARED', 'x']]));
        await s.write(otherTeam, new Map([['K0', 'not yours']]));
      });
      const owners = [env, svc, empty, reg, svc, { ...env, teamId: randomUUID() }];
      const got = await sut.readMany(owners);
      assert.equal(got.length, owners.length);
      for (const [i, o] of owners.entries()) assert.deepEqual([...(got[i] ?? new Map()).entries()].sort(), [...(await sut.read(o)).entries()].sort(), `owner #${i}`);
      assert.equal(got[1]?.get('K1'), HOSTILE[1]);
      assert.equal(got[2]?.size, 0);
      assert.equal(got[5]?.size, 0, 'another team never reads the values');
      assert.deepEqual(await sut.readMany([]), []);
    });

    it('leaves nothing written when the transaction fails after the secret write', async () => {
      const sut = make();
      const o = owner();
      await withSecrets(db.dataSource, sut, (_tx, s) => s.write(o, new Map([['KEEP', 'old'], ['GONE', 'old']])));
      await assert.rejects(withSecrets(db.dataSource, sut, async (tx, s) => {
        await s.write(o, new Map([['KEEP', 'new'], ['GONE', null], ['ADDED', 'new']]));
        await tx.query('SELECT 1/0');
      }), /division by zero/);
      assert.deepEqual([...(await sut.read(o)).entries()].sort(), [['GONE', 'old'], ['KEEP', 'old']]);
      const fresh = owner();
      await assert.rejects(withSecrets(db.dataSource, sut, async (_tx, s) => {
        await s.write(fresh, new Map([['A', '1']]));
        throw new Error('later step failed');
      }), /later step failed/);
      assert.equal((await sut.read(fresh)).size, 0);
      const dropped = owner();
      await withSecrets(db.dataSource, sut, (_tx, s) => s.write(dropped, new Map([['A', '1']])));
      await assert.rejects(withSecrets(db.dataSource, sut, async (_tx, s) => {
        await s.drop(dropped);
        throw new Error('after drop');
      }));
      assert.equal((await sut.read(dropped)).get('A'), '1');
    });
  });
}

describe('PostgresSecretStore', () => {
  it('stores only ciphertext, with a fresh 12-byte nonce per value and the key version', async () => {
    const sut = new PostgresSecretStore(keyringFromRoot(randomBytes(32)), systemClock, db.dataSource.manager);
    const o = owner();
    const value = `plain-${randomBytes(8).toString('hex')}`;
    await withSecrets(db.dataSource, sut, (_tx, s) => s.write(o, new Map([['A', value], ['B', value]])));
    const rows = (await db.dataSource.query('SELECT name, nonce, ciphertext, key_version FROM secret_values WHERE owner_id = $1 ORDER BY name', [o.id])) as
      { name: string; nonce: Buffer; ciphertext: Buffer; key_version: number }[];
    assert.equal(rows.length, 2);
    for (const r of rows) {
      assert.equal(r.nonce.length, 12);
      assert.equal(r.key_version, 1);
      assert.equal(r.ciphertext.includes(Buffer.from(value)), false);
    }
    assert.notDeepEqual(rows[0]?.nonce, rows[1]?.nonce);
    assert.notDeepEqual(rows[0]?.ciphertext, rows[1]?.ciphertext);
  });

  it('binds a ciphertext to its team, owner and name (a row moved to another owner does not open)', async () => {
    const sut = new PostgresSecretStore(keyringFromRoot(randomBytes(32)), systemClock, db.dataSource.manager);
    const a = owner();
    const b = { ...a, id: randomUUID() };
    await withSecrets(db.dataSource, sut, (_tx, s) => s.write(a, new Map([['A', 'secret-a']])));
    await db.dataSource.query('UPDATE secret_values SET owner_id = $1 WHERE owner_id = $2', [b.id, a.id]);
    await assert.rejects(sut.read(b), (e) => isDomainError(e) && e.code === 'secret_store/unavailable' && !e.message.includes('secret-a'));
    await assert.rejects(sut.readMany([a, b]), (e) => isDomainError(e) && e.code === 'secret_store/unavailable' && !e.message.includes('secret-a'));
    const key = deriveStoreKey(randomBytes(32), 1);
    const sealed = seal(key, aadFor(a, 'N'), 'v');
    assert.equal(open(key, aadFor(a, 'N'), sealed.nonce, sealed.ciphertext), 'v');
    assert.throws(() => open(key, aadFor(a, 'M'), sealed.nonce, sealed.ciphertext));
    assert.throws(() => open(key, aadFor({ ...a, teamId: randomUUID() }, 'N'), sealed.nonce, sealed.ciphertext));
  });

  it('rotates: rows sealed under an old key version are re-sealed under the current one', async () => {
    const root1 = randomBytes(32);
    const root2 = randomBytes(32);
    // Every row of a database is sealed under the one keyring; drop the rows the other tests sealed with theirs.
    await db.dataSource.query('DELETE FROM secret_values');
    const v1 = new PostgresSecretStore(keyringFromRoot(root1, 1), systemClock, db.dataSource.manager);
    const o = owner();
    await withSecrets(db.dataSource, v1, (_tx, s) => s.write(o, new Map([['A', 'alpha'], ['B', 'beta']])));
    const both = { current: 2, keys: new Map([[1, deriveStoreKey(root1, 1)], [2, deriveStoreKey(root2, 2)]]) };
    const sut = new PostgresSecretStore(both, systemClock, db.dataSource.manager);
    assert.equal((await sut.read(o)).get('A'), 'alpha');
    const n = await db.dataSource.transaction((tx) => sut.rotate(tx));
    assert.ok(n >= 2);
    const versions = (await db.dataSource.query('SELECT DISTINCT key_version FROM secret_values WHERE owner_id = $1', [o.id])) as { key_version: number }[];
    assert.deepEqual(versions.map((v) => v.key_version), [2]);
    const onlyNew = new PostgresSecretStore(keyringFromRoot(root2, 2), systemClock, db.dataSource.manager);
    assert.deepEqual([...(await onlyNew.read(o)).entries()].sort(), [['A', 'alpha'], ['B', 'beta']]);
  });
});

describe('VaultSecretStore', () => {
  it('keeps each owner under drover/s-<team>/<kind>-<owner> and makes only documented KV v2 calls', async () => {
    const sut = new VaultSecretStore(new VaultAdapterKv(vault));
    const o = owner('environment');
    await withSecrets(db.dataSource, sut, (_tx, s) => s.write(o, new Map([['A', '1']])));
    const loc = vaultLocation(o);
    assert.deepEqual(currentValues(kv).get(`drover/${loc.namespace}/${loc.name}`), { A: '1' });
    assert.deepEqual(kv.violations, []);
    assert.ok(kv.requests.some((r) => r.method === 'POST' && r.path === `/v1/secret/data/drover/${loc.namespace}/${loc.name}`));
    // A backup destination's keys: its kind's `_` is not a Vault path segment character.
    const dest = owner('backup_dest');
    await withSecrets(db.dataSource, sut, (_tx, s) => s.write(dest, new Map([['SECRET_ACCESS_KEY', 'k']])));
    assert.equal(vaultLocation(dest).name, `backup-dest-${dest.id.toLowerCase()}`);
    assert.deepEqual([...(await sut.read(dest)).entries()], [['SECRET_ACCESS_KEY', 'k']]);
  });

  it('answers secret_store/unavailable when Vault fails, without the value in the error', async () => {
    const sut = new VaultSecretStore(new VaultAdapterKv(vault));
    const o = owner();
    kv.failWhen = (r) => r.method === 'POST';
    try {
      await assert.rejects(withSecrets(db.dataSource, sut, (_tx, s) => s.write(o, new Map([['A', 'very-secret-value']]))),
        (e) => isDomainError(e) && e.code === 'secret_store/unavailable' && e.status === 503 && !e.message.includes('very-secret-value'));
    } finally {
      kv.failWhen = undefined;
    }
    assert.equal((await sut.read(o)).size, 0);
  });
});
