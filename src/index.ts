// Public surface of the package: mount the storefront in any Express 5 app.
export { createStorefront, type Storefront, type StorefrontOptions } from "./storefront.js";
export { openDatabase, type Db } from "./db/client.js";
export { migrate, migrateDatabase } from "./db/migrate.js";
export { loadConfig, ConfigError, type Config } from "./config.js";
export { AppError } from "./http/errors.js";
export { ensureOwner, createApiToken } from "./auth/auth.service.js";
export { seedDemoShop } from "./seed/demo.js";
export { StripeGateway, type StripeGatewayOptions } from "./payments/stripe-gateway.js";
export { LocalGateway } from "./payments/local-gateway.js";
export type { PaymentGateway, ShippingOption } from "./payments/gateway.js";
export { startCheckoutSweep } from "./checkout/checkout-sweep.js";
export { reconcilePendingOrders } from "./checkout/checkout.service.js";
