-- Written to run twice harmlessly (a dev database that ran a branch's copy of it).
CREATE TABLE IF NOT EXISTS "webhook_endpoint_listeners" (
	"endpoint_id" uuid PRIMARY KEY NOT NULL,
	"owner" text,
	"listening_until" timestamp with time zone
);
--> statement-breakpoint
DO $$ BEGIN
  ALTER TABLE "webhook_endpoint_listeners" ADD CONSTRAINT "webhook_endpoint_listeners_endpoint_id_integration_configs_id_fk" FOREIGN KEY ("endpoint_id") REFERENCES "public"."integration_configs"("id") ON DELETE cascade ON UPDATE no action;
EXCEPTION WHEN duplicate_object THEN NULL;
END $$;
