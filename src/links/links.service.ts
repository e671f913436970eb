import { randomInt } from "node:crypto";
import { recordAudit, type Actor } from "../audit/audit.service.js";
import type { Prisma } from "../db/client.js";
import type { Deps } from "../deps.js";
import { recordEvent, type RequestLike } from "../analytics/events.js";
import { AppError } from "../http/errors.js";
import { checkShopPath, type LinkInputT, type LinkPatchT, type LinkTarget } from "./links.schema.js";

/**
 * Tracked short links, /l/:code. A link stores where it goes as a reference
 * (product, post, collection, live session, or an in-shop path), never as a
 * URL, and the destination is worked out at click time, so a link can only
 * ever send shoppers to this shop's own pages.
 */

/** Letters and digits that cannot be mistaken for each other when read aloud or typed (no 0/o, 1/l/i). */
const CODE_ALPHABET = "23456789abcdefghjkmnpqrstuvwxyz";
/** 10 characters of 31: about 2^49 codes, too many to find live links by guessing. */
const CODE_LENGTH = 10;

export function randomLinkCode(): string {
  let code = "";
  for (let i = 0; i < CODE_LENGTH; i++) code += CODE_ALPHABET[randomInt(CODE_ALPHABET.length)];
  return code;
}

const TARGET_INCLUDE = {
  product: { select: { id: true, title: true, slug: true, status: true } },
  post: { select: { id: true, caption: true, platform: true, status: true, publishedAt: true } },
  collection: { select: { id: true, title: true, slug: true } },
  liveSession: { select: { id: true, title: true, code: true } },
} as const;

type LinkWithTargets = Prisma.ShortLinkGetPayload<{ include: typeof TARGET_INCLUDE }>;

type Tx = Prisma.TransactionClient;

/** Every id the link refers to must exist; otherwise a 400 naming the field, before anything is written. */
async function checkTargets(tx: Tx, l: LinkInputT) {
  const fieldError = (field: string, message: string) => AppError.validation(`${field}: ${message}`, [{ field, message }]);
  const missing = (field: string, what: string, id: string) => fieldError(field, `no ${what} with id ${id}.`);
  if (l.productId) {
    const product = await tx.product.findUnique({ where: { id: l.productId }, select: { status: true, title: true } });
    if (!product) throw missing("productId", "product", l.productId);
    if (product.status === "archived") {
      throw fieldError("productId", `"${product.title}" is archived, so shoppers cannot open it; restore it first.`);
    }
  }
  if (l.postId && !(await tx.post.findUnique({ where: { id: l.postId }, select: { id: true } }))) throw missing("postId", "post", l.postId);
  if (l.collectionId && !(await tx.collection.findUnique({ where: { id: l.collectionId }, select: { id: true } }))) throw missing("collectionId", "collection", l.collectionId);
  if (l.liveSessionId && !(await tx.liveSession.findUnique({ where: { id: l.liveSessionId }, select: { id: true } }))) {
    throw missing("liveSessionId", "live session", l.liveSessionId);
  }
  // Checked by the schema too; repeated here because this is the last step before the row exists.
  if (l.targetType === "page") {
    const problem = l.path ? checkShopPath(l.path) : "A page link needs path.";
    if (problem) throw fieldError("path", problem);
  }
}

function isUniqueViolation(err: unknown) {
  return (err as { code?: string } | null)?.code === "P2002";
}

/** Thrown inside the transaction when the chosen code exists; a random code is then drawn again. */
class CodeTaken extends Error {}

export async function createLink(deps: Deps, input: { link: LinkInputT; actor: Actor }) {
  const l = input.link;
  for (let attempt = 0; attempt < 5; attempt++) {
    const code = l.code ?? randomLinkCode();
    try {
      return await deps.db.$transaction(async (tx) => {
        await checkTargets(tx, l);
        if (await tx.shortLink.findUnique({ where: { code }, select: { id: true } })) throw new CodeTaken();
        const link = await tx.shortLink.create({
          data: {
            code,
            targetType: l.targetType,
            productId: l.productId ?? null,
            postId: l.postId ?? null,
            collectionId: l.collectionId ?? null,
            liveSessionId: l.liveSessionId ?? null,
            path: l.targetType === "page" ? l.path! : null,
            channel: l.channel,
            hostName: l.hostName,
            utmSource: l.utmSource,
            utmMedium: l.utmMedium,
            utmCampaign: l.utmCampaign,
            utmContent: l.utmContent,
            createdAt: deps.now(),
          },
        });
        await recordAudit(tx, { actor: input.actor, action: "link.create", entityType: "link", entityId: link.id, details: { code, targetType: l.targetType } });
        return link;
      });
    } catch (err) {
      // Taken already, or two creators raced for it and the unique index decided.
      if (!(err instanceof CodeTaken) && !isUniqueViolation(err)) throw err;
      if (l.code) {
        const message = `/l/${code} is already used by another link; choose another code.`;
        throw AppError.conflict(`code: ${message}`, [{ field: "code", message }]);
      }
    }
  }
  throw new AppError("internal_error", 500, "Could not find a free link code; try again.");
}

