/**
 * DeploymentLeaseEpoch adds `deployments.lease_epoch`: a fencing token incremented by every claim. With `lease_owner`
 * it names one claim, and every write a worker makes to a deployment it runs (steps, events, the terminal state, the
 * lease renewal) is conditional on both, so a worker that stalled past its lease writes nothing once another replica
 * (or itself, later) claimed the deployment again.
 */
import type { MigrationInterface, QueryRunner } from 'typeorm';

/** DeploymentLeaseEpoch1797720000000 adds deployments.lease_epoch (0 for existing rows; a constant default, no rewrite). */
export class DeploymentLeaseEpoch1797720000000 implements MigrationInterface {
  name = 'DeploymentLeaseEpoch1797720000000';

  /** up adds the column. */
  async up(q: QueryRunner): Promise<void> {
    await q.query('ALTER TABLE deployments ADD COLUMN IF NOT EXISTS lease_epoch integer NOT NULL DEFAULT 0');
  }

  /** down drops it. */
  async down(q: QueryRunner): Promise<void> {
    await q.query('ALTER TABLE deployments DROP COLUMN IF EXISTS lease_epoch');
  }
}
