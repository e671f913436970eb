import { mkdirSync } from "node:fs";
import path from "node:path";
import { PrismaBetterSQLite3 } from "@prisma/adapter-better-sqlite3";
import { PrismaClient } from "../generated/prisma/client.js";

export type Db = PrismaClient;
export type { Prisma } from "../generated/prisma/client.js";

/** "file:./data/x.db" → absolute file path (relative to the working directory). */
export function sqliteFilePath(databaseUrl: string): string {
  const raw = databaseUrl.replace(/^file:/, "").replace(/\?.*$/, "");
  return path.resolve(raw);
}

/**
 * Opens the SQLite database through Prisma's better-sqlite3 adapter, creating
 * the folder if needed. WAL lets readers run while a writer commits;
 * busy_timeout makes a second process wait instead of failing with SQLITE_BUSY.
 */
export async function openDatabase(databaseUrl: string): Promise<Db> {
  const file = sqliteFilePath(databaseUrl);
  mkdirSync(path.dirname(file), { recursive: true });
  const adapter = new PrismaBetterSQLite3({ url: file, timeout: 5000 });
  const db = new PrismaClient({ adapter });
  await db.$queryRawUnsafe("PRAGMA journal_mode = WAL");
  await db.$queryRawUnsafe("PRAGMA foreign_keys = ON");
  await db.$queryRawUnsafe("PRAGMA synchronous = NORMAL");
  return db;
}