export async function updateLink(deps: Deps, input: { id: string; patch: LinkPatchT; actor: Actor }) {
  return deps.db.$transaction(async (tx) => {
    const current = await tx.shortLink.findUnique({ where: { id: input.id } });
    if (!current) throw AppError.notFound("link");
    const { archived, ...fields } = input.patch;
    const link = await tx.shortLink.update({
      where: { id: current.id },
      data: { ...fields, ...(archived === undefined ? {} : { archivedAt: archived ? (current.archivedAt ?? deps.now()) : null }) },
    });
    await recordAudit(tx, { actor: input.actor, action: "link.update", entityType: "link", entityId: link.id, details: input.patch });
    return link;
  });
}

/** How a link's destination reads in the admin: "Product · Blue mug". */
function describeTarget(link: LinkWithTargets): { type: LinkTarget; title: string; missing: boolean; adminPath: string | null } {
  const type = link.targetType as LinkTarget;
  switch (type) {
    case "product":
      return { type, title: link.product?.title ?? "", missing: !link.product, adminPath: link.product ? `/admin/products/${link.product.id}` : null };
    case "post":
      return { type, title: link.post ? link.post.caption.slice(0, 80) || link.post.platform : "", missing: !link.post, adminPath: link.post ? `/admin/posts/${link.post.id}` : null };
    case "collection":
      return { type, title: link.collection?.title ?? "", missing: !link.collection, adminPath: null };
    case "live":
      return { type, title: link.liveSession?.title ?? "", missing: !link.liveSession, adminPath: null };
    default:
      return { type, title: link.path ?? "", missing: !link.path, adminPath: null };
  }
}

function toListItem(link: LinkWithTargets) {
  return {
    id: link.id,
    code: link.code,
    targetType: link.targetType,
    target: describeTarget(link),
    productId: link.productId,
    postId: link.postId,
    collectionId: link.collectionId,
    liveSessionId: link.liveSessionId,
    path: link.path,
    channel: link.channel,
    hostName: link.hostName,
    utmSource: link.utmSource,
    utmMedium: link.utmMedium,
    utmCampaign: link.utmCampaign,
    utmContent: link.utmContent,
    clickCount: link.clickCount,
    createdAt: link.createdAt,
    archivedAt: link.archivedAt,
  };
}

export async function listLinks(deps: Deps, input: { archived: boolean; page: number; limit: number }) {
  const where = { archivedAt: input.archived ? { not: null } : null };
  const [rows, activeCount, archivedCount] = await Promise.all([
    deps.db.shortLink.findMany({
      where,
      orderBy: [{ createdAt: "desc" }, { id: "desc" }],
      skip: (input.page - 1) * input.limit,
      take: input.limit + 1,
      include: TARGET_INCLUDE,
    }),
    deps.db.shortLink.count({ where: { archivedAt: null } }),
    deps.db.shortLink.count({ where: { archivedAt: { not: null } } }),
  ]);
  return {
    links: rows.slice(0, input.limit).map(toListItem),
    hasMore: rows.length > input.limit,
    total: input.archived ? archivedCount : activeCount,
    activeCount,
    archivedCount,
  };
}

/** One link with its latest clicks and the orders credited to it. */
export async function getLink(deps: Deps, input: { id: string }) {
  const link = await deps.db.shortLink.findUnique({ where: { id: input.id }, include: TARGET_INCLUDE });
  if (!link) return null;
  const [recentClicks, orders] = await Promise.all([
    deps.db.linkClick.findMany({ where: { linkId: link.id }, orderBy: [{ at: "desc" }, { id: "desc" }], take: 20, select: { at: true, referrer: true } }),
    deps.db.order.count({ where: { linkId: link.id, status: { in: ["paid", "fulfilled", "partially_refunded", "refunded"] } } }),
  ]);
  return { ...toListItem(link), recentClicks, orders };
}

