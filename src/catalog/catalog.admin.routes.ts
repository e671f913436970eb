import { Router, type Request, type Response } from "express";
import { z } from "zod";
import type { Deps } from "../deps.js";
import { AppError } from "../http/errors.js";
import { filesOf, multipartForm } from "../http/uploads.js";
import { urlFor } from "../http/urls.js";
import { applyEdit, applyFormEdit, formValue, validate } from "../http/validate.js";
import { MAX_IMAGE_BYTES, storeImage } from "../media/media.service.js";
import { AGE_GROUPS, CONDITIONS, GENDERS, PRODUCT_STATUSES, ProductInput } from "./catalog.schema.js";
import { getProductForEditing, listProductsForAdmin } from "./catalog.service.js";
import { formToProductInput, PRODUCT_LISTS, productAsInput, productToForm, zodToFormProblems, type FormBody, type FormProblem } from "./product-form.js";
import { createProduct, setProductStatus, updateProduct } from "./product-write.service.js";

const ListQuery = z.object({
  q: z.string().trim().max(100).optional(),
  status: z.enum(PRODUCT_STATUSES).optional().catch(undefined),
  cursor: z.string().max(64).optional(),
});
const IdParams = z.object({ id: z.string().min(1).max(64) });
const StatusForm = z.object({ status: z.enum(PRODUCT_STATUSES), _csrf: z.string().optional() });
const BLANK_VARIANT_ROWS = 3;

