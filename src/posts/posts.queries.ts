/**
 * Raw SQL for the pages that show many posts and tags at once (gallery, embed,
 * Tag health). Each function is one statement whatever the number of posts
 * or tags it covers, so a page costs a fixed handful of queries; Prisma's
 * nested includes would issue one statement per relation level and build
 * objects we do not need.
 */
import type { Db } from "../db/client.js";
import { empty, join, sql } from "../db/dialect.js";

export interface PostRow {
  id: string;
  platform: string;
  permalink: string;
  mediaType: string;
  videoUrl: string | null;
  caption: string;
  status: string;
  publishedAt: Date | null;
  createdAt: Date;
  mediaKey: string | null;
  mediaWidth: number | null;
  mediaHeight: number | null;
  mediaAlt: string | null;
  posterKey: string | null;
  posterWidth: number | null;
  posterHeight: number | null;
  posterAlt: string | null;
}

const POST_COLUMNS = sql`p."id", p."platform", p."permalink", p."mediaType", p."videoUrl", p."caption", p."status", p."publishedAt", p."createdAt",
       m."storageKey" AS "mediaKey", m."width" AS "mediaWidth", m."height" AS "mediaHeight", m."alt" AS "mediaAlt",
       pm."storageKey" AS "posterKey", pm."width" AS "posterWidth", pm."height" AS "posterHeight", pm."alt" AS "posterAlt"
  FROM "Post" p LEFT JOIN "Media" m ON m."id" = p."mediaId" LEFT JOIN "Media" pm ON pm."id" = p."posterId"`;

/**
 * Published posts shoppers may see at `now` (a future publish date is a
 * scheduled post), newest first. With a collection, only posts that tag one
 * of its products.
 */
export function readPublicPosts(db: Db, input: { now: Date; collectionId?: string; limit: number; offset: number }): Promise<PostRow[]> {
  const inCollection = input.collectionId
    ? sql`AND EXISTS (SELECT 1 FROM "PostTag" t JOIN "CollectionProduct" cp ON cp."productId" = t."productId" WHERE t."postId" = p."id" AND cp."collectionId" = ${input.collectionId})`
    : empty;
  return db.$queryRaw<PostRow[]>(
    sql`SELECT ${POST_COLUMNS}
         WHERE p."status" = 'published' AND (p."publishedAt" IS NULL OR p."publishedAt" <= ${input.now}) ${inCollection}
         ORDER BY coalesce(p."publishedAt", p."createdAt") DESC, p."id" DESC LIMIT ${input.limit} OFFSET ${input.offset}`,
  );
}

/** Posts by id, any status (admin pages, the post page decides visibility itself). */
export function readPostsById(db: Db, ids: string[]): Promise<PostRow[]> {
  if (ids.length === 0) return Promise.resolve([]);
  return db.$queryRaw<PostRow[]>(sql`SELECT ${POST_COLUMNS} WHERE p."id" IN (${join(ids)})`);
}

export interface TagRow {
  id: string;
  postId: string;
  productId: string | null;
  productTitle: string;
  variantId: string | null;
  x: number | null;
  y: number | null;
  startSec: number | null;
  endSec: number | null;
}

const TAG_COLUMNS = sql`t."id", t."postId", t."productId", t."productTitle", t."variantId", t."x", t."y", t."startSec", t."endSec"`;

/** Tags of some posts, in the order they were placed. */
export function readTags(db: Db, postIds: string[]): Promise<TagRow[]> {
  if (postIds.length === 0) return Promise.resolve([]);
  return db.$queryRaw<TagRow[]>(sql`SELECT ${TAG_COLUMNS} FROM "PostTag" t WHERE t."postId" IN (${join(postIds)}) ORDER BY t."postId", t."createdAt", t."id"`);
}

/** Every tag of the shop with its post's status (Tag health). */
export function readAllTags(db: Db): Promise<(TagRow & { postStatus: string })[]> {
  return db.$queryRaw(
    sql`SELECT ${TAG_COLUMNS}, p."status" AS "postStatus" FROM "PostTag" t JOIN "Post" p ON p."id" = t."postId" ORDER BY p."createdAt" DESC, t."postId", t."createdAt", t."id"`,
  );
}

export interface CatalogRow {
  productId: string;
  slug: string;
  title: string;
  localTitle: string | null;
  status: string;
  /** null when the product has no variant at all */
  variantId: string | null;
  sku: string | null;
  option1: string | null;
  option2: string | null;
  option3: string | null;
  priceMinor: number | null;
  compareAtMinor: number | null;
  currency: string | null;
  stock: number | null;
  position: number | null;
  archivedAt: Date | null;
}

/**
 * Tagged products with all their variants (archived ones too, so a tag on a
 * removed variant can be told apart from a product-level tag) and the title
 * in the page's language.
 */
export function readTaggedCatalog(db: Db, productIds: string[], locale: string): Promise<CatalogRow[]> {
  if (productIds.length === 0) return Promise.resolve([]);
  return db.$queryRaw<CatalogRow[]>(
    sql`SELECT p."id" AS "productId", p."slug", p."title", tr."title" AS "localTitle", p."status",
            v."id" AS "variantId", v."sku", v."option1", v."option2", v."option3", v."priceMinor", v."compareAtMinor", v."currency", v."stock", v."position", v."archivedAt"
       FROM "Product" p
       LEFT JOIN "ProductTranslation" tr ON tr."productId" = p."id" AND tr."locale" = ${locale}
       LEFT JOIN "Variant" v ON v."productId" = p."id"
      WHERE p."id" IN (${join(productIds)})
      ORDER BY p."id", v."position", v."id"`,
  );
}

export interface ImageRow {
  productId: string;
  variantId: string | null;
  storageKey: string;
  width: number;
  height: number;
  alt: string;
}

/** The images a tag card can show: each product's first image and any variant images. */
export function readTagImages(db: Db, productIds: string[]): Promise<ImageRow[]> {
  if (productIds.length === 0) return Promise.resolve([]);
  return db.$queryRaw<ImageRow[]>(
    sql`SELECT pi."productId", pi."variantId", m."storageKey", m."width", m."height", coalesce(nullif(pi."alt", ''), m."alt") AS "alt"
       FROM "ProductImage" pi JOIN "Media" m ON m."id" = pi."mediaId"
      WHERE pi."productId" IN (${join(productIds)})
      ORDER BY pi."productId", pi."position", pi."id"`,
  );
}
