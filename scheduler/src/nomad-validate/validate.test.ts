import { test } from 'node:test';
import assert from 'node:assert/strict';
import { canonicalizeJob, goDuration, jobWarnings, validateHostVolumeCreate, validateHostVolumeUpdate, validateJob, validateJobUpdate, HOUR, MINUTE, SECOND, type JobValidationError } from './index.ts';
import { aBatchJob, aHostVolumeCreate, aHostVolumeJob, aServiceJob, type Fixture } from './fixtures.ts';
import { validateNomad } from '../contracts/index.ts';

function hasError(errs: JobValidationError[], path: string, message: string): boolean {
  return errs.some((e) => e.path === path && e.message.includes(message));
}

function assertError(errs: JobValidationError[], path: string, message: string): void {
  assert.ok(hasError(errs, path, message), `expected ${path}: ${message}\n got ${JSON.stringify(errs, null, 1)}`);
}

test('the fixtures are valid jobs (the rules do not reject what Nomad accepts)', () => {
  const sut = validateJob;
  assert.deepEqual(sut(aServiceJob()), []);
  assert.deepEqual(sut(aBatchJob()), []);
  assert.deepEqual(sut(aHostVolumeJob()), []);
  assert.deepEqual(sut({ ID: 'minimal', TaskGroups: [{ Name: 'g', Tasks: [{ Name: 't', Driver: 'docker' }] }] }), [], 'Nomad fills defaults for the rest');
});

test('the canonicalized job still validates against the contract Job type', () => {
  const sut = canonicalizeJob;
  for (const j of [aServiceJob(), aBatchJob(), aHostVolumeJob()]) assert.deepEqual(validateNomad('Job', sut(j)), []);
});

test('the contract runs first: a misspelt key is reported with its pointer and the rules are not run', () => {
  const j = aServiceJob();
  j.TaskGroups[0].Services[0].Port = 'http';
  delete j.TaskGroups[0].Services[0].PortLabel;
  const errs = validateJob(j);
  assertError(errs, '/Job/TaskGroups/0/Services/0/Port', 'unknown key "Port"');
  const wrongType = aServiceJob();
  wrongType.TaskGroups[0].Count = '2';
  assert.ok(validateJob(wrongType).some((e) => e.path === '/Job/TaskGroups/0/Count'));
});

interface Case {
  name: string;
  make: () => Fixture;
  mutate: (j: Fixture) => void;
  path: string;
  message: string;
  strict?: boolean;
}

const canonicalService = (): Fixture => canonicalizeJob(aServiceJob());
const g = (j: Fixture): Fixture => j.TaskGroups[0];
const t = (j: Fixture): Fixture => j.TaskGroups[0].Tasks[0];

