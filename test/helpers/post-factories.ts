import { randomUUID } from "node:crypto";
import type { Deps } from "../../src/deps.js";
import { storeImage } from "../../src/media/media.service.js";
import { testImage } from "./factories.js";

/** Posts, tags and tracked links: sensible defaults, any field overridable. */

let counter = 0;
const next = () => `${++counter}-${randomUUID().slice(0, 6)}`;

/** A real uploaded photo (re-encoded like an admin upload), distinct per colour. */
export async function createPhoto(deps: Deps, opts: { color?: string; alt?: string } = {}) {
  const palette = ["#e76f51", "#2a9d8f", "#e9c46a", "#264653", "#f4a261", "#8ab17d"];
  const color = opts.color ?? palette[counter % palette.length]!;
  return storeImage(deps, { bytes: await testImage({ color, width: 640, height: 640 }), alt: opts.alt ?? "A styled shelf of handmade goods" });
}

export async function createPost(
  deps: Deps,
  overrides: {
    platform?: string;
    caption?: string;
    status?: string;
    mediaType?: "image" | "video";
    mediaId?: string | null;
    posterId?: string | null;
    videoUrl?: string | null;
    permalink?: string;
    publishedAt?: Date | null;
    photo?: boolean;
  } = {},
) {
  const n = next();
  const mediaType = overrides.mediaType ?? "image";
  let mediaId = overrides.mediaId;
  let posterId = overrides.posterId;
  if (overrides.photo !== false) {
    if (mediaType === "image" && mediaId === undefined) mediaId = (await createPhoto(deps)).id;
    if (mediaType === "video" && posterId === undefined) posterId = (await createPhoto(deps)).id;
  }
  return deps.db.post.create({
    data: {
      platform: overrides.platform ?? "instagram",
      caption: overrides.caption ?? `Post ${n}: new in the studio`,
      status: overrides.status ?? "published",
      mediaType,
      mediaId: mediaType === "image" ? (mediaId ?? null) : null,
      posterId: mediaType === "video" ? (posterId ?? null) : null,
      videoUrl: mediaType === "video" ? (overrides.videoUrl ?? `https://www.tiktok.com/@shop/video/${n}`) : null,
      permalink: overrides.permalink ?? `https://www.instagram.com/p/${n}/`,
      publishedAt: overrides.publishedAt === undefined ? new Date(deps.now().getTime() - 3600_000) : overrides.publishedAt,
    },
  });
}

export async function createTag(
  deps: Deps,
  input: { postId: string; productId: string; variantId?: string | null; x?: number | null; y?: number | null; startSec?: number | null; endSec?: number | null },
) {
  const product = await deps.db.product.findUniqueOrThrow({ where: { id: input.productId }, select: { title: true } });
  const video = input.startSec !== undefined && input.startSec !== null;
  return deps.db.postTag.create({
    data: {
      postId: input.postId,
      productId: input.productId,
      productTitle: product.title,
      variantId: input.variantId ?? null,
      x: video ? null : (input.x ?? 0.5),
      y: video ? null : (input.y ?? 0.5),
      startSec: video ? input.startSec! : null,
      endSec: video ? (input.endSec ?? null) : null,
    },
  });
}

export async function createLink(
  deps: Deps,
  input: {
    code?: string;
    targetType: "product" | "post" | "collection" | "live" | "page";
    productId?: string;
    postId?: string;
    collectionId?: string;
    liveSessionId?: string;
    path?: string;
    channel?: string;
    hostName?: string;
    utmSource?: string;
    utmMedium?: string;
    utmCampaign?: string;
  },
) {
  return deps.db.shortLink.create({
    data: {
      code: input.code ?? `t${next().replace(/[^a-z0-9]/g, "")}`.slice(0, 20),
      targetType: input.targetType,
      productId: input.productId ?? null,
      postId: input.postId ?? null,
      collectionId: input.collectionId ?? null,
      liveSessionId: input.liveSessionId ?? null,
      path: input.path ?? null,
      channel: input.channel ?? "instagram-story",
      hostName: input.hostName ?? "",
      utmSource: input.utmSource ?? "",
      utmMedium: input.utmMedium ?? "",
      utmCampaign: input.utmCampaign ?? "",
      createdAt: deps.now(),
    },
  });
}

export async function createLiveSession(deps: Deps, overrides: { code?: string; title?: string } = {}) {
  const n = next();
  return deps.db.liveSession.create({
    data: { title: overrides.title ?? `Friday live ${n}`, code: overrides.code ?? `live-${n}`.toLowerCase(), startsAt: deps.now() },
  });
}

/** A browser User-Agent, so a test click counts as a shopper's. */
export const BROWSER_UA = "Mozilla/5.0 (iPhone; CPU iPhone OS 17_5 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Mobile/15E148 Instagram 330.0.0.0";
