import { recordAudit, type Actor } from "../audit/audit.service.js";
import type { Prisma } from "../db/client.js";
import type { Deps } from "../deps.js";
import { AppError } from "../http/errors.js";
import type { Locale } from "../i18n/translate.js";
import { readPostsById, readPublicPosts, readTags, type PostRow } from "./posts.queries.js";
import type { MediaType, Platform, PostInputT, PostPatchT } from "./posts.schema.js";
import { loadTagCatalog, resolvePostTags, resolveTag, tagLimitWarning, type ImageRef, type ResolvedTag } from "./tags.service.js";

/** A post as pages show it: its picture (photo, or a video's poster) and its resolved tags. */
export interface PostView {
  id: string;
  platform: Platform;
  permalink: string;
  mediaType: MediaType;
  videoUrl: string | null;
  caption: string;
  status: string;
  publishedAt: Date | null;
  createdAt: Date;
  image: ImageRef | null;
  tags: ResolvedTag[];
}

/** Eight rows of three on a phone; the next page loads on demand. */
export const GALLERY_PAGE_SIZE = 24;
/** The in-stock filter reads posts in chunks of this many until a page is full. */
const FILTER_CHUNK = 120;
/** …and gives up after this many posts, so one request stays cheap. */
const FILTER_SCAN_LIMIT = 1200;

function imageOf(row: PostRow): ImageRef | null {
  if (row.mediaType === "image" && row.mediaKey) {
    return { storageKey: row.mediaKey, width: row.mediaWidth!, height: row.mediaHeight!, alt: row.mediaAlt ?? "" };
  }
  if (row.posterKey) return { storageKey: row.posterKey, width: row.posterWidth!, height: row.posterHeight!, alt: row.posterAlt ?? "" };
  return null;
}

function toView(row: PostRow, tags: ResolvedTag[]): PostView {
  return {
    id: row.id,
    platform: row.platform as Platform,
    permalink: row.permalink,
    mediaType: row.mediaType as MediaType,
    videoUrl: row.videoUrl,
    caption: row.caption,
    status: row.status,
    publishedAt: row.publishedAt,
    createdAt: row.createdAt,
    image: imageOf(row),
    tags,
  };
}

/** Posts with their tags resolved against the catalog: three statements for posts, tags and catalog, plus one for holds. */
async function withTags(deps: Deps, rows: PostRow[], locale: Locale, onlyVisible: boolean): Promise<PostView[]> {
  const tags = await readTags(deps.db, rows.map((r) => r.id));
  const byPost = await resolvePostTags(deps, { tags, locale });
  return rows.map((r) => {
    const list = byPost.get(r.id) ?? [];
    return toView(r, onlyVisible ? list.filter((t) => t.visible) : list);
  });
}

/**
 * The link-in-bio gallery: published posts, newest first, with the tags
 * shoppers may see. `available` keeps only posts with something in stock and
 * drops their sold-out tags. A fixed number of queries per page, whatever the
 * number of tags.
 */
export async function listGalleryPosts(
  deps: Deps,
  input: { locale: Locale; available?: boolean; collectionSlug?: string; page?: number; pageSize?: number },
) {
  const now = deps.now();
  const page = input.page ?? 1;
  const size = input.pageSize ?? GALLERY_PAGE_SIZE;
  let collection: { id: string; slug: string; title: string } | null = null;
  if (input.collectionSlug) {
    collection = await deps.db.collection.findUnique({ where: { slug: input.collectionSlug }, select: { id: true, slug: true, title: true } });
    if (!collection) throw AppError.notFound("collection");
  }
  const collectionId = collection?.id;

  if (!input.available) {
    const rows = await readPublicPosts(deps.db, { now, collectionId, limit: size + 1, offset: (page - 1) * size });
    const posts = await withTags(deps, rows.slice(0, size), input.locale, true);
    return { posts, hasMore: rows.length > size, collection };
  }

  // Stock is known only after offerFor has run over the tags, so the filter
  // cannot be SQL: read chunks until the requested page is full.
  const wanted = page * size + 1;
  const matches: PostView[] = [];
  for (let offset = 0; matches.length < wanted && offset < FILTER_SCAN_LIMIT; offset += FILTER_CHUNK) {
    const rows = await readPublicPosts(deps.db, { now, collectionId, limit: FILTER_CHUNK, offset });
    for (const post of await withTags(deps, rows, input.locale, true)) {
      const buyable = post.tags.filter((t) => t.buyable);
      if (buyable.length > 0) matches.push({ ...post, tags: buyable });
    }
    if (rows.length < FILTER_CHUNK) break;
  }
  return { posts: matches.slice((page - 1) * size, page * size), hasMore: matches.length > page * size, collection };
}

/** One post for its public page, or null when shoppers may not see it (draft, hidden, scheduled). */
export async function getPublicPost(deps: Deps, input: { id: string; locale: Locale }): Promise<PostView | null> {
  const [row] = await readPostsById(deps.db, [input.id]);
  if (!row || row.status !== "published" || (row.publishedAt && row.publishedAt > deps.now())) return null;
  const [post] = await withTags(deps, [row], input.locale, true);
  return post ?? null;
}

