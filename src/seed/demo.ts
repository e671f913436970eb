import { readFileSync } from "node:fs";
import path from "node:path";
import { z } from "zod";
import { AGE_GROUPS, GENDERS } from "../catalog/catalog.schema.js";
import type { Prisma } from "../db/client.js";
import type { Deps } from "../deps.js";
import { ShopProfileSchema } from "../shop/shop.schema.js";
import { seedShopProfile } from "../shop/shop.service.js";
import type Sharp from "sharp";
import { lazyModule } from "../lazy.js";
import { handleKey, personKeyFor } from "../followers/person-key.js";
import { storeImage } from "../media/media.service.js";
import { contentHashOf } from "../reviews/moderation.js";
import { moveReviewInTx } from "../reviews/summary.js";
import { SEED_DIR } from "../package-root.js";

// Only the first start of a demo shop draws its logo: the web process need not carry libvips (about 20 MB) for it.
const sharp = lazyModule<typeof Sharp>("sharp");

// The seed file is input like any other: parsed, so a typo fails loudly.
const SeedFile = z.object({
  shop: ShopProfileSchema.omit({ logo: true, name: true }).extend({ logo: z.string() }),
  collections: z.array(z.object({ slug: z.string(), title: z.string(), description: z.string() })),
  products: z.array(
    z.object({
      slug: z.string(), title: z.string(), titleFa: z.string(), description: z.string(), descriptionFa: z.string(),
      googleCategory: z.string(), collections: z.array(z.string()), optionNames: z.array(z.string()),
      // Google's apparel attributes (colour and size come from the variants' options where they have one).
      gender: z.enum(GENDERS).optional(), ageGroup: z.enum(AGE_GROUPS).optional(), color: z.string().optional(), size: z.string().optional(),
      images: z.array(z.tuple([z.string(), z.string()]).or(z.tuple([z.string(), z.string(), z.string()]))),
      variants: z.array(z.object({ sku: z.string(), options: z.array(z.string()), price: z.number().int(), compareAt: z.number().int().optional(), stock: z.number().int() })),
    }),
  ),
  posts: z.array(
    z.object({
      platform: z.string(), permalink: z.string(), image: z.string(), alt: z.string().optional(), collage: z.array(z.string()).length(4).optional(), caption: z.string(), daysAgo: z.number(),
      tags: z.array(z.object({ product: z.string(), sku: z.string().optional(), x: z.number(), y: z.number() })),
    }),
  ),
  reviews: z.array(z.object({ product: z.string(), rating: z.number().int().min(1).max(5), title: z.string(), body: z.string(), name: z.string(), daysAgo: z.number() })),
  coupons: z.array(z.object({ code: z.string(), description: z.string(), kind: z.string(), percentOff: z.number().int(), followersOnly: z.boolean(), perFollowerLimit: z.number().int(), minFollowDays: z.number().int(), usageLimit: z.number().int() })),
  followers: z.array(z.object({ platform: z.string(), handle: z.string(), followedDaysAgo: z.number() })),
});

const DAY = 24 * 3600 * 1000;

/**
 * Fills an empty shop with the demo catalog: products with variants and
 * Persian translations, images (re-encoded like uploads), posts with tags,
 * reviews with their rating summaries, a follower-only coupon. Does nothing
 * when the shop already has products, so a second start keeps the data.
 */
