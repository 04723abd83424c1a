import { X509Certificate } from "node:crypto";
import { readFileSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { describe, expect, test } from "vitest";
import {
  CERTIFICATE_ANNOTATION,
  containersImageSignatureBlob,
  parseContainersImageSignature,
  SignatureBlobError,
  SIGNATURE_ANNOTATION,
  SIGSTORE_BLOB_PREFIX,
  verifyContainersImageSignature,
  verifyLegacySignature,
} from "@frostyard/cosign";

const DIR = fileURLToPath(new URL("../fixtures/shared/cosign/containers-image/", import.meta.url));
const read = (path: string) => readFileSync(`${DIR}${path}`);
const COSIGN_PUB = read("cosign.pub").toString();
const COSIGN2_PUB = read("cosign2.pub").toString();
const SINGLE_SAMPLE = "192.168.64.2:5000/cosign-signed-single-sample";
const VALID_MANIFEST = "dir-img-cosign-valid/manifest.json";

describe("containers/image signature fixtures verify the way a host decides", () => {
  test.each<[string, string, string, string, string]>([
    // signature file, manifest file, public key, repository the image is pulled as, expected outcome
    ["dir-img-cosign-valid/signature-1", VALID_MANIFEST, COSIGN_PUB, SINGLE_SAMPLE, "ok"],
    [
      "dir-img-cosign-valid-2/signature-1",
      "dir-img-cosign-valid-2/manifest.json",
      COSIGN_PUB,
      SINGLE_SAMPLE,
      "ok",
    ],
    [
      "dir-img-cosign-valid-2/signature-2",
      "dir-img-cosign-valid-2/manifest.json",
      COSIGN_PUB,
      `${SINGLE_SAMPLE}:latest`,
      "ok",
    ],
    [
      "dir-img-cosign-valid-with-tag/signature-1",
      "dir-img-cosign-valid-with-tag/manifest.json",
      COSIGN_PUB,
      "192.168.64.2:5000/skopeo-signed:othertag",
      "ok",
    ],
    [
      "dir-img-cosign-key-rekor-valid/signature-1",
      "dir-img-cosign-key-rekor-valid/manifest.json",
      COSIGN2_PUB,
      "192.168.64.2:5000/cosign-signed/key-1",
      "ok",
    ],
    [
      "dir-img-cosign-mixed/signature-2",
      "dir-img-cosign-mixed/manifest.json",
      COSIGN_PUB,
      SINGLE_SAMPLE,
      "ok",
    ],
    [
      "dir-img-cosign-mixed/signature-1",
      "dir-img-cosign-mixed/manifest.json",
      COSIGN_PUB,
      SINGLE_SAMPLE,
      "bad-signature",
    ],
    ["dir-img-cosign-valid/signature-1", VALID_MANIFEST, COSIGN2_PUB, SINGLE_SAMPLE, "bad-signature"],
    [
      "dir-img-cosign-key-rekor-valid/signature-1",
      "dir-img-cosign-key-rekor-valid/manifest.json",
      COSIGN_PUB,
      "192.168.64.2:5000/cosign-signed/key-1",
      "bad-signature",
    ],
    ["unknown-cosign-key.signature", VALID_MANIFEST, COSIGN_PUB, SINGLE_SAMPLE, "bad-signature"],
    ["unknown-cosign-key.signature", VALID_MANIFEST, COSIGN2_PUB, SINGLE_SAMPLE, "bad-signature"],
    [
      "dir-img-cosign-modified-manifest/signature-1",
      "dir-img-cosign-modified-manifest/manifest.json",
      COSIGN_PUB,
      SINGLE_SAMPLE,
      "digest-mismatch",
    ],
    [
      "dir-img-cosign-manifest-digest-error/signature-1",
      "dir-img-cosign-manifest-digest-error/manifest.json",
      COSIGN_PUB,
      SINGLE_SAMPLE,
      "manifest-digest-error",
    ],
    [
      "dir-img-cosign-other-attachment/signature-1",
      "dir-img-cosign-other-attachment/manifest.json",
      COSIGN_PUB,
      SINGLE_SAMPLE,
      "not-a-signature",
    ],
    [
      "dir-img-cosign-valid/signature-1",
      VALID_MANIFEST,
      COSIGN_PUB,
      "testing/manifest:notlatest",
      "identity-mismatch",
    ],
    [
      "dir-img-cosign-valid/signature-1",
      VALID_MANIFEST,
      COSIGN_PUB,
      "this/does-not:match",
      "identity-mismatch",
    ],
    [
      "dir-img-cosign-valid/signature-1",
      VALID_MANIFEST,
      COSIGN_PUB,
      "192.168.64.2:5000/cosign-signed-single-sample/child",
      "identity-mismatch",
    ],
    [
      "dir-img-cosign-valid-with-tag/signature-1",
      "dir-img-cosign-valid-with-tag/manifest.json",
      COSIGN_PUB,
      SINGLE_SAMPLE,
      "identity-mismatch",
    ],
    [
      "dir-img-cosign-fulcio-rekor-valid/signature-1",
      "dir-img-cosign-fulcio-rekor-valid/manifest.json",
      COSIGN_PUB,
      "192.168.64.2:5000/cosign-signed/fulcio-rekor-1",
      "bad-signature",
    ],
  ])("%s with %s, key #%#, as %s → %s", (signature, manifest, publicKey, repository, expected) => {
    const outcome = verifyContainersImageSignature({
      blob: read(signature),
      manifest: read(manifest),
      publicKey,
      repository,
    });
    expect(outcome.ok ? "ok" : outcome.reason).toBe(expected);
  });

  test("the reasons read like containers/image's", () => {
    const digestError = verifyContainersImageSignature({
      blob: read("dir-img-cosign-manifest-digest-error/signature-1"),
      manifest: read("dir-img-cosign-manifest-digest-error/manifest.json"),
      publicKey: COSIGN_PUB,
      repository: SINGLE_SAMPLE,
    });
    expect(digestError).toEqual({
      ok: false,
      reason: "manifest-digest-error",
      message:
        "the image manifest is Docker schema 1, whose digest cannot be computed here (its JWS signatures would have to be stripped)",
    });
    const modified = verifyContainersImageSignature({
      blob: read("dir-img-cosign-modified-manifest/signature-1"),
      manifest: read("dir-img-cosign-modified-manifest/manifest.json"),
      publicKey: COSIGN_PUB,
      repository: SINGLE_SAMPLE,
    });
    expect(modified.ok ? "" : modified.message).toBe(
      "signature for digest sha256:634a8f35b5f16dcf4aaa0822adc0b1964bb786fca12f6831de8ddc45e5986a00 does not match the manifest (sha256 sha256:d9dcafdb480aa7c475e91737b96925e45844213dcb0290b4a90017459121f71f)",
    );
  });

  // (dir-img-cosign-pki-valid's certificate holds an RSA key, which this P-256-only verifier refuses.)
  test.each(["dir-img-cosign-fulcio-rekor-valid"])(
    "%s: the keyless signature is sound under its certificate's key (chain trust is not checked here)",
    (dir) => {
      const signature = parseContainersImageSignature(read(`${dir}/signature-1`));
      const certificate = new X509Certificate(signature.annotations[CERTIFICATE_ANNOTATION] as string);
      const payload = JSON.parse(signature.payload.toString());
      const outcome = verifyLegacySignature({
        payload: signature.payload,
        signatureB64: signature.annotations[SIGNATURE_ANNOTATION] as string,
        publicKey: certificate.publicKey,
        expected: {
          manifestDigest: payload.critical.image["docker-manifest-digest"],
          repository: payload.critical.identity["docker-reference"],
        },
      });
      expect(outcome.ok).toBe(true);
    },
  );
});

describe("the containers/image blob format", () => {
  test.each([
    "dir-img-cosign-valid/signature-1",
    "dir-img-cosign-valid-2/signature-2",
    "dir-img-cosign-valid-with-tag/signature-1",
    "dir-img-cosign-key-rekor-valid/signature-1",
    "dir-img-cosign-fulcio-rekor-valid/signature-1",
    "dir-img-cosign-pki-valid/signature-1",
    "dir-img-cosign-no-manifest/signature-1",
  ])("%s parses and re-serialises byte for byte", (file) => {
    const blob = read(file);
    expect(containersImageSignatureBlob(parseContainersImageSignature(blob)).equals(blob)).toBe(true);
  });

  // These two were edited by hand upstream and end with a newline Go's json.Marshal never writes.
  test.each(["dir-img-cosign-other-attachment/signature-1", "unknown-cosign-key.signature"])(
    "%s (hand-made) parses; re-serialising drops only its trailing newline",
    (file) => {
      const blob = read(file);
      expect(blob.at(-1)).toBe(0x0a);
      expect(
        containersImageSignatureBlob(parseContainersImageSignature(blob)).equals(blob.subarray(0, -1)),
      ).toBe(true);
    },
  );

  const json = (value: unknown) => Buffer.from(SIGSTORE_BLOB_PREFIX + JSON.stringify(value));
  test.each<[string, Buffer, string]>([
    ["a GPG signature", Buffer.from([0xa3, 0x01, 0x02]), "a GPG simple-signing signature or unknown data"],
    ["another format", Buffer.from("\0other-format\n{}"), 'starts with format "other-format"'],
    ["broken JSON", Buffer.from(`${SIGSTORE_BLOB_PREFIX}{`), "does not parse"],
    ["no mimeType", json({ payload: "", annotations: {} }), '"mimeType" is not a string'],
    [
      "payload not base64",
      json({ mimeType: "x", payload: "!!", annotations: {} }),
      '"payload" is not base64',
    ],
    [
      "annotations not strings",
      json({ mimeType: "x", payload: "", annotations: { a: 1 } }),
      '"annotations" is not an object of strings',
    ],
  ])("refuses %s", (_name, blob, fragment) => {
    let error: unknown;
    try {
      parseContainersImageSignature(blob);
    } catch (caught) {
      error = caught;
    }
    expect(error).toBeInstanceOf(SignatureBlobError);
    expect((error as Error).message).toContain(fragment);
  });
});
