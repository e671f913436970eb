import { existsSync, readFileSync } from "node:fs";
import path from "node:path";
import { describe, expect, it } from "vitest";
import { diffSql, isEmptyDiff, PG_MIGRATIONS, PG_SCHEMA, postgresMigrations, postgresSchemaFrom, SNAPSHOT, SOURCE_SCHEMA } from "../prisma/postgres-schema.js";

const FIX = "Run `npm run db:postgres` (or `npm run db:migration -- <name>` for a new change to both dialects) and commit what it writes.";

describe("the PostgreSQL schema and migrations follow prisma/schema.prisma", () => {
  it("prisma/postgres/schema.prisma is exactly what schema.prisma generates", () => {
    const expected = postgresSchemaFrom(readFileSync(SOURCE_SCHEMA, "utf8"));
    expect(readFileSync(PG_SCHEMA, "utf8") === expected, `prisma/postgres/schema.prisma is out of date. ${FIX}`).toBe(true);
  });

  it("maps every DateTime to timestamptz(3)", () => {
    const fields = readFileSync(PG_SCHEMA, "utf8").split("\n").filter((l) => /^\s+\w+\s+DateTime\??(\s|$)/.test(l));
    expect(fields.length).toBeGreaterThan(50);
    for (const field of fields) expect(field).toContain("@db.Timestamptz(3)");
  });

  it("every PostgreSQL migration keeps the schema it leads to, and the last one reaches the current schema", () => {
    const names = postgresMigrations();
    expect(names.length).toBeGreaterThan(0);
    for (const name of names) expect(existsSync(path.join(PG_MIGRATIONS, name, SNAPSHOT)), `${name} has no ${SNAPSHOT}`).toBe(true);
    const pending = diffSql(path.join(PG_MIGRATIONS, names.at(-1)!, SNAPSHOT), PG_SCHEMA);
    expect(isEmptyDiff(pending), `schema.prisma has changes no PostgreSQL migration makes:\n${pending}\n${FIX}`).toBe(true);
  });

  it("the diff is real: from an empty database it creates the tables, with timestamptz dates", () => {
    // Guards the check above against a diff that always comes back empty.
    const names = postgresMigrations();
    const first = path.join(PG_MIGRATIONS, names[0]!, SNAPSHOT);
    const fromEmpty = diffSql(null, first);
    expect(fromEmpty).toMatch(/CREATE TABLE "Variant"/);
    expect(fromEmpty).toMatch(/TIMESTAMPTZ\(3\)/);
  });
});
