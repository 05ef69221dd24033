CREATE TABLE "external_comment_links" (
	"id" uuid PRIMARY KEY DEFAULT gen_random_uuid() NOT NULL,
	"organization_id" text NOT NULL,
	"sync_record_id" uuid NOT NULL,
	"ticket_comment_id" uuid NOT NULL,
	"external_comment_id" text NOT NULL,
	"direction" text NOT NULL,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL
);
--> statement-breakpoint
CREATE TABLE "external_sync_conflicts" (
	"id" bigserial PRIMARY KEY NOT NULL,
	"organization_id" text NOT NULL,
	"sync_record_id" uuid NOT NULL,
	"field" text NOT NULL,
	"ticket_value" jsonb,
	"external_value" jsonb,
	"winner" text NOT NULL,
	"policy" text NOT NULL,
	"ticket_changed_at" timestamp with time zone,
	"external_changed_at" timestamp with time zone,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL
);
--> statement-breakpoint
CREATE TABLE "linear_oauth_states" (
	"state_hash" text PRIMARY KEY NOT NULL,
	"organization_id" text NOT NULL,
	"user_id" text NOT NULL,
	"integration_config_id" uuid,
	"code_verifier" jsonb NOT NULL,
	"actor" text DEFAULT 'user' NOT NULL,
	"expires_at" timestamp with time zone NOT NULL,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL
);
--> statement-breakpoint
ALTER TABLE "external_sync_records" ADD COLUMN "external_key" text;--> statement-breakpoint
ALTER TABLE "external_comment_links" ADD CONSTRAINT "external_comment_links_organization_id_organization_id_fk" FOREIGN KEY ("organization_id") REFERENCES "public"."organization"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "external_comment_links" ADD CONSTRAINT "external_comment_links_sync_record_id_external_sync_records_id_fk" FOREIGN KEY ("sync_record_id") REFERENCES "public"."external_sync_records"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "external_comment_links" ADD CONSTRAINT "external_comment_links_ticket_comment_id_ticket_comments_id_fk" FOREIGN KEY ("ticket_comment_id") REFERENCES "public"."ticket_comments"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "external_sync_conflicts" ADD CONSTRAINT "external_sync_conflicts_organization_id_organization_id_fk" FOREIGN KEY ("organization_id") REFERENCES "public"."organization"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "external_sync_conflicts" ADD CONSTRAINT "external_sync_conflicts_sync_record_id_external_sync_records_id_fk" FOREIGN KEY ("sync_record_id") REFERENCES "public"."external_sync_records"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "linear_oauth_states" ADD CONSTRAINT "linear_oauth_states_organization_id_organization_id_fk" FOREIGN KEY ("organization_id") REFERENCES "public"."organization"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "linear_oauth_states" ADD CONSTRAINT "linear_oauth_states_user_id_user_id_fk" FOREIGN KEY ("user_id") REFERENCES "public"."user"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "linear_oauth_states" ADD CONSTRAINT "linear_oauth_states_integration_config_id_integration_configs_id_fk" FOREIGN KEY ("integration_config_id") REFERENCES "public"."integration_configs"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
CREATE UNIQUE INDEX "external_comment_links_ticket_uq" ON "external_comment_links" USING btree ("sync_record_id","ticket_comment_id");--> statement-breakpoint
CREATE UNIQUE INDEX "external_comment_links_external_uq" ON "external_comment_links" USING btree ("sync_record_id","external_comment_id");--> statement-breakpoint
CREATE INDEX "external_sync_conflicts_record_idx" ON "external_sync_conflicts" USING btree ("sync_record_id","id");--> statement-breakpoint
CREATE INDEX "linear_oauth_states_expires_idx" ON "linear_oauth_states" USING btree ("expires_at");