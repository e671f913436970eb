// Usage: <time datetime="{{iso_date review.createdAt}}"> → "2026-11-20"
export default function isoDate(value: Date | string) {
  return new Date(value).toISOString().slice(0, 10);
}
