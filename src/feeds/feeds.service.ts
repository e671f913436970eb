import { createHash, randomBytes, timingSafeEqual } from "node:crypto";
import { variantLabel } from "../catalog/catalog.service.js";
import { offerFor, type Offer } from "../catalog/offer.js";
import type { Deps } from "../deps.js";
import { AppError } from "../http/errors.js";
import { formatFeedPrice } from "../i18n/format.js";
import { getShopProfile } from "../shop/shop.service.js";
import { translate, type Locale } from "../i18n/translate.js";
import { mediaPath } from "../media/media.paths.js";
import { FIRST_CURSOR, openCatalogReader, type ImageRow, readCatalogFingerprint, readHeldUnits, readImages, readProducts, readProductTypes, readVariantBatch, type CatalogReader, type VariantCursor } from "./feeds.queries.js";
import { AGE_GROUPS, GENDERS } from "../catalog/catalog.schema.js";
import { checkFields, checkItem, cleanTitle, describeText, hasErrors, LIMITS, NO_CONTEXT, PLATFORMS, truncateText, type FeedContext, type Platform, type Problem, type Severity } from "./feeds.rules.js";
import { googleFeed } from "./formats/google.js";
import type { FeedChunk, FeedFormat, FeedItem } from "./formats/item.js";
import { metaFeed } from "./formats/meta.js";
import { pinterestFeed } from "./formats/pinterest.js";
import { tiktokFeed } from "./formats/tiktok.js";

export const FORMATS: Record<Platform, FeedFormat> = { google: googleFeed, meta: metaFeed, pinterest: pinterestFeed, tiktok: tiktokFeed };

/** utm_source per platform; Meta's traffic is reported as "facebook" by convention. */
const UTM_SOURCE: Record<Platform, string> = { google: "google", meta: "facebook", pinterest: "pinterest", tiktok: "tiktok" };

const UTM = Object.fromEntries(
  Object.entries(UTM_SOURCE).map(([platform, source]) => [platform, `&utm_source=${source}&utm_medium=product_feed&utm_campaign=catalog`]),
) as Record<Platform, string>;

/**
 * Variants per batch. Big enough that per-query overhead stays small, and
 * small enough that a batch (its rows, products and candidates) is garbage
 * before V8's young generation has been collected twice: what survives two
 * scavenges is copied into the old generation and waits there for a full
 * collection. With 1,000 per batch a production server (dist/server.js, no
 * forced GC between fetches) promoted about 1.4 MB per scavenge, let its
 * heap reach 140 MB before collecting it, and went from 192 to 314 MB RSS
 * over six fetches after its first start; with 250, 191 to 205 MB. It also
 * keeps the batch well inside the 4 MB semi-space `npm start` gives V8.
 */
export const BATCH_SIZE = 250;

/**
 * Bumped when the output of a feed changes for the same catalog (new column,
 * new rule), so fetchers holding an old ETag download the new shape.
 */
const FORMAT_VERSION = "2";

const TOKEN_KEY = "feeds.token";
const VERSION_KEY = "feeds.version";


/** One sellable variant with everything any platform needs, before per-platform cleaning. */
export interface FeedCandidate {
  productId: string;
  variantId: string;
  sku: string;
  slug: string;
  productTitle: string;
  title: string;
  description: string;
  image: { storageKey: string; width: number; height: number } | null;
  additionalImages: string[];
  offer: Offer;
  condition: string;
  brand: string;
  gtin: string | null;
  mpn: string | null;
  identifierExists: boolean;
  googleCategory: string;
  productType: string;
  attributes: { color: string | null; size: string | null; material: string | null; pattern: string | null };
  /** Google's values, or null when not set (or not one of them). */
  gender: string | null;
  ageGroup: string | null;
  /** Published reviews of the product (RatingSummary), for feeds that carry a rating. */
  reviews?: { count: number; sum: number };
}

const ATTRIBUTE_NAMES: [keyof FeedCandidate["attributes"], RegExp][] = [
  ["color", /^(colou?r|رنگ)$/i],
  ["size", /^(size|سایز|اندازه)$/i],
  ["material", /^(material|جنس)$/i],
  ["pattern", /^(pattern|طرح)$/i],
];

