import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { expect, test } from "vitest";
import {
  chooseContainerStorage,
  chooseDiskVolume,
  describeVolume,
  ensureDirectory,
  GRAPH_ROOT_ARGV,
  imageBuilderRuns,
  NoWorkVolumeError,
  placeOutputDirectory,
  podmanCall,
  pullArgv,
  rootfulPodman,
  StorageDirectoryError,
  storageArgv,
  volumeState,
  type ContainerStorageRequest,
  type VolumeState,
} from "@frostyard/disk";
import { recordingLogger } from "@frostyard/kit";
import { candidatePaths, probeVolumes } from "@frostyard/mkosi";

const GiB = 2 ** 30;
const vol = (path: string, freeBytes: number, writable = true) => ({ path, freeBytes, writable });

test.each([
  [
    "hosted runner: /mnt has the most room",
    [vol("/home/runner/work/_temp", 20 * GiB), vol("/mnt", 70 * GiB)],
    true,
    "/mnt",
  ],
  [
    "/mnt not writable without sudo",
    [vol("/home/runner/work/_temp", 20 * GiB), vol("/mnt", 70 * GiB, false)],
    false,
    "/home/runner/work/_temp",
  ],
  [
    "/mnt not writable, sudo may create it",
    [vol("/r/_temp", 20 * GiB), vol("/mnt", 70 * GiB, false)],
    true,
    "/mnt",
  ],
  [
    "a tie keeps the earlier candidate",
    [vol("/r/_temp", 20 * GiB), vol("/tmp", 20 * GiB)],
    false,
    "/r/_temp",
  ],
])("disk volume: %s", (_, candidates, canSudo, chosen) => {
  expect(chooseDiskVolume(candidates, canSudo).path).toBe(chosen);
});

test("no volume we may write: a domain error naming the candidates", () => {
  expect(() => chooseDiskVolume([vol("/mnt", GiB, false)], false)).toThrow(NoWorkVolumeError);
  expect(() => chooseDiskVolume([vol("/mnt", GiB, false)], false)).toThrow("no writable volume among /mnt");
});

const root = (freeBytes?: number, device?: number): VolumeState => ({
  path: "/var/lib/containers/storage",
  ...(freeBytes !== undefined ? { freeBytes } : {}),
  ...(device !== undefined ? { device } : {}),
});
const work = (freeBytes?: number, device?: number): VolumeState => ({
  path: "/mnt",
  ...(freeBytes !== undefined ? { freeBytes } : {}),
  ...(device !== undefined ? { device } : {}),
});

test.each<[string, ContainerStorageRequest, VolumeState, VolumeState, string[]]>([
  [
    "auto, hosted runner: / is smaller than /mnt",
    { kind: "auto" },
    root(20 * GiB, 1),
    work(70 * GiB, 2),
    ["--root", "/mnt/containers-storage", "--runroot", "/mnt/containers-storage-run"],
  ],
  ["auto, the graph root has more room", { kind: "auto" }, root(90 * GiB, 1), work(70 * GiB, 2), []],
  ["auto, equal room keeps podman's", { kind: "auto" }, root(70 * GiB, 1), work(70 * GiB, 2), []],
  [
    "auto, same volume (reads differ while anything writes)",
    { kind: "auto" },
    root(10 * GiB, 1),
    work(11 * GiB, 1),
    [],
  ],
  ["auto, graph root unreadable", { kind: "auto" }, root(), work(70 * GiB, 2), []],
  ["default, even with less room", { kind: "default" }, root(1 * GiB, 1), work(70 * GiB, 2), []],
  [
    "a path",
    { kind: "path", path: "/srv/storage" },
    root(90 * GiB, 1),
    work(70 * GiB, 2),
    ["--root", "/srv/storage", "--runroot", "/srv/storage-run"],
  ],
])("container storage: %s", (_, request, graphRoot, workVolume, argv) => {
  const plan = chooseContainerStorage(request, graphRoot, workVolume);
  expect(storageArgv(plan)).toEqual(argv);
  expect(plan.root).toBe(argv[1]);
  expect(plan.reason).not.toBe("");
});

test.each([
  [{ path: "/mnt", freeBytes: 70 * GiB }, "work volume /mnt (70 GiB free)"],
  [{ path: "/mnt" }, "work volume /mnt (? free)"],
])("describeVolume %j", (state, line) => {
  expect(describeVolume("work volume", state)).toBe(line);
});

