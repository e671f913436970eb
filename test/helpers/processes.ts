import { spawn, type ChildProcess } from "node:child_process";
import path from "node:path";
import { createInterface } from "node:readline";

const ROOT = path.resolve(import.meta.dirname, "../..");

export interface AppProcesses {
  /** Base URL of each instance (http://127.0.0.1:port), the storefront under /shop. */
  urls: string[];
  /** Process ids, in the order of `urls` (benchmarks read their CPU time). */
  pids: number[];
  /** The base URL for the i-th request: round robin, like a load balancer. */
  pick(i: number): string;
  stop(): Promise<void>;
}

/**
 * Starts `count` app instances (./app-process.ts) as child processes over
 * one database, and waits until each listens. Requests spread over them hit
 * the same rows from different processes and different connection pools,
 * which is what production with several instances does.
 */
export async function startAppProcesses(
  count: number,
  env: { DATABASE_URL: string; POOL_SIZE?: number; STRIPE_PORT?: number; LOG_LEVEL?: string; BAZAARCHE_DIRECT_READS?: string },
  options: { nodeArgs?: string[]; cwd?: string } = {},
): Promise<AppProcesses> {
  const children: ChildProcess[] = [];
  const started = Array.from({ length: count }, () => {
    const child = spawn(process.execPath, [...(options.nodeArgs ?? []), "--import", "tsx", path.join(ROOT, "test/helpers/app-process.ts")], {
      cwd: options.cwd ?? ROOT,
      env: {
        PATH: process.env.PATH ?? "",
        HOME: process.env.HOME ?? "",
        DATABASE_URL: env.DATABASE_URL,
        POOL_SIZE: String(env.POOL_SIZE ?? 5),
        ...(env.STRIPE_PORT ? { STRIPE_PORT: String(env.STRIPE_PORT) } : {}),
        ...(env.LOG_LEVEL ? { LOG_LEVEL: env.LOG_LEVEL } : {}),
        ...(env.BAZAARCHE_DIRECT_READS ? { BAZAARCHE_DIRECT_READS: env.BAZAARCHE_DIRECT_READS } : {}),
      },
      stdio: ["pipe", "pipe", "pipe"],
    });
    children.push(child);
    let err = "";
    child.stderr!.on("data", (d) => (err += d));
    return new Promise<string>((resolve, reject) => {
      const lines = createInterface({ input: child.stdout! });
      lines.once("line", (line) => {
        try {
          resolve(`http://127.0.0.1:${(JSON.parse(line) as { port: number }).port}`);
        } catch {
          reject(new Error(`app process said: ${line}\n${err}`));
        }
      });
      child.once("exit", (code) => reject(new Error(`app process exited with ${code} before listening:\n${err}`)));
    });
  });
  const stop = async () => {
    await Promise.all(
      children.map(
        (c) =>
          new Promise<void>((resolve) => {
            if (c.exitCode !== null || c.signalCode !== null) return resolve();
            c.once("exit", () => resolve());
            c.stdin!.end();
            setTimeout(() => c.kill("SIGKILL"), 10_000).unref();
          }),
      ),
    );
  };
  try {
    const urls = await Promise.all(started);
    return { urls, pids: children.map((c) => c.pid!), pick: (i) => urls[i % urls.length]!, stop };
  } catch (err) {
    await stop();
    throw err;
  }
}
