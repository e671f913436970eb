import { Router } from "express";
import { z } from "zod";
import { IdParams } from "../auth/auth.schema.js";
import type { Deps } from "../deps.js";
import { AppError } from "../http/errors.js";
import { applyEdit, validate, zodDetails, zodMessage } from "../http/validate.js";
import { ListProductsQuery, PRODUCT_STATUSES, ProductEdit, ProductInput, VariantPatch } from "./catalog.schema.js";
import { getProductDetail, getProductForEditing, listProducts } from "./catalog.service.js";
import { PRODUCT_LISTS, productAsInput } from "./product-form.js";
import { createProduct, patchVariant, setProductStatus, updateProduct } from "./product-write.service.js";

const StatusBody = z.strictObject({ status: z.enum(PRODUCT_STATUSES, { message: `One of ${PRODUCT_STATUSES.join(", ")}.` }) });

/** /api/v1/products and /api/v1/variants (JSON, Bearer token). */
export function catalogApiRoutes(deps: Deps) {
  const router = Router();
  const actor = (res: { locals: Record<string, unknown> }) => ({ type: "api" as const, id: (res.locals.apiToken as { id: string }).id });

  router.get("/products", validate({ query: ListProductsQuery }), async (req, res) => {
    const { items, nextCursor } = await listProducts(deps, { ...req.valid.query, includeAllStatuses: true });
    res.json({ data: items, nextCursor: nextCursor ?? null });
  });

  router.get("/products/:id", validate({ params: IdParams }), async (req, res) => {
    const product = await getProductDetail(deps, { id: req.valid.params.id });
    if (!product) throw AppError.notFound("product");
    res.json({ data: product });
  });

  router.post("/products", validate({ body: ProductInput }), async (req, res) => {
    const product = await createProduct(deps, { product: req.valid.body, actor: actor(res) });
    res.status(201).location(`${req.baseUrl}/products/${product.id}`).json({ data: await getProductDetail(deps, { id: product.id }) });
  });

  // The fields sent change; the rest keep their stored values (applyEdit). The
  // merged product is then judged whole, as a new one would be.
  router.put("/products/:id", validate({ params: IdParams, body: ProductEdit }), async (req, res) => {
    const stored = await getProductForEditing(deps, { id: req.valid.params.id });
    if (!stored) throw AppError.notFound("product");
    const merged = ProductInput.safeParse(applyEdit(productAsInput(stored), req.body as Record<string, unknown>, PRODUCT_LISTS));
    if (!merged.success) throw AppError.validation(zodMessage(merged.error, "Invalid request body"), zodDetails(merged.error));
    const product = await updateProduct(deps, { id: stored.id, product: merged.data, actor: actor(res) });
    res.json({ data: await getProductDetail(deps, { id: product.id }) });
  });

  router.patch("/products/:id/status", validate({ params: IdParams, body: StatusBody }), async (req, res) => {
    const product = await setProductStatus(deps, { id: req.valid.params.id, status: req.valid.body.status, actor: actor(res) });
    res.json({ data: await getProductDetail(deps, { id: product.id }) });
  });

  // Archiving is the API's delete: orders and post tags keep pointing at the product.
  router.delete("/products/:id", validate({ params: IdParams }), async (req, res) => {
    const product = await setProductStatus(deps, { id: req.valid.params.id, status: "archived", actor: actor(res) });
    res.json({ data: await getProductDetail(deps, { id: product.id }) });
  });

  router.patch("/variants/:id", validate({ params: IdParams, body: VariantPatch }), async (req, res) => {
    const variant = await patchVariant(deps, { id: req.valid.params.id, patch: req.valid.body, actor: actor(res) });
    const product = await getProductDetail(deps, { id: variant.productId });
    res.json({ data: product?.variants.find((v) => v.id === variant.id) });
  });

  return router;
}
