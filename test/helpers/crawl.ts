import * as cheerio from "cheerio";

/**
 * Finds every admin page by following the admin's own menu and the links on
 * the pages it reaches (tabs, filters, detail pages from lists), the way a
 * person would. Pages other features add later are found without a list to
 * keep up to date. Detail pages are sampled: at most `perPattern` pages per
 * path shape (ids replaced by ":id", query keys without values).
 */
export interface CrawlOptions {
  /** Where the storefront is mounted, e.g. "/shop". */
  mount: string;
  /** GET a path; the answer's status, content type and body. */
  get(path: string): Promise<{ status: number; type: string; body: string }>;
  perPattern?: number;
  maxPages?: number;
}

const ID = /^(c[a-z0-9]{20,32}|\d+|[0-9a-f]{16,}|loc_[\w-]+)$/i;
// Downloads, actions and pages that are not admin pages to look at.
const SKIP = /\/(logout|login)(\?|$)|\.(csv|png|svg|jpe?g|webp|json|xml)(\?|$)|\/export\b|\/qr\b/;

export function pathPattern(path: string): string {
  const url = new URL(path, "http://x");
  const segments = url.pathname.split("/").map((s) => (ID.test(s) ? ":id" : s));
  const keys = [...url.searchParams.keys()].filter((k) => k !== "lang").sort();
  return `${segments.join("/")}${keys.length ? `?${keys.join("&")}` : ""}`;
}

export async function crawlAdmin(options: CrawlOptions): Promise<string[]> {
  const perPattern = options.perPattern ?? 2;
  const maxPages = options.maxPages ?? 120;
  const admin = `${options.mount}/admin`;
  const seen = new Set<string>();
  const perShape = new Map<string, number>();
  const found: string[] = [];
  const queue = [admin];
  seen.add(admin);
  while (queue.length > 0 && found.length < maxPages) {
    const path = queue.shift()!;
    const res = await options.get(path);
    if (res.status !== 200 || !res.type.includes("text/html")) continue;
    found.push(path);
    const $ = cheerio.load(res.body);
    // The menu first, so every section is reached before the details of any one.
    const links = [...$(".admin-nav a[href]").toArray(), ...$("main a[href]").toArray()].map((a) => $(a).attr("href")!);
    for (const href of links) {
      if ($(`a[href="${href}"][download]`).length) continue;
      const url = new URL(href, "http://x");
      if (url.origin !== "http://x" || !url.pathname.startsWith(admin) || SKIP.test(url.pathname + url.search)) continue;
      url.searchParams.delete("lang");
      url.hash = "";
      const next = url.pathname + url.search;
      if (seen.has(next)) continue;
      seen.add(next);
      const shape = pathPattern(next);
      const n = perShape.get(shape) ?? 0;
      if (n >= perPattern) continue;
      perShape.set(shape, n + 1);
      queue.push(next);
    }
  }
  return found;
}

/** The same path in a language: ?lang=… added (or replaced). */
export function withLang(path: string, lang: string): string {
  const url = new URL(path, "http://x");
  url.searchParams.set("lang", lang);
  return url.pathname + url.search;
}
