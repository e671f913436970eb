import express, { Router } from "express";
import { z } from "zod";
import type { Deps } from "../deps.js";
import { AppError } from "../http/errors.js";
import { applyEdit, validate, zodDetails, zodMessage } from "../http/validate.js";
import { markInvalidBytes, NOT_UTF8 } from "../http/well-formed.js";
import { FollowerListQuery } from "../followers/followers.schema.js";
import { importFollowers, listFollowers } from "../followers/followers.service.js";
import { couponAsInput } from "./coupon-form.js";
import { CouponEdit, CouponInput, IssueCodesInput } from "./coupons.schema.js";
import { createCoupon, getCouponReport, issuePersonalCodes, listCoupons, setCouponStatus, updateCoupon } from "./coupons.service.js";

const IdParams = z.object({ id: z.string().min(1).max(64) });
const StatusBody = z.strictObject({ status: z.enum(["active", "disabled"]) });
const ImportQuery = z.object({ dryRun: z.enum(["true", "false"]).default("true").transform((v) => v === "true") });

/** /api/v1/coupons and /api/v1/followers (JSON, Bearer token). */
export function couponApiRoutes(deps: Deps) {
  const router = Router();
  const actor = (res: express.Response) => ({ type: "api" as const, id: (res.locals.apiToken as { id: string }).id });

  router.get("/coupons", async (_req, res) => {
    res.json({ data: await listCoupons(deps) });
  });
  router.post("/coupons", validate({ body: CouponInput }), async (req, res) => {
    const coupon = await createCoupon(deps, { coupon: req.valid.body, actor: actor(res) });
    res.status(201).json({ data: coupon });
  });
  router.get("/coupons/:id", validate({ params: IdParams }), async (req, res) => {
    const report = await getCouponReport(deps, { id: req.valid.params.id });
    if (!report) throw AppError.notFound("coupon");
    res.json({ data: report });
  });
  // The fields sent change; the rest keep their stored values, and the merged coupon is judged whole.
  router.put("/coupons/:id", validate({ params: IdParams, body: CouponEdit }), async (req, res) => {
    const report = await getCouponReport(deps, { id: req.valid.params.id });
    if (!report) throw AppError.notFound("coupon");
    const merged = CouponInput.safeParse(applyEdit(couponAsInput(report.coupon), req.body as Record<string, unknown>));
    if (!merged.success) throw AppError.validation(zodMessage(merged.error, "Invalid request body"), zodDetails(merged.error));
    res.json({ data: await updateCoupon(deps, { id: report.coupon.id, coupon: merged.data, actor: actor(res) }) });
  });
  router.patch("/coupons/:id/status", validate({ params: IdParams, body: StatusBody }), async (req, res) => {
    res.json({ data: await setCouponStatus(deps, { id: req.valid.params.id, status: req.valid.body.status, actor: actor(res) }) });
  });
  router.post("/coupons/:id/codes", validate({ params: IdParams, body: IssueCodesInput }), async (req, res) => {
    const issued = await issuePersonalCodes(deps, { couponId: req.valid.params.id, filter: req.valid.body, actor: actor(res) });
    res.status(201).json({ data: issued });
  });

  router.get("/followers", validate({ query: FollowerListQuery }), async (req, res) => {
    const list = await listFollowers(deps, { ...(req.valid.query as z.infer<typeof FollowerListQuery>), limit: 100 });
    res.json({ data: list.items.map(({ confirmTokenHash: _c, ...f }) => f), total: list.total, nextCursor: list.nextCursor ?? null });
  });
  // Raw bytes, not express.text(): that would turn bytes that are not UTF-8 into U+FFFD without a word.
  router.post("/followers/import", express.raw({ type: ["text/csv", "text/plain"], limit: "5mb" }), validate({ query: ImportQuery }), async (req, res) => {
    if (!Buffer.isBuffer(req.body) || req.body.length === 0) throw AppError.validation("Send the CSV as the request body with Content-Type: text/csv.", [{ field: "body", message: "empty" }]);
    const report = await importFollowers(deps, { csv: markInvalidBytes(req.body, NOT_UTF8), dryRun: req.valid.query.dryRun, actor: actor(res) });
    if (!report.ok) throw new AppError("import_invalid", 422, `The file has ${report.problems.length} problem(s); nothing was imported.`, report.problems);
    res.json({ data: report });
  });
  return router;
}
