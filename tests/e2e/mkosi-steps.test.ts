import { existsSync } from "node:fs";
import { chmod } from "node:fs/promises";
import { mkdir, mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, test } from "vitest";
import { InputError, recordingLogger } from "@frostyard/kit";
import {
  checkPackaging,
  checkProject,
  installStep,
  LocalDirectoryCache,
  newBuildContext,
  prepareStep,
  restoreCacheStep,
  runMkosiBuild,
  saveBuildCache,
  summaryStep,
  type BuildCacheState,
  type BuildContext,
  type MkosiBuildOptions,
  type MkosiImage,
  type PackagingOptions,
  type PlannedBuild,
} from "@frostyard/mkosi";
import { copyTestProject } from "../helpers/mkosi-project";
import {
  ensureToolbox,
  toolboxUnavailable,
  TOOLBOX_BUILD_TIMEOUT_MS,
  type Toolbox,
} from "../helpers/toolbox";
import { missingTools } from "../helpers/tools";

/**
 * The shared build path's steps one at a time, each against the real thing: the trixie toolbox's mkosi 25
 * (found through the injected environment's PATH, never the test process's own), the real filesystem, GNU
 * tar + zstd for the cache. `mkosi build` itself is exercised end to end by build-mkosi-action.test.ts and
 * pipeline.test.ts, which run every step in order.
 */
const skip = toolboxUnavailable() || missingTools("tar", "zstd");
const EPOCH = 1735689600;

const baseOptions = (project: string, work: string): MkosiBuildOptions => ({
  directory: project,
  profiles: ["extra"],
  imageVersion: "1.0",
  variables: [],
  args: [],
  sudo: "false",
  mkosi: { kind: "system" },
  cache: true,
  workDirectory: work,
  sourceDateEpoch: EPOCH,
});

describe("checkProject", () => {
  let scratch: string;
  beforeAll(async () => {
    scratch = await mkdtemp(join(tmpdir(), "frostyard-steps-project-"));
    await mkdir(join(scratch, "empty"));
    await mkdir(join(scratch, "project/mkosi.profiles/devel"), { recursive: true });
    await writeFile(join(scratch, "project/mkosi.conf"), "[Output]\nFormat=directory\n");
  });
  afterAll(() => rm(scratch, { recursive: true, force: true }));

  test.each([
    ["a missing directory", "nope", [], /input 'directory': 'nope' .* is not a directory/],
    ["a directory without mkosi.conf", "empty", [], /input 'directory': 'empty' has no mkosi.conf/],
    ["an unknown profile", "project", ["extra"], /input 'profiles': .*extra/],
  ])("refuses %s", async (_what, directory, profiles, message) => {
    await expect(checkProject({ directory, workspace: scratch, profiles })).rejects.toThrow(message);
  });

  test("resolves the project against the workspace", async () => {
    await expect(
      checkProject({ directory: "project", workspace: scratch, profiles: ["devel"] }),
    ).resolves.toBe(join(scratch, "project"));
  });
});

describe("checkPackaging: refused before anything is built", () => {
  const context = { uid: 0, logger: recordingLogger() } as unknown as BuildContext;
  const image = (format: string): MkosiImage =>
    ({ name: "main", format, outputPath: "/out/os", files: [] }) as unknown as MkosiImage;
  const plan = (format: string) => ({ main: image(format), sudo: false }) as unknown as PlannedBuild;
  const packaging = (over: Partial<PackagingOptions> = {}): PackagingOptions => ({
    package: true,
    labels: new Map(),
    annotations: new Map(),
    bootable: true,
    maxLayers: 64,
    compression: "gzip",
    ...over,
  });

  test("a Format=oci project refuses the packaging inputs it would ignore, naming them", async () => {
    await expect(
      checkPackaging(
        context,
        plan("oci"),
        packaging({ labels: new Map([["a", "b"]]), explicitPackagingInputs: ["compression"] }),
      ),
    ).rejects.toThrow(/input 'labels, compression': are set, but the project builds Format=oci/);
    await expect(checkPackaging(context, plan("oci"), packaging())).resolves.toBeUndefined();
  });

  test("a format that is neither a tree nor a layout cannot be packaged", async () => {
    await expect(checkPackaging(context, plan("disk"), packaging())).rejects.toThrow(
      /Format=disk is neither a directory tree nor an OCI layout/,
    );
    await expect(
      checkPackaging(context, plan("disk"), packaging({ package: false })),
    ).resolves.toBeUndefined();
  });
});

