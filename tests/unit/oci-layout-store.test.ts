import { access, mkdtemp, readdir, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, beforeEach, describe, expect, test } from "vitest";
import {
  ANNOTATION_REF_NAME,
  LayoutRegistryError,
  LayoutStore,
  OCI_IMAGE_CONFIG,
  OCI_IMAGE_INDEX,
  OCI_IMAGE_MANIFEST,
  readIndex,
  RegistryApiError,
  sha256Digest,
} from "@frostyard/oci";

// The storage behind serveLayout, driven directly on a temp directory: no HTTP server, no client.
let dir: string;
let store: LayoutStore;
beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), "oci-layout-store-"));
  store = await LayoutStore.open(join(dir, "layout"), "os/snow");
});
afterEach(async () => {
  await store.close();
  await rm(dir, { recursive: true, force: true });
});

async function* chunks(...parts: (string | Error)[]): AsyncGenerator<Buffer> {
  for (const part of parts) {
    if (part instanceof Error) throw part;
    yield Buffer.from(part);
  }
}

const refused = async (promise: Promise<unknown>): Promise<RegistryApiError> => {
  const error = await promise.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(error).toBeInstanceOf(RegistryApiError);
  return error as RegistryApiError;
};

async function pushBlob(content: string): Promise<string> {
  const uuid = await store.openUpload();
  await store.append(uuid, chunks(content));
  return store.finishUpload(uuid, sha256Digest(content));
}

const manifestOf = (config: string, layers: string[]) =>
  Buffer.from(
    JSON.stringify({
      schemaVersion: 2,
      mediaType: OCI_IMAGE_MANIFEST,
      config: { mediaType: OCI_IMAGE_CONFIG, digest: sha256Digest(config), size: config.length },
      layers: layers.map((l) => ({
        mediaType: "application/vnd.oci.image.layer.v1.tar",
        digest: sha256Digest(l),
        size: l.length,
      })),
    }),
  );

