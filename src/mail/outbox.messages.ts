import { defineMessages } from "../i18n/define.js";

export const outboxMessages = defineMessages(
  {
    "outbox.lead": "Every email the shop has queued. Without SMTP configured they are not sent; read them here (confirmation links work from this page).",
    "outbox.all": "All",
    "outbox.queued": "Queued",
    "outbox.sent": "Sent",
    "outbox.failed": "Failed",
    "outbox.to": "To",
    "outbox.subject": "Subject",
    "outbox.status": "Status",
    "outbox.createdAt": "Queued at",
    "outbox.links": "Links in this email",
    "outbox.none": "No emails yet.",
  },
  {
    "outbox.lead": "همهٔ ایمیل‌هایی که فروشگاه در صف گذاشته است. بدون تنظیم SMTP ارسال نمی‌شوند؛ آن‌ها را اینجا بخوانید (پیوندهای تأیید از همین صفحه کار می‌کنند).",
    "outbox.all": "همه",
    "outbox.queued": "در صف",
    "outbox.sent": "ارسال‌شده",
    "outbox.failed": "ناموفق",
    "outbox.to": "گیرنده",
    "outbox.subject": "موضوع",
    "outbox.status": "وضعیت",
    "outbox.createdAt": "زمان صف",
    "outbox.links": "پیوندهای این ایمیل",
    "outbox.none": "هنوز ایمیلی نیست.",
  },
);
