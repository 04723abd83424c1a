import { generateKeyPairSync } from "node:crypto";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, test } from "vitest";
import { inputsFrom } from "@frostyard/kit";
import { signatureOutput, type SignImagesReport } from "@frostyard/cosign";
import { documentedNames, parseActionMetadata } from "@frostyard/runner";
import {
  DEFAULT_COSIGN_VERSION,
  parseInputs,
  PUBLIC_GOOD,
} from "../../packages/actions/src/cosign-sign/inputs";
import { describeSigner, outputsOf, summaryMarkdown } from "../../packages/actions/src/cosign-sign/report";
import { cliSigner, resolveSigner } from "../../packages/actions/src/cosign-sign/signer";
import { recordingLogger } from "@frostyard/kit";
import { keyVerifier } from "@frostyard/cosign";
import { sharedFixture } from "../helpers/fixtures";

const ACTION_DIR = join(import.meta.dirname, "../../actions/cosign-sign");
const D1 = `sha256:${"1".repeat(64)}`;
const D2 = `sha256:${"2".repeat(64)}`;
const S1 = `sha256:${"a".repeat(64)}`;

describe("actions/cosign-sign metadata", () => {
  const metadata = parseActionMetadata(readFileSync(join(ACTION_DIR, "action.yml"), "utf8"), "action.yml");

  test("runs main and an always-run post step from its dist bundle", () => {
    expect(metadata.runs.using).toBe("node24");
    expect(metadata.runs.main).toBe("../../dist/cosign-sign/index.js");
    expect(metadata.runs.post).toBe("../../dist/cosign-sign/index.js");
    expect(metadata.runs.postIf).toBe("always()");
  });

  test("the README documents exactly the inputs and outputs action.yml declares", () => {
    const readme = readFileSync(join(ACTION_DIR, "README.md"), "utf8");
    expect([...documentedNames(readme, "inputs")].sort()).toEqual(Object.keys(metadata.inputs).sort());
    expect([...documentedNames(readme, "outputs")].sort()).toEqual(Object.keys(metadata.outputs).sort());
  });

  test("action.yml defaults parse to the same values as empty inputs (one source of truth)", () => {
    const defaults = Object.fromEntries(
      Object.entries(metadata.inputs).map(([name, input]) => [name, input.default ?? ""]),
    );
    const withImage = (values: Record<string, string>) =>
      inputsFrom({ ...values, image: "ghcr.io/acme/os:1" });
    expect(parseInputs(withImage(defaults))).toEqual(parseInputs(withImage({})));
  });
});

describe("parseInputs", () => {
  test("defaults: legacy, native, public-good sigstore, cosign v2", () => {
    expect(parseInputs(inputsFrom({ image: "ghcr.io/acme/os:1" }))).toEqual({
      images: ["ghcr.io/acme/os:1"],
      password: "",
      format: "legacy",
      recursive: false,
      annotations: {},
      promoteTags: [],
      insecureRegistries: [],
      engine: "native",
      cosignVersion: DEFAULT_COSIGN_VERSION,
      fulcioUrl: PUBLIC_GOOD.fulcioUrl,
      rekorUrl: PUBLIC_GOOD.rekorUrl,
      certificateOidcIssuer: PUBLIC_GOOD.oidcIssuer,
    });
    expect(DEFAULT_COSIGN_VERSION).toMatch(/^v2\./);
  });

  test("everything given; the password is kept exactly, lists and annotations parsed", () => {
    const inputs = parseInputs(
      inputsFrom({
        image: "ghcr.io/acme/os:1\nghcr.io/acme/os-dev@" + D1,
        key: "env://COSIGN_PRIVATE_KEY",
        password: " pass word ",
        format: "both",
        recursive: "true",
        annotations: "org.example/run=42\nrepo=acme/os",
        "promote-tags": "latest, stable, latest",
        registry: "ghcr.io",
        "registry-username": "bot",
        "registry-password": "tok",
        "insecure-registries": "registry.lan:5000",
        engine: "cosign",
        "cosign-version": "v3.0.2",
        "fulcio-url": "http://127.0.0.1:3000/",
        "rekor-url": "http://127.0.0.1:3001",
        "certificate-identity-regexp": "^https://github.com/acme/.*$",
        "certificate-oidc-issuer": "http://127.0.0.1:3002",
      }),
    );
    expect(inputs).toMatchObject({
      images: ["ghcr.io/acme/os:1", `ghcr.io/acme/os-dev@${D1}`],
      key: "env://COSIGN_PRIVATE_KEY",
      password: " pass word ",
      format: "both",
      recursive: true,
      annotations: { "org.example/run": "42", repo: "acme/os" },
      promoteTags: ["latest", "stable"],
      engine: "cosign",
      cosignVersion: "v3.0.2",
      fulcioUrl: "http://127.0.0.1:3000",
      certificateIdentityRegexp: "^https://github.com/acme/.*$",
    });
  });

  test.each([
    [{ image: " " }, "input 'image': is required but was empty"],
    [{ image: "ghcr.io/Acme/os" }, "input 'image': invalid image reference"],
    [{ image: "ghcr.io/a/b:1, ghcr.io/a/b:" }, "input 'image (entry 2)'"],
    [{ format: "cosign-v3" }, "input 'format': got 'cosign-v3'; expected one of: legacy, bundle, both"],
    [{ engine: "docker" }, "expected one of: native, cosign"],
    [{ recursive: "yes" }, "input 'recursive'"],
    [{ annotations: "novalue" }, "input 'annotations': line 1 has no '='"],
    [
      { "promote-tags": "ghcr.io/acme/os:latest" },
      "input 'promote-tags': 'ghcr.io/acme/os:latest' is not a tag",
    ],
    [{ "promote-tags": `sha256-${"1".repeat(64)}.sig` }, "is a cosign or referrers tag"],
    [{ "registry-username": "bot" }, "input 'registry-password': is empty while its partner is set"],
    [{ "registry-username": "bot", "registry-password": "x" }, "input 'registry': is empty"],
    [{ "cosign-version": "latest" }, "input 'cosign-version': got 'latest'; expected an exact release"],
    [{ "fulcio-url": "fulcio" }, "input 'fulcio-url': 'fulcio' is not a URL"],
    [{ "rekor-url": "ftp://rekor" }, "input 'rekor-url': 'ftp://rekor' uses ftp:"],
    [{ "certificate-identity": "a", "certificate-identity-regexp": "b" }, "one of certificate-identity or"],
    [{ "certificate-identity-regexp": "(" }, "input 'certificate-identity-regexp'"],
  ])("%j fails: %s", (values, message) => {
    const image = "image" in values ? {} : { image: "ghcr.io/acme/os:1" };
    expect(() => parseInputs(inputsFrom({ ...image, ...values }))).toThrow(message);
  });

  test("an error about the password or key never echoes their values", () => {
    expect(() =>
      parseInputs(inputsFrom({ image: "x", key: "SECRETKEY", password: "SECRETPW", format: "nope" })),
    ).toThrow(expect.objectContaining({ message: expect.not.stringMatching(/SECRET/) }));
  });
});

