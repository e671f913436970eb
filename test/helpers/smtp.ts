import type { AddressInfo } from "node:net";
import { simpleParser, type ParsedMail } from "mailparser";
import { SMTPServer, type SMTPServerSession } from "smtp-server";

export interface ReceivedMail {
  /** Envelope: MAIL FROM and RCPT TO as the server saw them. */
  envelope: { from: string; to: string[] };
  parsed: ParsedMail;
  raw: string;
}

/** What the server answers at a step: nothing (accept), an SMTP error with a code, or never (a hang). */
export type Reply = undefined | { code: number; message: string } | "hang";

export interface SmtpOptions {
  port?: number;
  /** Called for each RCPT TO; return a reply to refuse the address. */
  onRcpt?: (address: string) => Reply;
  /** Called for each message before it is accepted; `n` counts DATA commands from 1. */
  onData?: (n: number) => Reply;
  /** Username and password the server accepts (AUTH PLAIN/LOGIN over a plain connection, as in tests only). */
  auth?: { user: string; pass: string };
}

/**
 * A real SMTP server in the test process (the `smtp-server` package) that
 * parses every accepted message with `mailparser`. No TLS: STARTTLS is not
 * offered, so nodemailer talks plain SMTP to it, as to a local relay.
 */
export async function startSmtp(options: SmtpOptions = {}) {
  const received: ReceivedMail[] = [];
  const waiters: { n: number; resolve: () => void }[] = [];
  const dataStarted: (() => void)[] = [];
  let dataCount = 0;
  const sockets = new Set<import("node:net").Socket>();

  const notify = () => {
    for (const w of [...waiters]) if (received.length >= w.n) {
      waiters.splice(waiters.indexOf(w), 1);
      w.resolve();
    }
  };
  const fail = (reply: { code: number; message: string }) => Object.assign(new Error(reply.message), { responseCode: reply.code });

  const make = () =>
    new SMTPServer({
      logger: false,
      disabledCommands: ["STARTTLS"],
      authOptional: !options.auth,
      allowInsecureAuth: true,
      onConnect(session, cb) {
        cb();
      },
      onAuth(auth, _session, cb) {
        if (options.auth && auth.username === options.auth.user && auth.password === options.auth.pass) return cb(null, { user: auth.username });
        cb(Object.assign(new Error("Invalid username or password"), { responseCode: 535 }));
      },
      onRcptTo(address, _session, cb) {
        const reply = options.onRcpt?.(address.address);
        if (reply === "hang") return;
        if (reply) return cb(fail(reply));
        cb();
      },
      onData(stream, session: SMTPServerSession, cb) {
        const n = ++dataCount;
        for (const f of dataStarted.splice(0)) f();
        const chunks: Buffer[] = [];
        stream.on("data", (c: Buffer) => chunks.push(c));
        stream.on("end", () => {
          const reply = options.onData?.(n);
          if (reply === "hang") return; // never answers: the client waits until it gives up or dies
          if (reply) return cb(fail(reply));
          const raw = Buffer.concat(chunks);
          void simpleParser(raw).then((parsed) => {
            received.push({
              envelope: { from: session.envelope.mailFrom ? session.envelope.mailFrom.address : "", to: session.envelope.rcptTo.map((r) => r.address) },
              parsed,
              raw: raw.toString("utf8"),
            });
            cb(null, `Ok: queued as Q${n}`);
            notify();
          });
        });
      },
    });

  let server = make();
  const listen = (port: number) =>
    new Promise<number>((resolve, reject) => {
      server.once("error", reject);
      server.listen(port, "127.0.0.1", () => {
        // Track sockets so close() can cut clients a hung server still holds.
        (server as unknown as { server: import("node:net").Server }).server.on("connection", (s) => {
          sockets.add(s);
          s.on("close", () => sockets.delete(s));
        });
        resolve(((server as unknown as { server: import("node:net").Server }).server.address() as AddressInfo).port);
      });
    });
  const port = await listen(options.port ?? 0);
  let running = true;

  const close = () =>
    new Promise<void>((resolve) => {
      if (!running) return resolve();
      running = false;
      for (const s of sockets) s.destroy();
      server.close(() => resolve());
    });

  return {
    port,
    url: options.auth ? `smtp://${options.auth.user}:${options.auth.pass}@127.0.0.1:${port}` : `smtp://127.0.0.1:${port}`,
    received,
    /** Resolves when at least `n` messages have been accepted. */
    waitFor(n: number) {
      if (received.length >= n) return Promise.resolve();
      return new Promise<void>((resolve) => waiters.push({ n, resolve }));
    },
    /** Resolves when the next DATA command starts. */
    nextData() {
      return new Promise<void>((resolve) => dataStarted.push(resolve));
    },
    /** Stops listening (connections are refused) until start() again on the same port. */
    close,
    async start() {
      server = make();
      await listen(port);
      running = true;
    },
  };
}

export type Smtp = Awaited<ReturnType<typeof startSmtp>>;

/** Every http(s) link in a text. */
export function linksIn(text: string) {
  return [...text.matchAll(/https?:\/\/[^\s<>"]+/g)].map((m) => m[0]);
}