const cases: Case[] = [
  // Job.Validate
  { name: 'missing ID', make: aServiceJob, mutate: (j) => { delete j.ID; }, path: '/Job/ID', message: 'Missing job ID' },
  { name: 'ID with a space', make: aServiceJob, mutate: (j) => { j.ID = 'a b'; }, path: '/Job/ID', message: 'Job ID contains a space' },
  { name: 'ID with a NUL', make: aServiceJob, mutate: (j) => { j.ID = 'a\u0000b'; }, path: '/Job/ID', message: 'null character' },
  { name: 'Name with a NUL', make: aServiceJob, mutate: (j) => { j.Name = 'a\u0000'; }, path: '/Job/Name', message: 'Job Name contains a null character' },
  { name: 'missing region (strict)', make: canonicalService, mutate: (j) => { delete j.Region; }, path: '/Job/Region', message: 'Missing job region', strict: true },
  { name: 'missing namespace (strict)', make: canonicalService, mutate: (j) => { delete j.Namespace; }, path: '/Job/Namespace', message: 'Job must be in a namespace', strict: true },
  { name: 'missing datacenters (strict)', make: canonicalService, mutate: (j) => { delete j.Datacenters; }, path: '/Job/Datacenters', message: 'Missing job datacenters', strict: true },
  { name: 'empty datacenter', make: aServiceJob, mutate: (j) => { j.Datacenters = ['dc1', '']; }, path: '/Job/Datacenters/1', message: 'Job datacenter must be non-empty string' },
  { name: 'missing type (strict)', make: canonicalService, mutate: (j) => { delete j.Type; }, path: '/Job/Type', message: 'Missing job type', strict: true },
  { name: 'invalid type', make: aServiceJob, mutate: (j) => { j.Type = 'daemon'; }, path: '/Job/Type', message: 'Invalid job type: "daemon"' },
  { name: 'core type', make: aServiceJob, mutate: (j) => { j.Type = '_core'; }, path: '/Job/Type', message: 'job type cannot be core' },
  { name: 'priority too high', make: aServiceJob, mutate: (j) => { j.Priority = 101; }, path: '/Job/Priority', message: 'Job priority must be between [1, 100]' },
  { name: 'priority negative', make: aServiceJob, mutate: (j) => { j.Priority = -1; }, path: '/Job/Priority', message: 'Job priority must be between' },
  { name: 'no task groups', make: aServiceJob, mutate: (j) => { j.TaskGroups = []; }, path: '/Job/TaskGroups', message: 'Missing job task groups' },
  { name: 'duplicate group names', make: aServiceJob, mutate: (j) => { j.TaskGroups.push(structuredClone(g(j))); }, path: '/Job/TaskGroups/1/Name', message: "Job task group 2 redefines 'web' from group 1" },
  { name: 'group without a name', make: aServiceJob, mutate: (j) => { delete g(j).Name; }, path: '/Job/TaskGroups/0/Name', message: 'Job task group 1 missing name' },
  { name: 'system job with count 2', make: aServiceJob, mutate: (j) => { j.Type = 'system'; delete g(j).Update; }, path: '/Job/TaskGroups/0/Count', message: 'Count cannot exceed 1 with system scheduler' },
  { name: 'periodic on a service job', make: aServiceJob, mutate: (j) => { j.Periodic = { Spec: '* * * * *' }; }, path: '/Job/Periodic', message: 'Periodic can only be used with "batch" or "sysbatch" scheduler' },
  { name: 'periodic with an invalid cron', make: aBatchJob, mutate: (j) => { j.Periodic.Specs = ['61 * * * *']; }, path: '/Job/Periodic/Specs/0', message: 'Invalid cron spec "61 * * * *"' },
  { name: 'periodic with four fields', make: aBatchJob, mutate: (j) => { j.Periodic.Specs = ['0 * * * *', '* * * *']; }, path: '/Job/Periodic/Specs/1', message: 'Invalid cron spec' },
  { name: 'periodic with an invalid deprecated cron', make: aBatchJob, mutate: (j) => { delete j.Periodic.Specs; j.Periodic.Spec = '61 * * * *'; }, path: '/Job/Periodic/Spec', message: 'Invalid cron spec "61 * * * *"' },
  { name: 'periodic without spec', make: aBatchJob, mutate: (j) => { j.Periodic.Specs = []; }, path: '/Job/Periodic/Spec', message: 'Must specify a spec' },
  { name: 'periodic with a bad timezone', make: aBatchJob, mutate: (j) => { j.Periodic.TimeZone = 'Mars/Olympus'; }, path: '/Job/Periodic/TimeZone', message: 'Invalid time zone "Mars/Olympus"' },
  { name: 'periodic with an unknown spec type', make: aBatchJob, mutate: (j) => { j.Periodic.SpecType = 'every'; }, path: '/Job/Periodic/SpecType', message: 'Unknown periodic specification type "every"' },
  { name: 'periodic with both cron and crons', make: aBatchJob, mutate: (j) => { j.Periodic.Spec = '0 * * * *'; }, path: '/Job/Periodic/Specs', message: 'Only cron or crons may be used' },
  { name: 'parameterized service job', make: aServiceJob, mutate: (j) => { j.ParameterizedJob = {}; }, path: '/Job/ParameterizedJob', message: 'Parameterized job can only be used with "batch"' },
  { name: 'parameterized with bad payload', make: aBatchJob, mutate: (j) => { delete j.Periodic; j.ParameterizedJob = { Payload: 'maybe' }; }, path: '/Job/ParameterizedJob/Payload', message: 'Unknown payload requirement: "maybe"' },
  { name: 'parameterized meta not disjoint', make: aBatchJob, mutate: (j) => { delete j.Periodic; j.ParameterizedJob = { MetaRequired: ['a'], MetaOptional: ['a'] }; }, path: '/Job/ParameterizedJob', message: 'should be disjoint' },
  { name: 'payload on register', make: aBatchJob, mutate: (j) => { j.Payload = 'aGk='; }, path: '/Job/Payload', message: "job can't be submitted with a payload" },
  // TaskGroup.Validate
  { name: 'negative count', make: aServiceJob, mutate: (j) => { g(j).Count = -1; }, path: '/Job/TaskGroups/0/Count', message: "Task group count can't be negative" },
  { name: 'group without tasks', make: aServiceJob, mutate: (j) => { g(j).Tasks = []; }, path: '/Job/TaskGroups/0/Tasks', message: 'Missing tasks for task group' },
  { name: 'update block on a batch job', make: aBatchJob, mutate: (j) => { g(j).Update = { MaxParallel: 1 }; }, path: '/Job/TaskGroups/0/Update', message: 'Job type "batch" does not allow update block' },
  { name: 'job-level update on a batch job', make: aBatchJob, mutate: (j) => { j.Update = { MaxParallel: 1 }; }, path: '/Job/TaskGroups/0/Update', message: 'does not allow update block' },
  { name: 'update block on a sysbatch job', make: aBatchJob, mutate: (j) => { j.Type = 'sysbatch'; g(j).Update = { MaxParallel: 1 }; }, path: '/Job/TaskGroups/0/Update', message: 'Job type "sysbatch" does not allow update block' },
  { name: 'migrate block on a batch job', make: aBatchJob, mutate: (j) => { g(j).Migrate = { MaxParallel: 1 }; }, path: '/Job/TaskGroups/0/Migrate', message: 'does not allow migrate block' },
  { name: 'reschedule policy on a system job', make: aServiceJob, mutate: (j) => { j.Type = 'system'; g(j).Count = 1; delete g(j).Update; g(j).ReschedulePolicy = { Attempts: 1 }; }, path: '/Job/TaskGroups/0/ReschedulePolicy', message: 'System jobs should not have a reschedule policy' },
  { name: 'duplicate task names', make: aServiceJob, mutate: (j) => { g(j).Tasks.push(structuredClone(t(j))); }, path: '/Job/TaskGroups/0/Tasks/1/Name', message: "Task 2 redefines 'app' from task 1" },
  { name: 'task without a name', make: aServiceJob, mutate: (j) => { delete t(j).Name; }, path: '/Job/TaskGroups/0/Tasks/0/Name', message: 'Task 1 missing name' },
  { name: 'two leaders', make: aServiceJob, mutate: (j) => { t(j).Leader = true; const b = structuredClone(t(j)); b.Name = 'b'; g(j).Tasks.push(b); }, path: '/Job/TaskGroups/0/Tasks', message: 'Only one task may be marked as leader' },
  { name: 'ephemeral disk too small', make: aServiceJob, mutate: (j) => { g(j).EphemeralDisk = { SizeMB: 5 }; }, path: '/Job/TaskGroups/0/EphemeralDisk/SizeMB', message: 'minimum DiskMB value is 10; got 5' },
  { name: 'duplicate port label', make: aServiceJob, mutate: (j) => { g(j).Networks[0].DynamicPorts.push({ Label: 'http' }); }, path: '/Job/TaskGroups/0/Networks/0/DynamicPorts/1/Label', message: 'Port label http already in use' },
  { name: 'static port reserved twice', make: aServiceJob, mutate: (j) => { g(j).Networks[0].ReservedPorts = [{ Label: 'a', Value: 80 }, { Label: 'b', Value: 80 }]; }, path: '/Job/TaskGroups/0/Networks/0/ReservedPorts/1/Value', message: 'Task group network validation failed: Static port 80 already reserved by taskgroup network:a' },
  { name: 'port above 65535', make: aServiceJob, mutate: (j) => { g(j).Networks[0].ReservedPorts = [{ Label: 'a', Value: 70000 }]; }, path: '/Job/TaskGroups/0/Networks/0/ReservedPorts/0/Value', message: 'Port a (70000) cannot be greater than 65535' },
  { name: 'port mapped to a negative', make: aServiceJob, mutate: (j) => { g(j).Networks[0].DynamicPorts[0].To = -2; }, path: '/Job/TaskGroups/0/Networks/0/DynamicPorts/0/To', message: 'cannot be mapped to negative value -2' },
  { name: 'negative shutdown delay', make: aServiceJob, mutate: (j) => { g(j).ShutdownDelay = -1; }, path: '/Job/TaskGroups/0/ShutdownDelay', message: 'ShutdownDelay must be a positive value' },
  { name: 'scaling max below min', make: aServiceJob, mutate: (j) => { g(j).Scaling = { Min: 3, Max: 1, Enabled: true }; g(j).Count = 3; }, path: '/Job/TaskGroups/0/Scaling/Max', message: 'maximum count must not be less than minimum count' },
  { name: 'count below scaling min', make: aServiceJob, mutate: (j) => { g(j).Scaling = { Min: 3, Max: 5, Enabled: true }; }, path: '/Job/TaskGroups/0/Count', message: 'must not be less than minimum count' },
  // services
  { name: 'service port label that names no port', make: aServiceJob, mutate: (j) => { g(j).Services[0].PortLabel = 'web'; }, path: '/Job/TaskGroups/0/Services/0/PortLabel', message: 'port label "web" referenced by services web-app does not exist' },
  { name: 'check port label that names no port', make: aServiceJob, mutate: (j) => { g(j).Services[0].Checks[0].PortLabel = 'admin'; }, path: '/Job/TaskGroups/0/Services/0/Checks/0/PortLabel', message: 'port label "admin" referenced by services web-app does not exist' },
  { name: 'task service using a group port is fine, one using a missing task port is not', make: aServiceJob, mutate: (j) => { t(j).Services = [{ Name: 'side', PortLabel: 'metrics' }]; }, path: '/Job/TaskGroups/0/Tasks/0/Services/0/PortLabel', message: 'port label "metrics" referenced by services side does not exist' },
  { name: 'service name with an underscore', make: aServiceJob, mutate: (j) => { g(j).Services[0].Name = 'web_app'; }, path: '/Job/TaskGroups/0/Services/0/Name', message: 'service name must be valid per RFC 1123' },
  { name: 'service name of 64 characters', make: aServiceJob, mutate: (j) => { g(j).Services[0].Name = 'a'.repeat(64); }, path: '/Job/TaskGroups/0/Services/0/Name', message: 'service name must be valid per RFC 1123' },
  { name: 'service name ending with a dash', make: aServiceJob, mutate: (j) => { g(j).Services[0].Name = 'web-'; }, path: '/Job/TaskGroups/0/Services/0/Name', message: 'service name must be valid' },
  { name: 'duplicate service', make: aServiceJob, mutate: (j) => { g(j).Services.push(structuredClone(g(j).Services[0])); }, path: '/Job/TaskGroups/0/Services', message: 'Services are not unique: group->web-app:http' },
  { name: 'two service providers in one group', make: aServiceJob, mutate: (j) => { t(j).Services = [{ Name: 'side', Provider: 'nomad' }]; }, path: '/Job/TaskGroups/0/Services', message: 'Multiple service providers used: task group services must use the same provider' },
  { name: 'group service in driver address mode', make: aServiceJob, mutate: (j) => { g(j).Services[0].AddressMode = 'driver'; }, path: '/Job/TaskGroups/0/Services/0/AddressMode', message: 'only services defined in a "task" block can use this mode' },
  { name: 'group check naming an unknown task', make: aServiceJob, mutate: (j) => { g(j).Services[0].Checks[0].TaskName = 'ghost'; }, path: '/Job/TaskGroups/0/Services/0/Checks/0/TaskName', message: 'Check alive invalid: refers to non-existent task ghost' },
  { name: 'port label used twice across group and task networks', make: aServiceJob, mutate: (j) => { t(j).Resources.Networks = [{ DynamicPorts: [{ Label: 'http' }] }]; }, path: '/Job/TaskGroups/0/Tasks/0/Resources/Networks/0/DynamicPorts/0/Label', message: 'Port label http already in use by taskgroup network' },
  { name: 'invalid network hostname', make: aServiceJob, mutate: (j) => { g(j).Networks[0].Hostname = 'bad host!'; }, path: '/Job/TaskGroups/0/Networks/0/Hostname', message: 'Hostname is not a valid DNS name' },
  { name: 'kill timeout longer than the progress deadline', make: aServiceJob, mutate: (j) => { t(j).KillTimeout = 20 * MINUTE; }, path: '/Job/TaskGroups/0/Tasks/0/KillTimeout', message: "KillTimout (20m0s) longer than the group's ProgressDeadline (10m0s)" },
  { name: 'affinity on a system job', make: aServiceJob, mutate: (j) => { j.Type = 'system'; g(j).Count = 1; delete g(j).Update; g(j).Affinities = [{ LTarget: 'a', RTarget: 'b', Operand: '=', Weight: 50 }]; }, path: '/Job/TaskGroups/0/Affinities', message: 'System jobs may not have an affinity block' },
  { name: 'scaling policy without max', make: aServiceJob, mutate: (j) => { g(j).Scaling = { Min: 1, Enabled: true }; }, path: '/Job/TaskGroups/0/Scaling/Max', message: 'maximum count must be specified and non-negative' },
  { name: 'unknown service provider', make: aServiceJob, mutate: (j) => { g(j).Services[0].Provider = 'etcd'; }, path: '/Job/TaskGroups/0/Services/0/Provider', message: 'Service provider must be one of' },
  { name: 'invalid service address mode', make: aServiceJob, mutate: (j) => { g(j).Services[0].AddressMode = 'public'; }, path: '/Job/TaskGroups/0/Services/0/AddressMode', message: 'address_mode must be' },
  { name: 'check of an unknown type', make: aServiceJob, mutate: (j) => { g(j).Services[0].Checks[0].Type = 'ping'; }, path: '/Job/TaskGroups/0/Services/0/Checks/0/Type', message: 'invalid type ("ping")' },
  { name: 'script check on a nomad service', make: aServiceJob, mutate: (j) => { g(j).Services[0].Provider = 'nomad'; g(j).Services[0].Checks[0].Type = 'script'; }, path: '/Job/TaskGroups/0/Services/0/Checks/0/Type', message: 'for Nomad service checks' },
  { name: 'http check without path', make: aServiceJob, mutate: (j) => { delete g(j).Services[0].Checks[0].Path; }, path: '/Job/TaskGroups/0/Services/0/Checks/0/Path', message: 'http type must have http path' },
  { name: 'http check with an absolute URL', make: aServiceJob, mutate: (j) => { g(j).Services[0].Checks[0].Path = 'http://evil/health'; }, path: '/Job/TaskGroups/0/Services/0/Checks/0/Path', message: 'http type must have a relative http path' },
  { name: 'check interval under a second', make: aServiceJob, mutate: (j) => { g(j).Services[0].Checks[0].Interval = 500 * 1_000_000; }, path: '/Job/TaskGroups/0/Services/0/Checks/0/Interval', message: 'interval (500ms) cannot be lower than 1s' },
  { name: 'check without interval', make: aServiceJob, mutate: (j) => { delete g(j).Services[0].Checks[0].Interval; }, path: '/Job/TaskGroups/0/Services/0/Checks/0/Interval', message: 'missing required value interval' },
  { name: 'check without timeout', make: aServiceJob, mutate: (j) => { delete g(j).Services[0].Checks[0].Timeout; }, path: '/Job/TaskGroups/0/Services/0/Checks/0/Timeout', message: 'missing required value timeout' },
  { name: 'check timeout under a second', make: aServiceJob, mutate: (j) => { g(j).Services[0].Checks[0].Timeout = 10; }, path: '/Job/TaskGroups/0/Services/0/Checks/0/Timeout', message: 'timeout (10ns) is lower than required minimum timeout 1s' },
  { name: 'check that needs a port with none', make: aServiceJob, mutate: (j) => { delete g(j).Services[0].PortLabel; }, path: '/Job/TaskGroups/0/Services/0/Checks/0/PortLabel', message: 'check requires a port but neither check nor service "web-app" have a port' },
  { name: 'numeric check port without driver mode', make: aServiceJob, mutate: (j) => { g(j).Services[0].Checks[0].PortLabel = '8080'; }, path: '/Job/TaskGroups/0/Services/0/Checks/0/PortLabel', message: 'cannot use a numeric port 8080 without setting address_mode="driver"' },
  { name: 'duplicate check names', make: aServiceJob, mutate: (j) => { g(j).Services[0].Checks.push(structuredClone(g(j).Services[0].Checks[0])); }, path: '/Job/TaskGroups/0/Services/0/Checks/1/Name', message: 'check "alive" is duplicate' },
  { name: 'invalid initial check status', make: aServiceJob, mutate: (j) => { g(j).Services[0].Checks[0].InitialStatus = 'ok'; }, path: '/Job/TaskGroups/0/Services/0/Checks/0/InitialStatus', message: 'invalid initial check state (ok)' },
  { name: 'check restart with a negative limit', make: aServiceJob, mutate: (j) => { g(j).Services[0].Checks[0].CheckRestart = { Limit: -1 }; }, path: '/Job/TaskGroups/0/Services/0/Checks/0/CheckRestart/Limit', message: 'limit must be greater than or equal to 0' },
  // update strategy
  { name: 'negative max parallel', make: aServiceJob, mutate: (j) => { g(j).Update.MaxParallel = -1; }, path: '/Job/TaskGroups/0/Update/MaxParallel', message: 'Max parallel can not be less than zero' },
  { name: 'negative canary', make: aServiceJob, mutate: (j) => { g(j).Update.Canary = -1; g(j).Update.AutoPromote = false; }, path: '/Job/TaskGroups/0/Update/Canary', message: 'Canary count can not be less than zero' },
  { name: 'auto promote without canaries', make: aServiceJob, mutate: (j) => { g(j).Update.Canary = 0; }, path: '/Job/TaskGroups/0/Update/AutoPromote', message: 'Auto Promote requires a Canary count greater than zero' },
  { name: 'min healthy time not below healthy deadline', make: aServiceJob, mutate: (j) => { g(j).Update.MinHealthyTime = 5 * MINUTE; }, path: '/Job/TaskGroups/0/Update/MinHealthyTime', message: 'Minimum healthy time must be less than healthy deadline: 5m0s > 5m0s' },
  { name: 'healthy deadline not below progress deadline', make: aServiceJob, mutate: (j) => { g(j).Update.HealthyDeadline = 10 * MINUTE; }, path: '/Job/TaskGroups/0/Update/HealthyDeadline', message: 'Healthy deadline must be less than progress deadline: 10m0s > 10m0s' },
  { name: 'zero healthy deadline', make: aServiceJob, mutate: (j) => { g(j).Update.HealthyDeadline = 0; g(j).Update.MinHealthyTime = 0; }, path: '/Job/TaskGroups/0/Update/HealthyDeadline', message: 'Healthy deadline must be greater than zero' },
  { name: 'negative progress deadline', make: aServiceJob, mutate: (j) => { g(j).Update.ProgressDeadline = -1; }, path: '/Job/TaskGroups/0/Update/ProgressDeadline', message: 'Progress deadline must be zero or greater' },
  { name: 'negative min healthy time', make: aServiceJob, mutate: (j) => { g(j).Update.MinHealthyTime = -1; }, path: '/Job/TaskGroups/0/Update/MinHealthyTime', message: 'Minimum healthy time may not be less than zero' },
  { name: 'invalid health check mode', make: aServiceJob, mutate: (j) => { g(j).Update.HealthCheck = 'http'; }, path: '/Job/TaskGroups/0/Update/HealthCheck', message: 'Invalid health check given: "http"' },
  { name: 'zero stagger', make: aServiceJob, mutate: (j) => { g(j).Update.Stagger = -5; }, path: '/Job/TaskGroups/0/Update/Stagger', message: 'Stagger must be greater than zero' },
  // restart policy
  { name: 'unknown restart mode', make: aServiceJob, mutate: (j) => { g(j).RestartPolicy.Mode = 'always'; }, path: '/Job/TaskGroups/0/RestartPolicy/Mode', message: 'Unsupported restart mode: "always"' },
  { name: 'delay mode with zero attempts', make: aServiceJob, mutate: (j) => { g(j).RestartPolicy.Mode = 'delay'; g(j).RestartPolicy.Attempts = 0; }, path: '/Job/TaskGroups/0/RestartPolicy/Attempts', message: 'Restart policy "delay" with 0 attempts is ambiguous' },
  { name: 'restart interval under 5s', make: aServiceJob, mutate: (j) => { g(j).RestartPolicy.Interval = 2 * SECOND; g(j).RestartPolicy.Attempts = 0; }, path: '/Job/TaskGroups/0/RestartPolicy/Interval', message: 'Interval can not be less than 5s (got 2s)' },
  { name: 'restarts that do not fit the interval', make: aServiceJob, mutate: (j) => { g(j).RestartPolicy = { Attempts: 10, Interval: MINUTE, Delay: 15 * SECOND, Mode: 'fail' }; }, path: '/Job/TaskGroups/0/RestartPolicy/Delay', message: "Nomad can't restart the TaskGroup 10 times in an interval of 1m0s with a delay of 15s" },
  { name: 'task restart policy checked too', make: aServiceJob, mutate: (j) => { t(j).RestartPolicy = { Mode: 'sometimes' }; }, path: '/Job/TaskGroups/0/Tasks/0/RestartPolicy/Mode', message: 'Unsupported restart mode: "sometimes"' },
  // reschedule policy
  { name: 'reschedule delay under 5s', make: aServiceJob, mutate: (j) => { g(j).ReschedulePolicy = { Unlimited: true, Delay: SECOND, DelayFunction: 'constant' }; }, path: '/Job/TaskGroups/0/ReschedulePolicy/Delay', message: 'Delay cannot be less than 5s (got 1s)' },
  { name: 'reschedule attempts and unlimited', make: aServiceJob, mutate: (j) => { g(j).ReschedulePolicy = { Attempts: 3, Interval: HOUR, Unlimited: true }; }, path: '/Job/TaskGroups/0/ReschedulePolicy/Unlimited', message: 'If Attempts >0, Unlimited cannot also be set to true' },
  { name: 'reschedule with unknown delay function', make: aServiceJob, mutate: (j) => { g(j).ReschedulePolicy = { DelayFunction: 'linear' }; }, path: '/Job/TaskGroups/0/ReschedulePolicy/DelayFunction', message: 'Invalid delay function "linear"' },
  { name: 'reschedule max delay below delay', make: aServiceJob, mutate: (j) => { g(j).ReschedulePolicy = { Delay: MINUTE, MaxDelay: 30 * SECOND }; }, path: '/Job/TaskGroups/0/ReschedulePolicy/MaxDelay', message: 'Max Delay cannot be less than Delay 1m0s (got 30s)' },
  { name: 'reschedule interval under 15s', make: aBatchJob, mutate: (j) => { g(j).ReschedulePolicy = { Attempts: 1, Interval: 10 * SECOND }; }, path: '/Job/TaskGroups/0/ReschedulePolicy/Interval', message: 'Interval cannot be less than 15s (got 10s)' },
  { name: 'reschedule attempts that do not fit', make: aBatchJob, mutate: (j) => { g(j).ReschedulePolicy = { Attempts: 10, Interval: MINUTE, Delay: 30 * SECOND, DelayFunction: 'constant' }; }, path: '/Job/TaskGroups/0/ReschedulePolicy/Interval', message: 'Nomad can only make 2 attempts in 1m0s with initial delay 30s and delay function "constant"' },
  // tasks
  { name: 'task without a driver', make: aServiceJob, mutate: (j) => { delete t(j).Driver; }, path: '/Job/TaskGroups/0/Tasks/0/Driver', message: 'Missing task driver' },
  { name: 'task name with a slash', make: aServiceJob, mutate: (j) => { t(j).Name = 'a/b'; }, path: '/Job/TaskGroups/0/Tasks/0/Name', message: 'Task name cannot include slashes' },
  { name: 'negative kill timeout', make: aServiceJob, mutate: (j) => { t(j).KillTimeout = -1; }, path: '/Job/TaskGroups/0/Tasks/0/KillTimeout', message: 'KillTimeout must be a positive value' },
  { name: 'memory under 10 MB', make: aServiceJob, mutate: (j) => { t(j).Resources.MemoryMB = 5; }, path: '/Job/TaskGroups/0/Tasks/0/Resources/MemoryMB', message: 'minimum MemoryMB value is 10; got 5' },
  { name: 'zero CPU', make: aServiceJob, mutate: (j) => { t(j).Resources.CPU = 0; }, path: '/Job/TaskGroups/0/Tasks/0/Resources/CPU', message: 'minimum CPU value is 1; got 0' },
  { name: 'memory max below memory', make: aServiceJob, mutate: (j) => { t(j).Resources.MemoryMaxMB = 128; }, path: '/Job/TaskGroups/0/Tasks/0/Resources/MemoryMaxMB', message: 'MemoryMaxMB value (128) should be larger than MemoryMB value (256)' },
  { name: 'cpu and cores', make: aServiceJob, mutate: (j) => { t(j).Resources.Cores = 2; }, path: '/Job/TaskGroups/0/Tasks/0/Resources/Cores', message: "Task can only ask for 'cpu' or 'cores' resource, not both." },
  { name: 'task disk resources', make: aServiceJob, mutate: (j) => { t(j).Resources.DiskMB = 100; }, path: '/Job/TaskGroups/0/Tasks/0/Resources/DiskMB', message: "Task can't ask for disk resources" },
  { name: 'log config of zero files', make: aServiceJob, mutate: (j) => { t(j).LogConfig = { MaxFiles: 0, MaxFileSizeMB: 10 }; }, path: '/Job/TaskGroups/0/Tasks/0/LogConfig/MaxFiles', message: 'minimum number of files is 1; got 0' },
  { name: 'log storage larger than the disk', make: aServiceJob, mutate: (j) => { t(j).LogConfig = { MaxFiles: 10, MaxFileSizeMB: 50 }; }, path: '/Job/TaskGroups/0/Tasks/0/LogConfig', message: 'log storage (500 MB) must be less than requested disk capacity (300 MB)' },
  { name: 'distinct_hosts at task level', make: aServiceJob, mutate: (j) => { t(j).Constraints = [{ Operand: 'distinct_hosts' }]; }, path: '/Job/TaskGroups/0/Tasks/0/Constraints/0/Operand', message: 'Constraint 1 has disallowed Operand at task level: distinct_hosts' },
  { name: 'artifact without a source', make: aServiceJob, mutate: (j) => { t(j).Artifacts = [{ RelativeDest: 'local/' }]; }, path: '/Job/TaskGroups/0/Tasks/0/Artifacts/0/GetterSource', message: 'Artifact 1 validation failed: source must be specified' },
  { name: 'artifact escaping the alloc dir', make: aServiceJob, mutate: (j) => { t(j).Artifacts = [{ GetterSource: 'https://x/y.tgz', RelativeDest: '../../../etc' }]; }, path: '/Job/TaskGroups/0/Tasks/0/Artifacts/0/RelativeDest', message: 'destination escapes allocation directory' },
  { name: 'artifact with a malformed checksum', make: aServiceJob, mutate: (j) => { t(j).Artifacts = [{ GetterSource: 'https://x/y.tgz', GetterOptions: { checksum: 'sha256:abc' } }]; }, path: '/Job/TaskGroups/0/Artifacts/0/GetterOptions/checksum'.replace('TaskGroups/0/', 'TaskGroups/0/Tasks/0/'), message: 'invalid sha256 checksum' },
  { name: 'invalid lifecycle hook', make: aServiceJob, mutate: (j) => { t(j).Lifecycle = { Hook: 'prerun' }; }, path: '/Job/TaskGroups/0/Tasks/0/Lifecycle/Hook', message: 'invalid hook "prerun"' },
  // templates
  { name: 'template without content', make: aServiceJob, mutate: (j) => { t(j).Templates = [{ DestPath: 'secrets/env' }]; }, path: '/Job/TaskGroups/0/Tasks/0/Templates/0/EmbeddedTmpl', message: 'Must specify a source path or have an embedded template' },
  { name: 'template without destination', make: aServiceJob, mutate: (j) => { t(j).Templates = [{ EmbeddedTmpl: 'x' }]; }, path: '/Job/TaskGroups/0/Tasks/0/Templates/0/DestPath', message: 'Must specify a destination for the template' },
  { name: 'template escaping the alloc dir', make: aServiceJob, mutate: (j) => { t(j).Templates = [{ EmbeddedTmpl: 'x', DestPath: '../../../etc/passwd' }]; }, path: '/Job/TaskGroups/0/Tasks/0/Templates/0/DestPath', message: 'destination escapes allocation directory' },
  { name: 'template with an unknown change mode', make: aServiceJob, mutate: (j) => { t(j).Templates = [{ EmbeddedTmpl: 'x', DestPath: 'secrets/env', ChangeMode: 'reload' }]; }, path: '/Job/TaskGroups/0/Tasks/0/Templates/0/ChangeMode', message: 'Invalid change mode. Must be one of the following: noop, signal, script, restart' },
  { name: 'signal template without signal', make: aServiceJob, mutate: (j) => { t(j).Templates = [{ EmbeddedTmpl: 'x', DestPath: 'secrets/env', ChangeMode: 'signal' }]; }, path: '/Job/TaskGroups/0/Tasks/0/Templates/0/ChangeSignal', message: 'Must specify signal value when change mode is signal' },
  { name: 'signal with env templates', make: aServiceJob, mutate: (j) => { t(j).Templates = [{ EmbeddedTmpl: 'x', DestPath: 'secrets/env', ChangeMode: 'signal', ChangeSignal: 'SIGHUP', Envvars: true }]; }, path: '/Job/TaskGroups/0/Tasks/0/Templates/0/Envvars', message: 'cannot use signals with env var templates' },
  { name: 'script change mode without script', make: aServiceJob, mutate: (j) => { t(j).Templates = [{ EmbeddedTmpl: 'x', DestPath: 'secrets/env', ChangeMode: 'script' }]; }, path: '/Job/TaskGroups/0/Tasks/0/Templates/0/ChangeScript', message: 'must specify change script configuration value' },
  { name: 'template perms not octal', make: aServiceJob, mutate: (j) => { t(j).Templates = [{ EmbeddedTmpl: 'x', DestPath: 'secrets/env', Perms: '0999' }]; }, path: '/Job/TaskGroups/0/Tasks/0/Templates/0/Perms', message: 'Failed to parse "0999" as octal' },
  { name: 'negative splay', make: aServiceJob, mutate: (j) => { t(j).Templates = [{ EmbeddedTmpl: 'x', DestPath: 'secrets/env', Splay: -1 }]; }, path: '/Job/TaskGroups/0/Tasks/0/Templates/0/Splay', message: 'Must specify positive splay value' },
  { name: 'two templates with one destination', make: aServiceJob, mutate: (j) => { t(j).Templates = [{ EmbeddedTmpl: 'x', DestPath: 'secrets/env' }, { EmbeddedTmpl: 'y', DestPath: 'secrets/env' }]; }, path: '/Job/TaskGroups/0/Tasks/0/Templates/1/DestPath', message: 'Template 2 has same destination as 1' },
  // vault
  { name: 'vault signal without signal', make: aServiceJob, mutate: (j) => { t(j).Vault = { ChangeMode: 'signal' }; }, path: '/Job/TaskGroups/0/Tasks/0/Vault/ChangeSignal', message: 'Vault validation failed: Signal must be specified' },
  { name: 'vault unknown change mode', make: aServiceJob, mutate: (j) => { t(j).Vault = { ChangeMode: 'reload' }; }, path: '/Job/TaskGroups/0/Tasks/0/Vault/ChangeMode', message: 'Unknown change mode "reload"' },
  { name: 'vault root policy', make: aServiceJob, mutate: (j) => { t(j).Vault = { Policies: ['root'] }; }, path: '/Job/TaskGroups/0/Tasks/0/Vault/Policies', message: 'Can not specify "root" policy' },
  // volumes
  { name: 'host volume without source', make: aHostVolumeJob, mutate: (j) => { delete g(j).Volumes.data.Source; }, path: '/Job/TaskGroups/0/Volumes/data/Source', message: 'Task group volume validation for data failed: volume has an empty source' },
  { name: 'volume of an unknown type', make: aHostVolumeJob, mutate: (j) => { g(j).Volumes.data.Type = 'nfs'; }, path: '/Job/TaskGroups/0/Volumes/data/Type', message: 'Volume data has unrecognised type nfs' },
  { name: 'host volume with mount options', make: aHostVolumeJob, mutate: (j) => { g(j).Volumes.data.MountOptions = { FSType: 'ext4' }; }, path: '/Job/TaskGroups/0/Volumes/data/MountOptions', message: 'host volumes cannot have mount options' },
  { name: 'host volume with an unknown access mode', make: aHostVolumeJob, mutate: (j) => { g(j).Volumes.data.AccessMode = 'exclusive'; }, path: '/Job/TaskGroups/0/Volumes/data/AccessMode', message: 'host volumes cannot have an access mode of "exclusive"' },
  { name: 'host volume with an unknown attachment mode', make: aHostVolumeJob, mutate: (j) => { g(j).Volumes.data.AttachmentMode = 'nfs'; }, path: '/Job/TaskGroups/0/Volumes/data/AttachmentMode', message: 'host volumes cannot have an attachment mode of "nfs"' },
  { name: 'reader-only volume that is not read-only', make: aHostVolumeJob, mutate: (j) => { g(j).Volumes.data.AccessMode = 'single-node-reader-only'; }, path: '/Job/TaskGroups/0/Volumes/data/ReadOnly', message: 'single-node-reader-only volumes must be read-only' },
  { name: 'per_alloc volume with canaries', make: aHostVolumeJob, mutate: (j) => { g(j).Volumes.data.PerAlloc = true; g(j).Volumes.data.Sticky = false; g(j).Update.Canary = 1; }, path: '/Job/TaskGroups/0/Volumes/data/PerAlloc', message: 'volume cannot be per_alloc when canaries are in use' },
  { name: 'sticky and per_alloc', make: aHostVolumeJob, mutate: (j) => { g(j).Volumes.data.PerAlloc = true; }, path: '/Job/TaskGroups/0/Volumes/data/Sticky', message: 'volume cannot be sticky and per_alloc' },
  { name: 'volume mount of an undefined volume', make: aHostVolumeJob, mutate: (j) => { t(j).VolumeMounts[0].Volume = 'cache'; }, path: '/Job/TaskGroups/0/Tasks/0/VolumeMounts/0/Volume', message: 'Volume Mount (0) references undefined volume cache' },
  { name: 'volume mount with an invalid propagation mode', make: aHostVolumeJob, mutate: (j) => { t(j).VolumeMounts[0].PropagationMode = 'shared'; }, path: '/Job/TaskGroups/0/Tasks/0/VolumeMounts/0/PropagationMode', message: 'invalid propagation mode' },
  { name: 'migrate with an unknown health check', make: aServiceJob, mutate: (j) => { g(j).Migrate = { MaxParallel: 1, HealthCheck: 'http' }; }, path: '/Job/TaskGroups/0/Migrate/HealthCheck', message: 'Invalid HealthCheck: "http"' },
  { name: 'migrate min healthy time above deadline', make: aServiceJob, mutate: (j) => { g(j).Migrate = { MaxParallel: 1, HealthCheck: 'checks', MinHealthyTime: 2 * MINUTE, HealthyDeadline: MINUTE }; }, path: '/Job/TaskGroups/0/Migrate/MinHealthyTime', message: 'MinHealthyTime must be less than HealthyDeadline' },
  { name: 'negative max_client_disconnect', make: aServiceJob, mutate: (j) => { g(j).MaxClientDisconnect = -1; }, path: '/Job/TaskGroups/0/MaxClientDisconnect', message: 'max_client_disconnect cannot be negative' },
  { name: 'negative task shutdown delay', make: aServiceJob, mutate: (j) => { t(j).ShutdownDelay = -1; }, path: '/Job/TaskGroups/0/Tasks/0/ShutdownDelay', message: 'ShutdownDelay must be a positive value' },
  { name: 'leader task with a lifecycle', make: aServiceJob, mutate: (j) => { t(j).Leader = true; t(j).Lifecycle = { Hook: 'prestart' }; }, path: '/Job/TaskGroups/0/Tasks/0/Leader', message: 'Task cannot be both a leader and have a lifecycle' },
  { name: 'secrets larger than memory', make: aServiceJob, mutate: (j) => { t(j).Resources.SecretsMB = 512; }, path: '/Job/TaskGroups/0/Tasks/0/Resources/SecretsMB', message: 'SecretsMB value (512) cannot be larger than MemoryMB value (256)' },
  { name: 'task name with a NUL', make: aServiceJob, mutate: (j) => { t(j).Name = 'a\u0000'; }, path: '/Job/TaskGroups/0/Tasks/0/Name', message: 'Task name cannot include null characters' },
  { name: 'group name with a slash', make: aServiceJob, mutate: (j) => { g(j).Name = 'a/b'; }, path: '/Job/TaskGroups/0/Name', message: 'Task group name cannot include slashes' },
  { name: 'numeric driver-mode check port of 0', make: aServiceJob, mutate: (j) => { Object.assign(g(j).Services[0].Checks[0], { PortLabel: '0', AddressMode: 'driver' }); }, path: '/Job/TaskGroups/0/Services/0/Checks/0/PortLabel', message: 'has invalid numeric port 0' },
  { name: 'check with an unknown HTTP method', make: aServiceJob, mutate: (j) => { g(j).Services[0].Checks[0].Method = 'FETCH'; }, path: '/Job/TaskGroups/0/Services/0/Checks/0/Method', message: 'method type "FETCH" not supported' },
  { name: 'check with an invalid on_update', make: aServiceJob, mutate: (j) => { g(j).Services[0].Checks[0].OnUpdate = 'sometimes'; }, path: '/Job/TaskGroups/0/Services/0/Checks/0/OnUpdate', message: 'on_update must be' },
  { name: 'check with address_mode auto', make: aServiceJob, mutate: (j) => { g(j).Services[0].Checks[0].AddressMode = 'auto'; }, path: '/Job/TaskGroups/0/Services/0/Checks/0/AddressMode', message: 'auto only valid for services' },
  { name: 'check restart with negative grace', make: aServiceJob, mutate: (j) => { g(j).Services[0].Checks[0].CheckRestart = { Grace: -1 }; }, path: '/Job/TaskGroups/0/Services/0/Checks/0/CheckRestart/Grace', message: 'grace period must be greater than or equal to 0' },
  { name: 'service on_update invalid', make: aServiceJob, mutate: (j) => { g(j).Services[0].OnUpdate = 'never'; }, path: '/Job/TaskGroups/0/Services/0/OnUpdate', message: 'Service on_update must be' },
  { name: 'task service naming another task', make: aServiceJob, mutate: (j) => { t(j).Services = [{ Name: 'side', TaskName: 'other' }]; }, path: '/Job/TaskGroups/0/Tasks/0/Services/0/TaskName', message: 'Service side is invalid: may only specify task the service belongs to, got "other"' },
  { name: 'group service naming an unknown task', make: aServiceJob, mutate: (j) => { g(j).Services[0].TaskName = 'ghost'; }, path: '/Job/TaskGroups/0/Services/0/TaskName', message: 'references unknown task ghost' },
  { name: 'group script check without a task', make: aServiceJob, mutate: (j) => { g(j).Services[0].Checks.push({ Name: 'script', Type: 'script', Command: '/bin/check', Interval: SECOND, Timeout: SECOND }); }, path: '/Job/TaskGroups/0/Services/0/Checks/1/TaskName', message: 'Service [web]->web-app or Check script must specify task parameter' },
  { name: 'nomad service with Connect', make: aServiceJob, mutate: (j) => { g(j).Services[0].Provider = 'nomad'; g(j).Services[0].Connect = { Native: true }; }, path: '/Job/TaskGroups/0/Services/0/Connect', message: 'provider nomad cannot include Connect' },
  { name: 'template wait min above max', make: aServiceJob, mutate: (j) => { t(j).Templates = [{ EmbeddedTmpl: 'x', DestPath: 'local/x', Wait: { Min: 10 * SECOND, Max: SECOND } }]; }, path: '/Job/TaskGroups/0/Tasks/0/Templates/0/Wait', message: 'wait min must be less than max' },
  { name: 'stop_after_client_disconnect on a system job', make: aServiceJob, mutate: (j) => { j.Type = 'system'; g(j).Count = 1; delete g(j).Update; g(j).StopAfterClientDisconnect = SECOND; }, path: '/Job/TaskGroups/0/StopAfterClientDisconnect', message: 'stop_after_client_disconnect can only be set in batch and service jobs' },
  { name: 'negative stop_after_client_disconnect', make: aServiceJob, mutate: (j) => { g(j).StopAfterClientDisconnect = -1; }, path: '/Job/TaskGroups/0/StopAfterClientDisconnect', message: 'stop_after_client_disconnect must be a positive value' },
  { name: 'spread on a system job', make: aServiceJob, mutate: (j) => { j.Type = 'system'; g(j).Count = 1; delete g(j).Update; j.Spreads = [{ Attribute: '${node.datacenter}', Weight: 50 }]; }, path: '/Job/Spreads', message: 'System jobs may not have a spread block' },
  { name: 'volume mount with an invalid SELinux label', make: aHostVolumeJob, mutate: (j) => { t(j).VolumeMounts[0].SELinuxLabel = 'x'; }, path: '/Job/TaskGroups/0/Tasks/0/VolumeMounts/0/SELinuxLabel', message: 'invalid SELinux label' },
  { name: 'artifact with an unknown mode', make: aServiceJob, mutate: (j) => { t(j).Artifacts = [{ GetterSource: 'https://x/y', GetterMode: 'tree' }]; }, path: '/Job/TaskGroups/0/Tasks/0/Artifacts/0/GetterMode', message: 'invalid artifact mode "tree"' },
  { name: 'dispatch payload escaping the task dir', make: aServiceJob, mutate: (j) => { t(j).DispatchPayload = { File: '../../../../etc/x' }; }, path: '/Job/TaskGroups/0/Tasks/0/DispatchPayload/File', message: 'destination escapes allocation directory' },
  { name: 'log file size of zero', make: aServiceJob, mutate: (j) => { t(j).LogConfig = { MaxFiles: 1, MaxFileSizeMB: 0 }; }, path: '/Job/TaskGroups/0/Tasks/0/LogConfig/MaxFileSizeMB', message: 'minimum file size is 1MB; got 0' },
  { name: 'exponential reschedule that cannot fit', make: aBatchJob, mutate: (j) => { g(j).ReschedulePolicy = { Attempts: 5, Interval: MINUTE, Delay: 10 * SECOND, DelayFunction: 'exponential', MaxDelay: MINUTE }; }, path: '/Job/TaskGroups/0/ReschedulePolicy/Interval', message: 'delay function "exponential", and delay ceiling 1m0s' },
  { name: 'CSI volume without modes', make: aHostVolumeJob, mutate: (j) => { Object.assign(g(j).Volumes.data, { Type: 'csi', Sticky: false, AccessMode: '', AttachmentMode: '' }); }, path: '/Job/TaskGroups/0/Volumes/data/AttachmentMode', message: 'CSI volumes must have an attachment mode' },
  { name: 'constraint without operand', make: aServiceJob, mutate: (j) => { j.Constraints = [{ LTarget: '${attr.kernel.name}', RTarget: 'linux', Operand: '' }]; }, path: '/Job/Constraints/0/Operand', message: 'Constraint 1 validation failed: Missing constraint operand' },
  { name: 'constraint with an unknown operand', make: aServiceJob, mutate: (j) => { j.Constraints = [{ LTarget: '${attr.kernel.name}', RTarget: 'linux', Operand: 'like' }]; }, path: '/Job/Constraints/0/Operand', message: 'Unknown constraint type "like"' },
  { name: 'comparison constraint without RTarget', make: aServiceJob, mutate: (j) => { g(j).Constraints = [{ LTarget: '${attr.kernel.name}', Operand: '=' }]; }, path: '/Job/TaskGroups/0/Constraints/0/RTarget', message: 'Operator "=" requires an RTarget' },
  { name: 'constraint without LTarget', make: aServiceJob, mutate: (j) => { g(j).Constraints = [{ RTarget: 'linux', Operand: '=' }]; }, path: '/Job/TaskGroups/0/Constraints/0/LTarget', message: 'No LTarget provided but is required by constraint' },
  { name: 'regexp constraint that does not compile', make: aServiceJob, mutate: (j) => { t(j).Constraints = [{ LTarget: '${node.unique.name}', RTarget: '([a-z', Operand: 'regexp' }]; }, path: '/Job/TaskGroups/0/Tasks/0/Constraints/0/RTarget', message: 'Regular expression failed to compile' },
  { name: 'is_set with an RTarget', make: aServiceJob, mutate: (j) => { j.Constraints = [{ LTarget: '${meta.x}', RTarget: 'y', Operand: 'is_set' }]; }, path: '/Job/Constraints/0/RTarget', message: 'Operator "is_set" does not support an RTarget' },
  { name: 'distinct_property with count 0', make: aServiceJob, mutate: (j) => { j.Constraints = [{ LTarget: '${meta.rack}', RTarget: '0', Operand: 'distinct_property' }]; }, path: '/Job/Constraints/0/RTarget', message: 'allowed count of 1 or greater' },
  { name: 'version constraint that does not parse', make: aServiceJob, mutate: (j) => { j.Constraints = [{ LTarget: '${attr.nomad.version}', RTarget: 'newest', Operand: 'version' }]; }, path: '/Job/Constraints/0/RTarget', message: 'Version constraint is invalid' },
  { name: 'affinity of zero weight', make: aServiceJob, mutate: (j) => { g(j).Affinities = [{ LTarget: '${node.datacenter}', RTarget: 'dc1', Operand: '=', Weight: 0 }]; }, path: '/Job/TaskGroups/0/Affinities/0/Weight', message: 'Affinity weight cannot be zero' },
  { name: 'affinity weight out of range', make: aServiceJob, mutate: (j) => { j.Affinities = [{ LTarget: '${node.datacenter}', RTarget: 'dc1', Operand: '=', Weight: 101 }]; }, path: '/Job/Affinities/0/Weight', message: 'Affinity weight must be within the range [-100,100]' },
  { name: 'spread without attribute', make: aServiceJob, mutate: (j) => { g(j).Spreads = [{ Weight: 50 }]; }, path: '/Job/TaskGroups/0/Spreads/0/Attribute', message: 'Missing spread attribute' },
  { name: 'spread targets over 100%', make: aServiceJob, mutate: (j) => { j.Spreads = [{ Attribute: '${node.datacenter}', Weight: 50, SpreadTarget: [{ Value: 'a', Percent: 70 }, { Value: 'b', Percent: 40 }] }]; }, path: '/Job/Spreads/0/SpreadTarget', message: 'Sum of spread target percentages must not be greater than 100%; got 110%' },
];

