import { recordAudit, type Actor } from "../audit/audit.service.js";
import { getHeldQuantities, variantLabel } from "../catalog/catalog.service.js";
import { LOW_STOCK, offerFor, type Offer } from "../catalog/offer.js";
import type { Prisma } from "../db/client.js";
import { containsText, dialectOf, lockInTx } from "../db/dialect.js";
import type { Deps } from "../deps.js";
import { AppError } from "../http/errors.js";
import type { Locale } from "../i18n/translate.js";
import { readAllTags, readPostsById, readTaggedCatalog, readTagImages, type CatalogRow, type TagRow } from "./posts.queries.js";
import { MAX_TAGS_PER_POST, TAG_WARN_LIMIT, type MediaType, type TagInputT, type TagPatchT } from "./posts.schema.js";
import { withTagRatings } from "../reviews/summary.js";

/**
 * Product tags on posts. A tag stores only what the shop chose (product,
 * variant, position); price, stock and visibility are worked out from the
 * catalog every time a page is drawn, through `offerFor`, so a tag can never
 * show a stale price or sell something that is gone.
 */

export interface ImageRef {
  storageKey: string;
  width: number;
  height: number;
  alt: string;
}

interface CatalogVariant {
  id: string;
  sku: string;
  label: string;
  position: number;
  archived: boolean;
  offer: Offer;
}

export interface CatalogProduct {
  id: string;
  slug: string;
  title: string;
  status: string;
  variants: CatalogVariant[];
  image: ImageRef | null;
  variantImages: Map<string, ImageRef>;
  /** Worked out once per product, not once per tag (a gallery page has many tags per product). */
  live: CatalogVariant[];
  inStock: CatalogVariant[];
  byId: Map<string, CatalogVariant>;
  /** The offer a product-level tag shows: the cheapest in stock, else the cheapest. */
  pick: CatalogVariant | null;
  priceVaries: boolean;
}

/** Why a tag is hidden (broken) or needs a look (warning); null when all is well. */
export type TagProblem =
  | "product_deleted"
  | "product_archived"
  | "product_draft"
  | "no_variants"
  | "variant_removed"
  | "sold_out_sibling"
  | "sold_out";

export interface TagChoice {
  id: string;
  label: string;
  sku: string;
  offer: Offer;
  href: string;
}

export interface ResolvedTag {
  id: string;
  postId: string;
  x: number | null;
  y: number | null;
  startSec: number | null;
  endSec: number | null;
  /** Shown on public pages at all. */
  visible: boolean;
  /** Something can be bought from this tag now (the variant, or the offered sibling). */
  buyable: boolean;
  state: "in_stock" | "sold_out" | "hidden";
  problem: TagProblem | null;
  broken: boolean;
  productId: string | null;
  /** The variant id stored on the tag (even when that variant is gone). */
  variantId: string | null;
  title: string;
  slug: string | null;
  /** Shop-relative product page address. */
  href: string | null;
  image: ImageRef | null;
  /** The tagged variant, when the tag is for one variant and it still exists. */
  variant: { id: string; label: string; sku: string } | null;
  offer: Offer | null;
  /** Product-level tag over variants with different prices: "From …". */
  priceVaries: boolean;
  lowStock: boolean;
  /** An in-stock sibling offered when the tagged variant is sold out. */
  alternative: TagChoice | null;
}

/**
 * Loads what the tags of some products need to know, in a fixed number of
 * queries (products with variants, images, holds), whatever the tag count.
 */
