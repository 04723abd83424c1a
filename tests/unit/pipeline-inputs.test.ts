import { describe, expect, test } from "vitest";
import { inputsFrom, Timings } from "@frostyard/kit";
import {
  layoutRepositoryName,
  newPipelineReport,
  PipelineStageError,
  runStage,
  type PipelineReport,
} from "@frostyard/pipeline";
import { parseInputs, secretValues } from "../../packages/actions/src/pipeline/inputs";
import { outputsOf, summaryMarkdown } from "../../packages/actions/src/pipeline/report";

describe("pipeline inputs", () => {
  test("defaults: embedded registry, throwaway key, lint on, legacy format, promote latest", () => {
    const options = parseInputs(inputsFrom({ "promote-tags": "latest", "mkosi-ref": "system" }));
    expect(options).toMatchObject({
      build: { directory: ".", profiles: [], mkosi: { kind: "system" }, cache: true, compression: "gzip" },
      tags: [],
      lint: true,
      lintFatalWarnings: false,
      lintSkip: [],
      format: "legacy",
      promoteTags: ["latest"],
    });
    expect(options.image).toBeUndefined();
    expect(options.key).toBeUndefined();
    expect(options.registryLayout).toBeUndefined();
  });

  test("a registry, a key and the build inputs by build-mkosi's names", () => {
    const options = parseInputs(
      inputsFrom({
        image: "ghcr.io/acme/os",
        tags: "stable, candidate",
        "registry-username": "me",
        "registry-password": "reg-secret",
        key: "env://COSIGN_KEY",
        password: "key-secret",
        format: "both",
        "promote-tags": "latest\nweekly",
        "lint-skip": "var-log",
        "lint-fatal-warnings": "true",
        profiles: "devel",
        "image-version": "1.2",
        "secret-environment": "TOKEN=tok-123",
      }),
    );
    expect(options.image).toEqual({ registry: "ghcr.io", repository: "acme/os" });
    expect(options).toMatchObject({
      tags: ["stable", "candidate"],
      registryUsername: "me",
      registryPassword: "reg-secret",
      key: "env://COSIGN_KEY",
      password: "key-secret",
      format: "both",
      promoteTags: ["latest", "weekly"],
      lintSkip: ["var-log"],
      lintFatalWarnings: true,
      build: { profiles: ["devel"], imageVersion: "1.2" },
    });
    // The build options carry no push or registry secrets: pushing is the pipeline's stage.
    expect(Object.keys(options.build)).not.toContain("push");
    expect(Object.keys(options.build)).not.toContain("registryPassword");
    expect(secretValues(options, inputsFrom({ key: "env://COSIGN_KEY" })).sort()).toEqual(
      ["key-secret", "reg-secret", "tok-123"].sort(),
    );
  });

  test("a key given inline is a secret too", () => {
    const pem =
      "-----BEGIN ENCRYPTED SIGSTORE PRIVATE KEY-----\nabc\n-----END ENCRYPTED SIGSTORE PRIVATE KEY-----";
    const get = inputsFrom({ key: pem, password: "pw" });
    expect(secretValues(parseInputs(get), get)).toContain(pem);
  });

  test.each([
    { inputs: { format: "cosign-v3" }, input: "format", says: "cosign-v3" },
    { inputs: { key: "cosign.key" }, input: "password", says: "is empty while 'key' is set" },
    {
      inputs: { image: "ghcr.io/acme/os", "registry-layout": "/tmp/reg" },
      input: "registry-layout",
      says: "together with 'image'",
    },
    { inputs: { "promote-tags": "sha256-" + "a".repeat(64) }, input: "promote-tags", says: "cosign" },
    { inputs: { "lint-skip": "no-such-lint" }, input: "lint-skip", says: "no-such-lint" },
    { inputs: { lint: "maybe" }, input: "lint", says: "maybe" },
    { inputs: { image: "ghcr.io/acme/os:1.0" }, input: "image", says: "names a tag or digest" },
    { inputs: { "registry-username": "me" }, input: "registry-password", says: "partner" },
  ])("refuses $input: $says", ({ inputs, input, says }) => {
    let error: unknown;
    try {
      parseInputs(inputsFrom(inputs));
    } catch (caught) {
      error = caught;
    }
    expect(error).toMatchObject({ name: "InputError", input });
    expect((error as Error).message).toContain(says);
    expect((error as Error).message).toMatch(/expected /);
  });

  test("a refused password is never echoed", () => {
    expect(() =>
      parseInputs(inputsFrom({ "registry-password": "p4ss-word-xyz", image: "ghcr.io/a/b" })),
    ).toThrow(expect.objectContaining({ message: expect.not.stringContaining("p4ss-word-xyz") }));
  });
});

