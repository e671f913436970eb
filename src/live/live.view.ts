import { variantLabel } from "../catalog/catalog.service.js";
import { flushEvents } from "../analytics/events.js";
import type { Deps } from "../deps.js";
import type { Locale } from "../i18n/translate.js";
import { heldQuantities } from "../inventory/holds.service.js";
import { getLiveSessionWithLineup } from "./live.service.js";

/**
 * The read side of a show: what the viewer page, the host console and the
 * stats show. Units left are computed like the product page computes them
 * (stock minus holds that are active and unexpired), within the show's cap.
 */

const PAID = ["paid", "fulfilled", "partially_refunded", "refunded"];

type Session = NonNullable<Awaited<ReturnType<typeof getLiveSessionWithLineup>>>;

export async function liveShowState(deps: Deps, input: { session: Session; locale: Locale }) {
  const now = deps.now();
  const { session } = input;
  const variantIds = session.items.flatMap((i) => i.product.variants.map((v) => v.id));
  const held = await heldQuantities(deps.db, now, variantIds);
  const capped = session.items.filter((i) => i.quantityCap !== null).map((i) => i.id);
  const claimedByItem = new Map<string, number>();
  if (capped.length > 0) {
    const rows = await deps.db.liveClaim.groupBy({
      by: ["itemId"],
      where: { itemId: { in: capped }, hold: { is: { OR: [{ status: "consumed" }, { status: "active", expiresAt: { gt: now } }] } } },
      _sum: { quantity: true },
    });
    for (const r of rows) if (r.itemId) claimedByItem.set(r.itemId, r._sum.quantity ?? 0);
  }
  const deals = await deps.db.liveFlashDeal.findMany({ where: { liveSessionId: session.id, startsAt: { lte: now }, endsAt: { gt: now } }, orderBy: [{ startsAt: "desc" }, { id: "asc" }] });
  const dealUnits = new Map<string, number>();
  for (const d of deals) {
    const agg = await deps.db.liveClaim.aggregate({ where: { flashDealId: d.id, hold: { is: { OR: [{ status: "consumed" }, { status: "active", expiresAt: { gt: now } }] } } }, _sum: { quantity: true } });
    dealUnits.set(d.id, agg._sum.quantity ?? 0);
  }
  const live = session.status === "live";
  const featuredItem = session.items.find((i) => i.productId === session.featuredProductId) ?? null;
  const items = session.items.map((item) => {
    const capLeft = item.quantityCap === null ? null : Math.max(0, item.quantityCap - (claimedByItem.get(item.id) ?? 0));
    const variants = item.product.variants.map((v) => {
      const free = Math.max(0, v.stock - (held.get(v.id) ?? 0));
      const left = capLeft === null ? free : Math.min(free, capLeft);
      const livePrice = live && item.livePriceMinor !== null ? Math.min(item.livePriceMinor, v.priceMinor) : v.priceMinor;
      return { id: v.id, label: variantLabel(v) || "", priceMinor: v.priceMinor, livePriceMinor: livePrice, onSale: livePrice < v.priceMinor, currency: v.currency, left, soldOut: left === 0 };
    });
    const total = variants.reduce((n, v) => n + v.left, 0);
    const left = capLeft === null ? total : Math.min(total, capLeft);
    const deal = deals.find((d) => d.itemId === item.id) ?? null;
    const image = item.product.images[0];
    const firstInStock = variants.find((v) => !v.soldOut) ?? variants[0];
    return {
      id: item.id,
      claimCode: item.claimCode,
      productId: item.productId,
      slug: item.product.slug,
      title: item.product.translations[0]?.title || item.product.title,
      image: image ? { storageKey: image.media.storageKey, alt: image.alt || image.media.alt || item.product.title, width: image.media.width, height: image.media.height } : null,
      variants: variants.map((v) => ({ ...v, checked: v.id === firstInStock?.id })),
      multipleVariants: variants.length > 1,
      regularMinor: Math.min(...variants.map((v) => v.priceMinor)),
      liveMinor: Math.min(...variants.map((v) => v.livePriceMinor)),
      onSale: variants.some((v) => v.onSale),
      currency: variants[0]?.currency ?? deps.shop.currency,
      left,
      soldOut: left === 0,
      perBuyerLimit: item.perBuyerLimit,
      followerPriceMinor: live ? item.followerPriceMinor : null,
      followerMinDays: item.followerMinDays,
      featured: item.id === featuredItem?.id,
      flash: deal
        ? { dealId: deal.id, priceMinor: deal.priceMinor, endsAt: deal.endsAt, secondsLeft: Math.max(0, Math.round((deal.endsAt.getTime() - now.getTime()) / 1000)), unitCap: deal.unitCap, left: Math.max(0, deal.unitCap - (dealUnits.get(deal.id) ?? 0)), perBuyerLimit: deal.perBuyerLimit, followersOnly: deal.followersOnly }
        : null,
    };
  });
  return { items, featuredItemId: featuredItem?.id ?? null };
}

/** Chapters of the replay: each time an item was featured, as seconds from the start. */
export async function liveChapters(deps: Deps, input: { session: Session; locale: Locale }) {
  const { session } = input;
  if (!session.startedAt) return [];
  const features = await deps.db.liveFeature.findMany({ where: { liveSessionId: session.id }, orderBy: [{ at: "asc" }, { id: "asc" }] });
  return features.flatMap((f) => {
    const item = session.items.find((i) => i.id === f.itemId);
    if (!item) return [];
    const seconds = Math.max(0, Math.round((f.at.getTime() - session.startedAt!.getTime()) / 1000));
    return [{ itemId: item.id, slug: item.product.slug, title: item.product.translations[0]?.title || item.product.title, seconds, clock: clock(seconds), href: replayAt(session.replayUrl, seconds) }];
  });
}

