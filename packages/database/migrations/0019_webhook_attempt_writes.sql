ALTER TABLE "webhook_attempts" DROP CONSTRAINT "webhook_attempts_organization_id_organization_id_fk";
--> statement-breakpoint
ALTER TABLE "webhook_attempts" DROP CONSTRAINT "webhook_attempts_endpoint_id_integration_configs_id_fk";
--> statement-breakpoint
DROP INDEX "webhook_attempts_endpoint_started_idx";--> statement-breakpoint
CREATE INDEX IF NOT EXISTS "webhook_attempts_endpoint_created_idx" ON "webhook_attempts" USING btree ("endpoint_id","created_at");--> statement-breakpoint
-- Room on each page for a row's next version (specification/performance.md, "Writes a delivery no longer makes"): a
-- claim's update of a delivery (lease, attempt number) and an attempt's outcome change no indexed column, so with room
-- on their page they stay there without new index entries (HOT updates). An attempt is written twice, its opening and
-- its outcome, moments apart: half a page left free for the outcomes made 92% of them HOT (21% at 85), and the table
-- came out no larger, as the old versions on the page are pruned in place. Drizzle does not model storage parameters.
ALTER TABLE "webhook_deliveries" SET (fillfactor = 85);
--> statement-breakpoint
ALTER TABLE "webhook_attempts" SET (fillfactor = 50);
