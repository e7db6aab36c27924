/**
 * nomad-validate benchmark (`node bench/nomad-validate.ts`): validates 10,000 service jobs with validateJob, with
 * the contract schema and with Nomad's rules only, and prints both times.
 */
import { validateJob } from '../scheduler/src/nomad-validate/index.ts';
import { aServiceJob } from '../scheduler/src/nomad-validate/fixtures.ts';
validateJob(aServiceJob());
const jobs = Array.from({ length: 10000 }, (_, i) => aServiceJob(`svc-${i}`));
const t0 = performance.now();
for (const j of jobs) if (validateJob(j).length) throw new Error('invalid');
const t1 = performance.now();
for (const j of jobs) if (validateJob(j, { schema: false }).length) throw new Error('invalid');
const t2 = performance.now();
console.log(`validateJob x10000: ${(t1 - t0).toFixed(0)} ms with schema, ${(t2 - t1).toFixed(0)} ms rules only`);
