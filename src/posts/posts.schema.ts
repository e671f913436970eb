import { z } from "zod";
import { patchOf } from "../http/validate.js";

export const PLATFORMS = ["instagram", "facebook", "tiktok", "pinterest", "youtube", "x", "telegram", "whatsapp", "other"] as const;
export type Platform = (typeof PLATFORMS)[number];
export const POST_STATUSES = ["published", "draft", "hidden"] as const;
export const MEDIA_TYPES = ["image", "video"] as const;
export type MediaType = (typeof MEDIA_TYPES)[number];

/**
 * Instagram allows 20 product tags on a feed post and 30 on a Reel. We warn
 * past those numbers (the shop may not post to Instagram at all) and refuse
 * only far beyond them, so one post cannot carry thousands of tags.
 */
export const TAG_WARN_LIMIT: Record<MediaType, number> = { image: 20, video: 30 };
export const MAX_TAGS_PER_POST = 100;
/** Instagram's caption limit; other platforms allow less or about the same. */
export const MAX_CAPTION = 2200;

const ID = z.string().trim().min(1).max(64);
const httpUrl = (what: string) =>
  z
    .string()
    .trim()
    .max(500, "At most 500 characters.")
    .pipe(z.url({ protocol: /^https?$/, message: `${what} must be a full http(s) address, e.g. https://www.instagram.com/p/…` }));

export const PostInput = z.strictObject({
  platform: z.enum(PLATFORMS, { message: `One of ${PLATFORMS.join(", ")}.` }),
  permalink: httpUrl("The permalink").or(z.literal("")).default(""),
  mediaType: z.enum(MEDIA_TYPES, { message: "image or video." }).default("image"),
  /** An uploaded image (Media id): the photo of an image post. */
  mediaId: ID.nullish(),
  /** Where the video plays (the platform's page or a file); shown as a link. */
  videoUrl: httpUrl("The video address").nullish(),
  /** The still shown for a video post (Media id). */
  posterId: ID.nullish(),
  /** Text alternative of the photo or poster, for screen readers. */
  imageAlt: z.string().trim().max(300, "At most 300 characters.").optional(),
  caption: z.string().max(MAX_CAPTION, `At most ${MAX_CAPTION} characters (Instagram's limit).`).default(""),
  publishedAt: z.coerce.date({ message: "A date and time, e.g. 2026-11-20T14:30:00Z." }).nullish(),
  status: z.enum(POST_STATUSES, { message: `One of ${POST_STATUSES.join(", ")}.` }).default("published"),
});
export type PostInputT = z.infer<typeof PostInput>;

/** API PATCH: any subset of the fields; unknown fields are refused; a field left out keeps its stored value. */
export const PostPatch = patchOf(PostInput);
export type PostPatchT = z.infer<typeof PostPatch>;

const unit = (axis: "x" | "y") =>
  z
    .number({ message: `${axis} is a number from 0 to 1 (a share of the image ${axis === "x" ? "width from the left" : "height from the top"}).` })
    .min(0, `${axis} must be at least 0 (the ${axis === "x" ? "left" : "top"} edge).`)
    .max(1, `${axis} must be at most 1 (the ${axis === "x" ? "right" : "bottom"} edge).`);
const seconds = z.number({ message: "A number of seconds from the start of the video." }).min(0, "Cannot be negative.").max(24 * 3600, "At most 24 hours.");

export const TagInput = z.strictObject({
  productId: ID,
  /** Tag one variant (size, colour); without it the tag is for the product. */
  variantId: ID.nullish(),
  x: unit("x").optional(),
  y: unit("y").optional(),
  startSec: seconds.optional(),
  endSec: seconds.nullish(),
});
export type TagInputT = z.infer<typeof TagInput>;

/** Moving a tag, switching its variant, or pointing it at another product. */
export const TagPatch = patchOf(TagInput);
export type TagPatchT = z.infer<typeof TagPatch>;

export const PostIdParams = z.object({ id: ID });
export const TagIdParams = z.object({ id: ID, tagId: ID });

export const AdminPostListQuery = z.object({
  status: z.enum(POST_STATUSES).optional().catch(undefined),
  page: z.coerce.number().int().min(1).max(10_000).default(1).catch(1),
  lang: z.enum(["en", "fa"]).optional(),
});

export const ApiPostListQuery = z.strictObject({
  status: z.enum(POST_STATUSES, { message: `One of ${POST_STATUSES.join(", ")}.` }).optional(),
  page: z.coerce.number().int().min(1, "At least 1.").max(10_000).default(1),
  limit: z.coerce.number().int().min(1, "At least 1.").max(100, "At most 100.").default(24),
  lang: z.enum(["en", "fa"]).optional(),
});

/**
 * Public gallery query. Not strict: shoppers arrive with utm_* and other
 * parameters from tracked links, which must not turn into a 400.
 */
export const GalleryQuery = z.object({
  available: z.enum(["1"]).optional().catch(undefined),
  collection: z.string().regex(/^[a-z0-9]+(?:-[a-z0-9]+)*$/).max(120).optional().catch(undefined),
  page: z.coerce.number().int().min(1).max(1000).default(1).catch(1),
  /** "tiles": only the page's tiles and its "more" link, for the gallery's "More posts" button. */
  part: z.enum(["tiles"]).optional().catch(undefined),
});

export const PostCardQuery = z.object({
  available: z.enum(["1"]).optional().catch(undefined),
});

export const EmbedQuery = z.object({
  lang: z.enum(["en", "fa"]).optional().catch(undefined),
  available: z.enum(["1"]).optional().catch(undefined),
  limit: z.coerce.number().int().min(1).max(60).default(12).catch(12),
});

export const ProductSearchQuery = z.object({
  q: z.string().trim().max(100, "At most 100 characters.").default(""),
  lang: z.enum(["en", "fa"]).optional(),
});