describe.skipIf(skip)("build steps with mkosi 25 from the toolbox", () => {
  let toolbox: Toolbox;
  let scratch: string;
  let project: string;
  let env: Record<string, string | undefined>;

  beforeAll(async () => {
    toolbox = await ensureToolbox();
    scratch = await mkdtemp(join(tmpdir(), "frostyard-steps-"));
    project = await copyTestProject(scratch);
    // The injected environment is the only place the toolbox's mkosi is found: the steps must not read
    // process.env behind it.
    env = { ...process.env, PATH: toolbox.env.PATH, FROSTYARD_TOOLBOX_BINDS: scratch };
  }, TOOLBOX_BUILD_TIMEOUT_MS);
  afterAll(async () => {
    if (scratch) await rm(scratch, { recursive: true, force: true });
  });

  const context = (
    over: Partial<MkosiBuildOptions> = {},
    deps: Partial<Parameters<typeof newBuildContext>[1]> = {},
  ) =>
    newBuildContext(
      { ...baseOptions(project, join(scratch, "work")), ...over },
      { logger: recordingLogger(), cache: new LocalDirectoryCache(join(scratch, "store")), env, ...deps },
    );

  test("install: mkosi-ref system is the mkosi on the injected PATH, its version in the report", async () => {
    const ctx = context();
    const { command } = await installStep(ctx);
    expect(command).toBe(join(toolbox.binDir, "mkosi"));
    expect(ctx.report.mkosiVersion).toMatch(/^2[5-9]\.|^[3-9]\d\./);
    expect(ctx.report.timings.entries.map((e) => e.name)).toEqual(["install mkosi"]);
  });

  test("install: an injected PATH without mkosi is refused, naming mkosi-ref", async () => {
    const ctx = context({}, { env: { ...env, PATH: "/nonexistent" } });
    const error = await installStep(ctx).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(InputError);
    expect((error as Error).message).toMatch(/input 'mkosi-ref': is 'system' but mkosi is not on PATH/);
  });

  test("prepare: work directories made, SOURCE_DATE_EPOCH given or from the environment, runner env", async () => {
    const given = context();
    const prepared = await prepareStep(given, project, { command: "/x/mkosi" });
    expect(prepared.epoch).toBe(EPOCH);
    expect(prepared.sudo).toBe(false);
    expect(prepared.workRoot).toBe(join(scratch, "work"));
    for (const sub of ["workspace", "tmp", "output"])
      expect(existsSync(join(scratch, "work", sub))).toBe(true);
    expect(prepared.runner.extraEnv).toEqual({
      SOURCE_DATE_EPOCH: String(EPOCH),
      TMPDIR: join(scratch, "work/tmp"),
    });
    expect(prepared.runner.env).toBe(given.env);
    expect(given.report.workVolume).toBe(join(scratch, "work"));
    expect(given.report.freeBefore).toBeGreaterThan(0);

    const fromEnv = context(
      { sourceDateEpoch: undefined },
      { env: { ...env, SOURCE_DATE_EPOCH: "1700000000" } },
    );
    expect((await prepareStep(fromEnv, project, { command: "/x/mkosi" })).epoch).toBe(1700000000);
  });

  test("prepare: sudo auto follows the injected uid and the injected PATH", async () => {
    await writeFile(join(scratch, "sudo"), "#!/bin/sh\nexit 0\n", { mode: 0o755 });
    const asUser = context({ sudo: "auto" }, { uid: 1000, env: { ...env, PATH: `${scratch}:${env.PATH}` } });
    expect((await prepareStep(asUser, project, { command: "/x/mkosi" })).sudo).toBe(true);
    const asRoot = context({ sudo: "auto" }, { uid: 0, env: { ...env, PATH: `${scratch}:${env.PATH}` } });
    expect((await prepareStep(asRoot, project, { command: "/x/mkosi" })).sudo).toBe(false);
  });

  test("summary, then restore cache: a miss keeps the state for the post step, a saved entry is a hit", async () => {
    const states: BuildCacheState[] = [];
    const ctx = context({}, { onCacheState: (state) => states.push(state) });
    const { command } = await installStep(ctx);
    const prepared = await prepareStep(ctx, project, { command });
    const plan = await summaryStep(ctx, prepared);
    expect(plan.main).toMatchObject({ name: "main", format: "directory", imageId: "frostyard-test" });
    expect(plan.main.outputPath).toBe(join(scratch, "work/output/frostyard-test_1.0"));
    expect(plan.cacheDirectory).toBe(join(scratch, "work/cache"));
    expect(plan.mkosiOptions).toMatchObject({
      profiles: ["extra"],
      imageVersion: "1.0",
      cacheDirectory: plan.cacheDirectory,
    });
    expect(ctx.report.images).toEqual(plan.images);

    await restoreCacheStep(ctx, plan);
    expect(ctx.report.cache.outcome).toBe("miss");
    expect(states).toHaveLength(1);
    expect(states[0]).toMatchObject({ cacheDirectory: plan.cacheDirectory, sudo: false });
    expect(states[0]!.key).toBe(ctx.report.cache.key);

    // What the post step saves after the build, then what the next run restores.
    await mkdir(join(plan.cacheDirectory, "debian~trixie~x86-64.cache"), { recursive: true });
    await writeFile(join(plan.cacheDirectory, "debian~trixie~x86-64.cache/marker"), "incremental tree");
    const store = new LocalDirectoryCache(join(scratch, "store"));
    expect(await saveBuildCache(states[0]!, { logger: recordingLogger(), cache: store })).toBe("saved");
    await rm(plan.cacheDirectory, { recursive: true, force: true });
    await mkdir(plan.cacheDirectory);

    const next = context({}, { onCacheState: (state) => states.push(state) });
    await installStep(next); // the key holds mkosi's version, as the install step reports it
    await restoreCacheStep(next, plan);
    expect(next.report.cache).toMatchObject({
      outcome: "hit",
      key: states[0]!.key,
      restoredKey: states[0]!.key,
    });
    expect(await readFile(join(plan.cacheDirectory, "debian~trixie~x86-64.cache/marker"), "utf8")).toBe(
      "incremental tree",
    );
    expect(states.at(-1)).toMatchObject({ restored: states[0]!.key });
    // The post step of an exact hit saves nothing (and unmounts the tmpfs an exact hit may be unpacked into).
    expect(await saveBuildCache(states.at(-1)!, { logger: recordingLogger(), cache: store })).toBe("hit");
  });

  /**
   * A wrapper named mkosi in front of the toolbox's real one, to see in what order runMkosiBuild calls it:
   * `--version` waits (up to 20 s) for the summary to have started and notes whether it had; `version`
   * replaces what --version prints. mkosi itself is the real one.
   */
  const wrappedMkosi = async (name: string, version?: string) => {
    const dir = join(scratch, name);
    await mkdir(dir, { recursive: true });
    const versionLine = version
      ? `echo "mkosi ${version}"; exit 0`
      : `exec "${join(toolbox.binDir, "mkosi")}" "$@"`;
    await writeFile(
      join(dir, "mkosi"),
      `#!/bin/bash
if [ "$1" = --version ]; then
  for _ in $(seq 200); do [ -e "${dir}/summary-started" ] && break; sleep 0.1; done
  [ -e "${dir}/summary-started" ] && touch "${dir}/version-saw-summary"
  ${versionLine}
fi
case " $* " in *" summary"*) touch "${dir}/summary-started" ;; esac
exec "${join(toolbox.binDir, "mkosi")}" "$@"
`,
    );
    await chmod(join(dir, "mkosi"), 0o755);
    return { dir, env: { ...env, PATH: `${dir}:${env.PATH}` } };
  };
  const STOP = "stopped before building";

  test("runMkosiBuild: mkosi --version runs while prepare and summary do, its verdict still in the report", async () => {
    const wrapper = await wrappedMkosi("wrap-concurrent");
    const report = context().report;
    const error = await runMkosiBuild(
      baseOptions(project, join(scratch, "work-concurrent")),
      {
        logger: recordingLogger(),
        cache: new LocalDirectoryCache(join(scratch, "store")),
        env: wrapper.env,
        report,
      },
      {
        beforeBuild: () => {
          throw new Error(STOP);
        },
      },
    ).catch((e: unknown) => e);
    expect((error as Error).message).toBe(STOP);
    expect(existsSync(join(wrapper.dir, "version-saw-summary"))).toBe(true);
    expect(report.mkosiVersion).toMatch(/^2[5-9]\.|^[3-9]\d\./);
    expect(report.images.map((i) => i.name)).toEqual(["main"]);
  });

  test("runMkosiBuild: a refused mkosi version wins over what the summary beside it did", async () => {
    const wrapper = await wrappedMkosi("wrap-old", "19.1");
    const report = context().report;
    const error = await runMkosiBuild(
      baseOptions(project, join(scratch, "work-old")),
      {
        logger: recordingLogger(),
        cache: new LocalDirectoryCache(join(scratch, "store")),
        env: wrapper.env,
        report,
      },
      {
        beforeBuild: () => {
          throw new Error(STOP);
        },
      },
    ).catch((e: unknown) => e);
    expect((error as Error).message).toMatch(
      /is version 19\.1, too old: build-mkosi needs mkosi 25 or newer/,
    );
    expect(report.failed).toMatch(/too old/);
    expect(existsSync(join(wrapper.dir, "summary-started"))).toBe(true);
  });

  test("restore cache: cache false restores nothing and times nothing", async () => {
    const ctx = context({ cache: false });
    await restoreCacheStep(ctx, {} as PlannedBuild);
    expect(ctx.report.cache).toEqual({ enabled: false });
    expect(ctx.report.timings.entries).toEqual([]);
  });
});
