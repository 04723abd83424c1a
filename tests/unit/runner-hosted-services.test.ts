import { expect, test } from "vitest";
import {
  blobSasStringToSign,
  HostedStore,
  makeRuntimeToken,
  sasTime,
  signedBlobUrl,
  StoreConflict,
  StoreNotFound,
  verifyRuntimeToken,
} from "@frostyard/runner";

// The pure parts of the local results service; tests/e2e/hosted-*.test.ts drive it with the real libraries.

const clock = () => {
  let t = Date.parse("2025-01-01T00:00:00Z");
  return () => new Date((t += 1000));
};

/** A store with finalized entries of these keys, in this order (later = newer), all of version "v1". */
function storeWith(...keys: string[]): HostedStore {
  const store = new HostedStore(undefined, clock());
  for (const key of keys) {
    store.createCacheEntry(key, "v1");
    store.finalizeCacheEntry(key, "v1", 10);
  }
  return store;
}

test.each([
  { keys: ["k-1"], key: "k-1", restore: [], version: "v1", found: "k-1" },
  { keys: ["k-1"], key: "k-1", restore: [], version: "v2", found: undefined },
  { keys: ["k-1", "k-2"], key: "k-", restore: [], version: "v1", found: "k-2" },
  { keys: ["k-10", "k-1"], key: "k-1", restore: [], version: "v1", found: "k-1" },
  { keys: ["a-1", "b-1"], key: "c-1", restore: ["b-", "a-"], version: "v1", found: "b-1" },
  { keys: ["a-1", "a-2", "b-1"], key: "c-1", restore: ["a-"], version: "v1", found: "a-2" },
  { keys: ["a-1"], key: "c-1", restore: ["b-"], version: "v1", found: undefined },
])(
  "cache lookup: $keys, key $key, restore $restore, version $version → $found",
  ({ keys, key, restore, version, found }) => {
    expect(storeWith(...keys).findCacheEntry(key, restore, version)?.key).toBe(found);
  },
);

test("cache entries: pending ones are not found; a key+version is reserved once", () => {
  const store = new HostedStore(undefined, clock());
  const entry = store.createCacheEntry("k", "v1");
  expect(entry.blob).toBe(`cache/${entry.id}`);
  expect(store.findCacheEntry("k", [], "v1")).toBeUndefined();
  expect(() => store.createCacheEntry("k", "v1")).toThrow(StoreConflict);
  expect(store.createCacheEntry("k", "v2").key).toBe("k");
  store.finalizeCacheEntry("k", "v1", 42);
  expect(store.findCacheEntry("k", [], "v1")).toMatchObject({ sizeBytes: 42, finalized: true });
  expect(() => store.finalizeCacheEntry("k", "v1", 42)).toThrow(/already finalized/);
  expect(() => store.finalizeCacheEntry("other", "v1", 1)).toThrow(StoreNotFound);
});

test("artifacts: unique per run, listed once finalized, scoped to their run, survive a snapshot", () => {
  const store = new HostedStore(undefined, clock());
  const run = { workflowRunBackendId: "run-1", workflowJobRunBackendId: "job-1" };
  const created = store.createArtifact(run, "images", "application/zip");
  expect(store.listArtifacts("run-1")).toEqual([]);
  store.finalizeArtifact("run-1", "images", 100, "sha256:ab");
  expect(() => store.createArtifact({ ...run, workflowJobRunBackendId: "job-2" }, "images", "x")).toThrow(
    /already exists on the workflow run: images/,
  );
  expect(store.createArtifact({ ...run, workflowRunBackendId: "run-2" }, "images", "x").name).toBe("images");
  const copy = new HostedStore(JSON.parse(JSON.stringify(store.snapshot())));
  expect(copy.listArtifacts("run-1", { id: created.id })).toEqual([
    expect.objectContaining({ name: "images", sizeBytes: 100, digest: "sha256:ab" }),
  ]);
  expect(copy.listArtifacts("run-1", { name: "other" })).toEqual([]);
  expect(copy.listArtifacts("run-2")).toEqual([]);
  expect(copy.deleteArtifact("run-1", "images").id).toBe(created.id);
  expect(() => copy.deleteArtifact("run-1", "images")).toThrow(StoreNotFound);
  expect(copy.createCacheEntry("k", "v").id).toBeGreaterThan(created.id);
});

test.each([
  { date: "2025-03-04T05:06:07.890Z", text: "2025-03-04T05:06:07Z" },
  { date: "2025-12-31T23:59:59.000Z", text: "2025-12-31T23:59:59Z" },
])("sasTime($date) = $text", ({ date, text }) => {
  expect(sasTime(new Date(date))).toBe(text);
});

const account = {
  endpoint: "http://127.0.0.1:10000",
  name: "acct",
  key: Buffer.alloc(64, 7).toString("base64"),
};

test("a blob SAS signs Azure's 16 service-SAS fields and carries them in the URL", () => {
  const options = {
    container: "actions-results",
    blob: "artifacts/7",
    permissions: "r",
    expiresOn: new Date("2025-01-01T01:00:00.5Z"),
    contentDisposition: 'attachment; filename="a b.zip"',
  };
  expect(blobSasStringToSign(account, options).split("\n")).toEqual([
    "r",
    "",
    "2025-01-01T01:00:00Z",
    "/blob/acct/actions-results/artifacts/7",
    "",
    "",
    "",
    "2022-11-02",
    "b",
    "",
    "",
    "",
    'attachment; filename="a b.zip"',
    "",
    "",
    "",
  ]);
  const url = new URL(signedBlobUrl(account, options));
  expect(url.pathname).toBe("/acct/actions-results/artifacts/7");
  expect(Object.fromEntries(url.searchParams)).toMatchObject({
    sv: "2022-11-02",
    se: "2025-01-01T01:00:00Z",
    sr: "b",
    sp: "r",
    rscd: 'attachment; filename="a b.zip"',
  });
  // Spaces percent-encoded, never '+', which not every server reads as a space.
  expect(url.search).not.toContain("+");
});

test("runtime token: carries the run and job in scp, and only its signer accepts it", () => {
  const secret = Buffer.alloc(32, 1);
  const ids = { workflowRunBackendId: "run-uuid", workflowJobRunBackendId: "job-uuid" };
  const now = new Date("2025-01-01T00:00:00Z");
  const token = makeRuntimeToken(ids, secret, now);
  const claims = JSON.parse(Buffer.from(token.split(".")[1] ?? "", "base64url").toString()) as {
    scp: string;
  };
  expect(claims.scp.split(" ")).toContain("Actions.Results:run-uuid:job-uuid");
  expect(verifyRuntimeToken(token, secret, now)).toEqual(ids);
  expect(() => verifyRuntimeToken(token, Buffer.alloc(32, 2), now)).toThrow(
    "runtime token has a bad signature",
  );
  expect(() => verifyRuntimeToken(token, secret, new Date("2025-01-02T00:00:00Z"))).toThrow(
    "runtime token has expired",
  );
  expect(() => verifyRuntimeToken("a.b", secret, now)).toThrow("runtime token is not a JWT");
});
