import { csvFormat, field, imageList } from "./csv.js";

/**
 * Pinterest Catalogs data source (CSV). Required: id, title, description,
 * link, image_link, price, availability.
 */
export const pinterestFeed = csvFormat("pinterest.csv", [
  { name: "id", value: (i) => i.id, required: { rule: "field_missing" } },
  field.title,
  field.description,
  field.link,
  // Pinterest reads a comma in an image URL as a list separator.
  { ...field.imageLink, value: (i) => i.imageLink.replace(/,/g, "%2C") },
  { name: "additional_image_link", value: (i) => imageList(i, 10) },
  field.price,
  field.salePrice,
  field.availability,
  field.condition,
  { name: "brand", value: (i) => i.brand },
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
  // Pinterest's names for the rating of the product (all its variants share it).
  { name: "average_review_rating", value: (i) => i.averageReviewRating },
  { name: "number_of_ratings", value: (i) => (i.reviewCount > 0 ? String(i.reviewCount) : null) },
  { name: "number_of_reviews", value: (i) => (i.reviewCount > 0 ? String(i.reviewCount) : null) },
]);