describe("LayoutStore", () => {
  test("open refuses a repository that is not a bare path, with a domain error", async () => {
    const error = await LayoutStore.open(join(dir, "other"), "os/snow:1.0").catch((e: unknown) => e);
    expect(error).toBeInstanceOf(LayoutRegistryError);
    expect(error).toMatchObject({ option: "repository", value: "os/snow:1.0" });
    await expect(access(join(dir, "other"))).rejects.toThrow();
  });

  test("an upload in two appends becomes a blob; its size and path are known", async () => {
    const uuid = await store.openUpload();
    expect(await store.append(uuid, chunks("hello "))).toBe(6);
    expect(await store.append(uuid, chunks("world"))).toBe(11);
    expect(store.uploadSize(uuid)).toBe(11);
    const digest = await store.finishUpload(uuid, sha256Digest("hello world"));
    expect(digest).toBe(sha256Digest("hello world"));
    expect(await store.blob(digest)).toEqual({
      path: join(dir, "layout", "blobs", "sha256", digest.slice(7)),
      size: 11,
    });
    // The session is over once finished.
    expect(() => store.uploadSize(uuid)).toThrow(/is not in progress/);
  });

  test("a wrong or missing digest is DIGEST_INVALID and ends the session; nothing is stored", async () => {
    const uuid = await store.openUpload();
    await store.append(uuid, chunks("abc"));
    const wrong = sha256Digest("xyz");
    const error = await refused(store.finishUpload(uuid, wrong));
    expect(error).toMatchObject({ status: 400, code: "DIGEST_INVALID" });
    expect(error.message).toBe(
      `uploaded content digest ${sha256Digest("abc")} does not match the given ${wrong}`,
    );
    expect((await refused(store.blob(wrong))).code).toBe("BLOB_UNKNOWN");
    expect((await refused(store.finishUpload(uuid, wrong))).code).toBe("BLOB_UPLOAD_UNKNOWN");

    const other = await store.openUpload();
    expect((await refused(store.finishUpload(other, null))).message).toMatch(/no \?digest=/);
  });

  test("a source that fails midway drops the session and its file", async () => {
    const uuid = await store.openUpload();
    await expect(store.append(uuid, chunks("part", new Error("connection reset")))).rejects.toThrow(
      "connection reset",
    );
    expect(() => store.uploadSize(uuid)).toThrow(RegistryApiError);
    expect(await readdir(join(dir, "layout", ".uploads"))).toEqual([]);
  });

  test("manifests: by tag and by digest, tags move, deletes, missing blobs refused", async () => {
    const missing = await refused(store.putManifest("v1", manifestOf("{}", ["layer"]), OCI_IMAGE_MANIFEST));
    expect(missing).toMatchObject({ status: 400, code: "MANIFEST_BLOB_UNKNOWN" });
    expect(missing.message).toBe(`manifest references ${sha256Digest("{}")}, which was not pushed`);

    await pushBlob("{}");
    await pushBlob("layer");
    await pushBlob("layer2");
    const first = manifestOf("{}", ["layer"]);
    const second = manifestOf("{}", ["layer2"]);
    expect(await store.putManifest("v1", first, OCI_IMAGE_MANIFEST)).toBe(sha256Digest(first));
    await store.putManifest("latest", first, OCI_IMAGE_MANIFEST);
    await store.putManifest("latest", second, OCI_IMAGE_MANIFEST);
    expect(await store.tags()).toEqual(["latest", "v1"]);
    expect((await store.getManifest("latest")).bytes.equals(second)).toBe(true);
    expect((await store.getManifest(sha256Digest(first))).descriptor).toMatchObject({
      digest: sha256Digest(first),
      mediaType: OCI_IMAGE_MANIFEST,
      size: first.length,
    });

    const byWrongDigest = await refused(store.putManifest(sha256Digest("other"), first, OCI_IMAGE_MANIFEST));
    expect(byWrongDigest.code).toBe("DIGEST_INVALID");
    expect((await refused(store.putManifest("v2", Buffer.from("not json"), undefined))).code).toBe(
      "MANIFEST_INVALID",
    );
    expect((await refused(store.getManifest("a__b"))).code).toBe("TAG_INVALID");

    await store.deleteManifest("v1");
    expect(await store.tags()).toEqual(["latest"]);
    const again = await refused(store.deleteManifest("v1"));
    expect(again).toMatchObject({ status: 404, code: "MANIFEST_UNKNOWN" });
    expect(again.message).toBe("manifest os/snow:v1 is not known");
  });

  test("a child of an index has no index.json entry but is found by digest; the index by tag", async () => {
    await pushBlob("{}");
    await pushBlob("layer");
    const child = manifestOf("{}", ["layer"]);
    await store.putManifest(sha256Digest(child), child, OCI_IMAGE_MANIFEST);
    const index = Buffer.from(
      JSON.stringify({
        schemaVersion: 2,
        mediaType: OCI_IMAGE_INDEX,
        manifests: [{ mediaType: OCI_IMAGE_MANIFEST, digest: sha256Digest(child), size: child.length }],
      }),
    );
    await store.putManifest("multi", index, OCI_IMAGE_INDEX);
    // Drop the child's own entry: what a layout written by skopeo looks like.
    await store.deleteManifest(sha256Digest(child));
    expect((await readIndex(store.layout)).manifests.map((m) => m.digest)).toEqual([sha256Digest(index)]);
    expect(await store.findManifest(sha256Digest(child))).toEqual({
      mediaType: OCI_IMAGE_MANIFEST,
      digest: sha256Digest(child),
      size: child.length,
    });
    // A blob that is not a manifest is no manifest.
    expect(await store.findManifest(sha256Digest("layer"))).toBeUndefined();
  });

  test("concurrent tag writes all land in index.json; close removes unfinished uploads only", async () => {
    await pushBlob("{}");
    const manifest = manifestOf("{}", []);
    const tags = Array.from({ length: 10 }, (_, i) => `t${i}`);
    await Promise.all(tags.map((tag) => store.putManifest(tag, manifest, OCI_IMAGE_MANIFEST)));
    const names = (await readIndex(store.layout)).manifests.map((m) => m.annotations?.[ANNOTATION_REF_NAME]);
    expect(names.sort()).toEqual(tags);

    await store.openUpload();
    await store.close();
    await expect(access(join(store.layout, ".uploads"))).rejects.toThrow();
    expect(await store.tags()).toEqual(tags);
  });
});