export async function loadTagCatalog(deps: Deps, input: { productIds: string[]; locale: Locale }): Promise<Map<string, CatalogProduct>> {
  const ids = [...new Set(input.productIds)];
  const [rows, images] = await Promise.all([readTaggedCatalog(deps.db, ids, input.locale), readTagImages(deps.db, ids)]);
  // Holds matter only where something could be bought: a variant with no
  // stock is sold out whatever is held, and a hidden product shows no offer.
  const held = await getHeldQuantities(
    deps,
    rows.flatMap((r) => (r.variantId && !r.archivedAt && r.status === "active" && (r.stock ?? 0) > 0 ? [r.variantId] : [])),
  );
  const products = new Map<string, CatalogProduct>();
  for (const r of rows) {
    let product = products.get(r.productId);
    if (!product) {
      product = {
        id: r.productId, slug: r.slug, title: r.localTitle || r.title, status: r.status, variants: [], image: null, variantImages: new Map(),
        live: [], inStock: [], byId: new Map(), pick: null, priceVaries: false,
      };
      products.set(r.productId, product);
    }
    if (r.variantId) product.variants.push(toVariant(r, held.get(r.variantId) ?? 0));
  }
  for (const product of products.values()) {
    product.live = product.variants.filter((v) => !v.archived);
    product.inStock = product.live.filter((v) => v.offer.availability === "in_stock");
    product.byId = new Map(product.variants.map((v) => [v.id, v]));
    product.pick = product.live.length > 0 ? cheapest(product.inStock.length > 0 ? product.inStock : product.live) : null;
    product.priceVaries = new Set(product.live.map((v) => v.offer.priceMinor)).size > 1;
  }
  for (const img of images) {
    const product = products.get(img.productId);
    if (!product) continue;
    const ref = { storageKey: img.storageKey, width: img.width, height: img.height, alt: img.alt };
    product.image ??= ref;
    if (img.variantId && !product.variantImages.has(img.variantId)) product.variantImages.set(img.variantId, ref);
  }
  return products;
}

function toVariant(r: CatalogRow, held: number): CatalogVariant {
  return {
    id: r.variantId!,
    sku: r.sku!,
    label: variantLabel(r) || r.sku!,
    position: r.position ?? 0,
    archived: r.archivedAt !== null,
    offer: offerFor({ id: r.variantId!, priceMinor: r.priceMinor!, compareAtMinor: r.compareAtMinor, currency: r.currency!, stock: r.stock! }, held),
  };
}

const productHref = (slug: string, variantId?: string) => `/p/${slug}${variantId ? `?variant=${encodeURIComponent(variantId)}` : ""}`;
const cheapest = (variants: CatalogVariant[]) => variants.reduce((a, b) => (b.offer.priceMinor < a.offer.priceMinor ? b : a));

/** What one tag shows right now, from the catalog as it is. Pure: no I/O. */
export function resolveTag(tag: TagRow, catalog: Map<string, CatalogProduct>): ResolvedTag {
  const product = tag.productId ? catalog.get(tag.productId) : undefined;
  if (!product) return hiddenTag(tag, "product_deleted", undefined);
  if (product.status === "archived") return hiddenTag(tag, "product_archived", product);
  if (product.status !== "active") return hiddenTag(tag, "product_draft", product);
  if (!product.pick) return hiddenTag(tag, "no_variants", product);

  const tagged = tag.variantId ? product.byId.get(tag.variantId) : undefined;
  if (tagged && !tagged.archived) {
    const available = tagged.offer.availability === "in_stock";
    // The first sibling in stock, in the shop's variant order.
    const sibling = available ? undefined : product.inStock.find((v) => v.id !== tagged.id);
    return shownTag(tag, product, {
      buyable: available || sibling !== undefined,
      state: available ? "in_stock" : "sold_out",
      problem: available ? null : sibling ? "sold_out_sibling" : "sold_out",
      href: productHref(product.slug, tagged.id),
      image: product.variantImages.get(tagged.id) ?? product.image,
      variant: { id: tagged.id, label: tagged.label, sku: tagged.sku },
      offer: tagged.offer,
      priceVaries: false,
      lowStock: available && tagged.offer.available <= LOW_STOCK,
      alternative: sibling ? { id: sibling.id, label: sibling.label, sku: sibling.sku, offer: sibling.offer, href: productHref(product.slug, sibling.id) } : null,
    });
  }

  // A product-level tag, or one whose variant was removed: the product's
  // cheapest offer that can be bought, else its cheapest offer.
  const available = product.inStock.length > 0;
  return shownTag(tag, product, {
    buyable: available,
    state: available ? "in_stock" : "sold_out",
    problem: tagged ? "variant_removed" : available ? null : "sold_out",
    href: productHref(product.slug),
    image: product.image,
    variant: null,
    offer: product.pick.offer,
    priceVaries: product.priceVaries,
    lowStock: available && product.inStock.length === 1 && product.pick.offer.available <= LOW_STOCK,
    alternative: null,
  });
}

