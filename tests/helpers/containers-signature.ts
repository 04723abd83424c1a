import type { SignatureCandidate } from "@frostyard/cosign";

/**
 * containers/image's on-disk form of a sigstore signature (`signature-N` in a `dir:` image, the lookaside
 * store): a 0x00 byte, the format name, a newline, then `{"mimeType","payload","annotations"}`. The sign
 * step never reads this form (it reads `.sig` layers from the registry); tests read skopeo's output and the
 * shared fixtures in it, as the same candidate the registry path hands the verifiers.
 */
export const SIGSTORE_BLOB_PREFIX = "\0sigstore-json\n";

export function readContainersSignature(bytes: Uint8Array): SignatureCandidate & { payload: Buffer } {
  const buffer = Buffer.from(bytes);
  const prefix = Buffer.from(SIGSTORE_BLOB_PREFIX, "latin1");
  if (!buffer.subarray(0, prefix.length).equals(prefix))
    throw new Error("not a sigstore-json signature blob");
  const json = JSON.parse(buffer.subarray(prefix.length).toString("utf8")) as {
    mimeType: string;
    payload: string;
    annotations: Record<string, string>;
  };
  return {
    mediaType: json.mimeType,
    payload: Buffer.from(json.payload, "base64"),
    annotations: json.annotations,
  };
}
