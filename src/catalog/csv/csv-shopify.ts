import { SLUG } from "../catalog.schema.js";
import type { CsvRecord } from "./csv-read.js";
import { cellReader, duplicateColumns, fieldCountProblem, integerCell, moneyCell, type ColumnMap, type MappedNote, type MappedRows, type ParsedProduct, type ParsedVariant } from "./csv-rows.js";
import { SHOPIFY_REQUIRED_COLUMNS, type CsvProblem } from "./csv.schema.js";
import { htmlToText } from "./html-text.js";

/**
 * Shopify's product export CSV (Products → Export). One row per variant; the
 * first row of a handle carries the product columns, follow-up rows only
 * variant and/or image columns. Columns we have no place for (Type, Tags,
 * SEO, tax, fulfilment, market prices…) are ignored.
 */
export function isShopifyHeader(header: string[]): boolean {
  return header.includes("Handle") && (header.includes("Variant Price") || header.includes("Body (HTML)") || header.includes("Variant SKU"));
}

const PRODUCT_COLUMNS = ["Title", "Body (HTML)", "Vendor", "Product Category", "Published", "Status", "Option1 Name", "Option2 Name", "Option3 Name", "Google Shopping / Condition", "Google Shopping / Gender", "Google Shopping / Age Group"];
const VARIANT_COLUMNS = ["Option1 Value", "Option2 Value", "Option3 Value", "Variant SKU", "Variant Price", "Variant Inventory Qty", "Variant Compare At Price", "Variant Barcode", "Variant Grams"];

function columnMap(categoryColumn: string): ColumnMap {
  return {
    handle: "Handle",
    product: {
      slug: "Handle",
      title: "Title",
      description: "Body (HTML)",
      brand: "Vendor",
      googleCategory: categoryColumn,
      status: "Status",
      condition: "Google Shopping / Condition",
      gender: "Google Shopping / Gender",
      ageGroup: "Google Shopping / Age Group",
      optionNames: "Option1 Name",
      variants: "Variant SKU",
    },
    variant: {
      sku: "Variant SKU",
      option1: "Option1 Value",
      option2: "Option2 Value",
      option3: "Option3 Value",
      priceMinor: "Variant Price",
      compareAtMinor: "Variant Compare At Price",
      stock: "Variant Inventory Qty",
      gtin: "Variant Barcode",
      mpn: "Google Shopping / MPN",
      weightGrams: "Variant Grams",
    },
    optionName: (i) => `Option${Math.min(i, 2) + 1} Name`,
  };
}

/** Header problems of a Shopify export; `usable` is false when rows cannot be read at all. */
export function checkShopifyHeader(header: string[], headerLine: number): { usable: boolean; problems: CsvProblem[]; warnings: CsvProblem[] } {
  const problems: CsvProblem[] = duplicateColumns(header, headerLine);
  const warnings: CsvProblem[] = [];
  const reader = cellReader(header);
  const missing = SHOPIFY_REQUIRED_COLUMNS.filter((c) => !reader.has(c));
  if (missing.length > 0) {
    problems.push({ line: headerLine, column: null, message: `Missing required columns: ${missing.join(", ")}. Export the products again from Shopify with all columns.` });
    return { usable: false, problems, warnings };
  }
  if (!reader.has("Variant Inventory Qty")) {
    warnings.push({ line: headerLine, column: null, message: "No Variant Inventory Qty column: stock of existing variants is kept, new variants start at 0." });
  }
  return { usable: true, problems, warnings };
}

export function shopifyColumns(header: string[]): ColumnMap {
  return columnMap(cellReader(header).has("Product Category") ? "Product Category" : "Google Shopping / Google Product Category");
}

/** The cell rows are grouped by (rows with the same Handle are one product). */
export function shopifyHandleOf(header: string[]): (fields: string[]) => string {
  const reader = cellReader(header);
  return (fields) => (reader.get(fields, "Handle") ?? "").trim();
}

/**
 * Rows of a Shopify export → products. `records` hold every row of each
 * product they touch. An image URL is warned about once per file: those
 * warnings carry `once`, and the import keeps the first of each.
 */