function report(overrides: Partial<SignImagesReport> = {}): SignImagesReport {
  const repository = { registry: "ghcr.io", repository: "acme/os" };
  return {
    verified: true,
    images: [
      {
        image: {
          input: "ghcr.io/acme/os:1",
          reference: { ...repository, tag: "1" },
          repository,
          tag: "1",
          digest: D1,
          mediaType: "application/vnd.oci.image.index.v1+json",
          size: 100,
        },
        targets: [
          {
            digest: D1,
            mediaType: "application/vnd.oci.image.index.v1+json",
            signatures: [
              {
                format: "legacy",
                reference: `ghcr.io/acme/os:sha256-${"1".repeat(64)}.sig`,
                digest: S1,
                added: true,
              },
              {
                format: "bundle",
                reference: `ghcr.io/acme/os@${D2}`,
                digest: D2,
                added: true,
                referrers: "tag-schema",
              },
            ],
            verified: true,
            verification: ["legacy: 1 of 1 signature(s) accepted"],
          },
          {
            digest: D2,
            mediaType: "application/vnd.oci.image.manifest.v1+json",
            platform: "linux/arm64",
            signatures: [],
            verified: false,
            verification: ["legacy: a signature was required, but no signature exists"],
          },
        ],
        promoted: ["ghcr.io/acme/os:latest"],
        superseded: [],
      },
    ],
    ...overrides,
  };
}

