import { Router, type Response } from "express";
import { z } from "zod";
import type { Deps } from "../deps.js";
import { AppError } from "../http/errors.js";
import { urlFor } from "../http/urls.js";
import { validate, zodDetails } from "../http/validate.js";
import { findProductByReference } from "../posts/tags.service.js";
import { EMPTY_LINK_FORM, LinkForm, linkFormToInput, LinkTrackingForm, type LinkFormT } from "./links.form.js";
import { LINK_TARGETS, LinkIdParams, LinkInput, LinkListQuery, LinkPatch, QrQuery } from "./links.schema.js";
import { createLink, getLink, listLinks, listLinkTargetChoices, updateLink } from "./links.service.js";
import { qrPng, qrSvg } from "./qr.js";

type T = (key: string, vars?: Record<string, unknown>) => string;
interface Problem {
  field: string;
  message: string;
}

const DetailQuery = z.object({ created: z.enum(["1"]).optional().catch(undefined), saved: z.enum(["1"]).optional().catch(undefined), lang: z.enum(["en", "fa"]).optional() });
const ConfirmForm = z.strictObject({ _csrf: z.string().optional() });
/** The form calls the product field "product" (a SKU or slug); the schema calls it productId. */
const FORM_FIELD: Record<string, string> = { productId: "product" };

/** Absolute short URL of a link, what people type or scan. */
export function shortUrl(res: Response, code: string): string {
  return `${res.locals.publicBase as string}/l/${code}`;
}

