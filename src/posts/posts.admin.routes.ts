import { Router, type Request, type Response } from "express";
import { z } from "zod";
import type { Deps } from "../deps.js";
import { AppError } from "../http/errors.js";
import { filesOf, multipartForm } from "../http/uploads.js";
import { urlFor } from "../http/urls.js";
import { validate, zodDetails } from "../http/validate.js";
import { wantsJson } from "../http/wants-json.js";
import { formatMoney } from "../i18n/format.js";
import type { Locale } from "../i18n/translate.js";
import { MAX_IMAGE_BYTES, storeImage } from "../media/media.service.js";
import { formNumber, PostEditForm, PostForm, postFormToInput, postToForm, TagForm, type PostFormT, type TagFormT } from "./posts.form.js";
import { AdminPostListQuery, MEDIA_TYPES, PLATFORMS, POST_STATUSES, PostIdParams, PostInput, PostPatch, ProductSearchQuery, TAG_WARN_LIMIT, TagIdParams, TagInput, TagPatch, type MediaType, type PostInputT, type PostPatchT, type TagInputT, type TagPatchT } from "./posts.schema.js";
import { createPost, deletePost, getPostForEditing, listPostsForAdmin, missingMedia, updatePost } from "./posts.service.js";
import { captionExcerpt, timeLabel } from "./posts.view.js";
import { addTag, deleteTag, findProductByReference, getTagHealth, searchTaggableProducts, updateTag, type ResolvedTag, type TagHealthRow } from "./tags.service.js";

type T = (key: string, vars?: Record<string, unknown>) => string;
interface Problem {
  field: string;
  message: string;
}

const NOTICES = ["added", "moved", "updated", "removed"] as const;
const EditQuery = z.object({ saved: z.enum(["1"]).optional().catch(undefined), tag: z.enum(NOTICES).optional().catch(undefined), lang: z.enum(["en", "fa"]).optional() });
const HealthQuery = z.object({ fixed: z.enum(["1"]).optional().catch(undefined), lang: z.enum(["en", "fa"]).optional() });
const ConfirmForm = z.strictObject({ _csrf: z.string().optional() });
/** Where a tag form sends the admin back to: the post (default) or Tag health. */
const ReturnTo = z.enum(["post", "health"]).catch("post");

