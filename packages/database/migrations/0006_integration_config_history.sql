CREATE TABLE "integration_config_history" (
	"id" bigserial PRIMARY KEY NOT NULL,
	"integration_config_id" uuid NOT NULL,
	"organization_id" text NOT NULL,
	"valid_from" timestamp with time zone NOT NULL,
	"is_active" boolean NOT NULL,
	"config" jsonb NOT NULL
);
--> statement-breakpoint
ALTER TABLE "integration_config_history" ADD CONSTRAINT "integration_config_history_integration_config_id_integration_configs_id_fk" FOREIGN KEY ("integration_config_id") REFERENCES "public"."integration_configs"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "integration_config_history" ADD CONSTRAINT "integration_config_history_organization_id_organization_id_fk" FOREIGN KEY ("organization_id") REFERENCES "public"."organization"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
CREATE INDEX "integration_config_history_config_idx" ON "integration_config_history" USING btree ("integration_config_id","valid_from");--> statement-breakpoint
-- No integration may change between the backfill and the trigger: it would have no history, or a stale one.
LOCK TABLE "integration_configs" IN SHARE ROW EXCLUSIVE MODE;--> statement-breakpoint
-- Every integration as it is now, from when it was created: the history starts with the rows that exist.
INSERT INTO "integration_config_history" ("integration_config_id", "organization_id", "valid_from", "is_active", "config")
SELECT "id", "organization_id", "created_at", "is_active", "config" - 'url' FROM "integration_configs";--> statement-breakpoint
-- A trigger rather than each write path: the generic routes, the webhook routes and the delivery engine's
-- automatic disable all change these columns, and the fan-out's correctness must not depend on each remembering.
-- Deferred to the end of the writing transaction, with the clock then: a change counts from (about) when it became
-- visible, not from when its transaction began, so an event the relay handled before the change was visible is on
-- the earlier side of it in the history too. The fan-out compares it with event times to the microsecond.
-- The config is kept without its url: webhook URLs can carry secrets, and the fan-out needs only the subscription.
CREATE FUNCTION "record_integration_config_history"() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
  at timestamptz := clock_timestamp();
BEGIN
  IF TG_OP = 'UPDATE' AND NEW.is_active IS NOT DISTINCT FROM OLD.is_active AND NEW.config IS NOT DISTINCT FROM OLD.config THEN
    RETURN NULL;
  END IF;
  -- Deleted later in the same transaction: nothing to remember.
  IF NOT EXISTS (SELECT 1 FROM integration_configs WHERE id = NEW.id) THEN
    RETURN NULL;
  END IF;
  INSERT INTO integration_config_history (integration_config_id, organization_id, valid_from, is_active, config)
  VALUES (NEW.id, NEW.organization_id, at, NEW.is_active, NEW.config - 'url');
  RETURN NULL;
END $$;--> statement-breakpoint
CREATE CONSTRAINT TRIGGER "integration_configs_history" AFTER INSERT OR UPDATE OF "is_active", "config" ON "integration_configs"
DEFERRABLE INITIALLY DEFERRED FOR EACH ROW EXECUTE FUNCTION "record_integration_config_history"();
