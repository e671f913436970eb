// Usage: {{#if (eq variant.id selected.id)}}checked{{/if}}
export default function eq(a: unknown, b: unknown) {
  return a === b;
}
