import type nodemailerModule from "nodemailer";
import { lazyModule } from "../lazy.js";

// Loaded when the first SMTP transport is made, not at start-up (about 10 MB the web process of a shop without SMTP never needs).
const nodemailer = lazyModule<typeof nodemailerModule>("nodemailer");

/** One email as it leaves the shop: both parts, and the headers we set. */
export interface OutgoingEmail {
  from: string;
  to: { address: string; name?: string };
  subject: string;
  text: string;
  html: string;
  /** "<id@host>": the same on every attempt, so a receiver can tell a resend */
  messageId: string;
  date: Date;
  /** Extra headers (List-Unsubscribe on marketing mail). Values are ours, never a shopper's text. */
  headers: Record<string, string>;
}

export interface SendResult {
  messageId: string;
  /** The server's last reply, e.g. "250 2.0.0 Ok: queued as 4Xc1" */
  response: string;
}

/**
 * Where queued email goes. Without one (the embedded default) email stays in
 * the outbox, readable in the admin, and pages say nothing was sent.
 */
export interface MailSender {
  /** For the start banner and the admin: "SMTP mail.example.com:587", never credentials. */
  readonly description: string;
  send(email: OutgoingEmail): Promise<SendResult>;
  close(): Promise<void>;
}

/**
 * A failed send, classified for the outbox: `permanent` (a 5xx reply: the
 * server refused this message or recipient; trying again changes nothing)
 * or temporary (4xx, connection refused or dropped, timeout, TLS).
 */
export class SendError extends Error {
  constructor(
    message: string,
    readonly permanent: boolean,
    readonly responseCode?: number,
  ) {
    super(message);
    this.name = "SendError";
  }
}

/** Turns a nodemailer error into a SendError carrying the server's reply. */
export function classifySendError(err: unknown): SendError {
  if (err instanceof SendError) return err;
  const e = err as { responseCode?: unknown; response?: unknown; code?: unknown; message?: unknown };
  const code = typeof e.responseCode === "number" ? e.responseCode : undefined;
  const reply = typeof e.response === "string" && e.response ? e.response : typeof e.message === "string" ? e.message : String(err);
  const kind = typeof e.code === "string" ? e.code : undefined;
  // Authentication failures are 5xx too, but they are the shop's configuration,
  // not this message: every email would fail the same way, so they wait and retry.
  const permanent = code !== undefined && code >= 500 && code < 600 && kind !== "EAUTH" && kind !== "ENOAUTH";
  const text = code !== undefined ? reply : `${kind ? `${kind}: ` : ""}${reply}`;
  return new SendError(text.slice(0, 1000), permanent, code);
}

export interface SmtpSenderOptions {
  /** Parallel connections to the relay (nodemailer's pool). */
  maxConnections?: number;
  connectionTimeoutMs?: number;
  socketTimeoutMs?: number;
}

/**
 * SMTP through nodemailer's pooled transport. The URL carries everything:
 * `smtp://user:pass@host:587` (STARTTLS when the server offers it; add
 * `?requireTLS=true` to insist), `smtps://user:pass@host:465` (TLS from the
 * first byte). Timeouts are short so a dead relay shows up as a retry within
 * seconds instead of a worker stuck for minutes.
 */
export function createSmtpSender(url: string, options: SmtpSenderOptions = {}): MailSender {
  const parsed = new URL(url);
  const transport = nodemailer().createTransport({
    url,
    pool: true,
    maxConnections: options.maxConnections ?? 4,
    maxMessages: 500,
    connectionTimeout: options.connectionTimeoutMs ?? 10_000,
    greetingTimeout: options.connectionTimeoutMs ?? 10_000,
    socketTimeout: options.socketTimeoutMs ?? 60_000,
    // No X-Mailer: it says nothing useful to the recipient.
    disableFileAccess: true,
    disableUrlAccess: true,
  });
  return {
    description: `SMTP ${parsed.hostname}:${parsed.port || (parsed.protocol === "smtps:" ? "465" : "587")}`,
    async send(email) {
      try {
        const info = await transport.sendMail({
          from: email.from,
          to: email.to.name ? { name: email.to.name, address: email.to.address } : email.to.address,
          subject: email.subject,
          text: email.text,
          html: email.html,
          messageId: email.messageId,
          date: email.date,
          headers: email.headers,
          xMailer: false,
          disableFileAccess: true,
          disableUrlAccess: true,
        });
        if (info.rejected.length > 0) throw new SendError(`recipient refused: ${String(info.rejected[0])}`, true);
        return { messageId: info.messageId, response: info.response };
      } catch (err) {
        throw classifySendError(err);
      }
    },
    async close() {
      transport.close();
    },
  };
}

/** How the shop sends: the sender, the From address and the retry policy (deps.mail). */
export interface MailDelivery {
  sender: MailSender;
  /** MAIL_FROM, e.g. `"Tea & Clay" <shop@example.com>` */
  from: string;
  /** Attempts before a temporarily failing email is marked failed. */
  maxAttempts: number;
  /** Emails claimed per round trip, and sent in parallel. */
  batchSize: number;
  concurrency: number;
  /** How long a worker's claim on an email lasts; a dead worker's emails come back after it. */
  leaseMs: number;
}

export const DELIVERY_DEFAULTS = { maxAttempts: 10, batchSize: 50, concurrency: 4, leaseMs: 2 * 60_000 } as const;
