// npm run db:migrate — applies the pending migrations of DATABASE_URL (SQLite
// or PostgreSQL) and exits; `npm start` does the same on every start.
import { ConfigError, loadConfig } from "../config.js";
import { DatabaseStartError, redactUrl } from "./client.js";
import { migrate } from "./migrate.js";

try {
  const config = loadConfig();
  const { applied } = await migrate(config.DATABASE_URL);
  console.log(applied.length ? `Applied ${applied.length} migration(s) to ${redactUrl(config.DATABASE_URL)}:\n  ${applied.join("\n  ")}` : `${redactUrl(config.DATABASE_URL)} is up to date.`);
} catch (err) {
  if (err instanceof ConfigError) {
    for (const line of err.lines) console.error(line);
    process.exit(1);
  }
  if (err instanceof DatabaseStartError) {
    console.error(err.message);
    process.exit(1);
  }
  throw err;
}
