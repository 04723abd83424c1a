import { describe, expect, test } from "vitest";
import {
  entryPlatform,
  formatPlatform,
  imageIndexFor,
  IndexEntriesError,
  parsePlatform,
  PlatformMismatchError,
  PlatformSyntaxError,
  type ResolvedPlatformImage,
} from "@frostyard/publish";

const OCI_MANIFEST = "application/vnd.oci.image.manifest.v1+json";
const A = `sha256:${"a".repeat(64)}`;
const B = `sha256:${"b".repeat(64)}`;

function image(
  declared: string,
  config: ResolvedPlatformImage["config"],
  digest = A,
  size = 500,
): ResolvedPlatformImage {
  return { declared: parsePlatform(declared), manifest: { mediaType: OCI_MANIFEST, digest, size }, config };
}

describe("platform strings", () => {
  test.each([
    ["linux/amd64", { os: "linux", architecture: "amd64" }],
    ["linux/arm64/v8", { os: "linux", architecture: "arm64", variant: "v8" }],
    [" linux/arm/v7 ", { os: "linux", architecture: "arm", variant: "v7" }],
  ])("%s parses", (text, platform) => {
    expect(parsePlatform(text)).toEqual(platform);
    expect(formatPlatform(parsePlatform(text))).toBe(text.trim());
  });

  test.each([
    ["amd64", 'platform "amd64": has 1 part'],
    ["linux/arm/v7/x", 'platform "linux/arm/v7/x": has 4 parts'],
    ["linux//amd64", 'platform "linux//amd64": "" is not a lowercase name'],
    ["Linux/AMD64", 'platform "Linux/AMD64": "Linux" is not a lowercase name'],
  ])("%s is refused", (text, message) => {
    expect(() => parsePlatform(text)).toThrow(PlatformSyntaxError);
    expect(() => parsePlatform(text)).toThrow(message);
  });
});

describe("an entry's platform comes from its config and must be the declared one", () => {
  test.each<[string, ResolvedPlatformImage["config"], string]>([
    ["linux/amd64", { os: "linux", architecture: "amd64" }, "linux/amd64"],
    ["linux/arm64", { os: "linux", architecture: "arm64", variant: "v8" }, "linux/arm64/v8"],
    ["linux/arm64/v8", { os: "linux", architecture: "arm64" }, "linux/arm64"],
    ["linux/arm/v7", { os: "linux", architecture: "arm", variant: "v7" }, "linux/arm/v7"],
    ["linux/arm", { os: "linux", architecture: "arm", variant: "v6" }, "linux/arm/v6"],
  ])("declared %s, config %j → %s", (declared, config, platform) => {
    expect(formatPlatform(entryPlatform(image(declared, config)))).toBe(platform);
  });

  test.each<[string, ResolvedPlatformImage["config"], string]>([
    ["linux/arm64", { os: "linux", architecture: "amd64" }, "linux/amd64"],
    ["linux/amd64", { os: "windows", architecture: "amd64" }, "windows/amd64"],
    ["linux/arm/v7", { os: "linux", architecture: "arm", variant: "v6" }, "linux/arm/v6"],
    ["linux/arm/v7", { os: "linux", architecture: "arm" }, "linux/arm"],
    ["linux/amd64", { architecture: "amd64" }, "no os/architecture"],
    ["linux/amd64", { os: "linux", architecture: 64 }, "no os/architecture"],
  ])("declared %s, config %j is refused (config says %s)", (declared, config, actual) => {
    const run = () => entryPlatform(image(declared, config));
    expect(run).toThrow(PlatformMismatchError);
    expect(run).toThrow(`${A} was given as ${declared}, but its config says ${actual}`);
  });
});

describe("the index document", () => {
  test("descriptors in the given order, each with the config's platform, nothing else", () => {
    const index = imageIndexFor([
      image("linux/amd64", { os: "linux", architecture: "amd64" }, A, 501),
      image("linux/arm64", { os: "linux", architecture: "arm64", variant: "v8" }, B, 502),
    ]);
    expect(index).toEqual({
      schemaVersion: 2,
      mediaType: "application/vnd.oci.image.index.v1+json",
      manifests: [
        { mediaType: OCI_MANIFEST, digest: A, size: 501, platform: { os: "linux", architecture: "amd64" } },
        {
          mediaType: OCI_MANIFEST,
          digest: B,
          size: 502,
          platform: { os: "linux", architecture: "arm64", variant: "v8" },
        },
      ],
    });
  });

  test("annotations are kept only when there are some", () => {
    const one = [image("linux/amd64", { os: "linux", architecture: "amd64" })];
    expect(imageIndexFor(one, {})).not.toHaveProperty("annotations");
    expect(imageIndexFor(one, { "org.opencontainers.image.version": "1.0" }).annotations).toEqual({
      "org.opencontainers.image.version": "1.0",
    });
  });

  test.each<[string, ResolvedPlatformImage[], string]>([
    ["no images", [], "an image index needs at least one platform image"],
    [
      "one platform twice",
      [
        image("linux/amd64", { os: "linux", architecture: "amd64" }, A),
        image("linux/amd64", { os: "linux", architecture: "amd64" }, B),
      ],
      `${B} and ${A} are both linux/amd64; an index holds one image per platform`,
    ],
    [
      "arm64 and arm64/v8 are one platform",
      [
        image("linux/arm64", { os: "linux", architecture: "arm64" }, A),
        image("linux/arm64/v8", { os: "linux", architecture: "arm64", variant: "v8" }, B),
      ],
      `${B} and ${A} are both linux/arm64`,
    ],
  ])("%s is refused", (_name, images, message) => {
    expect(() => imageIndexFor(images)).toThrow(IndexEntriesError);
    expect(() => imageIndexFor(images)).toThrow(message);
  });
});