type TagOutcome = Pick<ResolvedTag, "buyable" | "state" | "problem" | "href" | "image" | "variant" | "offer" | "priceVaries" | "lowStock" | "alternative">;

// Both builders list every field in the same order: one object shape for
// all tags keeps a gallery page (hundreds of tags) on V8's fast paths.
function shownTag(tag: TagRow, product: CatalogProduct, o: TagOutcome): ResolvedTag {
  return {
    id: tag.id, postId: tag.postId, x: tag.x, y: tag.y, startSec: tag.startSec, endSec: tag.endSec, productId: tag.productId, variantId: tag.variantId,
    visible: true, buyable: o.buyable, state: o.state, problem: o.problem, broken: false, title: product.title, slug: product.slug, href: o.href,
    image: o.image, variant: o.variant, offer: o.offer, priceVaries: o.priceVaries, lowStock: o.lowStock, alternative: o.alternative,
  };
}

function hiddenTag(tag: TagRow, problem: TagProblem, product: CatalogProduct | undefined): ResolvedTag {
  return {
    id: tag.id, postId: tag.postId, x: tag.x, y: tag.y, startSec: tag.startSec, endSec: tag.endSec, productId: tag.productId, variantId: tag.variantId,
    visible: false, buyable: false, state: "hidden", problem, broken: true, title: product?.title ?? tag.productTitle, slug: product?.slug ?? null, href: null,
    image: product?.image ?? null, variant: null, offer: null, priceVaries: false, lowStock: false, alternative: null,
  };
}

/** Resolves the tags of several posts at once: a fixed number of queries. */
export async function resolvePostTags(deps: Deps, input: { tags: TagRow[]; locale: Locale }): Promise<Map<string, ResolvedTag[]>> {
  const catalog = await loadTagCatalog(deps, { productIds: input.tags.flatMap((t) => (t.productId ? [t.productId] : [])), locale: input.locale });
  const byPost = new Map<string, ResolvedTag[]>();
  for (const tag of input.tags) {
    const list = byPost.get(tag.postId) ?? [];
    list.push(resolveTag(tag, catalog));
    byPost.set(tag.postId, list);
  }
  return withTagRatings(deps, byPost);
}

// ───────────────────────────── writes ─────────────────────────────

type Tx = Prisma.TransactionClient;

export interface TagWriteResult {
  tag: { id: string; postId: string; productId: string | null; variantId: string | null; x: number | null; y: number | null; startSec: number | null; endSec: number | null };
  /** Instagram's rule: tagging a product already on the photo moves that tag. */
  moved: boolean;
  count: number;
  /** Set past Instagram's tag limit for this kind of post. */
  warning: string | null;
}

/** The warning for a post with `count` tags, or null. */
export function tagLimitWarning(mediaType: MediaType, count: number): string | null {
  const limit = TAG_WARN_LIMIT[mediaType];
  if (count <= limit) return null;
  return mediaType === "image"
    ? `This post has ${count} tags; Instagram shows at most ${limit} on a photo post, so the extra tags will not carry over there.`
    : `This post has ${count} tags; Instagram shows at most ${limit} on a Reel, so the extra tags will not carry over there.`;
}

