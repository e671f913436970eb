/**
 * Raw SQL for the product page, the storefront's busiest read. Prisma's
 * relation includes cost a separate query and a JavaScript join each (about
 * ten times the SQL itself on these machines), so the page reads the
 * product, its variants with their held units, images, translation and
 * rating summary in one statement, with the lists folded in as JSON
 * (src/db/dialect.ts spells the aggregation per engine), through the reader
 * of src/db/reader.ts.
 */
import type { Db } from "../db/client.js";
import { date, dialectOf, fromJson, jsonArray, num, sql } from "../db/dialect.js";
import { readerFor } from "../db/reader.js";

export interface ProductPageRow {
  id: string;
  slug: string;
  title: string;
  description: string;
  brand: string;
  condition: string;
  status: string;
  optionNames: string;
  updatedAt: Date;
  translation: { title: string; description: string } | null;
  ratingSummary: { count: number; sum: number; star1: number; star2: number; star3: number; star4: number; star5: number } | null;
  variants: {
    id: string;
    sku: string;
    option1: string | null;
    option2: string | null;
    option3: string | null;
    priceMinor: number;
    compareAtMinor: number | null;
    currency: string;
    stock: number;
    gtin: string | null;
    mpn: string | null;
    /** Units in active, unexpired holds (as getHeldQuantities counts them). */
    held: number;
  }[];
  images: { id: string; variantId: string | null; alt: string; storageKey: string; mediaAlt: string; width: number; height: number }[];
}

type Raw = Record<string, unknown>;

/** One product by slug, with everything its page shows; null when there is no such product. */
export async function readProductPageRow(db: Db, input: { slug: string; locale: string; now: Date }): Promise<ProductPageRow | null> {
  const d = dialectOf(db);
  const variants = jsonArray(
    d,
    {
      id: sql`v."id"`, sku: sql`v."sku"`, option1: sql`v."option1"`, option2: sql`v."option2"`, option3: sql`v."option3"`,
      priceMinor: sql`v."priceMinor"`, compareAtMinor: sql`v."compareAtMinor"`, currency: sql`v."currency"`, stock: sql`v."stock"`,
      gtin: sql`v."gtin"`, mpn: sql`v."mpn"`,
      held: sql`(SELECT COALESCE(SUM(h."quantity"), 0) FROM "StockHold" h WHERE h."variantId" = v."id" AND h."status" = 'active' AND h."expiresAt" > ${input.now})`,
    },
    sql`v."position", v."id"`,
  );
  const images = jsonArray(
    d,
    { id: sql`i."id"`, variantId: sql`i."variantId"`, alt: sql`i."alt"`, storageKey: sql`m."storageKey"`, mediaAlt: sql`m."alt"`, width: sql`m."width"`, height: sql`m."height"` },
    sql`i."position", i."id"`,
  );
  const rows = await (await readerFor(db)).all<Raw>(
    sql`SELECT p."id", p."slug", p."title", p."description", p."brand", p."condition", p."status", p."optionNames", p."updatedAt",
            t."title" AS "trTitle", t."description" AS "trDescription",
            rs."count" AS "rsCount", rs."sum" AS "rsSum", rs."star1" AS "rs1", rs."star2" AS "rs2", rs."star3" AS "rs3", rs."star4" AS "rs4", rs."star5" AS "rs5",
            (SELECT ${variants} FROM "Variant" v WHERE v."productId" = p."id" AND v."archivedAt" IS NULL) AS "variants",
            (SELECT ${images} FROM "ProductImage" i JOIN "Media" m ON m."id" = i."mediaId" WHERE i."productId" = p."id") AS "images"
       FROM "Product" p
       LEFT JOIN "ProductTranslation" t ON t."productId" = p."id" AND t."locale" = ${input.locale}
       LEFT JOIN "RatingSummary" rs ON rs."productId" = p."id"
      WHERE p."slug" = ${input.slug}`,
  );
  const r = rows[0];
  if (!r) return null;
  return {
    id: String(r.id),
    slug: String(r.slug),
    title: String(r.title),
    description: String(r.description),
    brand: String(r.brand),
    condition: String(r.condition),
    status: String(r.status),
    optionNames: String(r.optionNames),
    updatedAt: date(r.updatedAt),
    translation: r.trTitle === null || r.trTitle === undefined ? null : { title: String(r.trTitle), description: String(r.trDescription ?? "") },
    ratingSummary: r.rsCount === null || r.rsCount === undefined ? null : { count: num(r.rsCount), sum: num(r.rsSum), star1: num(r.rs1), star2: num(r.rs2), star3: num(r.rs3), star4: num(r.rs4), star5: num(r.rs5) },
    variants: (fromJson<ProductPageRow["variants"]>(r.variants) ?? []).map((v) => ({ ...v, priceMinor: num(v.priceMinor), compareAtMinor: v.compareAtMinor === null ? null : num(v.compareAtMinor), stock: num(v.stock), held: num(v.held) })),
    images: (fromJson<ProductPageRow["images"]>(r.images) ?? []).map((i) => ({ ...i, width: num(i.width), height: num(i.height) })),
  };
}