for (const c of cases) {
  test(`rule: ${c.name}`, () => {
    const job = c.make();
    assert.deepEqual(validateJob(job, { canonicalize: !c.strict }), [], 'the fixture is valid before the change');
    c.mutate(job);
    const errs = validateJob(job, { canonicalize: !c.strict });
    assertError(errs, c.path, c.message);
  });
}

test('canonicalization fills what the HTTP API fills, so omitted fields are not errors by default', () => {
  const j = aServiceJob();
  delete j.Region; delete j.Namespace; delete j.Datacenters; delete j.Priority; delete j.TaskGroups[0].Tasks[0].Resources;
  assert.deepEqual(validateJob(j), []);
  const c = canonicalizeJob(j) as Fixture;
  assert.equal(c.Region, 'global');
  assert.equal(c.Namespace, 'default');
  assert.deepEqual(c.Datacenters, ['*']);
  assert.equal(c.Priority, 50);
  assert.deepEqual(c.TaskGroups[0].Tasks[0].Resources, { CPU: 100, Cores: 0, MemoryMB: 300, MemoryMaxMB: 0 });
  assert.equal(c.TaskGroups[0].Update.Stagger, 30 * SECOND, 'group update merged with the defaults');
  assert.equal(c.TaskGroups[0].ReschedulePolicy.DelayFunction, 'exponential');
  assert.equal(j.Region, undefined, 'the input is not modified');
});

