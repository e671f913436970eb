import { csvFormat, imageList, spacedAvailability } from "./csv.js";

/** Pinterest Catalogs data source (CSV). */
export const pinterestFeed = csvFormat("pinterest.csv", [
  ["id", (i) => i.id],
  ["title", (i) => i.title],
  ["description", (i) => i.description],
  ["link", (i) => i.link],
  ["image_link", (i) => i.imageLink.replace(/,/g, "%2C")],
  ["additional_image_link", (i) => imageList(i, 10)],
  ["price", (i) => i.price],
  ["sale_price", (i) => i.salePrice],
  ["availability", spacedAvailability],
  ["condition", (i) => i.condition],
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
  // Pinterest's names for the rating of the product (all its variants share it).
  ["average_review_rating", (i) => i.averageReviewRating],
  ["number_of_ratings", (i) => (i.reviewCount > 0 ? String(i.reviewCount) : null)],
  ["number_of_reviews", (i) => (i.reviewCount > 0 ? String(i.reviewCount) : null)],
]);