/** What the variants of one product share (readBatches). */
interface ProductShare {
  slots: (keyof FeedCandidate["attributes"] | null)[];
  images: ImageRow[];
  /** The first product-wide photo: every variant's main image unless some variant has its own. */
  main: FeedCandidate["image"];
  rest: string[];
  ownImages: boolean;
  color: string | null;
  size: string | null;
  identifierExists: boolean;
  gender: string | null;
  ageGroup: string | null;
  reviews: { count: number; sum: number };
  productType: string;
}

/**
 * The whole sellable catalog, one batch of variants at a time, each with its
 * offer from offerFor(), the function the product page uses, so feed and page
 * cannot disagree. Held units are read once, at the start (readHeldUnits).
 */
export async function* readFeedCandidates(deps: Deps, input: { batchSize?: number; direct?: boolean } = {}): AsyncGenerator<FeedCandidate[]> {
  const reader = await openCatalogReader(deps.db, { direct: input.direct });
  try {
    yield* readBatches(deps, reader, input.batchSize ?? BATCH_SIZE);
  } finally {
    reader.close();
  }
}

async function* readBatches(deps: Deps, reader: CatalogReader, limit: number): AsyncGenerator<FeedCandidate[]> {
  let cursor: VariantCursor = FIRST_CURSOR;
  const held = await readHeldUnits(reader, deps.now());
  for (;;) {
    const rows = await readVariantBatch(reader, cursor, limit);
    if (rows.length === 0) return;
    const last = rows[rows.length - 1]!;
    cursor = { productId: last.productId, position: Number(last.position), id: last.id };

    const productIds = [...new Set(rows.map((r) => r.productId))];
    const [products, images, productTypes] = await Promise.all([
      inChunks(productIds, (ids) => readProducts(reader, ids)).then((parts) => new Map(parts.flat().map((p) => [p.id, p]))),
      inChunks(productIds, (ids) => readImages(reader, ids)).then((parts) => parts.flat()),
      inChunks(productIds, (ids) => readProductTypes(reader, ids)).then((parts) => new Map(parts.flatMap((m) => [...m]))),
    ]);
    const imagesByProduct = new Map<string, typeof images>();
    for (const image of images) {
      const list = imagesByProduct.get(image.productId);
      if (list) list.push(image);
      else imagesByProduct.set(image.productId, [image]);
    }
    // What every variant of a product shares, worked out once per product:
    // the hot loop below then allocates little more than the candidate itself.
    const shared = new Map<string, ProductShare>();

    const batch: FeedCandidate[] = [];
    for (const row of rows) {
      const product = products.get(row.productId);
      // Not active (draft, archived), or deleted since its variants were read.
      if (!product || product.status !== "active") continue;
      let common = shared.get(row.productId);
      if (!common) {
        const all = imagesByProduct.get(row.productId) ?? [];
        const productWide = all.filter((i) => i.variantId === null);
        const main = productWide[0] ?? null;
        common = {
          slots: parseOptionNames(product.optionNames).map((name) => ATTRIBUTE_NAMES.find(([, pattern]) => pattern.test(name.trim()))?.[0] ?? null),
          images: all,
          main: main ? { storageKey: main.storageKey, width: Number(main.width), height: Number(main.height) } : null,
          rest: productWide.slice(1).map((i) => i.storageKey),
          ownImages: productWide.length !== all.length,
          color: product.color?.trim() || null,
          size: product.size?.trim() || null,
          identifierExists: Boolean(Number(product.identifierExists)),
          gender: (GENDERS as readonly string[]).includes(product.gender) ? product.gender : null,
          ageGroup: (AGE_GROUPS as readonly string[]).includes(product.ageGroup) ? product.ageGroup : null,
          reviews: { count: Number(product.reviewCount ?? 0), sum: Number(product.reviewSum ?? 0) },
          productType: productTypes.get(row.productId) ?? "",
        };
        shared.set(row.productId, common);
      }
      const attributes: FeedCandidate["attributes"] = { color: null, size: null, material: null, pattern: null };
      const { slots } = common;
      for (let i = 0; i < slots.length; i++) {
        const slot = slots[i];
        const value = i === 0 ? row.option1 : i === 1 ? row.option2 : i === 2 ? row.option3 : null;
        if (slot && value) attributes[slot] = value;
      }
      // Variants without a Colour / Size option take the product's own.
      attributes.color ??= common.color;
      attributes.size ??= common.size;

      // As on the product page: the variant's own photo first, else the product's first.
      // Photos of the other variants are left out so a feed item never shows the wrong colour.
      let image = common.main;
      let additionalImages = common.rest;
      if (common.ownImages) {
        const mine = common.images.filter((i) => i.variantId === null || i.variantId === row.id);
        const main = mine.find((i) => i.variantId === row.id) ?? mine[0] ?? null;
        image = main ? { storageKey: main.storageKey, width: Number(main.width), height: Number(main.height) } : null;
        additionalImages = mine.filter((i) => i !== main).map((i) => i.storageKey);
      }
      // Most variants have one option value: no arrays for the usual case.
      const label = row.option2 === null && row.option3 === null ? (row.option1 ?? "") : variantLabel(row);
      batch.push({
        productId: row.productId,
        variantId: row.id,
        sku: row.sku,
        slug: product.slug,
        productTitle: product.title,
        title: label ? `${product.title} - ${label}` : product.title,
        description: product.description,
        image,
        additionalImages,
        offer: offerFor(
          { id: row.id, priceMinor: Number(row.priceMinor), compareAtMinor: row.compareAtMinor === null ? null : Number(row.compareAtMinor), currency: row.currency, stock: Number(row.stock) },
          held.get(row.id) ?? 0,
        ),
        condition: product.condition,
        brand: product.brand,
        gtin: row.gtin?.trim() || null,
        mpn: row.mpn?.trim() || null,
        identifierExists: common.identifierExists,
        googleCategory: product.googleCategory,
        productType: common.productType,
        attributes,
        gender: common.gender,
        ageGroup: common.ageGroup,
        reviews: common.reviews,
      });
    }
    yield batch;
    if (rows.length < limit) return;
  }
}