test('validateJobUpdate ports Nomad\'s job-update checks', () => {
  const sut = validateJobUpdate;
  assert.deepEqual(sut(aServiceJob(), aServiceJob()), []);
  assert.deepEqual(sut(undefined, aServiceJob()), []);
  const batch = aBatchJob();
  const nonPeriodic = aBatchJob();
  delete nonPeriodic.Periodic;
  assertError(sut(aServiceJob(), { ...aServiceJob(), Type: 'batch', TaskGroups: aBatchJob().TaskGroups }), '/Job/Type', 'cannot update job from type "service" to "batch"');
  assertError(sut(nonPeriodic, batch), '/Job/Periodic', 'cannot update non-periodic job to being periodic');
  assertError(sut(batch, nonPeriodic), '/Job/Periodic', 'cannot update periodic job to being non-periodic');
  const param = { ...nonPeriodic, ParameterizedJob: { Payload: 'optional' } };
  assertError(sut(nonPeriodic, param), '/Job/ParameterizedJob', 'cannot update non-parameterized job to being parameterized');
  assertError(sut(param, nonPeriodic), '/Job/ParameterizedJob', 'cannot update parameterized job to being non-parameterized');
  assertError(sut(nonPeriodic, { ...nonPeriodic, Dispatched: true }), '/Job/Dispatched', "field 'Dispatched' is read-only");
  assertError(sut(undefined, { ...nonPeriodic, Dispatched: true }), '/Job/Dispatched', "job can't be submitted with 'Dispatched' set");
});

