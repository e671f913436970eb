/**
 * What a DATABASE_URL names, and how to talk about it, without loading a
 * database client: the migrator and the migration generator use this too.
 */
import path from "node:path";

export type Engine = "sqlite" | "postgres";

/** Which engine a DATABASE_URL names: "file:…" is SQLite, "postgres://…" or "postgresql://…" PostgreSQL. */
export function engineOfUrl(databaseUrl: string): Engine {
  if (/^file:/.test(databaseUrl)) return "sqlite";
  if (/^postgres(ql)?:\/\//.test(databaseUrl)) return "postgres";
  throw new Error(`DATABASE_URL must start with file: (SQLite) or postgres:// (PostgreSQL); got "${databaseUrl.split(":")[0]}:…"`);
}

/** "file:./data/x.db" → absolute file path (relative to the working directory). */
export function sqliteFilePath(databaseUrl: string): string {
  const raw = databaseUrl.replace(/^file:/, "").replace(/\?.*$/, "");
  return path.resolve(raw);
}

/** A database that cannot be used at start-up; server.ts prints its message as one line. */
export class DatabaseStartError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "DatabaseStartError";
  }
}

/** The URL without its password, for messages and logs. */
export function redactUrl(databaseUrl: string): string {
  try {
    const u = new URL(databaseUrl);
    if (u.password) u.password = "***";
    return u.toString();
  } catch {
    return databaseUrl.replace(/\/\/[^@/]*@/, "//***@");
  }
}

/** The shortest useful description of a driver error (ECONNREFUSED, "database x does not exist", …). */
export function describeDbError(err: unknown): string {
  const e = err as { code?: string; message?: string; cause?: unknown; meta?: { driverAdapterError?: { cause?: { kind?: string; originalMessage?: string } } } } | null;
  const cause = e?.meta?.driverAdapterError?.cause;
  if (cause?.originalMessage) return cause.originalMessage;
  if (cause?.kind) return cause.kind;
  const nested = (e?.cause as { code?: string; message?: string } | undefined) ?? null;
  const message = (e?.message ?? String(err)).split("\n").map((l) => l.trim()).filter(Boolean).at(-1) ?? "unknown error";
  return [e?.code ?? nested?.code, message].filter(Boolean).join(": ");
}
