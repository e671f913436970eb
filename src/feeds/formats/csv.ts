import type { FeedField, FeedFormat, FeedItem } from "./item.js";

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

/** A CSV feed from a list of fields (the columns): header row, then one row per item. */
export function csvFormat(fileName: string, columns: readonly FeedField[]): FeedFormat {
  const header = csvLine(columns.map((c) => c.name));
  // Last value and its quoted cell per column: the product's columns
  // (description, brand, category) repeat for each of its variants.
  const lastValue: string[] = columns.map(() => "");
  const lastCell: string[] = columns.map(() => "");
  return {
    contentType: "text/csv; charset=utf-8",
    fileName,
    fields: columns,
    head: () => header,
    item: (item) => {
      let line = "";
      for (let i = 0; i < columns.length; i++) {
        const raw = columns[i]!.value(item);
        const value = raw === null ? "" : Array.isArray(raw) ? raw.join(",") : String(raw);
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

/** Fields every CSV platform reads the same way. */
export const field = {
  title: { name: "title", value: (i: FeedItem) => i.title, required: { rule: "title_missing" } },
  description: { name: "description", value: (i: FeedItem) => i.description, required: { rule: "description_missing" } },
  availability: { name: "availability", value: spacedAvailability, required: { rule: "field_missing" } },
  price: { name: "price", value: (i: FeedItem) => i.price, required: { rule: "field_missing" } },
  link: { name: "link", value: (i: FeedItem) => i.link, required: { rule: "field_missing" } },
  imageLink: { name: "image_link", value: (i: FeedItem) => i.imageLink, required: { rule: "image_missing" } },
  condition: { name: "condition", value: (i: FeedItem) => i.condition },
  salePrice: { name: "sale_price", value: (i: FeedItem) => i.salePrice },
  gtin: { name: "gtin", value: (i: FeedItem) => i.gtin },
  mpn: { name: "mpn", value: (i: FeedItem) => i.mpn },
  itemGroupId: { name: "item_group_id", value: (i: FeedItem) => i.itemGroupId },
  googleCategory: { name: "google_product_category", value: (i: FeedItem) => i.googleCategory },
  productType: { name: "product_type", value: (i: FeedItem) => i.productType },
  color: { name: "color", value: (i: FeedItem) => i.color },
  size: { name: "size", value: (i: FeedItem) => i.size },
  gender: { name: "gender", value: (i: FeedItem) => i.gender },
  ageGroup: { name: "age_group", value: (i: FeedItem) => i.ageGroup },
  material: { name: "material", value: (i: FeedItem) => i.material },
  pattern: { name: "pattern", value: (i: FeedItem) => i.pattern },
} satisfies Record<string, FeedField>;

/** Meta and TikTok have no identifier_exists: an item needs a brand unless it has a GTIN or MPN. */
export const brandOrIdentifier: FeedField = {
  name: "brand",
  value: (i) => i.brand,
  required: { rule: "brand_missing", severity: (i) => (i.gtin || i.mpn ? null : "error") },
};