test('jobWarnings returns Nomad\'s register warnings', () => {
  const j = aServiceJob();
  j.TaskGroups[0].Update.MaxParallel = 3;
  j.TaskGroups[0].Tasks[0].Resources.MemoryMaxMB = 512;
  const w = jobWarnings(j);
  assert.ok(w.some((x) => x.startsWith('Group "web" has warnings: 1 error occurred:') && x.includes('Update max parallel count is greater than task group count (3 > 2)')), w.join('\n'));
  const cron = aBatchJob();
  cron.Periodic.Spec = cron.Periodic.Specs[0];
  delete cron.Periodic.Specs;
  assert.deepEqual(jobWarnings(cron), ['cron is deprecated and may be removed in a future release. Use crons instead'], 'Nomad warns on every use of cron (Spec)');
  assert.deepEqual(validateJob(cron), [], 'the deprecated cron (Spec) still validates');
  const crons = aBatchJob();
  assert.deepEqual(jobWarnings(crons), [], 'crons (Specs) give no warning');
  assert.deepEqual(validateJob(crons), [], 'crons (Specs) validate like cron');
  const mixed = aServiceJob();
  mixed.TaskGroups.push({ ...structuredClone(mixed.TaskGroups[0]), Name: 'api' });
  mixed.TaskGroups[1].Update.AutoPromote = false;
  assert.ok(jobWarnings(mixed).includes('auto_promote must be true for all groups to enable automatic promotion'));
  assert.ok(w.some((x) => x.includes('Memory oversubscription is not enabled; Task "web.app" memory_max value will be ignored')), w.join('\n'));
  assert.equal(jobWarnings(j, { memoryOversubscription: true }).filter((x) => x.includes('oversubscription')).length, 0);
});