/**
 * SQLite through Prisma's adapter takes at most 999 bound values per
 * statement, so id lists are sent in slices that always fit.
 */
const MAX_IDS_PER_QUERY = 500;

async function inChunks<T>(ids: string[], run: (slice: string[]) => Promise<T>): Promise<T[]> {
  const out: T[] = [];
  for (let i = 0; i < ids.length; i += MAX_IDS_PER_QUERY) out.push(await run(ids.slice(i, i + MAX_IDS_PER_QUERY)));
  return out;
}

function parseOptionNames(json: string): string[] {
  try {
    const parsed: unknown = JSON.parse(json);
    return Array.isArray(parsed) ? parsed.map((n) => String(n)) : [];
  } catch {
    return [];
  }
}

/** Absolute product URL of the variant, tagged for the platform. */
export function feedLink(publicBase: string, platform: Platform, candidate: Pick<FeedCandidate, "slug" | "variantId">): string {
  return `${publicBase}/p/${encodeURIComponent(candidate.slug)}?variant=${encodeURIComponent(candidate.variantId)}${UTM[platform]}`;
}

let lastExtraImages: { keys: string[] | null; base: string; links: string[] } = { keys: null, base: "", links: [] };
let lastMainImage = { key: "", base: "", link: "" };

/** The square photo's URL; the variants of a product usually share it, so the last one is kept. */
function mainImageLink(publicBase: string, key: string): string {
  if (lastMainImage.key !== key || lastMainImage.base !== publicBase) lastMainImage = { key, base: publicBase, link: `${publicBase}${mediaPath(key, "square")}` };
  return lastMainImage.link;
}

/**
 * The one judgement of an item for a platform, used by the feed writer and by
 * Feed health alike: builds the item exactly as the platform's file will carry
 * it, then checks it twice over, the content rules on what the shop wrote
 * (checkItem) and the platform's required fields on the values the file would
 * hold (checkFields over the format's own field list). Any error leaves the
 * item out of that platform's file. Prices and availability are the
 * candidate's offer, untouched.
 */
