import { randomUUID } from "node:crypto";
import sharp from "sharp";
import { createAdminUser, createApiToken } from "../../src/auth/auth.service.js";
import type { Deps } from "../../src/deps.js";
import { storeImage } from "../../src/media/media.service.js";

/** Factories: sensible defaults, any field overridable. */

let counter = 0;
const next = () => `${++counter}-${randomUUID().slice(0, 6)}`;

export interface VariantOverrides {
  sku?: string;
  option1?: string | null;
  priceMinor?: number;
  compareAtMinor?: number | null;
  stock?: number;
  currency?: string;
  gtin?: string | null;
}

export async function createProduct(
  deps: Deps,
  overrides: {
    slug?: string;
    title?: string;
    description?: string;
    status?: string;
    brand?: string;
    optionNames?: string[];
    variants?: VariantOverrides[];
    image?: boolean;
    titleFa?: string;
  } = {},
) {
  const n = next();
  const variants = overrides.variants ?? [{}];
  const product = await deps.db.product.create({
    data: {
      slug: overrides.slug ?? `product-${n}`.toLowerCase(),
      title: overrides.title ?? `Product ${n}`,
      description: overrides.description ?? "A thing made by hand.",
      brand: overrides.brand ?? "Test Studio",
      status: overrides.status ?? "active",
      optionNames: JSON.stringify(overrides.optionNames ?? (variants.length > 1 ? ["Colour"] : [])),
      translations: overrides.titleFa ? { create: [{ locale: "fa", title: overrides.titleFa, description: "" }] } : undefined,
      variants: {
        create: variants.map((v, position) => ({
          sku: v.sku ?? `SKU-${n}-${position}`,
          option1: v.option1 === undefined ? (variants.length > 1 ? `Option ${position + 1}` : null) : v.option1,
          priceMinor: v.priceMinor ?? 2500,
          compareAtMinor: v.compareAtMinor ?? null,
          currency: v.currency ?? deps.shop.currency,
          stock: v.stock ?? 10,
          gtin: v.gtin ?? null,
          position,
        })),
      },
    },
    include: { variants: { orderBy: { position: "asc" } } },
  });
  if (overrides.image) {
    const media = await storeImage(deps, { bytes: await testImage(), alt: `${product.title} photo` });
    await deps.db.productImage.create({ data: { productId: product.id, mediaId: media.id, alt: `${product.title} photo` } });
  }
  return product;
}

/** A small real JPEG (with EXIF) generated on the fly. */
export async function testImage(opts: { width?: number; height?: number; color?: string; exif?: boolean } = {}) {
  const img = sharp({
    create: { width: opts.width ?? 600, height: opts.height ?? 600, channels: 3, background: opts.color ?? "#2a9d8f" },
  }).jpeg();
  if (opts.exif) img.withExif({ IFD0: { Copyright: "secret-camera-owner", Make: "TestCam" } });
  return img.toBuffer();
}

export async function createAdmin(deps: Deps, overrides: { email?: string; password?: string } = {}) {
  const email = overrides.email ?? `admin-${next()}@example.com`;
  const password = overrides.password ?? "correct horse battery staple";
  const admin = await createAdminUser(deps, { email, password });
  return { admin, email, password };
}

export async function createToken(deps: Deps, overrides: { name?: string } = {}) {
  return createApiToken(deps, { name: overrides.name ?? `token ${next()}` });
}
