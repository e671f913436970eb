import { Readable, type Writable } from "node:stream";
import { pipeline } from "node:stream/promises";
import type * as CsvStringify from "csv-stringify";
import type { Deps } from "../../deps.js";
import { minorToDecimal } from "../money.js";
import { formatImagesCell, guardFormula } from "./csv-cells.js";
import { OUR_COLUMNS, type OurColumn } from "./csv.schema.js";
import { SNAPSHOT_INCLUDE, snapshotOf, type ProductSnapshot } from "./product-snapshot.js";
import { lazyModule } from "../../lazy.js";

const csvStringify = lazyModule<typeof CsvStringify>("csv-stringify");

/** Products read per query: memory stays flat however large the catalog. */
const BATCH = 200;

/**
 * Every product (all statuses) in our CSV format, one row per active variant,
 * in handle order so two shops with the same catalog export the same bytes.
 * A product without an active variant has no row to carry it and is left out
 * (the write path never produces one; it can only come from direct edits).
 */
export async function* exportCatalogRows(deps: Deps): AsyncGenerator<string[]> {
  yield [...OUR_COLUMNS];
  let after: string | undefined;
  for (;;) {
    const batch = await deps.db.product.findMany({
      where: after === undefined ? {} : { slug: { gt: after } },
      orderBy: { slug: "asc" },
      take: BATCH,
      include: SNAPSHOT_INCLUDE,
    });
    for (const row of batch) yield* productRows(snapshotOf(row));
    if (batch.length < BATCH) return;
    after = batch[batch.length - 1]!.slug;
  }
}

function productRows(p: ProductSnapshot): string[][] {
  return p.variants.map((v) => {
    const cells: Record<OurColumn, string> = {
      handle: p.slug,
      title: p.title,
      title_fa: p.fa?.title ?? "",
      description: p.description,
      description_fa: p.fa?.description ?? "",
      brand: p.brand,
      condition: p.condition,
      google_category: p.googleCategory,
      identifier_exists: String(p.identifierExists),
      gender: p.gender,
      age_group: p.ageGroup,
      color: p.color,
      size: p.size,
      status: p.status,
      option1_name: p.optionNames[0] ?? "",
      option2_name: p.optionNames[1] ?? "",
      option3_name: p.optionNames[2] ?? "",
      collections: p.collections.join(";"),
      images: formatImagesCell(p.images),
      sku: v.sku,
      option1: v.option1 ?? "",
      option2: v.option2 ?? "",
      option3: v.option3 ?? "",
      price: minorToDecimal(v.priceMinor, v.currency),
      compare_at_price: v.compareAtMinor === null ? "" : minorToDecimal(v.compareAtMinor, v.currency),
      currency: v.currency,
      stock: String(v.stock),
      gtin: v.gtin ?? "",
      mpn: v.mpn ?? "",
      weight_grams: v.weightGrams === null ? "" : String(v.weightGrams),
    };
    return OUR_COLUMNS.map((c) => guardFormula(cells[c]));
  });
}

/**
 * Writes the export to `out` (an HTTP response) as it is read, with
 * backpressure. A UTF-8 byte order mark leads the file so Excel shows
 * Persian and accented text correctly; the import skips it. Every field with
 * a line break is quoted, because the import accepts both CRLF and LF.
 */
export async function streamCatalogCsv(deps: Deps, input: { out: Writable }): Promise<void> {
  await pipeline(
    Readable.from(exportCatalogRows(deps)),
    csvStringify().stringify({ bom: true, record_delimiter: "\r\n", quoted_match: /[\r\n]/ }),
    input.out,
  );
}
