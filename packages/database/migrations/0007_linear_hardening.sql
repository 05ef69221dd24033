ALTER TABLE "external_sync_records" ADD COLUMN "rate_limited_until" timestamp with time zone;--> statement-breakpoint
-- OAuth states in flight (ten minutes at most) are bound to no session: they are dropped, and those admins connect again.
DELETE FROM "linear_oauth_states";--> statement-breakpoint
ALTER TABLE "linear_oauth_states" ADD COLUMN "session_hash" text NOT NULL;--> statement-breakpoint
CREATE INDEX "external_sync_records_rate_limited_idx" ON "external_sync_records" USING btree ("integration_config_id") WHERE "external_sync_records"."rate_limited_until" is not null;