// Usage: <img srcset="{{srcset image.storageKey}}" sizes="…">
import type { HelperOptions } from "handlebars";
import { joinPath } from "../../http/urls.js";
import { IMAGE_WIDTHS, mediaPath } from "../../media/media.paths.js";

export default function srcset(storageKey: string, options: HelperOptions) {
  const base = (options.data?.root?.base as string | undefined) ?? "";
  return IMAGE_WIDTHS.map((w) => `${joinPath(base, mediaPath(storageKey, w))} ${w}w`).join(", ");
}
