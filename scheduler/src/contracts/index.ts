/**
 * Contracts: the machine-readable API descriptions of the systems Drover talks to (Nomad, Consul, Vault, Traefik),
 * kept in `../shared/contracts/` beside the repository. Tests and the Nomad test double hold every body Drover sends
 * against them, since Nomad silently drops keys it does not know.
 */
import { readFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Ajv2020, type ValidateFunction, type ErrorObject } from 'ajv/dist/2020.js';

/** contractsDir is the folder holding the shared contract files: `<repo>/../shared/contracts`. */
export const contractsDir: string = resolve(dirname(fileURLToPath(import.meta.url)), '../../../../shared/contracts');

/** readContract parses one contract file (JSON) from contractsDir by file name. */
export function readContract(name: string): Record<string, unknown> {
  return JSON.parse(readFileSync(join(contractsDir, name), 'utf8')) as Record<string, unknown>;
}

let nomadAjv: Ajv2020 | undefined;
const nomadValidators = new Map<string, ValidateFunction>();

/**
 * nomadSchemaValidator returns a compiled validator for one `$defs` type of `nomad-api.schema.json`
 * (for example `JobRegisterRequest`, `HostVolumeCreateRequest`, `Allocation`). Compiled once per type.
 */
export function nomadSchemaValidator(def: string): ValidateFunction {
  let v = nomadValidators.get(def);
  if (v) return v;
  if (!nomadAjv) {
    nomadAjv = new Ajv2020({ allErrors: true, strict: false, validateFormats: false });
    nomadAjv.addSchema(readContract('nomad-api.schema.json'), 'nomad');
  }
  v = nomadAjv.compile({ $ref: `nomad#/$defs/${def}` });
  nomadValidators.set(def, v);
  return v;
}

/** ContractViolation is one place where a body breaks a contract: a JSON pointer and what is wrong there. */
export interface ContractViolation {
  /** path is the JSON pointer of the offending value (`/Job/TaskGroups/0/Services/0/Port`). */
  path: string;
  /** message says what the schema expected, naming an unknown key where there is one. */
  message: string;
}

/** describeErrors turns ajv errors into ContractViolations that name unknown keys explicitly. */
export function describeErrors(errors: ErrorObject[] | null | undefined): ContractViolation[] {
  return (errors ?? []).map((e) => {
    if (e.keyword === 'additionalProperties') {
      const key = (e.params as { additionalProperty: string }).additionalProperty;
      return { path: `${e.instancePath}/${key}`, message: `unknown key "${key}"` };
    }
    return { path: e.instancePath || '/', message: e.message ?? e.keyword };
  });
}

/** validateNomad validates a body against one Nomad `$defs` type and returns the violations (empty when valid). */
export function validateNomad(def: string, body: unknown): ContractViolation[] {
  const v = nomadSchemaValidator(def);
  return v(body) ? [] : describeErrors(v.errors);
}