test('validateHostVolumeCreate ports HostVolume.Validate for create', () => {
  const sut = validateHostVolumeCreate;
  assert.deepEqual(sut(aHostVolumeCreate()), []);
  const cases: [(r: Fixture) => void, string, string][] = [
    [(r) => { delete r.Volume.Name; }, '/Volume/Name', 'missing name'],
    [(r) => { r.Volume.RequestedCapabilities[0].AccessMode = 'multi-node-multi-writer'; }, '/Volume/RequestedCapabilities/0/AccessMode', 'invalid access mode: "multi-node-multi-writer"'],
    [(r) => { r.Volume.RequestedCapabilities[0].AttachmentMode = 'nfs'; }, '/Volume/RequestedCapabilities/0/AttachmentMode', 'invalid attachment mode: "nfs"'],
    [(r) => { r.Volume.RequestedCapacityMaxBytes = 10; }, '/Volume/RequestedCapacityMaxBytes', 'capacity_max (10) must be larger than capacity_min'],
    [(r) => { delete r.Volume.RequestedCapacityMaxBytes; }, '/Volume/RequestedCapacityMaxBytes', 'capacity_max (0) must be larger than capacity_min'],
    [(r) => { r.Volume.ID = 'not-a-uuid'; }, '/Volume/ID', 'invalid ID "not-a-uuid"'],
    [(r) => { r.Volume.Constraints = [{ Operand: 'distinct_hosts' }]; }, '/Volume/Constraints/0/Operand', 'host volumes of the same name are always on distinct hosts'],
    [(r) => { r.Volume.Constraints = [{ LTarget: '${attr.kernel.name}', Operand: '=' }]; }, '/Volume/Constraints/0/RTarget', 'invalid constraint: Operator "=" requires an RTarget'],
    [(r) => { r.Volume.Capacity = 5; }, '/Volume/Capacity', 'unknown key "Capacity"'],
  ];
  const defaults = aHostVolumeCreate();
  delete defaults.Volume.PluginID;
  delete defaults.Volume.RequestedCapabilities;
  assert.deepEqual(sut(defaults), [], 'Nomad defaults the plugin and the capabilities');
  for (const [mutate, path, message] of cases) {
    const r = aHostVolumeCreate();
    mutate(r);
    assertError(sut(r), path, message);
  }
});