/** Admin list: every post with its tag count and how many tags are broken. */
export async function listPostsForAdmin(deps: Deps, input: { status?: string; page: number; limit: number; locale: Locale }) {
  const where = input.status ? { status: input.status } : {};
  const [ids, total, counts] = await Promise.all([
    deps.db.post.findMany({
      where,
      orderBy: [{ createdAt: "desc" }, { id: "desc" }],
      skip: (input.page - 1) * input.limit,
      take: input.limit + 1,
      select: { id: true },
    }),
    deps.db.post.count({ where }),
    deps.db.post.groupBy({ by: ["status"], _count: { _all: true } }),
  ]);
  const pageIds = ids.slice(0, input.limit).map((p) => p.id);
  const rows = new Map((await readPostsById(deps.db, pageIds)).map((r) => [r.id, r]));
  const posts = await withTags(
    deps,
    pageIds.map((id) => rows.get(id)!),
    input.locale,
    false,
  );
  return {
    posts: posts.map((p) => ({ ...p, brokenCount: p.tags.filter((t) => t.broken).length, soldOutCount: p.tags.filter((t) => t.state === "sold_out").length })),
    total,
    hasMore: ids.length > input.limit,
    counts: Object.fromEntries(counts.map((c) => [c.status, c._count._all])) as Record<string, number>,
  };
}

/** A post with every tag (hidden ones too) and, per tag, the variants it could point at. */
export async function getPostForEditing(deps: Deps, input: { id: string; locale: Locale }) {
  const [row] = await readPostsById(deps.db, [input.id]);
  if (!row) return null;
  const tags = await readTags(deps.db, [row.id]);
  const catalog = await loadTagCatalog(deps, { productIds: tags.flatMap((t) => (t.productId ? [t.productId] : [])), locale: input.locale });
  const raw = await deps.db.post.findUniqueOrThrow({ where: { id: row.id }, select: { mediaId: true, posterId: true } });
  const view = toView(
    row,
    tags.map((t) => resolveTag(t, catalog)),
  );
  return {
    ...view,
    mediaId: raw.mediaId,
    posterId: raw.posterId,
    warning: tagLimitWarning(view.mediaType, tags.length),
    editableTags: tags.map((t, i) => {
      const resolved = view.tags[i]!;
      const product = t.productId ? catalog.get(t.productId) : undefined;
      return {
        ...resolved,
        number: i + 1,
        variants: (product?.variants ?? []).filter((v) => !v.archived).map((v) => ({ id: v.id, label: v.label, sku: v.sku, selected: v.id === t.variantId })),
      };
    }),
  };
}

// ───────────────────────────── writes ─────────────────────────────

type Tx = Prisma.TransactionClient;

/**
 * What a post still lacks before shoppers can see it. A draft may be saved
 * half-done; a published post needs its picture (and a video its address).
 * `uploads` says which images arrive with the same request.
 */
export function missingMedia(
  post: { status: string; mediaType: MediaType; mediaId?: string | null; videoUrl?: string | null; posterId?: string | null },
  uploads: { image?: boolean; poster?: boolean } = {},
): { field: string; message: string }[] {
  if (post.status !== "published") return [];
  if (post.mediaType === "image") {
    return post.mediaId || uploads.image ? [] : [{ field: "image", message: "A published image post needs its photo: upload one, or save it as a draft." }];
  }
  const problems: { field: string; message: string }[] = [];
  if (!post.videoUrl) problems.push({ field: "videoUrl", message: "A published video post needs the video's address." });
  if (!post.posterId && !uploads.poster) problems.push({ field: "poster", message: "A published video post needs a poster image for the gallery." });
  return problems;
}

async function checkMediaIds(tx: Tx, post: { mediaId?: string | null; posterId?: string | null }) {
  for (const field of ["mediaId", "posterId"] as const) {
    const id = post[field];
    if (id && !(await tx.media.findUnique({ where: { id }, select: { id: true } }))) {
      throw AppError.validation(`${field}: no uploaded image with id ${id}.`, [{ field, message: `no uploaded image with id ${id}.` }]);
    }
  }
}

/** Sets the alt text of the post's picture (the photo, or the video's poster). */
async function saveAlt(tx: Tx, post: { mediaType: string; mediaId: string | null; posterId: string | null }, alt: string | undefined) {
  if (alt === undefined) return;
  const id = post.mediaType === "image" ? post.mediaId : post.posterId;
  if (id) await tx.media.update({ where: { id }, data: { alt } });
}

