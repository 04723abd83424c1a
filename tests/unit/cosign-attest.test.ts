import { createHash, generateKeyPairSync } from "node:crypto";
import { describe, expect, test } from "vitest";
import { parseManifest, type ImageManifest } from "@frostyard/oci";
import {
  attestationStatement,
  attestationTag,
  buildAttestationManifest,
  dssePae,
  dsseSignedBy,
  keyAttestationSigner,
  keyAttestationVerifier,
  parseDsseEnvelope,
  predicateSpec,
  renderDsseEnvelope,
  renderPredicate,
  signatureConfig,
  type AttestationCandidate,
  type PredicateSpec,
} from "@frostyard/cosign";

const DIGEST = `sha256:${"ab".repeat(32)}`;
const REPO = { registry: "ghcr.io", repository: "acme/os" };
const spec = (type: string) => predicateSpec(type) as PredicateSpec;
const sha256 = (bytes: Uint8Array) => `sha256:${createHash("sha256").update(bytes).digest("hex")}`;

describe("predicateSpec: cosign's --type names (options.PredicateTypeMap)", () => {
  test.each([
    ["cyclonedx", "https://cyclonedx.org/bom", "json"],
    ["spdxjson", "https://spdx.dev/Document", "json"],
    ["spdx", "https://spdx.dev/Document", "text"],
    ["custom", "https://cosign.sigstore.dev/attestation/v1", "custom"],
    ["https://example.com/predicate/v1", "https://example.com/predicate/v1", "json"],
  ])("%s → %s (%s)", (type, predicateType, predicate) => {
    expect(predicateSpec(type)).toEqual({ type, predicateType, predicate });
  });

  test.each(["CycloneDX", "sbom", "slsaprovenance", "toString", "", "example.com/x"])(
    "%j is unknown",
    (type) => {
      expect(predicateSpec(type)).toBeUndefined();
    },
  );
});

describe("renderPredicate: the predicate as Go's encoding/json re-encodes it", () => {
  const at = new Date("2026-12-04T13:45:51.123Z");
  test.each([
    [
      "keys sorted, <>& escaped, whitespace dropped",
      "cyclonedx",
      '{ "z": 1, "a": "<b>&" }',
      '{"a":"\\u003cb\\u003e\\u0026","z":1}',
    ],
    [
      "nested objects sorted too",
      "spdxjson",
      '{"b":{"y":[1,2.5,true,null],"x":"é"},"a":{}}',
      '{"a":{},"b":{"x":"é","y":[1,2.5,true,null]}}',
    ],
    ["spdx (tag-value) is a JSON string", "spdx", "SPDXVersion: SPDX-2.3\n", '"SPDXVersion: SPDX-2.3\\n"'],
    [
      "custom wraps the text with a second-precision UTC time",
      "custom",
      "hello",
      '{"Data":"hello","Timestamp":"2026-12-04T13:45:51Z"}',
    ],
    ["a URI type keeps a JSON object", "https://example.com/p", '{"k":"v"}', '{"k":"v"}'],
  ])("%s", (_name, type, file, expected) => {
    expect(renderPredicate(spec(type), Buffer.from(file), at)).toBe(expected);
  });

  test.each([
    ["cyclonedx", "<bom/>", "is not JSON"],
    ["spdxjson", "", "is not JSON"],
    ["https://example.com/p", "[1]", "not an object"],
  ])("%s refuses %j", (type, file, message) => {
    expect(() => renderPredicate(spec(type), Buffer.from(file), at)).toThrow(message);
  });
});

describe("attestationStatement: the in-toto Statement v0.1 cosign attest signs", () => {
  test("header fields in in-toto-golang's struct order, the subject named as go-containerregistry names it", () => {
    const bytes = attestationStatement({
      spec: spec("cyclonedx"),
      file: Buffer.from('{"bomFormat":"CycloneDX","components":[]}'),
      repository: REPO,
      digest: DIGEST,
    });
    expect(bytes.toString()).toBe(
      '{"_type":"https://in-toto.io/Statement/v0.1","predicateType":"https://cyclonedx.org/bom",' +
        `"subject":[{"name":"ghcr.io/acme/os","digest":{"sha256":"${"ab".repeat(32)}"}}],` +
        '"predicate":{"bomFormat":"CycloneDX","components":[]}}',
    );
  });

  test.each([
    ["docker.io/library/alpine", "index.docker.io/library/alpine"],
    ["127.0.0.1:5000/acme/os:1", "127.0.0.1:5000/acme/os"],
  ])("subject name of %s is %s", (repository, name) => {
    const statement = JSON.parse(
      attestationStatement({
        spec: spec("spdxjson"),
        file: Buffer.from("{}"),
        repository,
        digest: DIGEST,
      }).toString(),
    ) as { subject: { name: string }[] };
    expect(statement.subject[0]!.name).toBe(name);
  });

  test.each([
    [`sha512:${"a".repeat(128)}`, "is not sha256"],
    ["sha256:xyz", "sha256"],
  ])("refuses the digest %s", (digest, message) => {
    expect(() =>
      attestationStatement({ spec: spec("cyclonedx"), file: Buffer.from("{}"), repository: REPO, digest }),
    ).toThrow(message);
  });
});