export function buildFeedItem(platform: Platform, candidate: FeedCandidate, publicBase: string, ctx: FeedContext = NO_CONTEXT): { item: FeedItem | null; problems: Problem[] } {
  const link = feedLink(publicBase, platform, candidate);
  const { offer } = candidate;
  const content = checkItem(platform, {
    id: candidate.variantId,
    title: candidate.title,
    description: candidate.description,
    link,
    image: candidate.image,
    priceMinor: offer.priceMinor,
    currency: offer.currency,
    condition: candidate.condition,
    brand: candidate.brand,
    gtin: candidate.gtin,
    mpn: candidate.mpn,
    identifierExists: candidate.identifierExists,
    googleCategory: candidate.googleCategory,
  });
  const image = (key: string) => `${publicBase}${mediaPath(key, "square")}`;
  // The variants of a product share one list of extra photos (readBatches): map it to URLs once.
  let additionalImageLinks = lastExtraImages.links;
  if (lastExtraImages.keys !== candidate.additionalImages || lastExtraImages.base !== publicBase) {
    additionalImageLinks = candidate.additionalImages.map(image);
    lastExtraImages = { keys: candidate.additionalImages, base: publicBase, links: additionalImageLinks };
  }
  const onSale = offer.compareAtMinor !== null;
  const item: FeedItem = {
    id: candidate.variantId,
    itemGroupId: candidate.productId,
    sku: candidate.sku,
    title: cleanTitle(candidate.title),
    description: truncateText(describeText(candidate.description).clean, LIMITS[platform].description),
    link,
    imageLink: candidate.image ? mainImageLink(publicBase, candidate.image.storageKey) : "",
    additionalImageLinks,
    availability: offer.availability,
    available: offer.available,
    // Platforms read "price" as the regular price and "sale_price" as what is paid now.
    price: formatFeedPrice(onSale ? offer.compareAtMinor! : offer.priceMinor, offer.currency),
    salePrice: onSale ? formatFeedPrice(offer.priceMinor, offer.currency) : null,
    condition: candidate.condition,
    brand: candidate.brand.trim(),
    gtin: candidate.gtin,
    mpn: candidate.mpn,
    identifierExists: candidate.identifierExists || candidate.gtin !== null || candidate.mpn !== null,
    googleCategory: candidate.googleCategory.trim(),
    productType: candidate.productType,
    ...candidate.attributes,
    gender: candidate.gender,
    ageGroup: candidate.ageGroup,
    averageReviewRating: candidate.reviews?.count ? (candidate.reviews.sum / candidate.reviews.count).toFixed(1) : null,
    reviewCount: candidate.reviews?.count ?? 0,
  };
  const fields = checkFields(FORMATS[platform].fields, item, ctx);
  const problems = fields.length === 0 ? content : [...fields, ...content];
  return { item: hasErrors(problems) ? null : item, problems };
}

/** What the rules need from the shop's settings: the Google feed targets the countries the shop sells to. */
export async function getFeedContext(deps: Deps): Promise<FeedContext> {
  const profile = await getShopProfile(deps);
  return { targetCountries: [...profile.countries].sort() };
}

/** Where a feed writes. write() may return a promise when the reader is slow; the feed waits for it. */
export interface FeedSink {
  write(chunk: FeedChunk): void | Promise<void>;
  readonly closed: boolean;
}

/**
 * Writes one platform's full feed to `sink`, one item per sellable variant
 * that passes the platform's rules. Reads one batch at a time and stops early
 * when the client goes away.
 */
export async function streamFeed(deps: Deps, input: { platform: Platform; publicBase: string }, sink: FeedSink): Promise<{ items: number; excluded: number }> {
  const format = FORMATS[input.platform];
  let items = 0;
  let excluded = 0;
  const ctx = await getFeedContext(deps);
  await sink.write(format.head({ title: deps.shop.name, link: `${input.publicBase}/`, description: `${deps.shop.name} product catalog` }));
  for await (const batch of readFeedCandidates(deps)) {
    for (const candidate of batch) {
      const { item } = buildFeedItem(input.platform, candidate, input.publicBase, ctx);
      if (!item) {
        excluded++;
        continue;
      }
      items++;
      const out = format.item(item);
      let pending: void | Promise<void> = undefined;
      if (typeof out === "string" || out instanceof Uint8Array) pending = sink.write(out);
      else for (const part of out) pending = sink.write(part) ?? pending;
      if (pending) await pending;
    }
    if (sink.closed) return { items, excluded };
  }
  await sink.write(format.tail());
  return { items, excluded };
}

