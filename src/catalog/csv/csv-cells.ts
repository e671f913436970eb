/**
 * Cell encodings of our CSV format, shared by export and import so that
 * whatever the export writes the import reads back unchanged.
 */

/**
 * Spreadsheets run a cell that starts with = + - @ (or a tab/CR) as a
 * formula ("CSV injection"). The export puts an apostrophe in front of such
 * text, and the import removes exactly one apostrophe from text that starts
 * with apostrophes followed by one of those characters, so every value,
 * including one that really starts with "'=", survives the round trip.
 */
const FORMULA_START = /^'*[=+\-@\t\r]/;

export function guardFormula(value: string): string {
  return FORMULA_START.test(value) ? `'${value}` : value;
}

export function unguardFormula(value: string): string {
  return /^'+[=+\-@\t\r]/.test(value) ? value.slice(1) : value;
}

/** One image of a product: media storage key, alt text, and the SKU of the variant it shows (optional). */
export interface ImageRef {
  storageKey: string;
  alt: string;
  sku: string | null;
}

const escapePart = (s: string) => s.replace(/[\\;|]/g, (c) => `\\${c}`);

/** `key|alt|SKU;key|alt` with `\` escaping `\`, `;` and `|` inside the alt text. */
export function formatImagesCell(images: ImageRef[]): string {
  return images
    .map((i) => {
      const parts = [i.storageKey, escapePart(i.alt)];
      if (i.sku) parts.push(escapePart(i.sku));
      while (parts.length > 1 && parts[parts.length - 1] === "") parts.pop();
      return parts.join("|");
    })
    .join(";");
}

/** Inverse of formatImagesCell; blank entries (e.g. a trailing ";") are ignored. */
export function parseImagesCell(cell: string): ImageRef[] {
  const entries: string[][] = [];
  let parts: string[] = [];
  let current = "";
  const endEntry = () => {
    parts.push(current);
    if (parts.some((p) => p.trim() !== "")) entries.push(parts);
    parts = [];
    current = "";
  };
  for (let i = 0; i < cell.length; i++) {
    const c = cell[i]!;
    if (c === "\\" && i + 1 < cell.length) current += cell[++i];
    else if (c === "|") {
      parts.push(current);
      current = "";
    } else if (c === ";") endEntry();
    else current += c;
  }
  endEntry();
  return entries.map(([key = "", alt = "", sku = ""]) => ({ storageKey: key.trim(), alt: alt.trim(), sku: sku.trim() || null }));
}

/** `a;b;c` → ["a","b","c"], blanks dropped. */
export function splitList(cell: string): string[] {
  return cell
    .split(";")
    .map((s) => s.trim())
    .filter(Boolean);
}