/** A 400 that names the field, with the whole sentence for both the summary and the field. */
function fieldError(field: string, message: string) {
  return AppError.validation(`${field}: ${message}`, [{ field, message }]);
}

async function findPost(tx: Tx, id: string) {
  const post = await tx.post.findUnique({ where: { id }, select: { id: true, mediaType: true } });
  if (!post) throw AppError.notFound("post");
  return post as { id: string; mediaType: MediaType };
}

/** The product and variant a tag points at, or a 400 naming the field. */
async function findTagTarget(tx: Tx, productId: string, variantId: string | null | undefined) {
  const product = await tx.product.findUnique({ where: { id: productId }, select: { id: true, title: true, status: true } });
  if (!product) throw fieldError("productId", `no product with id ${productId}.`);
  if (product.status === "archived") throw fieldError("productId", `"${product.title}" is archived; restore it before tagging it.`);
  if (variantId) {
    const variant = await tx.variant.findUnique({ where: { id: variantId }, select: { productId: true, archivedAt: true } });
    if (!variant || variant.productId !== product.id || variant.archivedAt) {
      throw fieldError("variantId", `"${product.title}" has no variant ${variantId}.`);
    }
  }
  return product;
}

/** Image posts take x/y, video posts a start (and end) second; never both. */
function checkPlacement(mediaType: MediaType, t: { x?: number | null; y?: number | null; startSec?: number | null; endSec?: number | null }) {
  const problems: { field: string; message: string; code?: string }[] = [];
  if (mediaType === "image") {
    if (t.x === undefined || t.x === null) problems.push({ field: "x", message: "An image tag needs x (0 to 1 from the left edge).", code: "position_missing" });
    if (t.y === undefined || t.y === null) problems.push({ field: "y", message: "An image tag needs y (0 to 1 from the top edge).", code: "position_missing" });
    if (t.startSec != null || t.endSec != null) problems.push({ field: "startSec", message: "Seconds are for video posts; this is an image post." });
  } else {
    if (t.startSec === undefined || t.startSec === null) problems.push({ field: "startSec", message: "A video tag needs startSec, the second it appears." });
    if (t.x != null || t.y != null) problems.push({ field: "x", message: "x/y are for image posts; this is a video post." });
    if (t.startSec != null && t.endSec != null && t.endSec <= t.startSec) problems.push({ field: "endSec", message: "endSec must be after startSec." });
  }
  if (problems.length) throw AppError.validation(problems.map((p) => `${p.field}: ${p.message}`).join(" "), problems);
}

export async function addTag(deps: Deps, input: { postId: string; tag: TagInputT; actor: Actor }): Promise<TagWriteResult> {
  return deps.db.$transaction(async (tx) => {
    // The tag limit is counted, then a tag inserted: one writer per post at a time.
    await lockInTx(tx, "post-tags", input.postId);
    const post = await findPost(tx, input.postId);
    const t = input.tag;
    const product = await findTagTarget(tx, t.productId, t.variantId);
    checkPlacement(post.mediaType, t);
    const placement =
      post.mediaType === "image" ? { x: t.x!, y: t.y!, startSec: null, endSec: null } : { x: null, y: null, startSec: t.startSec!, endSec: t.endSec ?? null };
    const variantId = t.variantId ?? null;
    const existing = post.mediaType === "image" ? await tx.postTag.findFirst({ where: { postId: post.id, productId: product.id, variantId } }) : null;
    let tag;
    if (existing) {
      tag = await tx.postTag.update({ where: { id: existing.id }, data: { ...placement, productTitle: product.title } });
    } else {
      const count = await tx.postTag.count({ where: { postId: post.id } });
      if (count >= MAX_TAGS_PER_POST) {
        const message = `a post can have at most ${MAX_TAGS_PER_POST} tags; remove one first.`;
        throw AppError.conflict(`tags: ${message}`, [{ field: "tags", message }]);
      }
      tag = await tx.postTag.create({ data: { postId: post.id, productId: product.id, productTitle: product.title, variantId, ...placement } });
    }
    const count = await tx.postTag.count({ where: { postId: post.id } });
    await recordAudit(tx, {
      actor: input.actor,
      action: existing ? "post.tag.move" : "post.tag.add",
      entityType: "post",
      entityId: post.id,
      details: { tagId: tag.id, productId: product.id, variantId, ...placement },
    });
    return { tag: pickTag(tag), moved: existing !== null, count, warning: tagLimitWarning(post.mediaType, count) };
  });
}

