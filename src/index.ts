// Public surface of the package: mount the storefront in any Express 5 app.
export { createStorefront, type Storefront, type StorefrontOptions } from "./storefront.js";
export { openDatabase, type Db } from "./db/client.js";
export { migrate, migrateDatabase } from "./db/migrate.js";
export { loadConfig, ConfigError, type Config } from "./config.js";
export { AppError } from "./http/errors.js";
export { LocalFileStorage, S3FileStorage, type FileStorage, type S3StorageOptions } from "./media/file-storage.js";
export { ensureOwner, createApiToken } from "./auth/auth.service.js";
export { seedDemoShop } from "./seed/demo.js";
export { StripeGateway, type StripeGatewayOptions } from "./payments/stripe-gateway.js";
export { LocalGateway } from "./payments/local-gateway.js";
export type { PaymentGateway, ShippingOption } from "./payments/gateway.js";
/** @deprecated use startJobs(deps), which runs the sweep with every other job */
export { startCheckoutSweep } from "./checkout/checkout-sweep.js";
export { startJobs, allJobs } from "./jobs/registry.js";
export { runJobOnce, type JobScheduler, type JobRunOutcome } from "./jobs/scheduler.js";
export { requestJobRun } from "./jobs/jobs.service.js";
export type { JobDefinition, JobContext } from "./jobs/job.js";
export { createSmtpSender, type MailSender, type OutgoingEmail, type SendResult, SendError } from "./mail/sender.js";
export { reconcilePendingOrders } from "./checkout/checkout.service.js";
export { InProcessBroadcaster, type Broadcaster, type BroadcastMessage } from "./realtime/broadcaster.js";
export { liveJobs } from "./live/live.jobs.js";
// Analytics: the event writer (flush it before closing the database) and the roll-up jobs.
export { recordEvent, flushEvents, EVENT_TYPES, type EventType, type AnalyticsEventInput } from "./analytics/events.js";
