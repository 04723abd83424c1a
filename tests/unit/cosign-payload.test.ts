import { readdirSync, readFileSync, statSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { describe, expect, test } from "vitest";
import {
  cosignDockerReference,
  goJson,
  matchesRepository,
  parseSimpleSigningPayload,
  PayloadError,
  simpleSigningPayload,
  SIMPLE_SIGNING_MEDIA_TYPE,
} from "@frostyard/cosign";
import { readContainersSignature } from "../helpers/containers-signature";

const COSIGN = fileURLToPath(new URL("../fixtures/shared/cosign/", import.meta.url));
const DIGEST = "sha256:634a8f35b5f16dcf4aaa0822adc0b1964bb786fca12f6831de8ddc45e5986a00";

/** Every simple-signing payload the fixtures hold, written by cosign or containers/image. */
function fixturePayloads(): [string, Buffer][] {
  const payloads: [string, Buffer][] = [
    ["oci-sig-tag-legacy", readFileSync(`${COSIGN}oci-sig-tag-legacy/simplesigning-payload.json`)],
  ];
  const root = `${COSIGN}containers-image/`;
  for (const entry of readdirSync(root).sort()) {
    const files = statSync(`${root}${entry}`).isDirectory()
      ? readdirSync(`${root}${entry}`)
          .filter((f) => f.startsWith("signature-"))
          .map((f) => `${entry}/${f}`)
      : entry.endsWith(".signature")
        ? [entry]
        : [];
    for (const file of files) {
      const signature = readContainersSignature(readFileSync(`${root}${file}`));
      if (signature.mediaType === SIMPLE_SIGNING_MEDIA_TYPE) payloads.push([file, signature.payload]);
    }
  }
  return payloads;
}

describe("simpleSigningPayload re-renders real payloads byte for byte", () => {
  const payloads = fixturePayloads();
  test("the fixtures hold the payloads this suite expects", () => {
    expect(payloads.length).toBeGreaterThanOrEqual(13);
  });
  test.each(payloads)("%s", (_name, bytes) => {
    const parsed = parseSimpleSigningPayload(bytes);
    expect(simpleSigningPayload(parsed).equals(bytes)).toBe(true);
  });
});

describe("simpleSigningPayload", () => {
  test.each<[string, Record<string, unknown> | null | undefined, string]>([
    ["no annotations", undefined, "null"],
    ["null annotations", null, "null"],
    ["annotations are a map with sorted keys", { z: "1", a: "2", B: "3" }, '{"B":"3","a":"2","z":"1"}'],
    ["values are escaped as Go does", { note: "<a & b>" }, '{"note":"\\u003ca \\u0026 b\\u003e"}'],
    [
      "nested values keep their types",
      { n: 1657296609, ok: true, list: ["x", 2] },
      '{"list":["x",2],"n":1657296609,"ok":true}',
    ],
  ])("%s", (_name, annotations, optional) => {
    const bytes = simpleSigningPayload({
      dockerReference: "ghcr.io/acme/os",
      manifestDigest: DIGEST,
      annotations,
    });
    expect(bytes.toString()).toBe(
      `{"critical":{"identity":{"docker-reference":"ghcr.io/acme/os"},"image":{"docker-manifest-digest":"${DIGEST}"},"type":"cosign container image signature"},"optional":${optional}}`,
    );
  });

  test.each<[string, string, string, string]>([
    ["empty reference", "", DIGEST, "docker-reference is empty"],
    ["digest without algorithm", "ghcr.io/acme/os", "634a8f35", "has no algorithm"],
    ["short digest", "ghcr.io/acme/os", "sha256:abc", "has 3 hex characters; sha256 needs 64"],
  ])("refuses %s", (_name, dockerReference, manifestDigest, fragment) => {
    expect(() => simpleSigningPayload({ dockerReference, manifestDigest })).toThrow(fragment);
  });
});

describe("goJson matches Go's encoding/json", () => {
  test.each<[string, unknown, string]>([
    ["plain string", "abc", '"abc"'],
    ["quotes and backslashes", 'a"b\\c', '"a\\"b\\\\c"'],
    ["short escapes (Go ≥ 1.22 writes \\b and \\f too)", "\b\f\n\r\t", '"\\b\\f\\n\\r\\t"'],
    ["other control characters as lowercase \\u00XX", "\u0000\u001f\u000b", '"\\u0000\\u001f\\u000b"'],
    ["HTML characters", "<>&", '"\\u003c\\u003e\\u0026"'],
    ["line and paragraph separators", "\u2028\u2029", '"\\u2028\\u2029"'],
    ["DEL and non-ASCII stay raw", "\u007fé✓😀", '"\u007fé✓😀"'],
    ["a lone surrogate becomes U+FFFD", "a\ud800b", '"a\\ufffdb"'],
    ["integers", 1657296609, "1657296609"],
    ["small floats", 0.000001, "0.000001"],
    ["tiny floats use exponents", 5e-7, "5e-7"],
    ["huge floats use exponents", 1e21, "1e+21"],
    ["null", null, "null"],
    ["arrays", [1, "a", null, false], '[1,"a",null,false]'],
    ["map keys sorted bytewise", { b: 1, a: 2, B: 3, é: 4 }, '{"B":3,"a":2,"b":1,"é":4}'],
    [
      "astral keys sort after BMP private use (UTF-8 order, not UTF-16)",
      { "\uffff": 1, "😀": 2 },
      '{"\uffff":1,"😀":2}',
    ],
    ["nested maps", { o: { z: 1, a: { y: 2, x: 3 } } }, '{"o":{"a":{"x":3,"y":2},"z":1}}'],
    ["undefined members are left out", { a: undefined, b: 1 }, '{"b":1}'],
  ])("%s", (_name, value, expected) => {
    expect(goJson(value)).toBe(expected);
  });
});

describe("parseSimpleSigningPayload validates like containers/image", () => {
  const valid = {
    critical: {
      identity: { "docker-reference": "ghcr.io/acme/os" },
      image: { "docker-manifest-digest": DIGEST },
      type: "cosign container image signature",
    },
    optional: null as unknown,
  };
  const variant = (mutate: (json: typeof valid & Record<string, unknown>) => void): Buffer => {
    const json = structuredClone(valid) as typeof valid & Record<string, unknown>;
    mutate(json);
    return Buffer.from(JSON.stringify(json));
  };

  test("reads the fields", () => {
    expect(parseSimpleSigningPayload(variant((j) => (j.optional = { creator: "me", timestamp: 1 })))).toEqual(
      {
        dockerReference: "ghcr.io/acme/os",
        manifestDigest: DIGEST,
        annotations: { creator: "me", timestamp: 1 },
      },
    );
  });

  test.each<[string, Buffer, string]>([
    ["not JSON", Buffer.from("{"), "not JSON"],
    ["an array", Buffer.from("[]"), "the payload is not a JSON object"],
    ["an extra top-level field", variant((j) => (j.extra = 1)), 'the payload: unexpected "extra"'],
    [
      "no optional",
      variant((j) => delete (j as Partial<typeof j>).optional),
      'the payload: missing "optional"',
    ],
    [
      "another type",
      variant((j) => (j.critical.type = "atomic container signature")),
      'critical.type is "atomic container signature"',
    ],
    [
      "an extra critical field",
      variant((j) => Object.assign(j.critical, { x: 1 })),
      'critical: unexpected "x"',
    ],
    [
      "no image",
      variant((j) => delete (j.critical as Partial<typeof j.critical>).image),
      'critical: missing "image"',
    ],
    [
      "a bad digest",
      variant((j) => (j.critical.image["docker-manifest-digest"] = "sha256:XYZ")),
      "docker-manifest-digest: digest",
    ],
    [
      "a numeric digest",
      variant((j) => Object.assign(j.critical.image, { "docker-manifest-digest": 5 })),
      "is not a string",
    ],
    [
      "an extra identity field",
      variant((j) => Object.assign(j.critical.identity, { tag: "x" })),
      'critical.identity: unexpected "tag"',
    ],
    [
      "an empty reference",
      variant((j) => (j.critical.identity["docker-reference"] = "")),
      "docker-reference is not a non-empty string",
    ],
    [
      "optional as a string",
      variant((j) => (j.optional = "x")),
      "optional is neither null nor a JSON object",
    ],
    ["a numeric creator", variant((j) => (j.optional = { creator: 5 })), "optional.creator is not a string"],
    [
      "a fractional timestamp",
      variant((j) => (j.optional = { timestamp: 1.5 })),
      "optional.timestamp is not an integer",
    ],
  ])("refuses %s", (_name, bytes, fragment) => {
    let error: unknown;
    try {
      parseSimpleSigningPayload(bytes);
    } catch (caught) {
      error = caught;
    }
    expect(error).toBeInstanceOf(PayloadError);
    expect((error as Error).message).toContain(fragment);
  });
});

describe("identities", () => {
  test.each<[string, string]>([
    ["ghcr.io/acme/os:1.0", "ghcr.io/acme/os"],
    ["ghcr.io/acme/os@" + DIGEST, "ghcr.io/acme/os"],
    ["alpine", "index.docker.io/library/alpine"],
    ["docker.io/acme/app:latest", "index.docker.io/acme/app"],
    ["127.0.0.1:5000/repo:tag", "127.0.0.1:5000/repo"],
    ["localhost:15381/tobby/fixture", "localhost:15381/tobby/fixture"],
  ])("cosignDockerReference(%s) = %s", (image, expected) => {
    expect(cosignDockerReference(image)).toBe(expected);
  });

  test.each<[string, string, boolean]>([
    ["ghcr.io/acme/os", "ghcr.io/acme/os", true],
    ["ghcr.io/acme/os:tag", "ghcr.io/acme/os:other", true],
    ["ghcr.io/acme/os", "ghcr.io/acme/os@" + DIGEST, true],
    ["index.docker.io/library/alpine", "alpine:3.20", true],
    ["docker.io/library/alpine", "index.docker.io/library/alpine", true],
    ["ghcr.io/acme/os", "ghcr.io/acme/other", false],
    ["ghcr.io/acme/os", "ghcr.io/acme/os/sub", false],
    ["127.0.0.1:5000/repo", "127.0.0.1:5001/repo", false],
    ["Not A Reference", "ghcr.io/acme/os", false],
  ])("matchesRepository(%s, %s) = %s", (signed, expected, result) => {
    expect(matchesRepository(signed, expected)).toBe(result);
  });
});
