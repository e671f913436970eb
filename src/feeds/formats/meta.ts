import { csvFormat, imageList, spacedAvailability } from "./csv.js";

/** Commerce Manager data feed (CSV). Column names are Meta's field names. */
export const metaFeed = csvFormat("meta.csv", [
  ["id", (i) => i.id],
  ["title", (i) => i.title],
  ["description", (i) => i.description],
  ["availability", spacedAvailability],
  ["condition", (i) => i.condition],
  ["price", (i) => i.price],
  ["sale_price", (i) => i.salePrice],
  ["link", (i) => i.link],
  ["image_link", (i) => i.imageLink],
  ["additional_image_link", (i) => imageList(i, 20)],
  ["brand", (i) => i.brand],
  ["gtin", (i) => i.gtin],
  ["mpn", (i) => i.mpn],
  ["item_group_id", (i) => i.itemGroupId],
  ["google_product_category", (i) => i.googleCategory],
  ["product_type", (i) => i.productType],
  ["color", (i) => i.color],
  ["size", (i) => i.size],
  ["material", (i) => i.material],
  ["pattern", (i) => i.pattern],
  // Meta's checkout sells at most this many; it is offerFor().available.
  ["quantity_to_sell_on_facebook", (i) => i.available],
]);
