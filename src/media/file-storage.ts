import { randomUUID } from "node:crypto";
import { createReadStream } from "node:fs";
import { mkdir, rename, stat, unlink, writeFile } from "node:fs/promises";
import path from "node:path";
import type { Readable } from "node:stream";
import type * as S3 from "@aws-sdk/client-s3";

/**
 * Where re-encoded images are kept. Keys are file names derived from a
 * content hash ("3f2a…-640.webp"), so a key is written once and never
 * changes: writing it again with the same bytes is harmless, and whatever
 * serves it may cache it forever. Two implementations: a local directory
 * (the default, `./data/uploads`) and an S3-compatible bucket, so several app
 * instances can share one set of images.
 */
export interface FileStorage {
  readonly kind: "local" | "s3";
  put(key: string, body: Buffer, contentType: string): Promise<void>;
  /** The file's bytes as a stream, or null when there is no such file. */
  get(key: string): Promise<StoredFile | null>;
}

export interface StoredFile {
  body: Readable;
  contentType: string;
  contentLength: number | undefined;
}

const TYPES: Record<string, string> = { ".webp": "image/webp", ".jpg": "image/jpeg", ".jpeg": "image/jpeg", ".png": "image/png" };
const typeOf = (key: string) => TYPES[path.extname(key).toLowerCase()] ?? "application/octet-stream";

/** Keys are flat file names of lower-case letters, digits, dashes and one extension. */
export function isStorageKey(key: string): boolean {
  return /^[a-z0-9][a-z0-9-]{0,120}\.[a-z0-9]{2,5}$/.test(key);
}

function assertKey(key: string) {
  if (!isStorageKey(key)) throw new Error(`file storage: invalid key ${JSON.stringify(key)}`);
}

/** Files in one directory: today's layout (`<uploadsDir>/<key>`). */
export class LocalFileStorage implements FileStorage {
  readonly kind = "local" as const;
  constructor(readonly dir: string) {}

  async put(key: string, body: Buffer): Promise<void> {
    assertKey(key);
    await mkdir(this.dir, { recursive: true });
    // Written beside and renamed into place, so a reader never sees half a file.
    const partial = path.join(this.dir, `.${key}.${randomUUID()}.part`);
    try {
      await writeFile(partial, body);
      await rename(partial, path.join(this.dir, key));
    } catch (err) {
      await unlink(partial).catch(() => undefined);
      throw err;
    }
  }

  async get(key: string): Promise<StoredFile | null> {
    if (!isStorageKey(key)) return null;
    const file = path.join(this.dir, key);
    try {
      const info = await stat(file);
      if (!info.isFile()) return null;
      return { body: createReadStream(file), contentType: typeOf(key), contentLength: info.size };
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === "ENOENT") return null;
      throw err;
    }
  }
}

export interface S3StorageOptions {
  bucket: string;
  /** Key prefix inside the bucket, e.g. "shop1/" (default none). */
  prefix?: string;
  region?: string;
  /** For S3-compatible services (MinIO, R2, Spaces, s3rver): their URL. Unset for AWS. */
  endpoint?: string;
  /** Path-style URLs (`endpoint/bucket/key`): what most S3-compatible services need. */
  forcePathStyle?: boolean;
  /** Unset: the AWS SDK's own chain (environment, profile, instance role). */
  credentials?: { accessKeyId: string; secretAccessKey: string };
}

/**
 * An S3-compatible bucket through the AWS SDK v3, loaded on first use (it is
 * large and a shop on local disk never needs it). Objects are private; the
 * shop serves them at /media like local files, so a CDN in front of the shop
 * caches them the same way.
 */
export class S3FileStorage implements FileStorage {
  readonly kind = "s3" as const;
  #client: Promise<{ sdk: typeof S3; client: S3.S3Client }> | undefined;

  constructor(readonly options: S3StorageOptions) {}

  private client() {
    return (this.#client ??= import("@aws-sdk/client-s3").then((sdk) => ({
      sdk,
      client: new sdk.S3Client({
        region: this.options.region ?? "us-east-1",
        ...(this.options.endpoint ? { endpoint: this.options.endpoint } : {}),
        forcePathStyle: this.options.forcePathStyle ?? Boolean(this.options.endpoint),
        ...(this.options.credentials ? { credentials: this.options.credentials } : {}),
        // Only when an operation requires it: many S3-compatible services
        // refuse the SDK's newer default checksums (CRC32 trailers).
        requestChecksumCalculation: "WHEN_REQUIRED",
        responseChecksumValidation: "WHEN_REQUIRED",
      }),
    })));
  }

  private objectKey(key: string) {
    return `${this.options.prefix ?? ""}${key}`;
  }

  async put(key: string, body: Buffer, contentType: string): Promise<void> {
    assertKey(key);
    const { sdk, client } = await this.client();
    await client.send(
      new sdk.PutObjectCommand({
        Bucket: this.options.bucket,
        Key: this.objectKey(key),
        Body: body,
        ContentType: contentType,
        CacheControl: "public, max-age=31536000, immutable",
      }),
    );
  }

  async get(key: string): Promise<StoredFile | null> {
    if (!isStorageKey(key)) return null;
    const { sdk, client } = await this.client();
    try {
      const out = await client.send(new sdk.GetObjectCommand({ Bucket: this.options.bucket, Key: this.objectKey(key) }));
      if (!out.Body) return null;
      return { body: out.Body as Readable, contentType: out.ContentType ?? typeOf(key), contentLength: out.ContentLength };
    } catch (err) {
      if (err instanceof sdk.NoSuchKey || (err as { name?: string }).name === "NotFound" || (err as { $metadata?: { httpStatusCode?: number } }).$metadata?.httpStatusCode === 404) return null;
      throw err;
    }
  }

  /** Stops the SDK's sockets (tests, shutdown). */
  async close(): Promise<void> {
    if (this.#client) (await this.#client).client.destroy();
  }
}
