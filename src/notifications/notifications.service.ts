/**
 * Owner notifications. Nothing in checkout, reviews or questions calls this:
 * a job reads what happened since its last run (paid orders, reviews waiting
 * for moderation, new questions, stock at or below its threshold) and queues
 * the owner's emails, each under a dedupe key, so a run that is repeated (a
 * crash between queueing and saving the cursor, two overlapping windows) never
 * emails twice. In digest mode it queues one email a day instead.
 */
import type { Prisma } from "../db/client.js";
import { recordAudit, type Actor } from "../audit/audit.service.js";
import { variantLabel } from "../catalog/catalog.service.js";
import type { Deps } from "../deps.js";
import { AppError } from "../http/errors.js";
import { zodDetails, zodMessage } from "../http/validate.js";
import { formatDigits, formatMoney } from "../i18n/format.js";
import { translate, type Locale } from "../i18n/translate.js";
import { queueEmail } from "../mail/outbox.service.js";
import { describeDuration, questionWait } from "../reviews/questions.service.js";
import { DEFAULT_NOTIFICATION_SETTINGS, NotificationSettingsPatch, NotificationSettingsSchema, type NotificationSettings } from "./notifications.schema.js";

const SETTINGS_KEY = "notifications.settings";
const STATE_KEY = "notifications.state";
/** Rows written just before the last run committed after it read: look back a little (dedupe keys absorb the overlap). */
const OVERLAP_MS = 10 * 60_000;
const MAX_PER_RUN = 200;

type Reader = Pick<Prisma.TransactionClient, "setting">;

export async function getNotificationSettings(db: Reader): Promise<NotificationSettings> {
  const row = await db.setting.findUnique({ where: { key: SETTINGS_KEY } });
  if (!row) return { ...DEFAULT_NOTIFICATION_SETTINGS };
  try {
    // Keys saved by an older version are kept; anything no longer valid reads as its default.
    const stored = JSON.parse(row.value) as Record<string, unknown>;
    const merged: Record<string, unknown> = { ...DEFAULT_NOTIFICATION_SETTINGS };
    for (const [k, v] of Object.entries(stored)) {
      const field = NotificationSettingsSchema.shape[k as keyof NotificationSettings];
      if (field?.safeParse(v).success) merged[k] = v;
    }
    return merged as NotificationSettings;
  } catch {
    return { ...DEFAULT_NOTIFICATION_SETTINGS };
  }
}

/** Changes exactly the named settings; unknown ones are a 400. Audited with what changed. */
export async function updateNotificationSettings(deps: Deps, input: { patch: unknown; actor: Actor }) {
  const parsed = NotificationSettingsPatch.safeParse(input.patch);
  if (!parsed.success) throw AppError.validation(zodMessage(parsed.error, "Invalid settings"), zodDetails(parsed.error));
  return deps.db.$transaction(async (tx) => {
    const before = await getNotificationSettings(tx);
    const after = { ...before, ...Object.fromEntries(Object.entries(parsed.data).filter(([, v]) => v !== undefined)) } as NotificationSettings;
    const changed = Object.fromEntries(
      Object.keys(after)
        .filter((k) => before[k as keyof NotificationSettings] !== after[k as keyof NotificationSettings])
        .map((k) => [k, { from: before[k as keyof NotificationSettings], to: after[k as keyof NotificationSettings] }]),
    );
    await tx.setting.upsert({ where: { key: SETTINGS_KEY }, create: { key: SETTINGS_KEY, value: JSON.stringify(after) }, update: { value: JSON.stringify(after) } });
    if (Object.keys(changed).length > 0) await recordAudit(tx, { actor: input.actor, action: "notifications.settings", entityType: "settings", entityId: "notifications", details: changed });
    return after;
  });
}

interface State {
  /** When notifications first ran: nothing before it is ever told. */
  startedAt: string | null;
  since: string | null;
  lastDigestDay: string | null;
  lastDigestAt: string | null;
}

async function getState(db: Reader): Promise<State> {
  const row = await db.setting.findUnique({ where: { key: STATE_KEY } });
  const empty: State = { startedAt: null, since: null, lastDigestDay: null, lastDigestAt: null };
  if (!row) return empty;
  try {
    return { ...empty, ...(JSON.parse(row.value) as Partial<State>) };
  } catch {
    return empty;
  }
}

async function saveState(db: Reader, state: State) {
  await db.setting.upsert({ where: { key: STATE_KEY }, create: { key: STATE_KEY, value: JSON.stringify(state) }, update: { value: JSON.stringify(state) } });
}

