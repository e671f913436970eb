/**
 * English content people wrote, each piece carrying the marker "Qz", in a
 * shop whose default language is Persian: shop name and bio, a collection, a
 * product (title, description, brand, option values), reviews with a reply,
 * questions with an answer, a post with a tag, a tracked link, a paid order
 * (name, address, email), an order on the payment page, a cart, a follower,
 * a coupon, an outbox email.
 */
import request from "supertest";
import { queueEmail } from "../../src/mail/outbox.service.js";
import { answerQuestion } from "../../src/reviews/questions.service.js";
import { ShopSettingsForm } from "../../src/shop/shop.schema.js";
import { updateShopSettings } from "../../src/shop/shop.service.js";
import type { TestApp } from "./app.js";
import { createAdmin, createProduct } from "./factories.js";
import { makeCoupon } from "./followers.js";
import { signIn } from "./html.js";
import { payLocally } from "./orders.js";
import { createLink, createPost, createTag } from "./post-factories.js";
import { newShopper } from "./shopper.js";

export async function seedUserContent(t: TestApp) {
  await updateShopSettings(t.deps, { form: ShopSettingsForm.parse({ name: "Qz Studio.", bioEn: "Qz handmade goods, made slowly.", social_instagram: "@qz.studio", countries: ["US"] }), actor: { type: "system" } });
  const collection = await t.db.collection.create({ data: { slug: "qz-linen", title: "Qz Linen (new)" } });
  const product = await createProduct(t.deps, {
    title: "Qz Linen Napkins, set of 4.",
    description: "Qz soft washed linen (40 × 40 cm).",
    brand: "Qz Brand",
    optionNames: ["Colour"],
    variants: [{ option1: "Qz Sand!", sku: "QZ-NAP-SND", compareAtMinor: 3000, priceMinor: 2500 }, { option1: "Qz Rust?", sku: "QZ-NAP-RST", stock: 0 }],
    image: true,
  });
  await t.db.collectionProduct.create({ data: { collectionId: collection.id, productId: product.id } });
  const review = await t.db.review.create({
    data: { productId: product.id, rating: 4, title: "Qz Great!", body: "Qz Lovely napkins; would buy again.", displayName: "Qz Ana R.", status: "published", publishedAt: t.deps.now() },
  });
  await t.db.reviewReply.create({ data: { reviewId: review.id, body: "Qz Thank you, Ana!" } });
  await t.db.ratingSummary.create({ data: { productId: product.id, count: 1, sum: 4, star4: 1 } });
  await t.db.review.create({ data: { productId: product.id, rating: 2, title: "Qz Too small.", body: "Qz Smaller than I thought.", displayName: "Qz Bo", status: "pending" } });
  const question = await t.db.question.create({ data: { productId: product.id, body: "Qz Are they washable?", askerName: "Qz Bob", status: "published" } });
  await answerQuestion(t.deps, { questionId: question.id, body: "Qz Yes, at 40 °C.", actor: { type: "system" } });
  await t.db.question.create({ data: { productId: product.id, body: "Qz Do they shrink?", askerName: "Qz Cy", status: "published" } });

  const post = await createPost(t.deps, { caption: "Qz New napkins! Tap to shop.", permalink: "https://www.instagram.com/p/qz-napkins/" });
  await createTag(t.deps, { postId: post.id, productId: product.id, variantId: product.variants[0]!.id, x: 0.4, y: 0.5 });
  await createLink(t.deps, { targetType: "product", productId: product.id, channel: "qz-story", hostName: "Qz Host", utmSource: "qz", utmCampaign: "qz-spring" });

  const paid = await payLocally(t.app, t.deps, product.variants[0]!.id, {
    fields: { email: "qz.ana@example.com", name: "Qz Ana Rossi", line1: "Qz 12 Via Roma, apt. 3", city: "Qz Torino", postalCode: "10121", country: "IT" },
  });
  const waiting = await newShopper(t.app);
  await waiting.add(product.variants[0]!.id).expect(303);
  const started = await waiting.checkout({ email: "qz.bo@example.com" }).expect(303);
  const payUrl = new URL(started.headers.location!);
  const cartShopper = await newShopper(t.app);
  await cartShopper.add(product.variants[0]!.id).expect(303);

  await t.db.follower.create({ data: { platform: "instagram", handle: "qz.follower_1", handleKey: "qz.follower_1", personKey: "qz-person", status: "active", importedAt: t.deps.now(), followedAt: t.deps.now(), email: "qz.follower@example.com", emailKey: "qz.follower@example.com" } });
  await makeCoupon(t.deps, { code: "QZSPRING", description: "Qz spring sale (followers)" });
  await t.db.$transaction((tx) => queueEmail(tx, { to: "qz.someone@example.com", subject: "Qz Your order from Qz Studio.", text: "Qz Hello!", template: "test", dedupeKey: "qz-mail" }));

  const { email, password } = await createAdmin(t.deps);
  const admin = request.agent(t.app);
  await signIn(admin, email, password);
  return {
    product,
    slug: product.slug,
    postId: post.id,
    orderId: paid.order.id,
    orderPath: `/shop/orders/${paid.order.id}?key=${encodeURIComponent(paid.key)}`,
    payPath: payUrl.pathname + payUrl.search,
    cartShopper,
    admin,
    adminLogin: { email, password },
  };
}