export function mapShopifyRecords(header: string[], records: CsvRecord[], shopCurrency: string): MappedRows {
  const problems: CsvProblem[] = [];
  const warnings: MappedNote[] = [];
  const reader = cellReader(header);
  const hasQty = reader.has("Variant Inventory Qty");
  const get = (fields: string[], name: string) => reader.get(fields, name);
  const groups = new Map<string, { product: ParsedProduct; first: CsvRecord }>();

  for (const record of records) {
    const { line, fields } = record;
    const countProblem = fieldCountProblem(header, fields, line);
    if (countProblem) {
      problems.push(countProblem);
      continue;
    }
    const handle = (get(fields, "Handle") ?? "").trim();
    if (handle === "") {
      problems.push({ line, column: "Handle", message: "Every row needs a Handle; rows with the same Handle are one product." });
      continue;
    }
    if (!SLUG.test(handle) || handle.length > 120) {
      problems.push({ line, column: "Handle", message: `"${handle}" is not a handle we can use: lower-case letters, digits and dashes only, e.g. blue-mug. Change it in Shopify or in the file.` });
      continue;
    }
    let group = groups.get(handle);
    if (!group) {
      group = { product: { handle, line, given: productFields(fields, line, get, problems), variants: [] }, first: record };
      groups.set(handle, group);
    } else {
      for (const column of PRODUCT_COLUMNS) {
        const value = get(fields, column);
        if (value !== undefined && value.trim() !== "" && value !== get(group.first.fields, column)) {
          problems.push({ line, column, message: `Differs from line ${group.first.line}, the first row of "${handle}"; Shopify writes product columns on the first row only.` });
        }
      }
    }

    // The server may have no way out to the internet, and a URL is not an
    // upload we have checked and re-encoded: images are added in the admin.
    for (const column of ["Image Src", "Variant Image"]) {
      const url = (get(fields, column) ?? "").trim();
      if (url) warnings.push({ line, column, message: `Image not imported (${url}); upload it in the admin.`, once: { kind: "image", key: url } });
    }

    const isVariantRow = VARIANT_COLUMNS.some((c) => (get(fields, c) ?? "").trim() !== "");
    if (isVariantRow) group.product.variants.push(variantFields(fields, line, handle, group.product, get, problems, warnings, shopCurrency, hasQty));
  }

  // "Title" / "Default Title" is how Shopify writes a product without options.
  for (const { product } of groups.values()) {
    if (product.given.optionNames?.length === 1 && product.given.optionNames[0] === "Title" && product.variants.length === 1 && product.variants[0]!.given.option1 === "Default Title") {
      product.given.optionNames = [];
      product.variants[0]!.given.option1 = null;
    }
  }
  return { products: [...groups.values()].map((g) => g.product), problems, warnings };
}

type Get = (fields: string[], name: string) => string | undefined;

function productFields(fields: string[], line: number, get: Get, problems: CsvProblem[]): ParsedProduct["given"] {
  const given: ParsedProduct["given"] = {};
  given.title = get(fields, "Title");
  const body = get(fields, "Body (HTML)");
  if (body !== undefined) given.description = htmlToText(body);
  const vendor = get(fields, "Vendor");
  if (vendor !== undefined) given.brand = vendor.trim();
  const category = (get(fields, "Product Category") ?? "").trim() || (get(fields, "Google Shopping / Google Product Category") ?? "").trim();
  if (category) given.googleCategory = category;

  const status = (get(fields, "Status") ?? "").trim().toLowerCase();
  const published = (get(fields, "Published") ?? "").trim().toLowerCase();
  if (status) given.status = status;
  else if (published === "true") given.status = "active";
  else if (published === "false") given.status = "draft";
  else if (published) problems.push({ line, column: "Published", message: `Write TRUE or FALSE, not "${published}".` });

  const condition = (get(fields, "Google Shopping / Condition") ?? "").trim().toLowerCase();
  if (condition) given.condition = condition;
  // Shopify writes "Female", "Adult": our values are Google's lower-case ones.
  const gender = (get(fields, "Google Shopping / Gender") ?? "").trim().toLowerCase();
  if (gender) given.gender = gender;
  const ageGroup = (get(fields, "Google Shopping / Age Group") ?? "").trim().toLowerCase();
  if (ageGroup) given.ageGroup = ageGroup;

  const names = ["Option1 Name", "Option2 Name", "Option3 Name"].map((c) => (get(fields, c) ?? "").trim());
  const last = names.findLastIndex((n) => n !== "");
  given.optionNames = names.slice(0, last + 1);
  return given;
}