describe("DSSE envelope", () => {
  const { privateKey, publicKey } = generateKeyPairSync("ec", { namedCurve: "prime256v1" });
  const other = generateKeyPairSync("ec", { namedCurve: "prime256v1" }).publicKey;

  test("PAE is DSSEv1 SP len(type) SP type SP len(body) SP body", () => {
    expect(dssePae("application/vnd.in-toto+json", Buffer.from("hello")).toString()).toBe(
      "DSSEv1 28 application/vnd.in-toto+json 5 hello",
    );
  });

  test("rendered as go-securesystemslib marshals it: payloadType, payload, signatures with an empty keyid", () => {
    expect(renderDsseEnvelope("t", Buffer.from("hi"), Buffer.from([1, 2])).toString()).toBe(
      '{"payloadType":"t","payload":"aGk=","signatures":[{"keyid":"","sig":"AQI="}]}',
    );
  });

  test("a signed envelope verifies with its key, not with another, and not once the payload changed", async () => {
    const { envelope } = await keyAttestationSigner(privateKey)(Buffer.from('{"x":1}'));
    const parsed = parseDsseEnvelope(envelope);
    expect(parsed.payloadType).toBe("application/vnd.in-toto+json");
    expect(parsed.payload.toString()).toBe('{"x":1}');
    expect(dsseSignedBy(parsed, publicKey)).toBe(true);
    expect(dsseSignedBy(parsed, other)).toBe(false);
    expect(dsseSignedBy({ ...parsed, payload: Buffer.from('{"x":2}') }, publicKey)).toBe(false);
  });

  test.each([
    ["not JSON", "{", "not JSON"],
    ["no payloadType", '{"payload":"","signatures":[]}', "no payloadType"],
    ["payload not base64", '{"payloadType":"t","payload":"%%","signatures":[]}', "not base64"],
    ["no signature", '{"payloadType":"t","payload":"aGk=","signatures":[]}', "no base64 signature"],
  ])("parse refuses %s", (_name, text, message) => {
    expect(() => parseDsseEnvelope(Buffer.from(text))).toThrow(message);
  });
});

