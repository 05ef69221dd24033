CREATE TABLE "integration_health_states" (
	"organization_id" text NOT NULL,
	"item_key" text NOT NULL,
	"integration_id" uuid,
	"integration_type" text NOT NULL,
	"status" text NOT NULL,
	"reason" text,
	"backlog" integer DEFAULT 0 NOT NULL,
	"changed_at" timestamp with time zone DEFAULT now() NOT NULL,
	"sampled_at" timestamp with time zone DEFAULT now() NOT NULL,
	CONSTRAINT "integration_health_states_organization_id_item_key_pk" PRIMARY KEY("organization_id","item_key")
);
--> statement-breakpoint
CREATE TABLE "integration_outcome_minutes" (
	"subject" text NOT NULL,
	"organization_id" text,
	"integration_id" uuid,
	"integration_type" text NOT NULL,
	"minute" timestamp with time zone NOT NULL,
	"successes" integer DEFAULT 0 NOT NULL,
	"errors" integer DEFAULT 0 NOT NULL,
	CONSTRAINT "integration_outcome_minutes_subject_minute_pk" PRIMARY KEY("subject","minute")
);
--> statement-breakpoint
CREATE TABLE "notification_alerts" (
	"id" uuid PRIMARY KEY DEFAULT gen_random_uuid() NOT NULL,
	"organization_id" text NOT NULL,
	"rule_id" uuid,
	"event_id" bigint NOT NULL,
	"ticket_id" uuid,
	"escalate_at" timestamp with time zone NOT NULL,
	"escalation" jsonb NOT NULL,
	"acknowledged_at" timestamp with time zone,
	"acknowledged_by" text,
	"escalated_at" timestamp with time zone,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL
);
--> statement-breakpoint
CREATE TABLE "notification_preferences" (
	"organization_id" text NOT NULL,
	"user_id" text NOT NULL,
	"channels" jsonb DEFAULT '{}'::jsonb NOT NULL,
	"quiet_hours" jsonb,
	"digest_frequency" text DEFAULT 'off' NOT NULL,
	"updated_at" timestamp with time zone DEFAULT now() NOT NULL,
	CONSTRAINT "notification_preferences_organization_id_user_id_pk" PRIMARY KEY("organization_id","user_id")
);
--> statement-breakpoint
CREATE TABLE "notifications" (
	"id" bigserial PRIMARY KEY NOT NULL,
	"organization_id" text NOT NULL,
	"recipient_key" text NOT NULL,
	"user_id" text,
	"channel" text NOT NULL,
	"rule_id" uuid,
	"event_id" bigint,
	"ticket_id" uuid,
	"event_type" text NOT NULL,
	"category" text NOT NULL,
	"severity" text DEFAULT 'normal' NOT NULL,
	"dedupe_key" text NOT NULL,
	"delivery" jsonb NOT NULL,
	"group_key" text NOT NULL,
	"title" text NOT NULL,
	"body" text DEFAULT '' NOT NULL,
	"link" text,
	"status" text DEFAULT 'pending' NOT NULL,
	"reason" text,
	"deliver_after" timestamp with time zone,
	"digest_id" bigint,
	"alert_id" uuid,
	"webhook_endpoint_id" uuid,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL,
	"decided_at" timestamp with time zone,
	"sent_at" timestamp with time zone,
	"read_at" timestamp with time zone,
	"failing_since" timestamp with time zone
);
--> statement-breakpoint
ALTER TABLE "notification_rules" ADD COLUMN "conditions" jsonb DEFAULT '{}'::jsonb NOT NULL;--> statement-breakpoint
ALTER TABLE "notification_rules" ADD COLUMN "delivery" jsonb DEFAULT '{"mode":"immediate"}'::jsonb NOT NULL;--> statement-breakpoint
ALTER TABLE "notification_rules" ADD COLUMN "severity" text DEFAULT 'normal' NOT NULL;--> statement-breakpoint
ALTER TABLE "notification_rules" ADD COLUMN "escalation" jsonb;--> statement-breakpoint
ALTER TABLE "notification_rules" ADD COLUMN "webhook_endpoint_id" uuid;--> statement-breakpoint
ALTER TABLE "notification_rules" ADD COLUMN "default_key" text;--> statement-breakpoint
ALTER TABLE "integration_health_states" ADD CONSTRAINT "integration_health_states_organization_id_organization_id_fk" FOREIGN KEY ("organization_id") REFERENCES "public"."organization"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "integration_health_states" ADD CONSTRAINT "integration_health_states_integration_id_integration_configs_id_fk" FOREIGN KEY ("integration_id") REFERENCES "public"."integration_configs"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "integration_outcome_minutes" ADD CONSTRAINT "integration_outcome_minutes_organization_id_organization_id_fk" FOREIGN KEY ("organization_id") REFERENCES "public"."organization"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "integration_outcome_minutes" ADD CONSTRAINT "integration_outcome_minutes_integration_id_integration_configs_id_fk" FOREIGN KEY ("integration_id") REFERENCES "public"."integration_configs"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "notification_alerts" ADD CONSTRAINT "notification_alerts_organization_id_organization_id_fk" FOREIGN KEY ("organization_id") REFERENCES "public"."organization"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "notification_alerts" ADD CONSTRAINT "notification_alerts_rule_id_notification_rules_id_fk" FOREIGN KEY ("rule_id") REFERENCES "public"."notification_rules"("id") ON DELETE set null ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "notification_preferences" ADD CONSTRAINT "notification_preferences_organization_id_organization_id_fk" FOREIGN KEY ("organization_id") REFERENCES "public"."organization"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "notification_preferences" ADD CONSTRAINT "notification_preferences_user_id_user_id_fk" FOREIGN KEY ("user_id") REFERENCES "public"."user"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "notifications" ADD CONSTRAINT "notifications_organization_id_organization_id_fk" FOREIGN KEY ("organization_id") REFERENCES "public"."organization"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "notifications" ADD CONSTRAINT "notifications_user_id_user_id_fk" FOREIGN KEY ("user_id") REFERENCES "public"."user"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "notifications" ADD CONSTRAINT "notifications_rule_id_notification_rules_id_fk" FOREIGN KEY ("rule_id") REFERENCES "public"."notification_rules"("id") ON DELETE set null ON UPDATE no action;--> statement-breakpoint
CREATE INDEX "integration_outcome_minutes_minute_idx" ON "integration_outcome_minutes" USING btree ("minute");--> statement-breakpoint
CREATE UNIQUE INDEX "notification_alerts_event_rule_uq" ON "notification_alerts" USING btree ("event_id","rule_id");--> statement-breakpoint
CREATE UNIQUE INDEX "notifications_dedupe_uq" ON "notifications" USING btree ("organization_id","recipient_key","channel","dedupe_key");--> statement-breakpoint
CREATE INDEX "notifications_pending_idx" ON "notifications" USING btree ("recipient_key","id") WHERE "notifications"."status" in ('pending', 'deferred');--> statement-breakpoint
CREATE INDEX "notifications_user_idx" ON "notifications" USING btree ("organization_id","user_id","id");--> statement-breakpoint
CREATE INDEX "notifications_sent_idx" ON "notifications" USING btree ("recipient_key","sent_at");--> statement-breakpoint
CREATE INDEX "notifications_event_idx" ON "notifications" USING btree ("event_id");--> statement-breakpoint
ALTER TABLE "notification_rules" ADD CONSTRAINT "notification_rules_webhook_endpoint_id_integration_configs_id_fk" FOREIGN KEY ("webhook_endpoint_id") REFERENCES "public"."integration_configs"("id") ON DELETE set null ON UPDATE no action;--> statement-breakpoint
CREATE INDEX "notification_rules_triggers_idx" ON "notification_rules" USING gin ("trigger_events");--> statement-breakpoint
CREATE UNIQUE INDEX "notification_rules_default_uq" ON "notification_rules" USING btree ("organization_id","default_key") WHERE "notification_rules"."default_key" is not null;