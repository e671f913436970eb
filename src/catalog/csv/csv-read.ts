import type * as CsvParseStream from "csv-parse";
import type * as CsvParse from "csv-parse/sync";
import { lazyModule } from "../../lazy.js";
import type { CsvProblem } from "./csv.schema.js";

/** One CSV record with the physical line it starts on (header = line 1). */
export interface CsvRecord {
  line: number;
  fields: string[];
}

const BOM = Buffer.from([0xef, 0xbb, 0xbf]);
const csvParse = lazyModule<typeof CsvParse>("csv-parse/sync");
const csvParseStream = lazyModule<typeof CsvParseStream>("csv-parse");

/** Byte offsets of every line feed, to turn an offset into a physical line number. */
class LineIndex {
  private readonly feeds: number[] = [];
  constructor(bytes: Buffer) {
    for (let i = bytes.indexOf(0x0a); i !== -1; i = bytes.indexOf(0x0a, i + 1)) this.feeds.push(i);
  }
  /** 1-based line of the byte at `offset`. */
  lineAt(offset: number): number {
    let lo = 0;
    let hi = this.feeds.length;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if (this.feeds[mid]! < offset) lo = mid + 1;
      else hi = mid;
    }
    return lo + 1;
  }
}

interface Parsed {
  records: (CsvRecord & { start: number; end: number })[];
  error?: { line: number; fieldIndex: number | null; message: string };
}

/** RFC 4180 records with CRLF or LF; rows whose cells are all blank are skipped (spreadsheets append them). */
function parseRecords(bytes: Buffer, lines: LineIndex): Parsed {
  const records: Parsed["records"] = [];
  let end = 0;
  const startAfter = (offset: number) => {
    let s = offset;
    while (s < bytes.length && (bytes[s] === 0x0a || bytes[s] === 0x0d)) s++;
    return s;
  };
  try {
    csvParse().parse(bytes, {
      relax_column_count: true,
      skip_empty_lines: true,
      record_delimiter: ["\r\n", "\n"],
      bom: false,
      // Records are collected here, with their byte range, instead of returned:
      // when a later record is malformed the ones before it are still known.
      on_record: (record: string[], context: { bytes: number }) => {
        const start = startAfter(end);
        end = context.bytes;
        if (record.some((f) => f.trim() !== "")) records.push({ line: lines.lineAt(start), fields: record, start, end });
        return null;
      },
    });
  } catch (err) {
    if (!(err instanceof csvParse().CsvError)) throw err;
    const field = (err as CsvParse.CsvError & { column?: unknown }).column;
    return { records, error: { line: lines.lineAt(startAfter(end)), fieldIndex: typeof field === "number" ? field : null, message: describeCsvError(err) } };
  }
  return { records };
}

function describeCsvError(err: CsvParse.CsvError): string {
  switch (err.code) {
    case "CSV_QUOTE_NOT_CLOSED":
      return "a quoted field starts in this row but its closing quote is missing.";
    case "INVALID_OPENING_QUOTE":
      return 'a quote (") in the middle of an unquoted field. Put the whole field in quotes and write each quote inside it twice ("").';
    case "CSV_INVALID_CLOSING_QUOTE":
      return 'text follows a closing quote. Inside a quoted field, write each quote twice ("").';
    default:
      return err.message;
  }
}

/** Offsets of bytes that do not start a valid UTF-8 sequence (RFC 3629: no overlongs, no surrogates). */
export function invalidUtf8Offsets(bytes: Buffer): number[] {
  const bad: number[] = [];
  let i = 0;
  while (i < bytes.length) {
    const b = bytes[i]!;
    if (b < 0x80) {
      i++;
      continue;
    }
    let length = 0;
    let lo = 0x80;
    let hi = 0xbf;
    if (b >= 0xc2 && b <= 0xdf) length = 2;
    else if (b >= 0xe0 && b <= 0xef) {
      length = 3;
      if (b === 0xe0) lo = 0xa0;
      if (b === 0xed) hi = 0x9f;
    } else if (b >= 0xf0 && b <= 0xf4) {
      length = 4;
      if (b === 0xf0) lo = 0x90;
      if (b === 0xf4) hi = 0x8f;
    }
    let ok = length > 0 && i + length <= bytes.length;
    for (let k = 1; ok && k < length; k++) {
      const c = bytes[i + k]!;
      ok = k === 1 ? c >= lo && c <= hi : c >= 0x80 && c <= 0xbf;
    }
    if (ok) i += length;
    else {
      bad.push(i);
      i++;
    }
  }
  return bad;
}