test('validateHostVolumeUpdate ports HostVolume.ValidateUpdate', () => {
  const sut = validateHostVolumeUpdate;
  const existing = { NodeID: 'n1', NodePool: 'default', CapacityBytes: 2048 };
  assert.deepEqual(sut({ Name: 'v' }, existing, []), []);
  assertError(sut({ Name: 'v' }, existing, ['a1', 'a2']), '/Volume', 'cannot update a volume in use: claimed by allocs (a1, a2)');
  assertError(sut({ NodeID: 'n2' }, existing, []), '/Volume/NodeID', 'node ID cannot be updated');
  assertError(sut({ NodePool: 'gpu' }, existing, []), '/Volume/NodePool', 'node pool cannot be updated');
  assertError(sut({ RequestedCapacityMaxBytes: 1024 }, existing, []), '/Volume/RequestedCapacityMaxBytes', 'cannot be less than existing provisioned capacity (2048)');
});

test('goDuration prints like Go', () => {
  assert.equal(goDuration(0), '0s');
  assert.equal(goDuration(1500 * 1_000_000), '1.5s');
  assert.equal(goDuration(90 * SECOND), '1m30s');
  assert.equal(goDuration(HOUR), '1h0m0s');
  assert.equal(goDuration(10 * 1_000_000), '10ms');
  assert.equal(goDuration(-SECOND), '-1s');
});
