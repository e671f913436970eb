import { checkOurHeader, mapOurRecords, OUR_COLUMN_MAP, ourHandleOf } from "./csv-ours.js";
import type { CsvFormatReader } from "./csv-rows.js";
import { checkShopifyHeader, isShopifyHeader, mapShopifyRecords, shopifyColumns, shopifyHandleOf } from "./csv-shopify.js";

/** The format a header names (ours or Shopify's), or null for a header we do not know. */
export function formatFor(header: string[], headerLine: number, shopCurrency: string): CsvFormatReader | null {
  if (isShopifyHeader(header)) {
    return {
      format: "shopify",
      columns: shopifyColumns(header),
      header: checkShopifyHeader(header, headerLine),
      handleOf: shopifyHandleOf(header),
      map: (records) => mapShopifyRecords(header, records, shopCurrency),
    };
  }
  if (header.includes("handle")) {
    return {
      format: "bazaarche",
      columns: OUR_COLUMN_MAP,
      header: checkOurHeader(header, headerLine),
      handleOf: ourHandleOf(header),
      map: (records) => mapOurRecords(header, records, shopCurrency),
    };
  }
  return null;
}

export const UNKNOWN_HEADER_MESSAGE =
  "The header is not one we know. Use our columns (handle,title,…,sku,price,stock,…) or a Shopify product export (Handle,Title,Body (HTML),…,Variant Price).";
