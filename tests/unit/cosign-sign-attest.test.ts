import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, test } from "vitest";
import { inputsFrom } from "@frostyard/kit";
import type { AttestImagesReport } from "@frostyard/cosign";
import { loadAttestations, parseAttestPairs } from "../../packages/actions/src/cosign-sign/attest";
import { parseInputs } from "../../packages/actions/src/cosign-sign/inputs";
import { attestationsMarkdown, attestationsOutput } from "../../packages/actions/src/cosign-sign/report";

const D1 = `sha256:${"1".repeat(64)}`;

describe("attest input", () => {
  test.each([
    ["cyclonedx=sbom.cdx.json", "cyclonedx", "sbom.cdx.json", "https://cyclonedx.org/bom"],
    [" spdxjson = out/sbom.spdx.json ", "spdxjson", "out/sbom.spdx.json", "https://spdx.dev/Document"],
    ["custom=a=b.txt", "custom", "a=b.txt", "https://cosign.sigstore.dev/attestation/v1"],
    ["https://example.com/p/v1=p.json", "https://example.com/p/v1", "p.json", "https://example.com/p/v1"],
  ])("%j → %s from %s", (entry, type, path, predicateType) => {
    const [pair] = parseAttestPairs([entry]);
    expect(pair).toMatchObject({ type, path, spec: { predicateType } });
  });

  test.each([
    ["sbom.json", "input 'attest': 'sbom.json' is not a type=path pair; expected type=path pairs"],
    [
      "sbom=x.json",
      "input 'attest': 'sbom=x.json': the type 'sbom' is unknown; expected type=path pairs, type one of cyclonedx, spdxjson, spdx, custom or a predicate type URI",
    ],
    ["cyclonedx=", "input 'attest': 'cyclonedx=' names no file"],
  ])("refuses %j", (entry, message) => {
    expect(() => parseAttestPairs([entry])).toThrow(message);
  });

  test("parseInputs: absent when empty, a list of pairs otherwise (newline or comma separated)", () => {
    expect(parseInputs(inputsFrom({ image: "ghcr.io/acme/os:1" })).attest).toBeUndefined();
    const inputs = parseInputs(
      inputsFrom({ image: "ghcr.io/acme/os:1", key: "k", attest: "cyclonedx=a.json, spdxjson=b.json" }),
    );
    expect(inputs.attest?.map((p) => p.type)).toEqual(["cyclonedx", "spdxjson"]);
  });

  test("keyless with engine cosign cannot attest: the CLI would sign, attestations are made in-process", () => {
    expect(() =>
      parseInputs(inputsFrom({ image: "ghcr.io/acme/os:1", engine: "cosign", attest: "cyclonedx=a.json" })),
    ).toThrow("input 'attest': is set with keyless signing and engine cosign");
  });
});

describe("loadAttestations: every file read and checked before anything is signed", () => {
  let dir: string;
  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), "attest-load-"));
    await writeFile(join(dir, "ok.json"), '{"bomFormat":"CycloneDX"}');
    await writeFile(join(dir, "bad.json"), "<bom/>");
    await writeFile(join(dir, "list.json"), "[1]");
    await writeFile(join(dir, "text.spdx"), "SPDXVersion: SPDX-2.3\n");
  });
  afterAll(async () => rm(dir, { recursive: true, force: true }));

  test("reads each file once, in order", async () => {
    const loaded = await loadAttestations(
      parseAttestPairs([`cyclonedx=${join(dir, "ok.json")}`, `spdx=${join(dir, "text.spdx")}`]),
    );
    expect(loaded.map((a) => [a.spec.type, Buffer.from(a.file).toString()])).toEqual([
      ["cyclonedx", '{"bomFormat":"CycloneDX"}'],
      ["spdx", "SPDXVersion: SPDX-2.3\n"],
    ]);
  });

  test.each([
    ["missing.json", "cyclonedx", "the file cannot be read (ENOENT)"],
    ["bad.json", "cyclonedx", "is not JSON"],
    ["list.json", "https://example.com/p", "not an object"],
  ])("%s as %s: %s", async (file, type, message) => {
    const pairs = parseAttestPairs([`${type}=${join(dir, file)}`]);
    await expect(loadAttestations(pairs)).rejects.toThrow(`input 'attest': ${type}=${join(dir, file)}`);
    await expect(loadAttestations(pairs)).rejects.toThrow(message);
  });
});

describe("attestation outputs and summary", () => {
  const report: AttestImagesReport = {
    results: [
      {
        image: "ghcr.io/acme/os:1",
        digest: D1,
        type: "cyclonedx",
        predicateType: "https://cyclonedx.org/bom",
        path: "sbom.cdx.json",
        pushed: {
          reference: `ghcr.io/acme/os:sha256-${"1".repeat(64)}.att`,
          digest: `sha256:${"a".repeat(64)}`,
          layerDigest: `sha256:${"b".repeat(64)}`,
          added: true,
        },
        verified: true,
        message: "attestation verified",
      },
    ],
  };

  test("the output lists type, predicate type, .att reference@digest and the layer", () => {
    expect(JSON.parse(attestationsOutput(report))).toEqual([
      {
        image: "ghcr.io/acme/os:1",
        digest: D1,
        type: "cyclonedx",
        predicateType: "https://cyclonedx.org/bom",
        reference: `ghcr.io/acme/os:sha256-${"1".repeat(64)}.att@sha256:${"a".repeat(64)}`,
        layer: `sha256:${"b".repeat(64)}`,
        verified: true,
      },
    ]);
    expect(attestationsOutput(undefined)).toBe("[]");
  });

  test("the summary has a line and a row per attestation; nothing when none", () => {
    const md = attestationsMarkdown(report);
    expect(md).toContain("Attested 1 of 1 in-toto statement(s)");
    expect(md).toContain("cyclonedx (`https://cyclonedx.org/bom`) from `sbom.cdx.json`");
    expect(md).toContain("✅ verified");
    expect(attestationsMarkdown(undefined)).toBe("");
  });
});
