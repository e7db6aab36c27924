/**
 * Public API of Drover's Vault adapter: KV v2 under `<mount>/data/drover/<namespace>/<jobId>`, health, seal status
 * and token renewal. Sealed or unreachable Vault are typed errors, never a fallback.
 */
export { VaultConfigError, vaultConfigFromEnv, vaultMountPattern } from './config.ts';
export type { VaultClientConfig, VaultTlsConfig } from './config.ts';
export { VaultAdapter, vaultSegmentPattern } from './adapter.ts';
export type { KvMetadata, KvSecret, KvVersionMetadata, VaultHealth, VaultRenewal, VaultSealStatus, VaultTokenInfo } from './adapter.ts';
export {
  VaultCasMismatchError, VaultPathError, VaultPermissionDeniedError, VaultResponseError, VaultSealedError,
  VaultUnreachableError,
} from './errors.ts';
