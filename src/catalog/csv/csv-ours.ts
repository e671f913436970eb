import { SLUG } from "../catalog.schema.js";
import { parseImagesCell, splitList, unguardFormula } from "./csv-cells.js";
import type { CsvRecord } from "./csv-read.js";
import { cellReader, currencyCell, duplicateColumns, fieldCountProblem, integerCell, moneyCell, type ColumnMap, type MappedRows, type ParsedProduct } from "./csv-rows.js";
import { OUR_COLUMNS, OUR_PRODUCT_COLUMNS, OUR_REQUIRED_COLUMNS, type CsvProblem, type OurColumn } from "./csv.schema.js";

export const OUR_COLUMN_MAP: ColumnMap = {
  handle: "handle",
  product: {
    slug: "handle",
    title: "title",
    description: "description",
    brand: "brand",
    condition: "condition",
    googleCategory: "google_category",
    identifierExists: "identifier_exists",
    gender: "gender",
    ageGroup: "age_group",
    color: "color",
    size: "size",
    status: "status",
    optionNames: "option1_name",
    collections: "collections",
    images: "images",
    "translations.fa.title": "title_fa",
    "translations.fa.description": "description_fa",
    translations: "title_fa",
    variants: "sku",
  },
  variant: {
    id: "sku",
    sku: "sku",
    option1: "option1",
    option2: "option2",
    option3: "option3",
    priceMinor: "price",
    compareAtMinor: "compare_at_price",
    currency: "currency",
    stock: "stock",
    gtin: "gtin",
    mpn: "mpn",
    weightGrams: "weight_grams",
  },
  optionName: (i) => (i < 3 ? `option${i + 1}_name` : "option1_name"),
};

const OPTION_NAME_COLUMNS = ["option1_name", "option2_name", "option3_name"] as const;

/** Header problems of our format; `usable` is false when rows cannot be read at all. */
export function checkOurHeader(header: string[], headerLine: number): { usable: boolean; problems: CsvProblem[]; warnings: CsvProblem[] } {
  const problems: CsvProblem[] = duplicateColumns(header, headerLine);
  const warnings: CsvProblem[] = [];
  const missing = OUR_REQUIRED_COLUMNS.filter((c) => !header.includes(c));
  if (missing.length > 0) {
    problems.push({ line: headerLine, column: null, message: `Missing required columns: ${missing.join(", ")}. The header must name them (see the column list in the import page or README).` });
    return { usable: false, problems, warnings };
  }
  for (const h of header) {
    if (!(OUR_COLUMNS as readonly string[]).includes(h)) warnings.push({ line: headerLine, column: h || null, message: `Unknown column "${h}"; it is ignored.` });
  }
  return { usable: true, problems, warnings };
}

/** The cell rows are grouped by (rows with the same handle are one product). */
export function ourHandleOf(header: string[]): (fields: string[]) => string {
  const reader = cellReader(header);
  return (fields) => unguardFormula(reader.get(fields, "handle") ?? "").trim();
}

/**
 * Rows of our own format → products, with a problem for every cell that
 * cannot be read. `records` hold every row of each product they touch (the
 * import hands over whole products, a chunk at a time, in file order).
 */
export function mapOurRecords(header: string[], records: CsvRecord[], shopCurrency: string): MappedRows {
  const problems: CsvProblem[] = [];
  const reader = cellReader(header);
  const cell = (fields: string[], name: OurColumn) => {
    const raw = reader.get(fields, name);
    return raw === undefined ? undefined : unguardFormula(raw);
  };
  const groups = new Map<string, { product: ParsedProduct; first: CsvRecord }>();

  for (const record of records) {
    const { line, fields } = record;
    const countProblem = fieldCountProblem(header, fields, line);
    if (countProblem) {
      problems.push(countProblem);
      continue;
    }
    const handle = (cell(fields, "handle") ?? "").trim();
    if (handle === "") {
      problems.push({ line, column: "handle", message: "Every row needs a handle (the product's URL slug, e.g. blue-mug); rows with the same handle are one product." });
      continue;
    }
    if (!SLUG.test(handle) || handle.length > 120) {
      problems.push({ line, column: "handle", message: `"${handle}" is not a handle: use lower-case letters, digits and dashes, e.g. blue-mug.` });
      continue;
    }
    let group = groups.get(handle);
    if (!group) {
      group = { product: { handle, line, given: productFields(fields, line, cell, problems), variants: [] }, first: record };
      groups.set(handle, group);
    } else {
      // Product columns repeat on every row; a different value means the rows disagree about the product.
      for (const column of OUR_PRODUCT_COLUMNS) {
        const value = cell(fields, column);
        const first = cell(group.first.fields, column);
        if (value !== undefined && value !== "" && value !== first) {
          problems.push({ line, column, message: `Differs from line ${group.first.line}, the first row of "${handle}". Product columns must be the same on every row of a product (or left empty).` });
        }
      }
    }
    group.product.variants.push(variantFields(fields, line, cell, problems, shopCurrency));
  }
  return { products: [...groups.values()].map((g) => g.product), problems, warnings: [] };
}