/** The owner's address: the setting, else the first admin account's email. */
export async function ownerAddress(deps: Deps, settings: NotificationSettings) {
  if (settings.to) return settings.to;
  const admin = await deps.db.adminUser.findFirst({ orderBy: [{ createdAt: "asc" }, { id: "asc" }], select: { email: true } });
  return admin?.email ?? null;
}

/**
 * Variants at or below their threshold (the variant's own, else the
 * shop-wide one), active products only. One statement; portable SQL.
 */
export async function findLowStock(deps: Pick<Deps, "db">, input: { threshold: number; limit?: number }) {
  const rows = await deps.db.$queryRaw<{ id: string; sku: string; stock: number; threshold: number; productId: string; title: string; option1: string | null; option2: string | null; option3: string | null }[]>`
    SELECT v."id", v."sku", v."stock", COALESCE(t."threshold", ${input.threshold}) AS "threshold", p."id" AS "productId", p."title", v."option1", v."option2", v."option3"
    FROM "Variant" v
    JOIN "Product" p ON p."id" = v."productId"
    LEFT JOIN "LowStockThreshold" t ON t."variantId" = v."id"
    WHERE v."archivedAt" IS NULL AND p."status" = 'active' AND v."stock" <= COALESCE(t."threshold", ${input.threshold})
    ORDER BY v."stock" ASC, v."id" ASC
    LIMIT ${input.limit ?? 500}`;
  return rows.map((r) => ({ ...r, stock: Number(r.stock), threshold: Number(r.threshold), variantTitle: variantLabel(r) }));
}

/** Per-variant overrides for the settings page, with the variant they belong to. */
export async function listThresholdOverrides(deps: Deps) {
  const overrides = await deps.db.lowStockThreshold.findMany({ orderBy: { variantId: "asc" } });
  const variants = await deps.db.variant.findMany({ where: { id: { in: overrides.map((o) => o.variantId) } }, select: { id: true, sku: true, stock: true, option1: true, option2: true, option3: true, product: { select: { title: true } } } });
  return overrides
    .map((o) => {
      const v = variants.find((x) => x.id === o.variantId);
      return v ? { variantId: v.id, sku: v.sku, title: v.product.title, variantTitle: variantLabel(v), stock: v.stock, threshold: o.threshold } : null;
    })
    .filter((x): x is NonNullable<typeof x> => x !== null)
    .sort((a, b) => (a.sku < b.sku ? -1 : a.sku > b.sku ? 1 : 0));
}

/** Sets (or with null removes) one variant's low-stock threshold, by SKU. */
export async function setVariantThreshold(deps: Deps, input: { sku: string; threshold: number | null; actor: Actor }) {
  const variant = await deps.db.variant.findUnique({ where: { sku: input.sku }, select: { id: true } });
  if (!variant) throw new AppError("validation_failed", 400, `No variant has the SKU "${input.sku}".`, [{ field: "sku", message: "no variant has this SKU" }]);
  await deps.db.$transaction(async (tx) => {
    if (input.threshold === null) await tx.lowStockThreshold.deleteMany({ where: { variantId: variant.id } });
    else await tx.lowStockThreshold.upsert({ where: { variantId: variant.id }, create: { variantId: variant.id, threshold: input.threshold }, update: { threshold: input.threshold } });
    await recordAudit(tx, { actor: input.actor, action: "notifications.low_stock_threshold", entityType: "variant", entityId: variant.id, details: { threshold: input.threshold } });
  });
}

/** Unanswered, unrejected questions, oldest first, with how long each has waited. */
async function waitingQuestions(deps: Deps, locale: Locale, now: Date) {
  const rows = await deps.db.question.findMany({
    where: { answeredAt: null, status: { not: "rejected" } },
    orderBy: [{ createdAt: "asc" }, { id: "asc" }],
    take: 50,
    include: { product: { select: { title: true } } },
  });
  const total = await deps.db.question.count({ where: { answeredAt: null, status: { not: "rejected" } } });
  const t = (key: string, vars?: Record<string, unknown>) => translate(locale, key, vars);
  return {
    total,
    overdue: rows.filter((q) => questionWait(q, now)?.overdue).length,
    items: rows.map((q) => {
      const wait = questionWait(q, now)!;
      return { id: q.id, productTitle: q.product.title, body: q.body.slice(0, 300), askerName: q.askerName, waiting: describeDuration(wait.ms, t), overdue: wait.overdue };
    }),
  };
}

/**
 * One run of the owner-notification job. The first run only starts the
 * clock: a shop switching this on is not sent its whole history.
 */
