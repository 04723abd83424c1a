import { describe, expect, test } from "vitest";
import { findDownload } from "@frostyard/kit";
import {
  COSIGN_DOWNLOADS,
  cosignEnv,
  cosignMajor,
  cosignSignArgs,
  dockerConfigJson,
  type CosignSignArgs,
} from "@frostyard/cosign";

const REF = `ghcr.io/acme/os@sha256:${"1".repeat(64)}`;
const base: CosignSignArgs = {
  version: "2.6.4",
  reference: REF,
  format: "legacy",
  keyless: false,
  recursive: false,
  annotations: {},
  insecureRegistry: false,
};

describe("cosignSignArgs", () => {
  test.each<[string, Partial<CosignSignArgs>, string[]]>([
    [
      "v2 legacy with a key: cosign v2's defaults",
      {},
      ["sign", "--yes", "--key", "env://COSIGN_PRIVATE_KEY", REF],
    ],
    [
      "v3 legacy: the flags that turn v3's bundle default off",
      { version: "v3.0.2" },
      [
        "sign",
        "--yes",
        "--key",
        "env://COSIGN_PRIVATE_KEY",
        "--new-bundle-format=false",
        "--use-signing-config=false",
        REF,
      ],
    ],
    [
      "v2 bundle: opt in to the new bundle format",
      { format: "bundle" },
      ["sign", "--yes", "--key", "env://COSIGN_PRIVATE_KEY", "--new-bundle-format=true", REF],
    ],
    [
      "v3 bundle: v3's default",
      { version: "3.0.2", format: "bundle" },
      ["sign", "--yes", "--key", "env://COSIGN_PRIVATE_KEY", REF],
    ],
    [
      "keyless, private sigstore, recursive, annotations sorted, insecure registry",
      {
        keyless: true,
        recursive: true,
        annotations: { z: "1", a: "x=y" },
        fulcioUrl: "http://127.0.0.1:3000",
        rekorUrl: "http://127.0.0.1:3001",
        insecureRegistry: true,
      },
      [
        "sign",
        "--yes",
        "--recursive",
        "-a",
        "a=x=y",
        "-a",
        "z=1",
        "--fulcio-url",
        "http://127.0.0.1:3000",
        "--rekor-url",
        "http://127.0.0.1:3001",
        "--allow-insecure-registry",
        "--allow-http-registry",
        REF,
      ],
    ],
  ])("%s", (_name, overrides, expected) => {
    expect(cosignSignArgs({ ...base, ...overrides })).toEqual(expected);
  });

  test("a version that is not X.Y.Z is refused", () => {
    expect(() => cosignSignArgs({ ...base, version: "latest" })).toThrow(
      "cosign version 'latest' is not X.Y.Z",
    );
    expect(cosignMajor("v2.6.4")).toBe(2);
  });
});

describe("cosignEnv", () => {
  test.each([
    [
      "key-based with credentials",
      { path: "/p", home: "/h", key: { pem: "PEM", password: "pw" }, dockerConfig: "/t/c" },
      { PATH: "/p", HOME: "/h", DOCKER_CONFIG: "/t/c", COSIGN_PRIVATE_KEY: "PEM", COSIGN_PASSWORD: "pw" },
    ],
    [
      "key-based, empty password kept",
      { path: "/p", home: "/h", key: { pem: "PEM", password: "" } },
      { PATH: "/p", HOME: "/h", COSIGN_PRIVATE_KEY: "PEM", COSIGN_PASSWORD: "" },
    ],
    [
      "keyless on Actions",
      { path: "/p", home: "/h", actionsIdToken: { url: "https://t/x", token: "tok" } },
      {
        PATH: "/p",
        HOME: "/h",
        ACTIONS_ID_TOKEN_REQUEST_URL: "https://t/x",
        ACTIONS_ID_TOKEN_REQUEST_TOKEN: "tok",
      },
    ],
  ])("%s", (_name, request, expected) => {
    expect(cosignEnv(request)).toEqual(expected);
  });
});

test("dockerConfigJson: docker's auths entry, base64 user:password", () => {
  expect(JSON.parse(dockerConfigJson("ghcr.io", "bot", "p:w"))).toEqual({
    auths: { "ghcr.io": { auth: Buffer.from("bot:p:w").toString("base64") } },
  });
});

describe("the pinned cosign table", () => {
  test.each(["x64", "arm64"] as const)(
    "cosign v2.6.4 %s: the release asset, a sha256, a bare binary",
    (arch) => {
      const download = findDownload(COSIGN_DOWNLOADS, "cosign", "v2.6.4", arch, "cosign-version");
      expect(download.url).toBe(
        `https://github.com/sigstore/cosign/releases/download/v2.6.4/cosign-linux-${arch === "x64" ? "amd64" : "arm64"}`,
      );
      expect(download.sha256).toMatch(/^[0-9a-f]{64}$/);
      expect(download).toMatchObject({ archive: "none", binaries: ["cosign"] });
    },
  );
  test("only v2 releases, and an unknown version names the pinned ones", () => {
    expect(COSIGN_DOWNLOADS.every((d) => cosignMajor(d.version) === 2)).toBe(true);
    expect(() => findDownload(COSIGN_DOWNLOADS, "cosign", "v3.0.2", "x64", "cosign-version")).toThrow(
      "input 'cosign-version': cosign v3.0.2 is not in the table of pinned downloads; expected one of: 2.6.4",
    );
  });
});