export async function seedDemoShop(deps: Deps, opts: { dir?: string } = {}): Promise<boolean> {
  if ((await deps.db.product.count()) > 0) return false;
  const dir = opts.dir ?? SEED_DIR;
  const seed = SeedFile.parse(JSON.parse(readFileSync(path.join(dir, "demo-catalog.json"), "utf8")));
  const now = deps.now().getTime();

  // Images first (files plus Media rows, idempotent by content hash), then all
  // rows in one transaction so a failed seed leaves an empty shop, not half a one.
  const media = new Map<string, string>();
  // Product photos, and the posts' own photos (collages made by prisma/seed/images/make-post-images.ts).
  const files = [...new Set([...seed.products.flatMap((p) => p.images.map((i) => i[0])), ...seed.posts.map((p) => p.image)])];
  // Three at a time: an encode is mostly single-threaded, so this keeps both
  // cores busy without holding every decoded image in memory at once.
  for (let i = 0; i < files.length; i += 3) {
    await Promise.all(
      files.slice(i, i + 3).map(async (file) => {
        const alt = seed.products.flatMap((p) => p.images).find((img) => img[0] === file)?.[1] ?? seed.posts.find((p) => p.image === file)?.alt ?? "";
        const row = await storeImage(deps, { bytes: readFileSync(path.join(dir, "images", file)), alt });
        media.set(file, row.id);
      }),
    );
  }

  // The logo is an SVG in the repository: rendered to a PNG first, then stored like an upload.
  const logoPng = await sharp()(readFileSync(path.join(dir, "images", seed.shop.logo))).resize(512, 512).png().toBuffer();
  const logo = await storeImage(deps, { bytes: logoPng, alt: "" });

  await deps.db.$transaction(async (tx) => {
    const collections = new Map<string, string>();
    for (const [i, c] of seed.collections.entries()) {
      const row = await tx.collection.create({ data: { ...c, position: i } });
      collections.set(c.slug, row.id);
    }
    const products = new Map<string, { id: string; variants: Map<string, string> }>();
    for (const [i, p] of seed.products.entries()) {
      const product = await tx.product.create({
        data: {
          slug: p.slug, title: p.title, description: p.description, brand: "Bazaarche Studio", condition: "new",
          googleCategory: p.googleCategory, identifierExists: false, status: "active", optionNames: JSON.stringify(p.optionNames),
          gender: p.gender ?? "", ageGroup: p.ageGroup ?? "", color: p.color ?? "", size: p.size ?? "",
          // Staggered so the grid has a stable, meaningful order (newest first).
          createdAt: new Date(now - (seed.products.length - i) * 3600 * 1000),
          translations: { create: [{ locale: "fa", title: p.titleFa, description: p.descriptionFa }] },
          collections: { create: p.collections.map((slug, position) => ({ collectionId: collections.get(slug)!, position })) },
        },
      });
      const variants = new Map<string, string>();
      for (const [position, v] of p.variants.entries()) {
        const row = await tx.variant.create({
          data: {
            productId: product.id, sku: v.sku, option1: v.options[0] ?? null, option2: v.options[1] ?? null, option3: v.options[2] ?? null,
            priceMinor: v.price, compareAtMinor: v.compareAt ?? null, currency: deps.shop.currency, stock: v.stock, position,
          },
        });
        variants.set(v.sku, row.id);
      }
      for (const [position, [file, alt, sku]] of p.images.entries()) {
        await tx.productImage.create({
          data: { productId: product.id, mediaId: media.get(file)!, alt, position, variantId: sku ? variants.get(sku)! : null },
        });
      }
      products.set(p.slug, { id: product.id, variants });
    }

    for (const [position, post] of seed.posts.entries()) {
      await tx.post.create({
        data: {
          platform: post.platform, permalink: post.permalink, mediaType: "image", mediaId: media.get(post.image)!, caption: post.caption,
          publishedAt: new Date(now - post.daysAgo * DAY), status: "published", position,
          tags: {
            create: post.tags.map((t) => ({
              productId: products.get(t.product)!.id,
              variantId: t.sku ? products.get(t.product)!.variants.get(t.sku)! : null,
              x: t.x, y: t.y,
            })),
          },
        },
      });
    }

    // Published the way the admin publishes: through the rating summary's own
    // status move, so the demo summaries are what the live code would keep.
    for (const r of seed.reviews) {
      const at = new Date(now - r.daysAgo * DAY);
      const review = await tx.review.create({
        data: {
          productId: products.get(r.product)!.id, rating: r.rating, title: r.title, body: r.body, displayName: r.name, status: "pending", source: "web",
          contentHash: contentHashOf({ title: r.title, body: r.body }), createdAt: at,
        },
      });
      await moveReviewInTx(tx, { now: () => at }, { reviewId: review.id, to: "published" });
    }

    for (const c of seed.coupons) await tx.coupon.create({ data: { ...c, code: c.code.toUpperCase() } });
    for (const f of seed.followers) {
      const followedAt = new Date(now - f.followedDaysAgo * DAY);
      await tx.follower.create({
        data: {
          platform: f.platform, handle: f.handle, handleKey: handleKey(f.handle), personKey: personKeyFor(f.platform, f.handle),
          status: "active", importedAt: new Date(now), followedAt,
        },
      });
    }
    await tx.counter.create({ data: { name: "order", value: 1000 } });
    await seedLiveShows(tx, now, (slug) => products.get(slug)!.id);
  });
  await seedShopProfile(deps, { ...seed.shop, logo: { mediaId: logo.id, storageKey: logo.storageKey } });
  return true;
}