function variantFields(
  fields: string[], line: number, handle: string, product: ParsedProduct, get: Get,
  problems: CsvProblem[], warnings: CsvProblem[], currency: string, hasQty: boolean,
): ParsedVariant {
  const given: ParsedVariant["given"] = {};
  given.option1 = (get(fields, "Option1 Value") ?? "").trim() || null;
  given.option2 = (get(fields, "Option2 Value") ?? "").trim() || null;
  given.option3 = (get(fields, "Option3 Value") ?? "").trim() || null;

  const price = (get(fields, "Variant Price") ?? "").trim();
  if (price === "") problems.push({ line, column: "Variant Price", message: "Give the variant's price, e.g. 12.50." });
  else given.priceMinor = moneyCell(price, currency, line, "Variant Price", problems);

  const compareAt = (get(fields, "Variant Compare At Price") ?? "").trim();
  given.compareAtMinor = null;
  if (compareAt !== "") {
    const minor = moneyCell(compareAt, currency, line, "Variant Compare At Price", problems);
    // Shopify accepts a compare-at price at or below the price and shows no
    // sale for it; the catalog refuses one, so it is dropped, not an error.
    if (minor !== undefined && given.priceMinor !== undefined && minor <= given.priceMinor) {
      warnings.push({ line, column: "Variant Compare At Price", message: `${compareAt} is not above the price ${price}, so it shows no sale; not imported.` });
    } else given.compareAtMinor = minor ?? null;
  }

  const qty = (get(fields, "Variant Inventory Qty") ?? "").trim();
  if (hasQty) {
    if (qty === "") {
      warnings.push({ line, column: "Variant Inventory Qty", message: "Empty (Shopify does not track this variant's inventory); stock set to 0. Set it in the admin." });
      given.stock = 0;
    } else {
      const n = integerCell(qty, line, "Variant Inventory Qty", problems, "Variant Inventory Qty");
      if (n !== undefined && n < 0) {
        warnings.push({ line, column: "Variant Inventory Qty", message: `${n} is below zero (oversold in Shopify); stock set to 0.` });
        given.stock = 0;
      } else if (n !== undefined) given.stock = n;
    }
  }

  const barcode = (get(fields, "Variant Barcode") ?? "").trim().replace(/^'/, "");
  given.gtin = null;
  if (/^(\d{8}|\d{12}|\d{13}|\d{14})$/.test(barcode)) given.gtin = barcode;
  else if (barcode !== "") warnings.push({ line, column: "Variant Barcode", message: `"${barcode}" is not a GTIN (8, 12, 13 or 14 digits); not imported as one.` });

  const mpn = get(fields, "Google Shopping / MPN");
  if (mpn !== undefined) given.mpn = mpn.trim() || null;

  const grams = (get(fields, "Variant Grams") ?? "").trim();
  if (grams !== "") {
    const n = Number(grams);
    if (!Number.isFinite(n) || n < 0) problems.push({ line, column: "Variant Grams", message: `A weight in grams, like 250 (got "${grams}").` });
    else given.weightGrams = n === 0 ? null : Math.round(n);
  } else given.weightGrams = null;

  let sku = (get(fields, "Variant SKU") ?? "").trim();
  if (sku === "") {
    // Shopify allows variants without a SKU; the catalog matches variants by
    // SKU, so one is made from the handle and the variant's place.
    sku = `${handle.slice(0, 58)}-${product.variants.length + 1}`;
    warnings.push({ line, column: "Variant SKU", message: `No SKU; this variant gets ${sku}. Give it a SKU in Shopify so later imports match it.` });
  }
  return { line, sku, given };
}
