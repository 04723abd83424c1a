import { createHash, type Hash } from "node:crypto";

/** The digest algorithms this client can both validate and compute. */
export const DIGEST_ALGORITHMS = { sha256: 64, sha512: 128 } as const;
export type DigestAlgorithm = keyof typeof DIGEST_ALGORITHMS;

/** `sha256:<hex>` of the bytes. */
export function sha256Digest(bytes: Uint8Array | string): string {
  return `sha256:${createHash("sha256").update(bytes).digest("hex")}`;
}

/**
 * Why a digest string is unusable, or undefined when it is a well-formed sha256/sha512 digest
 * (`<algorithm>:<lowercase hex of the algorithm's length>`).
 */
export function digestProblem(digest: string): string | undefined {
  const colon = digest.indexOf(":");
  if (colon <= 0) return `digest "${digest}" has no algorithm; expected sha256:<64 hex>`;
  const algorithm = digest.slice(0, colon);
  const hex = digest.slice(colon + 1);
  if (!Object.hasOwn(DIGEST_ALGORITHMS, algorithm)) {
    return `digest algorithm "${algorithm}" is not supported; expected sha256 (or sha512)`;
  }
  const length = DIGEST_ALGORITHMS[algorithm as DigestAlgorithm];
  if (!/^[0-9a-fA-F]*$/.test(hex)) return `digest "${digest}" has non-hex characters after "${algorithm}:"`;
  if (hex.length !== length) {
    return `digest "${digest}" has ${hex.length} hex characters; ${algorithm} needs ${length}`;
  }
  if (hex !== hex.toLowerCase()) return `digest "${digest}" must be lowercase hex`;
  return undefined;
}

/** Throws when `digest` is not a well-formed, supported digest; `what` names it in the message. */
export function assertDigest(digest: string, what = "digest"): void {
  const problem = digestProblem(digest);
  if (problem) throw new TypeError(`${what}: ${problem}`);
}

/** A hash for the digest's own algorithm, so sha512-addressed content is verified as sha512. */
export function hasherFor(digest: string): { hash: Hash; algorithm: DigestAlgorithm } {
  assertDigest(digest);
  const algorithm = digest.slice(0, digest.indexOf(":")) as DigestAlgorithm;
  return { hash: createHash(algorithm), algorithm };
}

/** The digest of `bytes` computed with the same algorithm as `expected`. */
export function digestLike(expected: string, bytes: Uint8Array): string {
  const { hash, algorithm } = hasherFor(expected);
  return `${algorithm}:${hash.update(bytes).digest("hex")}`;
}

/** The hex part of a digest: the file name under blobs/<algorithm>/ and the referrers fallback tag. */
export function digestHex(digest: string): string {
  return digest.slice(digest.indexOf(":") + 1);
}

export function digestAlgorithm(digest: string): string {
  return digest.slice(0, digest.indexOf(":"));
}
