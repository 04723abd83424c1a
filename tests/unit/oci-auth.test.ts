import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { recordingLogger } from "@frostyard/kit";
import { afterAll, beforeAll, describe, expect, test } from "vitest";
import {
  authFilePaths,
  CredentialStore,
  decodeAuthEntry,
  lookupKeys,
  mergeScopes,
  normaliseAuthKey,
  parseWwwAuthenticate,
  repositoryScope,
  tokenLifetimeMs,
  tokenRequest,
  type AuthChallenge,
} from "@frostyard/oci";

const b64 = (s: string) => Buffer.from(s).toString("base64");

describe("parseWwwAuthenticate", () => {
  test.each<[string, AuthChallenge]>([
    [
      'Bearer realm="https://ghcr.io/token",service="ghcr.io",scope="repository:acme/os:pull"',
      {
        scheme: "bearer",
        params: { realm: "https://ghcr.io/token", service: "ghcr.io", scope: "repository:acme/os:pull" },
      },
    ],
    [
      'Bearer realm="https://auth.docker.io/token", service="registry.docker.io", scope="repository:library/alpine:pull,push"',
      {
        scheme: "bearer",
        params: {
          realm: "https://auth.docker.io/token",
          service: "registry.docker.io",
          scope: "repository:library/alpine:pull,push",
        },
      },
    ],
    ['Basic realm="Registry Realm"', { scheme: "basic", params: { realm: "Registry Realm" } }],
    ["basic realm=frostyard-test", { scheme: "basic", params: { realm: "frostyard-test" } }],
    ["Bearer", { scheme: "bearer", params: {} }],
    [
      'Bearer realm="https://x/t",error="insufficient_scope",scope="repository:a:pull repository:b:pull"',
      {
        scheme: "bearer",
        params: {
          realm: "https://x/t",
          error: "insufficient_scope",
          scope: "repository:a:pull repository:b:pull",
        },
      },
    ],
    [
      'Bearer REALM="https://x/t" , Service = "svc"',
      { scheme: "bearer", params: { realm: "https://x/t", service: "svc" } },
    ],
    [
      'Bearer realm="a \\"quoted\\" realm, with comma"',
      { scheme: "bearer", params: { realm: 'a "quoted" realm, with comma' } },
    ],
    // A second challenge ends the first.
    [
      'Bearer realm="https://x/t", Basic realm="other"',
      { scheme: "bearer", params: { realm: "https://x/t" } },
    ],
  ])("%s", (header, expected) => {
    expect(parseWwwAuthenticate(header)).toEqual(expected);
  });

  test("an empty header is an error that shows it", () => {
    expect(() => parseWwwAuthenticate("  ")).toThrow('WWW-Authenticate header "  " has no auth scheme');
  });
});

