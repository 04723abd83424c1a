// An action's defaults live in two places: action.yml (what the runner passes when an input is not set)
// and its parser (what an empty input means). They must mean the same thing, or a value the user never set
// is treated as one they did: the root action once refused every Format=oci project because its action.yml
// defaulted bootable/max-layers/compression while build-mkosi's parser counts any non-empty value as set.
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, test } from "vitest";
import type { InputGetter } from "@frostyard/kit";
import { parseActionMetadata } from "@frostyard/runner";
import { parseInputs as parseBuildMkosi } from "../../packages/actions/src/build-mkosi/inputs";
import { parseInputs as parseBuildSysext } from "../../packages/actions/src/build-sysext/inputs";
import { parseInputs as parseCosignSign } from "../../packages/actions/src/cosign-sign/inputs";
import { parseInputs as parseDiskImage } from "../../packages/actions/src/disk-image/inputs";
import { parseInputs as parseLintBootc } from "../../packages/actions/src/lint-bootc/inputs";
import { parseInputs as parsePinDigest } from "../../packages/actions/src/pin-digest/inputs";
import { parseInputs as parsePipeline } from "../../packages/actions/src/pipeline/inputs";
import { parseInputs as parsePublishIndex } from "../../packages/actions/src/publish-index/inputs";
import { parseInputs as parseTrivyScan } from "../../packages/actions/src/trivy-scan/inputs";
import { repoRoot } from "../helpers/run-action";

interface Case {
  action: string;
  file: string;
  parse: (get: InputGetter) => unknown;
  /** What a user must give for the parser to accept anything at all (same in both runs). */
  required: Record<string, string>;
  /**
   * Defaults that deliberately differ from what an empty input means, with the reason: given in both runs.
   * An empty value is then the user's way to turn the default off.
   */
  deliberate?: Record<string, string>;
}

const cases: Case[] = [
  { action: "build-mkosi", file: "actions/build-mkosi/action.yml", parse: parseBuildMkosi, required: {} },
  {
    action: "build-sysext",
    file: "actions/build-sysext/action.yml",
    parse: parseBuildSysext,
    // target-path and the rest only apply with a base URL.
    required: { "base-url": "https://ext.example/sysext" },
  },
  {
    action: "cosign-sign",
    file: "actions/cosign-sign/action.yml",
    parse: parseCosignSign,
    required: { image: "ghcr.io/acme/os@sha256:" + "a".repeat(64), key: "env://COSIGN_KEY", password: "pw" },
  },
  {
    action: "disk-image",
    file: "actions/disk-image/action.yml",
    parse: parseDiskImage,
    required: { image: "ghcr.io/acme/os@sha256:" + "a".repeat(64), "target-arch": "amd64" },
  },
  {
    action: "lint-bootc",
    file: "actions/lint-bootc/action.yml",
    parse: parseLintBootc,
    required: { rootfs: "out/rootfs" },
  },
  { action: "pin-digest", file: "actions/pin-digest/action.yml", parse: parsePinDigest, required: {} },
  {
    action: "publish-index",
    file: "actions/publish-index/action.yml",
    parse: parsePublishIndex,
    required: { image: "ghcr.io/acme/os", version: "1.0", images: `linux/amd64=sha256:${"a".repeat(64)}` },
  },
  {
    action: "trivy-scan",
    file: "actions/trivy-scan/action.yml",
    parse: parseTrivyScan,
    required: { rootfs: "out/rootfs" },
  },
  {
    action: "root action",
    file: "action.yml",
    parse: parsePipeline,
    required: {},
    deliberate: { "promote-tags": "the pipeline moves latest once verified; promote-tags: '' moves nothing" },
  },
];

function defaultsOf(file: string): Record<string, string> {
  const metadata = parseActionMetadata(readFileSync(join(repoRoot, file), "utf8"), file);
  return Object.fromEntries(
    Object.entries(metadata.inputs).flatMap(([name, input]) =>
      input.default === undefined ? [] : [[name, String(input.default)]],
    ),
  );
}

describe("action.yml defaults parse to the same options as empty inputs", () => {
  test.each(cases)("$action", ({ file, parse, required, deliberate = {} }) => {
    const defaults = defaultsOf(file);
    // Defaults the runner computes (`${{ github.token }}`) are values a user never types: given in both runs.
    const given: Record<string, string> = { ...required };
    for (const [name, value] of Object.entries(defaults)) {
      if (value.includes("${{") || name in deliberate)
        given[name] = value.includes("${{") ? "ghs_example" : value;
    }
    const withDefaults = parse((name) => given[name] ?? defaults[name] ?? "");
    const empty = parse((name) => given[name] ?? "");
    expect(withDefaults).toEqual(empty);
  });

  test("the root action's defaults leave a Format=oci project's packaging inputs unset", () => {
    const defaults = defaultsOf("action.yml");
    const options = parsePipeline((name) => defaults[name] ?? "");
    expect(options.build.explicitPackagingInputs).toEqual([]);
  });
});