/**
 * ETag and Last-Modified of a feed. The ETag hashes the catalog fingerprint
 * with the platform and base URL. Last-Modified is when this fingerprint was
 * first seen, kept in the Setting table: deletions and hold expiries leave no
 * timestamp in the data, and each new version is at least one second after
 * the last so an If-Modified-Since date can never hide a change.
 */
export async function getFeedVersion(deps: Deps, input: { platform: Platform; publicBase: string }): Promise<{ etag: string; lastModified: Date }> {
  const now = deps.now();
  // The target countries decide which apparel items Google gets: part of the version.
  const ctx = await getFeedContext(deps);
  const fingerprint = createHash("sha256").update(await readCatalogFingerprint(deps.db, now)).update(`\n${ctx.targetCountries.join(",")}`).digest("base64url");
  const stored = await readSetting<{ fingerprint: string; since: string }>(deps, VERSION_KEY);
  let since = stored ? new Date(stored.since) : null;
  if (!stored || stored.fingerprint !== fingerprint || Number.isNaN(since!.getTime())) {
    const floor = Math.floor(now.getTime() / 1000) * 1000;
    since = new Date(Math.max(floor, since && !Number.isNaN(since.getTime()) ? since.getTime() + 1000 : 0));
    await writeSetting(deps, VERSION_KEY, { fingerprint, since: since.toISOString() });
  }
  const etag = createHash("sha256").update(`${FORMAT_VERSION}\n${input.platform}\n${input.publicBase}\n${fingerprint}`).digest("base64url").slice(0, 32);
  return { etag: `"${etag}"`, lastModified: since! };
}

// ───────────────────────────── access token ─────────────────────────────

/** The feed token, or null when feeds are public. Kept readable: the owner pastes it into four platforms. */
export async function getFeedToken(deps: Deps): Promise<string | null> {
  const stored = await readSetting<{ token: string }>(deps, TOKEN_KEY);
  return stored?.token ?? null;
}

/** Creates or replaces the token; the old one stops working at once. */
export async function rotateFeedToken(deps: Deps): Promise<string> {
  const token = randomBytes(32).toString("base64url");
  await writeSetting(deps, TOKEN_KEY, { token, createdAt: deps.now().toISOString() });
  return token;
}

/** Makes the feeds public again. */
export async function clearFeedToken(deps: Deps): Promise<void> {
  await deps.db.setting.deleteMany({ where: { key: TOKEN_KEY } });
}

/** Throws unless the request may read the feeds: no token configured, or the right one given. */
export async function authorizeFeedRequest(deps: Deps, input: { token: string | undefined }): Promise<{ tokenRequired: boolean }> {
  const expected = await getFeedToken(deps);
  if (!expected) return { tokenRequired: false };
  if (input.token === undefined) {
    throw new AppError("feed_token_required", 401, "This shop's feeds need an access token: add ?token=<token> to the URL. Copy the full feed URL from Admin → Feed health.");
  }
  if (!sameSecret(input.token, expected)) {
    throw new AppError("feed_token_invalid", 403, "This feed token is not valid; it may have been rotated. Copy the current feed URL from Admin → Feed health.");
  }
  return { tokenRequired: true };
}

/** Constant-time: compares fixed-length digests so neither content nor length leaks through timing. */
function sameSecret(given: string, expected: string): boolean {
  const a = createHash("sha256").update(given).digest();
  const b = createHash("sha256").update(expected).digest();
  return timingSafeEqual(a, b);
}

// ───────────────────────────── health ─────────────────────────────

export interface PlatformHealth {
  platform: Platform;
  url: string;
  /** Items in the feed. */
  published: number;
  /** Variants left out because of at least one error. */
  excluded: number;
  /** Published items with at least one warning. */
  warnings: number;
}

export interface ProblemRow {
  platform: Platform;
  severity: Severity;
  rule: Problem["rule"];
  field: string;
  params: Problem["params"];
  productId: string;
  productTitle: string;
  /** Null when the problem is on the product (every variant has it). */
  variantId: string | null;
  sku: string | null;
}

export interface FeedHealth {
  checkedAt: string;
  tokenRequired: boolean;
  variants: number;
  platforms: PlatformHealth[];
  problems: ProblemRow[];
  /** Problems found in all; `problems` lists at most MAX_PROBLEM_ROWS of them. */
  problemCount: number;
  /** Countries the Google feed targets (they decide which apparel attributes are required). */
  targetCountries: readonly string[];
}

