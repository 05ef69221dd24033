ALTER TABLE "integration_configs" ALTER COLUMN "integration_type" SET DATA TYPE text;--> statement-breakpoint
DROP TYPE "public"."integration_type";