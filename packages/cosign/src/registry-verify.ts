import type { KeyObject } from "node:crypto";
import {
  isImageManifest,
  withDigest,
  withTag,
  type ImageManifest,
  type RegistryClient,
  type RepositoryRef,
} from "@frostyard/oci";
import { verifyBundleSignature } from "./bundle";
import { SIGSTORE_BUNDLE_V03_MEDIA_TYPE } from "./constants";
import { readSignatureLayers, signatureTag } from "./legacy-format";
import {
  verifySignatureSet,
  type ExpectedImage,
  type SignatureCandidate,
  type VerifyOutcome,
} from "./verify";

/** A verdict with the words a user needs when it is negative. */
export interface Verdict {
  ok: boolean;
  message: string;
}

/**
 * What a verifier trusts: a public key, or (keyless) a certificate identity and the sigstore trust root.
 * The same interface serves both, so the sign step verifies whatever it signed with.
 */
export interface SignatureVerifier {
  /** Legacy `.sig` layers, decided as a containers/image host does (any one valid signature accepts). */
  legacy(candidates: readonly SignatureCandidate[], expected: ExpectedImage): Promise<Verdict>;
  /** One sigstore bundle from a referrer. */
  bundle(bundle: Uint8Array, expected: ExpectedImage): Promise<Verdict>;
}

/** Verification with a cosign public key: the host's `sigstoreSigned` + `keyPath` rule. */
export function keyVerifier(publicKey: KeyObject): SignatureVerifier {
  return {
    legacy: async (candidates, expected) => {
      const result = verifySignatureSet(candidates, publicKey, expected);
      return { ok: result.accepted, message: result.message };
    },
    bundle: async (bundle, expected) => {
      const outcome = verifyBundleSignature({ bundle, publicKey, expected });
      return outcome.ok
        ? { ok: true, message: `bundle signature verified (${outcome.predicateType})` }
        : { ok: false, message: outcome.message };
    },
  };
}

/**
 * The signatures stored under `sha256-<hex>.sig` for a digest, each layer with its payload blob (checked
 * against its digest by the client): exactly what containers/image reads with `use-sigstore-attachments`.
 */
export async function fetchLegacySignatures(
  client: RegistryClient,
  repository: RepositoryRef,
  digest: string,
): Promise<SignatureCandidate[]> {
  const fetched = await client.getManifest(withTag(repository, signatureTag(digest)));
  if (!fetched) return [];
  if (!isImageManifest(fetched.manifest)) {
    throw new Error(
      `${repository.registry}/${repository.repository}:${signatureTag(digest)} is not an image manifest`,
    );
  }
  return Promise.all(
    readSignatureLayers(fetched.manifest).map(async (layer) => ({
      mediaType: layer.mediaType,
      annotations: layer.annotations,
      payload: await client.getBlob(repository, layer.payloadDigest),
    })),
  );
}

/** The sigstore bundles attached to a digest as referrers (through the referrers API or its tag fallback). */
export async function fetchBundles(
  client: RegistryClient,
  repository: RepositoryRef,
  digest: string,
): Promise<Buffer[]> {
  const { descriptors } = await client.listReferrers(repository, digest, SIGSTORE_BUNDLE_V03_MEDIA_TYPE);
  const bundles: Buffer[] = [];
  for (const descriptor of descriptors) {
    const fetched = await client.getManifest(withDigest({ ...repository }, descriptor.digest));
    if (!fetched || !isImageManifest(fetched.manifest)) continue;
    const layer = (fetched.manifest as ImageManifest).layers.find(
      (l) => l.mediaType === SIGSTORE_BUNDLE_V03_MEDIA_TYPE,
    );
    if (layer) bundles.push(await client.getBlob(repository, layer.digest));
  }
  return bundles;
}

export type SignatureFormat = "legacy" | "bundle" | "both";

export interface RegistryVerification {
  verified: boolean;
  /** One line per format checked, e.g. `legacy: 1 of 1 signature(s) accepted`. */
  messages: string[];
}

/**
 * Verifies what the registry now holds for one digest, reading it back as a host would; every format that
 * was signed must verify. A bundle counts when any one attached bundle verifies.
 */
export async function verifyInRegistry(
  client: RegistryClient,
  repository: RepositoryRef,
  digest: string,
  format: SignatureFormat,
  verifier: SignatureVerifier,
): Promise<RegistryVerification> {
  const expected: ExpectedImage = { manifestDigest: digest, repository };
  const messages: string[] = [];
  let verified = true;
  if (format !== "bundle") {
    const verdict = await verifier.legacy(await fetchLegacySignatures(client, repository, digest), expected);
    verified &&= verdict.ok;
    messages.push(`legacy: ${verdict.message}`);
  }
  if (format !== "legacy") {
    const bundles = await fetchBundles(client, repository, digest);
    const verdicts = await Promise.all(bundles.map((b) => verifier.bundle(b, expected)));
    const ok = verdicts.some((v) => v.ok);
    verified &&= ok;
    messages.push(
      bundles.length === 0
        ? "bundle: no sigstore bundle is attached to the digest"
        : ok
          ? `bundle: ${verdicts.filter((v) => v.ok).length} of ${bundles.length} bundle(s) verified`
          : `bundle: none verified (${verdicts.map((v) => v.message).join("; ")})`,
    );
  }
  return { verified, messages };
}

export type { VerifyOutcome };
