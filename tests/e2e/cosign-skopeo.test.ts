import { mkdtemp, readdir, readFile, realpath, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, test } from "vitest";
import {
  CredentialStore,
  parseManifest,
  parseReference,
  RegistryClient,
  sha256Digest,
  withTag,
  type ImageManifest,
  type RepositoryRef,
} from "@frostyard/oci";
import {
  buildSignatureManifest,
  createLegacySignature,
  CosignKeyError,
  generateCosignKeyPair,
  loadCosignPrivateKey,
  readSignatureLayers,
  signatureTag,
  verifySignatureSet,
  type CosignKeyPair,
  type SignatureCandidate,
} from "@frostyard/cosign";
import { readContainersSignature } from "../helpers/containers-signature";
import { IMAGE_TOOLS, pushTestImage } from "../helpers/images";
import { startRegistry, type TestRegistry } from "../helpers/registry";
import { ensureToolbox, inToolbox, TOOLBOX_BUILD_TIMEOUT_MS, toolboxUnavailable } from "../helpers/toolbox";
import { missingTools } from "../helpers/tools";
import { writeHostPolicy } from "../helpers/host-policy";

/**
 * cosign itself cannot be had here; trixie's skopeo (containers/image with sigstore) is the independent
 * implementation: it makes and reads cosign-format keys, signs, and verifies signatures exactly as a
 * bootc/rpm-ostree host does. Debian 12's own skopeo has sigstore compiled out, hence the toolbox.
 */
