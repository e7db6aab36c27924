/**
 * ServiceMetricsNetwork adds network columns to service_metrics: `network_rx_bps` / `network_tx_bps` are the average
 * HTTP bytes per second through Traefik (requests received, responses sent) over the bucket's `network_samples`
 * samples that had them (NULL while none had, e.g. no Traefik metrics configured).
 */
import type { MigrationInterface, QueryRunner } from 'typeorm';

/** ServiceMetricsNetwork1797470000000 adds service_metrics.network_samples, network_rx_bps and network_tx_bps. */
export class ServiceMetricsNetwork1797470000000 implements MigrationInterface {
  name = 'ServiceMetricsNetwork1797470000000';

  /** up adds the columns (no table rewrite: a constant default and two nullable columns). */
  async up(q: QueryRunner): Promise<void> {
    await q.query(`ALTER TABLE service_metrics
      ADD COLUMN network_samples integer NOT NULL DEFAULT 0,
      ADD COLUMN network_rx_bps double precision,
      ADD COLUMN network_tx_bps double precision`);
  }

  /** down drops them. */
  async down(q: QueryRunner): Promise<void> {
    await q.query('ALTER TABLE service_metrics DROP COLUMN network_tx_bps, DROP COLUMN network_rx_bps, DROP COLUMN network_samples');
  }
}