export async function updateTag(deps: Deps, input: { postId: string; tagId: string; patch: TagPatchT; actor: Actor }): Promise<TagWriteResult> {
  return deps.db.$transaction(async (tx) => {
    const post = await findPost(tx, input.postId);
    const current = await tx.postTag.findFirst({ where: { id: input.tagId, postId: post.id } });
    if (!current) throw AppError.notFound("tag");
    const p = input.patch;
    const productId = p.productId ?? current.productId;
    if (!productId) {
      throw fieldError("productId", "the tagged product was deleted; choose another product or remove the tag.");
    }
    // A new product drops the old variant unless a new one is given.
    const variantId = p.variantId !== undefined ? p.variantId : p.productId && p.productId !== current.productId ? null : current.variantId;
    const product = await findTagTarget(tx, productId, variantId);
    const merged = {
      x: p.x !== undefined ? p.x : current.x,
      y: p.y !== undefined ? p.y : current.y,
      startSec: p.startSec !== undefined ? p.startSec : current.startSec,
      endSec: p.endSec !== undefined ? p.endSec : current.endSec,
    };
    checkPlacement(post.mediaType, merged);
    const tag = await tx.postTag.update({
      where: { id: current.id },
      data: { productId: product.id, productTitle: product.title, variantId: variantId ?? null, ...merged },
    });
    const count = await tx.postTag.count({ where: { postId: post.id } });
    await recordAudit(tx, { actor: input.actor, action: "post.tag.update", entityType: "post", entityId: post.id, details: { tagId: tag.id, ...p } });
    return { tag: pickTag(tag), moved: false, count, warning: tagLimitWarning(post.mediaType, count) };
  });
}

export async function deleteTag(deps: Deps, input: { postId: string; tagId: string; actor: Actor }) {
  return deps.db.$transaction(async (tx) => {
    const removed = await tx.postTag.deleteMany({ where: { id: input.tagId, postId: input.postId } });
    if (removed.count === 0) throw AppError.notFound("tag");
    await recordAudit(tx, { actor: input.actor, action: "post.tag.delete", entityType: "post", entityId: input.postId, details: { tagId: input.tagId } });
    return { id: input.tagId };
  });
}

function pickTag(t: TagWriteResult["tag"]): TagWriteResult["tag"] {
  return { id: t.id, postId: t.postId, productId: t.productId, variantId: t.variantId, x: t.x, y: t.y, startSec: t.startSec, endSec: t.endSec };
}

// ───────────────────────────── admin helpers ─────────────────────────────

/**
 * Products an admin may tag, for the tag editor's search box: title (either
 * language), slug or SKU contains the text. Archived products are left out.
 */
export async function searchTaggableProducts(deps: Deps, input: { q: string; locale: Locale; limit?: number }) {
  const q = input.q.trim();
  const like = containsText(dialectOf(deps.db), q);
  const products = await deps.db.product.findMany({
    where: {
      status: { in: ["active", "draft"] },
      ...(q
        ? {
            OR: [
              { title: like },
              { slug: containsText(dialectOf(deps.db), q.toLowerCase()) },
              { translations: { some: { title: like } } },
              { variants: { some: { sku: like, archivedAt: null } } },
            ],
          }
        : {}),
    },
    orderBy: [{ status: "asc" }, { updatedAt: "desc" }, { id: "asc" }],
    take: input.limit ?? 10,
    select: { id: true },
  });
  const catalog = await loadTagCatalog(deps, { productIds: products.map((p) => p.id), locale: input.locale });
  return products.flatMap((p) => {
    const c = catalog.get(p.id);
    if (!c) return [];
    return [
      {
        id: c.id,
        title: c.title,
        slug: c.slug,
        status: c.status,
        image: c.image,
        variants: c.variants
          .filter((v) => !v.archived)
          .map((v) => ({ id: v.id, sku: v.sku, label: v.label, priceMinor: v.offer.priceMinor, currency: v.offer.currency, available: v.offer.available, availability: v.offer.availability })),
      },
    ];
  });
}

