import { execFile } from "node:child_process";
import { randomBytes } from "node:crypto";
import { mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { createServer, request as httpRequest, type IncomingMessage, type ServerResponse } from "node:http";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { promisify } from "node:util";
import { gunzipSync } from "node:zlib";
import { recordingLogger } from "@frostyard/kit";
import {
  CredentialStore,
  isIndex,
  OCI_EMPTY_JSON,
  OCI_IMAGE_CONFIG,
  OCI_IMAGE_INDEX,
  OCI_IMAGE_MANIFEST,
  OCI_LAYER_TAR_GZIP,
  parseReference,
  referrersTag,
  RegistryAuthError,
  RegistryClient,
  RegistryDeniedError,
  sha256Digest,
  type ImageManifest,
} from "@frostyard/oci";
import { afterAll, beforeAll, describe, expect, test } from "vitest";
import { authFileJson, containersConfig, type ContainersConfig } from "../helpers/containers";
import { IMAGE_TOOLS, pushMultiArchIndex, pushTestImage, type PushedIndex } from "../helpers/images";
import { startRegistry, startTokenServer, type TestRegistry, type TokenServer } from "../helpers/registry";
import { missingTools } from "../helpers/tools";

const run = promisify(execFile);
const FAST_RETRY = { baseDelayMs: 1, maxDelayMs: 5 };

/**
 * A loopback HTTP proxy in front of the real registry that can answer a request itself (to inject a
 * 5xx or 403 the registry would not produce on demand) or strip response headers. Everything else is
 * forwarded unchanged.
 */
async function startProxy(
  target: string,
  hooks: {
    intercept?: (
      req: IncomingMessage,
    ) =>
      | { status: number; body?: string; headers?: Record<string, string> }
      | undefined
      | Promise<{ status: number; body?: string; headers?: Record<string, string> } | undefined>;
    stripHeaders?: (req: IncomingMessage) => string[];
    addHeaders?: (req: IncomingMessage) => Record<string, string>;
  },
) {
  const seen: string[] = [];
  const server = createServer(async (req: IncomingMessage, res: ServerResponse) => {
    seen.push(`${req.method} ${req.url}`);
    const injected = await hooks.intercept?.(req);
    if (injected) {
      req.resume();
      res.writeHead(injected.status, { "Content-Type": "application/json", ...injected.headers });
      res.end(injected.body ?? "");
      return;
    }
    const [host, port] = target.split(":");
    const upstream = httpRequest(
      {
        host,
        port: Number(port),
        method: req.method,
        path: req.url,
        headers: { ...req.headers, host: target },
      },
      (up) => {
        const headers = { ...up.headers };
        for (const name of hooks.stripHeaders?.(req) ?? []) delete headers[name];
        Object.assign(headers, hooks.addHeaders?.(req));
        res.writeHead(up.statusCode ?? 502, headers);
        up.pipe(res);
      },
    );
    req.pipe(upstream);
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const address = server.address();
  const host = `127.0.0.1:${typeof address === "object" && address ? address.port : 0}`;
  return {
    host,
    seen,
    stop: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

describe.skipIf(missingTools("docker-registry", "htpasswd", "openssl", ...IMAGE_TOOLS))(
  "RegistryClient against distribution 2.8",
  () => {
    let open: TestRegistry;
    let locked: TestRegistry;
    let containers: ContainersConfig;
    let scratch: string;
    let appDigest: string;
    let multi: PushedIndex;

    beforeAll(async () => {
      [open, locked, containers, scratch] = await Promise.all([
        startRegistry(),
        startRegistry({ htpasswd: { user: "alice", password: "s3cret" } }),
        containersConfig(),
        mkdtemp(join(tmpdir(), "oci-e2e-")),
      ]);
      [appDigest, multi] = await Promise.all([
        pushTestImage(open.host, "acme/app:v1"),
        pushMultiArchIndex(open.host, "acme/multi:v1"),
      ]);
    });
    afterAll(async () => {
      await Promise.all([
        open?.stop(),
        locked?.stop(),
        containers?.cleanup(),
        scratch && rm(scratch, { recursive: true, force: true }),
      ]);
    });

    const skopeo = async (...args: string[]) =>
      (
        await run("skopeo", [args[0]!, "--policy", containers.policyPath, ...args.slice(1)], {
          env: { ...process.env, ...containers.env },
          encoding: "buffer",
          maxBuffer: 64 * 1024 * 1024,
        })
      ).stdout;
    const rawDigest = async (ref: string) =>
      sha256Digest(await skopeo("inspect", "--raw", "--tls-verify=false", `docker://${ref}`));

    describe("manifests", () => {
      test("HEAD and GET of a single-platform image give the digest skopeo pushed", async () => {
        const client = new RegistryClient();
        const ref = parseReference(`${open.host}/acme/app:v1`);
        const head = await client.headManifest(ref);
        expect(head).toEqual({ digest: appDigest, mediaType: OCI_IMAGE_MANIFEST, size: expect.any(Number) });
        expect(await rawDigest(`${open.host}/acme/app:v1`)).toBe(appDigest);
        const got = await client.getManifest(ref);
        expect(got?.digest).toBe(appDigest);
        expect(got?.size).toBe(head?.size);
        expect(isIndex(got!.manifest)).toBe(false);
        expect((got!.manifest as ImageManifest).layers).toHaveLength(2);
        expect(client.stats).toEqual({ requests: 2, byMethod: { HEAD: 1, GET: 1 } });
      });

      test("a multi-arch index: the index digest equals skopeo inspect --raw | sha256sum, platforms resolve by digest", async () => {
        const client = new RegistryClient();
        const ref = parseReference(`${open.host}/acme/multi:v1`);
        const head = await client.headManifest(ref);
        expect(head?.digest).toBe(multi.indexDigest);
        expect(head?.mediaType).toBe(OCI_IMAGE_INDEX);
        expect(await rawDigest(`${open.host}/acme/multi:v1`)).toBe(multi.indexDigest);
        const index = await client.getManifest(ref);
        expect(
          index &&
            isIndex(index.manifest) &&
            index.manifest.manifests.map((m) => [m.platform?.architecture, m.digest]),
        ).toEqual([
          ["amd64", multi.platformDigests.amd64],
          ["arm64", multi.platformDigests.arm64],
        ]);
        const arm = await client.getManifest({ ...ref, tag: undefined, digest: multi.platformDigests.arm64 });
        expect(arm?.digest).toBe(multi.platformDigests.arm64);
        expect(arm && isIndex(arm.manifest)).toBe(false);
      });

      test("unknown tags and repositories are undefined, not errors", async () => {
        const client = new RegistryClient();
        expect(await client.headManifest(parseReference(`${open.host}/acme/app:nope`))).toBeUndefined();
        expect(await client.getManifest(parseReference(`${open.host}/acme/app:nope`))).toBeUndefined();
        expect(await client.headManifest(parseReference(`${open.host}/no/such/repo:v1`))).toBeUndefined();
        expect(client.stats.requests).toBe(3);
      });

      test("a HEAD without Docker-Content-Digest falls back to GET and hashes the body", async () => {
        const proxy = await startProxy(open.host, {
          stripHeaders: (req) => (req.method === "HEAD" ? ["docker-content-digest"] : []),
        });
        try {
          const client = new RegistryClient();
          const head = await client.headManifest(parseReference(`${proxy.host}/acme/app:v1`));
          expect(head?.digest).toBe(appDigest);
          expect(client.stats.byMethod).toEqual({ HEAD: 1, GET: 1 });
        } finally {
          await proxy.stop();
        }
      });

      test("putManifest moves a tag and returns the digest the registry agrees with", async () => {
        const client = new RegistryClient();
        const source = await client.getManifest(parseReference(`${open.host}/acme/multi:v1`));
        const digest = await client.putManifest(
          parseReference(`${open.host}/acme/multi:moved`),
          source!.bytes,
          source!.mediaType,
        );
        expect(digest).toBe(multi.indexDigest);
        expect(await rawDigest(`${open.host}/acme/multi:moved`)).toBe(multi.indexDigest);
        const second = await pushTestImage(open.host, "acme/app:v2", { content: "v2" });
        const v2 = await client.getManifest(parseReference(`${open.host}/acme/app:v2`));
        expect(
          await client.putManifest(parseReference(`${open.host}/acme/app:latest`), v2!.bytes, v2!.mediaType),
        ).toBe(second);
        expect((await client.headManifest(parseReference(`${open.host}/acme/app:latest`)))?.digest).toBe(
          second,
        );
        expect(second).not.toBe(appDigest);
      });
    });

    describe("auth", () => {
      test("htpasswd registry: 401 without credentials, success with REGISTRY_AUTH_FILE, rejection with a wrong password", async () => {
        const digest = await pushTestImage(locked.host, "private/app:v1", {
          credentials: locked.credentials,
        });
        const ref = parseReference(`${locked.host}/private/app:v1`);

        const anonymous = new RegistryClient({ credentials: new CredentialStore({ authFiles: [] }) });
        const error = await anonymous.headManifest(ref).catch((e: unknown) => e);
        expect(error).toBeInstanceOf(RegistryAuthError);
        expect((error as RegistryAuthError).status).toBe(401);
        expect((error as Error).message).toBe(
          `authentication required for ${locked.host}/private/app; log in with \`podman login ${locked.host}\` (or docker login), or set REGISTRY_AUTH_FILE to an auth file with credentials for ${locked.host}`,
        );
        expect(anonymous.stats.requests).toBe(1);

        const authFile = join(scratch, "auth.json");
        await writeFile(authFile, authFileJson({ [locked.host]: { user: "alice", password: "s3cret" } }));
        const logger = recordingLogger();
        const client = new RegistryClient({
          credentials: new CredentialStore({ env: { REGISTRY_AUTH_FILE: authFile }, homeDir: scratch }),
          logger,
        });
        expect((await client.headManifest(ref))?.digest).toBe(digest);
        // First request learns the Basic challenge; later ones send credentials up front.
        expect((await client.getManifest(ref))?.digest).toBe(digest);
        expect(client.stats.byMethod).toEqual({ HEAD: 2, GET: 1 });
        expect(logger.lines.join("\n")).not.toContain("s3cret");

        const wrongFile = join(scratch, "wrong.json");
        await writeFile(wrongFile, authFileJson({ [locked.host]: { user: "alice", password: "nope" } }));
        const wrong = new RegistryClient({ credentials: new CredentialStore({ authFiles: [wrongFile] }) });
        await expect(wrong.headManifest(ref)).rejects.toThrow(
          `${locked.host} rejected the credentials from ${wrongFile} for ${locked.host}/private/app`,
        );
      });

      describe("Bearer tokens from a token service, checked by the registry", () => {
        let tokens: TokenServer;
        let registry: TestRegistry;
        beforeAll(async () => {
          tokens = await startTokenServer({
            users: { bob: "b0b" },
            identityTokens: { "idt-for-bob": "bob" },
          });
          registry = await startRegistry({ token: tokens });
          await writeFile(
            join(scratch, "bearer-auth.json"),
            authFileJson({ [registry.host]: { user: "bob", password: "b0b" } }),
          );
        });
        afterAll(async () => {
          await registry?.stop();
          await tokens?.stop();
        });

        test("push and pull with a token per scope, fetched once and reused", async () => {
          const client = new RegistryClient({
            credentials: new CredentialStore({ authFiles: [join(scratch, "bearer-auth.json")] }),
          });
          const config = Buffer.from(
            JSON.stringify({ architecture: "amd64", os: "linux", rootfs: { type: "layers", diff_ids: [] } }),
          );
          const configDigest = sha256Digest(config);
          const repo = parseReference(`${registry.host}/team/app`);
          await client.uploadBlob(repo, configDigest, config);
          const manifest = Buffer.from(
            JSON.stringify({
              schemaVersion: 2,
              mediaType: OCI_IMAGE_MANIFEST,
              config: { mediaType: OCI_IMAGE_CONFIG, digest: configDigest, size: config.length },
              layers: [],
            }),
          );
          const digest = await client.putManifest({ ...repo, tag: "v1" }, manifest, OCI_IMAGE_MANIFEST);
          const pushRequests = client.stats.requests;
          expect(await client.headManifest({ ...repo, tag: "v1" })).toEqual({
            digest,
            mediaType: OCI_IMAGE_MANIFEST,
            size: manifest.length,
          });
          expect(await client.headManifest({ ...repo, tag: "v1" })).toBeDefined();
          // pull scope: one token request and two HEADs, no 401 round trip (the challenge is known).
          expect(client.stats.requests - pushRequests).toBe(3);
          expect(tokens.requests.map((r) => [r.user, r.scopes.join(" "), r.status])).toEqual([
            ["bob", "repository:team/app:pull,push", 200],
            ["bob", "repository:team/app:pull", 200],
          ]);
        });

        test("concurrent requests share one token; a token is reused until shortly before expires_in", async () => {
          let clock = 1_000_000;
          const client = new RegistryClient({
            credentials: new CredentialStore({ authFiles: [join(scratch, "bearer-auth.json")] }),
            now: () => clock,
          });
          const ref = parseReference(`${registry.host}/team/app:v1`);
          const before = tokens.requests.length;
          const heads = await Promise.all(Array.from({ length: 5 }, () => client.headManifest(ref)));
          expect(new Set(heads.map((h) => h?.digest)).size).toBe(1);
          // 5 HEADs answered 401 (challenge not yet known), one token request, 5 HEADs with the token.
          expect(client.stats.byMethod).toEqual({ HEAD: 10, GET: 1 });
          expect(tokens.requests.length - before).toBe(1);
          clock += 280_000; // expires_in is 300 s: still fresh
          await client.headManifest(ref);
          expect(tokens.requests.length - before).toBe(1);
          clock += 15_000; // past the 10 s safety margin
          await client.headManifest(ref);
          expect(tokens.requests.length - before).toBe(2);
          expect(client.stats.byMethod).toEqual({ HEAD: 12, GET: 2 });
        });

        test("an identitytoken in the auth file is exchanged with the OAuth2 refresh-token grant", async () => {
          const file = join(scratch, "identity.json");
          await writeFile(
            file,
            JSON.stringify({
              auths: {
                [registry.host]: {
                  auth: Buffer.from("<token>:").toString("base64"),
                  identitytoken: "idt-for-bob",
                },
              },
            }),
          );
          const client = new RegistryClient({ credentials: new CredentialStore({ authFiles: [file] }) });
          expect(await client.headManifest(parseReference(`${registry.host}/team/app:v1`))).toBeDefined();
          expect(tokens.requests.at(-1)).toEqual({
            method: "POST",
            user: "bob",
            scopes: ["repository:team/app:pull"],
            status: 200,
          });
        });

        test("anonymous clients get a token without access, so the registry's 401 becomes 'authentication required'", async () => {
          const client = new RegistryClient({ credentials: new CredentialStore({ authFiles: [] }) });
          await expect(client.headManifest(parseReference(`${registry.host}/team/app:v1`))).rejects.toThrow(
            `authentication required for ${registry.host}/team/app`,
          );
          expect(tokens.requests.at(-1)).toEqual({
            method: "GET",
            scopes: ["repository:team/app:pull"],
            status: 200,
          });
          // Anonymous pulls of public/ repositories are allowed by the token service: 404, not 401.
          expect(
            await client.headManifest(parseReference(`${registry.host}/public/none:v1`)),
          ).toBeUndefined();
        });

        test("a wrong password is refused by the token service and reported with its source", async () => {
          const file = join(scratch, "bearer-wrong.json");
          await writeFile(file, authFileJson({ [registry.host]: { user: "bob", password: "wrong" } }));
          const client = new RegistryClient({ credentials: new CredentialStore({ authFiles: [file] }) });
          const error = await client
            .headManifest(parseReference(`${registry.host}/team/app:v1`))
            .catch((e: unknown) => e);
          expect(error).toBeInstanceOf(RegistryAuthError);
          expect((error as Error).message).toContain(
            `${registry.host} rejected the credentials from ${file} for ${registry.host}/team/app`,
          );
        });
      });

      test("403 from the registry is 'access denied' and is not retried", async () => {
        const proxy = await startProxy(open.host, {
          intercept: (req) =>
            req.url?.includes("/forbidden/")
              ? { status: 403, body: JSON.stringify({ errors: [{ code: "DENIED", message: "no way" }] }) }
              : undefined,
        });
        try {
          const client = new RegistryClient({ retry: FAST_RETRY });
          const error = await client
            .headManifest(parseReference(`${proxy.host}/forbidden/app:v1`))
            .catch((e: unknown) => e);
          expect(error).toBeInstanceOf(RegistryDeniedError);
          expect((error as Error).message).toMatch(
            new RegExp(`^access denied: ${proxy.host}/forbidden/app refused to let an anonymous client pull`),
          );
          expect(client.stats.requests).toBe(1);
        } finally {
          await proxy.stop();
        }
      });
    });

    describe("blobs", () => {
      const repo = () => parseReference(`${open.host}/blobs/app`);

      test("monolithic, chunked and streamed uploads make an image skopeo can copy", async () => {
        const client = new RegistryClient();
        const layerFile = join(scratch, "layer.tar.gz");
        // A real gzip'd tar layer, made by GNU tar from busybox, big enough for several chunks.
        await run("sh", ["-c", `tar -C / -czf ${layerFile} bin/busybox`]);
        const layer = await readFile(layerFile);
        const layerDigest = sha256Digest(layer);
        await writeFile(join(scratch, "hi.txt"), "hi\n");
        await run("tar", ["-C", scratch, "-czf", join(scratch, "small.tar.gz"), "hi.txt"]);
        const smallLayer = await readFile(join(scratch, "small.tar.gz"));
        const smallDigest = sha256Digest(smallLayer);
        const config = Buffer.from(
          JSON.stringify({
            architecture: "amd64",
            os: "linux",
            config: { Cmd: ["/bin/busybox", "true"] },
            rootfs: {
              type: "layers",
              diff_ids: [sha256Digest(gunzipSync(layer)), sha256Digest(gunzipSync(smallLayer))],
            },
          }),
        );
        const configDigest = sha256Digest(config);

        expect(await client.blobExists(repo(), layerDigest)).toBe(false);
        expect(await client.uploadBlob(repo(), configDigest, config)).toEqual({
          digest: configDigest,
          size: config.length,
          mounted: false,
        });
        const chunkSize = 256 * 1024;
        const before = client.stats.byMethod.PATCH ?? 0;
        expect(
          await client.uploadBlob(repo(), layerDigest, layerFile, undefined, { mode: "chunked", chunkSize }),
        ).toEqual({
          digest: layerDigest,
          size: layer.length,
          mounted: false,
        });
        expect((client.stats.byMethod.PATCH ?? 0) - before).toBe(Math.ceil(layer.length / chunkSize));
        const streamed = await client.uploadBlob(
          repo(),
          smallDigest,
          () =>
            (async function* () {
              yield smallLayer.subarray(0, 10);
              yield smallLayer.subarray(10);
            })(),
          smallLayer.length,
        );
        expect(streamed.size).toBe(smallLayer.length);
        expect(await client.blobExists(repo(), layerDigest)).toBe(true);
        expect((await client.getBlob(repo(), smallDigest)).equals(smallLayer)).toBe(true);
        const downloaded = join(scratch, "downloaded");
        expect(await client.downloadBlob(repo(), layerDigest, downloaded)).toEqual({
          digest: layerDigest,
          size: layer.length,
        });
        expect((await readFile(downloaded)).equals(layer)).toBe(true);

        const manifest = Buffer.from(
          JSON.stringify({
            schemaVersion: 2,
            mediaType: OCI_IMAGE_MANIFEST,
            config: { mediaType: OCI_IMAGE_CONFIG, digest: configDigest, size: config.length },
            layers: [
              { mediaType: OCI_LAYER_TAR_GZIP, digest: layerDigest, size: layer.length },
              { mediaType: OCI_LAYER_TAR_GZIP, digest: smallDigest, size: smallLayer.length },
            ],
          }),
        );
        const digest = await client.putManifest({ ...repo(), tag: "built" }, manifest, OCI_IMAGE_MANIFEST);
        const inspected = JSON.parse(
          (await skopeo("inspect", "--tls-verify=false", `docker://${open.host}/blobs/app:built`)).toString(),
        ) as {
          Digest: string;
          Architecture: string;
          Layers: string[];
        };
        expect(inspected).toMatchObject({
          Digest: digest,
          Architecture: "amd64",
          Layers: [layerDigest, smallDigest],
        });
        // skopeo copy checks every blob's digest as it copies.
        await skopeo(
          "copy",
          "--src-tls-verify=false",
          `docker://${open.host}/blobs/app:built`,
          `dir:${join(scratch, "copied")}`,
        );
        expect((await readFile(join(scratch, "copied", layerDigest.slice(7)))).equals(layer)).toBe(true);
      });

      test("content that does not match the digest is refused before anything is sent", async () => {
        const client = new RegistryClient();
        const wrong = sha256Digest("something else");
        await expect(client.uploadBlob(repo(), wrong, Buffer.from("data"))).rejects.toThrow(
          `blob ${wrong} for ${open.host}/blobs/app: content digest ${sha256Digest("data")} does not match the expected ${wrong}`,
        );
        expect(client.stats.requests).toBe(0);
      });

      test("a file uploaded in one PUT is streamed and checked: right digest stored, wrong one named", async () => {
        const client = new RegistryClient();
        const file = join(scratch, "mono.bin");
        const bytes = randomBytes(300_000);
        await writeFile(file, bytes);
        expect(await client.uploadBlob(repo(), sha256Digest(bytes), file)).toEqual({
          digest: sha256Digest(bytes),
          size: bytes.length,
          mounted: false,
        });
        expect(client.stats.byMethod).toEqual({ POST: 1, PUT: 1 });
        expect((await client.getBlob(repo(), sha256Digest(bytes))).equals(bytes)).toBe(true);
        const claimed = sha256Digest("claimed");
        await expect(client.uploadBlob(repo(), claimed, file)).rejects.toThrow(
          `blob for ${open.host}/blobs/app: content digest ${sha256Digest(bytes)} does not match the expected ${claimed}`,
        );
      });

      test("a chunked upload whose file does not hash to the digest is not committed", async () => {
        const client = new RegistryClient();
        const file = join(scratch, "random.bin");
        await writeFile(file, randomBytes(100_000));
        const claimed = sha256Digest("not the file");
        await expect(
          client.uploadBlob(repo(), claimed, file, undefined, { mode: "chunked", chunkSize: 40_000 }),
        ).rejects.toThrow(/does not match the expected/);
        expect(client.stats.byMethod.PUT).toBeUndefined();
        expect(await client.blobExists(repo(), claimed)).toBe(false);
      });

      test("cross-repository mount: true when the registry mounts, false when it opens an upload instead", async () => {
        const client = new RegistryClient();
        const source = await client.getManifest(parseReference(`${open.host}/acme/app:v1`));
        const layerDigest = (source!.manifest as ImageManifest).layers[0]!.digest;
        const target = parseReference(`${open.host}/mounted/app`);
        expect(await client.blobExists(target, layerDigest)).toBe(false);
        expect(await client.mountBlob(target, layerDigest, "acme/app")).toBe(true);
        expect(await client.blobExists(target, layerDigest)).toBe(true);
        expect(await client.mountBlob(target, sha256Digest("never pushed"), "acme/app")).toBe(false);
        const bytes = Buffer.from("mount fallback");
        expect(
          await client.uploadBlob(target, sha256Digest(bytes), bytes, undefined, { mountFrom: "acme/app" }),
        ).toMatchObject({ mounted: false });
        expect(await client.getBlob(target, sha256Digest(bytes))).toEqual(bytes);
      });
    });

    test("listTags: every tag, in one page from distribution 2.8 and across Link pages from a paginating registry", async () => {
      const client = new RegistryClient();
      const source = await client.getManifest(parseReference(`${open.host}/acme/app:v1`));
      const repo = parseReference(`${open.host}/acme/app`);
      const wanted = ["t1", "t2", "t3", "t4", "t5"];
      for (const tag of wanted) await client.putManifest({ ...repo, tag }, source!.bytes, source!.mediaType);
      const before = client.stats.byMethod.GET ?? 0;
      const tags = await client.listTags(repo, { pageSize: 2 });
      expect(tags.filter((t) => t.startsWith("t")).sort()).toEqual(wanted);
      expect(tags).toContain("v1");
      // distribution 2.8 ignores ?n= for tags (pagination came in 3.0): one page.
      expect((client.stats.byMethod.GET ?? 0) - before).toBe(1);
      expect(await client.listTags(parseReference(`${open.host}/no/such`))).toEqual([]);

      // distribution 3's pagination (n, last, Link rel="next"), served over the real registry's full list.
      const proxy = await startProxy(open.host, {
        intercept: async (req) => {
          const url = new URL(req.url ?? "/", "http://x");
          if (!url.pathname.endsWith("/tags/list") || !url.searchParams.has("n")) return undefined;
          const all = (
            (await (await fetch(`${open.url}${url.pathname}`)).json()) as { tags: string[] }
          ).tags.sort();
          const n = Number(url.searchParams.get("n"));
          const last = url.searchParams.get("last");
          const start = last ? all.indexOf(last) + 1 : 0;
          const page = all.slice(start, start + n);
          const more = start + n < all.length;
          return {
            status: 200,
            body: JSON.stringify({ name: "acme/app", tags: page }),
            headers: (more
              ? { Link: `<${url.pathname}?last=${page.at(-1)}&n=${n}>; rel="next"` }
              : {}) as Record<string, string>,
          };
        },
      });
      try {
        const paged = new RegistryClient();
        const pagedTags = await paged.listTags(parseReference(`${proxy.host}/acme/app`), { pageSize: 2 });
        expect(pagedTags).toEqual([...tags].sort());
        expect(paged.stats.byMethod).toEqual({ GET: Math.ceil(tags.length / 2) });
      } finally {
        await proxy.stop();
      }
    });

    test("referrers: without a referrers API the sha256-<hex> tag index is written and read back", async () => {
      const client = new RegistryClient();
      const repo = parseReference(`${open.host}/acme/app`);
      const subject = await client.headManifest({ ...repo, tag: "v1" });
      const empty = Buffer.from("{}");
      await client.uploadBlob(repo, sha256Digest(empty), empty);

      async function pushArtifact(artifactType: string, payload: string) {
        const blob = Buffer.from(payload);
        await client.uploadBlob(repo, sha256Digest(blob), blob);
        const manifest = Buffer.from(
          JSON.stringify({
            schemaVersion: 2,
            mediaType: OCI_IMAGE_MANIFEST,
            artifactType,
            config: { mediaType: OCI_EMPTY_JSON, digest: sha256Digest(empty), size: 2 },
            layers: [
              { mediaType: "application/octet-stream", digest: sha256Digest(blob), size: blob.length },
            ],
            subject: { mediaType: subject!.mediaType, digest: subject!.digest, size: subject!.size },
            annotations: { "org.example.payload": payload },
          }),
        );
        return { manifest, result: await client.pushReferrer(repo, manifest, OCI_IMAGE_MANIFEST) };
      }

      expect(await client.listReferrers(repo, subject!.digest)).toEqual({
        descriptors: [],
        source: "tag-schema",
      });
      const sig = await pushArtifact("application/vnd.example.signature", "sig");
      expect(sig.result).toEqual({
        digest: sha256Digest(sig.manifest),
        source: "tag-schema",
        indexDigest: expect.stringMatching(/^sha256:/),
      });
      const sbom = await pushArtifact("application/vnd.example.sbom", "sbom");
      const again = await client.pushReferrer(repo, sig.manifest, OCI_IMAGE_MANIFEST);
      expect(again.indexDigest).toBe(sbom.result.indexDigest);

      const all = await client.listReferrers(repo, subject!.digest);
      expect(all.source).toBe("tag-schema");
      expect(all.descriptors).toEqual([
        {
          mediaType: OCI_IMAGE_MANIFEST,
          digest: sha256Digest(sig.manifest),
          size: sig.manifest.length,
          artifactType: "application/vnd.example.signature",
          annotations: { "org.example.payload": "sig" },
        },
        {
          mediaType: OCI_IMAGE_MANIFEST,
          digest: sha256Digest(sbom.manifest),
          size: sbom.manifest.length,
          artifactType: "application/vnd.example.sbom",
          annotations: { "org.example.payload": "sbom" },
        },
      ]);
      expect(
        (await client.listReferrers(repo, subject!.digest, "application/vnd.example.sbom")).descriptors.map(
          (d) => d.digest,
        ),
      ).toEqual([sha256Digest(sbom.manifest)]);
      // The fallback tag is an ordinary index other tools see.
      const raw = JSON.parse(
        (
          await skopeo(
            "inspect",
            "--raw",
            "--tls-verify=false",
            `docker://${open.host}/acme/app:${referrersTag(subject!.digest)}`,
          )
        ).toString(),
      );
      expect(raw.mediaType).toBe(OCI_IMAGE_INDEX);
      expect(raw.manifests).toHaveLength(2);
    });

    test("referrers: a registry with the referrers API is used directly (API emulated by a proxy: distribution 2.8 has none)", async () => {
      const subject = (await new RegistryClient().headManifest(parseReference(`${open.host}/acme/app:v1`)))!;
      const entry = (n: number, artifactType: string) => ({
        mediaType: OCI_IMAGE_MANIFEST,
        digest: sha256Digest(String(n)),
        size: n,
        artifactType,
      });
      const pages = [
        [entry(1, "application/vnd.example.signature"), entry(2, "application/vnd.example.sbom")],
        [entry(3, "application/vnd.example.signature")],
      ];
      const proxy = await startProxy(open.host, {
        intercept: (req) => {
          const url = new URL(req.url ?? "/", "http://x");
          if (!url.pathname.startsWith(`/v2/acme/app/referrers/${subject.digest}`)) return undefined;
          const page = url.searchParams.get("page") === "2" ? 1 : 0;
          return {
            status: 200,
            body: JSON.stringify({ schemaVersion: 2, mediaType: OCI_IMAGE_INDEX, manifests: pages[page] }),
            headers: {
              "Content-Type": OCI_IMAGE_INDEX,
              ...(page === 0 ? { Link: `<${url.pathname}?page=2>; rel="next"` } : {}),
            },
          };
        },
        // A registry with the API confirms it indexed a pushed referrer with OCI-Subject.
        addHeaders: (req): Record<string, string> =>
          req.method === "PUT" && req.url?.includes("/manifests/") ? { "OCI-Subject": subject.digest } : {},
      });
      try {
        const client = new RegistryClient();
        const repo = parseReference(`${proxy.host}/acme/app`);
        const all = await client.listReferrers(repo, subject.digest);
        expect(all).toEqual({ source: "referrers-api", descriptors: [...pages[0]!, ...pages[1]!] });
        const signatures = await client.listReferrers(
          repo,
          subject.digest,
          "application/vnd.example.signature",
        );
        expect(signatures.descriptors.map((d) => d.size)).toEqual([1, 3]);

        const empty = Buffer.from("{}");
        await client.uploadBlob(repo, sha256Digest(empty), empty);
        const manifest = Buffer.from(
          JSON.stringify({
            schemaVersion: 2,
            mediaType: OCI_IMAGE_MANIFEST,
            artifactType: "application/vnd.example.api",
            config: { mediaType: OCI_EMPTY_JSON, digest: sha256Digest(empty), size: 2 },
            layers: [{ mediaType: OCI_EMPTY_JSON, digest: sha256Digest(empty), size: 2 }],
            subject: { mediaType: subject.mediaType, digest: subject.digest, size: subject.size },
          }),
        );
        expect(await client.pushReferrer(repo, manifest, OCI_IMAGE_MANIFEST)).toEqual({
          digest: sha256Digest(manifest),
          source: "referrers-api",
        });
        // No fallback tag was written for this subject by the API path.
        const fallback = await client.getManifest({ ...repo, tag: referrersTag(subject.digest) });
        const fallbackTypes =
          fallback && isIndex(fallback.manifest)
            ? fallback.manifest.manifests.map((m) => m.artifactType)
            : [];
        expect(fallbackTypes).not.toContain("application/vnd.example.api");
      } finally {
        await proxy.stop();
      }
    });

    test("a 503 then OK is retried and counted; ECONNREFUSED is not retried", async () => {
      let failures = 2;
      const proxy = await startProxy(open.host, {
        intercept: (req) =>
          req.method === "HEAD" && failures-- > 0
            ? { status: 503, body: '{"errors":[{"code":"UNAVAILABLE","message":"try later"}]}' }
            : undefined,
      });
      try {
        const logger = recordingLogger();
        const client = new RegistryClient({ retry: FAST_RETRY, logger });
        expect((await client.headManifest(parseReference(`${proxy.host}/acme/app:v1`)))?.digest).toBe(
          appDigest,
        );
        expect(client.stats).toEqual({ requests: 3, byMethod: { HEAD: 3 } });
        expect(logger.lines.filter((l) => l.startsWith("warning:"))).toHaveLength(2);
        expect(logger.lines[0]).toMatch(
          new RegExp(
            `^warning: HEAD manifest ${proxy.host}/acme/app:v1 failed \\(attempt 1\\): HEAD http://${proxy.host}/v2/acme/app/manifests/v1 failed with HTTP 503; retrying in \\d+ ms$`,
          ),
        );
      } finally {
        await proxy.stop();
      }
      const client = new RegistryClient({ retry: FAST_RETRY });
      await expect(client.headManifest(parseReference(`${proxy.host}/acme/app:v1`))).rejects.toThrow(
        /fetch failed/,
      );
      expect(client.stats.requests).toBe(1);
    });
  },
);
