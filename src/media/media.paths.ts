/** Widths generated for every image; pages pick one with srcset. */
export const IMAGE_WIDTHS = [320, 640, 1024] as const;
/** Square JPEG for feeds and link previews (platforms want ≥500×500, 1:1). */
export const SQUARE_SIZE = 800;

export type ImageSize = (typeof IMAGE_WIDTHS)[number] | "square";

/** App-relative path of one derived file of an image. */
export function mediaPath(storageKey: string, size: ImageSize): string {
  return size === "square" ? `/media/${storageKey}-sq.jpg` : `/media/${storageKey}-${size}.webp`;
}
