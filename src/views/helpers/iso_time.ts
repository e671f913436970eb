// Usage: <time datetime="{{iso_time claim.expiresAt}}"> → "2026-12-05T18:14:03.000Z" (for scripts and machines).
export default function isoTime(value: Date | string) {
  return new Date(value).toISOString();
}
