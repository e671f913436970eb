import { z } from "zod";
import { patchOf } from "../http/validate.js";
import type { PostView } from "./posts.service.js";

/**
 * The admin post and tag forms post strings ("0.42", "2026-11-20T14:30").
 * These schemas accept exactly the form's fields (anything else is refused,
 * so a typo never silently does nothing) and turn the strings into the
 * shapes PostInput and TagInput validate.
 */

export const PostForm = z.strictObject({
  _csrf: z.string().optional(),
  platform: z.string().max(40).default(""),
  permalink: z.string().max(600).default(""),
  mediaType: z.string().max(20).default("image"),
  imageAlt: z.string().max(400).default(""),
  videoUrl: z.string().max(600).default(""),
  caption: z.string().max(5000).default(""),
  publishedAt: z.string().max(40).default(""),
  status: z.string().max(20).default("published"),
});
export type PostFormT = z.infer<typeof PostForm>;
/** Saving an existing post: only the fields the form posts change (a field it leaves out keeps its value). */
export const PostEditForm = patchOf(PostForm);

export const TagForm = z.strictObject({
  // No defaults: on an update, a field that is not sent must stay as it is
  // (the editor's script sends only x and y when a pin moves).
  _csrf: z.string().optional(),
  productId: z.string().max(64).optional(),
  product: z.string().max(120).optional(),
  variantId: z.string().max(64).optional(),
  x: z.string().max(20).optional(),
  y: z.string().max(20).optional(),
  startSec: z.string().max(20).optional(),
  endSec: z.string().max(20).optional(),
});
export type TagFormT = z.infer<typeof TagForm>;

const LOCAL_DIGITS: Record<string, string> = { "۰": "0", "۱": "1", "۲": "2", "۳": "3", "۴": "4", "۵": "5", "۶": "6", "۷": "7", "۸": "8", "۹": "9", "٠": "0", "١": "1", "٢": "2", "٣": "3", "٤": "4", "٥": "5", "٦": "6", "٧": "7", "٨": "8", "٩": "9" };

/** "0.42", "۰٫۴۲" or "0,42" → 0.42; "" → undefined; anything else stays a string for Zod to refuse by name. */
export function formNumber(value: string): number | string | undefined {
  const v = value
    .trim()
    .replace(/[۰-۹٠-٩]/g, (d) => LOCAL_DIGITS[d] ?? d)
    .replace(/[٫,]/g, ".");
  if (v === "") return undefined;
  return /^-?\d+(\.\d+)?$|^-?\.\d+$/.test(v) ? Number(v) : value;
}

/** A datetime-local value is read as UTC (the form says so); other text goes to Zod as is. */
export function formUtcDate(value: string): Date | string | null {
  const v = value.trim();
  if (v === "") return null;
  if (/^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(:\d{2})?$/.test(v)) return new Date(`${v}Z`);
  return v;
}

/** The posted strings as PostInput values; a field the form did not post stays out (see PostEditForm). */
export function postFormToInput(form: Partial<PostFormT>) {
  const input: Record<string, unknown> = {};
  if (form.platform !== undefined) input.platform = form.platform;
  if (form.permalink !== undefined) input.permalink = form.permalink.trim();
  if (form.mediaType !== undefined) input.mediaType = form.mediaType;
  if (form.imageAlt !== undefined) input.imageAlt = form.imageAlt;
  if (form.videoUrl !== undefined) input.videoUrl = form.videoUrl.trim() || null;
  if (form.caption !== undefined) input.caption = form.caption;
  if (form.publishedAt !== undefined) input.publishedAt = formUtcDate(form.publishedAt);
  if (form.status !== undefined) input.status = form.status;
  return input;
}

/** A saved post as the form's strings. */
export function postToForm(post: PostView | null): PostFormT {
  if (!post) return { platform: "instagram", permalink: "", mediaType: "image", imageAlt: "", videoUrl: "", caption: "", publishedAt: "", status: "published" };
  return {
    platform: post.platform,
    permalink: post.permalink,
    mediaType: post.mediaType,
    imageAlt: post.image?.alt ?? "",
    videoUrl: post.videoUrl ?? "",
    caption: post.caption,
    publishedAt: post.publishedAt ? post.publishedAt.toISOString().slice(0, 16) : "",
    status: post.status,
  };
}
