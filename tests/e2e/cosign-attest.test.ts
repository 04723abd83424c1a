import { execFile } from "node:child_process";
import { createHash, verify, type KeyObject } from "node:crypto";
import { mkdir, mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { promisify } from "node:util";
import { afterAll, beforeAll, describe, expect, test } from "vitest";
import type { Logger } from "@frostyard/kit";
import {
  attestationTag,
  attestImages,
  fetchLegacySignatures,
  generateCosignKeyPair,
  keyAttestationSigner,
  keyAttestationVerifier,
  keySigner,
  predicateSpec,
  signatureTag,
  signImages,
  type AttestationInput,
  type AttestImagesReport,
  type CosignKeyPair,
  type PredicateSpec,
} from "@frostyard/cosign";
import { CredentialStore, parseReference, RegistryClient, withTag, type RepositoryRef } from "@frostyard/oci";
import { IMAGE_TOOLS, pushTestImage } from "../helpers/images";
import { startRegistry, type TestRegistry } from "../helpers/registry";
import { missingTools } from "../helpers/tools";
import { TRIVY_BIN_DIR, trivyToolsUnavailable } from "../helpers/trivy";

const run = promisify(execFile);

/**
 * Attestations (`cosign attest` as cosign-sign does it) against a real registry (distribution), read back
 * with skopeo and checked with node:crypto alone: the DSSE signature over the PAE, the statement's subject.
 * cosign itself (`verify-attestation`) cannot be had here; containers/image (skopeo, also the trixie one)
 * verifies only `.sig` simple signatures, never `.att` attestations, so it cannot stand in for it.
 */
describe.skipIf(missingTools("docker-registry", ...IMAGE_TOOLS))("attestations in a real registry", () => {
  let registry: TestRegistry;
  let client: RegistryClient;
  let ours: CosignKeyPair;
  let other: CosignKeyPair;
  let dir: string;
  const lines: string[] = [];
  const logger: Logger = {
    debug: () => {},
    info: (m) => lines.push(m),
    warning: (m) => lines.push(`warning: ${m}`),
    error: (m) => lines.push(`error: ${m}`),
    group: (_n, fn) => fn(),
    setSecret: () => {},
  };
  const spec = (type: string) => predicateSpec(type) as PredicateSpec;
  const SBOM = {
    bomFormat: "CycloneDX",
    specVersion: "1.6",
    components: [{ name: "bash", purl: "pkg:deb/debian/bash@5.2.37-2?arch=amd64" }],
  };
  const cyclonedx: AttestationInput = {
    spec: spec("cyclonedx"),
    path: "sbom.cdx.json",
    file: Buffer.from(JSON.stringify(SBOM)),
  };

  beforeAll(async () => {
    [registry, ours, other] = await Promise.all([
      startRegistry(),
      generateCosignKeyPair("a"),
      generateCosignKeyPair("b"),
    ]);
    client = new RegistryClient({ credentials: new CredentialStore({ authFiles: [] }) });
    dir = await mkdtemp(join(tmpdir(), "cosign-attest-"));
  });
  afterAll(async () => {
    await registry?.stop();
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  const repo = (name: string): RepositoryRef => parseReference(`${registry.host}/${name}`);
  const skopeoRaw = async (ref: string) =>
    (await run("skopeo", ["inspect", "--raw", "--tls-verify=false", `docker://${ref}`])).stdout;

  /** Sign, then attest in signImages' beforePromote, as the action does. */
  async function signAndAttest(
    image: string,
    attestations: AttestationInput[],
    verifyWith: KeyObject = ours.publicKey,
  ): Promise<{ failure?: string; attested?: AttestImagesReport; promoted: string[] }> {
    let attested: AttestImagesReport | undefined;
    const report = await signImages({
      client,
      images: [image],
      signer: keySigner(ours),
      format: "legacy",
      recursive: false,
      annotations: {},
      promoteTags: ["latest"],
      logger,
      beforePromote: async (images) => {
        attested = await attestImages({
          client,
          images: images.map(({ image: i }) => ({
            input: i.input,
            repository: i.repository,
            digest: i.digest,
          })),
          attestations,
          signer: keyAttestationSigner(ours.privateKey),
          verifier: keyAttestationVerifier(verifyWith),
          logger,
        });
        return attested.failure;
      },
    });
    return {
      ...(report.failure ? { failure: report.failure } : {}),
      ...(attested ? { attested } : {}),
      promoted: report.images[0]!.promoted,
    };
  }

  /** The DSSE check done by hand with node:crypto, independent of the code under test. */
  function dsseVerifies(
    envelope: { payloadType: string; payload: string; signatures: { sig: string }[] },
    key: KeyObject,
  ) {
    const body = Buffer.from(envelope.payload, "base64");
    const pae = Buffer.concat([
      Buffer.from(
        `DSSEv1 ${Buffer.byteLength(envelope.payloadType)} ${envelope.payloadType} ${body.byteLength} `,
      ),
      body,
    ]);
    return envelope.signatures.some((s) =>
      verify("sha256", pae, { key, dsaEncoding: "der" }, Buffer.from(s.sig, "base64")),
    );
  }

  test("a CycloneDX SBOM: .att next to .sig, read back with skopeo, signed by our key only, subject = the digest; then promoted", async () => {
    const digest = await pushTestImage(registry.host, "acme/os:1", { content: "attest 1" });
    const result = await signAndAttest(`${registry.host}/acme/os:1`, [cyclonedx]);
    expect(result.failure).toBeUndefined();
    expect(result.promoted).toEqual([`${registry.host}/acme/os:latest`]);
    expect(result.attested!.results.map((r) => [r.type, r.verified])).toEqual([["cyclonedx", true]]);

    const att = JSON.parse(await skopeoRaw(`${registry.host}/acme/os:${attestationTag(digest)}`)) as {
      mediaType: string;
      config: { mediaType: string; digest: string };
      layers: { mediaType: string; digest: string; size: number; annotations: Record<string, string> }[];
    };
    expect(att.mediaType).toBe("application/vnd.oci.image.manifest.v1+json");
    expect(att.config.mediaType).toBe("application/vnd.oci.image.config.v1+json");
    expect(att.layers).toHaveLength(1);
    const [layer] = att.layers;
    expect(layer!.mediaType).toBe("application/vnd.dsse.envelope.v1+json");
    expect(layer!.annotations).toEqual({
      "dev.cosignproject.cosign/signature": "",
      predicateType: "https://cyclonedx.org/bom",
    });
    expect(layer!.digest).toBe(result.attested!.results[0]!.pushed.layerDigest);

    const blob = await client.getBlob(repo("acme/os"), layer!.digest);
    expect(`sha256:${createHash("sha256").update(blob).digest("hex")}`).toBe(layer!.digest);
    const envelope = JSON.parse(blob.toString()) as {
      payloadType: string;
      payload: string;
      signatures: { keyid: string; sig: string }[];
    };
    expect(envelope.payloadType).toBe("application/vnd.in-toto+json");
    expect(envelope.signatures.map((s) => s.keyid)).toEqual([""]);
    expect(dsseVerifies(envelope, ours.publicKey)).toBe(true);
    expect(dsseVerifies(envelope, other.publicKey)).toBe(false);
    const statement = JSON.parse(Buffer.from(envelope.payload, "base64").toString()) as Record<
      string,
      unknown
    >;
    expect(statement).toEqual({
      _type: "https://in-toto.io/Statement/v0.1",
      predicateType: "https://cyclonedx.org/bom",
      subject: [{ name: `${registry.host}/acme/os`, digest: { sha256: digest.slice("sha256:".length) } }],
      predicate: SBOM,
    });
    // The signature is where it was: attestations live under their own tag.
    expect(await fetchLegacySignatures(client, repo("acme/os"), digest)).toHaveLength(1);
    expect(await skopeoRaw(`${registry.host}/acme/os:${signatureTag(digest)}`)).not.toContain("dsse");
  });

  test("a second run appends: the first attestation is kept, the new one is another layer", async () => {
    const digest = (await client.headManifest(withTag(repo("acme/os"), "1")))!.digest;
    const spdx: AttestationInput = {
      spec: spec("spdxjson"),
      path: "sbom.spdx.json",
      file: Buffer.from('{"spdxVersion":"SPDX-2.3"}'),
    };
    const before = JSON.parse(await skopeoRaw(`${registry.host}/acme/os:${attestationTag(digest)}`)) as {
      layers: { digest: string }[];
    };
    const result = await signAndAttest(`${registry.host}/acme/os:1`, [spdx]);
    expect(result.failure).toBeUndefined();
    const after = JSON.parse(await skopeoRaw(`${registry.host}/acme/os:${attestationTag(digest)}`)) as {
      layers: { digest: string; annotations: Record<string, string> }[];
    };
    expect(after.layers.map((l) => l.digest)).toEqual([
      ...before.layers.map((l) => l.digest),
      result.attested!.results[0]!.pushed.layerDigest,
    ]);
    expect(after.layers.map((l) => l.annotations.predicateType)).toEqual([
      "https://cyclonedx.org/bom",
      "https://spdx.dev/Document",
    ]);
  });

  test("verified under another key: the run fails after pushing and promotes nothing", async () => {
    const digest = await pushTestImage(registry.host, "acme/other:1", { content: "attest other" });
    const result = await signAndAttest(`${registry.host}/acme/other:1`, [cyclonedx], other.publicKey);
    expect(result.failure).toContain("verification of the cyclonedx attestation of");
    expect(result.failure).toContain("no DSSE signature of the attestation verifies with this public key");
    expect(result.failure).toContain("no tags were promoted");
    expect(result.promoted).toEqual([]);
    expect(await client.headManifest(withTag(repo("acme/other"), "latest"))).toBeUndefined();
    // Pushed (signing happened), only the promotion was withheld.
    expect(await client.headManifest(withTag(repo("acme/other"), attestationTag(digest)))).toBeDefined();
  });

  describe.skipIf(trivyToolsUnavailable())("with a real Trivy SBOM", () => {
    test("trivy rootfs --format cyclonedx of a tree with one dpkg package, attested and read back intact", async () => {
      const root = join(dir, "rootfs");
      await mkdir(join(root, "var/lib/dpkg"), { recursive: true });
      await mkdir(join(root, "etc"), { recursive: true });
      // Trivy detects Debian by /etc/debian_version; without it the purls say pkg:none.
      await writeFile(join(root, "etc/debian_version"), "13.0\n");
      await writeFile(
        join(root, "etc/os-release"),
        'ID=debian\nVERSION_ID="13"\nPRETTY_NAME="Debian GNU/Linux 13 (trixie)"\n',
      );
      await writeFile(
        join(root, "var/lib/dpkg/status"),
        "Package: bash\nStatus: install ok installed\nArchitecture: amd64\nVersion: 5.2.37-2\nSource: bash\n\n",
      );
      const sbomPath = join(dir, "sbom.cdx.json");
      await run(
        join(TRIVY_BIN_DIR, "trivy"),
        [
          "rootfs",
          "--quiet",
          "--format",
          "cyclonedx",
          "--output",
          sbomPath,
          "--cache-dir",
          join(dir, "trivy-cache"),
          root,
        ],
        {
          env: { ...process.env, TRIVY_DISABLE_VEX_NOTICE: "1" },
        },
      );
      const file = await readFile(sbomPath);
      const sbom = JSON.parse(file.toString()) as { bomFormat: string; components?: { purl?: string }[] };
      expect(sbom.bomFormat).toBe("CycloneDX");
      expect(sbom.components?.map((c) => c.purl)).toContainEqual(
        expect.stringMatching(/^pkg:deb\/debian\/bash@5\.2\.37-2/),
      );

      const digest = await pushTestImage(registry.host, "acme/trivy:1", { content: "trivy sbom" });
      const result = await signAndAttest(`${registry.host}/acme/trivy:1`, [
        { spec: spec("cyclonedx"), path: sbomPath, file },
      ]);
      expect(result.failure).toBeUndefined();
      const att = JSON.parse(await skopeoRaw(`${registry.host}/acme/trivy:${attestationTag(digest)}`)) as {
        layers: { digest: string }[];
      };
      const envelope = JSON.parse(
        (await client.getBlob(repo("acme/trivy"), att.layers[0]!.digest)).toString(),
      ) as {
        payloadType: string;
        payload: string;
        signatures: { sig: string }[];
      };
      expect(dsseVerifies(envelope, ours.publicKey)).toBe(true);
      const statement = JSON.parse(Buffer.from(envelope.payload, "base64").toString()) as {
        predicate: unknown;
      };
      expect(statement.predicate).toEqual(sbom);
    }, 120_000);
  });
});