/**
 * One problem per cell holding bytes that are not UTF-8 (typically a file
 * saved as Latin-1 or Windows-1252: "café" written with byte E9). To name
 * the column, each bad byte is swapped for NUL and the copy parsed, so the
 * cell that contains it can be found even inside multi-line quoted fields.
 */
function encodingProblems(bytes: Buffer, lines: LineIndex): CsvProblem[] {
  const offsets = invalidUtf8Offsets(bytes);
  const copy = Buffer.from(bytes);
  for (const o of offsets) copy[o] = 0;
  const { records } = parseRecords(copy, lines);
  const header = records[0]?.fields.map((h) => h.replaceAll("\u0000", "?").trim()) ?? [];
  const problems: CsvProblem[] = [];
  const seen = new Set<string>();
  let r = 0;
  let k = 0;
  for (const offset of offsets) {
    while (r < records.length && records[r]!.end <= offset) {
      r++;
      k = 0;
    }
    const record = records[r];
    let column: string | null = null;
    if (record && record.start <= offset && r > 0) {
      // The k-th bad byte of a record sits in the field holding its k-th NUL.
      let seenNuls = 0;
      const index = record.fields.findIndex((f) => {
        seenNuls += [...f].filter((c) => c === "\u0000").length;
        return seenNuls > k;
      });
      column = index >= 0 ? (header[index] ?? `field ${index + 1}`) : null;
      k++;
    }
    const line = lines.lineAt(offset);
    const key = `${line}\u0000${column}`;
    if (seen.has(key)) continue;
    seen.add(key);
    problems.push({
      line,
      column,
      message: `The file is not UTF-8 (byte 0x${bytes[offset]!.toString(16).toUpperCase().padStart(2, "0")} here is not valid UTF-8; the file was probably saved as Latin-1 or Windows-1252). Save it as "CSV UTF-8" and upload it again.`,
    });
  }
  return problems;
}

// ───────────── streaming: one record at a time, resumable at a record boundary ─────────────

/** What must hold before a file is parsed: not UTF-16, not empty, valid UTF-8 (else the problems, each bad byte placed). */
export function checkCsvBytes(input: Buffer): { ok: true; bodyStart: number } | { ok: false; problems: CsvProblem[] } {
  const bodyStart = input.length >= 3 && input.subarray(0, 3).equals(BOM) ? 3 : 0;
  if (input.length >= 2 && ((input[0] === 0xff && input[1] === 0xfe) || (input[0] === 0xfe && input[1] === 0xff))) {
    return { ok: false, problems: [{ line: 1, column: null, message: 'The file is UTF-16, not UTF-8. Save it as "CSV UTF-8" and upload it again.' }] };
  }
  const bytes = input.subarray(bodyStart);
  if (bytes.toString("utf8").trim() === "") return { ok: false, problems: [{ line: 1, column: null, message: "The file is empty." }] };
  try {
    new TextDecoder("utf-8", { fatal: true }).decode(bytes);
  } catch {
    return { ok: false, problems: encodingProblems(bytes, new LineIndex(bytes)) };
  }
  return { ok: true, bodyStart };
}

/** A record as streamed: its cells, its physical line, and where it sits in the file's bytes. */
export interface StreamedRecord extends CsvRecord {
  /** Absolute byte offsets of the record (end: just past its last byte, before the line break). */
  start: number;
  end: number;
  /** Line feeds in the file before `end`: where a later read resumes counting lines. */
  feedsAtEnd: number;
}

