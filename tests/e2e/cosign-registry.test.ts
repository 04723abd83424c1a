import { afterAll, beforeAll, describe, expect, test } from "vitest";
import type { Logger } from "@frostyard/kit";
import {
  createLegacySignature,
  fetchLegacySignatures,
  generateCosignKeyPair,
  keySigner,
  keyVerifier,
  signatureTag,
  signImages,
  verifyInRegistry,
  type CosignKeyPair,
  type ImageSigner,
} from "@frostyard/cosign";
import { CredentialStore, parseReference, RegistryClient, withTag } from "@frostyard/oci";
import { IMAGE_TOOLS, pushTestImage } from "../helpers/images";
import { startRegistry, type TestRegistry } from "../helpers/registry";
import { missingTools } from "../helpers/tools";

/** The sign step's library (signImages) against a real registry: the order sign → verify → promote. */
describe.skipIf(missingTools("docker-registry", ...IMAGE_TOOLS))("signImages against a real registry", () => {
  let registry: TestRegistry;
  let client: RegistryClient;
  let ours: CosignKeyPair;
  let other: CosignKeyPair;
  const lines: string[] = [];
  const logger: Logger = {
    debug: () => {},
    info: (m) => lines.push(m),
    warning: (m) => lines.push(`warning: ${m}`),
    error: (m) => lines.push(`error: ${m}`),
    group: (_n, fn) => fn(),
    setSecret: () => {},
  };

  beforeAll(async () => {
    [registry, ours, other] = await Promise.all([
      startRegistry(),
      generateCosignKeyPair("a"),
      generateCosignKeyPair("b"),
    ]);
    client = new RegistryClient({ credentials: new CredentialStore({ authFiles: [] }) });
  });
  afterAll(async () => registry?.stop());

  const request = (images: string[], signer: ImageSigner, promote = ["latest"]) => ({
    client,
    images,
    signer,
    format: "legacy" as const,
    recursive: false,
    annotations: {},
    promoteTags: promote,
    logger,
  });

  test("a signature that does not verify in the registry fails the run and promotes nothing", async () => {
    const digest = await pushTestImage(registry.host, "acme/order:1", { content: "order" });
    // Signs with our key but trusts another: what the registry holds cannot verify.
    const mismatched: ImageSigner = { ...keySigner(ours), verifier: () => keyVerifier(other.publicKey) };
    const report = await signImages(request([`${registry.host}/acme/order:1`], mismatched));
    expect(report.verified).toBe(false);
    expect(report.failure).toContain("verification of");
    expect(report.failure).toContain("no tags were promoted");
    expect(report.images[0]!.promoted).toEqual([]);
    expect(report.images[0]!.targets[0]!.signatures[0]!.added).toBe(true);
    const repo = parseReference(`${registry.host}/acme/order`);
    expect(await client.headManifest(withTag(repo, "latest"))).toBeUndefined();
    // The signature was pushed (signing happened), only the promotion was withheld.
    expect(await fetchLegacySignatures(client, repo, digest)).toHaveLength(1);
  });

  test("with several images, one unknown tag stops everything before any push", async () => {
    const digest = await pushTestImage(registry.host, "acme/first:1", { content: "first" });
    await expect(
      signImages(
        request([`${registry.host}/acme/first:1`, `${registry.host}/acme/first:missing`], keySigner(ours)),
      ),
    ).rejects.toThrow("input 'image (entry 2)'");
    const repo = parseReference(`${registry.host}/acme/first`);
    expect(await client.headManifest(withTag(repo, signatureTag(digest)))).toBeUndefined();
    expect(await client.headManifest(withTag(repo, "latest"))).toBeUndefined();
  });

  test("several images: each signed and verified, then every promote tag moved to each digest", async () => {
    const a = await pushTestImage(registry.host, "acme/a:1", { content: "a" });
    const b = await pushTestImage(registry.host, "acme/b:1", { content: "b" });
    const report = await signImages(
      request([`${registry.host}/acme/a:1`, `${registry.host}/acme/b:1`], keySigner(ours), [
        "latest",
        "stable",
      ]),
    );
    expect(report.verified).toBe(true);
    expect(report.images.map((i) => i.promoted)).toEqual([
      [`${registry.host}/acme/a:latest`, `${registry.host}/acme/a:stable`],
      [`${registry.host}/acme/b:latest`, `${registry.host}/acme/b:stable`],
    ]);
    for (const [name, digest] of [
      ["acme/a", a],
      ["acme/b", b],
    ] as const) {
      const repo = parseReference(`${registry.host}/${name}`);
      for (const tag of ["latest", "stable"]) {
        expect((await client.headManifest(withTag(repo, tag)))?.digest).toBe(digest);
      }
      const verification = await verifyInRegistry(
        client,
        repo,
        digest,
        "legacy",
        keyVerifier(ours.publicKey),
      );
      expect(verification).toEqual({ verified: true, messages: ["legacy: 1 of 1 signature(s) accepted"] });
    }
    // The log says where each signature went, before any promotion line.
    const firstPromote = lines.findIndex((l) => l.startsWith("promoted "));
    const lastVerify = lines.findLastIndex((l) => l.startsWith("verify "));
    expect(lastVerify).toBeGreaterThan(-1);
    expect(firstPromote).toBeGreaterThan(lastVerify);
  });

  test("signImages pushes the layer createLegacySignature makes for the same image and signer", async () => {
    const digest = await pushTestImage(registry.host, "acme/layer:1", { content: "layer" });
    const repo = parseReference(`${registry.host}/acme/layer`);
    const fixed = { signatureB64: "", certificate: "CERT", chain: "CHAIN", bundle: '{"b":1}' };
    const signer: ImageSigner = {
      ...keySigner(ours),
      legacy: async (payload) => ({
        ...fixed,
        signatureB64: (await keySigner(ours).legacy(payload)).signatureB64,
      }),
    };
    const report = await signImages({
      ...request([`${registry.host}/acme/layer:1`], signer, []),
      annotations: { run: "9" },
    });
    expect(report.verified).toBe(true);
    const made = await createLegacySignature({
      repository: repo,
      manifestDigest: digest,
      annotations: { run: "9" },
      signer: signer.legacy,
    });
    const [pushed] = await fetchLegacySignatures(client, repo, digest);
    expect(Buffer.from(pushed!.payload).equals(made.payload)).toBe(true);
    expect(pushed!.annotations).toMatchObject({
      "dev.sigstore.cosign/certificate": "CERT",
      "dev.sigstore.cosign/chain": "CHAIN",
      "dev.sigstore.cosign/bundle": '{"b":1}',
    });
  });

  test("verifyInRegistry: an unsigned digest and a missing bundle each fail with the host's words", async () => {
    const digest = await pushTestImage(registry.host, "acme/none:1", { content: "none" });
    const repo = parseReference(`${registry.host}/acme/none`);
    expect(await verifyInRegistry(client, repo, digest, "both", keyVerifier(ours.publicKey))).toEqual({
      verified: false,
      messages: [
        "legacy: a signature was required, but no signature exists",
        "bundle: no sigstore bundle is attached to the digest",
      ],
    });
  });
});
