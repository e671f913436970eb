import { z } from "zod";

export const PRODUCT_STATUSES = ["draft", "active", "archived"] as const;
export const CONDITIONS = ["new", "refurbished", "used"] as const;

export const ListProductsQuery = z.strictObject({
  q: z.string().trim().max(100, "At most 100 characters.").optional(),
  status: z.enum(PRODUCT_STATUSES, { message: `One of ${PRODUCT_STATUSES.join(", ")}.` }).optional(),
  limit: z.coerce.number().int().min(1, "At least 1.").max(100, "At most 100.").default(24),
  cursor: z.string().max(64).optional(),
  lang: z.enum(["en", "fa"]).optional(),
});
export type ListProductsInput = z.infer<typeof ListProductsQuery>;

export const ProductPageParams = z.object({
  slug: z.string().regex(/^[a-z0-9]+(?:-[a-z0-9]+)*$/, "A product slug uses lower-case letters, digits and dashes.").max(120),
});
export const ProductPageQuery = z.object({
  variant: z.string().max(64).optional(),
  lang: z.enum(["en", "fa"]).optional(),
});