export async function createPost(deps: Deps, input: { post: PostInputT; actor: Actor }) {
  const p = input.post;
  const missing = missingMedia(p);
  if (missing.length) throw AppError.validation(missing.map((m) => `${m.field}: ${m.message}`).join(" "), missing);
  return deps.db.$transaction(async (tx) => {
    await checkMediaIds(tx, p);
    const post = await tx.post.create({
      data: {
        platform: p.platform,
        permalink: p.permalink,
        mediaType: p.mediaType,
        mediaId: p.mediaType === "image" ? (p.mediaId ?? null) : null,
        videoUrl: p.mediaType === "video" ? (p.videoUrl ?? null) : null,
        posterId: p.mediaType === "video" ? (p.posterId ?? null) : null,
        caption: p.caption.replace(/\r\n/g, "\n"),
        publishedAt: p.publishedAt ?? (p.status === "published" ? deps.now() : null),
        status: p.status,
      },
    });
    await saveAlt(tx, post, p.imageAlt);
    await recordAudit(tx, { actor: input.actor, action: "post.create", entityType: "post", entityId: post.id, details: { platform: post.platform, status: post.status } });
    return post;
  });
}

export async function updatePost(deps: Deps, input: { id: string; patch: PostPatchT; actor: Actor }) {
  return deps.db.$transaction(async (tx) => {
    const current = await tx.post.findUnique({ where: { id: input.id }, include: { tags: { select: { x: true, startSec: true } } } });
    if (!current) throw AppError.notFound("post");
    const p = input.patch;
    const merged = {
      platform: p.platform ?? current.platform,
      permalink: p.permalink ?? current.permalink,
      mediaType: (p.mediaType ?? current.mediaType) as MediaType,
      mediaId: p.mediaId !== undefined ? p.mediaId : current.mediaId,
      videoUrl: p.videoUrl !== undefined ? p.videoUrl : current.videoUrl,
      posterId: p.posterId !== undefined ? p.posterId : current.posterId,
      caption: (p.caption ?? current.caption).replace(/\r\n/g, "\n"),
      publishedAt: p.publishedAt !== undefined ? p.publishedAt : current.publishedAt,
      status: p.status ?? current.status,
    };
    if (merged.mediaType !== current.mediaType && current.tags.length > 0) {
      const where = current.mediaType === "image" ? "on the photo" : "at seconds of the video";
      const message = `this post has ${current.tags.length} tags placed ${where}; remove them before switching to ${merged.mediaType}.`;
      throw AppError.conflict(`mediaType: ${message}`, [{ field: "mediaType", message }]);
    }
    const missing = missingMedia(merged);
    if (missing.length) throw AppError.validation(missing.map((m) => `${m.field}: ${m.message}`).join(" "), missing);
    await checkMediaIds(tx, merged);
    if (merged.status === "published" && !merged.publishedAt) merged.publishedAt = deps.now();
    const post = await tx.post.update({
      where: { id: current.id },
      data: {
        ...merged,
        mediaId: merged.mediaType === "image" ? merged.mediaId : null,
        videoUrl: merged.mediaType === "video" ? merged.videoUrl : null,
        posterId: merged.mediaType === "video" ? merged.posterId : null,
      },
    });
    await saveAlt(tx, post, p.imageAlt);
    await recordAudit(tx, { actor: input.actor, action: "post.update", entityType: "post", entityId: post.id, details: { fields: Object.keys(p) } });
    return post;
  });
}

/** Deletes a post and its tags. Links to it stay (their clicks count) and send shoppers to the gallery. */
export async function deletePost(deps: Deps, input: { id: string; actor: Actor }) {
  return deps.db.$transaction(async (tx) => {
    const post = await tx.post.findUnique({ where: { id: input.id }, include: { _count: { select: { tags: true } } } });
    if (!post) throw AppError.notFound("post");
    await tx.post.delete({ where: { id: post.id } });
    await recordAudit(tx, { actor: input.actor, action: "post.delete", entityType: "post", entityId: post.id, details: { tags: post._count.tags, platform: post.platform } });
    return { id: post.id };
  });
}

/** A post for the JSON API: fields plus every tag with its live state. */
export async function getPostForApi(deps: Deps, input: { id: string; locale: Locale }) {
  const post = await getPostForEditing(deps, input);
  if (!post) return null;
  return toApiPost(post, post.editableTags, post.warning);
}

export async function listPostsForApi(deps: Deps, input: { status?: string; page: number; limit: number; locale: Locale }) {
  const list = await listPostsForAdmin(deps, input);
  return { data: list.posts.map((p) => toApiPost(p, p.tags, tagLimitWarning(p.mediaType, p.tags.length))), hasMore: list.hasMore, total: list.total };
}

function toApiPost(p: PostView, tags: ResolvedTag[], warning: string | null) {
  return {
    id: p.id,
    platform: p.platform,
    permalink: p.permalink,
    mediaType: p.mediaType,
    videoUrl: p.videoUrl,
    caption: p.caption,
    status: p.status,
    publishedAt: p.publishedAt,
    createdAt: p.createdAt,
    image: p.image,
    warning,
    tags: tags.map((t) => ({
      id: t.id,
      productId: t.productId,
      variantId: t.variantId,
      x: t.x,
      y: t.y,
      startSec: t.startSec,
      endSec: t.endSec,
      state: t.state,
      problem: t.problem,
      title: t.title,
      priceMinor: t.offer?.priceMinor ?? null,
      currency: t.offer?.currency ?? null,
      availability: t.offer?.availability ?? null,
      alternativeVariantId: t.alternative?.id ?? null,
    })),
  };
}
