/**
 * A PostgreSQL server of its own, for tests that stop and restart the server
 * (the shared test server must stay up for the other files) and for
 * benchmarks run without one. Debian's binaries (/usr/lib/postgresql/<v>/bin,
 * or PG_BIN); initdb refuses to run as root, so as root the server runs as
 * the `postgres` user, as .ci/run does.
 */
import { execFile } from "node:child_process";
import { chownSync, existsSync, mkdtempSync, readdirSync, readFileSync, rmSync } from "node:fs";
import { createServer } from "node:net";
import os from "node:os";
import path from "node:path";
import { promisify } from "node:util";

const run = promisify(execFile);

/** The directory with initdb and pg_ctl: PG_BIN, else the newest /usr/lib/postgresql/<version>/bin. */
export function postgresBinDir(): string | null {
  if (process.env.PG_BIN && existsSync(path.join(process.env.PG_BIN, "pg_ctl"))) return process.env.PG_BIN;
  const root = "/usr/lib/postgresql";
  if (!existsSync(root)) return null;
  const versions = readdirSync(root).filter((v) => /^\d+$/.test(v) && existsSync(path.join(root, v, "bin", "pg_ctl"))).sort((a, b) => Number(b) - Number(a));
  return versions[0] ? path.join(root, versions[0], "bin") : null;
}

async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once("error", reject);
    server.listen(0, "127.0.0.1", () => {
      const { port } = server.address() as { port: number };
      server.close(() => resolve(port));
    });
  });
}

export interface PrivatePostgres {
  /** postgres://bazaarche@127.0.0.1:port/postgres */
  url: string;
  port: number;
  restart(): Promise<void>;
  stop(): Promise<void>;
}

/**
 * initdb + pg_ctl start on a free port. By default durability is off (fsync,
 * full_page_writes): a test server's data is thrown away. `settings` adds or
 * overrides server settings (a benchmark turns fsync back on).
 */
export async function startPrivatePostgres(options: { maxConnections?: number; settings?: Record<string, string> } = {}): Promise<PrivatePostgres> {
  const bin = postgresBinDir();
  if (!bin) throw new Error("PostgreSQL binaries not found: install Debian's postgresql package or set PG_BIN");
  const asRoot = process.getuid?.() === 0;
  const dir = mkdtempSync(path.join(os.tmpdir(), "bazaarche-pg-"));
  if (asRoot) {
    const { stdout } = await run("id", ["-u", "postgres"]);
    const { stdout: gid } = await run("id", ["-g", "postgres"]);
    chownSync(dir, Number(stdout.trim()), Number(gid.trim()));
  }
  const exec = (file: string, args: string[]) => (asRoot ? run("runuser", ["-u", "postgres", "--", path.join(bin, file), ...args]) : run(path.join(bin, file), args));
  const data = path.join(dir, "data");
  const port = await freePort();
  await exec("initdb", ["-D", data, "-U", "bazaarche", "--auth=trust", "-E", "UTF8", "--locale=C.UTF-8", "--no-sync"]);
  const settings = { listen_addresses: "127.0.0.1", max_connections: String(options.maxConnections ?? 100), fsync: "off", full_page_writes: "off", ...options.settings };
  const serverOptions = [`-p ${port}`, `-k ${dir}`, ...Object.entries(settings).map(([k, v]) => `-c ${k}=${v}`)].join(" ");
  const pgCtl = (...args: string[]) => exec("pg_ctl", ["-D", data, "-l", path.join(dir, "server.log"), ...args]);
  await pgCtl("-o", serverOptions, "-w", "-t", "120", "start");
  return {
    url: `postgres://bazaarche@127.0.0.1:${port}/postgres`,
    port,
    // Fast shutdown: connections are terminated mid-transaction, as in a failover or a crash-restart.
    restart: async () => void (await pgCtl("-m", "fast", "-w", "-t", "120", "restart")),
    stop: async () => {
      const stopped = await pgCtl("-m", "immediate", "-w", "-t", "60", "stop").then(
        () => true,
        () => false,
      );
      if (!stopped) {
        // Never leave a server behind: signal the postmaster directly.
        const pid = Number(readFileSync(path.join(data, "postmaster.pid"), "utf8").split("\n")[0]);
        if (pid > 0) process.kill(pid, "SIGQUIT");
      }
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