export function clock(seconds: number) {
  const h = Math.floor(seconds / 3600);
  const m = Math.floor((seconds % 3600) / 60);
  const s = seconds % 60;
  return h > 0 ? `${h}:${String(m).padStart(2, "0")}:${String(s).padStart(2, "0")}` : `${m}:${String(s).padStart(2, "0")}`;
}

/** The replay at a moment: `#t=` for a video file (media fragment), `t=` for YouTube-style pages. */
export function replayAt(url: string, seconds: number): string | null {
  if (!url) return null;
  if (isVideoFile(url)) return `${url.split("#")[0]}#t=${seconds}`;
  try {
    const u = new URL(url);
    if (/(^|\.)youtube\.com$|(^|\.)youtu\.be$/.test(u.hostname)) {
      u.searchParams.set("t", `${seconds}s`);
      return u.toString();
    }
  } catch {
    return null;
  }
  return url;
}

export const isVideoFile = (url: string) => /\.(mp4|webm|m4v|mov)(\?|#|$)/i.test(url);

// ───────────── stats ─────────────

/**
 * Stats of one show. Viewers: `now` from open connections, `peak` the most
 * at once, `total` distinct visitors who opened the page. Claims and their
 * conversion to paid. Revenue and units per item from paid orders credited
 * to the show (claims' checkouts and orders through its tracked links/QR).
 */
export async function liveStats(deps: Deps, input: { id: string; viewersNow: number }) {
  const session = await deps.db.liveSession.findUnique({ where: { id: input.id }, include: { items: { orderBy: [{ position: "asc" }, { id: "asc" }], include: { product: { select: { title: true } } } } } });
  if (!session) return null;
  // Joins are buffered by the event writer: written out before they are counted.
  await flushEvents(deps);
  // A viewer is their viewer id; a first visit that never got one (the page for
  // everyone) is its daily visitor key, unless that key also came with an id.
  const joins = await deps.db.analyticsEvent.groupBy({ by: ["visitorId", "visitorKey"], where: { liveSessionId: session.id, type: "live_join", OR: [{ visitorId: { not: null } }, { visitorKey: { not: null } }] } });
  const identified = new Set(joins.filter((j) => j.visitorId !== null).map((j) => j.visitorId));
  const keysWithId = new Set(joins.filter((j) => j.visitorId !== null && j.visitorKey !== null).map((j) => j.visitorKey));
  const anonymous = new Set(joins.filter((j) => j.visitorId === null && j.visitorKey !== null && !keysWithId.has(j.visitorKey)).map((j) => j.visitorKey));
  const visitorsTotal = identified.size + anonymous.size;
  const claims = await deps.db.liveClaim.findMany({ where: { liveSessionId: session.id }, select: { itemId: true, quantity: true, unitPriceMinor: true, hold: { select: { status: true, expiresAt: true, orderId: true } } } });
  const now = deps.now();
  const paidClaims = claims.filter((c) => c.hold?.status === "consumed");
  const heldNow = claims.filter((c) => c.hold?.status === "active" && c.hold.expiresAt > now);
  const orders = await deps.db.order.findMany({ where: { liveSessionId: session.id, status: { in: PAID } }, select: { id: true, totalMinor: true, refundedMinor: true, linkId: true, currency: true, lines: { select: { productId: true, quantity: true, totalMinor: true } } } });
  const links = await deps.db.shortLink.findMany({ where: { liveSessionId: session.id }, orderBy: [{ createdAt: "asc" }, { id: "asc" }], select: { id: true, code: true, channel: true, clickCount: true } });
  const linkOrders = links.length > 0 ? await deps.db.order.findMany({ where: { linkId: { in: links.map((l) => l.id) }, status: { in: PAID } }, select: { linkId: true, totalMinor: true, refundedMinor: true } }) : [];
  const net = (o: { totalMinor: number; refundedMinor: number }) => o.totalMinor - o.refundedMinor;
  const items = session.items.map((item) => {
    const mine = claims.filter((c) => c.itemId === item.id);
    const paid = mine.filter((c) => c.hold?.status === "consumed");
    const lines = orders.flatMap((o) => o.lines.filter((l) => l.productId === item.productId));
    return {
      itemId: item.id,
      claimCode: item.claimCode,
      productId: item.productId,
      title: item.product.title,
      claims: mine.length,
      claimedUnits: mine.reduce((n, c) => n + c.quantity, 0),
      paidClaimUnits: paid.reduce((n, c) => n + c.quantity, 0),
      unitsSold: lines.reduce((n, l) => n + l.quantity, 0),
      revenueMinor: lines.reduce((n, l) => n + l.totalMinor, 0),
    };
  });
  return {
    session: { id: session.id, code: session.code, title: session.title, status: session.status, startedAt: session.startedAt, endedAt: session.endedAt },
    currency: deps.shop.currency,
    viewers: { now: input.viewersNow, peak: Math.max(session.peakViewers, input.viewersNow), total: visitorsTotal },
    claims: {
      total: claims.length,
      heldNow: heldNow.length,
      paid: paidClaims.length,
      conversion: claims.length === 0 ? 0 : Math.round((paidClaims.length / claims.length) * 1000) / 1000,
    },
    orders: { count: orders.length, revenueMinor: orders.reduce((n, o) => n + net(o), 0) },
    items,
    links: links.map((l) => {
      const mine = linkOrders.filter((o) => o.linkId === l.id);
      return { id: l.id, code: l.code, channel: l.channel, clicks: l.clickCount, orders: mine.length, revenueMinor: mine.reduce((n, o) => n + net(o), 0) };
    }),
    fromLinks: { orders: linkOrders.length, revenueMinor: linkOrders.reduce((n, o) => n + net(o), 0) },
  };
}