/** /admin/posts: list, create, edit and delete posts; place, move and remove tags; Tag health. */
export function postsAdminRoutes(deps: Deps) {
  const router = Router();
  const upload = multipartForm({
    fields: [
      { name: "image", maxCount: 1 },
      { name: "poster", maxCount: 1 },
    ],
    maxFileBytes: MAX_IMAGE_BYTES,
  });
  const actor = (res: Response) => ({ type: "admin" as const, id: (res.locals.admin as { id: string }).id });
  const localeOf = (res: Response) => res.locals.locale as Locale;

  router.get("/", validate({ query: AdminPostListQuery }), async (req, res) => {
    const { status, page } = req.valid.query as z.infer<typeof AdminPostListQuery>;
    const t = res.locals.t as T;
    const list = await listPostsForAdmin(deps, { status, page, limit: 30, locale: localeOf(res) });
    const now = deps.now();
    res.render("admin/posts", {
      layout: "admin",
      nav: "posts",
      title: t("posts.admin.title"),
      status: status ?? "",
      statuses: POST_STATUSES.map((s) => ({ value: s, count: list.counts[s] ?? 0, current: s === status })),
      total: Object.values(list.counts).reduce((a, b) => a + b, 0),
      nextPage: list.hasMore ? page + 1 : null,
      posts: list.posts.map((p) => ({
        ...p,
        platformLabel: t(`platform.${p.platform}`),
        excerpt: captionExcerpt(p.caption, 80),
        scheduled: p.status === "published" && p.publishedAt !== null && p.publishedAt > now,
      })),
    });
  });

  router.get("/new", async (_req, res) => {
    await renderPostForm(res, { form: postToForm(null), problems: [], post: null });
  });

  router.post("/", upload, async (req, res) => {
    const id = await savePostForm(req, res, null);
    if (id) res.redirect(303, `${urlFor(req, `/admin/posts/${id}`)}?saved=1`);
  });

  router.get("/tag-health", validate({ query: HealthQuery }), async (req, res) => {
    const t = res.locals.t as T;
    const health = await getTagHealth(deps, { locale: localeOf(res) });
    res.render("admin/posts-tag-health", {
      layout: "admin",
      nav: "posts",
      title: t("tags.health.title"),
      fixed: req.valid.query.fixed === "1",
      health,
      rows: health.rows.map((row) => healthRow(row, t, localeOf(res))),
    });
  });

  // JSON for the tag editor's search box. GET with the admin's session; no writes.
  router.get("/product-search", validate({ query: ProductSearchQuery }), async (req, res) => {
    const products = await searchTaggableProducts(deps, { q: req.valid.query.q, locale: localeOf(res) });
    res.json({
      data: products.map((p) => ({
        ...p,
        variants: p.variants.map((v) => ({ ...v, price: formatMoney(v.priceMinor, v.currency, localeOf(res)) })),
      })),
    });
  });

  router.get("/:id", validate({ params: PostIdParams, query: EditQuery }), async (req, res) => {
    const post = await getPostForEditing(deps, { id: req.valid.params.id, locale: localeOf(res) });
    if (!post) throw AppError.notFound("post");
    const q = req.valid.query as z.infer<typeof EditQuery>;
    await renderPostForm(res, { form: postToForm(post), problems: [], post, saved: q.saved === "1", notice: q.tag });
  });

  router.post("/:id", validate({ params: PostIdParams }), upload, async (req, res) => {
    const id = await savePostForm(req, res, req.valid.params.id);
    if (id) res.redirect(303, `${urlFor(req, `/admin/posts/${id}`)}?saved=1`);
  });

  router.get("/:id/delete", validate({ params: PostIdParams }), async (req, res) => {
    const post = await getPostForEditing(deps, { id: req.valid.params.id, locale: localeOf(res) });
    if (!post) throw AppError.notFound("post");
    res.render("admin/posts-delete", { layout: "admin", nav: "posts", title: (res.locals.t as T)("posts.admin.deleteTitle"), post, excerpt: captionExcerpt(post.caption, 120) });
  });

  router.post("/:id/delete", validate({ params: PostIdParams, body: ConfirmForm }), async (req, res) => {
    await deletePost(deps, { id: req.valid.params.id, actor: actor(res) });
    res.redirect(303, `${urlFor(req, "/admin/posts")}`);
  });

  router.post("/:id/tags", validate({ params: PostIdParams }), async (req, res) => {
    const postId = req.valid.params.id as string;
    const back = ReturnTo.parse((req.body as Record<string, unknown> | undefined)?.return);
    try {
      const tag = await tagInputFrom(req.body, "add");
      const result = await addTag(deps, { postId, tag: tag as TagInputT, actor: actor(res) });
      if (wantsJson(req)) {
        res.status(result.moved ? 200 : 201).json({ data: result.tag, moved: result.moved, count: result.count, warning: result.warning });
        return;
      }
      res.redirect(303, `${urlFor(req, `/admin/posts/${postId}`)}?tag=${result.moved ? "moved" : "added"}#tags`);
    } catch (err) {
      await answerTagError(req, res, err, { postId, tagId: null, back });
    }
  });

  router.post("/:id/tags/:tagId", validate({ params: TagIdParams }), async (req, res) => {
    const { id: postId, tagId } = req.valid.params as { id: string; tagId: string };
    const back = ReturnTo.parse((req.body as Record<string, unknown> | undefined)?.return);
    try {
      const patch = await tagInputFrom(req.body, "update");
      const result = await updateTag(deps, { postId, tagId, patch: patch as TagPatchT, actor: actor(res) });
      if (wantsJson(req)) {
        res.json({ data: result.tag, count: result.count, warning: result.warning });
        return;
      }
      res.redirect(303, back === "health" ? `${urlFor(req, "/admin/posts/tag-health")}?fixed=1` : `${urlFor(req, `/admin/posts/${postId}`)}?tag=updated#tags`);
    } catch (err) {
      await answerTagError(req, res, err, { postId, tagId, back });
    }
  });

  router.post("/:id/tags/:tagId/delete", validate({ params: TagIdParams }), async (req, res) => {
    const { id: postId, tagId } = req.valid.params as { id: string; tagId: string };
    const body = TagForm.pick({ _csrf: true }).extend({ return: ReturnTo.optional() }).strict().safeParse(req.body ?? {});
    if (!body.success) throw AppError.validation("Unexpected fields in the form.", zodDetails(body.error));
    await deleteTag(deps, { postId, tagId, actor: actor(res) });
    if (wantsJson(req)) {
      res.json({ data: { id: tagId } });
      return;
    }
    res.redirect(303, body.data.return === "health" ? `${urlFor(req, "/admin/posts/tag-health")}?fixed=1` : `${urlFor(req, `/admin/posts/${postId}`)}?tag=removed#tags`);
  });

  /**
   * The tag forms post strings; the tag editor's script posts the same fields.
   * Returns TagInput (add) or TagPatch (update) values, or throws a 400 that
   * names each field.
   */
  async function tagInputFrom(body: unknown, mode: "add" | "update"): Promise<TagInputT | TagPatchT> {
    const { return: _return, ...rest } = (body ?? {}) as Record<string, unknown>;
    const form = TagForm.safeParse(rest);
    if (!form.success) throw AppError.validation(`Invalid tag form: ${zodDetails(form.error).map((d) => `${d.field}: ${d.message}`).join("; ")}`, zodDetails(form.error));
    const f: TagFormT = form.data;
    const out: Record<string, unknown> = {};
    if (f.productId) out.productId = f.productId;
    else if (f.product?.trim()) {
      const found = await findProductByReference(deps, { reference: f.product });
      if (!found) {
        const message = `no product with the SKU or URL slug "${f.product.trim()}".`;
        throw AppError.validation(`product: ${message}`, [{ field: "product", message }]);
      }
      out.productId = found.productId;
      if (found.variantId && !f.variantId) out.variantId = found.variantId;
    } else if (mode === "add") {
      throw AppError.validation("product: choose the product to tag.", [{ field: "product", message: "choose the product to tag." }]);
    }
    if (f.variantId !== undefined && out.variantId === undefined) out.variantId = f.variantId || null;
    for (const key of ["x", "y", "startSec", "endSec"] as const) {
      if (f[key] === undefined) continue;
      const n = formNumber(f[key]!);
      if (n !== undefined) out[key] = n;
      else if (key === "endSec" && mode === "update") out.endSec = null;
    }
    const parsed = (mode === "add" ? TagInput : TagPatch).safeParse(out);
    if (!parsed.success) {
      const details = zodDetails(parsed.error);
      throw AppError.validation(details.map((d) => `${d.field}: ${d.message}`).join(" "), details);
    }
    return parsed.data;
  }

  /** JSON callers get the error as JSON; the no-JS form gets the edit page again with the problems and what was typed. */
  async function answerTagError(req: Request, res: Response, err: unknown, ctx: { postId: string; tagId: string | null; back: "post" | "health" }) {
    if (!(err instanceof AppError) || err.status >= 500 || wantsJson(req) || err.status === 404) throw err;
    const post = await getPostForEditing(deps, { id: ctx.postId, locale: localeOf(res) });
    if (!post) throw AppError.notFound("post");
    const problems = problemsOf(err);
    const { return: _back, ...typed } = (req.body ?? {}) as Record<string, unknown>;
    const values = TagForm.safeParse(typed);
    await renderPostForm(res.status(err.status), {
      form: postToForm(post),
      problems: [],
      post,
      tagError: { tagId: ctx.tagId, problems, values: values.success ? values.data : {} },
    });
  }

  /**
   * Validates the whole form before storing anything; images are re-encoded
   * only once the rest is valid. Returns the post id, or renders the form
   * again (4xx) with every problem and the typed values.
   */
  async function savePostForm(req: Request, res: Response, id: string | null): Promise<string | null> {
    const existing = id ? await getPostForEditing(deps, { id, locale: localeOf(res) }) : null;
    if (id && !existing) throw AppError.notFound("post");
    // Editing changes the fields the form posts and nothing else; a new post starts from the defaults.
    const form = (existing ? PostEditForm : PostForm).safeParse(req.body ?? {});
    const shown = (typed: Partial<PostFormT>): PostFormT => ({ ...postToForm(existing), ...typed });
    if (!form.success) {
      await renderPostForm(res.status(400), { form: postToForm(existing), problems: zodDetails(form.error), post: existing });
      return null;
    }
    const typed = form.data as Partial<PostFormT>;
    const parsed = (existing ? PostPatch : PostInput).safeParse(postFormToInput(typed));
    const images = filesOf(req, "image");
    const posters = filesOf(req, "poster");
    const input = (parsed.success ? parsed.data : {}) as PostPatchT;
    const after = {
      status: input.status ?? existing?.status ?? "published",
      mediaType: (input.mediaType ?? existing?.mediaType ?? "image") as MediaType,
      videoUrl: input.videoUrl !== undefined ? input.videoUrl : (existing?.videoUrl ?? null),
      mediaId: existing?.mediaId,
      posterId: existing?.posterId,
    };
    const problems: Problem[] = parsed.success ? missingMedia(after, { image: images.length > 0, poster: posters.length > 0 }) : zodDetails(parsed.error);
    if (!parsed.success || problems.length > 0) {
      await renderPostForm(res.status(400), { form: shown(typed), problems, post: existing });
      return null;
    }
    try {
      const alt = input.imageAlt ?? existing?.image?.alt ?? "";
      const uploaded: { mediaId?: string; posterId?: string } = {};
      if (images[0]) uploaded.mediaId = (await storeImage(deps, { bytes: images[0].buffer, alt, field: "image" })).id;
      if (posters[0]) uploaded.posterId = (await storeImage(deps, { bytes: posters[0].buffer, alt, field: "poster" })).id;
      const saved = existing
        ? await updatePost(deps, { id: existing.id, patch: { ...input, ...uploaded }, actor: actor(res) })
        : await createPost(deps, { post: { ...(input as PostInputT), mediaId: uploaded.mediaId ?? null, posterId: uploaded.posterId ?? null }, actor: actor(res) });
      return saved.id;
    } catch (err) {
      if (!(err instanceof AppError) || err.status >= 500) throw err;
      await renderPostForm(res.status(err.status), { form: shown(typed), problems: problemsOf(err), post: existing });
      return null;
    }
  }

  async function renderPostForm(
    res: Response,
    view: {
      form: PostFormT;
      problems: Problem[];
      post: Awaited<ReturnType<typeof getPostForEditing>>;
      saved?: boolean;
      notice?: (typeof NOTICES)[number];
      tagError?: { tagId: string | null; problems: Problem[]; values: TagFormT };
    },
  ) {
    const t = res.locals.t as T;
    const locale = localeOf(res);
    const { post, form } = view;
    const errors = Object.fromEntries(view.problems.map((p) => [p.field, p.message]));
    const pct = (v: number | null) => Math.round((v ?? 0) * 100);
    const tags = (post?.editableTags ?? []).map((tag) => ({
      ...tag,
      stateLabel: t(`tags.state.${tag.state}`),
      problemText: tag.problem ? problemText(tag, t) : null,
      priceLabel: tag.offer ? formatMoney(tag.offer.priceMinor, tag.offer.currency, locale) : null,
      time: timeLabel(tag, locale),
      pinLabel: t("tags.editor.pin", { n: tag.number, title: tag.title, x: pct(tag.x), y: pct(tag.y) }),
      error: view.tagError?.tagId === tag.id ? view.tagError.problems : null,
    }));
    const newTagError = view.tagError && view.tagError.tagId === null ? view.tagError : null;
    // A missing position is one problem in the admin's language ("click the photo"), not two about x and y.
    const newTagProblems = localTagProblems(newTagError?.problems ?? [], t);
    const newTagErrors: Record<string, string> = Object.fromEntries(newTagProblems.map((p) => [p.field, p.message]));
    const mediaType = (post?.mediaType ?? "image") as MediaType;
    res.render("admin/posts-form", {
      layout: "admin",
      nav: "posts",
      title: post ? t("post.title", { platform: t(`platform.${post.platform}`) }) : t("posts.admin.new"),
      postId: post?.id ?? null,
      post,
      publicUrl: post && post.status === "published" ? urlFor(res.req, `/posts/${post.id}`) : null,
      saved: view.saved,
      notice: view.notice ? t(`tags.editor.${view.notice}`) : null,
      v: form,
      problems: view.problems,
      errors,
      platforms: PLATFORMS.map((p) => ({ value: p, label: t(`platform.${p}`), selected: p === form.platform })),
      statuses: POST_STATUSES.map((s) => ({ value: s, selected: s === form.status })),
      mediaTypes: MEDIA_TYPES.map((m) => ({ value: m, checked: m === (form.mediaType || "image") })),
      isVideo: form.mediaType === "video",
      uploadAction: `${urlFor(res.req, post ? `/admin/posts/${post.id}` : "/admin/posts")}?_csrf=${encodeURIComponent(res.locals.csrfToken as string)}`,
      tags,
      isImagePost: mediaType === "image",
      tagWarning: tags.length > TAG_WARN_LIMIT[mediaType] ? t(`tags.warn.${mediaType}`, { count: tags.length }) : null,
      newTag: {
        values: newTagError?.values ?? {},
        problems: newTagProblems,
        errors: newTagErrors,
        productError: newTagErrors.product ?? newTagErrors.productId ?? newTagErrors.variantId ?? null,
      },
      editor: {
        tagsUrl: post ? urlFor(res.req, `/admin/posts/${post.id}/tags`) : "",
        searchUrl: urlFor(res.req, "/admin/posts/product-search"),
        msgPlaced: t("tags.editor.placed", { x: "{x}", y: "{y}" }),
        msgPin: t("tags.editor.pin", { n: "{n}", title: "{title}", x: "{x}", y: "{y}" }),
        msgNewPin: t("tags.editor.newPin", { x: "{x}", y: "{y}" }),
        msgSaving: t("tags.editor.saving"),
        msgSaved: t("tags.editor.savedAt", { n: "{n}", x: "{x}", y: "{y}" }),
        msgFailed: t("tags.editor.failed", { message: "{message}" }),
        msgResults: t("tags.editor.results", { count: "{count}" }),
        msgResultsOne: t("tags.editor.results", { count: 1 }),
        msgNoResults: t("tags.editor.noResults"),
        msgChosen: t("tags.editor.chosen", { title: "{title}" }),
        msgNeedPosition: t("tags.editor.needPosition"),
        msgAnyVariant: t("tags.editor.anyVariant"),
        msgDraft: t("tags.editor.draft"),
        msgSoldOut: t("product.soldOut"),
      },
    });
  }

  return router;
}

