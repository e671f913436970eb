import { z } from "zod";

export const LINK_TARGETS = ["product", "post", "collection", "live", "page"] as const;
export type LinkTarget = (typeof LINK_TARGETS)[number];

/** Vanity codes: what a person can read aloud on a stream or type from a flyer. */
export const VANITY_CODE = /^[a-z0-9](?:[a-z0-9-]{1,38}[a-z0-9])$/;
/** Any code we may have issued (random ones use the same letters). */
export const CODE_PARAM = /^[A-Za-z0-9-]{3,40}$/;

const ID = z.string().trim().min(1).max(64);
const text = (max: number) =>
  z
    .string()
    .trim()
    .max(max, `At most ${max} characters.`)
    // Control characters would end up in a Location header or a CSV export.
    .regex(/^[^\u0000-\u001f\u007f]*$/, "No control characters.");

/** Where the link is shared: "instagram-bio", "instagram-story", "tiktok", "live", "print"… */
const Channel = text(40)
  .toLowerCase()
  .min(1, "Say where the link is shared, e.g. instagram-story.")
  .pipe(z.string().regex(/^[a-z0-9][a-z0-9_.-]*$/, "Lower-case letters, digits, dots, dashes or underscores, e.g. instagram-story."));

/**
 * Where a link may send shoppers: a path inside the shop, never a URL. Paths
 * that another site could hijack ("//evil.example", "/\\evil.example") or that
 * are not shopper pages are refused by `checkShopPath`.
 */
export const ShopPath = z
  .string()
  .trim()
  .min(1, "Give a path in the shop, e.g. /gallery.")
  .max(300, "At most 300 characters.")
  .superRefine((value, ctx) => {
    const problem = checkShopPath(value);
    if (problem) ctx.addIssue({ code: "custom", message: problem });
  });

export const LinkInput = z
  .strictObject({
    targetType: z.enum(LINK_TARGETS, { message: `One of ${LINK_TARGETS.join(", ")}.` }),
    productId: ID.nullish(),
    /** The post a link opens, or (for a product or collection link) the post it is shared under. */
    postId: ID.nullish(),
    collectionId: ID.nullish(),
    /** The live stream a link opens, or the stream a product link is shown in. */
    liveSessionId: ID.nullish(),
    path: ShopPath.nullish(),
    code: z
      .string()
      .trim()
      .toLowerCase()
      .regex(VANITY_CODE, "3 to 40 lower-case letters, digits and dashes, not starting or ending with a dash.")
      .nullish(),
    channel: Channel,
    hostName: text(80).default(""),
    utmSource: text(100).default(""),
    utmMedium: text(100).default(""),
    utmCampaign: text(100).default(""),
    utmContent: text(100).default(""),
  })
  .superRefine((l, ctx) => {
    const need: Record<LinkTarget, keyof typeof l> = { product: "productId", post: "postId", collection: "collectionId", live: "liveSessionId", page: "path" };
    const field = need[l.targetType];
    if (!l[field]) ctx.addIssue({ code: "custom", path: [field], message: `A ${l.targetType} link needs ${field}.` });
    if (l.targetType !== "page" && l.path) ctx.addIssue({ code: "custom", path: ["path"], message: "path is only for page links." });
    if (l.targetType !== "product" && l.productId) ctx.addIssue({ code: "custom", path: ["productId"], message: "productId is only for product links." });
    if (l.targetType !== "collection" && l.collectionId) ctx.addIssue({ code: "custom", path: ["collectionId"], message: "collectionId is only for collection links." });
  });
export type LinkInputT = z.infer<typeof LinkInput>;

/** What can change after a link is printed: the tracking labels, not where it goes or its code. */
export const LinkPatch = z
  .strictObject({
    channel: Channel.optional(),
    hostName: text(80).optional(),
    utmSource: text(100).optional(),
    utmMedium: text(100).optional(),
    utmCampaign: text(100).optional(),
    utmContent: text(100).optional(),
    archived: z.boolean().optional(),
  })
  .refine((p) => Object.keys(p).length > 0, "Send at least one field to change.");
export type LinkPatchT = z.infer<typeof LinkPatch>;

export const LinkCodeParams = z.object({ code: z.string().regex(CODE_PARAM, "Not a link code.") });
export const LinkIdParams = z.object({ id: ID });

