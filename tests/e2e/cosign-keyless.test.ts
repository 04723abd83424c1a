import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, test } from "vitest";
import { bundleFromJSON } from "@sigstore/bundle";
import { TrustedRoot } from "@sigstore/protobuf-specs";
import { toSignedEntity, toTrustMaterial, Verifier } from "@sigstore/verify";
import type { Logger } from "@frostyard/kit";
import {
  BUNDLE_ANNOTATION,
  CERTIFICATE_ANNOTATION,
  CHAIN_ANNOTATION,
  fetchBundles,
  fetchLegacySignatures,
  jwtClaims,
  signImages,
  verifyInRegistry,
} from "@frostyard/cosign";
import { fetchActionsIdToken, keylessSigner, keylessVerifier } from "@frostyard/cosign/keyless";
import { CredentialStore, parseReference, RegistryClient, withTag } from "@frostyard/oci";
import { IMAGE_TOOLS, pushTestImage } from "../helpers/images";
import { startRegistry, type TestRegistry } from "../helpers/registry";
import { ACTIONS_ISSUER, startSigstoreMock, type SigstoreMock } from "../helpers/sigstore-mock";
import { runBuiltAction } from "../helpers/run-action";
import { missingTools } from "../helpers/tools";

/**
 * Keyless signing end to end: a token from the (stand-in) Actions OIDC endpoint, a real certificate from
 * @sigstore/mock's Fulcio (with an SCT from its CT log), real Rekor entries, pushed to a real registry,
 * then verified against the mock's trust root by @sigstore/verify and by our legacy verifier. The Actions
 * OIDC endpoint and public Fulcio/Rekor cannot be had outside a GitHub job with internet, hence the stand-in
 * token endpoint and the mock services.
 */
