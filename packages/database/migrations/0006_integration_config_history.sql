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
-- Every integration as it is now, from when it was created: the history starts with the rows that exist.
INSERT INTO "integration_config_history" ("integration_config_id", "organization_id", "valid_from", "is_active", "config")
SELECT "id", "organization_id", "created_at", "is_active", "config" FROM "integration_configs";--> statement-breakpoint
-- A trigger rather than each write path: the generic routes, the webhook routes and the delivery engine's
-- automatic disable all change these columns, and the fan-out's correctness must not depend on each remembering.
-- valid_from is the writing transaction's now(), the same clock as ticket_events.created_at.
CREATE FUNCTION "record_integration_config_history"() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  IF TG_OP = 'UPDATE' AND NEW.is_active IS NOT DISTINCT FROM OLD.is_active AND NEW.config IS NOT DISTINCT FROM OLD.config THEN
    RETURN NEW;
  END IF;
  INSERT INTO integration_config_history (integration_config_id, organization_id, valid_from, is_active, config)
  VALUES (NEW.id, NEW.organization_id, now(), NEW.is_active, NEW.config);
  RETURN NEW;
END $$;--> statement-breakpoint
CREATE TRIGGER "integration_configs_history" AFTER INSERT OR UPDATE OF "is_active", "config" ON "integration_configs"
FOR EACH ROW EXECUTE FUNCTION "record_integration_config_history"();
