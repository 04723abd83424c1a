import type { KeyObject } from "node:crypto";
import type { Logger } from "@frostyard/kit";
import {
  formatReference,
  isImageManifest,
  isIndex,
  withTag,
  type ImageManifest,
  type RegistryClient,
  type RepositoryRef,
} from "@frostyard/oci";
import {
  attestationTag,
  buildAttestationManifest,
  PREDICATE_TYPE_ANNOTATION,
  type NewAttestationLayer,
} from "./attest-format";
import { IN_TOTO_PAYLOAD_TYPE } from "./constants";
import {
  DSSE_ENVELOPE_MEDIA_TYPE,
  DsseError,
  dsseSignedBy,
  keyPaeSigner,
  parseDsseEnvelope,
  signDsseEnvelope,
} from "./dsse";
import { attestationStatement, parseStatement, PredicateError, type PredicateSpec } from "./in-toto";
import { matchesRepository } from "./identity";
import type { Verdict } from "./registry-verify";

/**
 * Makes the `.att` layer for one in-toto statement: the signed DSSE envelope and, keyless, the certificate,
 * chain and Rekor bundle cosign puts next to it.
 */
export type AttestationSigner = (statement: Buffer) => Promise<Omit<NewAttestationLayer, "predicateType">>;

/** The attestation signer of a cosign key: `cosign attest --key` (no transparency log, as signing here). */
export function keyAttestationSigner(privateKey: KeyObject): AttestationSigner {
  const signer = keyPaeSigner(privateKey);
  return async (statement) => ({
    envelope: await signDsseEnvelope(IN_TOTO_PAYLOAD_TYPE, statement, signer),
  });
}

/** One attestation layer read back from a `.att` image. */
export interface AttestationCandidate {
  mediaType: string;
  annotations: Record<string, string>;
  layerDigest: string;
  envelope: Buffer;
}

/** What the verifier expects of an attestation: the image it is about and the predicate type it claims. */
export interface ExpectedAttestation {
  digest: string;
  repository: RepositoryRef;
  predicateType: string;
}

/** Decides one attestation layer (signature, then statement); key and keyless verifiers both fit. */
export type AttestationVerifier = (
  candidate: AttestationCandidate,
  expected: ExpectedAttestation,
) => Promise<Verdict>;

/**
 * The checks `cosign verify-attestation` makes after the signature: an in-toto payload, a subject with
 * the image's digest, the predicate type the layer claims, and the repository the subject names.
 */
export function statementProblem(
  payloadType: string,
  payload: Uint8Array,
  candidate: Pick<AttestationCandidate, "annotations">,
  expected: ExpectedAttestation,
): string | undefined {
  if (payloadType !== IN_TOTO_PAYLOAD_TYPE) {
    return `the envelope's payloadType is ${JSON.stringify(payloadType)}, not ${IN_TOTO_PAYLOAD_TYPE}`;
  }
  let statement;
  try {
    statement = parseStatement(payload);
  } catch (error) {
    if (error instanceof PredicateError) return error.message;
    throw error;
  }
  const [algorithm, hex] = expected.digest.split(":") as [string, string];
  const subject = statement.subjects.find((s) => s.digest[algorithm] === hex);
  if (!subject) return `no statement subject has digest ${expected.digest}`;
  if (subject.name !== undefined && !matchesRepository(subject.name, expected.repository)) {
    return `the statement subject names ${subject.name}, not ${expected.repository.registry}/${expected.repository.repository}`;
  }
  if (statement.predicateType !== expected.predicateType) {
    return `the statement's predicateType is ${statement.predicateType}, not ${expected.predicateType}`;
  }
  const annotated = candidate.annotations[PREDICATE_TYPE_ANNOTATION];
  if (annotated !== undefined && annotated !== statement.predicateType) {
    return `the layer's predicateType annotation (${annotated}) differs from the statement's (${statement.predicateType})`;
  }
  return undefined;
}

/** Verification with a cosign public key, as `cosign verify-attestation --key` (tlog ignored). */
export function keyAttestationVerifier(publicKey: KeyObject): AttestationVerifier {
  return async (candidate, expected) => {
    if (candidate.mediaType !== DSSE_ENVELOPE_MEDIA_TYPE) {
      return { ok: false, message: `layer media type ${candidate.mediaType} is not a DSSE envelope` };
    }
    let envelope;
    try {
      envelope = parseDsseEnvelope(candidate.envelope);
    } catch (error) {
      if (error instanceof DsseError) return { ok: false, message: error.message };
      throw error;
    }
    if (!dsseSignedBy(envelope, publicKey)) {
      return { ok: false, message: "no DSSE signature of the attestation verifies with this public key" };
    }
    const problem = statementProblem(envelope.payloadType, envelope.payload, candidate, expected);
    return problem ? { ok: false, message: problem } : { ok: true, message: "attestation verified" };
  };
}

/** Where an attestation went. */
export interface PushedAttestation {
  /** `registry/repo:sha256-<hex>.att`. */
  reference: string;
  /** The `.att` manifest digest after the push. */
  digest: string;
  /** The digest of the envelope layer: how this attestation is found among the others. */
  layerDigest: string;
  added: boolean;
}

/**
 * Appends one attestation to the `sha256-<hex>.att` image of `digest` (keeping those already there, as
 * `cosign attest` without `--replace`) and pushes envelope, config and manifest in that order.
 */
