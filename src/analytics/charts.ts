/**
 * Chart geometry for server-rendered SVG. Numbers only: the templates draw
 * them with attributes (no inline styles, nothing the CSP blocks), and every
 * word on a chart is HTML beside the SVG, so it stays readable at 390 px and
 * follows the page's direction. In right-to-left pages time runs from right
 * to left and bars grow from the right.
 */
export interface TimeChart {
  id: string;
  /** viewBox width: 10 units per bucket; height is 100. */
  width: number;
  bars: { x: number; y: number; width: number; height: number }[];
  /** The previous period as a polyline, when there is one. */
  previous: string | null;
  gridY: number[];
}

/** 0 → 1, 1234 → 1500, 87 → 90: a round top for the axis. */
export function niceCeil(value: number): number {
  if (value <= 0) return 1;
  const magnitude = 10 ** Math.floor(Math.log10(value));
  for (const step of [1, 1.5, 2, 2.5, 3, 4, 5, 6, 8, 10]) if (step * magnitude >= value) return step * magnitude;
  return 10 * magnitude;
}

export function timeChart(input: { id: string; values: number[]; previous?: number[] | null; rtl: boolean; max?: number }): TimeChart & { max: number } {
  const n = Math.max(1, input.values.length);
  const max = input.max ?? niceCeil(Math.max(0, ...input.values, ...(input.previous ?? [])));
  const at = (i: number) => (input.rtl ? n - 1 - i : i) * 10;
  const h = (v: number) => Math.max(0, Math.min(100, (v / max) * 100));
  const bars = input.values.map((v, i) => ({ x: at(i) + 1.5, y: round(100 - h(v)), width: 7, height: round(h(v)) }));
  const previous = input.previous && input.previous.length ? input.previous.map((v, i) => `${at(i) + 5},${round(100 - h(v))}`).join(" ") : null;
  return { id: input.id, width: n * 10, bars, previous, gridY: [0, 50], max };
}

export interface BarRow {
  /** Bar length in percent of the largest row, and where it starts (from the right in rtl). */
  pct: number;
  x: number;
}

export function barRows(values: number[], rtl: boolean): BarRow[] {
  const max = Math.max(0, ...values);
  return values.map((v) => {
    const pct = max > 0 ? round((Math.max(0, v) / max) * 100) : 0;
    return { pct, x: rtl ? round(100 - pct) : 0 };
  });
}

/** Buckets for a long range: one bar per day up to 62 days, per week up to a year, else per 30 days. */
export function bucketSize(days: number): number {
  return days <= 62 ? 1 : days <= 366 ? 7 : 30;
}

const round = (v: number) => Math.round(v * 100) / 100;