/**
 * Two live shows: one scheduled for the day after tomorrow (with a tracked
 * link to share), and one that ended three days ago with its replay and the
 * chapters of what was featured when.
 */
async function seedLiveShows(tx: Prisma.TransactionClient, now: number, product: (slug: string) => string) {
  const HOUR = 3600 * 1000;
  const upcoming = await tx.liveSession.create({
    data: {
      title: "Friday studio live: glaze day", code: "friday-live", hostName: "Ava", platform: "instagram",
      streamUrl: "https://www.instagram.com/bazaarche.demo/live/", startsAt: new Date(Math.ceil((now + 2 * DAY) / HOUR) * HOUR), holdMinutes: 15,
      pinnedMessage: "Comment “sold” and the code to claim. Holds last 15 minutes.",
    },
  });
  const lineup: [string, string, number | null, Partial<{ perBuyerLimit: number; quantityCap: number; followerPriceMinor: number; followerMinDays: number }>][] = [
    ["turquoise-ceramic-mug", "12", 2200, { perBuyerLimit: 2 }],
    ["painted-ceramic-bowls", "14", 5400, { quantityCap: 6 }],
    ["minakari-tea-glass-set", "21", null, { followerPriceMinor: 3600, followerMinDays: 30 }],
    ["saffron-rose-candle", "30", 1500, {}],
  ];
  for (const [position, [slug, claimCode, livePriceMinor, extra]] of lineup.entries()) {
    await tx.liveItem.create({ data: { liveSessionId: upcoming.id, productId: product(slug), claimCode, livePriceMinor, position, ...extra } });
  }
  await tx.shortLink.create({ data: { code: "friday-live", targetType: "live", liveSessionId: upcoming.id, channel: "instagram-live", hostName: "Ava" } });

  const startedAt = new Date(now - 3 * DAY - 2 * HOUR);
  const past = await tx.liveSession.create({
    data: {
      title: "Winter textiles show", code: "winter-textiles", hostName: "Sara", platform: "youtube",
      replayUrl: "https://www.youtube.com/watch?v=bazaarche-demo", startsAt: startedAt, startedAt, status: "ended",
      endedAt: new Date(startedAt.getTime() + 47 * 60_000), endsAt: new Date(startedAt.getTime() + 47 * 60_000), holdMinutes: 15,
    },
  });
  const chapters: [string, string, number][] = [
    ["kilim-cushion-cover", "1", 0],
    ["block-print-scarf", "2", 6 * 60 + 40],
    ["wool-beanie", "3", 19 * 60 + 5],
    ["linen-tote-bag", "4", 31 * 60 + 30],
  ];
  for (const [position, [slug, claimCode, offset]] of chapters.entries()) {
    const at = new Date(startedAt.getTime() + offset * 1000);
    const item = await tx.liveItem.create({ data: { liveSessionId: past.id, productId: product(slug), claimCode, position, featuredAt: at } });
    await tx.liveFeature.create({ data: { liveSessionId: past.id, itemId: item.id, at } });
  }
}
