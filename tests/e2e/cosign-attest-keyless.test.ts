import { X509Certificate } from "node:crypto";
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, test } from "vitest";
import type { Logger } from "@frostyard/kit";
import {
  attestImages,
  attestationTag,
  BUNDLE_ANNOTATION,
  CERTIFICATE_ANNOTATION,
  CHAIN_ANNOTATION,
  fetchAttestations,
  predicateSpec,
  type AttestationInput,
  type PredicateSpec,
} from "@frostyard/cosign";
import { keylessAttestationSigner, keylessAttestationVerifier } from "@frostyard/cosign/attest-keyless";
import { fetchActionsIdToken } from "@frostyard/cosign/keyless";
import { CredentialStore, parseReference, RegistryClient, withTag } from "@frostyard/oci";
import { IMAGE_TOOLS, pushTestImage } from "../helpers/images";
import { startRegistry, type TestRegistry } from "../helpers/registry";
import { runBuiltAction } from "../helpers/run-action";
import { ACTIONS_ISSUER, startSigstoreMock, type SigstoreMock } from "../helpers/sigstore-mock";
import { missingTools } from "../helpers/tools";

/**
 * Keyless attestations: a real certificate from @sigstore/mock's Fulcio, a real Rekor `intoto` entry, the
 * `.att` layer in a real registry, verified against the mock's trust root. The Actions OIDC endpoint and
 * public Fulcio/Rekor cannot be had here (no GitHub job, no internet), hence the stand-in token endpoint
 * and the mock services, as in cosign-keyless.test.ts.
 */
