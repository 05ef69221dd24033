-- The attachment pipeline (issue 10). Written to run twice harmlessly, like 0010.
-- The enum's first value is renamed, not recreated, so any row keeps its state.
DO $$ BEGIN
  IF EXISTS (SELECT 1 FROM pg_enum e JOIN pg_type t ON t.oid = e.enumtypid WHERE t.typname = 'scan_status' AND e.enumlabel = 'pending') THEN
    ALTER TYPE "public"."scan_status" RENAME VALUE 'pending' TO 'pending_scan';
  END IF;
END $$;
--> statement-breakpoint
ALTER TABLE "ticket_attachments" ALTER COLUMN "scan_status" SET DEFAULT 'pending_scan'::"public"."scan_status";
--> statement-breakpoint
ALTER TABLE "organization_settings" ADD COLUMN IF NOT EXISTS "attachment_max_file_bytes" bigint;
--> statement-breakpoint
ALTER TABLE "organization_settings" ADD COLUMN IF NOT EXISTS "attachment_ticket_quota_bytes" bigint;
--> statement-breakpoint
ALTER TABLE "organization_settings" ADD COLUMN IF NOT EXISTS "attachment_org_quota_bytes" bigint;
--> statement-breakpoint
ALTER TABLE "ticket_attachments" ADD COLUMN IF NOT EXISTS "source" text DEFAULT 'web' NOT NULL;
--> statement-breakpoint
ALTER TABLE "ticket_attachments" ADD COLUMN IF NOT EXISTS "storage_name" text DEFAULT 'file' NOT NULL;
--> statement-breakpoint
ALTER TABLE "ticket_attachments" ADD COLUMN IF NOT EXISTS "raster" boolean DEFAULT false NOT NULL;
--> statement-breakpoint
ALTER TABLE "ticket_attachments" ADD COLUMN IF NOT EXISTS "storage_integration_id" uuid;
--> statement-breakpoint
ALTER TABLE "ticket_attachments" ADD COLUMN IF NOT EXISTS "key_envelope" jsonb;
--> statement-breakpoint
ALTER TABLE "ticket_attachments" ADD COLUMN IF NOT EXISTS "scan_signature" text;
--> statement-breakpoint
ALTER TABLE "ticket_attachments" ADD COLUMN IF NOT EXISTS "failure_reason" text;
--> statement-breakpoint
ALTER TABLE "ticket_attachments" ADD COLUMN IF NOT EXISTS "waiting_reason" text;
--> statement-breakpoint
ALTER TABLE "ticket_attachments" ADD COLUMN IF NOT EXISTS "waiting_until" timestamp with time zone;
--> statement-breakpoint
ALTER TABLE "ticket_attachments" ADD COLUMN IF NOT EXISTS "thumbnail_envelope" jsonb;
--> statement-breakpoint
ALTER TABLE "ticket_attachments" ADD COLUMN IF NOT EXISTS "thumbnail_size" bigint;
--> statement-breakpoint
ALTER TABLE "ticket_attachments" ADD COLUMN IF NOT EXISTS "thumbnail_mime" text;
--> statement-breakpoint
ALTER TABLE "ticket_attachments" ADD COLUMN IF NOT EXISTS "uploaded_by_actor_type" "actor_type" DEFAULT 'user' NOT NULL;
--> statement-breakpoint
ALTER TABLE "ticket_attachments" ADD COLUMN IF NOT EXISTS "uploaded_by_actor_id" text;
--> statement-breakpoint
ALTER TABLE "ticket_attachments" ADD COLUMN IF NOT EXISTS "scanned_at" timestamp with time zone;
--> statement-breakpoint
ALTER TABLE "ticket_attachments" ADD COLUMN IF NOT EXISTS "available_at" timestamp with time zone;
--> statement-breakpoint
ALTER TABLE "ticket_attachments" ADD COLUMN IF NOT EXISTS "deleted_at" timestamp with time zone;
--> statement-breakpoint
DO $$ BEGIN
  ALTER TABLE "ticket_attachments" ADD CONSTRAINT "ticket_attachments_storage_integration_id_integration_configs_id_fk" FOREIGN KEY ("storage_integration_id") REFERENCES "public"."integration_configs"("id") ON DELETE restrict ON UPDATE no action;
EXCEPTION WHEN duplicate_object THEN NULL;
END $$;
--> statement-breakpoint
CREATE INDEX IF NOT EXISTS "ticket_attachments_org_idx" ON "ticket_attachments" USING btree ("organization_id");
--> statement-breakpoint
ALTER TABLE "ticket_attachments" ADD COLUMN IF NOT EXISTS "resumable_upload_id" text;
--> statement-breakpoint
DO $$ BEGIN
  ALTER TABLE "ticket_attachments" ADD CONSTRAINT "ticket_attachments_resumable_upload_id_unique" UNIQUE("resumable_upload_id");
EXCEPTION WHEN duplicate_table OR duplicate_object THEN NULL;
END $$;
