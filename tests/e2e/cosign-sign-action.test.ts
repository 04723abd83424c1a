import { createPublicKey, generateKeyPairSync, verify, type KeyObject } from "node:crypto";
import { mkdtemp, readFile, realpath, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, test } from "vitest";
import {
  attestationTag,
  encryptCosignPrivateKey,
  generateCosignKeyPair,
  loadCosignPrivateKey,
  signatureTag,
} from "@frostyard/cosign";
import { CredentialStore, parseReference, RegistryClient, withTag, type RepositoryRef } from "@frostyard/oci";
import { startRefusingProxy, type RefusingProxy } from "../fixtures/cosign-sign/refusing-proxy";
import { IMAGE_TOOLS, pushMultiArchIndex, pushTestImage } from "../helpers/images";
import { startRegistry, type TestRegistry } from "../helpers/registry";
import { runBuiltAction } from "../helpers/run-action";
import { ensureToolbox, inToolbox, TOOLBOX_BUILD_TIMEOUT_MS, toolboxUnavailable } from "../helpers/toolbox";
import { missingTools } from "../helpers/tools";
import { sharedFixture } from "../helpers/fixtures";
import { writeHostPolicy } from "../helpers/host-policy";

/**
 * actions/cosign-sign end to end through the local runner, against a real registry on 127.0.0.1. The
 * acceptance check is an independent verifier: trixie's skopeo (containers/image with sigstore, what bootc
 * hosts use) pulls the image under a `sigstoreSigned` policy. cosign itself cannot be had here.
 */
const KEYS = sharedFixture("cosign/keys");
const KEY_FILE = join(KEYS, "cosign-testdata-sigstore-label-password-hello.key");
const PUB_FILE = join(KEYS, "cosign-testdata-sigstore-label-password-hello.derived.pub");
const PASSWORD = "hello";

