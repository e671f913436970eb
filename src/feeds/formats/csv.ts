import type { FeedFormat, FeedItem } from "./item.js";

/**
 * RFC 4180 field: quoted when it holds a comma, quote, line break or leading
 * or trailing space, with quotes doubled. Hand-written rather than a library
 * because it runs once per cell in the hot loop; test/feeds.rules.test.ts
 * round-trips it through csv-parse.
 */
export function csvField(value: string): string {
  return /[",\r\n]|^\s|\s$/.test(value) ? `"${value.replace(/"/g, '""')}"` : value;
}

export function csvLine(values: readonly string[]): string {
  return `${values.map(csvField).join(",")}\r\n`;
}

export type CsvColumn = readonly [header: string, value: (item: FeedItem) => string | number | null];

/** A CSV feed from a list of columns: header row, then one row per item. */
export function csvFormat(fileName: string, columns: readonly CsvColumn[]): FeedFormat {
  const header = csvLine(columns.map(([name]) => name));
  // Last value and its quoted cell per column: the product's columns
  // (description, brand, category) repeat for each of its variants.
  const lastValue: string[] = columns.map(() => "");
  const lastCell: string[] = columns.map(() => "");
  return {
    contentType: "text/csv; charset=utf-8",
    fileName,
    head: () => header,
    item: (item) => {
      let line = "";
      for (let i = 0; i < columns.length; i++) {
        const raw = columns[i]![1](item);
        const value = raw === null ? "" : String(raw);
        if (value !== lastValue[i]) {
          lastValue[i] = value;
          lastCell[i] = csvField(value);
        }
        line += i === 0 ? lastCell[i] : `,${lastCell[i]}`;
      }
      return `${line}\r\n`;
    },
    tail: () => "",
  };
}

/** "in stock" / "out of stock": the spelling Meta, Pinterest and TikTok want. */
export function spacedAvailability(item: FeedItem): string {
  return item.availability === "in_stock" ? "in stock" : "out of stock";
}

/**
 * Several image URLs in one cell, comma-separated. Pinterest reads a comma
 * inside a URL as a separator, so commas in the URLs themselves are encoded.
 */
export function imageList(item: FeedItem, max: number): string {
  return item.additionalImageLinks
    .slice(0, max)
    .map((u) => u.replace(/,/g, "%2C"))
    .join(",");
}
