// Usage: {{url "/admin/products" (qs status=value q=@root.q)}} → "/shop/admin/products?status=draft&q=mug%20blue"
// Values are URL-encoded (HTML escaping alone would let "&" or "#" in a search break the link); empty ones are left out.
import type { HelperOptions } from "handlebars";

export default function qs(options: HelperOptions) {
  const params = new URLSearchParams();
  for (const [key, value] of Object.entries(options.hash as Record<string, unknown>)) {
    if (value !== undefined && value !== null && value !== "") params.set(key, String(value));
  }
  const s = params.toString();
  return s ? `?${s}` : "";
}
