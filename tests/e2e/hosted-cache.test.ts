import { createHash, randomBytes } from "node:crypto";
import { existsSync } from "node:fs";
import { mkdir, mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, test } from "vitest";
import { GitHubActionsCache, selectBuildCache } from "../../packages/actions/src/build-mkosi/cache-store";
import {
  hostedServicesUnavailable,
  startTestHostedServices,
  useHostedEnv,
  type HostedServices,
} from "../helpers/hosted-services";
import { copyTestProject } from "../helpers/mkosi-project";
import { runBuiltAction, type ActionRun } from "../helpers/run-action";
import {
  ensureToolbox,
  toolboxUnavailable,
  TOOLBOX_BUILD_TIMEOUT_MS,
  type Toolbox,
} from "../helpers/toolbox";
import { missingTools } from "../helpers/tools";

/**
 * build-mkosi's cache on the path a GitHub-hosted runner takes: ACTIONS_RESULTS_URL set, so the action
 * stores mkosi's cache through @actions/cache (cache service v2) instead of a local directory. GitHub's
 * results service cannot be reached from here, so tests/helpers/hosted-services.ts serves its Twirp front
 * and real Azure blob storage (azurite) on 127.0.0.1; @actions/cache, tar and zstd are the real ones.
 * First the store itself with real bytes, then the bundled action through the local runner, twice.
 */

const sha256 = (data: Buffer) => createHash("sha256").update(data).digest("hex");
const zstdMagic = "28b52ffd";

describe.skipIf(hostedServicesUnavailable() || missingTools("tar", "zstd"))(
  "build-mkosi's cache store through @actions/cache against the hosted cache service",
  () => {
    let services: HostedServices;
    let scratch: string;
    let restoreEnv: () => void;
    const bytes = randomBytes(5 * 1024 * 1024 + 3);

    beforeAll(async () => {
      services = await startTestHostedServices();
      scratch = await mkdtemp(join(tmpdir(), "frostyard-hosted-cache-"));
      await mkdir(join(scratch, "runner-temp"));
      restoreEnv = useHostedEnv(services, {
        GITHUB_WORKSPACE: join(scratch, "workspace"),
        RUNNER_TEMP: join(scratch, "runner-temp"),
      });
    });

    afterAll(async () => {
      restoreEnv?.();
      await services?.stop();
      if (scratch) await rm(scratch, { recursive: true, force: true });
    });

    test("ACTIONS_RESULTS_URL selects @actions/cache; without it the local directory", () => {
      expect(selectBuildCache(process.env)).toBeInstanceOf(GitHubActionsCache);
      const { ACTIONS_RESULTS_URL: _, ...without } = process.env;
      expect(selectBuildCache({ ...without, FROSTYARD_BUILD_CACHE: scratch }).description).toBe(
        `local directory ${scratch}`,
      );
    });

    test("saved in one work directory, restored into another: same bytes, through blob storage", async () => {
      const cache = new GitHubActionsCache();
      const saved = join(scratch, "work-a/mkosi-cache.tar.zst");
      await mkdir(join(scratch, "work-a"));
      await writeFile(saved, bytes);
      await cache.save("mkosi-25.3-test-key-1", [saved]);

      const [entry] = services.store.cacheEntries();
      expect(entry).toMatchObject({ key: "mkosi-25.3-test-key-1", finalized: true });
      // In azurite: @actions/cache's zstd tarball of the file, its size as the service recorded it.
      const blob = Buffer.from(
        await (await fetch(services.blobs.signedUrl(entry?.blob ?? "", "r"))).arrayBuffer(),
      );
      expect(blob.subarray(0, 4).toString("hex")).toBe(zstdMagic);
      expect(entry?.sizeBytes).toBe(blob.length);
      expect(blob.length).toBeGreaterThan(bytes.length);

      // A run whose work directory is elsewhere still finds it (the version does not hash the directory).
      const restored = join(scratch, "work-b/mkosi-cache.tar.zst");
      expect(await cache.restore("mkosi-25.3-test-key-1", [], [restored])).toBe("mkosi-25.3-test-key-1");
      expect(sha256(await readFile(restored))).toBe(sha256(bytes));
      expect(process.cwd()).not.toBe(join(scratch, "work-b"));
      expect(process.env.GITHUB_WORKSPACE).toBe(join(scratch, "workspace"));
    });

    test("a restore key finds the newest entry with that prefix; an unknown key misses", async () => {
      const cache = new GitHubActionsCache();
      const second = join(scratch, "work-c/mkosi-cache.tar.zst");
      await mkdir(join(scratch, "work-c"));
      await writeFile(second, Buffer.from("newer cache"));
      await cache.save("mkosi-25.3-test-key-2", [second]);
      const target = join(scratch, "work-d/mkosi-cache.tar.zst");
      expect(await cache.restore("mkosi-25.3-test-key-3", ["mkosi-25.3-test-"], [target])).toBe(
        "mkosi-25.3-test-key-2",
      );
      expect(await readFile(target, "utf8")).toBe("newer cache");
      expect(await cache.restore("mkosi-26-other", ["mkosi-26-"], [join(scratch, "work-e/x.tar.zst")])).toBe(
        undefined,
      );
      // Another file name is another version: no match even for the same key.
      expect(await cache.restore("mkosi-25.3-test-key-2", [], [join(scratch, "work-e/other.tar.zst")])).toBe(
        undefined,
      );
    });

    test("a key saved before is kept as it is (the service refuses it with 409), and that is no error", async () => {
      const cache = new GitHubActionsCache();
      const again = join(scratch, "work-f/mkosi-cache.tar.zst");
      await mkdir(join(scratch, "work-f"));
      await writeFile(again, Buffer.from("not the first save"));
      await cache.save("mkosi-25.3-test-key-1", [again]);
      expect(services.results.requests.filter((r) => r.status === 409).map((r) => r.method)).toEqual([
        "github.actions.results.api.v1.CacheService/CreateCacheEntry",
      ]);
      const restored = join(scratch, "work-g/mkosi-cache.tar.zst");
      await cache.restore("mkosi-25.3-test-key-1", [], [restored]);
      expect(sha256(await readFile(restored))).toBe(sha256(bytes));
    });

    test("a save the service never got is an error, not a silent success", async () => {
      const cache = new GitHubActionsCache();
      const file = join(scratch, "work-h/mkosi-cache.tar.zst");
      await mkdir(join(scratch, "work-h"));
      await writeFile(file, Buffer.from("lost"));
      const restore = useHostedEnv(services, { ACTIONS_RESULTS_URL: "http://127.0.0.1:1/" });
      try {
        await expect(cache.save("mkosi-25.3-test-key-9", [file])).rejects.toThrow(
          "the GitHub Actions cache did not store mkosi-25.3-test-key-9",
        );
      } finally {
        restore();
      }
      expect(services.store.cacheEntries().map((e) => e.key)).not.toContain("mkosi-25.3-test-key-9");
    });
  },
);

