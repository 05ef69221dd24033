-- Email (issue 11), as drizzle-kit generated it from src/schema.ts, made to run twice harmlessly like 0010 and 0011.
-- ticket_emails (from 0000) gains what a thread needs; email_inbound is each mailbox's ledger of inbound mail (its
-- unique key makes ingest idempotent); email_mailboxes holds a mailbox's generated secrets; email_auto_replies rations
-- acknowledgements per sender.
DO $$ BEGIN
  CREATE TYPE "public"."email_inbound_status" AS ENUM('ingested', 'held', 'refused', 'released', 'discarded');
EXCEPTION WHEN duplicate_object THEN NULL; END $$;
--> statement-breakpoint
DO $$ BEGIN
  CREATE TYPE "public"."email_status" AS ENUM('received', 'queued', 'sent', 'failed');
EXCEPTION WHEN duplicate_object THEN NULL; END $$;
--> statement-breakpoint
CREATE TABLE IF NOT EXISTS "email_auto_replies" (
	"integration_id" uuid NOT NULL,
	"sender" text NOT NULL,
	"last_sent_at" timestamp with time zone NOT NULL,
	CONSTRAINT "email_auto_replies_integration_id_sender_pk" PRIMARY KEY("integration_id","sender")
);
--> statement-breakpoint
CREATE TABLE IF NOT EXISTS "email_inbound" (
	"id" uuid PRIMARY KEY DEFAULT gen_random_uuid() NOT NULL,
	"organization_id" text NOT NULL,
	"integration_id" uuid NOT NULL,
	"message_id" text NOT NULL,
	"via" text NOT NULL,
	"status" "email_inbound_status" NOT NULL,
	"reason" text,
	"from_address" text,
	"subject" text,
	"size_bytes" integer,
	"auth_results" jsonb,
	"ticket_id" uuid,
	"email_id" uuid,
	"held_message" jsonb,
	"decided_by" text,
	"decided_at" timestamp with time zone,
	"received_at" timestamp with time zone DEFAULT now() NOT NULL
);
--> statement-breakpoint
CREATE TABLE IF NOT EXISTS "email_mailboxes" (
	"integration_id" uuid PRIMARY KEY NOT NULL,
	"organization_id" text NOT NULL,
	"reply_token_key" jsonb NOT NULL,
	"inbound_secret_sha256" text,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL
);
--> statement-breakpoint
ALTER TABLE "ticket_emails" ADD COLUMN IF NOT EXISTS "integration_id" uuid;
--> statement-breakpoint
ALTER TABLE "ticket_emails" ADD COLUMN IF NOT EXISTS "status" "email_status" DEFAULT 'received' NOT NULL;
--> statement-breakpoint
ALTER TABLE "ticket_emails" ADD COLUMN IF NOT EXISTS "kind" text DEFAULT 'message' NOT NULL;
--> statement-breakpoint
ALTER TABLE "ticket_emails" ADD COLUMN IF NOT EXISTS "display_text" text;
--> statement-breakpoint
ALTER TABLE "ticket_emails" ADD COLUMN IF NOT EXISTS "thread_index" text;
--> statement-breakpoint
ALTER TABLE "ticket_emails" ADD COLUMN IF NOT EXISTS "auth_results" jsonb;
--> statement-breakpoint
ALTER TABLE "ticket_emails" ADD COLUMN IF NOT EXISTS "auth_flagged" boolean DEFAULT false NOT NULL;
--> statement-breakpoint
ALTER TABLE "ticket_emails" ADD COLUMN IF NOT EXISTS "automated" boolean DEFAULT false NOT NULL;
--> statement-breakpoint
ALTER TABLE "ticket_emails" ADD COLUMN IF NOT EXISTS "comment_id" uuid;
--> statement-breakpoint
ALTER TABLE "ticket_emails" ADD COLUMN IF NOT EXISTS "attachment_ids" uuid[] DEFAULT '{}'::uuid[] NOT NULL;
--> statement-breakpoint
ALTER TABLE "ticket_emails" ADD COLUMN IF NOT EXISTS "attachment_refusals" jsonb DEFAULT '[]'::jsonb NOT NULL;
--> statement-breakpoint
ALTER TABLE "ticket_emails" ADD COLUMN IF NOT EXISTS "failure_reason" text;
--> statement-breakpoint
ALTER TABLE "ticket_emails" ADD COLUMN IF NOT EXISTS "attempts" integer DEFAULT 0 NOT NULL;
--> statement-breakpoint
ALTER TABLE "ticket_emails" ADD COLUMN IF NOT EXISTS "sent_by_user_id" text;
--> statement-breakpoint
ALTER TABLE "ticket_emails" ADD COLUMN IF NOT EXISTS "reply_to_address" text;
--> statement-breakpoint
ALTER TABLE "ticket_emails" ADD COLUMN IF NOT EXISTS "source_key" text;
--> statement-breakpoint
DO $$ BEGIN
  ALTER TABLE "email_auto_replies" ADD CONSTRAINT "email_auto_replies_integration_id_integration_configs_id_fk" FOREIGN KEY ("integration_id") REFERENCES "public"."integration_configs"("id") ON DELETE cascade ON UPDATE no action;
