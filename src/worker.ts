// `npm run worker`: only the background jobs (hold sweep, email sender, owner
// notifications), no HTTP. Run it beside web processes started with JOBS=off,
// or beside `npm start` too: each run takes its job's lease first, so nothing
// happens twice however many processes run the jobs.
import { bootShop, configOrExit } from "./boot.js";
import { startJobs } from "./jobs/registry.js";

async function main() {
  const config = configOrExit();
  // The same services the web process has; the app itself is never listened on.
  const { deps, logger, mail, close } = await bootShop(config);

  // Its timer keeps this process alive (in the web process the server does).
  const jobs = startJobs(deps, { keepAlive: true });
  console.log(
    [
      `  ${config.SHOP_NAME} worker is running (${jobs.instanceId}).`,
      mail ? `  Email: sent through ${mail.sender.description} from ${config.MAIL_FROM}` : "  Email: NOT sent (no SMTP_URL): emails stay in the outbox",
      "",
    ].join("\n"),
  );
  for (const signal of ["SIGTERM", "SIGINT"] as const) {
    process.once(signal, () => {
      logger.info({ signal }, "worker stopping: waiting for runs in flight");
      void jobs
        .stop()
        .then(close)
        .then(() => process.exit(0));
    });
  }
}

main().catch((err) => {
  console.error(err instanceof Error ? (err.stack ?? err.message) : err);
  process.exit(1);
});
