import type { KeyObject } from "node:crypto";
import { formatReference, withTag, type RegistryClient } from "@frostyard/oci";
import { SIGSTORE_BUNDLE_V03_MEDIA_TYPE } from "./constants";
import { signatureTag } from "./legacy-format";
import type { Logger } from "@frostyard/kit";
import { createKeyBundle } from "./key-bundle";
import type { CosignPrivateKey } from "./keys";
import { promoteTagsReadBack, type PromoteOptions, type TagPromotion } from "./promote";
import {
  pushBundleSignature,
  pushLegacySignature,
  resolveImage,
  signTargets,
  type PushedSignature,
  type ResolvedImage,
  type SignTarget,
} from "./registry-sign";
import {
  keyVerifier,
  verifyInRegistry,
  type SignatureFormat,
  type SignatureVerifier,
} from "./registry-verify";
import { createLegacySignature, keyLayerSigner, type LegacyLayerSigner } from "./sign";

/** Who signs, as the summary names it. */
export type SignerIdentity =
  { kind: "key"; fingerprint: string } | { kind: "keyless"; identity: string; issuer: string };

/**
 * Something that signs: a cosign key natively, or keyless through Fulcio and Rekor. It makes the signature
 * material; pushing it is the same for both.
 */
export interface ImageSigner {
  identity(): SignerIdentity;
  /** The key duplicates are judged with (cosign's rule); keyless signers have none. */
  publicKey?: KeyObject;
  /** The `.sig` layer annotations for one simple-signing payload (signature, and certificate/chain/bundle keyless). */
  legacy: LegacyLayerSigner;
  /** A sigstore bundle for one manifest digest. */
  bundle(manifestDigest: string, annotations: Record<string, string>): Promise<Buffer>;
  verifier(): SignatureVerifier;
}

/** A native signer over a decrypted cosign key. */
export function keySigner(key: CosignPrivateKey): ImageSigner {
  return {
    identity: () => ({ kind: "key", fingerprint: key.fingerprint }),
    publicKey: key.publicKey,
    legacy: keyLayerSigner(key.privateKey),
    bundle: async (manifestDigest, annotations) =>
      createKeyBundle({ manifestDigest, privateKey: key.privateKey, publicKey: key.publicKey, annotations }),
    verifier: () => keyVerifier(key.publicKey),
  };
}

export interface SignedTarget {
  digest: string;
  mediaType: string;
  platform?: string;
  signatures: PushedSignature[];
  verified: boolean;
  verification: string[];
}

export interface SignedImage {
  image: ResolvedImage;
  targets: SignedTarget[];
  /** The tags that name the signed digest when read back after promotion. */
  promoted: string[];
  /** Tags this run promoted that another writer moved before the read-back: not promoted by us. */
  superseded: Omit<TagPromotion, "promoted">[];
}

export interface SignImagesRequest {
  client: RegistryClient;
  images: readonly string[];
  signer: ImageSigner;
  format: SignatureFormat;
  recursive: boolean;
  annotations: Record<string, string>;
  promoteTags: readonly string[];
  logger: Logger;
  now?: () => Date;
  /**
   * Signs one image (its root digest; with `recursive`, the CLI's own --recursive covers the rest) some
   * other way, e.g. the cosign CLI. The signer then only names the identity and verifies; what was pushed is
   * read back from the registry for the report.
   */
  external?: (image: ResolvedImage, targets: readonly SignTarget[]) => Promise<void>;
  /** Between each tag's PUT and its read-back (tests move the tag from outside here). */
  afterPromotePut?: PromoteOptions["afterPut"];
  /**
   * Runs after every signature verified and before any tag moves (attestations): a failure it returns
   * stops the run there, and nothing is promoted.
   */
  beforePromote?: (images: readonly SignedImage[]) => Promise<string | undefined>;
}

export interface SignImagesReport {
  images: SignedImage[];
  /** True only when every signature of every image verified in the registry. */
  verified: boolean;
  /** The first failure, for the step's error; undefined when all went well. */
  failure?: string;
}

/** The signatures the registry holds for a target, as the report lists them (after an external signer ran). */
async function findSignatures(
  client: RegistryClient,
  target: SignTarget,
  format: SignatureFormat,
): Promise<PushedSignature[]> {
  const found: PushedSignature[] = [];
  const { digest } = target.descriptor;
  if (format !== "bundle") {
    const ref = withTag(target.repository, signatureTag(digest));
    const head = await client.headManifest(ref);
    if (head)
      found.push({ format: "legacy", reference: formatReference(ref), digest: head.digest, added: true });
  }
  if (format !== "legacy") {
    const { descriptors, source } = await client.listReferrers(
      target.repository,
      digest,
      SIGSTORE_BUNDLE_V03_MEDIA_TYPE,
    );
    for (const d of descriptors) {
      found.push({
        format: "bundle",
        reference: formatReference({ ...target.repository, digest: d.digest }),
        digest: d.digest,
        added: true,
        referrers: source,
      });
    }
  }
  return found;
}

