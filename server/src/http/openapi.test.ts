import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { Validator } from '@seriousme/openapi-schema-validator';
import { startTestApp, type TestApp } from '../testing/app.ts';

let sut: TestApp;
before(async () => {
  sut = await startTestApp();
});
after(async () => {
  await sut?.close();
});

test('GET /api/openapi.json is a valid OpenAPI 3.1 document (checked against the specification\'s own schema)', async () => {
  const res = await fetch(`${sut.url}/api/openapi.json`);
  assert.equal(res.status, 200);
  const doc = (await res.json()) as Record<string, unknown>;
  assert.equal(doc.openapi, '3.1.0');
  const validator = new Validator();
  const result = await validator.validate(doc);
  assert.equal(result.valid, true, JSON.stringify(result.errors, null, 1)?.slice(0, 2000));
  const broken = structuredClone(doc) as { paths: Record<string, Record<string, Record<string, unknown>>> };
  Object.values(Object.values(broken.paths)[0]!)[0]!.responses = 'none';
  assert.equal((await new Validator().validate(broken)).valid, false, 'the validator does reject a broken document');
});

test('every operation has an operationId, a summary, its path parameters and a 2xx response', () => {
  const doc = sut.openapi;
  let operations = 0;
  for (const [path, item] of Object.entries(doc.paths)) {
    const names = [...path.matchAll(/\{([^}]+)\}/g)].map((m) => m[1]);
    for (const [method, op] of Object.entries(item)) {
      operations++;
      const where = `${method.toUpperCase()} ${path}`;
      assert.equal(typeof op.operationId, 'string', `${where} has an operationId`);
      assert.ok(typeof op.summary === 'string' && op.summary.length > 0, `${where} has a summary`);
      const params = (op.parameters as { name: string; in: string }[]).filter((p) => p.in === 'path').map((p) => p.name);
      assert.deepEqual(params.sort(), [...names].sort(), `${where} documents its path parameters`);
      assert.ok(Object.keys(op.responses as object).some((s) => s.startsWith('2')), `${where} documents a success response`);
    }
  }
  assert.ok(operations > 50, `the document describes every route (${operations} operations)`);
});
