import { currencyDigits } from "../i18n/format.js";

/**
 * Parses a decimal amount typed by a person or read from a CSV ("12.5",
 * "1,299.00", "12") into minor units for a currency. Refuses more decimals
 * than the currency has (12.345 USD, 10.5 JPY) instead of rounding silently.
 */
export function parseMoney(input: string, currency: string): { ok: true; minor: number } | { ok: false; message: string } {
  const text = input.trim().replace(/^[$€£]/, "").replace(/,(?=\d{3}(\D|$))/g, "");
  const match = /^(-)?(\d{1,12})(?:\.(\d+))?$/.exec(text);
  if (!match) return { ok: false, message: `"${input}" is not an amount like 12.50` };
  if (match[1]) return { ok: false, message: `"${input}" is negative; prices cannot be below 0` };
  const digits = currencyDigits(currency);
  const fraction = match[3] ?? "";
  if (fraction.length > digits) {
    return {
      ok: false,
      message: digits === 0 ? `"${input}" has decimals, but ${currency} has no minor unit` : `"${input}" has more than ${digits} decimals, which ${currency} does not allow`,
    };
  }
  return { ok: true, minor: Number(match[2]) * 10 ** digits + Number(fraction.padEnd(digits, "0") || 0) };
}

/** Minor units → "12.50" (no currency, ASCII digits) for form fields and CSV export. */
export function minorToDecimal(minor: number, currency: string): string {
  const digits = currencyDigits(currency);
  if (digits === 0) return String(minor);
  return `${Math.floor(minor / 10 ** digits)}.${String(minor % 10 ** digits).padStart(digits, "0")}`;
}