describe.skipIf(toolboxUnavailable() || missingTools("docker-registry", ...IMAGE_TOOLS))(
  "actions/cosign-sign through the local runner",
  () => {
    let dir: string;
    let registry: TestRegistry;
    let proxy: RefusingProxy;
    let client: RegistryClient;
    let keyPem: string;
    let fingerprint: string;
    const digests: Record<string, string> = {};

    beforeAll(async () => {
      dir = await realpath(await mkdtemp(join(tmpdir(), "cosign-sign-action-")));
      registry = await startRegistry();
      await ensureToolbox();
      proxy = await startRefusingProxy(registry.host);
      client = new RegistryClient({ credentials: new CredentialStore({ authFiles: [] }) });
      keyPem = await readFile(KEY_FILE, "utf8");
      fingerprint = (await loadCosignPrivateKey({ pem: keyPem }, PASSWORD)).fingerprint;
      for (const [tag, content] of [
        ["acme/os:1", "os 1"],
        ["acme/os:2", "os 2"],
        ["acme/unsigned:1", "unsigned"],
        ["acme/bad:1", "bad inputs"],
        ["acme/attested:1", "attested"],
      ] as const) {
        digests[tag] = await pushTestImage(registry.host, tag, { content });
      }
      await writeFile(join(dir, "ours.pub"), await readFile(PUB_FILE));
      await writeFile(join(dir, "other.pub"), (await generateCosignKeyPair("x")).publicKeyPem);
      await writeFile(
        join(dir, "registries.yaml"),
        `docker:\n  ${registry.host}:\n    use-sigstore-attachments: true\n`,
      );
    }, TOOLBOX_BUILD_TIMEOUT_MS);

    afterAll(async () => {
      await Promise.all([registry?.stop(), proxy?.stop()]);
      if (dir) await rm(dir, { recursive: true, force: true });
    });

    const repo = (name: string): RepositoryRef => parseReference(`${registry.host}/${name}`);
    const tagDigest = async (name: string, tag: string) =>
      (await client.headManifest(withTag(repo(name), tag)))?.digest;

    /** A bootc host's pull: skopeo copy under a policy that requires a signature by `pub` for this registry. */
    async function hostPull(image: string, pub: string): Promise<{ code: number | null; stderr: string }> {
      const policy = await writeHostPolicy(join(dir, `${pub}.policy.json`), registry.host, join(dir, pub));
      const out = await mkdtemp(join(dir, "pull-"));
      const result = await inToolbox(
        [
          "skopeo",
          "copy",
          "--policy",
          policy,
          "--registries.d",
          dir,
          "--src-tls-verify=false",
          `docker://${registry.host}/${image}`,
          `dir:${out}`,
        ],
        { binds: [dir] },
      );
      return { code: result.code, stderr: result.stderr };
    }

    const sign = (inputs: Record<string, string>, env: Record<string, string> = {}) =>
      runBuiltAction("cosign-sign", { workdir: dir, inputs, env });

    test("signs a tag by digest from env://, verifies, promotes latest; a bootc host's skopeo accepts only our key", async () => {
      const run = await sign(
        {
          image: `${registry.host}/acme/os:1`,
          key: "env://COSIGN_PRIVATE_KEY",
          password: PASSWORD,
          "promote-tags": "latest",
        },
        { COSIGN_PRIVATE_KEY: keyPem },
      );
      expect(run.annotations.filter((a) => a.level === "error")).toEqual([]);
      expect(run.failed).toBe(false);
      const digest = digests["acme/os:1"]!;
      const sigTag = `${registry.host}/acme/os:${signatureTag(digest)}`;
      expect(run.outputs.digest).toBe(digest);
      expect(run.outputs.verified).toBe("true");
      expect(run.outputs["promoted-tags"]).toBe(JSON.stringify([`${registry.host}/acme/os:latest`]));
      const sigDigest = await tagDigest("acme/os", signatureTag(digest));
      expect(run.outputs.signature).toBe(`${sigTag}@${sigDigest}`);
      expect(await tagDigest("acme/os", "latest")).toBe(digest);

      // The summary names the tag the user gave, the digest, the format and the key fingerprint.
      expect(run.summary).toContain(`\`${registry.host}/acme/os:1\``);
      expect(run.summary).toContain(digest);
      expect(run.summary).toContain(`key sha256:${fingerprint}`);
      expect(run.summary).toContain("format **legacy**");

      // Secrets: every line of the key and the password are masked, and none reached the log.
      const keyLines = keyPem.split("\n").filter((l) => l.trim() !== "");
      expect(run.masks).toEqual(expect.arrayContaining([PASSWORD, ...keyLines]));
      const log = run.log.join("\n");
      for (const secret of [PASSWORD, ...keyLines.slice(1, -1)]) expect(log).not.toContain(secret);
      expect(run.postExitCode).toBe(0);

      const accepted = await hostPull("acme/os:1", "ours.pub");
      expect(accepted.code, accepted.stderr).toBe(0);
      const promoted = await hostPull("acme/os:latest", "ours.pub");
      expect(promoted.code, promoted.stderr).toBe(0);
      const otherKey = await hostPull("acme/os:1", "other.pub");
      expect(otherKey.code).not.toBe(0);
      expect(otherKey.stderr).toContain("invalid signature");
      const unsigned = await hostPull("acme/unsigned:1", "ours.pub");
      expect(unsigned.code).not.toBe(0);
      expect(unsigned.stderr).toContain("A signature was required, but no signature exists");
    });

    test("signing again with the same key keeps one signature; another key's signature is appended", async () => {
      const digest = digests["acme/os:1"]!;
      const sigRef = withTag(repo("acme/os"), signatureTag(digest));
      const before = await client.getManifest(sigRef);
      const again = await sign({ image: `${registry.host}/acme/os:1`, key: KEY_FILE, password: PASSWORD });
      expect(again.failed).toBe(false);
      expect((await client.getManifest(sigRef))?.digest).toBe(before?.digest);

      const other = await generateCosignKeyPair("pw");
      const second = await sign({
        image: `${registry.host}/acme/os:1`,
        key: other.privateKeyPem,
        password: "pw",
      });
      expect(second.failed, second.stderr).toBe(false);
      const after = await client.getManifest(sigRef);
      expect((after?.manifest as { layers: unknown[] }).layers).toHaveLength(2);
      // Both keys are now accepted by a host: ours was kept.
      expect((await hostPull("acme/os:1", "ours.pub")).code).toBe(0);
    });

    test("recursive + both on a multi-arch index: .sig and bundle referrer for the index and each platform", async () => {
      const pushed = await pushMultiArchIndex(registry.host, "acme/multi:1");
      const run = await sign({
        image: `${registry.host}/acme/multi:1`,
        key: KEY_FILE,
        password: PASSWORD,
        format: "both",
        recursive: "true",
        annotations: "org.example/build=42",
      });
      expect(run.annotations.filter((a) => a.level === "error")).toEqual([]);
      expect(run.outputs.digest).toBe(pushed.indexDigest);
      expect(run.outputs.verified).toBe("true");
      const all = [pushed.indexDigest, pushed.platformDigests.amd64, pushed.platformDigests.arm64];
      for (const digest of all) {
        expect(await tagDigest("acme/multi", signatureTag(digest)), digest).toBeDefined();
        const referrers = await client.listReferrers(repo("acme/multi"), digest);
        // distribution 2.8 has no referrers API: the sha256-<hex> tag index is the fallback.
        expect(referrers.source).toBe("tag-schema");
        expect(referrers.descriptors.map((d) => d.artifactType)).toEqual([
          "application/vnd.dev.sigstore.bundle.v0.3+json",
        ]);
      }
      expect(run.summary).toContain("linux/amd64");
      expect(run.summary).toContain("linux/arm64");
      expect((await hostPull(`acme/multi@${pushed.platformDigests.arm64}`, "ours.pub")).code).toBe(0);
    });

    const p384 = async () =>
      encryptCosignPrivateKey(generateKeyPairSync("ec", { namedCurve: "secp384r1" }).privateKey, PASSWORD);

    test.each([
      ["wrong password", () => ({ key: KEY_FILE, password: "nope" }), "input 'password': wrong password"],
      [
        "a malformed key",
        // The PEM lines are intact, the encrypted envelope inside is cut short.
        async () => {
          const lines = keyPem.trim().split("\n");
          return { key: [lines[0], lines[1], lines.at(-1)].join("\n"), password: PASSWORD };
        },
        "input 'key':",
      ],
      ["a P-384 key", async () => ({ key: await p384(), password: PASSWORD }), "ECDSA P-384"],
      [
        "a tag that does not exist",
        () => ({ key: KEY_FILE, password: PASSWORD, image: `${registry.host}/acme/bad:nope` }),
        "the registry has no tag 'nope'",
      ],
      [
        "a registry refusing the push",
        () => ({ key: KEY_FILE, password: PASSWORD, image: `${proxy.host}/acme/bad:1` }),
        "pushing the legacy signature of",
      ],
    ])("%s: fails with a clear error and promotes nothing", async (_name, make, message) => {
      const inputs = await make();
      const run = await sign({ image: `${registry.host}/acme/bad:1`, "promote-tags": "latest", ...inputs });
      expect(run.failed).toBe(true);
      const errors = run.annotations.filter((a) => a.level === "error").map((a) => a.message);
      expect(errors.join("\n")).toContain(message);
      expect(await tagDigest("acme/bad", "latest")).toBeUndefined();
      expect(await tagDigest("acme/bad", signatureTag(digests["acme/bad:1"]!))).toBeUndefined();
      expect(run.outputs["promoted-tags"] ?? "[]").toBe("[]");
      expect(run.log.join("\n")).not.toContain(keyPem.split("\n")[1]!);
      expect(run.postExitCode).toBe(0);
    });

    /** The DSSE check by hand (node:crypto over the PAE), independent of the action's own verifier. */
    const dsseVerifies = (
      envelope: { payloadType: string; payload: string; signatures: { sig: string }[] },
      key: KeyObject,
    ) => {
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
    };

    test("attest: a CycloneDX SBOM signed into sha256-<hex>.att, verified, reported, then promoted", async () => {
      const sbom = {
        bomFormat: "CycloneDX",
        specVersion: "1.6",
        components: [{ name: "bash", purl: "pkg:deb/debian/bash@5.2.37-2" }],
      };
      await writeFile(join(dir, "sbom.cdx.json"), JSON.stringify(sbom));
      const run = await sign({
        image: `${registry.host}/acme/attested:1`,
        key: KEY_FILE,
        password: PASSWORD,
        attest: "cyclonedx=sbom.cdx.json",
        "promote-tags": "latest",
      });
      expect(run.annotations.filter((a) => a.level === "error")).toEqual([]);
      expect(run.failed).toBe(false);
      const digest = digests["acme/attested:1"]!;
      const attTag = attestationTag(digest);
      const attDigest = await tagDigest("acme/attested", attTag);
      const attestations = JSON.parse(run.outputs.attestations ?? "") as Record<string, unknown>[];
      expect(attestations).toEqual([
        {
          image: `${registry.host}/acme/attested:1`,
          digest,
          type: "cyclonedx",
          predicateType: "https://cyclonedx.org/bom",
          reference: `${registry.host}/acme/attested:${attTag}@${attDigest}`,
          layer: expect.stringMatching(/^sha256:[0-9a-f]{64}$/),
          verified: true,
        },
      ]);
      expect(await tagDigest("acme/attested", "latest")).toBe(digest);
      expect(run.summary).toContain("Attested 1 of 1 in-toto statement(s)");

      const raw = await inToolbox([
        "skopeo",
        "inspect",
        "--raw",
        "--tls-verify=false",
        `docker://${registry.host}/acme/attested:${attTag}`,
      ]);
      expect(raw.code, raw.stderr).toBe(0);
      const att = JSON.parse(raw.stdout) as {
        layers: { mediaType: string; digest: string; annotations: Record<string, string> }[];
      };
      expect(att.layers.map((l) => [l.mediaType, l.digest, l.annotations])).toEqual([
        [
          "application/vnd.dsse.envelope.v1+json",
          attestations[0]!.layer,
          { "dev.cosignproject.cosign/signature": "", predicateType: "https://cyclonedx.org/bom" },
        ],
      ]);
      const envelope = JSON.parse(
        (await client.getBlob(repo("acme/attested"), att.layers[0]!.digest)).toString(),
      ) as {
        payloadType: string;
        payload: string;
        signatures: { sig: string }[];
      };
      expect(dsseVerifies(envelope, createPublicKey(await readFile(PUB_FILE)))).toBe(true);
      expect(dsseVerifies(envelope, createPublicKey(await readFile(join(dir, "other.pub"))))).toBe(false);
      const statement = JSON.parse(Buffer.from(envelope.payload, "base64").toString()) as {
        subject: unknown;
        predicate: unknown;
      };
      expect(statement.subject).toEqual([
        { name: `${registry.host}/acme/attested`, digest: { sha256: digest.slice(7) } },
      ]);
      expect(statement.predicate).toEqual(sbom);
      // The image signature a host checks is untouched by the attestation.
      expect((await hostPull("acme/attested:1", "ours.pub")).code).toBe(0);
    });

    test.each([
      [
        "an unknown type",
        "sbom=sbom.cdx.json",
        "input 'attest': 'sbom=sbom.cdx.json': the type 'sbom' is unknown",
      ],
      [
        "a missing file",
        "cyclonedx=nope.json",
        "input 'attest': cyclonedx=nope.json: the file cannot be read (ENOENT)",
      ],
      [
        "a file that is not JSON",
        "spdxjson=not-json.txt",
        "input 'attest': spdxjson=not-json.txt is not JSON",
      ],
    ])("attest with %s fails before anything is pushed", async (_name, attest, message) => {
      await writeFile(join(dir, "not-json.txt"), "SPDXVersion: SPDX-2.3\n");
      const run = await sign({
        image: `${registry.host}/acme/bad:1`,
        key: KEY_FILE,
        password: PASSWORD,
        attest,
        "promote-tags": "latest",
      });
      expect(run.failed).toBe(true);
      const errors = run.annotations.filter((a) => a.level === "error").map((a) => a.message);
      expect(errors.join("\n")).toContain(message);
      const digest = digests["acme/bad:1"]!;
      expect(await tagDigest("acme/bad", signatureTag(digest))).toBeUndefined();
      expect(await tagDigest("acme/bad", attestationTag(digest))).toBeUndefined();
      expect(await tagDigest("acme/bad", "latest")).toBeUndefined();
    });

    test("the refusal reached the registry as a write, and it said 403", async () => {
      expect(proxy.refused.some((r) => r.startsWith("POST /v2/acme/bad/blobs/uploads/"))).toBe(true);
    });
  },
);
