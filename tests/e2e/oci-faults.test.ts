import { randomBytes } from "node:crypto";
import { mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, afterEach, beforeAll, describe, expect, test } from "vitest";
import { recordingLogger } from "@frostyard/kit";
import {
  OCI_IMAGE_CONFIG,
  OCI_IMAGE_MANIFEST,
  OCI_LAYER_TAR_GZIP,
  parseReference,
  pushLayout,
  RegistryClient,
  sha256Digest,
  writeBlob,
  writeManifest,
  type RegistryClientOptions,
} from "@frostyard/oci";
import {
  scheduledFaults,
  startFaultProxy,
  type Fault,
  type FaultProxy,
  type RequestKind,
} from "../helpers/fault-proxy";
import { startRegistry, type TestRegistry } from "../helpers/registry";
import { missingTools } from "../helpers/tools";

const MiB = 1024 * 1024;

// The client against a real registry (distribution 2.8) behind the fault proxy, one scheduled fault per
// test: each test fails on the client as it was before the fix it names.
describe.skipIf(missingTools("docker-registry"))("RegistryClient through a fault-injecting proxy", () => {
  let registry: TestRegistry;
  let proxy: FaultProxy;
  let scratch: string;
  const retries: number[] = [];
  // Short clocks: a 1 ms backoff base and a 600 ms idle/metadata timeout keep every test under seconds.
  const client = (options: RegistryClientOptions = {}) =>
    new RegistryClient({
      logger: recordingLogger(),
      retry: { baseDelayMs: 1, onRetry: (info) => retries.push(info.attempt) },
      timeoutMs: 600,
      ...options,
    });
  const direct = () => new RegistryClient({ logger: recordingLogger() });
  const via = (repository: string) => ({ registry: proxy.host, repository });
  const seen = (kind: RequestKind) => proxy.log.filter((e) => e.kind === kind).length;
  /** A small image pushed directly (not through the proxy) as `repository:v1`; its manifest digest. */
  const pushSmall = async (repository: string): Promise<string> => {
    const repo = { registry: registry.host, repository };
    const config = Buffer.from(JSON.stringify({ architecture: "amd64", os: "linux" }));
    const digest = sha256Digest(config);
    await direct().uploadBlob(repo, digest, config);
    const manifest = {
      schemaVersion: 2,
      mediaType: OCI_IMAGE_MANIFEST,
      config: { mediaType: OCI_IMAGE_CONFIG, digest, size: config.length },
      layers: [],
    };
    return direct().putManifest(
      { ...repo, tag: "v1" },
      Buffer.from(JSON.stringify(manifest)),
      OCI_IMAGE_MANIFEST,
    );
  };

  beforeAll(async () => {
    [registry, scratch] = await Promise.all([startRegistry(), mkdtemp(join(tmpdir(), "oci-faults-"))]);
    proxy = await startFaultProxy(registry.host);
  });
  afterEach(() => {
    proxy.setSchedule(undefined);
    proxy.log.length = 0;
    retries.length = 0;
  });
  afterAll(async () => {
    await proxy?.stop();
    await registry?.stop();
    if (scratch) await rm(scratch, { recursive: true, force: true });
  });

  test("a connection reset 1 MiB into a monolithic blob PUT is retried in a fresh session, not a digest mismatch", async () => {
    // Well above what the client reads ahead into the socket, so the cut lands mid-body.
    const bytes = randomBytes(8 * MiB);
    const file = join(scratch, "blob.bin");
    await writeFile(file, bytes);
    const digest = sha256Digest(bytes);
    proxy.setSchedule(
      scheduledFaults([{ kind: "blob-put", nth: 1, fault: { kind: "reset-request", afterBytes: MiB } }]),
    );
    const result = await client().uploadBlob(via("faults/mono"), digest, file, bytes.length, {
      mode: "monolithic",
    });
    expect(result).toEqual({ digest, size: bytes.length, mounted: false });
    expect(retries).toEqual([1]);
    expect([seen("upload-start"), seen("blob-put")]).toEqual([2, 2]);
    const stored = await direct().getBlob({ registry: registry.host, repository: "faults/mono" }, digest);
    expect(stored.equals(bytes)).toBe(true);
  });

  test("pushLayout: the 2nd blob PUT reset after 1 MiB still pushes the image exactly", async () => {
    const layout = join(scratch, "layout");
    // Well above what the client reads ahead into the socket, so the cut lands mid-body.
    const layers = [randomBytes(8 * MiB), randomBytes(8 * MiB), randomBytes(8 * MiB)];
    const stored = await Promise.all(layers.map((l) => writeBlob(layout, l)));
    const config = await writeBlob(
      layout,
      Buffer.from(JSON.stringify({ architecture: "amd64", os: "linux" })),
    );
    const descriptor = await writeManifest(
      layout,
      {
        schemaVersion: 2,
        mediaType: OCI_IMAGE_MANIFEST,
        config: { mediaType: OCI_IMAGE_CONFIG, ...config },
        layers: stored.map((s) => ({ mediaType: OCI_LAYER_TAR_GZIP, ...s })),
      },
      { refName: "1.0" },
    );
    proxy.setSchedule(
      scheduledFaults([{ kind: "blob-put", nth: 2, fault: { kind: "reset-request", afterBytes: MiB } }]),
    );
    const pushed = await pushLayout({
      client: client(),
      layout,
      refName: "1.0",
      target: parseReference(`${proxy.host}/faults/layout`),
      tags: ["1.0", "latest"],
      concurrency: 1,
      logger: recordingLogger(),
    });
    expect(pushed.digest).toBe(descriptor.digest);
    expect(retries).toEqual([1]);
    for (const tag of ["1.0", "latest"]) {
      const head = await direct().headManifest(parseReference(`${registry.host}/faults/layout:${tag}`));
      expect(head?.digest).toBe(descriptor.digest);
    }
  });

  test("a blob GET whose body stalls is abandoned after the idle timeout and retried", async () => {
    const bytes = randomBytes(2 * MiB);
    const digest = sha256Digest(bytes);
    await direct().uploadBlob({ registry: registry.host, repository: "faults/get" }, digest, bytes);
    // The stall is bounded (20 s, then a reset) so the unfixed client ends too, only far too late.
    proxy.setSchedule(
      scheduledFaults([
        { kind: "blob-get", nth: 1, fault: { kind: "stall", afterBytes: 64 * 1024, ms: 20_000 } },
      ]),
    );
    const started = Date.now();
    const got = await client().getBlob(via("faults/get"), digest);
    expect(got.equals(bytes)).toBe(true);
    expect(Date.now() - started).toBeLessThan(5_000);
    expect(seen("blob-get")).toBe(2);

    proxy.setSchedule(
      scheduledFaults([{ kind: "blob-get", nth: 3, fault: { kind: "stall", afterBytes: MiB, ms: 20_000 } }]),
    );
    const path = join(scratch, "downloaded");
    const again = Date.now();
    expect(await client().downloadBlob(via("faults/get"), digest, path)).toEqual({
      digest,
      size: bytes.length,
    });
    expect((await readFile(path)).equals(bytes)).toBe(true);
    expect(Date.now() - again).toBeLessThan(5_000);
  }, 30_000);

  test("a manifest body cut short is read again as part of the retried request", async () => {
    const bytes = randomBytes(1024);
    const digest = sha256Digest(bytes);
    const repo = { registry: registry.host, repository: "faults/manifest" };
    await direct().uploadBlob(repo, digest, bytes);
    const manifest = Buffer.from(
      JSON.stringify({
        schemaVersion: 2,
        mediaType: OCI_IMAGE_MANIFEST,
        config: { mediaType: OCI_IMAGE_CONFIG, digest, size: bytes.length },
        layers: [],
      }),
    );
    const manifestDigest = await direct().putManifest({ ...repo, tag: "v1" }, manifest, OCI_IMAGE_MANIFEST);
    proxy.setSchedule(
      scheduledFaults([
        { kind: "manifest-get", nth: 1, fault: { kind: "truncate", afterBytes: 100 } },
        { kind: "manifest-get", nth: 2, fault: { kind: "reset-response", afterBytes: 100 } },
        { kind: "tags", nth: 1, fault: { kind: "truncate", afterBytes: 10 } },
      ]),
    );
    const fetched = await client().getManifest({ ...via("faults/manifest"), tag: "v1" });
    expect(fetched?.digest).toBe(manifestDigest);
    expect(seen("manifest-get")).toBe(3);
    expect(await client().listTags(via("faults/manifest"))).toEqual(["v1"]);
    expect(retries).toEqual([1, 2, 1]);
  });

  test("a registry that never answers a manifest HEAD times out and is retried", async () => {
    proxy.setSchedule(
      scheduledFaults([
        { kind: "manifest-head", nth: 1, fault: { kind: "stall", afterBytes: 0, ms: 20_000 } },
      ]),
    );
    const started = Date.now();
    expect(await client().headManifest({ ...via("faults/manifest"), tag: "v1" })).toMatchObject({
      mediaType: OCI_IMAGE_MANIFEST,
    });
    expect(Date.now() - started).toBeLessThan(5_000);
    expect(retries).toEqual([1]);
  }, 30_000);

  test("429 with Retry-After is honoured; 502 and 503 are retried", async () => {
    proxy.setSchedule(
      scheduledFaults([
        { kind: "manifest-get", nth: 1, fault: { kind: "status", status: 429, retryAfterSeconds: 1 } },
        { kind: "manifest-get", nth: 2, fault: { kind: "status", status: 502 } },
        { kind: "manifest-get", nth: 3, fault: { kind: "status", status: 503 } },
      ]),
    );
    const waits: number[] = [];
    const fetched = await client({
      retry: { baseDelayMs: 1, sleep: async (ms) => void waits.push(ms) },
    }).getManifest({ ...via("faults/manifest"), tag: "v1" });
    expect(fetched?.mediaType).toBe(OCI_IMAGE_MANIFEST);
    expect(waits[0]).toBe(1_000);
    expect(waits).toHaveLength(3);
  });

  test("errors name the request and the attempts made", async () => {
    proxy.setSchedule(() => ({ kind: "status", status: 502 }));
    const ref = { ...via("faults/manifest"), tag: "v1" };
    await expect(client({ retry: { attempts: 3, baseDelayMs: 1 } }).getManifest(ref)).rejects.toThrow(
      `GET manifest ${proxy.host}/faults/manifest:v1 failed after 3 attempts: GET ${proxy.url}/v2/faults/manifest/manifests/v1 failed with HTTP 502`,
    );

    const bytes = randomBytes(MiB);
    const digest = sha256Digest(bytes);
    proxy.setSchedule((request) =>
      request.kind === "blob-put" ? { kind: "reset-request", afterBytes: 4096 } : undefined,
    );
    const error = (await client({ retry: { attempts: 2, baseDelayMs: 1 } })
      .uploadBlob(via("faults/named"), digest, bytes)
      .catch((e: unknown) => e)) as Error & { attempts?: number };
    expect(error.message).toMatch(
      new RegExp(`^upload of blob ${digest} for ${proxy.host}/faults/named failed after 2 attempts: `),
    );
    expect(error.attempts).toBe(2);
  });

  test("six faults in a row on one request end in success under the default budget (five attempts used to be all)", async () => {
    const faults: Fault[] = [
      { kind: "status", status: 502 },
      { kind: "reset-response", afterBytes: 50 },
      { kind: "status", status: 503 },
      { kind: "truncate", afterBytes: 50 },
      { kind: "stall", afterBytes: 0, ms: 100 },
      { kind: "reset-request", afterBytes: 0 },
    ];
    const digest = await pushSmall("faults/six");
    proxy.setSchedule(
      scheduledFaults(faults.map((fault, i) => ({ kind: "manifest-get", nth: i + 1, fault }))),
    );
    const fetched = await client().getManifest({ ...via("faults/six"), tag: "v1" });
    expect(fetched?.digest).toBe(digest);
    expect(seen("manifest-get")).toBe(7);
    expect(retries).toEqual([1, 2, 3, 4, 5, 6]);
  });

  test("an upload is one retry budget: its session POST is not retried inside it, so attempts do not multiply", async () => {
    const bytes = randomBytes(MiB);
    const digest = sha256Digest(bytes);
    proxy.setSchedule((request) => {
      if (request.kind === "upload-start" && request.nth <= 2) return { kind: "status", status: 502 };
      return request.kind === "blob-put" ? { kind: "reset-request", afterBytes: 4096 } : undefined;
    });
    const error = (await client({ retry: { attempts: 3, baseDelayMs: 1 } })
      .uploadBlob(via("faults/budget"), digest, bytes)
      .catch((e: unknown) => e)) as Error & { attempts?: number };
    // Before, each of the 3 attempts retried its POST on its own: 5 POSTs and 3 PUTs.
    expect([seen("upload-start"), seen("blob-put")]).toEqual([3, 1]);
    expect(error.attempts).toBe(3);
    expect(error.message).toMatch(
      new RegExp(
        `^upload of blob ${digest} for ${proxy.host}/faults/budget failed after 3 attempts: PUT blob ${digest} to ${proxy.host}/faults/budget: `,
      ),
    );
  });

  test("permanent answers are not retried: 404 for a manifest or a blob, 401 without a way to authenticate", async () => {
    proxy.setSchedule((request) => {
      if (request.kind === "manifest-get" || request.kind === "blob-get")
        return { kind: "status", status: 404 };
      return request.kind === "manifest-head" ? { kind: "status", status: 401 } : undefined;
    });
    const c = client();
    expect(await c.getManifest({ ...via("faults/manifest"), tag: "v1" })).toBeUndefined();
    await expect(c.getBlob(via("faults/manifest"), `sha256:${"0".repeat(64)}`)).rejects.toThrow("not found");
    await expect(c.headManifest({ ...via("faults/manifest"), tag: "v1" })).rejects.toMatchObject({
      name: "RegistryAuthError",
      status: 401,
    });
    expect([seen("manifest-get"), seen("blob-get"), seen("manifest-head")]).toEqual([1, 1, 1]);
    expect(retries).toEqual([]);
  });

  test("a Retry-After above the cap is cut to it instead of ending the request at once", async () => {
    proxy.setSchedule(
      scheduledFaults([
        { kind: "manifest-get", nth: 1, fault: { kind: "status", status: 429, retryAfterSeconds: 3600 } },
        { kind: "manifest-get", nth: 3, fault: { kind: "status", status: 429, retryAfterSeconds: 3600 } },
      ]),
    );
    const digest = await pushSmall("faults/later");
    const waits: number[] = [];
    const sleep = async (ms: number) => void waits.push(ms);
    const ref = { ...via("faults/later"), tag: "v1" };
    expect((await client({ retry: { baseDelayMs: 1, sleep } }).getManifest(ref))?.digest).toBe(digest);
    expect(waits).toEqual([30_000]);
    const started = Date.now();
    expect((await client({ maxRetryAfterMs: 200 }).getManifest(ref))?.digest).toBe(digest);
    expect(Date.now() - started).toBeGreaterThanOrEqual(190);
    expect(Date.now() - started).toBeLessThan(2_000);
  });

  test("a registry that keeps failing or stalling ends within the elapsed bound plus one attempt", async () => {
    const ref = { ...via("faults/manifest"), tag: "v1" };
    const bounded = { attempts: 1_000, baseDelayMs: 20, maxDelayMs: 50, maxElapsedMs: 800 };
    for (const fault of [
      { kind: "status", status: 502 },
      { kind: "stall", afterBytes: 0, ms: 20_000 },
    ] satisfies Fault[]) {
      proxy.setSchedule(() => fault);
      const started = Date.now();
      const error = (await client({ retry: bounded })
        .getManifest(ref)
        .catch((e: unknown) => e)) as Error & { attempts?: number };
      // 800 ms of budget, then at most one attempt of the 600 ms timeout, plus the machine's slack.
      expect(Date.now() - started).toBeLessThan(800 + 600 + 1_000);
      expect(error.message).toMatch(
        new RegExp(`^GET manifest ${ref.registry}/faults/manifest:v1 failed after \\d+ attempts: `),
      );
      expect(error.attempts).toBeGreaterThan(1);
      expect(error.attempts).toBeLessThan(1_000);
    }
  }, 30_000);

  test("an upload's elapsed budget grows with its size: a slow first attempt does not spend it all", async () => {
    const bytes = randomBytes(MiB);
    const digest = sha256Digest(bytes);
    // The first PUT reaches the registry, then its answer stalls 500 ms and the connection is reset.
    proxy.setSchedule(
      scheduledFaults([{ kind: "blob-put", nth: 1, fault: { kind: "stall", afterBytes: 0, ms: 500 } }]),
    );
    // 200 ms of budget, plus 1 MiB at 1 MiB/s: the retry after the 500 ms attempt still fits.
    const result = await client({
      retry: { baseDelayMs: 1, maxElapsedMs: 200, onRetry: (info) => retries.push(info.attempt) },
      minBytesPerSecond: MiB,
    }).uploadBlob(via("faults/slow"), digest, bytes);
    expect(result.digest).toBe(digest);
    expect(retries).toEqual([1]);
    expect(seen("blob-put")).toBe(2);
  });

  test("a chunked upload whose PATCH is reset starts a fresh session", async () => {
    const bytes = randomBytes(3 * MiB);
    const digest = sha256Digest(bytes);
    proxy.setSchedule(
      scheduledFaults([
        { kind: "blob-patch", nth: 2, fault: { kind: "reset-request", afterBytes: 512 * 1024 } },
      ]),
    );
    await client().uploadBlob(via("faults/chunked"), digest, bytes, bytes.length, {
      mode: "chunked",
      chunkSize: MiB,
    });
    expect(retries).toEqual([1]);
    expect(seen("upload-start")).toBe(2);
    const stored = await direct().getBlob({ registry: registry.host, repository: "faults/chunked" }, digest);
    expect(stored.equals(bytes)).toBe(true);
  });
});
