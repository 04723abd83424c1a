import { X509Certificate } from "node:crypto";
import { readFileSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { describe, expect, test } from "vitest";
import {
  CERTIFICATE_ANNOTATION,
  SIGNATURE_ANNOTATION,
  verifyLegacySignature,
  verifySignatureSet,
} from "@frostyard/cosign";
import { sha256Digest } from "@frostyard/oci";
import { readContainersSignature } from "../helpers/containers-signature";

const DIR = fileURLToPath(new URL("../fixtures/shared/cosign/containers-image/", import.meta.url));
const read = (path: string) => readFileSync(`${DIR}${path}`);
const COSIGN_PUB = read("cosign.pub").toString();
const COSIGN2_PUB = read("cosign2.pub").toString();
const SINGLE_SAMPLE = "192.168.64.2:5000/cosign-signed-single-sample";
const VALID_MANIFEST = "dir-img-cosign-valid/manifest.json";

/**
 * containers/image's fixtures through the verifier the sign step runs on what the registry holds
 * (verifySignatureSet): the image's digest is the manifest's sha256, as the registry names it.
 */
function verifyFixture(signature: string, manifest: string, publicKey: string, repository: string) {
  return verifySignatureSet([readContainersSignature(read(signature))], publicKey, {
    manifestDigest: sha256Digest(read(manifest)),
    repository,
  });
}

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
      // Docker schema 1: its digest is not the sha256 of the file's bytes, so the signed digest cannot match.
      "digest-mismatch",
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
    const result = verifyFixture(signature, manifest, publicKey, repository);
    const [outcome] = result.outcomes;
    expect(result.accepted ? "ok" : outcome && !outcome.ok ? outcome.reason : "not-a-signature").toBe(
      expected,
    );
    expect(result.skipped).toBe(expected === "not-a-signature" ? 1 : 0);
  });

  test("the reasons read like containers/image's", () => {
    const modified = verifyFixture(
      "dir-img-cosign-modified-manifest/signature-1",
      "dir-img-cosign-modified-manifest/manifest.json",
      COSIGN_PUB,
      SINGLE_SAMPLE,
    );
    expect(modified.message).toBe(
      "signature for digest sha256:634a8f35b5f16dcf4aaa0822adc0b1964bb786fca12f6831de8ddc45e5986a00 does not match the image digest sha256:d9dcafdb480aa7c475e91737b96925e45844213dcb0290b4a90017459121f71f",
    );
  });

  // (dir-img-cosign-pki-valid's certificate holds an RSA key, which this P-256-only verifier refuses.)
  test.each(["dir-img-cosign-fulcio-rekor-valid"])(
    "%s: the keyless signature is sound under its certificate's key (chain trust is not checked here)",
    (dir) => {
      const signature = readContainersSignature(read(`${dir}/signature-1`));
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
