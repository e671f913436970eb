import { translate, type Locale } from "../i18n/translate.js";

const loc = (l: string): Locale => (l === "fa" ? "fa" : "en");

/** "We're live" — queued once per reminder when the show starts. */
export function reminderEmail(input: { locale: string; title: string; hostName: string; url: string }) {
  const l = loc(input.locale);
  return {
    subject: translate(l, "live.mail.reminder.subject", { title: input.title }),
    text: [translate(l, "live.mail.reminder.body", { title: input.title, host: input.hostName || "—" }), "", input.url, "", translate(l, "live.mail.reminder.footer")].join("\n"),
  };
}

/** A unit from the waitlist is held for this person. */
export function waitlistOfferEmail(input: { locale: string; product: string; minutes: number; url: string }) {
  const l = loc(input.locale);
  return {
    subject: translate(l, "live.mail.waitlist.subject", { product: input.product }),
    text: [translate(l, "live.mail.waitlist.body", { product: input.product, minutes: input.minutes }), "", input.url].join("\n"),
  };
}