describe("outputs and summary", () => {
  test.each([
    [
      "a signed image",
      report(),
      {
        digest: D1,
        signature: `ghcr.io/acme/os:sha256-${"1".repeat(64)}.sig@${S1}`,
        verified: "true",
        "promoted-tags": '["ghcr.io/acme/os:latest"]',
      },
    ],
    [
      "nothing (failed before signing)",
      undefined,
      { digest: "", signature: "", verified: "false", "promoted-tags": "[]" },
    ],
  ])("%s", (_name, value, expected) => {
    expect(outputsOf(value)).toEqual(expected);
  });

  test("a bundle-only signature output is the referrer's reference once, not reference@digest@digest", () => {
    const r = report();
    r.images[0]!.targets[0]!.signatures.shift();
    expect(outputsOf(r).signature).toBe(`ghcr.io/acme/os@${D2}`);
  });

  test.each([
    [
      `ghcr.io/acme/os:sha256-${"1".repeat(64)}.sig`,
      S1,
      `ghcr.io/acme/os:sha256-${"1".repeat(64)}.sig@${S1}`,
    ],
    [`ghcr.io/acme/os@${D2}`, D2, `ghcr.io/acme/os@${D2}`],
    [`ghcr.io/acme/os@${D1}`, D2, `ghcr.io/acme/os@${D1}@${D2}`],
  ])("signatureOutput %s (%s) → %s", (reference, digest, expected) => {
    expect(signatureOutput({ reference, digest })).toBe(expected);
  });

  test("a promoted tag another writer moved is a warning in the summary, and not a promoted tag", () => {
    const r = report();
    r.images[0]!.promoted = ["ghcr.io/acme/os:stable"];
    r.images[0]!.superseded = [
      { reference: "ghcr.io/acme/os:latest", digest: D2 },
      { reference: "ghcr.io/acme/os:edge", digest: undefined },
    ];
    expect(outputsOf(r)["promoted-tags"]).toBe('["ghcr.io/acme/os:stable"]');
    const md = summaryMarkdown(
      r,
      { format: "legacy", engine: "native" },
      { kind: "key", fingerprint: "ab12" },
    );
    expect(md.split("\n").slice(-3)).toEqual([
      `**Warning:** \`ghcr.io/acme/os:latest\` was promoted, then moved by another writer; it now names \`${D2}\`, so it is not among the promoted tags.`,
      "",
      "**Warning:** `ghcr.io/acme/os:edge` was promoted, then moved by another writer; it now names nothing, so it is not among the promoted tags.",
    ]);
  });

  test.each([
    [{ kind: "key", fingerprint: "ab12" } as const, "key sha256:ab12"],
    [
      {
        kind: "keyless",
        identity: "https://github.com/acme/os/.github/workflows/b.yml@refs/heads/main",
        issuer: "https://token.actions.githubusercontent.com",
      } as const,
      "certificate https://github.com/acme/os/.github/workflows/b.yml@refs/heads/main (issuer https://token.actions.githubusercontent.com)",
    ],
  ])("describeSigner %j", (identity, text) => {
    expect(describeSigner(identity)).toBe(text);
  });

  test("the summary shows the image as given, each digest, signatures, verification and promoted tags", () => {
    const md = summaryMarkdown(
      report({ failure: "verification of x failed" }),
      { format: "both", engine: "native" },
      {
        kind: "key",
        fingerprint: "ab12",
      },
    );
    expect(md.split("\n")).toEqual([
      "## cosign-sign",
      "",
      "Signed by key sha256:ab12, format **both**, engine native.",
      "",
      "| image | digest | signature | verification | promoted |",
      "| --- | --- | --- | --- | --- |",
      `| \`ghcr.io/acme/os:1\` | \`${D1}\` | \`ghcr.io/acme/os:sha256-${"1".repeat(64)}.sig\`<br>\`ghcr.io/acme/os@${D2}\` | ✅ verified | \`latest\` |`,
      `| ↳ linux/arm64 | \`${D2}\` | — | ❌ legacy: a signature was required, but no signature exists |  |`,
      "",
      "**Failed:** verification of x failed",
    ]);
  });
});

describe("resolveSigner: who signs, once, whichever engine pushes", () => {
  const KEY_FILE = sharedFixture("cosign/keys/cosign-testdata-sigstore-label-password-hello.key");

  test.each(["native", "cosign"])(
    "a key (engine %s): the key signer, and the same key and password for the CLI",
    async (engine) => {
      const logger = recordingLogger();
      const inputs = parseInputs(
        inputsFrom({ image: "ghcr.io/acme/os:1", key: "env://K", password: "hello", engine }),
      );
      const resolved = await resolveSigner(inputs, logger, { K: readFileSync(KEY_FILE, "utf8") });
      const identity = resolved.signer.identity();
      expect(identity.kind).toBe("key");
      expect(resolved.cli).toEqual({ key: { pem: readFileSync(KEY_FILE, "utf8"), password: "hello" } });
      expect(logger.lines).toEqual([
        `signing key: env://K, ECDSA P-256, sha256:${identity.kind === "key" ? identity.fingerprint : ""}`,
      ]);
    },
  );

  test("a wrong password fails while resolving, before any engine runs", async () => {
    const inputs = parseInputs(
      inputsFrom({ image: "ghcr.io/acme/os:1", key: KEY_FILE, password: "nope", engine: "cosign" }),
    );
    await expect(resolveSigner(inputs, recordingLogger(), {})).rejects.toThrow(
      "input 'password': wrong password",
    );
  });

  test("the signer of the cosign CLI engine names and verifies, but never signs itself", async () => {
    const identity = {
      kind: "keyless",
      identity: "https://github.com/acme/os",
      issuer: "https://i",
    } as const;
    const verifier = keyVerifier(generateKeyPairSync("ec", { namedCurve: "prime256v1" }).publicKey);
    const signer = cliSigner(identity, verifier);
    expect(signer.identity()).toBe(identity);
    expect(signer.verifier()).toBe(verifier);
    await expect(signer.legacy(Buffer.from("x"))).rejects.toThrow("with engine cosign, the cosign CLI signs");
    await expect(signer.bundle(D1, {})).rejects.toThrow("with engine cosign, the cosign CLI signs");
  });
});
