import type { Logger } from "pino";
import type { AnalyticsSettings } from "./analytics/rollup.service.js";
import type { Db } from "./db/client.js";
import type { Locale } from "./i18n/translate.js";
import type { FileStorage } from "./media/file-storage.js";
import type { RateLimitBackend } from "./http/rate-limit-store.js";
import type { MailDelivery } from "./mail/sender.js";
import type { PaymentGateway, ShippingOption } from "./payments/gateway.js";
import type { Broadcaster } from "./realtime/broadcaster.js";

/** Shop-wide settings every feature may read. */
export interface ShopSettings {
  name: string;
  currency: string;
  locale: Locale;
  /** Absolute URL where the storefront is mounted, if known (feeds, emails). */
  publicUrl?: string;
}

/** What services receive: the database, the clock and shared settings. */
export interface Deps {
  db: Db;
  now: () => Date;
  shop: ShopSettings;
  logger: Logger;
  /** Local uploads directory (the default file storage's folder). */
  uploadsDir: string;
  /** Where re-encoded images are written and read: local directory or S3-compatible bucket. */
  files: FileStorage;
  /** HMAC key for CSRF tokens and signed links (generated once, kept in the database). */
  appSecret: () => Promise<string>;
  /** Stripe when configured, else the local payment page. */
  payments: PaymentGateway;
  checkout: CheckoutSettings;
  /** Where rate-limit counters live (memory, database or Redis). */
  rateLimits: RateLimitBackend;
  /** Set when the shop sends email (SMTP); without it email stays in the outbox and pages say so. */
  mail?: MailDelivery;
  /** Real-time fan-out between instances (live shows); in-process by default. */
  broadcaster: Broadcaster;
  /** Event and roll-up retention (defaults: 90 and 730 days). */
  analytics?: Partial<AnalyticsSettings>;
}

export interface CheckoutSettings {
  /** How long checkout holds stock (and the payment page stays open). */
  holdMinutes: number;
  shippingOptions: ShippingOption[];
}
