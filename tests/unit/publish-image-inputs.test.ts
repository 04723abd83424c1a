import { readFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, test } from "vitest";
import { inputsFrom } from "@frostyard/kit";
import type { ImageIndex } from "@frostyard/oci";
import { parseActionMetadata } from "@frostyard/runner";
import { parseInputs } from "../../packages/actions/src/publish-image/inputs";
import { chooseManifest } from "../../packages/actions/src/publish-image/layout-manifest";
import { summaryMarkdown } from "../../packages/actions/src/publish-image/report";
import { repoRoot } from "../helpers/run-action";

const D = (c: string) => `sha256:${c.repeat(64)}`;
const REQUIRED = { "oci-layout": "out/image.oci", image: "ghcr.io/acme/os", version: "2026.12.04" };

function refusal(fn: () => unknown): { input?: string; message: string } {
  try {
    fn();
  } catch (error) {
    expect(error).toMatchObject({ name: "InputError" });
    return { input: (error as { input?: string }).input, message: (error as Error).message };
  }
  throw new Error("expected an InputError");
}

describe("publish-image inputs", () => {
  test("the required inputs alone", () => {
    expect(parseInputs(inputsFrom(REQUIRED))).toEqual({
      ociLayout: "out/image.oci",
      image: { registry: "ghcr.io", repository: "acme/os" },
      version: "2026.12.04",
      tags: [],
      overwriteVersion: false,
    });
  });

  test.each([
    [{ "ref-name": "2026.12.04" }, { refName: "2026.12.04" }],
    [{ tags: "stable-2026, edge" }, { tags: ["stable-2026", "edge"] }],
    [{ "overwrite-version": "true" }, { overwriteVersion: true }],
    [
      { "registry-username": "bot", "registry-password": "s3cret" },
      { registryUsername: "bot", registryPassword: "s3cret" },
    ],
    [{ image: "127.0.0.1:5000/acme/os" }, { image: { registry: "127.0.0.1:5000", repository: "acme/os" } }],
  ])("%j parses to %j", (given, expected) => {
    expect(parseInputs(inputsFrom({ ...REQUIRED, ...given }))).toMatchObject(expected);
  });

  test.each([
    [{ "oci-layout": "" }, "oci-layout", /is required but was empty; expected an OCI image layout directory/],
    [{ image: "" }, "image", /is required/],
    [{ image: "ghcr.io/acme/os:1" }, "image", /names a tag or digest; expected a repository/],
    [{ image: `ghcr.io/acme/os@${D("a")}` }, "image", /names a tag or digest/],
    [{ image: "Ghcr.io/Acme/OS" }, "image", /./],
    [{ version: "" }, "version", /is required/],
    [{ version: "latest" }, "version", /floating tag name/],
    [{ version: "-1" }, "version", /cannot be an image tag/],
    [{ tags: "ok, bad tag!" }, "tags", /'bad tag!' is not a valid tag; expected tags of letters/],
    [{ tags: ".hidden" }, "tags", /is not a valid tag/],
    [{ "overwrite-version": "maybe" }, "overwrite-version", /./],
    [{ "registry-username": "bot" }, "registry-password", /is empty while its partner is set/],
    [{ "registry-password": "s3cret" }, "registry-username", /is empty while its partner is set/],
  ])("%j is refused naming %s", (given, input, message) => {
    const error = refusal(() => parseInputs(inputsFrom({ ...REQUIRED, ...given })));
    expect(error.input).toBe(input);
    expect(error.message).toMatch(message);
    // A refused password is never repeated back.
    expect(error.message).not.toContain("s3cret");
  });

  test("action.yml's defaults parse to the same options as empty inputs", () => {
    const file = join(repoRoot, "actions/publish-image/action.yml");
    const { inputs } = parseActionMetadata(readFileSync(file, "utf8"), file);
    const defaults = Object.fromEntries(
      Object.entries(inputs).flatMap(([name, input]) =>
        input.default === undefined ? [] : [[name, String(input.default)]],
      ),
    );
    expect(Object.keys(defaults).some((name) => name in REQUIRED)).toBe(false);
    expect(parseInputs(inputsFrom({ ...defaults, ...REQUIRED }))).toEqual(parseInputs(inputsFrom(REQUIRED)));
  });
});

const REF = "org.opencontainers.image.ref.name";
const MANIFEST = "application/vnd.oci.image.manifest.v1+json";
const entry = (digest: string, name?: string) => ({
  mediaType: MANIFEST,
  digest,
  size: 100,
  ...(name ? { annotations: { [REF]: name } } : {}),
});
const indexOf = (...manifests: ReturnType<typeof entry>[]): ImageIndex => ({ schemaVersion: 2, manifests });

describe("which manifest of the layout is pushed", () => {
  test.each([
    ["the only one, named", indexOf(entry(D("a"), "1.0")), undefined, { digest: D("a"), refName: "1.0" }],
    [
      "the named one",
      indexOf(entry(D("a"), "1.0"), entry(D("b"), "1.1")),
      "1.1",
      { digest: D("b"), refName: "1.1" },
    ],
    [
      "a name beside an unnamed one",
      indexOf(entry(D("a")), entry(D("b"), "1.1")),
      "1.1",
      { digest: D("b"), refName: "1.1" },
    ],
  ])("%s", (_, index, refName, expected) => {
    expect(chooseManifest(index, "out/image.oci", refName)).toEqual(expected);
  });

  test.each([
    ["no manifest", indexOf(), undefined, "oci-layout", /out\/image\.oci holds no manifest/],
    [
      "several, none chosen",
      indexOf(entry(D("a"), "1.0"), entry(D("b"), "1.1")),
      undefined,
      "ref-name",
      /is empty and out\/image\.oci holds 2 manifests \(named: 1\.0, 1\.1\)/,
    ],
    [
      "a name the layout lacks",
      indexOf(entry(D("a"), "1.0"), entry(D("b"), "1.1")),
      "2.0",
      "ref-name",
      /no manifest named '2\.0' in out\/image\.oci; expected a ref name the layout has: 1\.0, 1\.1/,
    ],
    [
      "a name given twice",
      indexOf(entry(D("a"), "1.0"), entry(D("b"), "1.0")),
      "1.0",
      "oci-layout",
      /has 2 manifests named '1\.0'/,
    ],
    [
      "the only one, unnamed",
      indexOf(entry(D("a"))),
      undefined,
      "oci-layout",
      /the only manifest in out\/image\.oci \(sha256:a+\) has no org\.opencontainers\.image\.ref\.name/,
    ],
  ])("%s is refused", (_, index, refName, input, message) => {
    const error = refusal(() => chooseManifest(index, "out/image.oci", refName));
    expect(error.input).toBe(input);
    expect(error.message).toMatch(message);
  });
});

test("the job summary names the image, its tags and the layout's manifest", () => {
  const markdown = summaryMarkdown(
    {
      repository: "ghcr.io/acme/os",
      digest: D("a"),
      image: `ghcr.io/acme/os@${D("a")}`,
      tags: ["1.0", "edge"],
      uploadedBytes: 2048,
      skippedBlobs: 3,
    },
    "out/image.oci",
    "1.0",
  );
  expect(markdown).toContain("## publish-image ghcr.io/acme/os");
  expect(markdown).toContain(`| image | \`ghcr.io/acme/os@${D("a")}\` |`);
  expect(markdown).toContain("| tags | `1.0`, `edge` |");
  expect(markdown).toContain("(ref name `1.0`)");
  expect(markdown).toContain("3 blob(s) already there");
});
