/**
 * Raw SQL for the product page, the storefront's busiest read. Prisma's
 * relation includes cost a separate query and a JavaScript join each (about
 * ten times the SQL itself on these machines), so the page reads the
 * product, its variants with their held units, images, translation and
 * rating summary in one statement, with the lists folded in as JSON, on the
 * read-only connection of src/db/reader.ts.
 */
import type { Db } from "../db/client.js";
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
  const rows = await (await readerFor(db)).all<Raw>(
    `SELECT p."id", p."slug", p."title", p."description", p."brand", p."condition", p."status", p."optionNames", p."updatedAt",
            t."title" AS trTitle, t."description" AS trDescription,
            rs."count" AS rsCount, rs."sum" AS rsSum, rs."star1" AS rs1, rs."star2" AS rs2, rs."star3" AS rs3, rs."star4" AS rs4, rs."star5" AS rs5,
            (SELECT json_group_array(json_object(
                      'id', v."id", 'sku', v."sku", 'option1', v."option1", 'option2', v."option2", 'option3', v."option3",
                      'priceMinor', v."priceMinor", 'compareAtMinor', v."compareAtMinor", 'currency', v."currency", 'stock', v."stock",
                      'gtin', v."gtin", 'mpn', v."mpn",
                      'held', (SELECT COALESCE(SUM(h."quantity"), 0) FROM "StockHold" h
                                WHERE h."variantId" = v."id" AND h."status" = 'active' AND h."expiresAt" > ?)))
               FROM (SELECT * FROM "Variant" WHERE "productId" = p."id" AND "archivedAt" IS NULL ORDER BY "position", rowid) v) AS variants,
            (SELECT json_group_array(json_object(
                      'id', i."id", 'variantId', i."variantId", 'alt', i."alt", 'storageKey', m."storageKey", 'mediaAlt', m."alt",
                      'width', m."width", 'height', m."height"))
               FROM (SELECT * FROM "ProductImage" WHERE "productId" = p."id" ORDER BY "position", rowid) i JOIN "Media" m ON m."id" = i."mediaId") AS images
       FROM "Product" p
       LEFT JOIN "ProductTranslation" t ON t."productId" = p."id" AND t."locale" = ?
       LEFT JOIN "RatingSummary" rs ON rs."productId" = p."id"
      WHERE p."slug" = ?`,
    [input.now, input.locale, input.slug],
  );
  const r = rows[0];
  if (!r) return null;
  const n = (v: unknown) => Number(v ?? 0);
  return {
    id: String(r.id),
    slug: String(r.slug),
    title: String(r.title),
    description: String(r.description),
    brand: String(r.brand),
    condition: String(r.condition),
    status: String(r.status),
    optionNames: String(r.optionNames),
    updatedAt: new Date(r.updatedAt as string | Date),
    translation: r.trTitle === null || r.trTitle === undefined ? null : { title: String(r.trTitle), description: String(r.trDescription ?? "") },
    ratingSummary: r.rsCount === null || r.rsCount === undefined ? null : { count: n(r.rsCount), sum: n(r.rsSum), star1: n(r.rs1), star2: n(r.rs2), star3: n(r.rs3), star4: n(r.rs4), star5: n(r.rs5) },
    variants: (JSON.parse(String(r.variants ?? "[]")) as ProductPageRow["variants"]).map((v) => ({ ...v, priceMinor: n(v.priceMinor), compareAtMinor: v.compareAtMinor === null ? null : n(v.compareAtMinor), stock: n(v.stock), held: n(v.held) })),
    images: (JSON.parse(String(r.images ?? "[]")) as ProductPageRow["images"]).map((i) => ({ ...i, width: n(i.width), height: n(i.height) })),
  };
}
