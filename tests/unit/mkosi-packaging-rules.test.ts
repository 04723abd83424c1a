import { describe, expect, test } from "vitest";
import {
  assertNoInputsIgnoredByOciFormat,
  inputsIgnoredByOciFormat,
  publishableRemote,
  standardImageMetadata,
  validateImageVersion,
  type OciFormatInputs,
} from "@frostyard/mkosi";
import { floatingTags } from "@frostyard/publish";

describe("floating tags", () => {
  test.each(["latest", "stable", "edge", "testing", "next", "nightly", "Latest"])(
    "image-version %s is refused as floating",
    (version) => {
      expect(() => validateImageVersion(version)).toThrow(
        new RegExp(`input 'image-version': '${version}' is a floating tag name.*not latest, stable, edge`),
      );
    },
  );

  test.each(["20261125223000", "2026.11.25", "latest-candidate", "1.0-stable", "next2"])(
    "image-version %s is a version",
    (version) => {
      expect(validateImageVersion(version)).toBe(version);
    },
  );

  test.each<[string[], string[]]>([
    [[], []],
    [["candidate", "2026.11"], []],
    [
      ["latest", "candidate", "STABLE"],
      ["latest", "STABLE"],
    ],
  ])("extra tags %j: floating ones %j", (tags, floating) => {
    expect(floatingTags(tags)).toEqual(floating);
  });
});

describe("Format=oci ignores the packaging inputs", () => {
  const none: OciFormatInputs = { labels: new Map(), annotations: new Map() };
  test.each<[string, OciFormatInputs, string[]]>([
    ["nothing set", none, []],
    ["defaults given by a caller without explicit inputs", { ...none, explicitPackagingInputs: [] }, []],
    ["oci-layout", { ...none, ociLayout: "out.oci" }, ["oci-layout"]],
    [
      "labels and annotations",
      { ...none, labels: new Map([["a", "1"]]), annotations: new Map([["b", "2"]]) },
      ["labels", "annotations"],
    ],
    [
      "explicit packaging inputs",
      { ...none, explicitPackagingInputs: ["compression", "bootable", "max-layers"] },
      ["bootable", "max-layers", "compression"],
    ],
  ])("%s", (_name, inputs, ignored) => {
    expect(inputsIgnoredByOciFormat(inputs)).toEqual(ignored);
    if (ignored.length === 0) expect(() => assertNoInputsIgnoredByOciFormat(inputs)).not.toThrow();
    else
      expect(() => assertNoInputsIgnoredByOciFormat(inputs)).toThrow(
        new RegExp(`^input '${ignored.join(", ")}': (is|are) set, but the project builds Format=oci`),
      );
  });
});

describe("standard image metadata", () => {
  const base = { version: "1.0", created: "2025-01-01T00:00:00.000Z" };
  test.each<[string, Parameters<typeof standardImageMetadata>[0], Record<string, string>]>([
    [
      "on GitHub: url and source are the repository",
      {
        ...base,
        title: "os",
        revision: "abc",
        serverUrl: "https://github.example",
        repository: "acme/os",
        gitRemote: "https://other.example/x.git",
      },
      {
        "org.opencontainers.image.title": "os",
        "org.opencontainers.image.version": "1.0",
        "org.opencontainers.image.created": "2025-01-01T00:00:00.000Z",
        "org.opencontainers.image.revision": "abc",
        "org.opencontainers.image.source": "https://github.example/acme/os",
        "org.opencontainers.image.url": "https://github.example/acme/os",
      },
    ],
    [
      "elsewhere: source is the git remote, without credentials",
      { ...base, gitRemote: "https://bot:s3cret@git.example/acme/os.git" },
      {
        "org.opencontainers.image.version": "1.0",
        "org.opencontainers.image.created": "2025-01-01T00:00:00.000Z",
        "org.opencontainers.image.source": "https://git.example/acme/os.git",
      },
    ],
    [
      "no remote: no source",
      base,
      {
        "org.opencontainers.image.version": "1.0",
        "org.opencontainers.image.created": "2025-01-01T00:00:00.000Z",
      },
    ],
  ])("%s", (_name, origin, expected) => {
    expect(standardImageMetadata(origin)).toEqual(expected);
  });

  test.each<[string, string | undefined]>([
    ["git@github.com:acme/os.git", "https://github.com/acme/os.git"],
    ["ssh://git@git.example:2222/acme/os", "https://git.example/acme/os"],
    ["https://token@git.example/os", "https://git.example/os"],
    ["/srv/git/os.git", undefined],
    ["file:///srv/git/os.git", undefined],
  ])("remote %s is published as %s", (remote, published) => {
    expect(publishableRemote(remote)).toBe(published);
  });
});
