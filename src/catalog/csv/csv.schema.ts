import { z } from "zod";

/**
 * Our own catalog CSV: one row per variant, product columns repeated on every
 * row of a product, rows grouped by `handle` (the product slug). The export
 * writes exactly these columns in this order; the import reads them by name.
 */
export const OUR_COLUMNS = [
  "handle",
  "title",
  "title_fa",
  "description",
  "description_fa",
  "brand",
  "condition",
  "google_category",
  "identifier_exists",
  "gender",
  "age_group",
  "color",
  "size",
  "status",
  "option1_name",
  "option2_name",
  "option3_name",
  "collections",
  "images",
  "sku",
  "option1",
  "option2",
  "option3",
  "price",
  "compare_at_price",
  "currency",
  "stock",
  "gtin",
  "mpn",
  "weight_grams",
] as const;
export type OurColumn = (typeof OUR_COLUMNS)[number];

/** Without these a row cannot describe a variant; any other column may be left out (its data is then kept). */
export const OUR_REQUIRED_COLUMNS: readonly OurColumn[] = ["handle", "title", "sku", "price", "stock"];

/** Product-level columns: the same on every row of a handle (follow-up rows may leave them empty). */
export const OUR_PRODUCT_COLUMNS: readonly OurColumn[] = OUR_COLUMNS.slice(0, OUR_COLUMNS.indexOf("sku"));

export const SHOPIFY_REQUIRED_COLUMNS = ["Handle", "Title", "Variant Price"] as const;

/** Largest file the import reads, admin upload and API alike. */
export const MAX_CSV_BYTES = 5 * 1024 * 1024;

export const CSV_FORMATS = ["bazaarche", "shopify"] as const;
export type CsvFormat = (typeof CSV_FORMATS)[number];

/** One thing wrong (or worth knowing) about the file, where a spreadsheet user can find it. */
export interface CsvProblem {
  /** Physical line in the file; the header is line 1. */
  line: number;
  /** Column name as written in the header, or null when the problem is not in one cell. */
  column: string | null;
  message: string;
}

export interface ImportSummary {
  products: { create: number; update: number; unchanged: number };
  variants: { create: number; update: number; archive: number };
  /** Collections named in the file that do not exist yet; the import creates them. */
  collectionsToCreate: string[];
}

export interface ImportProductPlan {
  handle: string;
  title: string;
  line: number;
  action: "create" | "update" | "unchanged";
  variants: { create: number; update: number; archive: number };
}

export interface ImportReport {
  format: CsvFormat | null;
  /** Data rows read (header and blank rows not counted). */
  rows: number;
  valid: boolean;
  applied: boolean;
  summary: ImportSummary;
  problems: CsvProblem[];
  warnings: CsvProblem[];
  products: ImportProductPlan[];
}

/** `?dryRun=true|false` is required so a client never applies by accident. */
export const ImportApiQuery = z.strictObject({
  dryRun: z.enum(["true", "false"], { message: "Say dryRun=true to check the file, or dryRun=false to apply it." }).transform((v) => v === "true"),
});

export const IMPORT_ID = /^[A-Za-z0-9_-]{22}$/;

/** Multipart upload: the CSRF token travels in the action URL, the file in `file`. */
export const UploadQuery = z.object({
  _csrf: z.string().max(200),
  lang: z.enum(["en", "fa"]).optional(),
});

export const UploadedCsv = z.object(
  {
    originalname: z.string().max(255),
    size: z.number().int().min(0).max(MAX_CSV_BYTES),
    buffer: z.instanceof(Buffer),
  },
  { message: "Choose a CSV file to check." },
);

export const ApplyImportBody = z.strictObject({
  _csrf: z.string().max(200),
  importId: z.string().regex(IMPORT_ID, "This import is unknown; upload the file again."),
  digest: z.string().max(100).default(""),
});

/** Cancel or "check again": the import named, CSRF-checked. */
export const ImportActionBody = z.strictObject({
  _csrf: z.string().max(200),
  importId: z.string().regex(IMPORT_ID, "This import is unknown; upload the file again."),
});

export const ImportIdParams = z.object({ id: z.string().regex(IMPORT_ID, "id: not an import id") });

/** The status of an import; `productsAfter` pages through its product list (the `productsCursor` of the page before). */
export const ImportStatusQuery = z.strictObject({
  productsAfter: z.coerce.number().int().min(-1).max(Number.MAX_SAFE_INTEGER).optional(),
});

export const ImportPageQuery = z.object({ lang: z.enum(["en", "fa"]).optional() });
