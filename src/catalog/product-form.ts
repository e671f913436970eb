import type { ZodError } from "zod";
import { formValue } from "../http/validate.js";
import { minorToDecimal, parseMoney } from "./money.js";

/**
 * The admin product form posts flat field names ("variants.2.price") as
 * strings. This turns them into the shape `ProductInput` validates, and keeps
 * the typed strings so a refused form is shown again exactly as typed.
 * Prices are decimals in the form and minor units in the model.
 */
export type FormBody = Record<string, unknown>;

export interface FormProblem {
  field: string;
  message: string;
}

const str = formValue;

function indexed(body: FormBody, prefix: string): Map<number, Record<string, string>> {
  const rows = new Map<number, Record<string, string>>();
  const pattern = new RegExp(`^${prefix}\\.(\\d{1,3})\\.(\\w+)$`);
  for (const [key, value] of Object.entries(body)) {
    const m = pattern.exec(key);
    if (!m) continue;
    const row = rows.get(Number(m[1])) ?? {};
    row[m[2]!] = str(value);
    rows.set(Number(m[1]), row);
  }
  return new Map([...rows.entries()].sort((a, b) => a[0] - b[0]));
}

export function formToProductInput(body: FormBody, currency: string) {
  const problems: FormProblem[] = [];
  const variantRows = [...indexed(body, "variants").values()].filter(
    (r) => r.remove !== "on" && ["sku", "option1", "option2", "option3", "price", "compareAt", "stock", "gtin", "mpn"].some((k) => (r[k] ?? "").trim() !== ""),
  );
  const variants = variantRows.map((r, i) => {
    const price = parseMoney(r.price ?? "", currency);
    if (!price.ok) problems.push({ field: `variants.${i}.price`, message: (r.price ?? "").trim() === "" ? "Enter a price." : price.message });
    let compareAtMinor: number | null = null;
    if ((r.compareAt ?? "").trim() !== "") {
      const c = parseMoney(r.compareAt!, currency);
      if (c.ok) compareAtMinor = c.minor;
      else problems.push({ field: `variants.${i}.compareAt`, message: c.message });
    }
    const stockText = (r.stock ?? "").trim() || "0";
    const stock = /^-?\d{1,8}$/.test(stockText) ? Number(stockText) : Number.NaN;
    if (Number.isNaN(stock)) problems.push({ field: `variants.${i}.stock`, message: `"${stockText}" is not a whole number.` });
    return {
      ...(r.id ? { id: r.id } : {}),
      sku: (r.sku ?? "").trim(),
      option1: r.option1 || null,
      option2: r.option2 || null,
      option3: r.option3 || null,
      priceMinor: price.ok ? price.minor : 0,
      compareAtMinor,
      stock: Number.isNaN(stock) ? 0 : stock,
      gtin: (r.gtin ?? "").trim() || null,
      mpn: (r.mpn ?? "").trim() || null,
    };
  });
  const images = [...indexed(body, "images").values()]
    .filter((r) => r.mediaId && r.remove !== "on")
    .sort((a, b) => Number(a.position || 0) - Number(b.position || 0))
    .map((r) => ({ mediaId: r.mediaId!, alt: r.alt ?? "", variantSku: r.variantSku || null }));
  const collections = ([] as unknown[]).concat(body.collections ?? []).map(str).filter(Boolean);
  const input = {
    ...(str(body.slug).trim() ? { slug: str(body.slug).trim() } : {}),
    title: str(body.title),
    description: str(body.description).replace(/\r\n/g, "\n"),
    brand: str(body.brand),
    condition: str(body.condition) || "new",
    googleCategory: str(body.googleCategory),
    identifierExists: str(body.identifierExists) === "on",
    gender: str(body.gender),
    ageGroup: str(body.ageGroup),
    color: str(body.color),
    size: str(body.size),
    status: str(body.status) || "draft",
    optionNames: [str(body.option1Name), str(body.option2Name), str(body.option3Name)].map((s) => s.trim()).filter(Boolean),
    translations: { fa: { title: str(body.faTitle), description: str(body.faDescription).replace(/\r\n/g, "\n") } },
    collections,
    images,
    variants,
  };
  return { input, problems };
}

/** Zod paths of ProductInput → the form's field names (priceMinor is typed as "price"). */
export function zodToFormProblems(err: ZodError): FormProblem[] {
  return err.issues.map((i) => {
    const path = i.path.map(String);
    if (path[0] === "variants" && path[2] === "priceMinor") path[2] = "price";
    if (path[0] === "variants" && path[2] === "compareAtMinor") path[2] = "compareAt";
    if (path[0] === "translations") return { field: "faTitle", message: i.message };
    return { field: path.join(".") || "form", message: i.message };
  });
}

