import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { num, sql } from "../src/db/dialect.js";
import { newId, writeTransaction } from "../src/db/writer.js";
import { freshDatabase } from "./helpers/app.js";

/**
 * The hot-path writer (src/db/writer.ts) that checkout and the paid webhook
 * write through. Checkout tests drive it through HTTP; these pin down what
 * they cannot see: all or nothing, and that it takes turns with Prisma's
 * interactive transactions on the same database (on SQLite the very same
 * connection, where running both at once would fail or mix them).
 */
let fresh: Awaited<ReturnType<typeof freshDatabase>>;
beforeAll(async () => {
  fresh = await freshDatabase();
});
afterAll(async () => {
  await fresh?.drop();
});

const counter = async (name: string) => (await fresh.db.counter.findUnique({ where: { name } }))?.value ?? null;

describe("writeTransaction", () => {
  it("commits every statement when the function returns, and none when it throws", async () => {
    const kept = await writeTransaction(fresh.db, async (w) => {
      await w.run(sql`INSERT INTO "Counter" ("name", "value") VALUES ('w-kept', 1)`);
      const [row] = await w.all<{ value: unknown }>(sql`UPDATE "Counter" SET "value" = "value" + 1 WHERE "name" = 'w-kept' RETURNING "value"`);
      return num(row!.value);
    });
    expect(kept).toBe(2);
    expect(await counter("w-kept")).toBe(2);

    await expect(
      writeTransaction(fresh.db, async (w) => {
        await w.run(sql`INSERT INTO "Counter" ("name", "value") VALUES ('w-dropped', 1)`);
        await w.run(sql`UPDATE "Counter" SET "value" = 99 WHERE "name" = 'w-kept'`);
        throw new Error("changed my mind");
      }),
    ).rejects.toThrow("changed my mind");
    expect(await counter("w-dropped")).toBeNull();
    expect(await counter("w-kept")).toBe(2);
  });

  it("waits while a Prisma interactive transaction is open, then sees what it committed", async () => {
    await fresh.db.counter.create({ data: { name: "w-turns", value: 0 } });
    let entered!: () => void;
    const inside = new Promise<void>((resolve) => (entered = resolve));
    let open!: () => void;
    const gate = new Promise<void>((resolve) => (open = resolve));
    const prisma = fresh.db.$transaction(async (tx) => {
      await tx.counter.update({ where: { name: "w-turns" }, data: { value: 1 } });
      entered();
      await gate;
      await tx.counter.update({ where: { name: "w-turns" }, data: { value: { increment: 1 } } });
    });
    await inside;
    const writer = writeTransaction(fresh.db, async (w) => {
      const [row] = await w.all<{ value: unknown }>(sql`UPDATE "Counter" SET "value" = "value" + 10 WHERE "name" = 'w-turns' RETURNING "value"`);
      return num(row!.value);
    });
    open();
    await prisma;
    // After the Prisma transaction's 2, never in the middle of it (SQLite: its turn; PostgreSQL: the row lock).
    expect(await writer).toBe(12);
    expect(await counter("w-turns")).toBe(12);
  });

  it("is not seen half-done by a read outside any transaction, on the same connection", async () => {
    // On SQLite, Prisma's writes outside a transaction take turns with the
    // writer (an implicit transaction each); a plain read does not, and on the
    // one shared connection it would see what a checkout that then rolls back
    // (sold out) had written.
    await fresh.db.counter.create({ data: { name: "w-seen", value: 1 } });
    let outside: Promise<number | null> | undefined;
    await expect(
      writeTransaction(fresh.db, async (w) => {
        await w.run(sql`UPDATE "Counter" SET "value" = 50 WHERE "name" = 'w-seen'`);
        outside = counter("w-seen");
        // Long enough for that read to reach the connection if nothing holds it back.
        await new Promise((resolve) => setTimeout(resolve, 200));
        throw new Error("sold out");
      }),
    ).rejects.toThrow("sold out");
    expect(await outside).toBe(1);
    expect(await counter("w-seen")).toBe(1);
  });

  it("serialises parallel conditional updates: 40 takes of 1 from a stock of 25 leave exactly 0", async () => {
    await fresh.db.counter.create({ data: { name: "w-stock", value: 25 } });
    const taken = await Promise.all(
      Array.from({ length: 40 }, () => writeTransaction(fresh.db, (w) => w.run(sql`UPDATE "Counter" SET "value" = "value" - 1 WHERE "name" = 'w-stock' AND "value" >= 1`))),
    );
    expect(taken.filter((n) => n === 1)).toHaveLength(25);
    expect(await counter("w-stock")).toBe(0);
  });
});

describe("newId", () => {
  it("is cuid-shaped, unique and rising within a process", () => {
    const ids = Array.from({ length: 2000 }, () => newId());
    expect(new Set(ids).size).toBe(ids.length);
    for (const id of ids) expect(id).toMatch(/^c[0-9a-z]{24}$/);
    expect(ids.slice(0, 1000).every((id, i) => id.slice(0, 9) <= ids[i + 1]!.slice(0, 9))).toBe(true);
  });
});
