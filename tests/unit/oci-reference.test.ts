import { describe, expect, test } from "vitest";
import {
  formatReference,
  InvalidReferenceError,
  manifestReference,
  parseReference,
  withDigest,
  withTag,
  type ImageReference,
} from "@frostyard/oci";

const D = `sha256:${"a".repeat(64)}`;
const D512 = `sha512:${"b".repeat(128)}`;

describe("parseReference normalises like docker and containers/image", () => {
  test.each<[string, ImageReference]>([
    ["alpine", { registry: "docker.io", repository: "library/alpine" }],
    ["alpine:3.20", { registry: "docker.io", repository: "library/alpine", tag: "3.20" }],
    ["library/alpine", { registry: "docker.io", repository: "library/alpine" }],
    ["docker.io/alpine", { registry: "docker.io", repository: "library/alpine" }],
    ["index.docker.io/alpine:edge", { registry: "docker.io", repository: "library/alpine", tag: "edge" }],
    ["INDEX.DOCKER.IO/acme/app", { registry: "docker.io", repository: "acme/app" }],
    ["acme/app", { registry: "docker.io", repository: "acme/app" }],
    ["acme/team/app:v1", { registry: "docker.io", repository: "acme/team/app", tag: "v1" }],
    ["ghcr.io/acme/os", { registry: "ghcr.io", repository: "acme/os" }],
    ["GHCR.io/acme/os:v1", { registry: "ghcr.io", repository: "acme/os", tag: "v1" }],
    ["ghcr.io/app", { registry: "ghcr.io", repository: "app" }],
    ["quay.io/a/b/c/d:latest", { registry: "quay.io", repository: "a/b/c/d", tag: "latest" }],
    ["localhost/app", { registry: "localhost", repository: "app" }],
    ["localhost:5000/app:1", { registry: "localhost:5000", repository: "app", tag: "1" }],
    ["127.0.0.1:5000/x", { registry: "127.0.0.1:5000", repository: "x" }],
    ["127.0.0.1:5000/x:5000", { registry: "127.0.0.1:5000", repository: "x", tag: "5000" }],
    ["[::1]:5000/x", { registry: "[::1]:5000", repository: "x" }],
    ["[2001:db8::1]/ns/x:t", { registry: "[2001:db8::1]", repository: "ns/x", tag: "t" }],
    ["registry:5000/x", { registry: "registry:5000", repository: "x" }],
    [
      "my-registry.example.com:443/a_b/c__d/e-f---g/h.i",
      {
        registry: "my-registry.example.com:443",
        repository: "a_b/c__d/e-f---g/h.i",
      },
    ],
    [`alpine@${D}`, { registry: "docker.io", repository: "library/alpine", digest: D }],
    [`ghcr.io/acme/os:v1@${D}`, { registry: "ghcr.io", repository: "acme/os", tag: "v1", digest: D }],
    [`127.0.0.1:5000/x@${D512}`, { registry: "127.0.0.1:5000", repository: "x", digest: D512 }],
    [
      "app:_underscore.start-ok",
      { registry: "docker.io", repository: "library/app", tag: "_underscore.start-ok" },
    ],
    [`app:${"t".repeat(128)}`, { registry: "docker.io", repository: "library/app", tag: "t".repeat(128) }],
    // docker's rule: a first segment without "." or ":" and not "localhost" is a Docker Hub namespace.
    ["registry/app", { registry: "docker.io", repository: "registry/app" }],
  ])("%s", (input, expected) => {
    expect(parseReference(input)).toEqual(expected);
  });
});