export const MAX_PROBLEM_ROWS = 1000;

const healthCache = new WeakMap<Deps, { key: string; health: Omit<FeedHealth, "platforms" | "tokenRequired" | "targetCountries"> & { counts: Omit<PlatformHealth, "url">[] } }>();

/**
 * Runs every platform's rules over the whole catalog, the same way the feeds
 * do. The result is cached per catalog fingerprint, so reloading the page is
 * cheap and any catalog or hold change is picked up at once.
 */
export async function getFeedHealth(deps: Deps, input: { publicBase: string }): Promise<FeedHealth> {
  const [version, token, ctx] = await Promise.all([getFeedVersion(deps, { platform: "google", publicBase: input.publicBase }), getFeedToken(deps), getFeedContext(deps)]);
  let cached = healthCache.get(deps);
  if (!cached || cached.key !== version.etag) {
    cached = { key: version.etag, health: await computeHealth(deps, input.publicBase) };
    healthCache.set(deps, cached);
  }
  const { counts, ...rest } = cached.health;
  return {
    ...rest,
    targetCountries: ctx.targetCountries,
    tokenRequired: token !== null,
    platforms: counts.map((c) => ({ ...c, url: feedUrl(input.publicBase, c.platform, token) })),
  };
}

export function feedUrl(publicBase: string, platform: Platform, token: string | null): string {
  return `${publicBase}/feeds/${FORMATS[platform].fileName}${token ? `?token=${encodeURIComponent(token)}` : ""}`;
}

async function computeHealth(deps: Deps, publicBase: string) {
  const counts = PLATFORMS.map((platform) => ({ platform, published: 0, excluded: 0, warnings: 0 }));
  const problems: ProblemRow[] = [];
  const seenProductProblems = new Set<string>();
  let problemCount = 0;
  let variants = 0;
  const ctx = await getFeedContext(deps);
  for await (const batch of readFeedCandidates(deps)) {
    for (const candidate of batch) {
      variants++;
      for (const count of counts) {
        const { item, problems: found } = buildFeedItem(count.platform, candidate, publicBase, ctx);
        if (item) {
          count.published++;
          if (found.length > 0) count.warnings++;
        } else count.excluded++;
        for (const p of found) {
          // A product-level problem is the same for every variant: list it once.
          if (p.scope === "product") {
            const key = `${candidate.productId}\n${count.platform}\n${p.rule}`;
            if (seenProductProblems.has(key)) continue;
            seenProductProblems.add(key);
          }
          problemCount++;
          if (problems.length < MAX_PROBLEM_ROWS) {
            problems.push({
              platform: count.platform,
              severity: p.severity,
              rule: p.rule,
              field: p.field,
              params: p.params,
              productId: candidate.productId,
              productTitle: candidate.productTitle,
              variantId: p.scope === "variant" ? candidate.variantId : null,
              sku: p.scope === "variant" ? candidate.sku : null,
            });
          }
        }
      }
    }
  }
  // Errors first, then by product, so the page opens on what keeps items out.
  problems.sort((a, b) => (a.severity === b.severity ? 0 : a.severity === "error" ? -1 : 1) || a.productTitle.localeCompare(b.productTitle));
  return { checkedAt: deps.now().toISOString(), variants, counts, problems, problemCount };
}

/** The problem and its fix in words, for the admin page and the API. */
export function describeProblem(locale: Locale, row: Pick<ProblemRow, "rule" | "params" | "platform">): { message: string; fix: string } {
  const vars = { ...row.params, platform: translate(locale, `feeds.platform.${row.platform}`) };
  return { message: translate(locale, `feeds.rule.${row.rule}`, vars), fix: translate(locale, `feeds.fix.${row.rule}`, vars) };
}

// ───────────────────────────── settings ─────────────────────────────

async function readSetting<T>(deps: Deps, key: string): Promise<T | null> {
  const row = await deps.db.setting.findUnique({ where: { key } });
  if (!row) return null;
  try {
    return JSON.parse(row.value) as T;
  } catch {
    return null;
  }
}

async function writeSetting(deps: Deps, key: string, value: unknown): Promise<void> {
  const json = JSON.stringify(value);
  await deps.db.setting.upsert({ where: { key }, create: { key, value: json }, update: { value: json } });
}
