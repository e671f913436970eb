import { recordAudit, type Actor } from "../audit/audit.service.js";
import type { Db, Prisma } from "../db/client.js";
import { sql } from "../db/dialect.js";
import { readerFor } from "../db/reader.js";
import type { Deps } from "../deps.js";
import { AppError } from "../http/errors.js";
import { zodDetails, zodMessage } from "../http/validate.js";
import { DEFAULT_REVIEW_SETTINGS, ReviewSettingsPatch, ReviewSettingsSchema, type ReviewSettings } from "./reviews.schema.js";

const PREFIX = "reviews.";
type Reader = Pick<Prisma.TransactionClient, "setting">;

/**
 * The shop's review settings, one Setting row per key ("reviews.autoPublish").
 * A key never saved, or one whose stored value no longer fits the schema,
 * reads as its default, so an old database never breaks the page.
 */
export async function getReviewSettings(db: Reader): Promise<ReviewSettings> {
  return settingsFrom(await db.setting.findMany({ where: { key: { startsWith: PREFIX } } }));
}

/** The same, through the hot-path reader (src/db/reader.ts): the paid webhook reads them for every payment. */
export async function readReviewSettings(db: Db): Promise<ReviewSettings> {
  return settingsFrom(await (await readerFor(db)).all<{ key: string; value: string }>(sql`SELECT "key", "value" FROM "Setting" WHERE "key" LIKE ${`${PREFIX}%`} ORDER BY "key"`));
}

function settingsFrom(rows: { key: string; value: string }[]): ReviewSettings {
  const settings: Record<string, unknown> = { ...DEFAULT_REVIEW_SETTINGS };
  for (const row of rows) {
    const name = row.key.slice(PREFIX.length);
    if (name in DEFAULT_REVIEW_SETTINGS) settings[name] = parseSetting(name as keyof ReviewSettings, row.value);
  }
  return settings as ReviewSettings;
}

/** One stored setting (JSON text, or null when never saved); its default when missing or no longer valid. */
export function parseSetting<K extends keyof ReviewSettings>(name: K, stored: string | null): ReviewSettings[K] {
  if (stored === null) return DEFAULT_REVIEW_SETTINGS[name];
  try {
    const one = ReviewSettingsSchema.shape[name].safeParse(JSON.parse(stored));
    return one.success ? (one.data as ReviewSettings[K]) : DEFAULT_REVIEW_SETTINGS[name];
  } catch {
    return DEFAULT_REVIEW_SETTINGS[name];
  }
}

/** Changes some settings; unknown keys (a "minimum rating") are a 400. Audited with the changed keys. */
export async function updateReviewSettings(deps: Deps, input: { patch: unknown; actor: Actor }) {
  const parsed = ReviewSettingsPatch.safeParse(input.patch);
  if (!parsed.success) throw AppError.validation(zodMessage(parsed.error, "Invalid settings"), zodDetails(parsed.error));
  return deps.db.$transaction(async (tx) => {
    const before = await getReviewSettings(tx);
    const changed: Record<string, { from: unknown; to: unknown }> = {};
    for (const [name, value] of Object.entries(parsed.data)) {
      if (value === undefined) continue;
      await tx.setting.upsert({ where: { key: PREFIX + name }, create: { key: PREFIX + name, value: JSON.stringify(value) }, update: { value: JSON.stringify(value) } });
      const previous = before[name as keyof ReviewSettings];
      if (previous !== value) changed[name] = { from: previous, to: value };
    }
    if (Object.keys(changed).length > 0) {
      await recordAudit(tx, { actor: input.actor, action: "reviews.settings", entityType: "settings", entityId: "reviews", details: changed });
    }
    return getReviewSettings(tx);
  });
}