/** /admin/products: list, search, create, edit, archive. */
export function catalogAdminRoutes(deps: Deps) {
  const router = Router();
  const upload = multipartForm({ fields: [{ name: "newImages", maxCount: 10 }], maxFileBytes: MAX_IMAGE_BYTES });
  const actor = (res: Response) => ({ type: "admin" as const, id: (res.locals.admin as { id: string }).id });

  router.get("/", validate({ query: ListQuery }), async (req, res) => {
    const { q, status, cursor } = req.valid.query as z.infer<typeof ListQuery>;
    const list = await listProductsForAdmin(deps, { q, status, cursor, limit: 50 });
    res.render("admin/products", {
      layout: "admin",
      nav: "products",
      title: res.locals.t("catalog.admin.title"),
      q: q ?? "",
      status: status ?? "",
      statuses: PRODUCT_STATUSES.map((s) => ({ value: s, count: list.counts[s] ?? 0, current: s === status })),
      total: Object.values(list.counts).reduce((a, b) => a + b, 0),
      products: list.items,
      nextCursor: list.nextCursor,
    });
  });

  router.get("/new", async (_req, res) => {
    await renderForm(res, { body: productToForm(null, deps.shop.currency), problems: [], productId: null });
  });

  router.post("/", upload, async (req, res) => {
    const saved = await saveFromForm(req, res, null);
    if (saved) res.redirect(303, `${urlFor(req, `/admin/products/${saved}`)}?saved=1`);
  });

  router.get("/:id", validate({ params: IdParams }), async (req, res) => {
    const product = await getProductForEditing(deps, { id: req.valid.params.id });
    if (!product) throw AppError.notFound("product");
    await renderForm(res, { body: productToForm(product, deps.shop.currency), problems: [], productId: product.id, product, saved: req.query.saved === "1" });
  });

  router.post("/:id", validate({ params: IdParams }), upload, async (req, res) => {
    const saved = await saveFromForm(req, res, req.valid.params.id);
    if (saved) res.redirect(303, `${urlFor(req, `/admin/products/${saved}`)}?saved=1`);
  });

  router.post("/:id/status", validate({ params: IdParams, body: StatusForm }), async (req, res) => {
    await setProductStatus(deps, { id: req.valid.params.id, status: req.valid.body.status, actor: actor(res) });
    res.redirect(303, `${urlFor(req, `/admin/products/${req.valid.params.id}`)}?saved=1`);
  });

  /**
   * Validates the whole form before anything is stored; images are
   * re-encoded only once the product itself is valid. Returns the product id,
   * or renders the form again (400/409/413) with every problem and the typed values.
   */
  async function saveFromForm(req: Request, res: Response, id: string | null): Promise<string | null> {
    const existing = id ? await getProductForEditing(deps, { id }) : null;
    if (id && !existing) throw AppError.notFound("product");
    // Editing changes what the form posts; the variant rows and the image rows each count as one field.
    const body = existing ? applyFormEdit(productToForm(existing, deps.shop.currency), (req.body ?? {}) as FormBody, ["variants", "images"]) : ((req.body ?? {}) as FormBody);
    const { input, problems } = formToProductInput(body, deps.shop.currency);
    // Variant fields the form has no input for (weight) keep their stored values.
    const parsed = ProductInput.safeParse(existing ? applyEdit(productAsInput(existing), input, PRODUCT_LISTS) : input);
    if (!parsed.success) {
      const priceFields = new Set(problems.map((p) => p.field));
      problems.push(...zodToFormProblems(parsed.error).filter((p) => !priceFields.has(p.field)));
    }
    if (problems.length > 0 || !parsed.success) {
      await renderForm(res.status(400), { body, problems, productId: id, product: existing });
      return null;
    }
    const product = parsed.data;
    try {
      for (const file of filesOf(req, "newImages")) {
        const media = await storeImage(deps, { bytes: file.buffer, alt: product.title, field: "newImages" });
        product.images = [...(product.images ?? []), { mediaId: media.id, alt: product.title, variantSku: null }];
      }
      const saved = id
        ? await updateProduct(deps, { id, product, actor: actor(res) })
        : await createProduct(deps, { product, actor: actor(res) });
      return saved.id;
    } catch (err) {
      if (!(err instanceof AppError) || err.status >= 500) throw err;
      // Conflicts found while saving (a SKU another product has, an unknown
      // collection, an unreadable image): the summary plus each named field.
      const details = Array.isArray(err.details) ? (err.details as { field?: string; message?: string }[]) : [];
      const problems: FormProblem[] = [
        { field: "form", message: err.message },
        ...details.filter((d) => d.field).map((d) => ({ field: d.field!, message: d.message ?? err.message })),
      ];
      await renderForm(res.status(err.status), { body, problems, productId: id, product: existing });
      return null;
    }
  }

  async function renderForm(
    res: Response,
    view: { body: FormBody; problems: FormProblem[]; productId: string | null; product?: Awaited<ReturnType<typeof getProductForEditing>>; saved?: boolean },
  ) {
    const collections = await deps.db.collection.findMany({ orderBy: [{ position: "asc" }, { id: "asc" }] });
    const b = view.body;
    const val = (k: string) => formValue(b[k]);
    const errorOf = (field: string) => view.problems.find((p) => p.field === field)?.message;
    const existingRows = new Set(Object.keys(b).filter((k) => /^variants\.\d+\./.test(k)).map((k) => Number(k.split(".")[1])));
    const variantCount = existingRows.size ? Math.max(...existingRows) + 1 : 0;
    const rows = Array.from({ length: variantCount + BLANK_VARIANT_ROWS }, (_, i) => {
      const f = (name: string) => val(`variants.${i}.${name}`);
      return {
        index: i,
        id: f("id"),
        isNew: !f("id"),
        fields: ["sku", "option1", "option2", "option3", "price", "compareAt", "stock", "gtin", "mpn"].map((name) => ({
          name,
          value: f(name),
          error: errorOf(`variants.${i}.${name === "price" ? "price" : name}`),
          id: `variants-${i}-${name}`,
        })),
      };
    });
    const selected = new Set(([] as unknown[]).concat(b.collections ?? []).map(String));
    const imageRows = Object.keys(b)
      .filter((k) => /^images\.\d+\.mediaId$/.test(k))
      .map((k) => Number(k.split(".")[1]))
      .map((i) => ({
        index: i,
        mediaId: val(`images.${i}.mediaId`),
        storageKey: val(`images.${i}.storageKey`),
        alt: val(`images.${i}.alt`),
        variantSku: val(`images.${i}.variantSku`),
        position: val(`images.${i}.position`) || String(i + 1),
      }));
    const skus = rows.map((r) => r.fields[0]!.value).filter(Boolean);
    res.render("admin/product-form", {
      layout: "admin",
      nav: "products",
      title: view.productId ? val("title") || view.product?.title : res.locals.t("catalog.admin.new"),
      productId: view.productId,
      product: view.product,
      saved: view.saved,
      currency: deps.shop.currency,
      v: {
        slug: val("slug"), title: val("title"), description: val("description"), brand: val("brand"), googleCategory: val("googleCategory"),
        identifierExists: val("identifierExists") === "on", option1Name: val("option1Name"), option2Name: val("option2Name"), option3Name: val("option3Name"),
        faTitle: val("faTitle"), faDescription: val("faDescription"), color: val("color"), size: val("size"),
      },
      conditions: CONDITIONS.map((c) => ({ value: c, selected: c === (val("condition") || "new") })),
      genders: (["", ...GENDERS] as string[]).map((g) => ({ value: g, label: res.locals.t(`catalog.gender.${g || "none"}`), selected: g === val("gender") })),
      ageGroups: (["", ...AGE_GROUPS] as string[]).map((g) => ({ value: g, label: res.locals.t(`catalog.ageGroup.${g || "none"}`), selected: g === val("ageGroup") })),
      statuses: PRODUCT_STATUSES.map((s) => ({ value: s, selected: s === (val("status") || "draft") })),
      collections: collections.map((c) => ({ slug: c.slug, title: c.title, checked: selected.has(c.slug) })),
      rows,
      imageRows: imageRows.map((r) => ({ ...r, skus: skus.map((s) => ({ sku: s, selected: s === r.variantSku })) })),
      problems: view.problems,
      errors: Object.fromEntries(view.problems.map((p) => [p.field, p.message])),
      uploadAction: `${urlFor(res.req, view.productId ? `/admin/products/${view.productId}` : "/admin/products")}?_csrf=${encodeURIComponent(res.locals.csrfToken as string)}`,
    });
  }

  return router;
}
