import { describe, expect, test } from "vitest";
import {
  checkBlobDigest,
  checkManifestReference,
  checkRepository,
  contentRangeStart,
  LayoutRegistryError,
  pageTags,
  RegistryApiError,
  routeRequest,
  type LayoutRoute,
} from "@frostyard/oci";

const D = `sha256:${"a".repeat(64)}`;

describe("routeRequest", () => {
  test.each<[string, LayoutRoute]>([
    ["/v2/", { kind: "base" }],
    ["/v2", { kind: "base" }],
    ["/v2/os/snow/manifests/latest", { kind: "manifest", reference: "latest" }],
    [`/v2/os/snow/manifests/${D}`, { kind: "manifest", reference: D }],
    [`/v2/os/snow/blobs/${D}`, { kind: "blob", digest: D }],
    ["/v2/os/snow/blobs/uploads/", { kind: "uploads" }],
    ["/v2/os/snow/blobs/uploads", { kind: "uploads" }],
    ["/v2/os/snow/blobs/uploads/0b1c", { kind: "upload", uuid: "0b1c" }],
    ["/v2/os/snow/tags/list", { kind: "tags" }],
    [`/v2/os/snow/referrers/${D}`, { kind: "referrers" }],
    ["/v2/os/other/manifests/latest", { kind: "unknown-repository", name: "os/other" }],
    ["/v2/os/snow/extra/manifests/latest", { kind: "unknown-repository", name: "os/snow/extra" }],
    ["/v2/os/manifests/latest", { kind: "unknown-repository", name: "os" }],
    ["/v2/os/snow/manifests/", { kind: "not-found" }],
    ["/v2/os/snow/manifests/a/b", { kind: "not-found" }],
    ["/v2/os/snow/tags/all", { kind: "not-found" }],
    ["/v2/os/snow/blobs/uploads/a/b", { kind: "not-found" }],
    ["/v2/_catalog", { kind: "not-found" }],
    ["/", { kind: "not-found" }],
  ])("%s", (path, route) => {
    expect(routeRequest(path, "os/snow")).toEqual(route);
  });
});

describe("contentRangeStart", () => {
  test.each<[string | undefined, number | undefined]>([
    ["0-99", 0],
    ["100-199", 100],
    ["bytes=100-199", 100],
    ["bytes 5-5", 5],
    ["5-4", undefined],
    ["-5", undefined],
    ["abc", undefined],
    [undefined, undefined],
  ])("%s → %s", (header, start) => {
    expect(contentRangeStart(header)).toBe(start);
  });
});

describe("pageTags", () => {
  const tags = ["a", "b", "c", "d"];
  test.each<[number | undefined, string | undefined, string[], boolean]>([
    [undefined, undefined, ["a", "b", "c", "d"], false],
    [2, undefined, ["a", "b"], true],
    [2, "b", ["c", "d"], false],
    [4, undefined, ["a", "b", "c", "d"], false],
    [1, "c", ["d"], false],
    [undefined, "bb", ["c", "d"], false],
    [3, "d", [], false],
  ])("n=%s last=%s", (n, last, page, more) => {
    expect(pageTags(tags, n, last)).toEqual({ tags: page, more });
  });
});

describe("reference checks", () => {
  test.each<[string, { tag: string } | { digest: string }]>([
    ["latest", { tag: "latest" }],
    ["sha256-abc.sig", { tag: "sha256-abc.sig" }],
    ["1.0_rc1", { tag: "1.0_rc1" }],
    [D, { digest: D }],
  ])("%s is accepted", (reference, expected) => {
    expect(checkManifestReference(reference)).toEqual(expected);
  });

  test.each<[string, string, RegExp]>([
    ["-leading", "TAG_INVALID", /tag "-leading" is not valid; expected/],
    ["a__b", "TAG_INVALID", /no doubled separators/],
    ["x".repeat(129), "TAG_INVALID", /not valid/],
    ["sha256:abc", "DIGEST_INVALID", /has 3 hex characters; sha256 needs 64/],
    [`sha512:${"a".repeat(128)}`, "DIGEST_INVALID", /only sha256 is stored/],
    [`SHA256:${"a".repeat(64)}`, "DIGEST_INVALID", /not supported/],
  ])("%s is refused with %s", (reference, code, message) => {
    const thrown = (() => {
      try {
        checkManifestReference(reference);
      } catch (error) {
        return error;
      }
    })();
    expect(thrown).toBeInstanceOf(RegistryApiError);
    expect(thrown).toMatchObject({ status: 400, code, message: expect.stringMatching(message) });
  });

  test("a blob digest must be a digest, not a tag", () => {
    expect(checkBlobDigest(D)).toBe(D);
    expect(() => checkBlobDigest("latest")).toThrow(/digest "latest" has no algorithm/);
  });

  test.each<[string, RegExp | undefined]>([
    ["os/snow", undefined],
    ["snow", undefined],
    ["OS/snow", /repository "OS\/snow": .*must be lowercase.*expected lowercase path components/],
    ["os/snow:1.0", /repository "os\/snow:1.0": it carries a tag or digest/],
    ["", /layout registry repository "": /],
  ])("repository %j", (repository, message) => {
    if (message === undefined) expect(() => checkRepository(repository)).not.toThrow();
    else {
      // A domain error, not an InputError: the repository is no input of any action (entries map it).
      expect(() => checkRepository(repository)).toThrow(LayoutRegistryError);
      expect(() => checkRepository(repository)).toThrow(message);
    }
  });
});