describe("the .att image", () => {
  test.each([[DIGEST, `sha256-${"ab".repeat(32)}.att`]])("attestationTag(%s) = %s", (digest, tag) => {
    expect(attestationTag(digest)).toBe(tag);
  });

  test("refuses a sha512 digest", () => {
    expect(() => attestationTag(`sha512:${"a".repeat(128)}`)).toThrow("cosign's .att tags need sha256");
  });

  const envelope = Buffer.from(
    '{"payloadType":"application/vnd.in-toto+json","payload":"e30=","signatures":[]}',
  );

  test("one DSSE layer with cosign's annotations, in the empty-image config cosign writes", () => {
    const built = buildAttestationManifest(undefined, {
      envelope,
      predicateType: "https://cyclonedx.org/bom",
    });
    expect(built.added).toBe(true);
    const layer = {
      mediaType: "application/vnd.dsse.envelope.v1+json",
      size: envelope.byteLength,
      digest: sha256(envelope),
      annotations: { "dev.cosignproject.cosign/signature": "", predicateType: "https://cyclonedx.org/bom" },
    };
    expect(built.layer).toEqual(layer);
    expect(built.config.toString()).toBe(signatureConfig([layer]).toString());
    expect(built.manifestBytes.toString()).toBe(
      '{"schemaVersion":2,"mediaType":"application/vnd.oci.image.manifest.v1+json",' +
        `"config":{"mediaType":"application/vnd.oci.image.config.v1+json","size":${built.config.byteLength},"digest":"${sha256(built.config)}"},` +
        `"layers":[{"mediaType":"application/vnd.dsse.envelope.v1+json","size":${envelope.byteLength},"digest":"${sha256(envelope)}",` +
        '"annotations":{"dev.cosignproject.cosign/signature":"","predicateType":"https://cyclonedx.org/bom"}}]}',
    );
  });

  test("keyless layers carry certificate, chain and Rekor bundle", () => {
    const built = buildAttestationManifest(undefined, {
      envelope,
      predicateType: "p",
      certificate: "CERT",
      chain: "CHAIN",
      bundle: '{"SignedEntryTimestamp":"x"}',
    });
    expect(built.layer.annotations).toEqual({
      "dev.cosignproject.cosign/signature": "",
      predicateType: "p",
      "dev.sigstore.cosign/certificate": "CERT",
      "dev.sigstore.cosign/chain": "CHAIN",
      "dev.sigstore.cosign/bundle": '{"SignedEntryTimestamp":"x"}',
    });
  });

  test("a new attestation is appended to those already there; the same bytes again are not", () => {
    const first = buildAttestationManifest(undefined, { envelope, predicateType: "p" });
    const existing = parseManifest(first.manifestBytes).manifest as ImageManifest;
    const other = Buffer.from(`${envelope.toString()} `);
    const second = buildAttestationManifest(existing, { envelope: other, predicateType: "q" });
    expect(second.manifest.layers.map((l) => l.digest)).toEqual([sha256(envelope), sha256(other)]);
    expect(second.layer.digest).toBe(sha256(other));
    const again = buildAttestationManifest(existing, { envelope, predicateType: "p" });
    expect(again.added).toBe(false);
    expect(again.manifest.layers).toHaveLength(1);
    // Same envelope, another predicate type claimed: a different layer, as cosign's annotation check has it.
    expect(buildAttestationManifest(existing, { envelope, predicateType: "q" }).added).toBe(true);
  });
});

describe("keyAttestationVerifier", () => {
  const { privateKey, publicKey } = generateKeyPairSync("ec", { namedCurve: "prime256v1" });
  const other = generateKeyPairSync("ec", { namedCurve: "prime256v1" }).publicKey;
  const expected = { digest: DIGEST, repository: REPO, predicateType: "https://cyclonedx.org/bom" };

  async function candidate(
    statementOf: { repository?: string; digest?: string; type?: string } = {},
    annotation = "https://cyclonedx.org/bom",
  ): Promise<AttestationCandidate> {
    const statement = attestationStatement({
      spec: spec(statementOf.type ?? "cyclonedx"),
      file: Buffer.from("{}"),
      repository: statementOf.repository ?? "ghcr.io/acme/os",
      digest: statementOf.digest ?? DIGEST,
    });
    const { envelope } = await keyAttestationSigner(privateKey)(statement);
    return {
      mediaType: "application/vnd.dsse.envelope.v1+json",
      annotations: { "dev.cosignproject.cosign/signature": "", predicateType: annotation },
      layerDigest: sha256(envelope),
      envelope: Buffer.from(envelope),
    };
  }

  test("accepts our own attestation", async () => {
    expect(await keyAttestationVerifier(publicKey)(await candidate(), expected)).toEqual({
      ok: true,
      message: "attestation verified",
    });
  });

  test.each<[string, () => Promise<AttestationCandidate>, string, boolean?]>([
    ["another key", () => candidate(), "no DSSE signature", true],
    [
      "another digest",
      () => candidate({ digest: `sha256:${"cd".repeat(32)}` }),
      "no statement subject has digest",
    ],
    ["another repository", () => candidate({ repository: "ghcr.io/evil/os" }), "names ghcr.io/evil/os"],
    [
      "another predicate type",
      () => candidate({ type: "spdxjson" }, "https://spdx.dev/Document"),
      "predicateType is https://spdx.dev/Document",
    ],
    ["an annotation that lies", () => candidate({}, "https://spdx.dev/Document"), "annotation"],
  ])("refuses %s", async (_name, make, message, otherKey) => {
    const verdict = await keyAttestationVerifier(otherKey ? other : publicKey)(await make(), expected);
    expect(verdict.ok).toBe(false);
    expect(verdict.message).toContain(message);
  });

  test("refuses a layer that is not a DSSE envelope", async () => {
    const c = { ...(await candidate()), mediaType: "application/vnd.dev.cosign.simplesigning.v1+json" };
    expect((await keyAttestationVerifier(publicKey)(c, expected)).message).toContain("not a DSSE envelope");
  });
});
