// Usage: <link rel="stylesheet" href="{{asset "css/shop.css"}}">
//   → "/shop/assets/css/shop.3f2a9c1b.css" (mount path + content-hashed name),
// cached for a year by browsers and CDNs; see src/http/assets.ts.
import type { HelperOptions } from "handlebars";
import { assetManifest } from "../../http/assets.js";
import { joinPath } from "../../http/urls.js";

export default function asset(logical: string, options: HelperOptions) {
  const base = (options.data?.root?.base as string | undefined) ?? "";
  return joinPath(base, `/assets/${assetManifest().hashedPath(logical)}`);
}