export const LinkListQuery = z.object({
  archived: z.enum(["1"]).optional().catch(undefined),
  page: z.coerce.number().int().min(1).max(10_000).default(1).catch(1),
  lang: z.enum(["en", "fa"]).optional(),
  // Pre-fill the new-link form from a post or product page.
  postId: ID.optional().catch(undefined),
  productId: ID.optional().catch(undefined),
});

export const ApiLinkListQuery = z.strictObject({
  archived: z.enum(["true", "false"], { message: "true or false." }).optional(),
  page: z.coerce.number().int().min(1, "At least 1.").max(10_000).default(1),
  limit: z.coerce.number().int().min(1, "At least 1.").max(100, "At most 100.").default(50),
});

export const QrQuery = z.object({
  download: z.enum(["1"]).optional().catch(undefined),
  size: z.coerce.number().int().min(128).max(2048).default(768).catch(768),
});

/**
 * Areas of the shop that are not shopper pages, as the first path segment
 * after routing normalisation (see `routingPath`). Everything else is a
 * shopper page (or a 404, which is harmless).
 */
const REFUSED_AREAS = new Set(["admin", "api", "feeds", "webhooks", "embed", "l", "media", "assets", "health", "ready"]);

/**
 * Returns why `value` is not a safe in-shop destination, or null when it is.
 * The value is resolved against a placeholder origin: anything that leaves
 * that origin (a scheme, "//host", a backslash that browsers treat as "/")
 * or that normalises to a different path ("/a/../admin") is refused. The
 * "is it a shopper page" question is then asked of `routingPath(value)`, the
 * path as a router would see it, never of the raw text: Express matches
 * routes case-insensitively, so "/ADMIN" is the admin.
 */
export function checkShopPath(value: string): string | null {
  if (!value.startsWith("/")) return "Give a path inside the shop starting with /, e.g. /gallery, not a full web address.";
  if (value.startsWith("//") || value.includes("\\")) return "Paths starting with // or containing \\ could lead to another site.";
  // Encoded slashes are harmless to us but are a classic way to smuggle "//host" past a check.
  if (/%2f|%5c/i.test(value)) return "Paths with encoded slashes (%2F, %5C) could lead to another site.";
  if (/[\u0000-\u0020\u007f]/.test(value)) return "No spaces or control characters.";
  if (value.includes("#")) return "Leave out the #fragment.";
  let url: URL;
  try {
    url = new URL(value, "https://shop.invalid");
  } catch {
    return "This is not a valid path.";
  }
  if (url.origin !== "https://shop.invalid") return "The path must stay inside the shop.";
  if (`${url.pathname}${url.search}` !== value) return "Write the path plainly: no . or .. segments and no characters that need encoding.";
  const area = routingPath(value).split("/")[1] ?? "";
  if (REFUSED_AREAS.has(area)) {
    return `${url.pathname} is not a shopper page; link to a product, the gallery, a post or the home page.`;
  }
  return null;
}

/**
 * The path part of `value` the way a router, or a proxy in front of one,
 * may read it: percent-escapes decoded (repeatedly, so "%2561" is "a"),
 * compatibility-normalised and lower-cased (routes match case-insensitively;
 * NFKC turns "ſ" into "s" and the Kelvin sign into "k"), "\\" read as "/",
 * empty and "." segments dropped, ".." applied, no trailing slash, and each
 * segment cut at ";" (path parameters) and trailing dots. It errs towards
 * matching more, which only ever refuses more.
 */
export function routingPath(value: string): string {
  let p = value.split(/[?#]/, 1)[0] ?? "";
  for (let round = 0; round < 5 && /%[0-9a-f]{2}/i.test(p); round++) p = percentDecode(p);
  p = p.normalize("NFKC").toLowerCase().normalize("NFKC").replace(/\\/g, "/");
  p = p.split(/[?#]/, 1)[0] ?? "";
  const segments: string[] = [];
  for (const raw of p.split("/")) {
    let segment = raw.split(";", 1)[0] ?? "";
    if (segment !== "." && segment !== "..") segment = segment.replace(/[.\s]+$/, "");
    if (segment === "" || segment === ".") continue;
    if (segment === "..") segments.pop();
    else segments.push(segment);
  }
  return `/${segments.join("/")}`;
}

/** Decodes %XX escapes as UTF-8 bytes; bytes that are not UTF-8 become U+FFFD instead of throwing. */
function percentDecode(text: string): string {
  return text.replace(/(?:%[0-9a-f]{2})+/gi, (run) => Buffer.from(run.replace(/%/g, ""), "hex").toString("utf8"));
}