type StoredProduct = {
  slug: string; title: string; description: string; brand: string; condition: string; googleCategory: string; identifierExists: boolean; status: string;
  optionNames: string[];
  translations: { locale: string; title: string; description: string }[];
  collections: string[];
  images: { mediaId: string; alt: string; variantSku: string | null }[];
  variants: { id: string; sku: string; option1: string | null; option2: string | null; option3: string | null; priceMinor: number; compareAtMinor: number | null; stock: number; gtin: string | null; mpn: string | null; weightGrams?: number | null }[];
};

/** A stored product as the JSON `ProductInput` takes: what an edit is applied to (applyEdit). */
export function productAsInput(p: StoredProduct) {
  const fa = p.translations.find((t) => t.locale === "fa");
  return {
    slug: p.slug,
    title: p.title,
    description: p.description,
    brand: p.brand,
    condition: p.condition,
    googleCategory: p.googleCategory,
    identifierExists: p.identifierExists,
    status: p.status,
    optionNames: p.optionNames,
    translations: fa ? { fa: { title: fa.title, description: fa.description } } : {},
    collections: p.collections,
    images: p.images.map((i) => ({ mediaId: i.mediaId, alt: i.alt, variantSku: i.variantSku })),
    variants: p.variants.map((v) => ({
      id: v.id, sku: v.sku, option1: v.option1, option2: v.option2, option3: v.option3, priceMinor: v.priceMinor, compareAtMinor: v.compareAtMinor,
      stock: v.stock, gtin: v.gtin, mpn: v.mpn, weightGrams: v.weightGrams ?? null,
    })),
  };
}

/** How an edited variant or image finds the stored one it stands for. */
export const PRODUCT_LISTS = {
  variants: (stored: Record<string, unknown>, edited: Record<string, unknown>) =>
    typeof edited.id === "string" ? stored.id === edited.id : typeof edited.sku === "string" && String(stored.sku).toUpperCase() === edited.sku.trim().toUpperCase(),
  images: (stored: Record<string, unknown>, edited: Record<string, unknown>) => stored.mediaId === edited.mediaId,
};

/** A product (or nothing, for a new one) as the strings the form shows. */
export function productToForm(
  product:
    | {
        slug: string; title: string; description: string; brand: string; condition: string; googleCategory: string; identifierExists: boolean; status: string;
        gender: string; ageGroup: string; color: string; size: string;
        optionNames: string[];
        translations: { locale: string; title: string; description: string }[];
        collections: string[];
        images: { mediaId: string; storageKey: string; alt: string; variantSku: string | null }[];
        variants: { id: string; sku: string; option1: string | null; option2: string | null; option3: string | null; priceMinor: number; compareAtMinor: number | null; stock: number; gtin: string | null; mpn: string | null }[];
      }
    | null,
  currency: string,
): FormBody {
  if (!product) return { condition: "new", status: "draft", identifierExists: "" };
  const body: FormBody = {
    slug: product.slug,
    title: product.title,
    description: product.description,
    brand: product.brand,
    condition: product.condition,
    googleCategory: product.googleCategory,
    identifierExists: product.identifierExists ? "on" : "",
    gender: product.gender,
    ageGroup: product.ageGroup,
    color: product.color,
    size: product.size,
    status: product.status,
    option1Name: product.optionNames[0] ?? "",
    option2Name: product.optionNames[1] ?? "",
    option3Name: product.optionNames[2] ?? "",
    faTitle: product.translations.find((t) => t.locale === "fa")?.title ?? "",
    faDescription: product.translations.find((t) => t.locale === "fa")?.description ?? "",
    collections: product.collections,
  };
  product.variants.forEach((v, i) => {
    Object.assign(body, {
      [`variants.${i}.id`]: v.id,
      [`variants.${i}.sku`]: v.sku,
      [`variants.${i}.option1`]: v.option1 ?? "",
      [`variants.${i}.option2`]: v.option2 ?? "",
      [`variants.${i}.option3`]: v.option3 ?? "",
      [`variants.${i}.price`]: minorToDecimal(v.priceMinor, currency),
      [`variants.${i}.compareAt`]: v.compareAtMinor === null ? "" : minorToDecimal(v.compareAtMinor, currency),
      [`variants.${i}.stock`]: String(v.stock),
      [`variants.${i}.gtin`]: v.gtin ?? "",
      [`variants.${i}.mpn`]: v.mpn ?? "",
    });
  });
  product.images.forEach((img, i) => {
    Object.assign(body, {
      [`images.${i}.mediaId`]: img.mediaId,
      [`images.${i}.storageKey`]: img.storageKey,
      [`images.${i}.alt`]: img.alt,
      [`images.${i}.variantSku`]: img.variantSku ?? "",
      [`images.${i}.position`]: String(i + 1),
    });
  });
  return body;
}
