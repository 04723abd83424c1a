/** Media types and annotation keys of cosign's signature formats (cosign v2 `pkg/types`, `pkg/oci/static`). */

/** The layer media type of a legacy `.sig` signature: the layer blob is the simple-signing payload. */
export const SIMPLE_SIGNING_MEDIA_TYPE = "application/vnd.dev.cosign.simplesigning.v1+json";
/** `critical.type` of every cosign container signature payload. */
export const COSIGN_SIGNATURE_TYPE = "cosign container image signature";

/** Base64 ASN.1 DER ECDSA signature over SHA-256 of the payload. */
export const SIGNATURE_ANNOTATION = "dev.cosignproject.cosign/signature";
/** Keyless: the Fulcio leaf certificate (PEM). */
export const CERTIFICATE_ANNOTATION = "dev.sigstore.cosign/certificate";
/** Keyless: the intermediate chain (PEM, concatenated). */
export const CHAIN_ANNOTATION = "dev.sigstore.cosign/chain";
/** The Rekor signed entry timestamp (JSON). */
export const BUNDLE_ANNOTATION = "dev.sigstore.cosign/bundle";
/** An RFC 3161 timestamp (JSON). */
export const RFC3161_TIMESTAMP_ANNOTATION = "dev.sigstore.cosign/rfc3161timestamp";

/** The sigstore bundle format (cosign v3's default, an OCI 1.1 referrer). */
export const SIGSTORE_BUNDLE_V03_MEDIA_TYPE = "application/vnd.dev.sigstore.bundle.v0.3+json";
export const IN_TOTO_PAYLOAD_TYPE = "application/vnd.in-toto+json";
export const IN_TOTO_STATEMENT_V1 = "https://in-toto.io/Statement/v1";
/** The predicate type cosign v3 puts in the statement of a plain image signature. */
export const COSIGN_SIGN_PREDICATE_TYPE = "https://sigstore.dev/cosign/sign/v1";