/** /admin/links: list with click counts, create, edit tracking labels, archive, QR codes. */
export function linksAdminRoutes(deps: Deps) {
  const router = Router();
  const actor = (res: Response) => ({ type: "admin" as const, id: (res.locals.admin as { id: string }).id });

  router.get("/", validate({ query: LinkListQuery }), async (req, res) => {
    const q = req.valid.query as z.infer<typeof LinkListQuery>;
    const form = { ...EMPTY_LINK_FORM };
    if (q.postId) Object.assign(form, { targetType: "post", postId: q.postId });
    if (q.productId) {
      const product = await deps.db.product.findUnique({ where: { id: q.productId }, select: { slug: true } });
      if (product) Object.assign(form, { targetType: "product", product: product.slug });
    }
    await renderList(res, { archived: q.archived === "1", page: q.page, form, problems: [] });
  });

  router.post("/", async (req, res) => {
    const parsed = LinkForm.safeParse(req.body ?? {});
    if (!parsed.success) {
      await renderList(res.status(400), { archived: false, page: 1, form: EMPTY_LINK_FORM, problems: zodDetails(parsed.error) });
      return;
    }
    const form = parsed.data;
    const problems: Problem[] = [];
    let productId: string | null = null;
    if (form.targetType === "product" && form.product.trim()) {
      productId = (await findProductByReference(deps, { reference: form.product }))?.productId ?? null;
      if (!productId) problems.push({ field: "product", message: `No product with the SKU or URL slug "${form.product.trim()}".` });
    }
    const input = LinkInput.safeParse(linkFormToInput(form, productId));
    if (!input.success) problems.push(...zodDetails(input.error).map((d) => ({ ...d, field: FORM_FIELD[d.field] ?? d.field })));
    if (problems.length > 0 || !input.success) {
      await renderList(res.status(400), { archived: false, page: 1, form, problems: dedupe(problems) });
      return;
    }
    try {
      const link = await createLink(deps, { link: input.data, actor: actor(res) });
      res.redirect(303, `${urlFor(req, `/admin/links/${link.id}`)}?created=1`);
    } catch (err) {
      if (!(err instanceof AppError) || err.status >= 500) throw err;
      const details = Array.isArray(err.details) ? (err.details as Problem[]) : [{ field: "form", message: err.message }];
      await renderList(res.status(err.status), { archived: false, page: 1, form, problems: details.map((d) => ({ ...d, field: FORM_FIELD[d.field] ?? d.field, message: err.message })) });
    }
  });

  router.get("/:id", validate({ params: LinkIdParams, query: DetailQuery }), async (req, res) => {
    const q = req.valid.query as z.infer<typeof DetailQuery>;
    await renderDetail(res, { id: req.valid.params.id, created: q.created === "1", saved: q.saved === "1", problems: [] });
  });

  router.post("/:id", validate({ params: LinkIdParams }), async (req, res) => {
    const id = req.valid.params.id as string;
    const form = LinkTrackingForm.safeParse(req.body ?? {});
    const { _csrf, ...fields } = form.success ? form.data : { _csrf: undefined };
    const patch = form.success ? LinkPatch.safeParse(fields) : null;
    if (!form.success || !patch?.success) {
      const problems = !form.success ? zodDetails(form.error) : zodDetails(patch!.error!);
      await renderDetail(res.status(400), { id, problems });
      return;
    }
    await updateLink(deps, { id, patch: patch.data, actor: actor(res) });
    res.redirect(303, `${urlFor(req, `/admin/links/${id}`)}?saved=1`);
  });

  for (const [action, archived] of [
    ["archive", true],
    ["restore", false],
  ] as const) {
    router.post(`/:id/${action}`, validate({ params: LinkIdParams, body: ConfirmForm }), async (req, res) => {
      await updateLink(deps, { id: req.valid.params.id, patch: { archived }, actor: actor(res) });
      res.redirect(303, `${urlFor(req, `/admin/links/${req.valid.params.id}`)}?saved=1`);
    });
  }

  router.get("/:id/qr.svg", validate({ params: LinkIdParams, query: QrQuery }), async (req, res) => {
    const link = await getLink(deps, { id: req.valid.params.id });
    if (!link) throw AppError.notFound("link");
    sendQr(res, { code: link.code, kind: "svg", download: req.valid.query.download === "1", body: await qrSvg(shortUrl(res, link.code)) });
  });

  router.get("/:id/qr.png", validate({ params: LinkIdParams, query: QrQuery }), async (req, res) => {
    const link = await getLink(deps, { id: req.valid.params.id });
    if (!link) throw AppError.notFound("link");
    sendQr(res, { code: link.code, kind: "png", download: req.valid.query.download === "1", body: await qrPng(shortUrl(res, link.code), req.valid.query.size) });
  });

  async function renderList(res: Response, view: { archived: boolean; page: number; form: LinkFormT; problems: Problem[] }) {
    const t = res.locals.t as T;
    const [list, choices] = await Promise.all([listLinks(deps, { archived: view.archived, page: view.page, limit: 50 }), listLinkTargetChoices(deps)]);
    const f = view.form;
    res.render("admin/links", {
      layout: "admin",
      nav: "links",
      title: t("links.title"),
      archived: view.archived,
      archivedParam: view.archived ? "1" : undefined,
      list,
      links: list.links.map((l) => ({ ...l, shortUrl: shortUrl(res, l.code), targetLabel: t(`links.target.${l.target.type}`) })),
      nextPage: list.hasMore ? view.page + 1 : null,
      v: f,
      problems: view.problems,
      errors: Object.fromEntries(view.problems.map((p) => [p.field, p.message])),
      targetTypes: LINK_TARGETS.map((type) => ({ value: type, checked: type === (f.targetType || "product") })),
      posts: choices.posts.map((p) => ({ ...p, label: `${t(`platform.${p.platform}`)} · ${p.caption.replace(/\s+/g, " ").slice(0, 60) || p.id}`, selected: p.id === f.postId })),
      collections: choices.collections.map((c) => ({ ...c, selected: c.id === f.collectionId })),
      liveSessions: choices.liveSessions.map((s) => ({ ...s, selected: s.id === f.liveSessionId, duringSelected: s.id === f.duringLiveSessionId })),
      shortBase: `${res.locals.publicBase as string}/l/`,
    });
  }

  async function renderDetail(res: Response, view: { id: string; created?: boolean; saved?: boolean; problems: Problem[] }) {
    const link = await getLink(deps, { id: view.id });
    if (!link) throw AppError.notFound("link");
    const t = res.locals.t as T;
    const url = shortUrl(res, link.code);
    res.render("admin/links-detail", {
      layout: "admin",
      nav: "links",
      title: `/l/${link.code}`,
      link,
      shortLink: url,
      targetLabel: t(`links.target.${link.target.type}`),
      created: view.created,
      saved: view.saved,
      problems: view.problems,
      errors: Object.fromEntries(view.problems.map((p) => [p.field, p.message])),
    });
  }

  return router;
}

/** QR images: inline for the admin page, or as a download named after the code. */
export function sendQr(res: Response, input: { code: string; kind: "svg" | "png"; download: boolean; body: string | Buffer }) {
  res.set({
    "Content-Type": input.kind === "svg" ? "image/svg+xml; charset=utf-8" : "image/png",
    "Cache-Control": "private, max-age=3600",
    ...(input.download ? { "Content-Disposition": `attachment; filename="bazaarche-${input.code}.${input.kind}"` } : {}),
  });
  res.send(input.body);
}

function dedupe(problems: Problem[]): Problem[] {
  const seen = new Set<string>();
  return problems.filter((p) => (seen.has(p.field) ? false : (seen.add(p.field), true)));
}
