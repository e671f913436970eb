import type QRCodeModule from "qrcode";
import { lazyModule } from "../lazy.js";

const qrcode = lazyModule<typeof QRCodeModule>("qrcode");

/**
 * QR codes for tracked links, drawn by the `qrcode` package. Error correction
 * level M (15 %) survives a creased flyer or a glare on a phone screen held up
 * to a stream camera, and keeps short-link codes at a low version (fewer,
 * larger modules) so they scan from across a room.
 */
const OPTIONS = { errorCorrectionLevel: "M" as const, margin: 4, color: { dark: "#000000", light: "#ffffff" } };

export async function qrSvg(text: string): Promise<string> {
  return qrcode().toString(text, { ...OPTIONS, type: "svg" });
}

export async function qrPng(text: string, size = 768): Promise<Buffer> {
  return qrcode().toBuffer(text, { ...OPTIONS, type: "png", width: size });
}
