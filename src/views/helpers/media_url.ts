// Usage: {{media_url image.storageKey 640}} → "/shop/media/ab12…-640.webp"
import type { HelperOptions } from "handlebars";
import { joinPath } from "../../http/urls.js";
import { mediaPath, type ImageSize } from "../../media/media.paths.js";

export default function mediaUrl(storageKey: string, size: ImageSize, options: HelperOptions) {
  const base = (options.data?.root?.base as string | undefined) ?? "";
  return joinPath(base, mediaPath(storageKey, size));
}