describe.skipIf(missingTools("docker-registry", ...IMAGE_TOOLS))(
  "keyless signing with @sigstore/mock",
  () => {
    let registry: TestRegistry;
    let sigstore: SigstoreMock;
    let other: SigstoreMock;
    let client: RegistryClient;
    const logger: Logger = {
      debug: () => {},
      info: () => {},
      warning: () => {},
      error: () => {},
      group: (_n, fn) => fn(),
      setSecret: () => {},
    };

    beforeAll(async () => {
      [registry, sigstore, other] = await Promise.all([
        startRegistry(),
        startSigstoreMock(),
        startSigstoreMock(),
      ]);
      client = new RegistryClient({ credentials: new CredentialStore({ authFiles: [] }) });
    });
    afterAll(async () => Promise.all([registry?.stop(), sigstore?.stop(), other?.stop()]));

    const identity = () => `https://github.com/${sigstore.claims.job_workflow_ref as string}`;

    test("no token environment: fails before any network call, saying which permission to add", async () => {
      await expect(fetchActionsIdToken({})).rejects.toThrow("add `permissions: id-token: write`");
      expect(sigstore.tokenRequests).toEqual([]);
    });

    test("the token is requested for audience sigstore with the runtime bearer", async () => {
      const token = await fetchActionsIdToken(sigstore.tokenEnv);
      expect(sigstore.tokenRequests.at(-1)).toEqual({ audience: "sigstore", authorized: true });
      expect(jwtClaims(token)).toMatchObject({ aud: "sigstore", iss: ACTIONS_ISSUER });
      await expect(
        fetchActionsIdToken({ ...sigstore.tokenEnv, ACTIONS_ID_TOKEN_REQUEST_TOKEN: "wrong" }),
      ).rejects.toThrow("HTTP 401");
    });

    /** A signer with a fresh Actions token, and the verifier for its identity, against the mock services. */
    const mockKeylessSigner = async () => {
      const verifier = keylessVerifier(sigstore.trustedRoot, {
        identity: identity(),
        issuer: ACTIONS_ISSUER,
      });
      const signer = await keylessSigner({
        idToken: await fetchActionsIdToken(sigstore.tokenEnv),
        fulcioUrl: sigstore.fulcioUrl,
        rekorUrl: sigstore.rekorUrl,
        verifier,
      });
      return { verifier, signer };
    };

    test("sign both formats; the registry's signatures verify with the trust root and identity, not otherwise", async () => {
      const digest = await pushTestImage(registry.host, "acme/keyless:1", { content: "keyless" });
      const repo = parseReference(`${registry.host}/acme/keyless`);
      const { signer } = await mockKeylessSigner();
      expect(signer.identity()).toEqual({ kind: "keyless", identity: identity(), issuer: ACTIONS_ISSUER });
      const report = await signImages({
        client,
        images: [`${registry.host}/acme/keyless:1`],
        signer,
        format: "both",
        recursive: false,
        annotations: { run: "7" },
        promoteTags: ["latest"],
        logger,
      });
      expect(report.failure).toBeUndefined();
      expect(report.verified).toBe(true);
      expect((await client.headManifest(withTag(repo, "latest")))?.digest).toBe(digest);
      // One certificate for the run, one Rekor entry per signature.
      expect(sigstore.posts).toEqual(["/api/v2/signingCert", "/api/v1/log/entries", "/api/v1/log/entries"]);

      // The legacy layer carries what cosign writes for keyless: certificate, chain and the Rekor bundle.
      const [layer] = await fetchLegacySignatures(client, repo, digest);
      expect(layer!.annotations[CERTIFICATE_ANNOTATION]).toMatch(/^-----BEGIN CERTIFICATE-----/);
      expect(layer!.annotations[CHAIN_ANNOTATION]).toMatch(/^-----BEGIN CERTIFICATE-----/);
      const rekor = JSON.parse(layer!.annotations[BUNDLE_ANNOTATION]!);
      expect(Object.keys(rekor)).toEqual(["SignedEntryTimestamp", "Payload"]);
      expect(Object.keys(rekor.Payload)).toEqual(["body", "integratedTime", "logIndex", "logID"]);

      // The bundle referrer verifies with @sigstore/verify alone, against the mock's trust root.
      const [bundle] = await fetchBundles(client, repo, digest);
      const sigstoreVerifier = new Verifier(toTrustMaterial(TrustedRoot.fromJSON(sigstore.trustedRoot)));
      const signerFound = sigstoreVerifier.verify(
        toSignedEntity(bundleFromJSON(JSON.parse(bundle!.toString()))),
        {
          subjectAlternativeName: identity(),
          extensions: { issuer: ACTIONS_ISSUER },
        },
      );
      expect(signerFound.identity?.subjectAlternativeName).toBe(identity());

      // Another identity, an identity regexp that does not match, another trust root: each refused, in both formats.
      const refusedBy = async (v: ReturnType<typeof keylessVerifier>) =>
        verifyInRegistry(client, repo, digest, "both", v);
      const wrongIdentity = await refusedBy(
        keylessVerifier(sigstore.trustedRoot, {
          identity: "https://github.com/evil/x",
          issuer: ACTIONS_ISSUER,
        }),
      );
      expect(wrongIdentity.verified).toBe(false);
      expect(wrongIdentity.messages.join("\n")).toContain("is not the expected https://github.com/evil/x");
      const regexp = await refusedBy(
        keylessVerifier(sigstore.trustedRoot, {
          identityRegexp: "^https://github\\.com/other/",
          issuer: ACTIONS_ISSUER,
        }),
      );
      expect(regexp.verified).toBe(false);
      const wrongIssuer = await refusedBy(
        keylessVerifier(sigstore.trustedRoot, {
          identity: identity(),
          issuer: "https://accounts.example.com",
        }),
      );
      expect(wrongIssuer.verified).toBe(false);
      expect(wrongIssuer.messages.join("\n")).toContain("issuer");
      const wrongRoot = await refusedBy(
        keylessVerifier(other.trustedRoot, { identity: identity(), issuer: ACTIONS_ISSUER }),
      );
      expect(wrongRoot.verified).toBe(false);
      const matching = await refusedBy(
        keylessVerifier(sigstore.trustedRoot, {
          identityRegexp: "^https://github\\.com/acme/os/",
          issuer: ACTIONS_ISSUER,
        }),
      );
      expect(matching).toEqual({
        verified: true,
        messages: ["legacy: 1 keyless signature(s) accepted", "bundle: 1 of 1 bundle(s) verified"],
      });
    });

    test("a keyless signature copied to another image's .sig tag is refused by the digest rule", async () => {
      const a = await pushTestImage(registry.host, "acme/copy:a", { content: "a" });
      const b = await pushTestImage(registry.host, "acme/copy:b", { content: "b" });
      const repo = parseReference(`${registry.host}/acme/copy`);
      const { verifier, signer } = await mockKeylessSigner();
      await signImages({
        client,
        images: [`${registry.host}/acme/copy:a`],
        signer,
        format: "legacy",
        recursive: false,
        annotations: {},
        promoteTags: [],
        logger,
      });
      const candidates = await fetchLegacySignatures(client, repo, a);
      const verdict = await verifier.legacy(candidates, { manifestDigest: b, repository: repo });
      expect(verdict.ok).toBe(false);
      expect(verdict.message).toContain(`does not match the image digest ${b}`);
    });
  },
);

