// Usage: {{inc @index}} → 1-based position for "Image 1 of 3".
export default function inc(value: number) {
  return Number(value) + 1;
}
