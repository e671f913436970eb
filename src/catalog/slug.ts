import { randomBytes } from "node:crypto";

/** "Turquoise Ceramic Mug!" → "turquoise-ceramic-mug"; non-Latin titles get a random slug. */
export function slugify(title: string): string {
  const slug = title
    .normalize("NFKD")
    .replace(/[\u0300-\u036f]/g, "")
    .toLowerCase()
    .replace(/[^a-z0-9]+/g, "-")
    .replace(/^-+|-+$/g, "")
    .slice(0, 80)
    .replace(/-+$/, "");
  return slug || `product-${randomBytes(3).toString("hex")}`;
}