describe("token requests", () => {
  const challenge: AuthChallenge = {
    scheme: "bearer",
    params: { realm: "https://auth.example/token", service: "reg" },
  };

  test.each<
    [
      string,
      string[],
      Parameters<typeof tokenRequest>[2],
      { url: string; method: string; headers: Record<string, string>; body?: string },
    ]
  >([
    [
      "anonymous",
      [repositoryScope("acme/app", ["pull"])],
      undefined,
      {
        url: "https://auth.example/token?service=reg&scope=repository%3Aacme%2Fapp%3Apull",
        method: "GET",
        headers: {},
      },
    ],
    [
      "basic credentials, two scopes",
      [repositoryScope("a", ["pull", "push"]), repositoryScope("b", ["pull"])],
      { username: "u", password: "p:w" },
      {
        url: "https://auth.example/token?service=reg&scope=repository%3Aa%3Apull%2Cpush&scope=repository%3Ab%3Apull",
        method: "GET",
        headers: { Authorization: `Basic ${b64("u:p:w")}` },
      },
    ],
    [
      "identity token → OAuth2 refresh grant",
      [repositoryScope("a", ["pull"])],
      { username: "<token>", identityToken: "refresh-me" },
      {
        url: "https://auth.example/token",
        method: "POST",
        headers: { "Content-Type": "application/x-www-form-urlencoded" },
        body: "grant_type=refresh_token&refresh_token=refresh-me&service=reg&client_id=frostyard&scope=repository%3Aa%3Apull",
      },
    ],
  ])("%s", (_name, scopes, credentials, expected) => {
    const request = tokenRequest(challenge, scopes, credentials);
    expect({
      url: request.url.toString(),
      method: request.method,
      headers: request.headers,
      ...(request.body ? { body: request.body } : {}),
    }).toEqual(expected);
  });

  test.each<[string[], string[]]>([
    [["repository:a:pull", "repository:a:push,pull"], ["repository:a:pull,push"]],
    [
      ["repository:a:pull,push", "repository:b:pull"],
      ["repository:a:pull,push", "repository:b:pull"],
    ],
    [["repository:a:pull", "repository:a:pull"], ["repository:a:pull"]],
    [
      ["registry:catalog:*", "repository:a:pull"],
      ["registry:catalog:*", "repository:a:pull"],
    ],
  ])("mergeScopes(%j)", (scopes, expected) => {
    expect(mergeScopes(scopes)).toEqual(expected);
  });

  test("a Bearer challenge without realm is refused", () => {
    expect(() => tokenRequest({ scheme: "bearer", params: { service: "x" } }, [], undefined)).toThrow(
      /no realm/,
    );
  });

  test.each<[unknown, number]>([
    [300, 290_000],
    [60, 50_000],
    [10, 5_000],
    [undefined, 50_000],
    [0, 50_000],
    ["300", 50_000],
  ])("expires_in %j is used for %i ms", (expiresIn, ms) => {
    expect(tokenLifetimeMs(expiresIn)).toBe(ms);
  });
});

describe("auth file locations and keys", () => {
  test.each<[Record<string, string>, string[]]>([
    [{}, ["/home/u/.docker/config.json"]],
    [{ DOCKER_CONFIG: "/cfg" }, ["/cfg/config.json"]],
    [
      { REGISTRY_AUTH_FILE: "/a.json", XDG_RUNTIME_DIR: "/run/user/1", DOCKER_CONFIG: "/cfg" },
      ["/a.json", "/run/user/1/containers/auth.json", "/cfg/config.json"],
    ],
    [{ XDG_RUNTIME_DIR: "/run/user/0" }, ["/run/user/0/containers/auth.json", "/home/u/.docker/config.json"]],
  ])("%j", (env, expected) => {
    expect(authFilePaths(env, "/home/u")).toEqual(expected);
  });

  test.each<[string, string]>([
    ["ghcr.io", "ghcr.io"],
    ["https://ghcr.io", "ghcr.io"],
    ["http://GHCR.IO/", "ghcr.io"],
    ["https://index.docker.io/v1/", "docker.io"],
    ["index.docker.io", "docker.io"],
    ["registry-1.docker.io", "docker.io"],
    ["docker.io", "docker.io"],
    ["127.0.0.1:5000/v2/", "127.0.0.1:5000"],
    ["quay.io/acme", "quay.io/acme"],
    ["https://quay.io/acme/app/", "quay.io/acme/app"],
  ])("normaliseAuthKey(%s) = %s", (key, expected) => {
    expect(normaliseAuthKey(key)).toBe(expected);
  });

  test("lookupKeys go from the repository up to the host", () => {
    expect(lookupKeys("quay.io", "acme/team/app")).toEqual([
      "quay.io/acme/team/app",
      "quay.io/acme/team",
      "quay.io/acme",
      "quay.io",
    ]);
    expect(lookupKeys("index.docker.io")).toEqual(["docker.io"]);
  });

  test.each<[string, Parameters<typeof decodeAuthEntry>[0], ReturnType<typeof decodeAuthEntry>]>([
    ["auth", { auth: b64("alice:pa:ss") }, { username: "alice", password: "pa:ss" }],
    ["username/password", { username: "bob", password: "pw" }, { username: "bob", password: "pw" }],
    [
      "identity token",
      { auth: b64("<token>:"), identitytoken: "idt" },
      { username: "<token>", password: "", identityToken: "idt" },
    ],
    ["empty entry (a helper holds the secret)", {}, undefined],
    ["empty auth", { auth: "" }, undefined],
  ])("decodeAuthEntry: %s", (_name, entry, expected) => {
    expect(decodeAuthEntry(entry, "f")).toEqual(expected);
  });

  test("an auth value that is not user:password is an error naming where it is, not the value", () => {
    expect(() => decodeAuthEntry({ auth: b64("no-colon") }, "/x.json: auths entry for ghcr.io")).toThrow(
      '/x.json: auths entry for ghcr.io: "auth" is not base64 of "username:password"',
    );
  });
});

