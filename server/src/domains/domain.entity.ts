/**
 * The `domains` table: generated and custom hostnames of services. A hostname is unique across all teams (unique
 * index `domains_hostname_uq`); a custom one is routed only once verified (or when the operator allows unverified).
 */
import { EntitySchema } from 'typeorm';

/** DomainKind: `generated` (from the naming scheme, always verified) or `custom` (added by a user). */
export type DomainKind = 'generated' | 'custom';
/** VerificationStatus of a domain: `pending` until a DNS TXT or HTTP check proves ownership. */
export type VerificationStatus = 'pending' | 'verified';
/** CertificateStatus as the Traefik integration reports it; `unknown` until it does. */
export type CertificateStatus = 'pending' | 'issued' | 'unknown';
/** VerificationMethod is how ownership was proven. */
export type VerificationMethod = 'dns' | 'http';

/** DomainRow is one row of `domains`. */
export interface DomainRow {
  /** id is the domain's UUID. */
  id: string;
  /** teamId is the owning team. */
  teamId: string;
  /** projectId is the owning project. */
  projectId: string;
  /** environmentId is the owning environment. */
  environmentId: string;
  /** serviceId is the service the hostname routes to. */
  serviceId: string;
  /** hostname is the validated, lower-case ASCII (punycode) hostname. */
  hostname: string;
  /** kind says whether Drover generated it. */
  kind: DomainKind;
  /** verificationStatus says whether ownership is proven. */
  verificationStatus: VerificationStatus;
  /** verificationToken is the challenge token of a custom domain (32 hex characters), null for generated ones. */
  verificationToken: string | null;
  /** verifiedAt is when ownership was proven. */
  verifiedAt: Date | null;
  /** verifiedBy is how ownership was proven. */
  verifiedBy: VerificationMethod | null;
  /** certificateStatus is the TLS certificate state. */
  certificateStatus: CertificateStatus;
  /** lastCheckedAt is when ownership was last checked. */
  lastCheckedAt: Date | null;
  /** lastCheckError says why the last check failed (null after a success or before any check). */
  lastCheckError: string | null;
  /** createdAt is the creation time (the list sort key). */
  createdAt: Date;
  /** updatedAt is the last change time. */
  updatedAt: Date;
}

/** DomainEntity maps DomainRow to `domains`. */
export const DomainEntity = new EntitySchema<DomainRow>({
  name: 'Domain',
  tableName: 'domains',
  columns: {
    id: { type: 'uuid', primary: true },
    teamId: { type: 'uuid', name: 'team_id' },
    projectId: { type: 'uuid', name: 'project_id' },
    environmentId: { type: 'uuid', name: 'environment_id' },
    serviceId: { type: 'uuid', name: 'service_id' },
    hostname: { type: 'varchar', length: 253 },
    kind: { type: 'varchar', length: 16 },
    verificationStatus: { type: 'varchar', length: 16, name: 'verification_status' },
    verificationToken: { type: 'varchar', length: 64, name: 'verification_token', nullable: true },
    verifiedAt: { type: 'timestamptz', name: 'verified_at', nullable: true },
    verifiedBy: { type: 'varchar', length: 8, name: 'verified_by', nullable: true },
    certificateStatus: { type: 'varchar', length: 16, name: 'certificate_status' },
    lastCheckedAt: { type: 'timestamptz', name: 'last_checked_at', nullable: true },
    lastCheckError: { type: 'varchar', length: 2000, name: 'last_check_error', nullable: true },
    createdAt: { type: 'timestamptz', name: 'created_at' },
    updatedAt: { type: 'timestamptz', name: 'updated_at' },
  },
});
