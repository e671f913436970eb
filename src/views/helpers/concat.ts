// Usage: {{t (concat "product.condition." product.condition)}} → builds a message key.
export default function concat(...args: unknown[]) {
  args.pop(); // Handlebars options
  return args.map((a) => String(a ?? "")).join("");
}
