/**
 * What the local results service knows: which cache entries and artifacts exist and which blob holds
 * each. No HTTP here (results-service.ts is the transport) and no bytes (they live in blob storage).
 * The rules are GitHub's as far as its clients can observe them: cache keys are immutable per version,
 * lookups prefer an exact key, then the newest entry whose key starts with the key or a restore key;
 * artifact names are unique within a workflow run and only finalized artifacts are listed.
 */

export interface CacheEntry {
  id: number;
  key: string;
  /** @actions/cache's hash of the paths and compression; a lookup only matches the same version. */
  version: string;
  blob: string;
  createdAt: string;
  /** Set when finalized: the size the blob store reported. */
  sizeBytes?: number;
  finalized: boolean;
}

export interface Artifact {
  id: number;
  workflowRunBackendId: string;
  workflowJobRunBackendId: string;
  name: string;
  mimeType: string;
  blob: string;
  createdAt: string;
  expiresAt?: string;
  sizeBytes?: number;
  /** "sha256:<hex>" as the uploader computed it. */
  digest?: string;
  finalized: boolean;
}

export interface StoreSnapshot {
  nextId: number;
  cache: CacheEntry[];
  artifacts: Artifact[];
}

export class StoreConflict extends Error {
  constructor(message: string) {
    super(message);
    this.name = "StoreConflict";
  }
}

export class StoreNotFound extends Error {
  constructor(message: string) {
    super(message);
    this.name = "StoreNotFound";
  }
}

export class HostedStore {
  private nextId: number;
  private readonly cache: CacheEntry[];
  private readonly artifacts: Artifact[];

  constructor(
    snapshot: StoreSnapshot = { nextId: 1, cache: [], artifacts: [] },
    private readonly now: () => Date = () => new Date(),
  ) {
    this.nextId = snapshot.nextId;
    this.cache = snapshot.cache.map((e) => ({ ...e }));
    this.artifacts = snapshot.artifacts.map((a) => ({ ...a }));
  }

  snapshot(): StoreSnapshot {
    return {
      nextId: this.nextId,
      cache: this.cache.map((e) => ({ ...e })),
      artifacts: this.artifacts.map((a) => ({ ...a })),
    };
  }

  /** Reserves key+version for an upload; a second reservation, finished or not, is a conflict. */
  createCacheEntry(key: string, version: string): CacheEntry {
    if (this.cache.some((e) => e.key === key && e.version === version)) {
      throw new StoreConflict("cache entry with the same key, version, and scope already exists");
    }
    const id = this.nextId++;
    const entry: CacheEntry = {
      id,
      key,
      version,
      blob: `cache/${id}`,
      createdAt: this.now().toISOString(),
      finalized: false,
    };
    this.cache.push(entry);
    return { ...entry };
  }

  /** The reserved, not yet finalized entry of key+version (what an upload may still write). */
  pendingCacheEntry(key: string, version: string): CacheEntry {
    const entry = this.cache.find((e) => e.key === key && e.version === version);
    if (!entry) throw new StoreNotFound(`no cache entry reserved for key ${key}`);
    if (entry.finalized) throw new StoreConflict(`cache entry ${key} is already finalized`);
    return { ...entry };
  }

  finalizeCacheEntry(key: string, version: string, sizeBytes: number): CacheEntry {
    const pending = this.pendingCacheEntry(key, version);
    const entry = this.cache.find((e) => e.id === pending.id)!;
    entry.finalized = true;
    entry.sizeBytes = sizeBytes;
    return { ...entry };
  }

  /** The entry a restore gets: per key in order, an exact match, else the newest with that prefix. */
  findCacheEntry(key: string, restoreKeys: readonly string[], version: string): CacheEntry | undefined {
    const usable = this.cache.filter((e) => e.finalized && e.version === version);
    for (const wanted of [key, ...restoreKeys]) {
      const exact = usable.find((e) => e.key === wanted);
      if (exact) return { ...exact };
      const newest = usable.filter((e) => e.key.startsWith(wanted)).sort((a, b) => b.id - a.id)[0];
      if (newest) return { ...newest };
    }
    return undefined;
  }

  cacheEntries(): CacheEntry[] {
    return this.cache.map((e) => ({ ...e }));
  }

  createArtifact(
    ids: { workflowRunBackendId: string; workflowJobRunBackendId: string },
    name: string,
    mimeType: string,
    expiresAt?: string,
  ): Artifact {
    if (this.artifacts.some((a) => a.workflowRunBackendId === ids.workflowRunBackendId && a.name === name)) {
      throw new StoreConflict(`an artifact with this name already exists on the workflow run: ${name}`);
    }
    const id = this.nextId++;
    const artifact: Artifact = {
      id,
      ...ids,
      name,
      mimeType,
      blob: `artifacts/${id}`,
      createdAt: this.now().toISOString(),
      ...(expiresAt ? { expiresAt } : {}),
      finalized: false,
    };
    this.artifacts.push(artifact);
    return { ...artifact };
  }

  /** The artifact of this run and name; only finalized ones unless `pending`. */
  artifact(workflowRunBackendId: string, name: string, pending = false): Artifact {
    const found = this.artifacts.find(
      (a) => a.workflowRunBackendId === workflowRunBackendId && a.name === name && a.finalized !== pending,
    );
    if (!found) throw new StoreNotFound(`artifact ${name} not found`);
    return { ...found };
  }

  finalizeArtifact(workflowRunBackendId: string, name: string, sizeBytes: number, digest?: string): Artifact {
    const pending = this.artifact(workflowRunBackendId, name, true);
    const artifact = this.artifacts.find((a) => a.id === pending.id)!;
    artifact.finalized = true;
    artifact.sizeBytes = sizeBytes;
    if (digest) artifact.digest = digest;
    return { ...artifact };
  }

  /** Finalized artifacts of a run, oldest first, optionally by name and/or id. */
  listArtifacts(workflowRunBackendId: string, filter: { name?: string; id?: number } = {}): Artifact[] {
    return this.artifacts
      .filter(
        (a) =>
          a.finalized &&
          a.workflowRunBackendId === workflowRunBackendId &&
          (filter.name === undefined || a.name === filter.name) &&
          (filter.id === undefined || a.id === filter.id),
      )
      .map((a) => ({ ...a }));
  }

  allArtifacts(): Artifact[] {
    return this.artifacts.map((a) => ({ ...a }));
  }

  deleteArtifact(workflowRunBackendId: string, name: string): Artifact {
    const found = this.artifact(workflowRunBackendId, name);
    this.artifacts.splice(
      this.artifacts.findIndex((a) => a.id === found.id),
      1,
    );
    return found;
  }
}