describe.skipIf(missingTools("docker-registry", ...IMAGE_TOOLS))(
  "keyless attestations with @sigstore/mock",
  () => {
    let registry: TestRegistry;
    let sigstore: SigstoreMock;
    let other: SigstoreMock;
    let client: RegistryClient;
    let dir: string;
    const logger: Logger = {
      debug: () => {},
      info: () => {},
      warning: () => {},
      error: () => {},
      group: (_n, fn) => fn(),
      setSecret: () => {},
    };
    const SBOM = { bomFormat: "CycloneDX", specVersion: "1.6", components: [] };
    const cyclonedx: AttestationInput = {
      spec: predicateSpec("cyclonedx") as PredicateSpec,
      path: "sbom.cdx.json",
      file: Buffer.from(JSON.stringify(SBOM)),
    };

    beforeAll(async () => {
      [registry, sigstore, other] = await Promise.all([
        startRegistry(),
        startSigstoreMock(),
        startSigstoreMock(),
      ]);
      client = new RegistryClient({ credentials: new CredentialStore({ authFiles: [] }) });
      dir = await mkdtemp(join(tmpdir(), "cosign-attest-keyless-"));
    });
    afterAll(async () => {
      await Promise.all([registry?.stop(), sigstore?.stop(), other?.stop()]);
      if (dir) await rm(dir, { recursive: true, force: true });
    });

    const identity = () => `https://github.com/${sigstore.claims.job_workflow_ref as string}`;

    test("certificate, chain and Rekor bundle on the .att layer; verified with the trust root and identity, refused otherwise", async () => {
      const digest = await pushTestImage(registry.host, "acme/kl-att:1", { content: "keyless attest" });
      const repository = parseReference(`${registry.host}/acme/kl-att`);
      const posts = sigstore.posts.length;
      const signer = await keylessAttestationSigner({
        idToken: await fetchActionsIdToken(sigstore.tokenEnv),
        fulcioUrl: sigstore.fulcioUrl,
        rekorUrl: sigstore.rekorUrl,
      });
      const report = await attestImages({
        client,
        images: [{ input: `${registry.host}/acme/kl-att:1`, repository, digest }],
        attestations: [cyclonedx],
        signer,
        verifier: keylessAttestationVerifier(sigstore.trustedRoot, {
          identity: identity(),
          issuer: ACTIONS_ISSUER,
        }),
        logger,
      });
      expect(report.failure).toBeUndefined();
      expect(report.results.map((r) => r.message)).toEqual(["keyless attestation verified"]);
      expect(sigstore.posts.slice(posts)).toEqual(["/api/v2/signingCert", "/api/v1/log/entries"]);

      const [layer] = await fetchAttestations(client, repository, digest);
      expect(layer!.annotations.predicateType).toBe("https://cyclonedx.org/bom");
      expect(layer!.annotations["dev.cosignproject.cosign/signature"]).toBe("");
      const leaf = new X509Certificate(layer!.annotations[CERTIFICATE_ANNOTATION]!);
      expect(leaf.subjectAltName).toContain(identity());
      expect(layer!.annotations[CHAIN_ANNOTATION]).toMatch(/^-----BEGIN CERTIFICATE-----/);
      const rekor = JSON.parse(layer!.annotations[BUNDLE_ANNOTATION]!) as { Payload: { body: string } };
      expect(JSON.parse(Buffer.from(rekor.Payload.body, "base64").toString())).toMatchObject({
        kind: "intoto",
      });

      const expected = { digest, repository, predicateType: "https://cyclonedx.org/bom" };
      const refused = [
        await keylessAttestationVerifier(sigstore.trustedRoot, {
          identity: "https://github.com/evil/x",
          issuer: ACTIONS_ISSUER,
        })(layer!, expected),
        await keylessAttestationVerifier(sigstore.trustedRoot, {
          identity: identity(),
          issuer: "https://accounts.example.com",
        })(layer!, expected),
        await keylessAttestationVerifier(other.trustedRoot, { identity: identity(), issuer: ACTIONS_ISSUER })(
          layer!,
          expected,
        ),
        await keylessAttestationVerifier(sigstore.trustedRoot, {
          identity: identity(),
          issuer: ACTIONS_ISSUER,
        })(layer!, {
          ...expected,
          digest: `sha256:${"0".repeat(64)}`,
        }),
      ];
      expect(refused.map((v) => v.ok)).toEqual([false, false, false, false]);
      expect(refused[0]!.message).toContain("is not the expected https://github.com/evil/x");
      expect(refused[3]!.message).toContain("no statement subject has digest");
      // A tampered envelope (another statement, same signature) fails the DSSE check.
      const envelope = JSON.parse(layer!.envelope.toString()) as { payload: string };
      const tampered = Buffer.from(
        JSON.stringify({
          ...JSON.parse(layer!.envelope.toString()),
          payload: Buffer.from(
            Buffer.from(envelope.payload, "base64").toString().replace("CycloneDX", "Evil"),
          ).toString("base64"),
        }),
      );
      const verdict = await keylessAttestationVerifier(sigstore.trustedRoot, {
        identity: identity(),
        issuer: ACTIONS_ISSUER,
      })({ ...layer!, envelope: tampered }, expected);
      expect(verdict.ok).toBe(false);
    });

    test("the action keyless with attest: signs, attests with its own certificate, verifies, promotes", async () => {
      const digest = await pushTestImage(registry.host, "acme/kl-act:1", {
        content: "keyless action attest",
      });
      const rootFile = join(dir, "trusted_root.json");
      await writeFile(rootFile, JSON.stringify(sigstore.trustedRoot));
      await writeFile(join(dir, "sbom.cdx.json"), JSON.stringify(SBOM));
      const posts = sigstore.posts.length;
      const run = await runBuiltAction("cosign-sign", {
        workdir: dir,
        inputs: {
          image: `${registry.host}/acme/kl-act:1`,
          "fulcio-url": sigstore.fulcioUrl,
          "rekor-url": sigstore.rekorUrl,
          "trusted-root": rootFile,
          "promote-tags": "latest",
          attest: "cyclonedx=sbom.cdx.json",
        },
        env: sigstore.tokenEnv,
      });
      expect(run.annotations.filter((a) => a.level === "error")).toEqual([]);
      expect(run.outputs.verified).toBe("true");
      const [attestation] = JSON.parse(run.outputs.attestations ?? "[]") as {
        type: string;
        verified: boolean;
        reference: string;
      }[];
      expect(attestation).toMatchObject({ type: "cyclonedx", verified: true });
      expect(attestation!.reference).toContain(`:${attestationTag(digest)}@sha256:`);
      // Two certificates (sign, attest), a Rekor entry each for the signature and the attestation.
      expect(sigstore.posts.slice(posts).sort()).toEqual([
        "/api/v1/log/entries",
        "/api/v1/log/entries",
        "/api/v2/signingCert",
        "/api/v2/signingCert",
      ]);
      const repository = parseReference(`${registry.host}/acme/kl-act`);
      expect((await client.headManifest(withTag(repository, "latest")))?.digest).toBe(digest);
      expect(run.summary).toContain("Attested 1 of 1");
    });
  },
);
