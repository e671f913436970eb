import { z } from "zod";

const quantity = z.coerce
  .number({ message: "A whole number from 1 to 99." })
  .int("A whole number from 1 to 99.")
  .min(1, "At least 1; use Remove to take an item out.")
  .max(99, "At most 99 of one item.");

export const AddToCartBody = z.object({
  variantId: z.string({ message: "Choose an option." }).min(1, "Choose an option.").max(64),
  quantity: quantity.default(1),
  _csrf: z.string().optional(),
});

export const UpdateCartItemBody = z.object({ quantity, _csrf: z.string().optional() });

export const CartItemParams = z.object({ variantId: z.string().min(1).max(64) });

export const CheckoutBody = z.object({
  email: z
    .string()
    .trim()
    .max(200)
    .optional()
    .transform((v) => (v ? v : undefined))
    .pipe(z.email({ message: "Enter a valid email address, or leave it empty." }).optional()),
  _csrf: z.string().optional(),
});

export const OrderParams = z.object({ id: z.string().min(1).max(64) });
// The key is the only credential of a capability URL: a missing or malformed
// one must look exactly like a wrong one (404), never a 400 that says a key exists.
export const OrderKeyQuery = z.object({ key: z.string().max(100).catch(""), lang: z.enum(["en", "fa"]).optional() });
