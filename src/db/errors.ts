/**
 * What a database error means for the request that hit it, whichever engine
 * and layer (Prisma, the driver adapter, pg, pg-pool, better-sqlite3) raised it.
 */

interface ErrorShape {
  code?: unknown;
  message?: unknown;
  meta?: { code?: unknown; driverAdapterError?: { cause?: { kind?: unknown; code?: unknown; originalCode?: unknown } } };
  cause?: unknown;
}

/** The PostgreSQL SQLSTATE, SQLite result code or Node socket code behind an error, if any. */
export function driverCode(err: unknown): string | undefined {
  const seen = new Set<unknown>();
  let e = err as ErrorShape | null | undefined;
  while (e && typeof e === "object" && !seen.has(e)) {
    seen.add(e);
    const cause = e.meta?.driverAdapterError?.cause;
    for (const c of [cause?.originalCode, cause?.code, e.meta?.code]) if (typeof c === "string" && c) return c;
    if (typeof e.code === "string" && !/^P\d{4}$/.test(e.code)) return e.code;
    e = e.cause as ErrorShape | undefined;
  }
  return undefined;
}

const prismaCode = (err: unknown) => {
  const code = (err as ErrorShape | null)?.code;
  return typeof code === "string" && /^P\d{4}$/.test(code) ? code : undefined;
};

const adapterKind = (err: unknown) => {
  const kind = (err as ErrorShape | null)?.meta?.driverAdapterError?.cause?.kind;
  return typeof kind === "string" ? kind : undefined;
};

/**
 * A transaction lost a race and would succeed if run again from the start:
 * a deadlock or serialization failure, or a unique key another transaction
 * inserted after this one read that it was free (PostgreSQL itself reports
 * that case as a serialization failure under SERIALIZABLE; under READ
 * COMMITTED it surfaces as a unique violation). Re-running re-reads, and the
 * read-then-insert sees the row and takes its "already there" path.
 */
export function isTransactionConflict(err: unknown): boolean {
  const p = prismaCode(err);
  if (p === "P2034" || p === "P2002") return true;
  const code = driverCode(err);
  return code === "40001" || code === "40P01" || code === "23505" || adapterKind(err) === "TransactionWriteConflict" || adapterKind(err) === "UniqueConstraintViolation";
}

/** Unique-key conflicts are retried once only: a second one is a real duplicate (a second vote, a taken code). */
export function isUniqueViolation(err: unknown): boolean {
  return prismaCode(err) === "P2002" || driverCode(err) === "23505" || adapterKind(err) === "UniqueConstraintViolation";
}

const UNAVAILABLE_SQLSTATES = new Set([
  "57P01", // admin_shutdown: the server is stopping or restarting
  "57P02", // crash_shutdown
  "57P03", // cannot_connect_now: starting up, or in recovery
  "53300", // too_many_connections
  "08000", "08001", "08003", "08004", "08006", "08P01", // connection exceptions
  "25006", // read_only_sql_transaction: a standby answered (failover in progress)
  "ECONNREFUSED", "ECONNRESET", "EPIPE", "ETIMEDOUT", "EHOSTUNREACH", "ENOTFOUND", "EAI_AGAIN",
  "SQLITE_BUSY", // another process held the write lock past busy_timeout
]);
const UNAVAILABLE_PRISMA = new Set(["P1001", "P1002", "P1008", "P1017", "P2024", "P2028"]);
const UNAVAILABLE_KINDS = new Set(["DatabaseNotReachable", "ConnectionClosed", "SocketTimeout", "TooManyConnections", "TransactionAlreadyClosed"]);
const UNAVAILABLE_MESSAGES = /timeout exceeded when trying to connect|Connection terminated|terminating connection due to administrator command|the database system is (starting up|shutting down|in recovery mode)|Client has encountered a connection error|Unable to start a transaction in the given time|Transaction already closed|Transaction not found|database is locked|Can't reach database server/i;

/**
 * The database could not serve the request right now (down, restarting,
 * failing over, out of connections, or this process's pool is saturated):
 * nothing was committed by the failed statement, and the same request may
 * succeed in a few seconds. Answered as 503 with Retry-After.
 */
export function isDatabaseUnavailable(err: unknown): boolean {
  const p = prismaCode(err);
  if (p && UNAVAILABLE_PRISMA.has(p)) return true;
  const code = driverCode(err);
  if (code && UNAVAILABLE_SQLSTATES.has(code)) return true;
  const kind = adapterKind(err);
  if (kind && UNAVAILABLE_KINDS.has(kind)) return true;
  const seen = new Set<unknown>();
  for (let e = err as ErrorShape | undefined; e && typeof e === "object" && !seen.has(e); e = e.cause as ErrorShape | undefined) {
    seen.add(e);
    if (typeof e.message === "string" && UNAVAILABLE_MESSAGES.test(e.message)) return true;
  }
  return false;
}
