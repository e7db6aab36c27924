/**
 * Typed errors of the Vault adapter. A sealed or unreachable Vault is an error the caller must surface — Drover
 * never falls back to storing a secret anywhere else. No error carries a secret value.
 */

/** VaultSealedError is Vault answering that it is sealed (503 "Vault is sealed"). */
export class VaultSealedError extends Error {
  /** code is the namespaced error code `vault/sealed`. */
  readonly code = 'vault/sealed';
  /** operation names the adapter call. */
  readonly operation: string;
  constructor(operation: string) {
    super(`Vault ${operation}: Vault is sealed`);
    this.name = 'VaultSealedError';
    this.operation = operation;
  }
}

/** VaultUnreachableError is Vault not answering usefully: refused, reset, timed out, or another 5xx/429. */
export class VaultUnreachableError extends Error {
  /** code is the namespaced error code `vault/unreachable`. */
  readonly code = 'vault/unreachable';
  /** operation names the adapter call. */
  readonly operation: string;
  /** status is the HTTP status when Vault answered, undefined for a transport failure. */
  readonly status: number | undefined;
  constructor(operation: string, message: string, status?: number, cause?: unknown) {
    super(`Vault ${operation}: ${message}`, { cause });
    this.name = 'VaultUnreachableError';
    this.operation = operation;
    this.status = status;
  }
}

/** VaultCasMismatchError is a KV write refused because `cas` did not match the current version. */
export class VaultCasMismatchError extends Error {
  /** code is the namespaced error code `vault/cas_mismatch`. */
  readonly code = 'vault/cas_mismatch';
  /** cas is the version the caller expected. */
  readonly cas: number;
  constructor(cas: number) {
    super(`Vault KV write: check-and-set version ${cas} does not match the current version`);
    this.name = 'VaultCasMismatchError';
    this.cas = cas;
  }
}

/** VaultPermissionDeniedError is a 403: the token's policy does not allow the call (or the token expired). */
export class VaultPermissionDeniedError extends Error {
  /** code is the namespaced error code `vault/permission_denied`. */
  readonly code = 'vault/permission_denied';
  /** operation names the adapter call. */
  readonly operation: string;
  constructor(operation: string) {
    super(`Vault ${operation}: permission denied`);
    this.name = 'VaultPermissionDeniedError';
    this.operation = operation;
  }
}

/** VaultResponseError is any other refusal (400 and friends) with Vault's messages. */
export class VaultResponseError extends Error {
  /** code is the namespaced error code `vault/request_refused`. */
  readonly code = 'vault/request_refused';
  /** operation names the adapter call. */
  readonly operation: string;
  /** status is the HTTP status. */
  readonly status: number;
  /** errors are Vault's error messages. */
  readonly errors: string[];
  constructor(operation: string, status: number, errors: string[]) {
    super(`Vault ${operation}: ${status} ${errors.join('; ').slice(0, 300)}`);
    this.name = 'VaultResponseError';
    this.operation = operation;
    this.status = status;
    this.errors = errors;
  }
}

/** VaultPathError is a path segment that is not a valid Drover namespace or job ID; nothing was sent. */
export class VaultPathError extends Error {
  /** code is the namespaced error code `vault/invalid_path`. */
  readonly code = 'vault/invalid_path';
  /** segment names the offending part (`namespace`, `jobId`). */
  readonly segment: string;
  constructor(segment: string, value: string) {
    super(`invalid Vault path ${segment} "${value}"`);
    this.name = 'VaultPathError';
    this.segment = segment;
  }
}
