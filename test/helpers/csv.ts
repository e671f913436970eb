import { readFileSync } from "node:fs";
import path from "node:path";
import request from "supertest";
import type { Deps } from "../../src/deps.js";
import { ProductInput } from "../../src/catalog/catalog.schema.js";
import { createProduct as saveNewProduct } from "../../src/catalog/product-write.service.js";

const FIXTURES = path.resolve(import.meta.dirname, "../fixtures/csv");

/** A fixture file's exact bytes (some are deliberately not UTF-8). */
export function fixture(name: string): Buffer {
  return readFileSync(path.join(FIXTURES, name));
}

type App = Parameters<typeof request>[0];

/** POST a CSV to the JSON API. */
export function importCsv(app: App, token: string, body: string | Buffer, dryRun: boolean) {
  return request(app)
    .post(`/shop/api/v1/products/import?dryRun=${dryRun}`)
    .set("Authorization", `Bearer ${token}`)
    .set("Content-Type", "text/csv")
    .send(typeof body === "string" ? Buffer.from(body, "utf8") : body);
}

/** GET the export as raw bytes (BOM included), to compare files byte for byte. */
export async function exportBytes(app: App, token: string): Promise<Buffer> {
  const res = await request(app)
    .get("/shop/api/v1/products/export.csv")
    .set("Authorization", `Bearer ${token}`)
    .buffer(true)
    .parse((r, done) => {
      const chunks: Buffer[] = [];
      r.on("data", (c: Buffer) => chunks.push(c));
      r.on("end", () => done(null, Buffer.concat(chunks)));
    })
    .expect(200);
  return res.body as Buffer;
}

/** Creates a product through the real write path (the input goes through ProductInput). */
export async function addProduct(deps: Deps, input: Record<string, unknown>) {
  return saveNewProduct(deps, { product: ProductInput.parse(input), actor: { type: "system" } });
}

/** `updatedAt` of every product and variant, to prove an import wrote nothing. */
export async function catalogStamps(deps: Deps) {
  const products = await deps.db.product.findMany({ select: { slug: true, updatedAt: true }, orderBy: { slug: "asc" } });
  const variants = await deps.db.variant.findMany({ select: { sku: true, updatedAt: true }, orderBy: { sku: "asc" } });
  return JSON.stringify({ products, variants });
}

/** Row counts of every table an import could write. */
export async function catalogCounts(deps: Deps) {
  const db = deps.db;
  return {
    products: await db.product.count(),
    variants: await db.variant.count(),
    images: await db.productImage.count(),
    translations: await db.productTranslation.count(),
    collections: await db.collection.count(),
    memberships: await db.collectionProduct.count(),
    audit: await db.auditLog.count(),
  };
}

/**
 * A catalog file in our format, `rows` rows long (about 70 bytes a row, so
 * 50,000 rows make the 3.5 MB of the issue): products of 1, 2 or 3 variants
 * in turn (two rows a product on average), every row a valid variant. `from`
 * numbers the products, so two files can add different products.
 */
export function catalogCsv(rows: number, options: { from?: number; price?: (product: number) => string } = {}): Buffer {
  const parts = ["handle,title,brand,status,option1_name,sku,option1,price,stock\r\n"];
  const price = options.price ?? ((p: number) => `${10 + (p % 90)}.50`);
  let row = 0;
  for (let p = options.from ?? 0; row < rows; p++) {
    const variants = (p % 3) + 1;
    const handle = `item-${String(p).padStart(6, "0")}`;
    for (let v = 0; v < variants && row < rows; v++, row++) {
      const size = variants > 1 ? ["S", "M", "L"][v]! : "";
      parts.push(`${handle},Hand-thrown bowl ${p},Studio,active,${variants > 1 ? "Size" : ""},IT-${p}-${v},${size},${price(p)},${p % 40}\r\n`);
    }
  }
  return Buffer.from(parts.join(""), "utf8");
}

/**
 * Every row of every table an import can write (products, variants, images,
 * translations, collections, memberships), every column (timestamps, stock,
 * archived dates, positions), in a total order: two snapshots are equal only
 * if the catalog is exactly the same. `except` leaves out products by slug.
 */
export async function catalogSnapshot(deps: Deps, options: { except?: string[] } = {}) {
  const products = await deps.db.product.findMany({
    where: options.except ? { slug: { notIn: options.except } } : {},
    orderBy: { id: "asc" },
    include: {
      variants: { orderBy: { id: "asc" } },
      images: { orderBy: { id: "asc" } },
      translations: { orderBy: { locale: "asc" } },
      collections: { orderBy: { collectionId: "asc" } },
    },
  });
  const collections = await deps.db.collection.findMany({ orderBy: { id: "asc" } });
  return JSON.stringify({ products, collections });
}