test("a volume is read at the nearest existing ancestor; a directory under a file cannot be made", async () => {
  const dir = await mkdtemp(join(tmpdir(), "disk-storage-"));
  try {
    const state = await volumeState(join(dir, "not", "yet"));
    expect(state.path).toBe(join(dir, "not", "yet"));
    expect(state.freeBytes).toBeGreaterThan(0);
    expect(state.device).toBe((await volumeState(dir)).device);
    await ensureDirectory(join(dir, "a", "b"), { uid: 0, gid: 0, logger: recordingLogger() });
    expect((await volumeState(join(dir, "a", "b"))).freeBytes).toBeGreaterThan(0);
    await writeFile(join(dir, "file"), "");
    const refused = ensureDirectory(join(dir, "file", "storage"), {
      uid: 0,
      gid: 0,
      logger: recordingLogger(),
    });
    await expect(refused).rejects.toThrow(StorageDirectoryError);
    await expect(refused).rejects.toThrow(`cannot create '${join(dir, "file", "storage")}' (ENOTDIR)`);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});

const SRC = "ghcr.io/acme/os@sha256:" + "a".repeat(64);
const BUILDER = "ghcr.io/osbuild/image-builder-cli@sha256:" + "b".repeat(64);
const OWN = { root: "/mnt/containers-storage", runroot: "/mnt/containers-storage-run", reason: "moved" };
const SUDO = rootfulPodman(1001, {});
const run = imageBuilderRuns({
  builderImage: BUILDER,
  sourceRef: SRC,
  types: ["qcow2"],
  arch: "amd64",
  outputDirectory: "/mnt/disk-output",
  storage: OWN.root,
})[0]!.argv;

test.each([
  [
    "pull, own storage, through sudo",
    SUDO,
    OWN,
    pullArgv(SRC, "amd64"),
    ["-n", "--", "podman", "--root", OWN.root, "--runroot", OWN.runroot, "pull", "--arch", "amd64", SRC],
  ],
  [
    "graph root, own storage, as root",
    { command: "podman", prefix: [] },
    OWN,
    GRAPH_ROOT_ARGV,
    ["--root", OWN.root, "--runroot", OWN.runroot, ...GRAPH_ROOT_ARGV],
  ],
  [
    "pull, podman's storage",
    SUDO,
    { reason: "configured" },
    pullArgv(SRC, "amd64"),
    ["-n", "--", "podman", "pull", "--arch", "amd64", SRC],
  ],
  [
    "the builder's run mounts the storage the pull wrote",
    SUDO,
    OWN,
    run,
    ["-n", "--", "podman", "--root", OWN.root, "--runroot", OWN.runroot, ...run],
  ],
])("podman call: %s", (_, podman, plan, argv, args) => {
  expect(podmanCall(podman, plan, argv)).toEqual({ command: podman.command, args });
});

test("the builder's run mounts the own storage at the builders' storage path", () => {
  expect(run.slice(0, 10)).toContain(`${OWN.root}:/var/lib/containers/storage`);
});

// The automatic half only where every candidate is one volume (this machine): elsewhere it would write to /mnt.
const oneVolume = new Set((await probeVolumes(candidatePaths({}, tmpdir()))).map((c) => c.path)).size <= 1;

test("the output directory: a given one kept, one that cannot be made refused", async () => {
  const dir = await mkdtemp(join(tmpdir(), "disk-place-"));
  const base = {
    env: { RUNNER_TEMP: dir },
    tmp: tmpdir(),
    canSudo: false,
    owner: { uid: 0, gid: 0 },
    logger: recordingLogger(),
  };
  try {
    const given = await placeOutputDirectory({ ...base, given: join(dir, "mine") });
    expect(given.directory).toBe(join(dir, "mine"));
    expect(given.said).toBeUndefined();
    expect((await volumeState(given.directory)).freeBytes).toBeGreaterThan(0);
    await writeFile(join(dir, "file"), "");
    await expect(placeOutputDirectory({ ...base, given: join(dir, "file", "out") })).rejects.toThrow(
      StorageDirectoryError,
    );
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});

test.skipIf(!oneVolume)(
  "the output directory, automatic: disk-output on the first of equal candidates (RUNNER_TEMP), said with its room",
  async () => {
    const dir = await mkdtemp(join(tmpdir(), "disk-place-"));
    try {
      const auto = await placeOutputDirectory({
        env: { RUNNER_TEMP: dir },
        tmp: tmpdir(),
        canSudo: false,
        owner: { uid: 0, gid: 0 },
        logger: recordingLogger(),
      });
      expect(auto.directory).toBe(join(dir, "disk-output"));
      expect(auto.volume?.path).toBe(dir);
      expect(auto.said).toMatch(
        new RegExp(
          `^Output directory ${dir}/disk-output, on the volume with the most free space: ${dir} \\([\\d.]+ [KMGT]?i?B free\\)$`,
        ),
      );
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  },
);