export async function notifyOwner(deps: Deps) {
  const now = deps.now();
  const settings = await getNotificationSettings(deps.db);
  const state = await getState(deps.db);
  if (!state.since) {
    await saveState(deps.db, { ...state, startedAt: now.toISOString(), since: now.toISOString() });
    return { started: true };
  }
  const to = await ownerAddress(deps, settings);
  const locale: Locale = settings.locale ?? deps.shop.locale;
  const from = new Date(Math.max(new Date(state.since).getTime() - OVERLAP_MS, state.startedAt ? new Date(state.startedAt).getTime() + 1 : 0));
  const base = deps.shop.publicUrl ?? "";
  const t = (key: string, vars?: Record<string, unknown>) => translate(locale, key, vars);
  const common = { to: to ?? "", locale, linkBase: base, category: "owner" as const };
  const shopData = { shopName: deps.shop.name, adminUrl: `${base}/admin` };
  const out = { orders: 0, reviews: 0, questions: 0, lowStock: 0, digest: false, rearmed: 0 };

  // Low-stock alerts are kept whatever the delivery mode: re-armed when restocked.
  const low = settings.lowStock ? await findLowStock(deps, { threshold: settings.lowStockThreshold }) : [];
  const alerts = await deps.db.lowStockAlert.findMany({ select: { variantId: true } });
  const lowIds = new Set(low.map((v) => v.id));
  const rearm = alerts.filter((a) => !lowIds.has(a.variantId)).map((a) => a.variantId);
  if (rearm.length) out.rearmed = (await deps.db.lowStockAlert.deleteMany({ where: { variantId: { in: rearm } } })).count;
  const alerted = new Set(alerts.map((a) => a.variantId));
  const newlyLow = low.filter((v) => !alerted.has(v.id));

  if (settings.delivery === "each" && to) {
    if (settings.orderPaid) {
      const orders = await deps.db.order.findMany({ where: { paidAt: { gte: from } }, orderBy: [{ paidAt: "asc" }, { id: "asc" }], take: MAX_PER_RUN, include: { lines: true } });
      for (const o of orders) {
        await deps.db.$transaction((tx) =>
          queueEmail(tx, {
            ...common,
            template: "owner.order_paid",
            dedupeKey: `owner:order-paid:${o.id}`,
            subject: t("notify.order.subject", { number: formatDigits(o.number, locale), total: formatMoney(o.totalMinor, o.currency, locale) }),
            data: { ...shopData, number: o.number, total: formatMoney(o.totalMinor, o.currency, locale), customer: o.customerName ?? "", email: o.email ?? "", lines: o.lines.map((l) => ({ quantity: l.quantity, title: l.title, variantTitle: l.variantTitle })), orderUrl: `${base}/admin/orders/${o.id}` },
          }),
        );
        out.orders++;
      }
    }
    if (settings.reviewPending) {
      const reviews = await deps.db.review.findMany({ where: { status: "pending", createdAt: { gte: from } }, orderBy: [{ createdAt: "asc" }, { id: "asc" }], take: MAX_PER_RUN, include: { product: { select: { title: true } } } });
      for (const r of reviews) {
        await deps.db.$transaction((tx) =>
          queueEmail(tx, {
            ...common,
            template: "owner.review_pending",
            dedupeKey: `owner:review-pending:${r.id}`,
            subject: t("notify.review.subject", { product: r.product.title }),
            data: { ...shopData, productTitle: r.product.title, rating: r.rating, title: r.title, body: r.body.slice(0, 600), displayName: r.displayName, flags: r.flags, reviewUrl: `${base}/admin/reviews/${r.id}` },
          }),
        );
        out.reviews++;
      }
    }
    if (settings.questionNew) {
      const questions = await deps.db.question.findMany({ where: { createdAt: { gte: from }, answeredAt: null, status: { not: "rejected" } }, orderBy: [{ createdAt: "asc" }, { id: "asc" }], take: MAX_PER_RUN, include: { product: { select: { title: true } } } });
      if (questions.length) {
        const waiting = await waitingQuestions(deps, locale, now);
        for (const q of questions) {
          const wait = questionWait(q, now);
          await deps.db.$transaction((tx) =>
            queueEmail(tx, {
              ...common,
              template: "owner.question",
              dedupeKey: `owner:question:${q.id}`,
              subject: t("notify.question.subject", { product: q.product.title }),
              data: {
                ...shopData,
                productTitle: q.product.title,
                body: q.body.slice(0, 1000),
                askerName: q.askerName,
                waiting: wait ? describeDuration(wait.ms, t) : "",
                others: waiting.items.filter((w) => w.id !== q.id),
                othersTotal: Math.max(0, waiting.total - 1),
                overdue: waiting.overdue,
                questionsUrl: `${base}/admin/questions`,
              },
            }),
          );
          out.questions++;
        }
      }
    }
    if (newlyLow.length) {
      // The alert rows and the email commit together: each drop is told once.
      await deps.db.$transaction(async (tx) => {
        for (const v of newlyLow) await tx.lowStockAlert.create({ data: { variantId: v.id, stock: v.stock, alertedAt: now } });
        await queueEmail(tx, {
          ...common,
          template: "owner.low_stock",
          dedupeKey: `owner:low-stock:${now.toISOString()}:${newlyLow[0]!.id}`,
          subject: t("notify.low.subject", { count: newlyLow.length }),
          data: { ...shopData, variants: newlyLow.map((v) => ({ title: v.title, variantTitle: v.variantTitle, sku: v.sku, stock: v.stock, threshold: v.threshold })), productsUrl: `${base}/admin/products` },
        });
      });
      out.lowStock = newlyLow.length;
    }
  } else if (newlyLow.length) {
    // Digest mode (or no owner address): remember the drop so it is not announced later as new.
    await deps.db.$transaction(async (tx) => {
      for (const v of newlyLow) await tx.lowStockAlert.create({ data: { variantId: v.id, stock: v.stock, alertedAt: now } });
    });
  }

  const day = now.toISOString().slice(0, 10);
  if (settings.delivery === "digest" && to && now.getUTCHours() >= settings.digestHour && state.lastDigestDay !== day) {
    const since = state.lastDigestAt ? new Date(state.lastDigestAt) : new Date(now.getTime() - 24 * 3600_000);
    await queueDigest(deps, { settings, to, locale, since, now, day, low });
    state.lastDigestDay = day;
    state.lastDigestAt = now.toISOString();
    out.digest = true;
  }
  await saveState(deps.db, { ...state, since: now.toISOString() });
  return out;
}