type Cell = (fields: string[], name: OurColumn) => string | undefined;

function productFields(fields: string[], line: number, cell: Cell, problems: CsvProblem[]): ParsedProduct["given"] {
  const given: ParsedProduct["given"] = {};
  const text = (name: OurColumn) => cell(fields, name);
  given.title = text("title");
  given.description = text("description");
  given.brand = text("brand");
  given.googleCategory = text("google_category")?.trim();
  // Apparel attributes: a blank cell means "not set", like brand.
  given.gender = text("gender")?.trim().toLowerCase();
  given.ageGroup = text("age_group")?.trim().toLowerCase();
  given.color = text("color")?.trim();
  given.size = text("size")?.trim();
  given.titleFa = text("title_fa");
  given.descriptionFa = text("description_fa");
  // Blank enum/boolean cells keep the current value (a new product gets the
  // default): a blank must never quietly turn an active product into a draft.
  const condition = text("condition")?.trim().toLowerCase();
  if (condition) given.condition = condition;
  const status = text("status")?.trim().toLowerCase();
  if (status) given.status = status;
  const identifier = text("identifier_exists")?.trim().toLowerCase();
  if (identifier) {
    if (["true", "yes", "1"].includes(identifier)) given.identifierExists = true;
    else if (["false", "no", "0"].includes(identifier)) given.identifierExists = false;
    else problems.push({ line, column: "identifier_exists", message: `Write true (the product has a GTIN or MPN) or false (handmade, no identifier), not "${identifier}".` });
  }
  const names = OPTION_NAME_COLUMNS.map((c) => text(c));
  if (names.some((n) => n !== undefined)) {
    const trimmed = names.map((n) => (n ?? "").trim());
    const last = trimmed.findLastIndex((n) => n !== "");
    const gap = trimmed.slice(0, last + 1).findIndex((n) => n === "");
    if (gap >= 0) problems.push({ line, column: OPTION_NAME_COLUMNS[gap]!, message: `Name option ${gap + 1} before option ${last + 1}; fill the option names from option1_name on.` });
    else given.optionNames = trimmed.slice(0, last + 1);
  }
  const collections = text("collections");
  if (collections !== undefined) {
    const slugs = [...new Set(splitList(collections))];
    const bad = slugs.filter((s) => !SLUG.test(s));
    if (bad.length) problems.push({ line, column: "collections", message: `Not collection slugs: ${bad.join(", ")}. Use lower-case letters, digits and dashes, separated by ";".` });
    else given.collections = slugs;
  }
  const images = text("images");
  if (images !== undefined) {
    const refs = parseImagesCell(images);
    const bad = refs.filter((r) => !/^[A-Za-z0-9_-]{1,128}$/.test(r.storageKey));
    if (bad.length) problems.push({ line, column: "images", message: `Not image keys: ${bad.map((b) => `"${b.storageKey}"`).join(", ")}. Write the keys the export wrote, separated by ";" (alt text after "|").` });
    else given.images = refs;
  }
  return given;
}

function variantFields(fields: string[], line: number, cell: Cell, problems: CsvProblem[], shopCurrency: string): ParsedProduct["variants"][number] {
  const given: ParsedProduct["variants"][number]["given"] = {};
  const option = (name: "option1" | "option2" | "option3") => {
    const v = cell(fields, name);
    if (v !== undefined) given[name] = v.trim() || null;
  };
  option("option1");
  option("option2");
  option("option3");

  const price = cell(fields, "price") ?? "";
  if (price.trim() === "") problems.push({ line, column: "price", message: "Give the price, e.g. 12.50." });
  else given.priceMinor = moneyCell(price, shopCurrency, line, "price", problems);
  const compareAt = cell(fields, "compare_at_price");
  if (compareAt !== undefined) given.compareAtMinor = compareAt.trim() === "" ? null : moneyCell(compareAt, shopCurrency, line, "compare_at_price", problems);
  const currency = cell(fields, "currency");
  if (currency !== undefined) given.currency = currencyCell(currency, shopCurrency, line, "currency", problems);

  const stock = cell(fields, "stock") ?? "";
  if (stock.trim() === "") problems.push({ line, column: "stock", message: "Give the stock on hand (0 if there is none)." });
  else given.stock = integerCell(stock, line, "stock", problems, "Stock");

  const gtin = cell(fields, "gtin");
  if (gtin !== undefined) given.gtin = gtin.trim() || null;
  const mpn = cell(fields, "mpn");
  if (mpn !== undefined) given.mpn = mpn.trim() || null;
  const weight = cell(fields, "weight_grams");
  if (weight !== undefined) given.weightGrams = weight.trim() === "" ? null : (integerCell(weight, line, "weight_grams", problems, "Weight in grams") ?? null);

  return { line, sku: (cell(fields, "sku") ?? "").trim(), given };
}
