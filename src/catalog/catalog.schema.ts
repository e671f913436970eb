import { z } from "zod";
import { patchOf } from "../http/validate.js";

export const SLUG = /^[a-z0-9]+(?:-[a-z0-9]+)*$/;
export const SKU = /^[A-Za-z0-9][A-Za-z0-9._\-/]*$/;

export const PRODUCT_STATUSES = ["draft", "active", "archived"] as const;
export const CONDITIONS = ["new", "refurbished", "used"] as const;
/** Google's values for apparel (also read by Meta, Pinterest and TikTok). "" = not set. */
export const GENDERS = ["male", "female", "unisex"] as const;
export const AGE_GROUPS = ["newborn", "infant", "toddler", "kids", "adult"] as const;

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

const optionValue = z.string().trim().max(100, "At most 100 characters.").nullish().transform((v) => (v ? v : null));

export const VariantInput = z.strictObject({
  /** Existing variant to update; without it the SKU decides. */
  id: z.string().max(64).optional(),
  sku: z.string().trim().min(1, "Every variant needs a SKU.").max(64, "At most 64 characters.").regex(SKU, "Letters, digits and . _ - / only, starting with a letter or digit."),
  option1: optionValue,
  option2: optionValue,
  option3: optionValue,
  priceMinor: z.number({ message: "A whole number of minor units (1250 = 12.50)." }).int("A whole number of minor units (1250 = 12.50).").min(0, "Prices cannot be negative.").max(100_000_000_00, "Too large."),
  compareAtMinor: z.number().int().min(0, "Prices cannot be negative.").max(100_000_000_00).nullish().transform((v) => v ?? null),
  /** Must be the shop's currency; defaults to it. */
  currency: z.string().regex(/^[A-Z]{3}$/, "A 3-letter ISO 4217 code, e.g. USD.").optional(),
  stock: z.number().int("Stock is a whole number.").min(0, "Stock cannot be negative.").max(10_000_000),
  gtin: z
    .string()
    .trim()
    .regex(/^(\d{8}|\d{12}|\d{13}|\d{14})$/, "A GTIN has 8, 12, 13 or 14 digits.")
    .nullish()
    .or(z.literal("").transform(() => null))
    .transform((v) => v || null),
  mpn: z.string().trim().max(70, "At most 70 characters.").nullish().transform((v) => v || null),
  weightGrams: z.number().int().min(0).max(1_000_000).nullish().transform((v) => v ?? null),
});
export type VariantInputT = z.infer<typeof VariantInput>;

export const ProductImageInput = z.strictObject({
  mediaId: z.string().min(1).max(64),
  alt: z.string().trim().max(300, "At most 300 characters.").default(""),
  /** Shown first when this variant is chosen. */
  variantSku: z.string().trim().max(64).nullish(),
});

export const ProductInput = z
  .strictObject({
    slug: z.string().trim().max(120).regex(SLUG, "Lower-case letters, digits and dashes, e.g. blue-mug.").optional(),
    title: z.string().trim().min(1, "Give the product a title.").max(200, "At most 200 characters."),
    description: z.string().max(10_000, "At most 10,000 characters.").default(""),
    brand: z.string().trim().max(100, "At most 100 characters.").default(""),
    condition: z.enum(CONDITIONS, { message: `One of ${CONDITIONS.join(", ")}.` }).default("new"),
    googleCategory: z.string().trim().max(300).default(""),
    identifierExists: z.boolean().default(true),
    gender: z.enum([...GENDERS, ""], { message: `One of ${GENDERS.join(", ")}, or empty.` }).default(""),
    ageGroup: z.enum([...AGE_GROUPS, ""], { message: `One of ${AGE_GROUPS.join(", ")}, or empty.` }).default(""),
    /** Used for variants without a Colour / Size option. */
    color: z.string().trim().max(100, "At most 100 characters.").default(""),
    size: z.string().trim().max(100, "At most 100 characters.").default(""),
    status: z.enum(PRODUCT_STATUSES, { message: `One of ${PRODUCT_STATUSES.join(", ")}.` }).default("draft"),
    optionNames: z.array(z.string().trim().min(1).max(40)).max(3, "At most 3 options (e.g. Size, Colour, Material).").default([]),
    translations: z
      .strictObject({ fa: z.strictObject({ title: z.string().trim().max(200), description: z.string().max(10_000).default("") }).optional() })
      .default({}),
    collections: z.array(z.string().regex(SLUG)).max(50).default([]),
    images: z.array(ProductImageInput).max(20, "At most 20 images.").optional(),
    variants: z.array(VariantInput).min(1, "A product needs at least one variant.").max(100, "At most 100 variants."),
  })
  .superRefine((p, ctx) => {
    if (p.variants.length > 1 && p.optionNames.length === 0) {
      ctx.addIssue({ code: "custom", path: ["optionNames"], message: "Name the option that tells the variants apart (e.g. Size)." });
    }
    const skus = new Map<string, number>();
    const combos = new Map<string, number>();
    p.variants.forEach((v, i) => {
      const sku = v.sku.toUpperCase();
      if (skus.has(sku)) ctx.addIssue({ code: "custom", path: ["variants", i, "sku"], message: `SKU ${v.sku} is used twice in this product.` });
      skus.set(sku, i);
      const combo = [v.option1, v.option2, v.option3].map((o) => (o ?? "").toLowerCase()).join("\u0000");
      if (p.variants.length > 1 && combos.has(combo)) {
        ctx.addIssue({ code: "custom", path: ["variants", i, "option1"], message: "Two variants have the same options; give each a different value." });
      }
      combos.set(combo, i);
      if (v.compareAtMinor !== null && v.compareAtMinor <= v.priceMinor) {
        ctx.addIssue({ code: "custom", path: ["variants", i, "compareAtMinor"], message: "The compare-at price must be higher than the price, or empty." });
      }
      for (const [n, key] of (["option1", "option2", "option3"] as const).entries()) {
        if (n < p.optionNames.length && p.variants.length > 1 && !v[key]) {
          ctx.addIssue({ code: "custom", path: ["variants", i, key], message: `Give a ${p.optionNames[n]} for this variant.` });
        }
      }
    });
  });
export type ProductInputT = z.infer<typeof ProductInput>;

/**
 * PUT /api/v1/products/:id: the fields to change. What is left out keeps its
 * stored value; `variants`, when sent, is the whole list (see applyEdit).
 */
export const ProductEdit = patchOf(
  z.strictObject({
    ...ProductInput.shape,
    // An edited variant or image may name only what changes; the merged product is checked whole.
    variants: z.array(VariantInput.partial()).min(1, "A product needs at least one variant.").max(100, "At most 100 variants."),
    images: z.array(ProductImageInput.partial()).max(20, "At most 20 images."),
  }),
);

export const VariantPatch = z
  .strictObject({
    priceMinor: VariantInput.shape.priceMinor.optional(),
    compareAtMinor: z.number().int().min(0).nullable().optional(),
    stock: VariantInput.shape.stock.optional(),
    stockDelta: z.number().int().min(-10_000_000).max(10_000_000).optional(),
  })
  .refine((v) => Object.keys(v).length > 0, "Send at least one of priceMinor, compareAtMinor, stock, stockDelta.")
  .refine((v) => !(v.stock !== undefined && v.stockDelta !== undefined), "Send stock or stockDelta, not both.");