describe.skipIf(toolboxUnavailable() || missingTools("docker-registry", ...IMAGE_TOOLS))(
  "cosign keys and signatures against a sigstore-enabled skopeo",
  () => {
    let dir: string;
    let registry: TestRegistry;
    let client: RegistryClient;
    let ours: CosignKeyPair;
    let repo: RepositoryRef;
    let imageDigest: string;
    const password = "correct horse";

    beforeAll(async () => {
      dir = await realpath(await mkdtemp(join(tmpdir(), "cosign-skopeo-")));
      [registry, ours] = await Promise.all([
        startRegistry(),
        generateCosignKeyPair(password),
        ensureToolbox(),
      ]).then(([r, k]) => [r, k] as const);
      client = new RegistryClient({ credentials: new CredentialStore({ authFiles: [] }) });
      repo = parseReference(`${registry.host}/acme/os`);
      imageDigest = await pushTestImage(registry.host, "acme/os:1");
      await writeFile(join(dir, "pass"), password);
      await writeFile(join(dir, "ours.key"), ours.privateKeyPem, { mode: 0o600 });
      await writeFile(join(dir, "ours.pub"), ours.publicKeyPem);
      // Where containers/image looks for sigstore signatures: the cosign `.sig` tag next to the image.
      await writeFile(
        join(dir, "registries.yaml"),
        `docker:\n  ${registry.host}:\n    use-sigstore-attachments: true\n`,
      );
    }, TOOLBOX_BUILD_TIMEOUT_MS);

    afterAll(async () => {
      await registry?.stop();
      if (dir) await rm(dir, { recursive: true, force: true });
    });

    const skopeo = (args: string[]) => inToolbox(["skopeo", ...args], { binds: [dir] });
    const registriesD = () => ["--registries.d", dir];

    /** A host's policy: only images signed by `keyFile` for this repository. */
    const policy = (name: string, keyFile: string) =>
      writeHostPolicy(join(dir, `${name}.policy.json`), registry.host, keyFile);

    /** Pulls the image the way a host does; returns skopeo's exit code and stderr. */
    async function hostPull(policyFile: string, tag = "1"): Promise<{ code: number | null; stderr: string }> {
      const out = await mkdtemp(join(dir, "pull-"));
      const result = await skopeo([
        "copy",
        "--policy",
        policyFile,
        ...registriesD(),
        "--src-tls-verify=false",
        `docker://${registry.host}/acme/os:${tag}`,
        `dir:${out}`,
      ]);
      return { code: result.code, stderr: result.stderr };
    }

    /** A fresh signature of the test image by our key (ECDSA: different bytes every time). */
    async function ourSignature(): Promise<{ payload: Buffer; signatureB64: string }> {
      const { payload, signatureB64 } = await createLegacySignature({
        repository: repo,
        manifestDigest: imageDigest,
        signer: ours.privateKey,
      });
      return { payload, signatureB64 };
    }

    /** What the sign step will do through RegistryClient: payload and config blobs, then the .sig manifest. */
    async function pushOurSignature(existing: ImageManifest | undefined): Promise<ImageManifest> {
      const signature = await ourSignature();
      const image = buildSignatureManifest(existing, signature, { publicKey: ours.publicKey });
      await client.uploadBlob(repo, image.manifest.layers.at(-1)!.digest, signature.payload);
      await client.uploadBlob(repo, image.manifest.config.digest, image.config);
      await client.putManifest(
        withTag(repo, signatureTag(imageDigest)),
        image.manifestBytes,
        image.manifest.mediaType!,
      );
      return image.manifest;
    }

    async function fetchSignatures(): Promise<{ manifest: ImageManifest; candidates: SignatureCandidate[] }> {
      const fetched = await client.getManifest(withTag(repo, signatureTag(imageDigest)));
      if (!fetched) throw new Error("no .sig manifest in the registry");
      const manifest = parseManifest(fetched.bytes).manifest as ImageManifest;
      const candidates = await Promise.all(
        readSignatureLayers(manifest).map(async (layer) => ({
          mediaType: layer.mediaType,
          annotations: layer.annotations,
          payload: await client.getBlob(repo, layer.payloadDigest),
        })),
      );
      return { manifest, candidates };
    }

    // The tests below run in order and build on each other's registry state, as one signing run would.
    test("a key made by skopeo generate-sigstore-key decrypts with loadCosignPrivateKey", async () => {
      const made = await skopeo([
        "generate-sigstore-key",
        "--output-prefix",
        join(dir, "skopeo"),
        "--passphrase-file",
        join(dir, "pass"),
      ]);
      expect(made.code, made.stderr).toBe(0);
      const pem = await readFile(join(dir, "skopeo.private"), "utf8");
      const key = await loadCosignPrivateKey({ pem }, password);
      expect(key.publicKeyPem).toBe(await readFile(join(dir, "skopeo.pub"), "utf8"));
      await expect(loadCosignPrivateKey({ pem }, "wrong")).rejects.toBeInstanceOf(CosignKeyError);
    });

    test("a host refuses the image before anything signs it", async () => {
      const pulled = await hostPull(await policy("ours", join(dir, "ours.pub")));
      expect(pulled.code).not.toBe(0);
      expect(pulled.stderr).toContain("A signature was required, but no signature exists");
    });

    test("our legacy .sig signature is accepted by the host's verifier, and only for our key", async () => {
      await pushOurSignature(undefined);
      const accepted = await hostPull(await policy("ours", join(dir, "ours.pub")));
      expect(accepted.code, accepted.stderr).toBe(0);
      const other = await generateCosignKeyPair("x");
      await writeFile(join(dir, "other.pub"), other.publicKeyPem);
      const refused = await hostPull(await policy("other", join(dir, "other.pub")));
      expect(refused.code).not.toBe(0);
      expect(refused.stderr).toContain("invalid signature");

      const { candidates } = await fetchSignatures();
      expect(
        verifySignatureSet(candidates, ours.publicKey, { manifestDigest: imageDigest, repository: repo })
          .accepted,
      ).toBe(true);
    });

    test("skopeo signs with a key we generated; its signature joins ours and both verify", async () => {
      const signer = await generateCosignKeyPair(password);
      await writeFile(join(dir, "signer.key"), signer.privateKeyPem, { mode: 0o600 });
      await writeFile(join(dir, "signer.pub"), signer.publicKeyPem);
      const signed = await skopeo([
        "copy",
        "--insecure-policy",
        ...registriesD(),
        "--src-tls-verify=false",
        "--dest-tls-verify=false",
        "--sign-by-sigstore-private-key",
        join(dir, "signer.key"),
        "--sign-passphrase-file",
        join(dir, "pass"),
        `docker://${registry.host}/acme/os:1`,
        `docker://${registry.host}/acme/os:1`,
      ]);
      expect(signed.code, signed.stderr).toBe(0);

      // containers/image appended its layer to our .sig image: both signatures are there, ours first.
      const { manifest, candidates } = await fetchSignatures();
      expect(manifest.layers).toHaveLength(2);
      const expected = { manifestDigest: imageDigest, repository: repo };
      expect(verifySignatureSet(candidates.slice(0, 1), ours.publicKey, expected).accepted).toBe(true);
      const bySigner = verifySignatureSet(candidates, signer.publicKey, expected);
      expect(bySigner.outcomes.map((o) => (o.ok ? "ok" : o.reason))).toEqual(["bad-signature", "ok"]);

      // Adding ours again is a duplicate by cosign's rule: nothing to push.
      const again = buildSignatureManifest(manifest, await ourSignature(), { publicKey: ours.publicKey });
      expect(again.added).toBe(false);

      const hostWithSigner = await hostPull(await policy("signer", join(dir, "signer.pub")));
      expect(hostWithSigner.code, hostWithSigner.stderr).toBe(0);
    });

    test("skopeo's signature written to a dir: verifies with the sign step's verifier", async () => {
      const out = await mkdtemp(join(dir, "signed-dir-"));
      const signed = await skopeo([
        "copy",
        "--insecure-policy",
        "--src-tls-verify=false",
        "--sign-by-sigstore-private-key",
        join(dir, "ours.key"),
        "--sign-passphrase-file",
        join(dir, "pass"),
        "--sign-identity",
        `${registry.host}/acme/os:1`,
        `docker://${registry.host}/acme/os:1`,
        `dir:${out}`,
      ]);
      expect(signed.code, signed.stderr).toBe(0);
      const signatures = (await readdir(out)).filter((f) => f.startsWith("signature-"));
      expect(signatures).toEqual(["signature-1"]);
      const candidates = [readContainersSignature(await readFile(join(out, "signature-1")))];
      const manifestDigest = sha256Digest(await readFile(join(out, "manifest.json")));
      expect(
        verifySignatureSet(candidates, ours.publicKey, { manifestDigest, repository: repo }).accepted,
      ).toBe(true);
      const [wrongRepo] = verifySignatureSet(candidates, ours.publicKey, {
        manifestDigest,
        repository: `${registry.host}/acme/other`,
      }).outcomes;
      expect(wrongRepo?.ok ? "ok" : wrongRepo?.reason).toBe("identity-mismatch");
    });
  },
);