EXCEPTION WHEN duplicate_object THEN NULL; END $$;
--> statement-breakpoint
DO $$ BEGIN
  ALTER TABLE "email_inbound" ADD CONSTRAINT "email_inbound_organization_id_organization_id_fk" FOREIGN KEY ("organization_id") REFERENCES "public"."organization"("id") ON DELETE cascade ON UPDATE no action;
EXCEPTION WHEN duplicate_object THEN NULL; END $$;
--> statement-breakpoint
DO $$ BEGIN
  ALTER TABLE "email_inbound" ADD CONSTRAINT "email_inbound_integration_id_integration_configs_id_fk" FOREIGN KEY ("integration_id") REFERENCES "public"."integration_configs"("id") ON DELETE cascade ON UPDATE no action;
EXCEPTION WHEN duplicate_object THEN NULL; END $$;
--> statement-breakpoint
DO $$ BEGIN
  ALTER TABLE "email_inbound" ADD CONSTRAINT "email_inbound_ticket_id_support_requests_id_fk" FOREIGN KEY ("ticket_id") REFERENCES "public"."support_requests"("id") ON DELETE set null ON UPDATE no action;
EXCEPTION WHEN duplicate_object THEN NULL; END $$;
--> statement-breakpoint
DO $$ BEGIN
  ALTER TABLE "email_inbound" ADD CONSTRAINT "email_inbound_email_id_ticket_emails_id_fk" FOREIGN KEY ("email_id") REFERENCES "public"."ticket_emails"("id") ON DELETE set null ON UPDATE no action;
EXCEPTION WHEN duplicate_object THEN NULL; END $$;
--> statement-breakpoint
DO $$ BEGIN
  ALTER TABLE "email_inbound" ADD CONSTRAINT "email_inbound_decided_by_user_id_fk" FOREIGN KEY ("decided_by") REFERENCES "public"."user"("id") ON DELETE set null ON UPDATE no action;
EXCEPTION WHEN duplicate_object THEN NULL; END $$;
--> statement-breakpoint
DO $$ BEGIN
  ALTER TABLE "email_mailboxes" ADD CONSTRAINT "email_mailboxes_integration_id_integration_configs_id_fk" FOREIGN KEY ("integration_id") REFERENCES "public"."integration_configs"("id") ON DELETE cascade ON UPDATE no action;
EXCEPTION WHEN duplicate_object THEN NULL; END $$;
--> statement-breakpoint
DO $$ BEGIN
  ALTER TABLE "email_mailboxes" ADD CONSTRAINT "email_mailboxes_organization_id_organization_id_fk" FOREIGN KEY ("organization_id") REFERENCES "public"."organization"("id") ON DELETE cascade ON UPDATE no action;
EXCEPTION WHEN duplicate_object THEN NULL; END $$;
--> statement-breakpoint
CREATE UNIQUE INDEX IF NOT EXISTS "email_inbound_message_uq" ON "email_inbound" USING btree ("integration_id","message_id");
--> statement-breakpoint
CREATE INDEX IF NOT EXISTS "email_inbound_org_status_idx" ON "email_inbound" USING btree ("organization_id","status","received_at");
--> statement-breakpoint
DO $$ BEGIN
  ALTER TABLE "ticket_emails" ADD CONSTRAINT "ticket_emails_integration_id_integration_configs_id_fk" FOREIGN KEY ("integration_id") REFERENCES "public"."integration_configs"("id") ON DELETE set null ON UPDATE no action;
EXCEPTION WHEN duplicate_object THEN NULL; END $$;
--> statement-breakpoint
DO $$ BEGIN
  ALTER TABLE "ticket_emails" ADD CONSTRAINT "ticket_emails_comment_id_ticket_comments_id_fk" FOREIGN KEY ("comment_id") REFERENCES "public"."ticket_comments"("id") ON DELETE set null ON UPDATE no action;
EXCEPTION WHEN duplicate_object THEN NULL; END $$;
--> statement-breakpoint
DO $$ BEGIN
  ALTER TABLE "ticket_emails" ADD CONSTRAINT "ticket_emails_sent_by_user_id_user_id_fk" FOREIGN KEY ("sent_by_user_id") REFERENCES "public"."user"("id") ON DELETE set null ON UPDATE no action;
EXCEPTION WHEN duplicate_object THEN NULL; END $$;
--> statement-breakpoint
CREATE UNIQUE INDEX IF NOT EXISTS "ticket_emails_source_key_uq" ON "ticket_emails" USING btree ("organization_id","source_key");