export async function pushAttestation(
  client: RegistryClient,
  repository: RepositoryRef,
  digest: string,
  layer: NewAttestationLayer,
): Promise<PushedAttestation> {
  const ref = withTag(repository, attestationTag(digest));
  const existing = await client.getManifest(ref);
  if (existing && isIndex(existing.manifest)) {
    throw new Error(
      `${formatReference(ref)} is an image index, not a cosign attestation image; refusing to overwrite it`,
    );
  }
  const image = buildAttestationManifest(existing?.manifest as ImageManifest | undefined, layer);
  const reference = formatReference(ref);
  if (!image.added && existing) {
    return { reference, digest: existing.digest, layerDigest: image.layer.digest, added: false };
  }
  await client.uploadBlob(repository, image.layer.digest, Buffer.from(layer.envelope));
  await client.uploadBlob(repository, image.manifest.config.digest, image.config);
  const pushed = await client.putManifest(ref, image.manifestBytes, image.manifest.mediaType!);
  return { reference, digest: pushed, layerDigest: image.layer.digest, added: true };
}

/** Every layer of the `.att` image of `digest`, each with its envelope blob (checked against its digest). */
export async function fetchAttestations(
  client: RegistryClient,
  repository: RepositoryRef,
  digest: string,
): Promise<AttestationCandidate[]> {
  const ref = withTag(repository, attestationTag(digest));
  const fetched = await client.getManifest(ref);
  if (!fetched) return [];
  if (!isImageManifest(fetched.manifest)) throw new Error(`${formatReference(ref)} is not an image manifest`);
  return Promise.all(
    fetched.manifest.layers.map(async (layer) => ({
      mediaType: layer.mediaType,
      annotations: layer.annotations ?? {},
      layerDigest: layer.digest,
      envelope: await client.getBlob(repository, layer.digest),
    })),
  );
}

/** One predicate file to attest, already read (and checked) by the caller. */
export interface AttestationInput {
  spec: PredicateSpec;
  /** Where it came from, for messages. */
  path: string;
  file: Uint8Array;
}

/** An attestation pushed and read back for one image digest. */
export interface AttestationResult {
  image: string;
  digest: string;
  type: string;
  predicateType: string;
  path: string;
  pushed: PushedAttestation;
  verified: boolean;
  message: string;
}

export interface AttestImagesRequest {
  client: RegistryClient;
  /** The signed images: each root digest gets every attestation. */
  images: readonly { input: string; repository: RepositoryRef; digest: string }[];
  attestations: readonly AttestationInput[];
  signer: AttestationSigner;
  verifier: AttestationVerifier;
  logger: Logger;
  now?: () => Date;
}

export interface AttestImagesReport {
  results: AttestationResult[];
  /** The first failure, for the step's error; undefined when every attestation verified. */
  failure?: string;
}

/**
 * Attests each image digest with each predicate as `cosign attest` does (statement, DSSE, `.att` layer
 * appended), then reads every `.att` back from the registry and verifies the layer it pushed. Pushing
 * stops at the first error; a failure is reported, not thrown, so the caller can withhold promotion.
 */
export async function attestImages(request: AttestImagesRequest): Promise<AttestImagesReport> {
  const { client, logger } = request;
  const now = request.now ?? (() => new Date());
  const results: AttestationResult[] = [];
  const pushedFor: (typeof request.images)[number][] = [];
  for (const image of request.images) {
    for (const attestation of request.attestations) {
      const statement = attestationStatement({
        spec: attestation.spec,
        file: attestation.file,
        repository: image.repository,
        digest: image.digest,
        timestamp: now(),
      });
      const layer = await request.signer(statement);
      const where = formatReference({ ...image.repository, digest: image.digest });
      const pushed = await pushAttestation(client, image.repository, image.digest, {
        ...layer,
        predicateType: attestation.spec.predicateType,
      }).catch((error: unknown) => {
        throw new Error(`pushing the ${attestation.spec.type} attestation of ${where} failed`, {
          cause: error,
        });
      });
      logger.info(
        `${where}: ${attestation.spec.type} attestation (${attestation.path}) pushed to ${pushed.reference} as layer ${pushed.layerDigest}`,
      );
      results.push({
        image: image.input,
        digest: image.digest,
        type: attestation.spec.type,
        predicateType: attestation.spec.predicateType,
        path: attestation.path,
        pushed,
        verified: false,
        message: "not verified",
      });
      pushedFor.push(image);
    }
  }

  // Read back only after everything was pushed: a later push must not have dropped an earlier layer.
  let failure: string | undefined;
  for (const [index, result] of results.entries()) {
    const image = pushedFor[index]!;
    const candidates = await fetchAttestations(client, image.repository, image.digest);
    const candidate = candidates.find((c) => c.layerDigest === result.pushed.layerDigest);
    const verdict: Verdict = candidate
      ? await request.verifier(candidate, {
          digest: image.digest,
          repository: image.repository,
          predicateType: result.predicateType,
        })
      : {
          ok: false,
          message: `${result.pushed.reference} no longer holds layer ${result.pushed.layerDigest}`,
        };
    result.verified = verdict.ok;
    result.message = verdict.message;
    const where = formatReference({ ...image.repository, digest: image.digest });
    logger.info(`verify ${result.type} attestation of ${where}: ${verdict.message}`);
    if (!verdict.ok && failure === undefined) {
      failure = `verification of the ${result.type} attestation of ${where} failed after pushing (${verdict.message}); no tags were promoted`;
    }
  }
  return failure ? { results, failure } : { results };
}
