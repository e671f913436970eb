import { randomBytes } from "node:crypto";
import { createServer, type IncomingMessage, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import qs from "qs";
import Stripe from "stripe";
import { StripeGateway } from "../../src/payments/stripe-gateway.js";

/**
 * A small Stripe API on 127.0.0.1 for the real `stripe` SDK to talk to:
 * coupons, checkout sessions (create, retrieve, expire), payment intents
 * (retrieve, once a session is paid), refunds. It honours
 * Idempotency-Key like Stripe (same key → same answer), records every request,
 * and can complete or expire a session and build the matching signed webhook.
 */
export const WEBHOOK_SECRET = "whsec_testsecret0123456789";

interface SessionRecord {
  session: Stripe.Checkout.Session;
  /** payment_intent_data.metadata the session was created with. */
  intentMetadata: Record<string, unknown>;
  shippingRates: { amount: number; name: string; optionId: string }[];
  subtotal: number;
  discount: number;
}

export interface FakeStripe {
  gateway: StripeGateway;
  /** Where it listens on 127.0.0.1 (app processes build their own gateway to it). */
  port: number;
  requests: { method: string; path: string; idempotencyKey: string | undefined; body: Record<string, unknown> }[];
  sessions: Map<string, SessionRecord>;
  /** Pays a session as Checkout would, choosing a shipping option (index). */
  complete(id: string, opts?: { shippingIndex?: number; paid?: boolean; amountTotal?: number }): Stripe.Checkout.Session;
  expire(id: string): Stripe.Checkout.Session;
  charge(paymentIntent: string, amountRefunded: number, amount: number): Stripe.Charge;
  event(type: string, object: unknown, id?: string): { payload: string; signature: string; id: string };
  /** The next `times` requests to a matching path answer `status` (the SDK retries 5xx twice). */
  failNext(path: RegExp, status?: number, times?: number): void;
  close(): Promise<void>;
}

const id = (prefix: string) => `${prefix}_test_${randomBytes(10).toString("hex")}`;

export async function startFakeStripe(): Promise<FakeStripe> {
  const requests: FakeStripe["requests"] = [];
  const sessions = new Map<string, SessionRecord>();
  const byKey = new Map<string, { status: number; body: unknown }>();
  const failures: { path: RegExp; status: number }[] = [];
  const coupons = new Map<string, { amount_off: number }>();
  const intents = new Map<string, { id: string; object: "payment_intent"; metadata: Record<string, unknown> }>();

  const server: Server = createServer(async (req, res) => {
    const raw = await readBody(req);
    const body = qs.parse(raw) as Record<string, unknown>;
    const key = req.headers["idempotency-key"] as string | undefined;
    const path = (req.url ?? "").split("?")[0]!;
    requests.push({ method: req.method ?? "GET", path, idempotencyKey: key, body });
    const send = (status: number, payload: unknown) => {
      res.writeHead(status, { "Content-Type": "application/json", "Request-Id": id("req") });
      res.end(JSON.stringify(payload));
    };
    const failure = failures.findIndex((f) => f.path.test(path));
    if (failure >= 0) {
      const [f] = failures.splice(failure, 1);
      return send(f!.status, { error: { type: "api_error", message: "Fake Stripe was told to fail" } });
    }
    if (key && req.method === "POST" && byKey.has(`${path}:${key}`)) {
      const cached = byKey.get(`${path}:${key}`)!;
      return send(cached.status, cached.body);
    }
    const remember = (status: number, payload: unknown) => {
      if (key && req.method === "POST") byKey.set(`${path}:${key}`, { status, body: payload });
      send(status, payload);
    };

    if (req.method === "POST" && path === "/v1/coupons") {
      const coupon = { id: id("co"), object: "coupon", amount_off: Number(body.amount_off), currency: body.currency, duration: body.duration, name: body.name };
      coupons.set(coupon.id, coupon);
      return remember(200, coupon);
    }
    if (req.method === "POST" && path === "/v1/checkout/sessions") {
      const lines = (body.line_items as { quantity: string; price_data: { unit_amount: string; currency: string } }[]) ?? [];
      const subtotal = lines.reduce((n, l) => n + Number(l.price_data.unit_amount) * Number(l.quantity), 0);
      const discounts = (body.discounts as { coupon: string }[] | undefined) ?? [];
      const discount = discounts.reduce((n, d) => n + (coupons.get(d.coupon)?.amount_off ?? 0), 0);
      const rates = ((body.shipping_options as { shipping_rate_data: { display_name: string; fixed_amount: { amount: string }; metadata?: { optionId?: string } } }[]) ?? []).map((o) => ({
        amount: Number(o.shipping_rate_data.fixed_amount.amount),
        name: o.shipping_rate_data.display_name,
        optionId: o.shipping_rate_data.metadata?.optionId ?? "",
      }));
      const sessionId = id("cs");
      const session = {
        id: sessionId,
        object: "checkout.session",
        mode: "payment",
        status: "open",
        payment_status: "unpaid",
        url: `https://checkout.stripe.test/c/pay/${sessionId}`,
        currency: lines[0]?.price_data.currency ?? "usd",
        amount_subtotal: subtotal,
        amount_total: subtotal - discount,
        client_reference_id: body.client_reference_id ?? null,
        metadata: body.metadata ?? {},
        customer_details: null,
        collected_information: null,
        shipping_cost: null,
        payment_intent: null,
        expires_at: Number(body.expires_at),
        success_url: body.success_url,
        cancel_url: body.cancel_url,
        livemode: false,
      } as unknown as Stripe.Checkout.Session;
      const intentMetadata = ((body.payment_intent_data as { metadata?: Record<string, unknown> } | undefined)?.metadata ?? {}) as Record<string, unknown>;
      sessions.set(sessionId, { session, intentMetadata, shippingRates: rates, subtotal, discount });
      return remember(200, session);
    }
    const sessionMatch = /^\/v1\/checkout\/sessions\/([^/]+)(\/expire)?$/.exec(path);
    if (sessionMatch) {
      const record = sessions.get(sessionMatch[1]!);
      if (!record) return send(404, { error: { type: "invalid_request_error", message: "No such checkout.session" } });
      if (req.method === "GET") return send(200, record.session);
      if (sessionMatch[2]) {
        if (record.session.status !== "open") return send(400, { error: { type: "invalid_request_error", message: "Only open sessions can be expired." } });
        record.session.status = "expired";
        return remember(200, record.session);
      }
    }
    const intentMatch = /^\/v1\/payment_intents\/([^/]+)$/.exec(path);
    if (intentMatch && req.method === "GET") {
      const intent = intents.get(intentMatch[1]!);
      return intent ? send(200, intent) : send(404, { error: { type: "invalid_request_error", message: "No such payment_intent" } });
    }
    if (req.method === "POST" && path === "/v1/refunds") {
      return remember(200, { id: id("re"), object: "refund", amount: Number(body.amount), payment_intent: body.payment_intent, status: "succeeded", metadata: body.metadata ?? {} });
    }
    send(404, { error: { type: "invalid_request_error", message: `Fake Stripe has no ${req.method} ${path}` } });
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const port = (server.address() as AddressInfo).port;
  const gateway = new StripeGateway({ secretKey: "sk_test_fake123", webhookSecret: WEBHOOK_SECRET, host: "127.0.0.1", port, protocol: "http" });

  return {
    gateway,
    port,
    requests,
    sessions,
    complete(sessionId, opts = {}) {
      const record = sessions.get(sessionId);
      if (!record) throw new Error(`no session ${sessionId}`);
      const rate = record.shippingRates[opts.shippingIndex ?? 0] ?? { amount: 0, name: "" };
      const s = record.session as unknown as Record<string, unknown>;
      s.status = "complete";
      s.payment_status = opts.paid === false ? "unpaid" : "paid";
      s.payment_intent = (s.payment_intent as string | null) ?? id("pi");
      intents.set(s.payment_intent as string, { id: s.payment_intent as string, object: "payment_intent", metadata: record.intentMetadata });
      s.shipping_cost = { amount_subtotal: rate.amount, amount_tax: 0, amount_total: rate.amount, shipping_rate: id("shr") };
      s.amount_total = opts.amountTotal ?? record.subtotal - record.discount + rate.amount;
      s.customer_details = { email: "shopper@example.com", name: "Sam Shopper", address: null, phone: null, tax_exempt: "none", tax_ids: [] };
      s.collected_information = { business_name: null, individual_name: null, shipping_details: { name: "Sam Shopper", address: { line1: "1 Market St", line2: null, city: "Portland", state: "OR", postal_code: "97201", country: "US" } } };
      return record.session;
    },
    expire(sessionId) {
      const record = sessions.get(sessionId)!;
      record.session.status = "expired";
      return record.session;
    },
    charge(paymentIntent, amountRefunded, amount) {
      return { id: id("ch"), object: "charge", payment_intent: paymentIntent, amount, amount_refunded: amountRefunded, refunded: amountRefunded >= amount, currency: "usd" } as unknown as Stripe.Charge;
    },
    event(type, object, eventId = id("evt")) {
      const payload = JSON.stringify({ id: eventId, object: "event", type, api_version: "2026-10-28.endive", created: Math.floor(Date.now() / 1000), livemode: false, pending_webhooks: 1, request: { id: null, idempotency_key: null }, data: { object } });
      const signature = gateway.stripe.webhooks.generateTestHeaderString({ payload, secret: WEBHOOK_SECRET });
      return { payload, signature, id: eventId };
    },
    failNext(path, status = 500, times = 1) {
      for (let i = 0; i < times; i++) failures.push({ path, status });
    },
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}

function readBody(req: IncomingMessage): Promise<string> {
  return new Promise((resolve) => {
    let data = "";
    req.on("data", (c) => (data += c));
    req.on("end", () => resolve(data));
  });
}