/**
 * An error's problems, one per field. With a single field the error's own
 * message is the clearest sentence (detail messages of shared helpers such as
 * storeImage are terse), minus its "field: " prefix.
 */
const FIELD_LABELS: Record<string, string> = { x: "tags.editor.x", y: "tags.editor.y", startSec: "tags.editor.startSec", endSec: "tags.editor.endSec", productId: "tags.editor.product", product: "tags.editor.product", variantId: "tags.editor.variant" };

/** Tag problems for the page: known ones in words, each labelled with the field's name on the form. */
function localTagProblems(problems: (Problem & { code?: string })[], t: T): (Problem & { label: string })[] {
  const out: (Problem & { label: string })[] = [];
  for (const p of problems) {
    if (p.code === "position_missing") {
      if (!out.some((o) => o.message === t("tags.editor.needPosition"))) out.push({ field: "x", message: t("tags.editor.needPosition"), label: "" });
      continue;
    }
    out.push({ ...p, label: FIELD_LABELS[p.field] ? t(FIELD_LABELS[p.field]!) : "" });
  }
  return out;
}

function problemsOf(err: AppError): Problem[] {
  const details = Array.isArray(err.details) ? (err.details as Problem[]).filter((d) => d && typeof d.field === "string") : [];
  if (details.length === 0) return [{ field: "form", message: err.message }];
  if (details.length === 1) return [{ ...details[0]!, message: err.message.replace(`${details[0]!.field}: `, "") }];
  return details;
}

function problemText(tag: ResolvedTag, t: T): string {
  return t(`tags.problem.${tag.problem}`, { title: tag.title, sku: tag.variant?.sku ?? "", alt: tag.alternative ? `${tag.alternative.label} (${tag.alternative.sku})` : "" });
}

function healthRow(row: TagHealthRow, t: T, locale: Locale) {
  const { tag } = row;
  const alt = row.retagTo ? `${row.retagTo.label} (${row.retagTo.sku})` : "";
  return {
    ...row,
    problemText: problemText(tag, t),
    fixText: t(`tags.fix.${tag.problem}`, { sku: tag.variant?.sku ?? "", alt }),
    retagLabel: row.retagTo ? t("tags.health.retag", { label: row.retagTo.label }) : null,
    retagPrice: row.retagTo ? formatMoney(row.retagTo.offer.priceMinor, row.retagTo.offer.currency, locale) : null,
    excerpt: captionExcerpt(row.post.caption, 60),
    canRestore: tag.problem === "product_archived" || tag.problem === "product_draft" || tag.problem === "no_variants",
  };
}
