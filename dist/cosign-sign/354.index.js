export const id = 354;
export const ids = [354];
export const modules = {

/***/ 1354:
/***/ ((__unused_webpack_module, __webpack_exports__, __webpack_require__) => {

// ESM COMPAT FLAG
__webpack_require__.r(__webpack_exports__);

// EXPORTS
__webpack_require__.d(__webpack_exports__, {
  loadTrustedRoot: () => (/* binding */ loadTrustedRoot),
  resolveKeyless: () => (/* binding */ resolveKeyless)
});

// EXTERNAL MODULE: external "node:fs/promises"
var promises_ = __webpack_require__(1455);
// EXTERNAL MODULE: ./packages/kit/src/index.ts + 13 modules
var src = __webpack_require__(3632);
// EXTERNAL MODULE: ./packages/cosign/src/index.ts + 13 modules
var cosign_src = __webpack_require__(9659);
// EXTERNAL MODULE: external "node:crypto"
var external_node_crypto_ = __webpack_require__(7598);
// EXTERNAL MODULE: ./node_modules/@sigstore/bundle/dist/index.js
var dist = __webpack_require__(1040);
// EXTERNAL MODULE: ./node_modules/@sigstore/protobuf-specs/dist/index.js
var protobuf_specs_dist = __webpack_require__(9654);
// EXTERNAL MODULE: ./node_modules/@sigstore/sign/dist/index.js
var sign_dist = __webpack_require__(5179);
// EXTERNAL MODULE: ./node_modules/@sigstore/verify/dist/index.js
var verify_dist = __webpack_require__(4187);
// EXTERNAL MODULE: ./packages/cosign/src/constants.ts
var constants = __webpack_require__(9224);
// EXTERNAL MODULE: ./packages/cosign/src/key-bundle.ts
var key_bundle = __webpack_require__(243);
// EXTERNAL MODULE: ./packages/cosign/src/keyless-policy.ts
var keyless_policy = __webpack_require__(2634);
// EXTERNAL MODULE: ./packages/cosign/src/verify.ts
var verify = __webpack_require__(1608);
;// CONCATENATED MODULE: ./packages/cosign/src/keyless.ts










/** The audience Fulcio accepts Actions tokens for. */
const SIGSTORE_AUDIENCE = "sigstore";
const ID_TOKEN_PERMISSION_HINT = "add `permissions: id-token: write` to the job (or workflow) so the runner can issue an OIDC token";
/**
 * Requests the job's OIDC token from the Actions runtime (what `core.getIDToken` does), for `audience`.
 * Without the runtime variables, which the runner sets only under `id-token: write`, it fails at once with
 * how to fix it.
 */
async function fetchActionsIdToken(env, options = {}) {
    const url = env.ACTIONS_ID_TOKEN_REQUEST_URL;
    const token = env.ACTIONS_ID_TOKEN_REQUEST_TOKEN;
    if (!url || !token) {
        throw new src/* InputError */.dz("key", "is empty, so signing is keyless, but the job has no OIDC token (ACTIONS_ID_TOKEN_REQUEST_URL/TOKEN are not set)", `${ID_TOKEN_PERMISSION_HINT}, or give a cosign key`);
    }
    const request = new URL(url);
    request.searchParams.set("audience", options.audience ?? SIGSTORE_AUDIENCE);
    const response = await (options.fetch ?? fetch)(request, {
        headers: { Authorization: `Bearer ${token}`, Accept: "application/json" },
    });
    if (!response.ok) {
        throw new Error(`the Actions OIDC token request answered HTTP ${response.status}; ${ID_TOKEN_PERMISSION_HINT}`);
    }
    const body = (await response.json());
    if (typeof body.value !== "string" || body.value.split(".").length !== 3) {
        throw new Error("the Actions OIDC token response has no JWT in 'value'");
    }
    return body.value;
}
function splitPemCertificates(text) {
    return text.match(/-----BEGIN CERTIFICATE-----[\s\S]+?-----END CERTIFICATE-----\n?/g) ?? [];
}
/**
 * Asks Fulcio for a certificate over an ephemeral public key, proving possession by signing the token's
 * subject (Fulcio's v2 `signingCert`). Returns the chain as PEM, leaf first.
 */
async function requestSigningCertificate(request) {
    const claims = (0,keyless_policy/* jwtClaims */.vE)(request.idToken);
    const subject = String(claims.email ?? claims.sub ?? "");
    const proof = (0,external_node_crypto_.sign)("sha256", Buffer.from(subject), { key: request.privateKey, dsaEncoding: "der" });
    const response = await (request.fetch ?? fetch)(`${request.fulcioUrl}/api/v2/signingCert`, {
        method: "POST",
        headers: { "Content-Type": "application/json", Accept: "application/json" },
        body: JSON.stringify({
            credentials: { oidcIdentityToken: request.idToken },
            publicKeyRequest: {
                publicKey: { algorithm: "ECDSA", content: request.publicKey.export({ type: "spki", format: "pem" }) },
                proofOfPossession: proof.toString("base64"),
            },
        }),
    });
    const text = await response.text();
    if (!response.ok) {
        throw new Error(`Fulcio at ${request.fulcioUrl} refused the certificate request (HTTP ${response.status}): ${text.slice(0, 300)}`);
    }
    const body = JSON.parse(text);
    const chain = (body.signedCertificateEmbeddedSct ?? body.signedCertificateDetachedSct)?.chain?.certificates;
    if (!chain || chain.length === 0)
        throw new Error(`Fulcio at ${request.fulcioUrl} answered without a certificate chain`);
    return chain.flatMap(splitPemCertificates);
}
/** cosign's `dev.sigstore.cosign/bundle` annotation: the Rekor SET and the entry it signs, in Go's field order. */
function rekorBundleAnnotation(entry) {
    if (!entry.inclusionPromise)
        throw new Error("the Rekor entry has no signed entry timestamp");
    return JSON.stringify({
        SignedEntryTimestamp: Buffer.from(entry.inclusionPromise.signedEntryTimestamp).toString("base64"),
        Payload: {
            body: Buffer.from(entry.canonicalizedBody).toString("base64"),
            integratedTime: Number(entry.integratedTime),
            logIndex: Number(entry.logIndex),
            logID: Buffer.from(entry.logId.keyId).toString("hex"),
        },
    });
}
/**
 * The verification material of a v0.1 sigstore bundle rebuilt from a cosign layer's annotations: the leaf
 * certificate and the Rekor entry its `dev.sigstore.cosign/bundle` annotation (a SET) describes. Signatures
 * and attestations share it; only what was signed (message or DSSE envelope) differs.
 */
function legacyVerificationMaterial(certificate, rekor) {
    const set = JSON.parse(rekor);
    const body = JSON.parse(Buffer.from(set.Payload.body, "base64").toString("utf8"));
    return {
        x509CertificateChain: {
            certificates: [{ rawBytes: new external_node_crypto_.X509Certificate(certificate).raw.toString("base64") }],
        },
        tlogEntries: [
            {
                logIndex: String(set.Payload.logIndex),
                logId: { keyId: Buffer.from(set.Payload.logID, "hex").toString("base64") },
                kindVersion: { kind: body.kind, version: body.apiVersion },
                integratedTime: String(set.Payload.integratedTime),
                inclusionPromise: { signedEntryTimestamp: set.SignedEntryTimestamp },
                inclusionProof: undefined,
                canonicalizedBody: set.Payload.body,
            },
        ],
        timestampVerificationData: undefined,
    };
}
/**
 * A sigstore bundle (v0.1, message signature) rebuilt from a keyless `.sig` layer's annotations, so
 * sigstore-js can check certificate chain, SCT and Rekor SET exactly as for any bundle.
 */
function legacyLayerToBundle(payload, annotations) {
    const certificate = annotations[constants/* CERTIFICATE_ANNOTATION */.oZ];
    const rekor = annotations[constants/* BUNDLE_ANNOTATION */.j2];
    const signature = annotations[constants/* SIGNATURE_ANNOTATION */.ZB];
    if (!certificate || !rekor || !signature) {
        throw new Error(`a keyless signature needs the ${constants/* CERTIFICATE_ANNOTATION */.oZ}, ${constants/* BUNDLE_ANNOTATION */.j2} and ${constants/* SIGNATURE_ANNOTATION */.ZB} annotations`);
    }
    return {
        mediaType: "application/vnd.dev.sigstore.bundle+json;version=0.1",
        verificationMaterial: legacyVerificationMaterial(certificate, rekor),
        messageSignature: {
            messageDigest: { algorithm: "SHA2_256", digest: (0,external_node_crypto_.createHash)("sha256").update(payload).digest("base64") },
            signature,
        },
    };
}
/**
 * Keyless verification against a sigstore trust root: the certificate chains to a trusted Fulcio CA with a
 * valid SCT, the signature and Rekor's signed entry timestamp verify (sigstore-js's Verifier), the
 * certificate names the expected issuer and identity, and then, for `.sig` layers, the payload's digest and
 * repository as a host checks them.
 */
function keylessVerifier(trustedRoot, policy) {
    const verifier = new verify_dist/* Verifier */.BL((0,verify_dist/* toTrustMaterial */.jO)(protobuf_specs_dist.TrustedRoot.fromJSON(trustedRoot)), {
        tlogThreshold: 1,
        ctlogThreshold: 1,
    });
    const check = (bundle, artifact) => {
        try {
            const signer = verifier.verify((0,verify_dist/* toSignedEntity */.DC)((0,dist.bundleFromJSON)(bundle), artifact), {
                extensions: { issuer: policy.issuer },
            });
            return (0,keyless_policy/* certificateIdentityProblem */.pw)(signer.identity?.subjectAlternativeName, policy);
        }
        catch (error) {
            return error.message;
        }
    };
    return {
        legacy: async (candidates, expected) => {
            const problems = [];
            let accepted = 0;
            for (const candidate of candidates) {
                if (candidate.mediaType !== constants/* SIMPLE_SIGNING_MEDIA_TYPE */.$r ||
                    !candidate.annotations[constants/* CERTIFICATE_ANNOTATION */.oZ])
                    continue;
                let problem;
                try {
                    problem = check(legacyLayerToBundle(candidate.payload, candidate.annotations), Buffer.from(candidate.payload));
                }
                catch (error) {
                    problem = error.message;
                }
                if (problem === undefined) {
                    const leaf = new external_node_crypto_.X509Certificate(candidate.annotations[constants/* CERTIFICATE_ANNOTATION */.oZ]);
                    const outcome = (0,verify/* verifySignedPayload */.Or)(candidate.payload, candidate.annotations[constants/* SIGNATURE_ANNOTATION */.ZB] ?? "", leaf.publicKey, {
                        digest: (0,verify/* digestRule */.ZT)(expected.manifestDigest),
                        identity: (0,verify/* repositoryRule */.jG)(expected.repository),
                    });
                    if (!outcome.ok)
                        problem = outcome.message;
                }
                if (problem === undefined)
                    accepted++;
                else
                    problems.push(problem);
            }
            if (accepted > 0)
                return { ok: true, message: `${accepted} keyless signature(s) accepted` };
            return {
                ok: false,
                message: problems.length === 0
                    ? "a signature was required, but no keyless signature exists"
                    : `no keyless signature accepted: ${problems.join("; ")}`,
            };
        },
        bundle: async (bytes, expected) => {
            let serialized;
            try {
                serialized = JSON.parse(Buffer.from(bytes).toString("utf8"));
            }
            catch (error) {
                return { ok: false, message: `the bundle is not JSON (${error.message})` };
            }
            const problem = check(serialized);
            if (problem)
                return { ok: false, message: problem };
            const statement = JSON.parse(Buffer.from(serialized.dsseEnvelope?.payload ?? "", "base64").toString() || "{}");
            const [algorithm, hex] = expected.manifestDigest.split(":");
            const matches = (statement.subject ?? []).some((s) => algorithm !== undefined && s.digest?.[algorithm] === hex);
            return matches
                ? { ok: true, message: "keyless bundle verified" }
                : { ok: false, message: `no statement subject has digest ${expected.manifestDigest}` };
        },
    };
}
/** A sigstore-js Signer over our ephemeral key and the Fulcio certificate we already hold. */
function certificateSigner(privateKey, certificatePem) {
    return {
        sign: async (data) => ({
            signature: (0,external_node_crypto_.sign)("sha256", data, { key: privateKey, dsaEncoding: "der" }),
            key: { $case: "x509Certificate", certificate: certificatePem },
        }),
    };
}
/**
 * Keyless signing as `cosign sign` does it: one ephemeral P-256 key and one Fulcio certificate for the run,
 * each signature logged in Rekor. Legacy layers carry the certificate, chain and Rekor bundle annotations;
 * the bundle format is a DSSE sigstore bundle built by sigstore-js.
 */
async function keylessSigner(options) {
    const { privateKey, publicKey } = (0,external_node_crypto_.generateKeyPairSync)("ec", { namedCurve: "prime256v1" });
    const chain = await requestSigningCertificate({
        fulcioUrl: options.fulcioUrl,
        idToken: options.idToken,
        privateKey,
        publicKey,
        ...(options.fetch ? { fetch: options.fetch } : {}),
    });
    const [leaf, ...rest] = chain;
    const certificate = new external_node_crypto_.X509Certificate(leaf);
    const claims = (0,keyless_policy/* jwtClaims */.vE)(options.idToken);
    const identity = {
        kind: "keyless",
        identity: /URI:([^,]+)/.exec(certificate.subjectAltName ?? "")?.[1] ??
            /email:([^,]+)/.exec(certificate.subjectAltName ?? "")?.[1] ??
            (0,keyless_policy/* expectedIdentity */.zk)(claims),
        issuer: String(claims.iss ?? ""),
    };
    const signer = certificateSigner(privateKey, leaf);
    const rekor = new sign_dist/* RekorWitness */.fU({ rekorBaseURL: options.rekorUrl });
    // DSSE bundles are logged as `intoto` entries (what cosign v2 attest writes): Rekor stores their
    // signatures as given, which every Rekor, including sigstore-js's mock, answers the same way.
    const dsseRekor = new sign_dist/* RekorWitness */.fU({ rekorBaseURL: options.rekorUrl, entryType: "intoto" });
    return {
        identity: () => identity,
        legacy: async (payload) => {
            const bundle = await new sign_dist/* MessageSignatureBundleBuilder */.z3({ signer, witnesses: [rekor] }).create({
                data: payload,
            });
            const entry = bundle.verificationMaterial.tlogEntries[0];
            if (!entry)
                throw new Error(`Rekor at ${options.rekorUrl} returned no log entry`);
            return {
                signatureB64: Buffer.from(bundle.content.messageSignature.signature).toString("base64"),
                certificate: leaf,
                chain: rest.join(""),
                bundle: rekorBundleAnnotation(entry),
            };
        },
        bundle: async (manifestDigest, annotations) => {
            const statement = (0,key_bundle/* imageSignatureStatement */.l6)(manifestDigest, annotations);
            const bundle = await new sign_dist/* DSSEBundleBuilder */.VV({ signer, witnesses: [dsseRekor] }).create({
                data: statement,
                type: constants/* IN_TOTO_PAYLOAD_TYPE */.T4,
            });
            return Buffer.from(JSON.stringify((0,dist.bundleToJSON)(bundle)));
        },
        verifier: () => options.verifier,
    };
}

// EXTERNAL MODULE: ./packages/cosign/src/attest.ts
var attest = __webpack_require__(1816);
// EXTERNAL MODULE: ./packages/cosign/src/dsse.ts
var dsse = __webpack_require__(160);
;// CONCATENATED MODULE: ./packages/cosign/src/attest-keyless.ts










/**
 * Keyless attestations as `cosign attest` makes them on Actions: one ephemeral P-256 key certified by
 * Fulcio for the run, each envelope logged in Rekor as an `intoto` entry, and the layer carrying the
 * certificate, chain and Rekor bundle annotations. The certificate is this signer's own (cosign attest
 * is a separate invocation from cosign sign and gets one too).
 */
async function keylessAttestationSigner(options) {
    const { privateKey, publicKey } = (0,external_node_crypto_.generateKeyPairSync)("ec", { namedCurve: "prime256v1" });
    const chain = await requestSigningCertificate({
        fulcioUrl: options.fulcioUrl,
        idToken: options.idToken,
        privateKey,
        publicKey,
        ...(options.fetch ? { fetch: options.fetch } : {}),
    });
    const [leaf, ...rest] = chain;
    const signer = {
        sign: async (data) => ({
            signature: (0,external_node_crypto_.sign)("sha256", data, { key: privateKey, dsaEncoding: "der" }),
            key: { $case: "x509Certificate", certificate: leaf },
        }),
    };
    const rekor = new sign_dist/* RekorWitness */.fU({ rekorBaseURL: options.rekorUrl, entryType: "intoto" });
    return async (statement) => {
        const bundle = await new sign_dist/* DSSEBundleBuilder */.VV({ signer, witnesses: [rekor] }).create({
            data: statement,
            type: constants/* IN_TOTO_PAYLOAD_TYPE */.T4,
        });
        const entry = bundle.verificationMaterial.tlogEntries[0];
        if (!entry)
            throw new Error(`Rekor at ${options.rekorUrl} returned no log entry`);
        if (bundle.content.$case !== "dsseEnvelope")
            throw new Error("sigstore-js built no DSSE envelope");
        const envelope = bundle.content.dsseEnvelope;
        return {
            envelope: (0,dsse/* renderDsseEnvelope */.Aj)(envelope.payloadType, envelope.payload, envelope.signatures[0].sig),
            certificate: leaf,
            chain: rest.join(""),
            bundle: rekorBundleAnnotation(entry),
        };
    };
}
/**
 * A sigstore bundle (v0.1, DSSE) rebuilt from a keyless `.att` layer: the envelope blob, the certificate
 * annotation and the Rekor bundle annotation, so sigstore-js checks chain, SCT, signature and SET.
 */
function attestationLayerToBundle(envelopeBytes, annotations) {
    const certificate = annotations[constants/* CERTIFICATE_ANNOTATION */.oZ];
    const rekor = annotations[constants/* BUNDLE_ANNOTATION */.j2];
    if (!certificate || !rekor) {
        throw new Error(`a keyless attestation needs the ${constants/* CERTIFICATE_ANNOTATION */.oZ} and ${constants/* BUNDLE_ANNOTATION */.j2} annotations`);
    }
    const envelope = (0,dsse/* parseDsseEnvelope */.nj)(envelopeBytes);
    return {
        mediaType: "application/vnd.dev.sigstore.bundle+json;version=0.1",
        verificationMaterial: legacyVerificationMaterial(certificate, rekor),
        dsseEnvelope: {
            payload: envelope.payload.toString("base64"),
            payloadType: envelope.payloadType,
            signatures: envelope.signatures.map((s) => ({ sig: s.sig.toString("base64"), keyid: s.keyid ?? "" })),
        },
    };
}
/**
 * Keyless attestation verification against a sigstore trust root, as `cosign verify-attestation
 * --certificate-identity … --certificate-oidc-issuer …`: the bundle rebuilt from the layer verifies
 * (chain, SCT, DSSE signature, Rekor SET), the certificate names the expected issuer and identity, then
 * the statement is about this image with the claimed predicate type.
 */
function keylessAttestationVerifier(trustedRoot, policy) {
    const verifier = new verify_dist/* Verifier */.BL((0,verify_dist/* toTrustMaterial */.jO)(protobuf_specs_dist.TrustedRoot.fromJSON(trustedRoot)), {
        tlogThreshold: 1,
        ctlogThreshold: 1,
    });
    return async (candidate, expected) => {
        if (candidate.mediaType !== dsse/* DSSE_ENVELOPE_MEDIA_TYPE */.Nr) {
            return { ok: false, message: `layer media type ${candidate.mediaType} is not a DSSE envelope` };
        }
        let problem;
        try {
            const bundle = attestationLayerToBundle(candidate.envelope, candidate.annotations);
            const signer = verifier.verify((0,verify_dist/* toSignedEntity */.DC)((0,dist.bundleFromJSON)(bundle)), {
                extensions: { issuer: policy.issuer },
            });
            problem = (0,keyless_policy/* certificateIdentityProblem */.pw)(signer.identity?.subjectAlternativeName, policy);
        }
        catch (error) {
            if (error instanceof dsse/* DsseError */.iT)
                return { ok: false, message: error.message };
            problem = error.message;
        }
        if (problem)
            return { ok: false, message: problem };
        const envelope = (0,dsse/* parseDsseEnvelope */.nj)(candidate.envelope);
        const statement = (0,attest/* statementProblem */.hy)(envelope.payloadType, envelope.payload, candidate, expected);
        return statement
            ? { ok: false, message: statement }
            : { ok: true, message: "keyless attestation verified" };
    };
}

// EXTERNAL MODULE: ./node_modules/@sigstore/tuf/dist/index.js
var tuf_dist = __webpack_require__(4423);
;// CONCATENATED MODULE: ./packages/actions/src/cosign-sign/keyless.ts







// Loaded only for keyless signing (signer.ts imports this module dynamically, once): sigstore-js and TUF
// are most of the bundle, and key-based runs should not pay their start-up time.
/** The trust root keyless signatures are verified against: a `trusted-root` file, or sigstore's public-good root via TUF. */
async function loadTrustedRoot(path, logger) {
    if (path === undefined) {
        logger.info("trust root: sigstore public-good (TUF)");
        return protobuf_specs_dist.TrustedRoot.toJSON(await (0,tuf_dist.getTrustedRoot)());
    }
    try {
        const root = JSON.parse(await (0,promises_.readFile)(path, "utf8"));
        logger.info(`trust root: ${path}`);
        return root;
    }
    catch (error) {
        throw new src/* InputError */.dz("trusted-root", `${path} cannot be read as JSON (${error.message})`, "a sigstore trusted_root.json");
    }
}
/**
 * Keyless: the job's OIDC token (audience sigstore), the identity it signs as, and the verification
 * policy from `certificate-identity`/`certificate-identity-regexp`/`certificate-oidc-issuer`.
 */
async function resolveKeyless(inputs, logger, env) {
    const idToken = await fetchActionsIdToken(env);
    logger.setSecret(idToken);
    const claims = (0,cosign_src/* jwtClaims */.vE)(idToken);
    const policy = (0,cosign_src/* keylessPolicy */.VT)({
        ...(inputs.certificateIdentity !== undefined
            ? { certificateIdentity: inputs.certificateIdentity }
            : {}),
        ...(inputs.certificateIdentityRegexp !== undefined
            ? { certificateIdentityRegexp: inputs.certificateIdentityRegexp }
            : {}),
        issuer: inputs.certificateOidcIssuer,
    }, claims);
    const trustedRoot = await loadTrustedRoot(inputs.trustedRoot, logger);
    const verifier = keylessVerifier(trustedRoot, policy);
    logger.info(`keyless: Fulcio ${inputs.fulcioUrl}, Rekor ${inputs.rekorUrl}`);
    return {
        identity: (0,cosign_src/* tokenSignerIdentity */.go)(claims),
        verifier,
        nativeSigner: () => keylessSigner({ idToken, fulcioUrl: inputs.fulcioUrl, rekorUrl: inputs.rekorUrl, verifier }),
        nativeAttester: async () => ({
            signer: await keylessAttestationSigner({
                idToken,
                fulcioUrl: inputs.fulcioUrl,
                rekorUrl: inputs.rekorUrl,
            }),
            verifier: keylessAttestationVerifier(trustedRoot, policy),
        }),
    };
}


/***/ })

};

//# sourceMappingURL=354.index.js.map