function platformName(target: SignTarget): string | undefined {
  const p = target.platform;
  return p ? [p.os, p.architecture, p.variant].filter(Boolean).join("/") : undefined;
}

/**
 * The sign step: resolve every image to its digest, sign each digest (and, recursive, each platform
 * manifest) in the chosen format, read it all back from the registry and verify it as a host would, and
 * only when every image verified move `promoteTags` to the digests. A failure at any point leaves every
 * tag where it was; what was signed until then is in the report.
 */
export async function signImages(request: SignImagesRequest): Promise<SignImagesReport> {
  const { client, signer, format, logger } = request;
  const now = request.now ?? (() => new Date());
  const images: SignedImage[] = [];

  // Resolve everything first: a tag that does not exist fails before anything is pushed.
  const resolved: ResolvedImage[] = [];
  for (const [index, value] of request.images.entries()) {
    const image = await resolveImage(
      client,
      value,
      request.images.length > 1 ? `image (entry ${index + 1})` : "image",
    );
    logger.info(`${image.input} → ${image.digest}`);
    resolved.push(image);
  }

  for (const image of resolved) {
    const targets = await signTargets(client, image, request.recursive);
    const signed: SignedTarget[] = [];
    if (request.external) {
      await request.external(image, targets);
      for (const target of targets) {
        const platform = platformName(target);
        signed.push({
          digest: target.descriptor.digest,
          mediaType: target.descriptor.mediaType,
          ...(platform ? { platform } : {}),
          signatures: await findSignatures(client, target, format),
          verified: false,
          verification: [],
        });
      }
      images.push({ image, targets: signed, promoted: [], superseded: [] });
      continue;
    }
    for (const target of targets) {
      const { digest } = target.descriptor;
      const signatures: PushedSignature[] = [];
      const where = `${formatReference({ ...target.repository, digest })}`;
      if (format !== "bundle") {
        const layer = await createLegacySignature({
          repository: target.repository,
          manifestDigest: digest,
          annotations: request.annotations,
          signer: (payload) => signer.legacy(payload),
        });
        const pushed = await pushLegacySignature(client, target.repository, digest, layer, {
          ...(signer.publicKey ? { publicKey: signer.publicKey } : {}),
        }).catch((error: unknown) => {
          throw new Error(`pushing the legacy signature of ${where} failed`, { cause: error });
        });
        logger.info(
          `${where}: ${pushed.added ? "signature pushed to" : "already signed by this key in"} ${pushed.reference} (${pushed.digest})`,
        );
        signatures.push(pushed);
      }
      if (format !== "legacy") {
        const bundle = await signer.bundle(digest, request.annotations);
        const pushed = await pushBundleSignature(
          client,
          target.repository,
          target.descriptor,
          bundle,
          now(),
        ).catch((error: unknown) => {
          throw new Error(`pushing the bundle signature of ${where} failed`, { cause: error });
        });
        logger.info(`${where}: bundle pushed as ${pushed.reference} (${pushed.referrers})`);
        signatures.push(pushed);
      }
      const platform = platformName(target);
      signed.push({
        digest,
        mediaType: target.descriptor.mediaType,
        ...(platform ? { platform } : {}),
        signatures,
        verified: false,
        verification: [],
      });
    }
    images.push({ image, targets: signed, promoted: [], superseded: [] });
  }

  // Verify only after everything was pushed: this reads back what the registry holds now.
  const verifier = signer.verifier();
  let failure: string | undefined;
  for (const { image, targets } of images) {
    for (const target of targets) {
      const result = await verifyInRegistry(client, image.repository, target.digest, format, verifier);
      target.verified = result.verified;
      target.verification = result.messages;
      const where = formatReference({ ...image.repository, digest: target.digest });
      logger.info(`verify ${where}: ${result.messages.join("; ")}`);
      if (!result.verified && failure === undefined) {
        failure = `verification of ${where} failed after signing (${result.messages.join("; ")}); no tags were promoted`;
      }
    }
  }
  if (failure) return { images, verified: false, failure };
  failure = await request.beforePromote?.(images);
  if (failure) return { images, verified: false, failure };

  for (const signedImage of images) {
    const results = await promoteTagsReadBack(
      client,
      signedImage.image.repository,
      signedImage.image.digest,
      request.promoteTags,
      { logger, ...(request.afterPromotePut ? { afterPut: request.afterPromotePut } : {}) },
    );
    signedImage.promoted = results.filter((r) => r.promoted).map((r) => r.reference);
    signedImage.superseded = results
      .filter((r) => !r.promoted)
      .map(({ reference, digest }) => ({ reference, digest }));
    for (const ref of signedImage.promoted) logger.info(`promoted ${ref} → ${signedImage.image.digest}`);
  }
  return { images, verified: true };
}
