// Usage: {{url "/p/" product.slug}} → "/shop/p/blue-mug" when mounted at /shop.
// Every in-app link, form action and asset goes through this helper (or
// `urlFor` in code) so that the mount path is never forgotten.
import type { HelperOptions } from "handlebars";
import { joinPath } from "../../http/urls.js";

export default function url(this: unknown, ...args: unknown[]) {
  const options = args.pop() as HelperOptions;
  const base = (options.data?.root?.base as string | undefined) ?? "";
  return joinPath(base, args.map((a) => String(a ?? "")).join(""));
}
