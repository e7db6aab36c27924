// Consul contract: the registration Nomad derives from each job's service block (as Nomad's Consul service client
// builds `api.AgentServiceRegistration`) validates against consul-api.schema.json; its Meta keys are Consul-safe.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Ajv2020 } from 'ajv/dist/2020.js';
import { readContract } from '../contracts/index.ts';
import { compile } from './index.ts';
import { variants } from './variants.ts';
import type { NomadService } from './nomad-types.ts';

const ajv = new Ajv2020({ allErrors: true, strict: false });
ajv.addSchema(readContract('consul-api.schema.json'), 'consul');
const validate = ajv.compile({ $ref: 'consul#/$defs/AgentServiceRegistration' });

/** goDuration renders nanoseconds as Go's time.Duration String() does for whole seconds/milliseconds. */
function goDuration(ns: number): string {
  if (ns % 1e9 === 0) return `${ns / 1e9}s`;
  return `${ns / 1e6}ms`;
}

/** sut derives the Consul registration of one allocation's service instance as Nomad does. */
function sut(svc: NomadService, canary: boolean, allocId: string, ip: string, port: number): Record<string, unknown> {
  const id = `_nomad-task-${allocId}-group-app-${svc.Name}-${svc.PortLabel}`;
  return {
    ID: id,
    Name: svc.Name,
    Tags: canary ? svc.CanaryTags : svc.Tags,
    Address: ip,
    Port: port,
    Meta: { ...(canary ? svc.CanaryMeta : svc.Meta), 'external-source': 'nomad' },
    EnableTagOverride: false,
    Checks: svc.Checks.map((c, i) => ({
      CheckID: `_nomad-check-${i}`,
      Name: c.Name,
      Interval: goDuration(c.Interval),
      Timeout: goDuration(c.Timeout),
      ...(c.Type === 'http' ? { HTTP: `http://${ip}:${port}${c.Path ?? '/'}`, Method: c.Method ?? 'GET' } : { TCP: `${ip}:${port}` }),
      Status: 'critical',
    })),
  };
}

test('the registration Nomad derives for every Consul service block validates as AgentServiceRegistration', () => {
  let n = 0;
  for (const v of variants()) {
    if (v.state.settings.serviceProvider !== 'consul') continue;
    for (const job of compile(v.state).jobs) {
      for (const svc of job.Job.TaskGroups[0]?.Services ?? []) {
        for (const canary of [false, true]) {
          const reg = sut(svc, canary, '8ba3c2a0-3e9a-4b9b-9d0c-1f8e0e2c5b11', '10.0.0.7', 27315);
          assert.ok(validate(reg), `${job.Job.ID}: ${JSON.stringify(validate.errors)}`);
          for (const k of Object.keys(reg.Meta as object)) assert.match(k, /^[A-Za-z0-9_-]{1,128}$/, `Consul meta key ${k}`);
          assert.match(svc.Name, /^[a-z0-9-]{1,63}$/, 'a DNS-safe service name');
          n++;
        }
      }
    }
  }
  assert.ok(n > 0);
  assert.equal(validate({ Name: 'x', Port: '80' }), false, 'the schema rejects a wrong type');
});
