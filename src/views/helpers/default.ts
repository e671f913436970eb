// Usage: {{t "cart.link" count=(default cartCount 0)}} → the value, or the fallback when it is missing.
export default function fallback(value: unknown, otherwise: unknown) {
  return value === undefined || value === null ? otherwise : value;
}
