import type { Prisma } from "../db/client.js";
import type { Deps } from "../deps.js";

/**
 * The one place live shopping records analytics (AnalyticsEvent rows):
 * `live_join` (a viewer opened the page) and `live_claim` (a claim was
 * made). When the shared analytics writer (src/analytics) lands, point this
 * function at it; callers do not change.
 */
export async function recordLiveAnalytics(
  db: Prisma.TransactionClient | Deps["db"],
  deps: Deps,
  input: { type: "live_join" | "live_claim"; sessionId: string; visitorId: string | null; productId?: string | null; valueMinor?: number | null; linkId?: string | null; channel?: string | null; meta?: Record<string, unknown> },
) {
  await db.analyticsEvent.create({
    data: {
      type: input.type,
      at: deps.now(),
      liveSessionId: input.sessionId,
      visitorId: input.visitorId,
      productId: input.productId ?? null,
      valueMinor: input.valueMinor ?? null,
      linkId: input.linkId ?? null,
      channel: input.channel ?? null,
      meta: JSON.stringify(input.meta ?? {}),
    },
  });
}
