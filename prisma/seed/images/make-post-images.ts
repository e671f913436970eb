// Usage: npx tsx prisma/seed/images/make-post-images.ts
// Builds the demo posts' photos from the "collage" of each post in
// ../demo-catalog.json: four product photos in a 2 × 2 grid (left to right,
// top to bottom), so every tag sits on the product it names. A product at
// (x', y') in its own photo, placed in quadrant (col, row), is tagged at
// ((col + x') / 2, (row + y') / 2). test/seed-demo.test.ts checks each tag
// falls in a quadrant showing its product.
import { readFileSync } from "node:fs";
import path from "node:path";
import sharp from "sharp";

const DIR = import.meta.dirname;
const seed = JSON.parse(readFileSync(path.join(DIR, "../demo-catalog.json"), "utf8")) as { posts: { image: string; collage?: string[] }[] };

for (const post of seed.posts) {
  if (!post.collage) continue;
  const parts = await Promise.all(post.collage.map((f) => sharp(path.join(DIR, f)).resize(600, 600).toBuffer()));
  await sharp({ create: { width: 1200, height: 1200, channels: 3, background: "#f4efe8" } })
    .composite(parts.map((input, i) => ({ input, left: (i % 2) * 600, top: Math.floor(i / 2) * 600 })))
    .jpeg({ quality: 82, mozjpeg: true })
    .toFile(path.join(DIR, post.image));
  console.log(`wrote ${post.image}`);
}
