import { open, stat } from "node:fs/promises";
import type { Hash } from "node:crypto";

/** Blob content: bytes in memory, a file path (streamed, never read whole), or a factory of fresh streams. */
export type BlobSource = Buffer | string | (() => AsyncIterable<Uint8Array> | ReadableStream<Uint8Array>);

/** Uploads larger than this from a file or stream go in chunks unless told otherwise. */
export const DEFAULT_CHUNKED_THRESHOLD = 128 * 1024 * 1024;
export const DEFAULT_CHUNK_SIZE = 32 * 1024 * 1024;

/** `start-end`, both inclusive: the Content-Range form the distribution spec uses for PATCH. */
export function contentRange(start: number, length: number): string {
  return `${start}-${start + length - 1}`;
}

/** The end offset (inclusive) a registry reports in its `Range: 0-<end>` header, or undefined. */
export function parseUploadRange(header: string | null): number | undefined {
  const match = /^(?:bytes=)?0-(\d+)$/.exec(header?.trim() ?? "");
  return match ? Number(match[1]) : undefined;
}

/** Whether to upload in chunks: forced by `mode`, else for file/stream sources above the threshold. */
export function shouldChunk(
  source: BlobSource,
  size: number,
  mode: "auto" | "monolithic" | "chunked",
  threshold = DEFAULT_CHUNKED_THRESHOLD,
): boolean {
  if (mode !== "auto") return mode === "chunked";
  return !Buffer.isBuffer(source) && size > threshold;
}

/** The size of a source: a Buffer's length, a file's size, or the size the caller gave for a stream. */
export async function sourceSize(
  source: BlobSource,
  given: number | undefined,
  what: string,
): Promise<number> {
  if (Buffer.isBuffer(source)) return source.length;
  if (typeof source === "string") return (await stat(source)).size;
  if (given === undefined || !Number.isInteger(given) || given < 0) {
    throw new TypeError(`${what}: a stream source needs its size in bytes; got ${given}`);
  }
  return given;
}

async function* fileStream(path: string, bufferSize = 1024 * 1024): AsyncGenerator<Uint8Array> {
  const handle = await open(path, "r");
  try {
    for (;;) {
      const buffer = Buffer.allocUnsafe(bufferSize);
      const { bytesRead } = await handle.read(buffer, 0, bufferSize, null);
      if (bytesRead === 0) return;
      yield buffer.subarray(0, bytesRead);
    }
  } finally {
    await handle.close();
  }
}

/** A fresh iteration over the source's bytes (each call starts again at the beginning). */
export function iterateSource(source: BlobSource): AsyncIterable<Uint8Array> {
  if (Buffer.isBuffer(source)) {
    return (async function* () {
      yield source;
    })();
  }
  if (typeof source === "string") return fileStream(source);
  return source() as AsyncIterable<Uint8Array>;
}

/** Passes bytes through while hashing and counting them, so a streamed upload is checked without a second read. */
export async function* hashing(
  input: AsyncIterable<Uint8Array>,
  hash: Hash,
  counter: { bytes: number },
): AsyncGenerator<Uint8Array> {
  for await (const chunk of input) {
    hash.update(chunk);
    counter.bytes += chunk.length;
    yield chunk;
  }
}

/** Regroups a byte stream into Buffers of exactly `chunkSize` (the last one shorter). */
export async function* rechunk(input: AsyncIterable<Uint8Array>, chunkSize: number): AsyncGenerator<Buffer> {
  if (!Number.isInteger(chunkSize) || chunkSize <= 0)
    throw new RangeError(`chunk size must be a positive integer; got ${chunkSize}`);
  let pending: Buffer[] = [];
  let pendingBytes = 0;
  for await (const piece of input) {
    let data = Buffer.from(piece.buffer, piece.byteOffset, piece.byteLength);
    while (pendingBytes + data.length >= chunkSize) {
      const take = chunkSize - pendingBytes;
      pending.push(data.subarray(0, take));
      yield Buffer.concat(pending);
      pending = [];
      pendingBytes = 0;
      data = data.subarray(take);
    }
    if (data.length > 0) {
      // Copy: a file reader may reuse or the caller may mutate the buffer before the chunk is sent.
      pending.push(Buffer.from(data));
      pendingBytes += data.length;
    }
  }
  if (pendingBytes > 0) yield Buffer.concat(pending);
}
