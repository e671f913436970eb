import { analyticsMessages } from "../analytics/analytics.messages.js";
import { catalogMessages } from "../catalog/catalog.messages.js";
import { checkoutMessages } from "../checkout/checkout.messages.js";
import { couponsMessages } from "../coupons/coupons.messages.js";
import { followersMessages } from "../followers/followers.messages.js";
import { ordersMessages } from "../checkout/orders.messages.js";
import { csvMessages } from "../catalog/csv/csv.messages.js";
import { feedsMessages } from "../feeds/feeds.messages.js";
import { linksMessages } from "../links/links.messages.js";
import { liveMessages } from "../live/live.messages.js";
import { postsMessages } from "../posts/posts.messages.js";
import { reviewsMessages } from "../reviews/reviews.messages.js";
import { outboxMessages } from "../mail/outbox.messages.js";
import { mailMessages } from "../mail/mail.messages.js";
import { jobsMessages } from "../jobs/jobs.messages.js";
import { notificationsMessages } from "../notifications/notifications.messages.js";
import type { MessageSet } from "./define.js";
import { shopMessages } from "../shop/shop.messages.js";
import { errorMessages } from "./messages/errors.js";
import { siteMessages } from "./messages/site.js";

/**
 * Every feature's messages, in one explicit list. A feature adds its
 * `*.messages.ts` here; a key defined twice stops the process at start-up.
 */
export const MESSAGE_SETS: MessageSet[] = [siteMessages, catalogMessages, checkoutMessages, couponsMessages, followersMessages, outboxMessages, csvMessages, feedsMessages, postsMessages, linksMessages, ordersMessages, reviewsMessages, mailMessages, jobsMessages, notificationsMessages, shopMessages, errorMessages, liveMessages, analyticsMessages];
