// The Prisma CLI on these machines cannot download its Rust engines, so the
// JS (wasm) schema engine and a libsql adapter do the work. See README "Prisma".
import { defineConfig } from "prisma/config";
import { PrismaLibSQL } from "@prisma/adapter-libsql";

export default defineConfig({
  experimental: { adapter: true },
  engine: "js",
  schema: "prisma/schema.prisma",
  migrations: { path: "prisma/migrations" },
  async adapter() {
    return new PrismaLibSQL({ url: process.env.DATABASE_URL ?? "file:./data/bazaarche.db" });
  },
});