async function queueDigest(deps: Deps, input: { settings: NotificationSettings; to: string; locale: Locale; since: Date; now: Date; day: string; low: Awaited<ReturnType<typeof findLowStock>> }) {
  const { settings, locale } = input;
  const base = deps.shop.publicUrl ?? "";
  const t = (key: string, vars?: Record<string, unknown>) => translate(locale, key, vars);
  const orders = settings.orderPaid
    ? await deps.db.order.findMany({ where: { paidAt: { gte: input.since, lt: input.now } }, orderBy: [{ paidAt: "asc" }, { id: "asc" }], take: 500, select: { id: true, number: true, totalMinor: true, currency: true, customerName: true } })
    : null;
  const revenue = new Map<string, number>();
  for (const o of orders ?? []) revenue.set(o.currency, (revenue.get(o.currency) ?? 0) + o.totalMinor);
  const reviews = settings.reviewPending
    ? await deps.db.review.findMany({ where: { status: "pending" }, orderBy: [{ createdAt: "asc" }, { id: "asc" }], take: 20, include: { product: { select: { title: true } } } })
    : null;
  const pendingReviews = settings.reviewPending ? await deps.db.review.count({ where: { status: "pending" } }) : 0;
  const questions = settings.questionNew ? await waitingQuestions(deps, locale, input.now) : null;
  const data = {
    shopName: deps.shop.name,
    adminUrl: `${base}/admin`,
    day: new Intl.DateTimeFormat(locale === "fa" ? "fa-IR" : "en-US", { dateStyle: "long", timeZone: "UTC" }).format(input.now),
    orders: orders && {
      count: orders.length,
      revenue: [...revenue.entries()].sort(([a], [b]) => (a < b ? -1 : 1)).map(([currency, minor]) => formatMoney(minor, currency, locale)).join(", "),
      items: orders.slice(0, 20).map((o) => ({ number: formatDigits(o.number, locale), total: formatMoney(o.totalMinor, o.currency, locale), customer: o.customerName ?? "", href: `${base}/admin/orders/${o.id}` })),
      more: Math.max(0, orders.length - 20),
      url: `${base}/admin/orders`,
    },
    reviews: reviews && { count: pendingReviews, items: reviews.map((r) => ({ productTitle: r.product.title, rating: r.rating, displayName: r.displayName, href: `${base}/admin/reviews/${r.id}` })), url: `${base}/admin/reviews` },
    questions: questions && { ...questions, url: `${base}/admin/questions` },
    lowStock: settings.lowStock ? { count: input.low.length, items: input.low.slice(0, 30).map((v) => ({ title: v.title, variantTitle: v.variantTitle, sku: v.sku, stock: v.stock, threshold: v.threshold })), url: `${base}/admin/products` } : null,
  };
  await deps.db.$transaction((tx) =>
    queueEmail(tx, {
      to: input.to,
      locale,
      linkBase: base,
      category: "owner",
      template: "owner.digest",
      dedupeKey: `owner:digest:${input.day}`,
      subject: t("notify.digest.subject", { shop: deps.shop.name, day: data.day }),
      data,
    }),
  );
}
