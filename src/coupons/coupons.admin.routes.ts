import { Router, type Request, type Response } from "express";
import { z } from "zod";
import type { FormBody, FormProblem } from "../catalog/product-form.js";
import type { Deps } from "../deps.js";
import { FOLLOW_PLATFORMS, VERIFICATIONS } from "../followers/followers.schema.js";
import { AppError } from "../http/errors.js";
import { urlFor } from "../http/urls.js";
import { applyFormEdit, formValue, validate } from "../http/validate.js";
import { couponToForm, formToCouponInput } from "./coupon-form.js";
import { COUPON_KINDS, COUPON_SCOPES, CouponInput, IssueCodesInput, REQUIRED_VERIFICATIONS } from "./coupons.schema.js";
import { createCoupon, getCouponReport, issuePersonalCodes, listCoupons, setCouponStatus, updateCoupon } from "./coupons.service.js";

const IdParams = z.object({ id: z.string().min(1).max(64) });
const StatusForm = z.object({ status: z.enum(["active", "disabled"]), _csrf: z.string().optional() });

/** /admin/coupons: list, create, edit, disable, issue personal codes, redemption report. */
export function couponAdminRoutes(deps: Deps) {
  const router = Router();
  const actor = (res: Response) => ({ type: "admin" as const, id: (res.locals.admin as { id: string }).id });

  router.get("/", async (_req, res) => {
    res.render("admin/coupons", { layout: "admin", nav: "coupons", title: res.locals.t("coupons.admin.title"), coupons: await listCoupons(deps) });
  });

  router.get("/new", async (_req, res) => {
    await renderForm(res, { body: couponToForm(null, deps.shop.currency), problems: [], couponId: null });
  });

  router.post("/", async (req, res) => {
    const id = await saveFromForm(req, res, null);
    if (id) res.redirect(303, `${urlFor(req, `/admin/coupons/${id}`)}?saved=1`);
  });

  router.get("/:id", validate({ params: IdParams }), async (req, res) => {
    const report = await getCouponReport(deps, { id: req.valid.params.id });
    if (!report) throw AppError.notFound("coupon");
    await renderForm(res, { body: couponToForm(report.coupon, deps.shop.currency), problems: [], couponId: report.coupon.id, report, saved: req.query.saved === "1" });
  });

  router.post("/:id", validate({ params: IdParams }), async (req, res) => {
    const id = await saveFromForm(req, res, req.valid.params.id);
    if (id) res.redirect(303, `${urlFor(req, `/admin/coupons/${id}`)}?saved=1`);
  });

  router.post("/:id/status", validate({ params: IdParams, body: StatusForm }), async (req, res) => {
    await setCouponStatus(deps, { id: req.valid.params.id, status: req.valid.body.status, actor: actor(res) });
    res.redirect(303, urlFor(req, `/admin/coupons/${req.valid.params.id}`));
  });

  router.post("/:id/codes", validate({ params: IdParams }), async (req, res) => {
    const body = req.body as FormBody;
    const parsed = IssueCodesInput.safeParse({
      ...(body.platform ? { platform: body.platform } : {}),
      ...(body.verification ? { verification: body.verification } : {}),
      ...(body.minFollowDays ? { minFollowDays: Number(body.minFollowDays) } : {}),
      limit: body.limit ? Number(body.limit) : 500,
      notify: body.notify === "on",
    });
    const report = await getCouponReport(deps, { id: req.valid.params.id });
    if (!report) throw AppError.notFound("coupon");
    if (!parsed.success) {
      res.status(400);
      return renderForm(res, { body: couponToForm(report.coupon, deps.shop.currency), problems: parsed.error.issues.map((i) => ({ field: `codes.${i.path.join(".")}`, message: i.message })), couponId: report.coupon.id, report });
    }
    const issued = await issuePersonalCodes(deps, { couponId: report.coupon.id, filter: parsed.data, actor: actor(res) });
    await renderForm(res, { body: couponToForm(report.coupon, deps.shop.currency), problems: [], couponId: report.coupon.id, report: await getCouponReport(deps, { id: report.coupon.id }), issued });
  });

  async function saveFromForm(req: Request, res: Response, id: string | null) {
    const report = id ? await getCouponReport(deps, { id }) : null;
    if (id && !report) throw AppError.notFound("coupon");
    // Editing changes what the form posts; everything else keeps its stored value.
    const body = report ? applyFormEdit(couponToForm(report.coupon, deps.shop.currency), (req.body ?? {}) as FormBody) : ((req.body ?? {}) as FormBody);
    const { input, problems } = formToCouponInput(body, deps.shop.currency);
    const parsed = CouponInput.safeParse(input);
    if (!parsed.success) problems.push(...parsed.error.issues.map((i) => ({ field: i.path.map(String).join(".") || "form", message: i.message })));
    if (problems.length > 0 || !parsed.success) {
      await renderForm(res.status(400), { body, problems, couponId: id, report });
      return null;
    }
    try {
      const coupon = id ? await updateCoupon(deps, { id, coupon: parsed.data, actor: actor(res) }) : await createCoupon(deps, { coupon: parsed.data, actor: actor(res) });
      return coupon.id;
    } catch (err) {
      if (!(err instanceof AppError) || err.status >= 500) throw err;
      await renderForm(res.status(err.status), { body, problems: [{ field: "form", message: err.message }], couponId: id, report });
      return null;
    }
  }

  async function renderForm(
    res: Response,
    view: { body: FormBody; problems: FormProblem[]; couponId: string | null; report?: Awaited<ReturnType<typeof getCouponReport>>; saved?: boolean; issued?: { handle: string; code: string; emailQueued: boolean }[] },
  ) {
    const [collections, products, lives] = await Promise.all([
      deps.db.collection.findMany({ orderBy: [{ position: "asc" }, { id: "asc" }] }),
      deps.db.product.findMany({ where: { status: { not: "archived" } }, orderBy: [{ title: "asc" }, { id: "asc" }], select: { id: true, title: true }, take: 500 }),
      deps.db.liveSession.findMany({ where: { status: { not: "ended" } }, orderBy: [{ startsAt: "asc" }, { id: "asc" }], select: { id: true, title: true } }),
    ]);
    const b = view.body;
    const val = (k: string) => formValue(b[k]);
    const chosen = (k: string) => new Set(([] as unknown[]).concat(b[k] ?? []).map(String));
    res.render("admin/coupon-form", {
      layout: "admin",
      nav: "coupons",
      title: view.couponId ? val("code") : res.locals.t("coupons.admin.new"),
      couponId: view.couponId,
      report: view.report,
      saved: view.saved,
      issued: view.issued,
      hasIssued: view.issued !== undefined,
      currency: deps.shop.currency,
      v: Object.fromEntries(["code", "description", "percentOff", "amountOff", "minSubtotal", "startsAt", "endsAt", "usageLimit", "perFollowerLimit", "minFollowDays"].map((k) => [k, val(k)])),
      checks: { followersOnly: val("followersOnly") === "on", stackable: val("stackable") === "on" },
      kinds: COUPON_KINDS.map((k) => ({ value: k, selected: k === (val("kind") || "percent") })),
      scopes: COUPON_SCOPES.map((s) => ({ value: s, selected: s === (val("scope") || "all") })),
      verifications: REQUIRED_VERIFICATIONS.map((s) => ({ value: s, selected: s === (val("requiredVerification") || "any") })),
      statuses: ["active", "disabled"].map((s) => ({ value: s, selected: s === (val("status") || "active") })),
      collections: collections.map((c) => ({ slug: c.slug, title: c.title, checked: chosen("collectionSlugs").has(c.slug) })),
      products: products.map((p) => ({ ...p, selected: chosen("productIds").has(p.id) })),
      lives: lives.map((l) => ({ ...l, selected: l.id === val("liveSessionId") })),
      platforms: FOLLOW_PLATFORMS,
      followerVerifications: VERIFICATIONS,
      problems: view.problems,
      errors: Object.fromEntries(view.problems.map((p) => [p.field, p.message])),
    });
  }

  return router;
}