describe("layoutRepositoryName", () => {
  test.each([
    { imageId: "debian-bootc", name: "frostyard/debian-bootc" },
    { imageId: "Frostyard_Test", name: "frostyard/frostyard_test" },
    { imageId: "my image!", name: "frostyard/my-image" },
    { imageId: "--", name: "frostyard/image" },
    { imageId: undefined, name: "frostyard/image" },
  ])("$imageId → $name", ({ imageId, name }) => {
    expect(layoutRepositoryName(imageId)).toBe(name);
  });
});

describe("runStage", () => {
  test("times the stage and names it in the error", async () => {
    const timings = new Timings();
    await expect(runStage(timings, "push", async () => 42)).resolves.toBe(42);
    const failing = runStage(timings, "sign", async () => {
      throw new Error("no such key");
    });
    await expect(failing).rejects.toThrow("pipeline stage 'sign' failed: no such key");
    await expect(failing).rejects.toBeInstanceOf(PipelineStageError);
    expect(timings.entries.map((e) => [e.name, e.ok])).toEqual([
      ["push", true],
      ["sign", false],
    ]);
  });
});

describe("pipeline outputs and summary", () => {
  const digest = `sha256:${"d".repeat(64)}`;
  const base = (): PipelineReport => {
    const options = parseInputs(inputsFrom({}));
    return newPipelineReport(options, "1.0");
  };

  test("embedded registry: image is the layout reference, tags and key as reported", () => {
    const report = base();
    report.pushed = {
      repository: "127.0.0.1:4321/frostyard/os",
      digest,
      tags: ["1.0"],
      registryLayout: "/work/registry",
      uploadedBytes: 2048,
    };
    report.publicKey = { path: "/work/output/cosign.pub", fingerprint: "ab".repeat(32), throwaway: true };
    report.verification = { verified: true, messages: ["legacy: 1 of 1 signature(s) accepted"] };
    report.promoted = ["127.0.0.1:4321/frostyard/os:latest"];
    expect(outputsOf(report)).toMatchObject({
      digest,
      image: "oci:/work/registry:1.0",
      "registry-layout": "/work/registry",
      "public-key": "/work/output/cosign.pub",
      verified: "true",
      "promoted-tags": '["127.0.0.1:4321/frostyard/os:latest"]',
      tags: '["1.0"]',
      "lint-passed": "",
    });
    const markdown = summaryMarkdown(report);
    expect(markdown).toContain("throwaway key sha256:abab");
    expect(markdown).toContain("OCI layout `/work/registry` (embedded registry)");
  });

  test("a real registry: image is repository@digest; a failure is named in the summary", () => {
    const report = base();
    report.pushed = { repository: "ghcr.io/acme/os", digest, tags: ["1.0", "x"], uploadedBytes: 0 };
    report.failed = { stage: "verify", message: "pipeline stage 'verify' failed: legacy: no signature" };
    expect(outputsOf(report).image).toBe(`ghcr.io/acme/os@${digest}`);
    expect(outputsOf(report).verified).toBe("false");
    expect(summaryMarkdown(report)).toContain(
      "**Failed:** pipeline stage 'verify' failed: legacy: no signature",
    );
  });
});