const CACHE_KEY = /mkosi-\d+(\.\d+)*-debian-trixie-x86-64-w\d{4}W\d{2}-extra-[0-9a-f]{16}/;

describe.skipIf(toolboxUnavailable() || hostedServicesUnavailable() || missingTools("tar", "zstd"))(
  "actions/build-mkosi through the local runner with the hosted cache service",
  () => {
    let toolbox: Toolbox;
    let services: HostedServices;
    let scratch: string;
    let project: string;
    let cold: ActionRun;

    const action = (work: string, version: string) =>
      runBuiltAction("build-mkosi", {
        workdir: scratch,
        env: { ...toolbox.env, FROSTYARD_TOOLBOX_BINDS: scratch, ...services.env },
        inputs: {
          directory: project,
          profiles: "extra",
          "mkosi-ref": "system",
          "work-directory": join(scratch, work),
          "source-date-epoch": "1735689600",
          "image-version": version,
        },
        timeoutMs: 600_000,
      });

    beforeAll(async () => {
      toolbox = await ensureToolbox();
      services = await startTestHostedServices();
      scratch = await mkdtemp(join(tmpdir(), "frostyard-hosted-mkosi-"));
      project = await copyTestProject(scratch);
      cold = await action("work-cold", "1.0");
    }, TOOLBOX_BUILD_TIMEOUT_MS + 600_000);

    afterAll(async () => {
      await services?.stop();
      if (scratch) await rm(scratch, { recursive: true, force: true });
    });

    test("cold run: a miss, then the post step saves the cache through the service and reports its size", () => {
      expect(cold.annotations.filter((a) => a.level !== "notice")).toEqual([]);
      expect(cold.failed).toBe(false);
      const key = CACHE_KEY.exec(cold.summary)?.[0] ?? "";
      expect(key).not.toBe("");
      expect(cold.summary).toContain(`| cache | miss \`${key}\``);
      expect(cold.log.join("\n")).toContain("(GitHub Actions cache)");
      const saved = new RegExp(
        `\\*\\*Cache saved\\*\\* \\(post step\\): \`${key}\`, ([\\d.]+) (MiB|GiB)`,
      ).exec(cold.summary);
      expect(saved).not.toBeNull();
      const reported = Number(saved?.[1]) * 2 ** (saved?.[2] === "GiB" ? 30 : 20);
      // The service holds the entry; its blob is @actions/cache's tarball of the archive the summary sized
      // (already zstd, so within a few percent of it).
      const entries = services.store.cacheEntries();
      expect(entries.map((e) => [e.key, e.finalized])).toEqual([[key, true]]);
      const stored = entries[0]?.sizeBytes ?? 0;
      expect(stored / reported).toBeGreaterThan(0.9);
      expect(stored / reported).toBeLessThan(1.1);
      expect(existsSync(join(scratch, "work-cold/mkosi-cache.tar.zst"))).toBe(false);
    });

    test("warm run in another work directory: an exact hit restored from the service, nothing saved again", async () => {
      const warm = await action("work-warm", "2.0");
      expect(warm.annotations.filter((a) => a.level !== "notice")).toEqual([]);
      expect(warm.failed).toBe(false);
      const key = CACHE_KEY.exec(cold.summary)?.[0] ?? "";
      expect(warm.summary).toContain(`| cache | hit \`${key}\``);
      expect(warm.outputs.cache).toBe("hit");
      expect(warm.log.join("\n")).toContain("Copying cached trees");
      expect(warm.log.join("\n")).not.toContain("Setting up passwd");
      expect(warm.summary).toContain(
        `**Cache** (post step): \`${key}\` was restored exactly; nothing to save`,
      );
      expect(services.store.cacheEntries()).toHaveLength(1);
      const methods = services.results.requests.map((r) => `${r.method.split("/")[1]} ${r.status}`);
      expect(methods).toEqual([
        "GetCacheEntryDownloadURL 200",
        "CreateCacheEntry 200",
        "FinalizeCacheEntryUpload 200",
        "GetCacheEntryDownloadURL 200",
      ]);
    }, 300_000);
  },
);
