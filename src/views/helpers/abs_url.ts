// Usage: {{abs_url "/p/" product.slug}} → "https://shop.example/shop/p/blue-mug"
// For Open Graph tags and feeds, which need absolute URLs.
import type { HelperOptions } from "handlebars";
import { joinPath } from "../../http/urls.js";

export default function absUrl(this: unknown, ...args: unknown[]) {
  const options = args.pop() as HelperOptions;
  const origin = (options.data?.root?.publicBase as string | undefined) ?? "";
  return origin + joinPath("", args.map((a) => String(a ?? "")).join(""));
}
