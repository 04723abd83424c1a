import { randomBytes, randomUUID } from "node:crypto";
import { existsSync } from "node:fs";
import { mkdir, mkdtemp, readFile, rename, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { startBlobStorage, type BlobStorage } from "./azurite";
import { HostedStore, type StoreSnapshot } from "./hosted-store";
import { startResultsService, type ResultsService } from "./results-service";
import { makeRuntimeToken, type RunIds } from "./runtime-token";

/**
 * GitHub's hosted cache and artifact services, served on 127.0.0.1 for a run. On GitHub, a job reaches
 * them through ACTIONS_RESULTS_URL and ACTIONS_RUNTIME_TOKEN; GitHub's own service cannot be reached from
 * our machines (no internet, and it only admits tokens of real jobs), which is why a small results front
 * (results-service.ts, the Twirp RPCs @actions/cache v2 and @actions/artifact call) is served here,
 * handing out signed URLs into a real Azure blob store (azurite).
 */
export interface HostedServices {
  /** What a job's environment gets: ACTIONS_RESULTS_URL, ACTIONS_RUNTIME_TOKEN, ACTIONS_CACHE_SERVICE_V2. */
  env: Record<string, string>;
  /** The run and job the token names. */
  ids: RunIds;
  store: HostedStore;
  results: ResultsService;
  blobs: BlobStorage;
  /** Where blobs (and, with `dir`, the store's state) live. */
  dir: string;
  /** Mints a token for another job or run of these services. */
  token(ids: RunIds): string;
  /** Stops azurite (by its PID) and the front; removes the storage unless it was given as `dir`. */
  stop(): Promise<void>;
}

export interface HostedServicesOptions {
  /** Keep storage here, across starts (a later run restores what an earlier one saved); default: a temp dir. */
  dir?: string;
}

const STATE_FILE = "results-store.json";

export async function startHostedServices(options: HostedServicesOptions = {}): Promise<HostedServices> {
  const dir = options.dir ?? (await mkdtemp(join(tmpdir(), "frostyard-hosted-")));
  const blobDir = join(dir, "blobs");
  await mkdir(blobDir, { recursive: true });
  const stateFile = join(dir, STATE_FILE);
  const snapshot = existsSync(stateFile)
    ? (JSON.parse(await readFile(stateFile, "utf8")) as StoreSnapshot)
    : undefined;
  const store = new HostedStore(snapshot);
  const persist = async () => {
    if (!options.dir) return;
    await writeFile(`${stateFile}.tmp`, JSON.stringify(store.snapshot(), null, 2));
    await rename(`${stateFile}.tmp`, stateFile);
  };

  const blobs = await startBlobStorage(blobDir);
  const secret = randomBytes(32);
  let results: ResultsService;
  try {
    results = await startResultsService({ store, blobs, tokenSecret: secret, onChange: persist });
  } catch (error) {
    await blobs.stop();
    throw error;
  }
  const ids: RunIds = { workflowRunBackendId: randomUUID(), workflowJobRunBackendId: randomUUID() };
  const token = (forIds: RunIds) => makeRuntimeToken(forIds, secret);
  return {
    env: {
      ACTIONS_RESULTS_URL: results.url,
      ACTIONS_RUNTIME_TOKEN: token(ids),
      ACTIONS_CACHE_SERVICE_V2: "True",
    },
    ids,
    store,
    results,
    blobs,
    dir,
    token,
    stop: async () => {
      await results.close();
      await blobs.stop();
      if (!options.dir) await rm(dir, { recursive: true, force: true });
    },
  };
}

/** What the services hold, for the CLI's report after a run. */
export function describeHostedStore(store: HostedStore): string[] {
  const lines: string[] = [];
  for (const entry of store.cacheEntries().filter((e) => e.finalized)) {
    lines.push(`cache ${entry.key} (${entry.sizeBytes ?? 0} bytes)`);
  }
  for (const artifact of store.allArtifacts().filter((a) => a.finalized)) {
    lines.push(
      `artifact ${artifact.name} #${artifact.id} (${artifact.sizeBytes ?? 0} bytes, ${artifact.digest ?? "no digest"})`,
    );
  }
  return lines;
}
