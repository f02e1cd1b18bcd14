CREATE INDEX "channel_events_received_brin" ON "channel_events" USING brin ("created_at");--> statement-breakpoint
CREATE INDEX "sync_events_created_brin" ON "sync_events" USING brin ("created_at");--> statement-breakpoint
CREATE INDEX "webhook_deliveries_created_brin" ON "webhook_deliveries" USING brin ("created_at");--> statement-breakpoint
CREATE INDEX "webhook_deliveries_event_idx" ON "webhook_deliveries" USING btree ("tenant_id","event_id");--> statement-breakpoint
CREATE INDEX "webhook_events_created_brin" ON "webhook_events" USING brin ("created_at");