describe("parseReference rejects bad input, naming the part", () => {
  test.each<[string, string, RegExp]>([
    ["", "reference", /the reference is empty/],
    ["alpine latest", "reference", /contains whitespace/],
    [" alpine", "reference", /contains whitespace/],
    ["ghcr.io/${{ github.repository }}", "reference", /whitespace/],
    ["ghcr.io/${OWNER}/app", "reference", /unexpanded .*variable "\$\{OWNER\}"/],
    ["$REGISTRY/app", "reference", /unexpanded .*variable "\$REGISTRY"/],
    ["docker://alpine", "reference", /starts with "docker:\/\/"/],
    ["https://ghcr.io/acme/app", "reference", /starts with "https:\/\/"/],
    ["Alpine", "repository", /repository "Alpine" must be lowercase/],
    ["ghcr.io/Acme/app", "repository", /repository "Acme\/app" must be lowercase/],
    ["ghcr.io/", "repository", /the repository is empty/],
    ["ghcr.io//app", "repository", /empty path component/],
    ["acme/app/", "repository", /empty path component/],
    ["ghcr.io/-app", "repository", /path component "-app"/],
    ["ghcr.io/app_", "repository", /path component "app_"/],
    ["ghcr.io/a___b", "repository", /path component "a___b"/],
    [":tag", "repository", /the repository is empty/],
    ["app:", "tag", /the tag after : is empty/],
    ["app:-bad", "tag", /tag "-bad" must be 1 to 128/],
    ["app:.bad", "tag", /tag "\.bad"/],
    ["app:a+b", "tag", /tag "a\+b"/],
    [`app:${"t".repeat(129)}`, "tag", /must be 1 to 128/],
    ["app@", "digest", /the digest after @ is empty/],
    ["app@sha256:abc", "digest", /has 3 hex characters; sha256 needs 64/],
    [`app@sha256:${"A".repeat(64)}`, "digest", /must be lowercase hex/],
    [`app@sha256:${"g".repeat(64)}`, "digest", /non-hex/],
    [`app@md5:${"a".repeat(32)}`, "digest", /algorithm "md5" is not supported/],
    [`app@${"a".repeat(64)}`, "digest", /has no algorithm/],
    [`app@${D}@${D}`, "digest", /non-hex|hex characters/],
    ["exa_mple.com/app", "registry", /registry "exa_mple.com" is not a host name/],
    ["example.com:99999/app", "registry", /port "99999"/],
    ["example.com:/app", "registry", /registry "example.com:"/],
    ["[::1]:5000", "repository", /registry address with no repository/],
    [`ghcr.io/${"a".repeat(250)}`, "repository", /longer than 255/],
  ])("%j → %s", (input, part, message) => {
    let caught: unknown;
    try {
      parseReference(input);
    } catch (error) {
      caught = error;
    }
    expect(caught).toBeInstanceOf(InvalidReferenceError);
    const error = caught as InvalidReferenceError;
    expect(error.part).toBe(part);
    expect(error.reference).toBe(input);
    expect(error.message).toMatch(message);
    expect(error.message).toContain(`invalid image reference ${JSON.stringify(input)}`);
    expect(error.message).toContain("expected [registry[:port]/]repository[:tag][@sha256:<64 hex>]");
  });
});

describe("formatting", () => {
  test.each<[string, string]>([
    // input, formatReference
    ["alpine", "docker.io/library/alpine"],
    ["alpine:3.20", "docker.io/library/alpine:3.20"],
    ["index.docker.io/acme/app:v1", "docker.io/acme/app:v1"],
    ["docker.io/library/a/b", "docker.io/library/a/b"],
    [`ghcr.io/acme/os:v1@${D}`, `ghcr.io/acme/os:v1@${D}`],
    ["[::1]:5000/x", "[::1]:5000/x"],
  ])("%s", (input, full) => {
    const ref = parseReference(input);
    expect(formatReference(ref)).toBe(full);
    // Round trip: the formatted form parses back to the same reference.
    expect(parseReference(formatReference(ref))).toEqual(ref);
  });

  test.each<[string, string]>([
    ["alpine", "latest"],
    ["alpine:3", "3"],
    [`alpine:3@${D}`, D],
  ])("manifestReference(%s) = %s", (input, expected) => {
    expect(manifestReference(parseReference(input))).toBe(expected);
  });

  test("withTag and withDigest validate what they add", () => {
    const ref = parseReference("ghcr.io/acme/os:v1");
    expect(withTag(ref, "v2")).toEqual({ registry: "ghcr.io", repository: "acme/os", tag: "v2" });
    expect(withDigest(ref, D)).toEqual({ registry: "ghcr.io", repository: "acme/os", tag: "v1", digest: D });
    expect(() => withTag(ref, "-x")).toThrow(InvalidReferenceError);
    expect(() => withDigest(ref, "sha256:1234")).toThrow(/sha256 needs 64/);
  });
});
