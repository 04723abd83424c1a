import { createHash } from "node:crypto";
import { createReadStream, createWriteStream } from "node:fs";
import { Transform } from "node:stream";
import { pipeline } from "node:stream/promises";
import type { PartSpec } from "./artifact-plan";

/**
 * Copies one part of `source` to `destination`, streamed in 4 MiB reads (disks are gigabytes, never held in
 * memory), hashing the bytes on their way through; returns the part's sha256 and length.
 */
export async function writePart(
  source: string,
  part: Pick<PartSpec, "offset" | "length">,
  destination: string,
): Promise<{ sha256: string; size: number }> {
  const hash = createHash("sha256");
  let size = 0;
  await pipeline(
    createReadStream(source, {
      start: part.offset,
      end: part.offset + part.length - 1,
      highWaterMark: 4 * 1024 * 1024,
    }),
    new Transform({
      transform(chunk: Buffer, _encoding, done) {
        hash.update(chunk);
        size += chunk.length;
        done(null, chunk);
      },
    }),
    createWriteStream(destination, { mode: 0o644 }),
  );
  // A source that shrank under us would give a short part that still joins into the wrong file.
  if (size !== part.length)
    throw new Error(`${source}: read ${size} bytes at ${part.offset}, expected ${part.length}`);
  return { sha256: hash.digest("hex"), size };
}