/** The link behind /l/:code (codes are case-insensitive), or null. */
export async function findLinkByCode(deps: Deps, input: { code: string }) {
  return deps.db.shortLink.findUnique({ where: { code: input.code.toLowerCase() }, include: TARGET_INCLUDE });
}

/**
 * Where a click on `link` goes now, as a path inside the shop (the caller
 * adds the mount path). A target that has gone away (archived product,
 * deleted post) sends the shopper somewhere useful instead of to an error.
 * UTM parameters are added so the shop's own analytics see the campaign.
 */
export function linkDestination(link: LinkWithTargets, now: Date): string {
  let path = "/";
  switch (link.targetType as LinkTarget) {
    case "product":
      if (link.product?.status === "active") path = `/p/${link.product.slug}`;
      break;
    case "post":
      path = link.post && link.post.status === "published" && (!link.post.publishedAt || link.post.publishedAt <= now) ? `/posts/${link.post.id}` : "/gallery";
      break;
    case "collection":
      path = link.collection ? `/gallery?collection=${encodeURIComponent(link.collection.slug)}` : "/gallery";
      break;
    case "live":
      if (link.liveSession) path = `/live/${encodeURIComponent(link.liveSession.code)}`;
      break;
    case "page":
      // Re-checked at click time: a row edited by hand must not become an open redirect.
      if (link.path && checkShopPath(link.path) === null) path = link.path;
      break;
  }
  const url = new URL(path, "https://shop.invalid");
  const utm: [string, string][] = [
    ["utm_source", link.utmSource],
    ["utm_medium", link.utmMedium],
    ["utm_campaign", link.utmCampaign],
    ["utm_content", link.utmContent],
  ];
  for (const [key, value] of utm) if (value) url.searchParams.set(key, value);
  return `${url.pathname}${url.search}`;
}

/**
 * Counts one shopper's click: the LinkClick row (its id and the visitor id
 * make the attribution cookie) and the link's counter in one transaction,
 * then an analytics event through the buffered writer (it does not hold up
 * the redirect; `request` lets it apply the bot filter and Sec-GPC).
 */
export async function recordLinkClick(deps: Deps, input: { link: LinkWithTargets; visitorId: string; referrer: string; request?: RequestLike }) {
  const { link } = input;
  const at = deps.now();
  const click = await deps.db.$transaction(async (tx) => {
    const click = await tx.linkClick.create({ data: { linkId: link.id, visitorId: input.visitorId, referrer: input.referrer, at } });
    await tx.shortLink.update({ where: { id: link.id }, data: { clickCount: { increment: 1 } } });
    return click;
  });
  recordEvent(
    deps,
    {
      type: "link_click",
      visitorId: input.visitorId,
      linkId: link.id,
      productId: link.productId,
      postId: link.postId,
      liveSessionId: link.liveSessionId,
      channel: link.channel || null,
      meta: {
        code: link.code,
        targetType: link.targetType,
        referrer: input.referrer,
        hostName: link.hostName || null,
        utmSource: link.utmSource || null,
        utmMedium: link.utmMedium || null,
        utmCampaign: link.utmCampaign || null,
        utmContent: link.utmContent || null,
      },
    },
    input.request,
  );
  return click;
}

/** Only the referring site is kept (no path, no query): enough for "came from instagram.com", nothing personal. */
export function referrerHost(header: string | undefined): string {
  if (!header) return "";
  try {
    const url = new URL(header);
    return url.protocol === "http:" || url.protocol === "https:" ? url.hostname.slice(0, 200) : "";
  } catch {
    return "";
  }
}

/** Options for the admin's new-link form: posts, collections and live sessions to choose from. */
export async function listLinkTargetChoices(deps: Deps) {
  const [posts, collections, liveSessions] = await Promise.all([
    deps.db.post.findMany({ orderBy: [{ createdAt: "desc" }, { id: "desc" }], take: 100, select: { id: true, caption: true, platform: true, status: true } }),
    deps.db.collection.findMany({ orderBy: [{ position: "asc" }, { id: "asc" }], select: { id: true, title: true, slug: true } }),
    deps.db.liveSession.findMany({ orderBy: [{ startsAt: "desc" }, { id: "desc" }], take: 50, select: { id: true, title: true, code: true, status: true } }),
  ]);
  return { posts, collections, liveSessions };
}
