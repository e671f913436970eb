import { brandOrIdentifier, csvFormat, field, imageList } from "./csv.js";

/**
 * Commerce Manager data feed (CSV). Column names are Meta's field names;
 * required: id, title, description, availability, condition, price, link,
 * image_link, and brand or gtin/mpn (shared/notes/platform-facts.md).
 */
export const metaFeed = csvFormat("meta.csv", [
  { name: "id", value: (i) => i.id, required: { rule: "field_missing" } },
  field.title,
  field.description,
  field.availability,
  { ...field.condition, required: { rule: "field_missing" } },
  field.price,
  field.salePrice,
  field.link,
  field.imageLink,
  { name: "additional_image_link", value: (i) => imageList(i, 20) },
  brandOrIdentifier,
  field.gtin,
  field.mpn,
  field.itemGroupId,
  field.googleCategory,
  field.productType,
  field.color,
  field.size,
  field.gender,
  field.ageGroup,
  field.material,
  field.pattern,
  // Meta's checkout sells at most this many; it is offerFor().available.
  { name: "quantity_to_sell_on_facebook", value: (i) => i.available },
]);