describe.skipIf(missingTools("docker-registry", ...IMAGE_TOOLS))(
  "actions/cosign-sign keyless through the local runner",
  () => {
    let registry: TestRegistry;
    let sigstore: SigstoreMock;
    let client: RegistryClient;
    let dir: string;
    let rootFile: string;

    beforeAll(async () => {
      [registry, sigstore] = await Promise.all([startRegistry(), startSigstoreMock()]);
      client = new RegistryClient({ credentials: new CredentialStore({ authFiles: [] }) });
      dir = await mkdtemp(join(tmpdir(), "cosign-keyless-action-"));
      rootFile = join(dir, "trusted_root.json");
      await writeFile(rootFile, JSON.stringify(sigstore.trustedRoot));
    });
    afterAll(async () => {
      await Promise.all([registry?.stop(), sigstore?.stop()]);
      if (dir) await rm(dir, { recursive: true, force: true });
    });

    const latest = (name: string) =>
      client.headManifest(withTag(parseReference(`${registry.host}/${name}`), "latest"));
    const keylessInputs = (image: string, extra: Record<string, string> = {}) => ({
      image: `${registry.host}/${image}`,
      "fulcio-url": sigstore.fulcioUrl,
      "rekor-url": sigstore.rekorUrl,
      "trusted-root": rootFile,
      "promote-tags": "latest",
      ...extra,
    });

    test("without id-token permission: fails at once with the fix, contacts no sigstore service, promotes nothing", async () => {
      await pushTestImage(registry.host, "acme/noperm:1", { content: "noperm" });
      const posts = sigstore.posts.length;
      const run = await runBuiltAction("cosign-sign", {
        workdir: dir,
        inputs: keylessInputs("acme/noperm:1"),
      });
      expect(run.failed).toBe(true);
      const errors = run.annotations.filter((a) => a.level === "error").map((a) => a.message);
      expect(errors.join("\n")).toContain("add `permissions: id-token: write`");
      expect(sigstore.posts.length).toBe(posts);
      expect(await latest("acme/noperm")).toBeUndefined();
    });

    test("signs with the workflow's identity by default; summary names the certificate; the token is masked", async () => {
      const digest = await pushTestImage(registry.host, "acme/kl:1", { content: "kl" });
      const run = await runBuiltAction("cosign-sign", {
        workdir: dir,
        inputs: keylessInputs("acme/kl:1", { format: "both" }),
        env: sigstore.tokenEnv,
      });
      expect(run.annotations.filter((a) => a.level === "error")).toEqual([]);
      expect(run.outputs).toMatchObject({
        digest,
        verified: "true",
        "promoted-tags": JSON.stringify([`${registry.host}/acme/kl:latest`]),
      });
      expect((await latest("acme/kl"))?.digest).toBe(digest);
      const identity = `https://github.com/${sigstore.claims.job_workflow_ref as string}`;
      expect(run.summary).toContain(`Signed by certificate ${identity} (issuer ${ACTIONS_ISSUER})`);
      const token = run.masks.find((m) => m.split(".").length === 3 && m.length > 100);
      expect(token && jwtClaims(token).aud).toBe("sigstore");
      expect(run.log.join("\n")).not.toContain(token!);
    });

    test("a certificate-identity that is not the signer's: signed, but not verified, and nothing promoted", async () => {
      await pushTestImage(registry.host, "acme/otherid:1", { content: "otherid" });
      const run = await runBuiltAction("cosign-sign", {
        workdir: dir,
        inputs: keylessInputs("acme/otherid:1", {
          "certificate-identity": "https://github.com/acme/os/.github/workflows/release.yml@refs/tags/v1",
        }),
        env: sigstore.tokenEnv,
      });
      expect(run.failed).toBe(true);
      expect(run.outputs.verified).toBe("false");
      expect(run.outputs["promoted-tags"]).toBe("[]");
      const errors = run.annotations
        .filter((a) => a.level === "error")
        .map((a) => a.message)
        .join("\n");
      expect(errors).toContain(
        "is not the expected https://github.com/acme/os/.github/workflows/release.yml@refs/tags/v1",
      );
      expect(await latest("acme/otherid")).toBeUndefined();
    });
  },
);
