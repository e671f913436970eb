import express, { Router, type Request, type Response } from "express";
import { z } from "zod";
import type { Deps } from "../deps.js";
import { AppError } from "../http/errors.js";
import { validate } from "../http/validate.js";
import type { Locale } from "../i18n/translate.js";
import { MAX_IMAGE_BYTES, storeImage } from "../media/media.service.js";
import { ApiPostListQuery, PostIdParams, PostInput, PostPatch, TagIdParams, TagInput, TagPatch } from "./posts.schema.js";
import { createPost, deletePost, getPostForApi, listPostsForApi, updatePost } from "./posts.service.js";
import { addTag, deleteTag, getTagHealth, updateTag } from "./tags.service.js";

const LangQuery = z.strictObject({ lang: z.enum(["en", "fa"], { message: "en or fa." }).optional() });
const ImageQuery = z.strictObject({ alt: z.string().trim().max(300, "At most 300 characters.").optional() });

/**
 * /api/v1/posts (JSON, Bearer token): posts, their tags and Tag health.
 * Images are uploaded as the raw request body (Content-Type image/*), which
 * keeps JSON bodies small and needs no multipart client.
 */
export function postsApiRoutes(deps: Deps) {
  const router = Router();
  const actor = (res: Response) => ({ type: "api" as const, id: (res.locals.apiToken as { id: string }).id });
  const lang = (req: Request): Locale => ((req.query.lang as Locale | undefined) === "fa" ? "fa" : (req.query.lang as Locale | undefined) === "en" ? "en" : deps.shop.locale);
  const rawImage = express.raw({ type: "image/*", limit: MAX_IMAGE_BYTES });

  router.get("/posts", validate({ query: ApiPostListQuery }), async (req, res) => {
    const q = req.valid.query as z.infer<typeof ApiPostListQuery>;
    const list = await listPostsForApi(deps, { status: q.status, page: q.page, limit: q.limit, locale: lang(req) });
    res.json({ data: list.data, total: list.total, nextPage: list.hasMore ? q.page + 1 : null });
  });

  router.post("/posts", validate({ body: PostInput }), async (req, res) => {
    const post = await createPost(deps, { post: req.valid.body, actor: actor(res) });
    res.status(201).location(`${req.baseUrl}/posts/${post.id}`).json({ data: await getPostForApi(deps, { id: post.id, locale: lang(req) }) });
  });

  router.get("/posts/tag-health", validate({ query: LangQuery }), async (req, res) => {
    const health = await getTagHealth(deps, { locale: lang(req) });
    res.json({
      data: {
        total: health.total,
        broken: health.broken,
        warnings: health.warnings,
        problems: health.rows.map((r) => ({
          tagId: r.tag.id,
          postId: r.post.id,
          productId: r.tag.productId,
          variantId: r.tag.variantId,
          title: r.tag.title,
          severity: r.severity,
          problem: r.tag.problem,
          suggestedVariantId: r.retagTo?.id ?? null,
        })),
      },
    });
  });

  router.get("/posts/:id", validate({ params: PostIdParams, query: LangQuery }), async (req, res) => {
    const post = await getPostForApi(deps, { id: req.valid.params.id, locale: lang(req) });
    if (!post) throw AppError.notFound("post");
    res.json({ data: post });
  });

  router.patch("/posts/:id", validate({ params: PostIdParams, body: PostPatch }), async (req, res) => {
    await updatePost(deps, { id: req.valid.params.id, patch: req.valid.body, actor: actor(res) });
    res.json({ data: await getPostForApi(deps, { id: req.valid.params.id, locale: lang(req) }) });
  });

  router.delete("/posts/:id", validate({ params: PostIdParams }), async (req, res) => {
    res.json({ data: await deletePost(deps, { id: req.valid.params.id, actor: actor(res) }) });
  });

  // PUT /posts/:id/image (the photo) or /poster (a video's still), body = the image bytes.
  for (const kind of ["image", "poster"] as const) {
    router.put(`/posts/:id/${kind}`, validate({ params: PostIdParams, query: ImageQuery }), rawImage, async (req, res) => {
      if (!Buffer.isBuffer(req.body) || req.body.length === 0) {
        throw new AppError("unsupported_media_type", 415, `Send the ${kind} as the request body with Content-Type image/jpeg, image/png, image/webp or image/avif.`);
      }
      const existing = await deps.db.post.findUnique({ where: { id: req.valid.params.id }, select: { mediaType: true } });
      if (!existing) throw AppError.notFound("post");
      if ((kind === "image") !== (existing.mediaType === "image")) {
        throw AppError.conflict(`This is ${existing.mediaType === "image" ? "an image" : "a video"} post; upload its ${existing.mediaType === "image" ? "image" : "poster"} instead.`);
      }
      const media = await storeImage(deps, { bytes: req.body, alt: req.valid.query.alt, field: kind });
      const patch = kind === "image" ? { mediaId: media.id } : { posterId: media.id };
      await updatePost(deps, { id: req.valid.params.id, patch: { ...patch, ...(req.valid.query.alt !== undefined ? { imageAlt: req.valid.query.alt } : {}) }, actor: actor(res) });
      res.json({ data: await getPostForApi(deps, { id: req.valid.params.id, locale: lang(req) }) });
    });
  }

  router.post("/posts/:id/tags", validate({ params: PostIdParams, body: TagInput }), async (req, res) => {
    const result = await addTag(deps, { postId: req.valid.params.id, tag: req.valid.body, actor: actor(res) });
    res.status(result.moved ? 200 : 201).json({ data: result.tag, moved: result.moved, count: result.count, warning: result.warning });
  });

  router.patch("/posts/:id/tags/:tagId", validate({ params: TagIdParams, body: TagPatch }), async (req, res) => {
    const result = await updateTag(deps, { postId: req.valid.params.id, tagId: req.valid.params.tagId, patch: req.valid.body, actor: actor(res) });
    res.json({ data: result.tag, count: result.count, warning: result.warning });
  });

  router.delete("/posts/:id/tags/:tagId", validate({ params: TagIdParams }), async (req, res) => {
    res.json({ data: await deleteTag(deps, { postId: req.valid.params.id, tagId: req.valid.params.tagId, actor: actor(res) }) });
  });

  return router;
}
