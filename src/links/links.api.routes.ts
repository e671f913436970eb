import { Router, type Response } from "express";
import { z } from "zod";
import type { Deps } from "../deps.js";
import { AppError } from "../http/errors.js";
import { validate } from "../http/validate.js";
import { sendQr, shortUrl } from "./links.admin.routes.js";
import { ApiLinkListQuery, LinkIdParams, LinkInput, LinkPatch, QrQuery } from "./links.schema.js";
import { createLink, getLink, listLinks, updateLink } from "./links.service.js";
import { qrPng, qrSvg } from "./qr.js";

/** /api/v1/links (JSON, Bearer token): tracked links, their counts and QR codes. */
export function linksApiRoutes(deps: Deps) {
  const router = Router();
  const actor = (res: Response) => ({ type: "api" as const, id: (res.locals.apiToken as { id: string }).id });
  const withUrl = <L extends { code: string }>(res: Response, link: L) => ({ ...link, shortUrl: shortUrl(res, link.code) });

  router.get("/links", validate({ query: ApiLinkListQuery }), async (req, res) => {
    const q = req.valid.query as z.infer<typeof ApiLinkListQuery>;
    const list = await listLinks(deps, { archived: q.archived === "true", page: q.page, limit: q.limit });
    res.json({ data: list.links.map((l) => withUrl(res, l)), total: list.total, nextPage: list.hasMore ? q.page + 1 : null });
  });

  router.post("/links", validate({ body: LinkInput }), async (req, res) => {
    const link = await createLink(deps, { link: req.valid.body, actor: actor(res) });
    res.status(201).location(`${req.baseUrl}/links/${link.id}`).json({ data: withUrl(res, (await getLink(deps, { id: link.id }))!) });
  });

  router.get("/links/:id", validate({ params: LinkIdParams }), async (req, res) => {
    const link = await getLink(deps, { id: req.valid.params.id });
    if (!link) throw AppError.notFound("link");
    res.json({ data: withUrl(res, link) });
  });

  router.patch("/links/:id", validate({ params: LinkIdParams, body: LinkPatch }), async (req, res) => {
    await updateLink(deps, { id: req.valid.params.id, patch: req.valid.body, actor: actor(res) });
    res.json({ data: withUrl(res, (await getLink(deps, { id: req.valid.params.id }))!) });
  });

  router.get("/links/:id/qr.:kind", validate({ params: LinkIdParams.extend({ kind: z.enum(["svg", "png"], { message: "qr.svg or qr.png." }) }), query: QrQuery }), async (req, res) => {
    const link = await getLink(deps, { id: req.valid.params.id });
    if (!link) throw AppError.notFound("link");
    const url = shortUrl(res, link.code);
    const kind = req.valid.params.kind as "svg" | "png";
    sendQr(res, { code: link.code, kind, download: req.valid.query.download === "1", body: kind === "svg" ? await qrSvg(url) : await qrPng(url, req.valid.query.size) });
  });

  return router;
}
