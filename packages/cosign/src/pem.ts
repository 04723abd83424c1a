/** One PEM block: its label (`ENCRYPTED SIGSTORE PRIVATE KEY`, `PUBLIC KEY`, …) and its DER bytes. */
export interface PemBlock {
  label: string;
  bytes: Buffer;
}

const BEGIN = /-----BEGIN ([^\r\n]*?)-----/;
const BASE64 = /^[A-Za-z0-9+/]*={0,2}$/;

/**
 * Decodes the first PEM block in `text`, like Go's pem.Decode (text around the block is ignored).
 * Throws an Error that says which part is wrong; it never quotes the body.
 */
export function decodePem(text: string): PemBlock {
  const begin = BEGIN.exec(text);
  if (!begin) throw new Error('no "-----BEGIN …-----" line was found');
  const label = begin[1] as string;
  const endLine = `-----END ${label}-----`;
  const bodyStart = begin.index + begin[0].length;
  const end = text.indexOf(endLine, bodyStart);
  if (end < 0) throw new Error(`the "-----BEGIN ${label}-----" block has no "${endLine}" line`);
  const body = text.slice(bodyStart, end);
  if (/^[ \t]*[\w-]+:/m.test(body)) {
    throw new Error(`the ${label} block has PEM headers (such as Proc-Type), which are not supported`);
  }
  const base64 = body.replace(/\s+/g, "");
  if (base64 === "") throw new Error(`the ${label} block is empty`);
  if (base64.length % 4 !== 0 || !BASE64.test(base64)) {
    throw new Error(`the body of the ${label} block is not valid base64`);
  }
  return { label, bytes: Buffer.from(base64, "base64") };
}

/** A PEM block as Go's pem.EncodeToMemory writes it: 64-character lines, a final newline. */
export function encodePem(label: string, bytes: Uint8Array): string {
  const base64 = Buffer.from(bytes).toString("base64");
  const lines = base64.match(/.{1,64}/g) ?? [];
  return `-----BEGIN ${label}-----\n${lines.join("\n")}\n-----END ${label}-----\n`;
}

/** Strict standard base64 (padding required), as Go's encoding/json decodes `[]byte`. */
export function decodeStrictBase64(value: string): Buffer | undefined {
  if (value.length % 4 !== 0 || !BASE64.test(value)) return undefined;
  return Buffer.from(value, "base64");
}