/**
 * Resolves what an admin typed in a no-JavaScript tag form: a SKU (tags that
 * variant), a product slug, or a product id.
 */
export async function findProductByReference(deps: Deps, input: { reference: string }): Promise<{ productId: string; variantId: string | null } | null> {
  const ref = input.reference.trim();
  if (!ref) return null;
  const variant = await deps.db.variant.findFirst({ where: { sku: ref, archivedAt: null }, select: { id: true, productId: true } });
  if (variant) return { productId: variant.productId, variantId: variant.id };
  const product = await deps.db.product.findFirst({ where: { OR: [{ slug: ref.toLowerCase() }, { id: ref }] }, select: { id: true } });
  return product ? { productId: product.id, variantId: null } : null;
}

export interface TagHealthRow {
  tag: ResolvedTag;
  post: { id: string; caption: string; status: string; mediaType: string; image: ImageRef | null };
  severity: "broken" | "warning";
  /** A one-click fix: retag to this in-stock variant. */
  retagTo: TagChoice | null;
}

/**
 * Every tag that is hidden from shoppers (broken) or needs a look (sold out,
 * variant removed), broken first. Computed from the catalog on each visit.
 */
export async function getTagHealth(deps: Deps, input: { locale: Locale }) {
  const tags = await readAllTags(deps.db);
  const catalog = await loadTagCatalog(deps, { productIds: tags.flatMap((t) => (t.productId ? [t.productId] : [])), locale: input.locale });
  const problemTags = tags.map((t) => resolveTag(t, catalog)).filter((t) => t.problem !== null);
  const posts = new Map((await readPostsById(deps.db, [...new Set(problemTags.map((t) => t.postId))])).map((p) => [p.id, p]));
  const rows: TagHealthRow[] = problemTags.map((tag) => {
    const post = posts.get(tag.postId)!;
    const image = post.mediaKey
      ? { storageKey: post.mediaKey, width: post.mediaWidth!, height: post.mediaHeight!, alt: post.mediaAlt ?? "" }
      : post.posterKey
        ? { storageKey: post.posterKey, width: post.posterWidth!, height: post.posterHeight!, alt: post.posterAlt ?? "" }
        : null;
    return {
      tag,
      post: { id: post.id, caption: post.caption, status: post.status, mediaType: post.mediaType, image },
      severity: tag.broken ? "broken" : "warning",
      retagTo: retagSuggestion(tag, catalog),
    };
  });
  rows.sort((a, b) => (a.severity === b.severity ? 0 : a.severity === "broken" ? -1 : 1));
  return { rows, total: tags.length, broken: rows.filter((r) => r.severity === "broken").length, warnings: rows.filter((r) => r.severity === "warning").length };
}

/** The in-stock variant to move a sold-out or orphaned variant tag to, if any. */
function retagSuggestion(tag: ResolvedTag, catalog: Map<string, CatalogProduct>): TagChoice | null {
  if (tag.alternative) return tag.alternative;
  if (tag.problem !== "variant_removed" || !tag.productId) return null;
  const product = catalog.get(tag.productId);
  const v = product?.inStock[0];
  return v && product ? { id: v.id, label: v.label, sku: v.sku, offer: v.offer, href: productHref(product.slug, v.id) } : null;
}
