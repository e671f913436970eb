// Usage: <span class="stars__fill {{star_class 4.3}}"> → "stars__fill--45"
// Stars are drawn by CSS classes in half-star steps: the CSP forbids inline
// style attributes, so a width cannot be set per element.
export default function starClass(average: number) {
  const halves = Math.round(Math.min(5, Math.max(0, Number(average) || 0)) * 2);
  return `stars__fill--${halves * 5}`;
}