describe("CredentialStore reads real files in order", () => {
  let dir: string;
  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), "oci-creds-"));
    await writeFile(
      join(dir, "registry-auth.json"),
      JSON.stringify({
        auths: { "ghcr.io": { auth: b64("first:one") }, "quay.io/acme": { auth: b64("ns:scoped") } },
      }),
    );
    await writeFile(
      join(dir, "docker-config.json"),
      JSON.stringify({
        auths: {
          "https://ghcr.io": { auth: b64("second:two") },
          "https://index.docker.io/v1/": { auth: b64("hub:user") },
          "quay.io": { auth: b64("host:wide") },
          "gcr.io": {},
        },
        credHelpers: { "gcr.io": "gcloud" },
        credsStore: "desktop",
      }),
    );
    await writeFile(join(dir, "broken.json"), "{ not json");
  });
  afterAll(() => rm(dir, { recursive: true, force: true }));

  const store = (logger = recordingLogger()) =>
    new CredentialStore({
      authFiles: [
        join(dir, "registry-auth.json"),
        join(dir, "missing.json"),
        join(dir, "docker-config.json"),
      ],
      logger,
    });

  test.each<
    [string, string | undefined, { username?: string; password?: string; file?: string } | undefined]
  >([
    ["ghcr.io", undefined, { username: "first", password: "one", file: "registry-auth.json" }],
    ["docker.io", "library/alpine", { username: "hub", password: "user", file: "docker-config.json" }],
    ["index.docker.io", undefined, { username: "hub", password: "user", file: "docker-config.json" }],
    ["quay.io", "acme/app", { username: "ns", password: "scoped", file: "registry-auth.json" }],
    ["quay.io", "other/app", { username: "host", password: "wide", file: "docker-config.json" }],
    ["example.com", undefined, undefined],
  ])("%s %s", async (registry, repository, expected) => {
    const found = await store().get(registry, repository);
    if (expected === undefined) return expect(found).toBeUndefined();
    expect(found?.credentials).toEqual({ username: expected.username, password: expected.password });
    expect(found?.source).toBe(join(dir, expected.file!));
  });

  test("explicit credentials win over every file", async () => {
    const s = store();
    s.set("https://ghcr.io", { username: "code", password: "given" });
    expect(await s.get("ghcr.io")).toEqual({
      credentials: { username: "code", password: "given" },
      source: "explicit",
    });
  });

  test("credential helpers are reported in a debug line, not run, and do not fail the lookup", async () => {
    const logger = recordingLogger();
    expect(await store(logger).get("gcr.io")).toBeUndefined();
    expect(logger.lines.filter((l) => l.includes("credential helper"))).toEqual([
      `debug: ${join(dir, "docker-config.json")} names the credential helper docker-credential-gcloud for gcr.io; credential helpers are not supported, so it is skipped (log in with podman/skopeo login, or set REGISTRY_AUTH_FILE)`,
    ]);
  });

  test("passwords are masked before anyone could log them", async () => {
    const masked: string[] = [];
    const logger = { ...recordingLogger(), setSecret: (v: string) => void masked.push(v) };
    await new CredentialStore({ authFiles: [join(dir, "registry-auth.json")], logger }).get("ghcr.io");
    expect(masked).toEqual(["one", b64("first:one")]);
  });

  test("a broken auth file is an error naming the file and the expected shape", async () => {
    const s = new CredentialStore({ authFiles: [join(dir, "broken.json")] });
    await expect(s.get("ghcr.io")).rejects.toThrow(
      new RegExp(`registry auth file ${join(dir, "broken.json")} is not valid JSON .*expected \\{"auths"`),
    );
  });
});