/** A malformed record, placed at its line; `fieldIndex` is the cell where parsing stopped, when known. */
export class CsvStreamError extends Error {
  constructor(readonly line: number, readonly fieldIndex: number | null, message: string) {
    super(message);
  }
}

const SLICE = 64 * 1024;
const LF = 0x0a;

function countFeeds(bytes: Buffer, from: number, to: number): number {
  let n = 0;
  for (let i = bytes.indexOf(LF, from); i !== -1 && i < to; i = bytes.indexOf(LF, i + 1)) n++;
  return n;
}

/**
 * Streams the records of a file from a byte offset that is a record
 * boundary (0, or the `end` of a record read before) with `feeds` line feeds
 * before it, so a read can stop after any record and resume later, even in
 * another process. The parser is fed the bytes a slice at a time and hands
 * back that slice's records before it gets the next: memory holds one slice
 * and its records, not the file's rows. Rows whose cells are all blank are
 * skipped, as spreadsheets append them. Lines are counted from the bytes,
 * not taken from the parser, so a quoted field spanning several lines still
 * leaves every later record with its real line number; a malformed record
 * is reported after every record before it.
 */
export async function* streamCsvRecords(bytes: Buffer, from: { offset: number; feeds: number }, options: { sliceBytes?: number } = {}): AsyncGenerator<StreamedRecord> {
  const sliceBytes = options.sliceBytes ?? SLICE;
  const base = from.offset;
  let end = base;
  let scanned = base;
  let feeds = from.feeds;
  const startAfter = (offset: number) => {
    let s = offset;
    while (s < bytes.length && (bytes[s] === 0x0a || bytes[s] === 0x0d)) s++;
    return s;
  };
  const lineAt = (offset: number) => {
    feeds += countFeeds(bytes, scanned, offset);
    scanned = offset;
    return feeds + 1;
  };

  const queue: { record: string[]; end: number }[] = [];
  let failure: unknown = null;
  let finished = false;
  const parser = csvParseStream().parse({
    relax_column_count: true,
    skip_empty_lines: true,
    record_delimiter: ["\r\n", "\n"],
    bom: false,
    // Records are collected here, with where they end, instead of pushed
    // through the stream: when a later record is malformed, the ones before
    // it are still handed over first.
    on_record: ((record: string[], context: { bytes: number }) => {
      queue.push({ record, end: base + context.bytes });
      return null;
    }) as unknown as CsvParseStream.Options["on_record"],
  });
  parser.on("error", (err) => (failure = err));
  parser.on("finish", () => (finished = true));
  // Lets the parser's callbacks (its error, its finish) run.
  const settle = () => new Promise<void>((resolve) => setImmediate(resolve));

  function* drain(): Generator<StreamedRecord> {
    while (queue.length) {
      const item = queue.shift()!;
      const start = startAfter(end);
      end = item.end;
      if (!item.record.some((f) => f.trim() !== "")) continue;
      const line = lineAt(start);
      yield { line, fields: item.record, start, end, feedsAtEnd: feeds + countFeeds(bytes, start, end) };
    }
  }

  try {
    for (let i = base; i < bytes.length && !failure; i += sliceBytes) {
      parser.write(bytes.subarray(i, Math.min(bytes.length, i + sliceBytes)));
      await settle();
      yield* drain();
    }
    if (!failure) {
      parser.end();
      while (!finished && !failure) await settle();
      yield* drain();
    }
    if (failure) {
      if (!(failure instanceof csvParseStream().CsvError)) throw failure;
      const field = (failure as CsvParse.CsvError & { column?: unknown }).column;
      throw new CsvStreamError(lineAt(startAfter(end)), typeof field === "number" ? field : null, `Malformed CSV: ${describeCsvError(failure)}`);
    }
  } finally {
    parser.destroy();
  }
}
