import { brandOrIdentifier, csvFormat, field, imageList } from "./csv.js";

/**
 * TikTok catalog template (CSV): `sku_id` is the item id. Required: sku_id,
 * title, description, availability, condition, price, link, image_link and
 * brand (no identifier_exists, as on Meta).
 */
export const tiktokFeed = csvFormat("tiktok.csv", [
  { name: "sku_id", value: (i) => i.id, required: { rule: "field_missing" } },
  field.title,
  field.description,
  field.availability,
  { ...field.condition, required: { rule: "field_missing" } },
  field.price,
  field.salePrice,
  field.link,
  field.imageLink,
  { name: "additional_image_link", value: (i) => imageList(i, 10) },
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
]);
