import express from "express";

/** Serves re-encoded images. Names are content hashes, so they never change. */
export function mediaRoutes(uploadsDir: string) {
  return express.static(uploadsDir, {
    immutable: true,
    maxAge: "365d",
    index: false,
    fallthrough: true,
    dotfiles: "deny",
  });
}
