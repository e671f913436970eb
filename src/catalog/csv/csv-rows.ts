import { parseMoney } from "../money.js";
import type { ImageRef } from "./csv-cells.js";
import type { CsvFormat, CsvProblem } from "./csv.schema.js";

/**
 * What a file says about one variant. A field that is undefined was not in
 * the file (its column is absent): the import keeps the current value.
 */
export interface ParsedVariant {
  line: number;
  sku: string;
  given: {
    option1?: string | null;
    option2?: string | null;
    option3?: string | null;
    priceMinor?: number;
    compareAtMinor?: number | null;
    currency?: string;
    stock?: number;
    gtin?: string | null;
    mpn?: string | null;
    weightGrams?: number | null;
  };
}

/** What a file says about one product (all rows of one handle). Undefined = keep. */
export interface ParsedProduct {
  handle: string;
  /** First row of the handle: product-level problems are reported here. */
  line: number;
  given: {
    title?: string;
    description?: string;
    brand?: string;
    condition?: string;
    googleCategory?: string;
    identifierExists?: boolean;
    gender?: string;
    ageGroup?: string;
    color?: string;
    size?: string;
    status?: string;
    optionNames?: string[];
    collections?: string[];
    images?: ImageRef[];
    titleFa?: string;
    descriptionFa?: string;
  };
  variants: ParsedVariant[];
}

/** Which header column holds each field of ProductInput, to place Zod's issues on a cell. */
export interface ColumnMap {
  handle: string;
  product: Record<string, string | undefined>;
  variant: Record<string, string | undefined>;
  optionName: (index: number) => string | undefined;
}

/** A warning to give once per file (e.g. one per image URL), however many rows repeat it. */
export type MappedNote = CsvProblem & { once?: { kind: string; key: string } };

/** Some rows of a file, mapped to products (whole products: every row of each handle). */
export interface MappedRows {
  products: ParsedProduct[];
  problems: CsvProblem[];
  warnings: MappedNote[];
}

/** What a format contributes to an import: its header checks, its column map, how rows group, how rows map. */
export interface CsvFormatReader {
  format: CsvFormat;
  columns: ColumnMap;
  /** Header problems (and warnings); with `usable` false the rows are not read. */
  header: { usable: boolean; problems: CsvProblem[]; warnings: CsvProblem[] };
  handleOf: (fields: string[]) => string;
  map: (records: { line: number; fields: string[] }[]) => MappedRows;
}

/** Header lookup: cell text by column name for one record, undefined when the column is absent. */
export function cellReader(header: string[]) {
  const index = new Map<string, number>();
  header.forEach((h, i) => {
    if (!index.has(h)) index.set(h, i);
  });
  return {
    has: (name: string) => index.has(name),
    get: (fields: string[], name: string): string | undefined => {
      const i = index.get(name);
      return i === undefined ? undefined : (fields[i] ?? "");
    },
  };
}

/** Header names that appear more than once: the import could not tell which one to read. */
export function duplicateColumns(header: string[], line: number): CsvProblem[] {
  const seen = new Set<string>();
  const problems: CsvProblem[] = [];
  for (const h of header) {
    if (h !== "" && seen.has(h)) problems.push({ line, column: h, message: `The column "${h}" appears twice in the header; keep one.` });
    seen.add(h);
  }
  return problems;
}

/** A row whose cell count differs from the header's is shifted or cut: reading it would put values in the wrong columns. */
export function fieldCountProblem(header: string[], fields: string[], line: number): CsvProblem | null {
  if (fields.length === header.length) return null;
  return {
    line,
    column: fields.length < header.length ? (header[fields.length] ?? null) : null,
    message: `This row has ${fields.length} cells but the header has ${header.length}. Check for a missing or extra comma, or a quote that was not closed.`,
  };
}

/** Amount cell → minor units of the shop's currency, or a problem naming the cell. */
export function moneyCell(value: string, currency: string, line: number, column: string, problems: CsvProblem[]): number | undefined {
  const parsed = parseMoney(value, currency);
  if (parsed.ok) return parsed.minor;
  problems.push({ line, column, message: `${parsed.message}.` });
  return undefined;
}

/** A whole number cell ("12"); anything else is a problem naming the cell. */
export function integerCell(value: string, line: number, column: string, problems: CsvProblem[], what: string): number | undefined {
  const text = value.trim();
  if (/^[+-]?\d{1,12}$/.test(text)) return Number(text);
  problems.push({ line, column, message: `${what} is a whole number, like 12 (got "${value}").` });
  return undefined;
}

const CURRENCIES = new Set(Intl.supportedValuesOf("currency"));

/** The currency cell must name a real ISO 4217 currency, and the shop's own. */
export function currencyCell(value: string, shopCurrency: string, line: number, column: string, problems: CsvProblem[]): string | undefined {
  const code = value.trim().toUpperCase();
  if (code === "") return undefined;
  if (!/^[A-Z]{3}$/.test(code) || !CURRENCIES.has(code)) {
    problems.push({ line, column, message: `"${value}" is not a currency code we know; use an ISO 4217 code such as ${shopCurrency}.` });
    return undefined;
  }
  if (code !== shopCurrency) {
    problems.push({ line, column, message: `This shop sells in ${shopCurrency}; prices in ${code} cannot be imported. Convert them to ${shopCurrency} first.` });
    return undefined;
  }
  return code;
}
