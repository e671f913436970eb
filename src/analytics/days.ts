/**
 * UTC calendar days as integers (days since 1970-01-01), so roll-ups group and
 * compare days with plain integer arithmetic on every database, and blocks of
 * 2^level days line up the same way everywhere.
 */
export const DAY_MS = 86_400_000;

export function dayOf(date: Date): number {
  return Math.floor(date.getTime() / DAY_MS);
}

export function startOfDay(day: number): Date {
  return new Date(day * DAY_MS);
}

/** 20424 → "2025-12-03" */
export function dayKey(day: number): string {
  return startOfDay(day).toISOString().slice(0, 10);
}

/** "2025-12-03" → 20424, or null if it is not a real calendar date. */
export function parseDayKey(value: string): number | null {
  if (!/^\d{4}-\d{2}-\d{2}$/.test(value)) return null;
  const ms = Date.parse(`${value}T00:00:00Z`);
  if (Number.isNaN(ms)) return null;
  const day = Math.floor(ms / DAY_MS);
  return dayKey(day) === value ? day : null;
}

/** Highest block level: 2^10 = 1,024 days, more than the longest range allowed. */
export const MAX_LEVEL = 10;

export interface Block {
  level: number;
  startDay: number;
}

/**
 * Splits the inclusive day range [from, to] into the fewest aligned blocks
 * (a block of level L starts on a multiple of 2^L): at most two per level,
 * so a year is about 16 blocks and a month about 8.
 */
export function blocksFor(from: number, to: number): Block[] {
  const blocks: Block[] = [];
  let day = from;
  while (day <= to) {
    let level = 0;
    while (level < MAX_LEVEL) {
      const size = 2 ** (level + 1);
      if (day % size !== 0 || day + size - 1 > to) break;
      level += 1;
    }
    blocks.push({ level, startDay: day });
    day += 2 ** level;
  }
  return blocks;
}

/** The blocks above a day, from level 1 up: each is rebuilt from its two halves after the day changes. */
export function ancestorsOf(day: number): Block[] {
  const out: Block[] = [];
  for (let level = 1; level <= MAX_LEVEL; level++) {
    const size = 2 ** level;
    out.push({ level, startDay: day - (((day % size) + size) % size) });
  }
  return out;
}
