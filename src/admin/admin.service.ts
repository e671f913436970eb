import type { Deps } from "../deps.js";

/** Counts for the dashboard tiles. */
export async function getDashboardCounts(deps: Deps) {
  const [products, activeProducts, orders, paidOrders, reviews, pendingReviews, followers, coupons, posts, outbox, outboxFailed] = await Promise.all([
    deps.db.product.count(),
    deps.db.product.count({ where: { status: "active" } }),
    deps.db.order.count(),
    deps.db.order.count({ where: { status: { in: ["paid", "fulfilled", "partially_refunded"] } } }),
    deps.db.review.count(),
    deps.db.review.count({ where: { status: "pending" } }),
    deps.db.follower.count({ where: { status: "active" } }),
    deps.db.coupon.count({ where: { status: "active" } }),
    deps.db.post.count(),
    deps.db.outboxEmail.count({ where: { status: "queued" } }),
    deps.db.outboxEmail.count({ where: { status: "failed" } }),
  ]);
  return { products, activeProducts, orders, paidOrders, reviews, pendingReviews, followers, coupons, posts, outbox, outboxFailed };
}
