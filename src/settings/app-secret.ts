import { randomBytes } from "node:crypto";
import type { Db } from "../db/client.js";

const KEY = "app.secret";

/**
 * The HMAC key for CSRF tokens and signed links. Generated on first use and
 * kept in the database, so a restart does not invalidate open forms and the
 * owner has one less variable to configure.
 */
export async function loadAppSecret(db: Db): Promise<string> {
  const found = await db.setting.findUnique({ where: { key: KEY } });
  if (found) return JSON.parse(found.value) as string;
  const value = randomBytes(32).toString("base64url");
  // Two processes starting together: the first insert wins, both read it back.
  await db.setting.createMany({ data: [{ key: KEY, value: JSON.stringify(value) }] }).catch(() => undefined);
  const row = await db.setting.findUniqueOrThrow({ where: { key: KEY } });
  return JSON.parse(row.value) as string;
}
