import { cpSync, mkdtempSync, readdirSync, writeFileSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import Database from "better-sqlite3";
import { describe, expect, it } from "vitest";
import { MIGRATIONS_DIR, migrateDatabase } from "../src/db/migrate.js";

const tmp = () => mkdtempSync(path.join(os.tmpdir(), "bz-migrate-"));

describe("migrations", () => {
  it("applies every migration once, then nothing on a second run", () => {
    const file = path.join(tmp(), "a.db");
    const first = migrateDatabase(file);
    expect(first.applied.length).toBeGreaterThan(0);
    expect(migrateDatabase(file).applied).toEqual([]);
    const db = new Database(file);
    const tables = db.prepare("SELECT name FROM sqlite_master WHERE type = 'table'").all().map((r) => (r as { name: string }).name);
    for (const t of ["Product", "Variant", "PostTag", "ShortLink", "Review", "RatingSummary", "Order", "PaymentEvent", "Follower", "Coupon", "Redemption", "LiveSession", "LiveClaim", "AnalyticsEvent", "OutboxEmail", "AuditLog"]) {
      expect(tables).toContain(t);
    }
    // The ledger has the same shape and checksums as `prisma migrate deploy` writes.
    const ledger = db.prepare('SELECT migration_name, checksum, finished_at, applied_steps_count FROM "_prisma_migrations"').all() as { checksum: string; finished_at: string | null; applied_steps_count: number }[];
    expect(ledger).toHaveLength(first.applied.length);
    for (const row of ledger) {
      expect(row.checksum).toMatch(/^[0-9a-f]{64}$/);
      expect(row.finished_at).not.toBeNull();
      expect(row.applied_steps_count).toBe(1);
    }
    db.close();
  });

  it("keeps child rows when a later migration rebuilds a parent table", () => {
    const dir = tmp();
    const all = readdirSync(MIGRATIONS_DIR, { withFileTypes: true }).filter((d) => d.isDirectory()).map((d) => d.name).sort();
    const initOnly = path.join(dir, "init-only");
    cpSync(path.join(MIGRATIONS_DIR, all[0]!), path.join(initOnly, all[0]!), { recursive: true });
    const file = path.join(dir, "d.db");
    migrateDatabase(file, initOnly);
    const db = new Database(file);
    const now = new Date().toISOString();
    db.exec(`
      INSERT INTO Product (id, slug, title, updatedAt) VALUES ('p1', 'mug', 'Mug', '${now}');
      INSERT INTO Variant (id, productId, sku, priceMinor, currency, stock, updatedAt) VALUES ('v1', 'p1', 'MUG-1', 100, 'USD', 3, '${now}');
      INSERT INTO Media (id, storageKey, mime, width, height, bytes) VALUES ('m1', 'k', 'image/webp', 1, 1, 1);
      INSERT INTO ProductImage (id, productId, variantId, mediaId) VALUES ('i1', 'p1', 'v1', 'm1');
      INSERT INTO StockHold (id, variantId, quantity, expiresAt) VALUES ('h1', 'v1', 1, '${now}');
      INSERT INTO Cart (id, tokenHash, currency, updatedAt) VALUES ('c1', 't', 'USD', '${now}');
      INSERT INTO CartItem (id, cartId, variantId, quantity) VALUES ('ci1', 'c1', 'v1', 2);
    `);
    db.close();
    expect(migrateDatabase(file).applied.length).toBe(all.length - 1);
    const after = new Database(file);
    expect(after.prepare("SELECT variantId FROM ProductImage WHERE id = 'i1'").get()).toEqual({ variantId: "v1" });
    expect(after.prepare("SELECT count(*) AS n FROM StockHold").get()).toEqual({ n: 1 });
    expect(after.prepare("SELECT count(*) AS n FROM CartItem").get()).toEqual({ n: 1 });
    expect(after.prepare("SELECT stock FROM Variant WHERE id = 'v1'").get()).toEqual({ stock: 3 });
    expect(after.pragma("foreign_keys", { simple: true })).toBe(1);
    after.close();
  });

  it("refuses to run when an applied migration was edited", () => {
    const dir = tmp();
    const migrations = path.join(dir, "migrations");
    cpSync(MIGRATIONS_DIR, migrations, { recursive: true });
    const file = path.join(dir, "b.db");
    migrateDatabase(file, migrations);
    const first = first_migration(migrations);
    writeFileSync(first, "-- edited\n", { flag: "a" });
    expect(() => migrateDatabase(file, migrations)).toThrow(/was changed after it was applied/);
  });

  it("rolls back a failing migration completely", () => {
    const dir = tmp();
    const migrations = path.join(dir, "migrations");
    cpSync(MIGRATIONS_DIR, migrations, { recursive: true });
    const bad = path.join(migrations, "29990101000000_broken");
    cpSync(path.join(migrations, path.basename(path.dirname(first_migration(migrations)))), bad, { recursive: true });
    writeFileSync(path.join(bad, "migration.sql"), 'CREATE TABLE "Half" (id TEXT);\nTHIS IS NOT SQL;');
    const file = path.join(dir, "c.db");
    expect(() => migrateDatabase(file, migrations)).toThrow();
    const db = new Database(file);
    expect(db.prepare("SELECT name FROM sqlite_master WHERE name = 'Half'").all()).toEqual([]);
    expect(db.prepare('SELECT count(*) AS n FROM "_prisma_migrations" WHERE migration_name = ?').get("29990101000000_broken")).toEqual({ n: 0 });
    db.close();
  });
});

function first_migration(dir: string) {
  const names = readdirSync(dir, { withFileTypes: true }).filter((d) => d.isDirectory()).map((d) => d.name).sort();
  return path.join(dir, names[0]!, "migration.sql");
}
