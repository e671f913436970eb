import { existsSync, readFileSync } from "node:fs";
import path from "node:path";
import { describe, expect, it } from "vitest";

/**
 * The demo shop is the first thing a newcomer sees: every tag on a demo post
 * must sit on a photo of the product it names. A post's photo is either one
 * product photo or a 2 × 2 collage of them ("collage", built by
 * prisma/seed/images/make-post-images.ts); the quadrant under a tag must show
 * the tagged product (and the tagged variant, when the photo is a variant's).
 */
const SEED = path.resolve(import.meta.dirname, "../prisma/seed");
const seed = JSON.parse(readFileSync(path.join(SEED, "demo-catalog.json"), "utf8")) as {
  products: { slug: string; images: string[][]; googleCategory: string; gender?: string; ageGroup?: string }[];
  posts: { image: string; collage?: string[]; caption: string; tags: { product: string; sku?: string; x: number; y: number }[] }[];
};

/** The product (and variant SKU, if the photo is a variant's) each photo file shows. */
const shows = new Map<string, { product: string; sku: string | null }>();
for (const p of seed.products) for (const [file, , sku] of p.images) shows.set(file!, { product: p.slug, sku: sku ?? null });

describe("demo posts", () => {
  it("have photos that exist, and a tag on each photo only where its product is pictured", () => {
    expect(seed.posts.length).toBeGreaterThanOrEqual(6);
    for (const post of seed.posts) {
      expect(existsSync(path.join(SEED, "images", post.image)), post.image).toBe(true);
      for (const tag of post.tags) {
        const file = post.collage ? post.collage[(tag.x < 0.5 ? 0 : 1) + (tag.y < 0.5 ? 0 : 2)]! : post.image;
        const pictured = shows.get(file);
        expect(pictured?.product, `${post.image}: tag for ${tag.product} at ${tag.x},${tag.y} is on ${file}`).toBe(tag.product);
        if (tag.sku && pictured?.sku) expect(pictured.sku, `${post.image}: ${tag.sku}`).toBe(tag.sku);
        // Not on the seam between two photos of a collage.
        if (post.collage) for (const v of [tag.x, tag.y]) expect(Math.abs(v - 0.5), `${post.image} ${tag.product}`).toBeGreaterThan(0.1);
      }
      // Instagram keeps one tag per product on a post (tagging it again moves it).
      expect(new Set(post.tags.map((t) => t.product)).size, post.image).toBe(post.tags.length);
    }
  });

  it("give every apparel product Google's gender and age group", () => {
    for (const p of seed.products.filter((p) => p.googleCategory.startsWith("Apparel & Accessories"))) {
      expect(p.gender, p.slug).toMatch(/^(male|female|unisex)$/);
      expect(p.ageGroup, p.slug).toBe("adult");
    }
  });
});
