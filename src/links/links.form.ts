import { z } from "zod";

/**
 * The admin's new-link form: one field per kind of destination, of which only
 * the chosen one is used. Exactly these fields are accepted.
 */
export const LinkForm = z.strictObject({
  _csrf: z.string().optional(),
  targetType: z.string().max(20).default(""),
  product: z.string().max(120).default(""),
  postId: z.string().max(64).default(""),
  collectionId: z.string().max(64).default(""),
  liveSessionId: z.string().max(64).default(""),
  duringLiveSessionId: z.string().max(64).default(""),
  path: z.string().max(400).default(""),
  code: z.string().max(60).default(""),
  channel: z.string().max(60).default(""),
  hostName: z.string().max(120).default(""),
  utmSource: z.string().max(120).default(""),
  utmMedium: z.string().max(120).default(""),
  utmCampaign: z.string().max(120).default(""),
  utmContent: z.string().max(120).default(""),
});
export type LinkFormT = z.infer<typeof LinkForm>;

/**
 * The tracking labels that can change after a link is shared. No defaults: a
 * label the form does not post keeps its value (an empty one clears it).
 */
export const LinkTrackingForm = z.strictObject({
  _csrf: z.string().optional(),
  channel: z.string().max(60).optional(),
  hostName: z.string().max(120).optional(),
  utmSource: z.string().max(120).optional(),
  utmMedium: z.string().max(120).optional(),
  utmCampaign: z.string().max(120).optional(),
  utmContent: z.string().max(120).optional(),
});

export const EMPTY_LINK_FORM: LinkFormT = {
  targetType: "product", product: "", postId: "", collectionId: "", liveSessionId: "", duringLiveSessionId: "", path: "", code: "",
  channel: "", hostName: "", utmSource: "", utmMedium: "", utmCampaign: "", utmContent: "",
};

/** The form's strings as LinkInput values (product resolved by the caller). */
export function linkFormToInput(form: LinkFormT, productId: string | null) {
  const type = form.targetType;
  const during = form.duringLiveSessionId || null;
  return {
    targetType: type,
    ...(type === "product" ? { productId, liveSessionId: during } : {}),
    ...(type === "post" ? { postId: form.postId || null } : {}),
    ...(type === "collection" ? { collectionId: form.collectionId || null, liveSessionId: during } : {}),
    ...(type === "live" ? { liveSessionId: form.liveSessionId || null } : {}),
    ...(type === "page" ? { path: form.path } : {}),
    code: form.code.trim() || null,
    channel: form.channel,
    hostName: form.hostName,
    utmSource: form.utmSource,
    utmMedium: form.utmMedium,
    utmCampaign: form.utmCampaign,
    utmContent: form.utmContent,
  };
}
