import { execFile } from "node:child_process";
import { createHash } from "node:crypto";
import { existsSync } from "node:fs";
import { copyFile, mkdir, mkdtemp, readdir, readFile, rm, symlink } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { promisify } from "node:util";
import { afterAll, beforeAll, describe, expect, test } from "vitest";
import { generateCosignKeyPair, keySigner, signImages, type CosignKeyPair } from "@frostyard/cosign";
import { buildWithContainer } from "@frostyard/disk";
import { formatBytes, recordingLogger } from "@frostyard/kit";
import { CredentialStore, RegistryClient } from "@frostyard/oci";
import { containersConfig, type ContainersConfig } from "../helpers/containers";
import { BUSYBOX, pushTestImage } from "../helpers/images";
import { startRegistry, type TestRegistry } from "../helpers/registry";
import { hostedServicesUnavailable } from "../helpers/hosted-services";
import { ensureBuilt, repoRoot, runBuiltAction, type ActionRun } from "../helpers/run-action";
import { missingTools } from "../helpers/tools";
import { BAD_INPUTS } from "../fixtures/disk-builder/bad-inputs";

/**
 * disk-image's builder path for real: the action (its dist bundle, through the local runner) resolves and
 * verifies the source image in a real registry, pulls it by digest with real podman into the storage podman
 * is configured with, and runs the builder image `--privileged` with that storage mounted.
 *
 * The builder image is a stand-in: image-builder and bootc-image-builder cannot be pulled here (no registry
 * but our loopback one) and neither is packaged for Debian. The stand-in is a real image, built below from
 * busybox-static with buildah and pushed to the test registry, whose entrypoint
 * (tests/fixtures/disk-builder/builder-stand-in.sh) takes each CLI's documented arguments, refuses unknown
 * types and flags, fails when the source is not in the mounted storage, records its argv, environment,
 * mounts and capabilities, and writes the files where each builder lays them out (disks qemu-img made here).
 */

const exec = promisify(execFile);
// Each run may rebuild dist/disk-image first (tests/helpers/run-action.ts) and pulls through real podman.
const RUN_TIMEOUT = 240_000;
const skip = missingTools(
  "podman",
  "buildah",
  "runc",
  "skopeo",
  "tar",
  "qemu-img",
  "docker-registry",
  BUSYBOX,
);
const STAND_IN = join(repoRoot, "tests/fixtures/disk-builder/builder-stand-in.sh");
const BIB_PATHS = join(repoRoot, "tests/fixtures/shared/bib/action-readme-output-paths.example.json");
const USER_TOML = join(repoRoot, "tests/fixtures/shared/bib/readme-config-user.toml");
const USER_JSON = join(repoRoot, "tests/fixtures/shared/bib/readme-config-user.json");
const BUILDERS = ["image-builder", "bootc-image-builder"] as const;

interface StandInRun {
  argv: string[];
  env: Record<string, string>;
  mounts: string[];
  caps: Record<string, string>;
  /** Set when the stand-in found the source in the mounted storage. */
  source?: string;
  config?: string;
  /** What the builder uploaded to AWS (an ami with the three flags and credentials). */
  upload?: string;
}

async function readText(path: string): Promise<string | undefined> {
  return existsSync(path) ? readFile(path, "utf8") : undefined;
}

/** Every run the stand-in recorded under an output directory, in the order they happened. */
async function standInRuns(outputDirectory: string): Promise<StandInRun[]> {
  const dir = join(outputDirectory, "stand-in");
  if (!existsSync(dir)) return [];
  const names = (await readdir(dir)).sort((a, b) => Number(a.slice(4)) - Number(b.slice(4)));
  const runs: StandInRun[] = [];
  for (const name of names) {
    const at = (file: string) => readText(join(dir, name, file));
    const pairs = (text = "", sep: string | RegExp) =>
      Object.fromEntries(
        text
          .split("\n")
          .filter(Boolean)
          .map((line) => {
            const i = line.search(sep);
            return [line.slice(0, i), line.slice(i + 1).trim()];
          }),
      );
    const source = await at("source");
    const config = await at("config");
    const upload = await at("upload");
    runs.push({
      argv: ((await at("argv")) ?? "").split("\n").slice(0, -1),
      env: pairs(await at("env"), /=/),
      mounts: ((await at("mounts")) ?? "").split("\n").filter(Boolean),
      caps: pairs(await at("caps"), /:/),
      ...(source ? { source: source.trim() } : {}),
      ...(config ? { config } : {}),
      ...(upload ? { upload: upload.trim() } : {}),
    });
  }
  return runs;
}

/** The mount point and options of each mountinfo line. */
const mountPoints = (run: StandInRun) =>
  Object.fromEntries(run.mounts.map((line) => [line.split(" ")[4], line.split(" ")[5]?.split(",")[0]]));

const sha256Of = async (path: string) =>
  createHash("sha256")
    .update(await readFile(path))
    .digest("hex");

describe.skipIf(skip)("disk-image builders: real podman, a stand-in builder image", () => {
  let registry: TestRegistry;
  let containers: ContainersConfig;
  let scratch: string;
  let env: Record<string, string>;
  let ours: CosignKeyPair;
  let other: CosignKeyPair;
  let graphRoot: string;
  const builderImage = {} as Record<(typeof BUILDERS)[number], string>;
  const source = { signed: "", unsigned: "", foreign: "", signedTag: "" };

  async function tool(command: string, ...args: string[]): Promise<string> {
    const { stdout } = await exec(command, args, { env: { ...process.env, ...env } });
    return stdout.trim();
  }

  /** The stand-in builder image: busybox-static, the script as its entrypoint, the disks it copies. */
  async function buildStandIn(builder: (typeof BUILDERS)[number], disks: string): Promise<string> {
    const root = join(scratch, `root-${builder}`);
    await mkdir(join(root, "bin"), { recursive: true });
    await mkdir(join(root, "usr/bin"), { recursive: true });
    await mkdir(join(root, "usr/share/stand-in"), { recursive: true });
    await copyFile(BUSYBOX, join(root, "bin/busybox"));
    const applets = (await exec(BUSYBOX, ["--list"])).stdout.split("\n").filter((a) => a && a !== "busybox");
    for (const applet of applets) await symlink("busybox", join(root, "bin", applet));
    await copyFile(STAND_IN, join(root, "usr/bin/stand-in"));
    for (const ext of ["raw", "qcow2", "vmdk", "vhd"])
      await copyFile(join(disks, `disk.${ext}`), join(root, "usr/share/stand-in", `disk.${ext}`));
    const tarball = join(scratch, `${builder}.tar`);
    await exec("tar", ["--create", "--file", tarball, "--numeric-owner", "-C", root, "."]);
    const local = `localhost/stand-in-${builder}:test`;
    const container = await tool("buildah", "from", "scratch");
    await tool("buildah", "add", container, tarball, "/");
    await tool(
      "buildah",
      "config",
      "--entrypoint",
      '["/usr/bin/stand-in"]',
      "--env",
      `STAND_IN_BUILDER=${builder}`,
      "--env",
      "PATH=/bin",
      container,
    );
    await tool("buildah", "commit", "--quiet", container, local);
    await tool("buildah", "rm", container);
    const repository = `${registry.host}/stand-in/${builder}`;
    const digestFile = join(scratch, `${builder}.digest`);
    await tool(
      "buildah",
      "push",
      "--quiet",
      "--digestfile",
      digestFile,
      local,
      `docker://${repository}:test`,
    );
    // Gone locally, so the action's `podman run --pull=missing` pulls it from the registry by digest.
    await tool("buildah", "rmi", local);
    return `${repository}@${(await readFile(digestFile, "utf8")).trim()}`;
  }

  beforeAll(async () => {
    [registry, ours, other] = await Promise.all([
      startRegistry(),
      generateCosignKeyPair("ours"),
      generateCosignKeyPair("other"),
    ]);
    containers = await containersConfig({ insecureRegistries: [registry.host] });
    env = containers.env;
    scratch = await mkdtemp(join(tmpdir(), "disk-builder-"));
    graphRoot = join(containers.dir, "storage");

    const disks = join(scratch, "disks");
    await mkdir(disks);
    await exec("qemu-img", ["create", "-q", "-f", "raw", join(disks, "disk.raw"), "8M"]);
    for (const [ext, format] of [
      ["qcow2", "qcow2"],
      ["vmdk", "vmdk"],
      ["vhd", "vpc"],
    ])
      await exec("qemu-img", ["convert", "-O", format!, join(disks, "disk.raw"), join(disks, `disk.${ext}`)]);
    for (const builder of BUILDERS) builderImage[builder] = await buildStandIn(builder, disks);

    const client = new RegistryClient({ credentials: new CredentialStore({ authFiles: [] }) });
    const sign = async (tag: string, pair: CosignKeyPair) => {
      const report = await signImages({
        client,
        images: [`${registry.host}/acme/os:${tag}`],
        signer: keySigner(pair),
        format: "legacy",
        recursive: false,
        annotations: {},
        promoteTags: [],
        logger: recordingLogger(),
      });
      expect(report.verified).toBe(true);
    };
    for (const tag of ["signed", "unsigned", "foreign"] as const) {
      const digest = await pushTestImage(registry.host, `acme/os:${tag}`, { content: `os ${tag}` });
      source[tag] = `${registry.host}/acme/os@${digest}`;
    }
    source.signedTag = `${registry.host}/acme/os:signed`;
    await sign("signed", ours);
    await sign("foreign", other);
  }, 300_000);

  afterAll(async () => {
    await registry?.stop();
    if (scratch) await rm(scratch, { recursive: true, force: true });
    await containers?.cleanup();
  });

  /** Outputs under the workspace, as output-directory names them (empty puts them on RUNNER_TEMP's volume here). */
  async function runDisk(
    inputs: Record<string, string>,
    extraEnv: Record<string, string> = {},
    keepTemp = false,
  ): Promise<{ run: ActionRun; out: string }> {
    const workdir = await mkdtemp(join(scratch, "run-"));
    const run = await runBuiltAction("disk-image", {
      inputs: { upload: "false", "output-directory": "disk-output", ...inputs },
      env: { ...env, ...extraEnv },
      workdir,
      timeoutMs: 240_000,
      keepTemp,
    });
    return { run, out: join(workdir, "disk-output") };
  }

  const errors = (run: ActionRun) => run.annotations.filter((a) => a.level === "error").map((a) => a.message);

  /** The host's own capability sets: a --privileged container gets the same effective set. */
  async function hostCaps(): Promise<Record<string, string>> {
    const status = await readFile("/proc/self/status", "utf8");
    return Object.fromEntries(
      status
        .split("\n")
        .filter((l) => l.startsWith("CapEff"))
        .map((l) => [l.split(":")[0], l.split(":")[1]!.trim()]),
    );
  }

  test(
    "image-builder: one privileged run per type with the exact argv, files where it names them, checksums, outputs",
    async () => {
      const { run, out } = await runDisk({
        builder: "image-builder",
        image: source.signed,
        "public-key": ours.publicKeyPem,
        types: "qcow2, raw, bootc-generic-iso",
        config: await readFile(USER_TOML, "utf8"),
        "target-arch": "x86_64",
        "builder-image": builderImage["image-builder"],
        "build-ref": `${registry.host}/acme/build@sha256:${"b".repeat(64)}`,
        "installer-payload-ref": `${registry.host}/acme/payload@sha256:${"c".repeat(64)}`,
        rootfs: "xfs",
        "builder-args": "--progress\nverbose",
      });
      expect(errors(run)).toEqual([]);
      expect(run.exitCode).toBe(0);

      const runs = await standInRuns(out);
      expect(runs.map((r) => r.argv)).toEqual(
        ["qcow2", "raw", "bootc-generic-iso"].map((type) => [
          ...["build", "--bootc-ref", source.signed],
          ...["--bootc-build-ref", `${registry.host}/acme/build@sha256:${"b".repeat(64)}`],
          ...["--bootc-installer-payload-ref", `${registry.host}/acme/payload@sha256:${"c".repeat(64)}`],
          ...["--bootc-default-fs", "xfs", "--arch", "x86_64", "--blueprint", "/config.toml"],
          ...["--output-dir", `/output/${type}`, "--progress", "verbose", type],
        ]),
      );
      const caps = await hostCaps();
      for (const r of runs) {
        // The source was in the storage the builder got mounted: pulled there by digest before the run.
        expect(r.source).toBe(`found ${source.signed} in /var/lib/containers/storage`);
        expect(mountPoints(r)).toEqual({
          "/output": "rw",
          "/config.toml": "ro",
          "/var/lib/containers/storage": "rw",
        });
        expect(r.caps.CapEff).toBe(caps.CapEff);
        // Nothing of the runner's environment (inputs, tokens) reaches the builder.
        expect(Object.keys(r.env).filter((k) => /^(INPUT_|GITHUB_|ACTIONS_|RUNNER_)/.test(k))).toEqual([]);
        expect(r.env.STAND_IN_BUILDER).toBe("image-builder");
        expect(r.config).toContain("[[customizations.user]]");
      }
      const pull = run.log.findIndex((l) =>
        l.startsWith(`[command]podman pull --arch amd64 ${source.signed}`),
      );
      const firstRun = run.log.findIndex((l) => l.startsWith("[command]podman run --rm --privileged"));
      expect(pull).toBeGreaterThanOrEqual(0);
      expect(firstRun).toBeGreaterThan(pull);
      expect(run.log[firstRun]).toContain(`-v ${graphRoot}:/var/lib/containers/storage`);

      const expected = {
        qcow2: "qcow2/bootc-frostyard-1-qcow2-x86_64.qcow2",
        raw: "raw/bootc-frostyard-1-raw-x86_64.raw",
        "bootc-generic-iso": "bootc-generic-iso/bootc-frostyard-1-bootc-generic-iso-x86_64.iso",
      };
      const artifacts = JSON.parse(run.outputs.artifacts ?? "[]") as Record<string, unknown>[];
      expect(artifacts.map((a) => [a.type, a.path])).toEqual(
        Object.entries(expected).map(([type, rel]) => [type, join(out, rel)]),
      );
      for (const a of artifacts) {
        expect(a.sha256).toBe(await sha256Of(a.path as string));
        expect(a.boot).toBeNull();
        expect(run.outputs[`${a.type as string}-path`]).toBe(a.path);
      }
      expect(artifacts.find((a) => a.type === "qcow2")?.size).toBeGreaterThan(0);
      expect(run.outputs["output-directory"]).toBe(out);
      expect(run.outputs.sha256sums).toBe(join(out, "SHA256SUMS"));
      await exec("sha256sum", ["--check", "--strict", "SHA256SUMS"], { cwd: out });
      expect(
        (await readFile(join(out, "SHA256SUMS"), "utf8"))
          .split("\n")
          .filter(Boolean)
          .map((l) => l.split("  ")[1]),
      ).toEqual(Object.values(expected).sort());
      expect(run.summary).toContain("disk-image: image-builder");
      expect(run.summary).toContain(`| qcow2 | ${join(out, expected.qcow2)} |`);
    },
    RUN_TIMEOUT,
  );

  test(
    "bootc-image-builder: one run for every type, a tag resolved to its digest, files where its README lays them out",
    async () => {
      const configPath = join(scratch, "bib-config.json");
      await copyFile(USER_JSON, configPath);
      const { run, out } = await runDisk({
        builder: "bootc-image-builder",
        image: source.signedTag,
        "public-key": ours.publicKeyPem,
        types: "qcow2\nraw\nvhd\nvmdk\nanaconda-iso",
        config: configPath,
        "target-arch": "amd64",
        "builder-image": builderImage["bootc-image-builder"],
        rootfs: "ext4",
      });
      expect(errors(run)).toEqual([]);
      expect(run.exitCode).toBe(0);
      expect(run.log).toContain(`${source.signedTag} resolved to ${source.signed.split("@")[1]}`);

      const runs = await standInRuns(out);
      expect(runs.map((r) => r.argv)).toEqual([
        [
          ...[
            "--type",
            "qcow2",
            "--type",
            "raw",
            "--type",
            "vhd",
            "--type",
            "vmdk",
            "--type",
            "anaconda-iso",
          ],
          ...["--target-arch", "amd64", "--rootfs", "ext4", "--config", "/config.toml", source.signed],
        ],
      ]);
      expect(runs[0]!.source).toBe(`found ${source.signed} in /var/lib/containers/storage`);
      expect(runs[0]!.config).toContain('name = "alice"');

      // The bootc-image-builder action's own example output paths, relative to its output directory.
      const documented = Object.fromEntries(
        Object.entries(JSON.parse(await readFile(BIB_PATHS, "utf8")) as Record<string, { path: string }>).map(
          ([type, { path }]) => [type, path.slice(path.indexOf("/output/") + "/output/".length)],
        ),
      );
      const artifacts = JSON.parse(run.outputs.artifacts ?? "[]") as { type: string; path: string }[];
      expect(Object.fromEntries(artifacts.map((a) => [a.type, a.path.slice(out.length + 1)]))).toEqual({
        ...documented,
        "anaconda-iso": "bootiso/install.iso",
      });
      await exec("sha256sum", ["--check", "--strict", "SHA256SUMS"], { cwd: out });
      await exec("sha256sum", ["--check", "--strict", "disk.vhd.sha256"], { cwd: join(out, "vpc") });
    },
    RUN_TIMEOUT,
  );

  test.each([
    ["unsigned", () => source.unsigned, "no signature"],
    ["signed with another key", () => source.foreign, "not signed by public-key"],
  ])(
    "an image %s is refused while public-key is given: the builder never runs",
    async (_, image, why) => {
      const { run, out } = await runDisk({
        builder: "image-builder",
        image: image(),
        "public-key": ours.publicKeyPem,
        "builder-image": builderImage["image-builder"],
      });
      expect(run.exitCode).toBe(1);
      const [message] = errors(run);
      expect(message).toContain("input 'image'");
      expect(message).toContain(`${image()} is not signed by public-key`);
      expect(message?.toLowerCase()).toContain(why);
      expect(message).toContain("expected an image cosign-sign signed with the key's private half");
      expect(await standInRuns(out)).toEqual([]);
      expect(run.log.some((l) => l.startsWith("[command]podman"))).toBe(false);
      expect(run.outputs.artifacts).toBe("[]");
    },
    RUN_TIMEOUT,
  );

  test.each(BAD_INPUTS.map((c) => [c.name, c] as const))(
    "%s is refused before anything is pulled, run or written",
    async (_, c) => {
      const { run, out } = await runDisk({
        builder: "image-builder",
        image: source.signed,
        "builder-image": builderImage["image-builder"],
        ...c.inputs,
      });
      expect(run.exitCode).toBe(1);
      const [message] = errors(run);
      expect(message).toContain(`input '${c.input}': ${c.problem}`);
      expect(message?.endsWith(`; expected ${c.accepted}`)).toBe(true);
      expect(run.log.some((l) => l.startsWith("[command]"))).toBe(false);
      expect(existsSync(out)).toBe(false);
    },
    RUN_TIMEOUT,
  );

  test(
    "a source disk that does not exist is refused as source-disk, and the output directory stays empty",
    async () => {
      const { run, out } = await runDisk({ builder: "qemu-img", "source-disk": join(scratch, "nope.raw") });
      expect(run.exitCode).toBe(1);
      expect(errors(run)[0]).toContain(`input 'source-disk': ${join(scratch, "nope.raw")}`);
      expect(errors(run)[0]).toContain("; expected a raw disk image file");
      expect(await readdir(out)).toEqual([]);
      expect(run.outputs.artifacts).toBe("[]");
    },
    RUN_TIMEOUT,
  );

  test(
    "container-storage names a directory: the source and the builder image are pulled into it, every podman call uses it, the builder mounts it",
    async () => {
      const storage = join(scratch, "own-storage");
      const { run, out } = await runDisk({
        builder: "image-builder",
        image: source.signed,
        types: "qcow2",
        "builder-image": builderImage["image-builder"],
        "container-storage": storage,
      });
      expect(errors(run)).toEqual([]);
      expect(run.exitCode).toBe(0);
      const podmanCalls = run.log.filter((l) => l.startsWith("[command]podman "));
      expect(podmanCalls.length).toBeGreaterThanOrEqual(2);
      for (const line of podmanCalls)
        expect(line.startsWith(`[command]podman --root ${storage} --runroot ${storage}-run `)).toBe(true);
      expect(podmanCalls[0]).toBe(
        `[command]podman --root ${storage} --runroot ${storage}-run pull --arch amd64 ${source.signed}`,
      );
      const runLine = podmanCalls.find((l) => l.includes(" run --rm --privileged"));
      expect(runLine).toContain(`-v ${storage}:/var/lib/containers/storage`);
      expect(runLine).not.toContain(`-v ${graphRoot}:`);
      expect(
        run.log.some(
          (l) => l.startsWith(`container storage ${storage} (`) && l.includes("container-storage names it"),
        ),
      ).toBe(true);
      const [only] = await standInRuns(out);
      expect(only?.source).toBe(`found ${source.signed} in /var/lib/containers/storage`);
      expect(mountPoints(only!)["/var/lib/containers/storage"]).toBe("rw");
      // Both images are in that storage: the source by the digest the builder was given, the builder by --pull=missing.
      const inStorage = await tool(
        "podman",
        ...[
          "--root",
          storage,
          "--runroot",
          `${storage}-run`,
          "images",
          "--digests",
          "--format",
          "{{.Repository}}@{{.Digest}}",
        ],
      );
      expect(inStorage.split("\n")).toEqual(
        expect.arrayContaining([source.signed, builderImage["image-builder"]]),
      );
    },
    RUN_TIMEOUT,
  );

  test(
    "a container-storage that cannot be created is refused as that input before anything is pulled",
    async () => {
      await mkdir(join(scratch, "a-file-dir"), { recursive: true });
      const file = join(scratch, "a-file-dir", "plain-file");
      await exec("touch", [file]);
      const { run, out } = await runDisk({
        builder: "image-builder",
        image: source.signed,
        "builder-image": builderImage["image-builder"],
        "container-storage": join(file, "storage"),
      });
      expect(run.exitCode).toBe(1);
      expect(errors(run)[0]).toContain(
        `input 'container-storage': cannot create '${join(file, "storage")}' (ENOTDIR)`,
      );
      expect(errors(run)[0]).toContain("; expected a directory this job may create and write");
      expect(run.log.some((l) => l.startsWith("[command]"))).toBe(false);
      expect(existsSync(out)).toBe(false);
    },
    RUN_TIMEOUT,
  );

  test(
    "output-directory empty: disk-output on the candidate volume with the most free space, said in the log and summary",
    async () => {
      const { run, out } = await runDisk(
        {
          builder: "qemu-img",
          "source-disk": join(scratch, "disks", "disk.raw"),
          types: "qcow2",
          "output-directory": "",
        },
        {},
        true,
      );
      try {
        expect(errors(run)).toEqual([]);
        expect(run.exitCode).toBe(0);
        // Every candidate (RUNNER_TEMP, /mnt, the temp dir, /var/tmp) is one volume here: the first one wins.
        const auto = join(run.tempDir, "temp", "disk-output");
        expect(run.outputs["output-directory"]).toBe(auto);
        expect(existsSync(out)).toBe(false);
        expect(existsSync(join(auto, "disk.qcow2"))).toBe(true);
        const said = new RegExp(
          `^Output directory ${auto}, on the volume with the most free space: ${join(run.tempDir, "temp")} \\([\\d.]+ [KMGT]?i?B free\\)$`,
        );
        expect(run.log.some((l) => said.test(l))).toBe(true);
        expect(run.summary).toContain(`Output directory ${auto}, on the volume with the most free space:`);
      } finally {
        await rm(run.tempDir, { recursive: true, force: true });
      }
    },
    RUN_TIMEOUT,
  );

  test.skipIf(hostedServicesUnavailable())(
    "the CLI runs it with --hosted-services: outputs, summary, and the artifact the artifact service holds",
    async () => {
      const cli = ensureBuilt("cli");
      ensureBuilt("disk-image");
      const workdir = await mkdtemp(join(scratch, "cli-"));
      const inputs = {
        image: source.signed,
        "public-key": ours.publicKeyPem,
        types: "qcow2,vmdk",
        "builder-image": builderImage["image-builder"],
        "artifact-name": "os-disks",
        "output-directory": "disk-output",
      };
      const { stdout, stderr } = await exec(
        process.execPath,
        [
          ...[cli, "run", "disk-image", "--workdir", workdir, "--hosted-services"],
          ...Object.entries(inputs).flatMap(([name, value]) => ["--input", `${name}=${value}`]),
          ...Object.entries(env).flatMap(([name, value]) => ["--env", `${name}=${value}`]),
        ],
        { timeout: RUN_TIMEOUT - 10_000, maxBuffer: 16 * 1024 * 1024 },
      );
      const out = join(workdir, "disk-output");
      expect(stdout).toContain(`  output-directory = ${out}`);
      expect(stdout).toContain(`  qcow2-path = ${join(out, "qcow2/bootc-frostyard-1-qcow2-x86_64.qcow2")}`);
      const artifacts = JSON.parse(/^ {2}artifacts = (.*)$/m.exec(stdout)?.[1] ?? "[]") as { type: string }[];
      expect(artifacts.map((a) => a.type)).toEqual(["qcow2", "vmdk"]);
      expect(stdout).toContain("Job summary:");
      expect(stdout).toContain("disk-image: image-builder");
      expect(stdout).toMatch(/^OK: main exited 0/m);
      // What went up: the whole output directory (disks, .sha256 files, SHA256SUMS, the stand-in's records).
      expect(stderr).toMatch(
        /hosted services hold: \n {2}artifact os-disks #\d+ \(\d+ bytes, sha256:[0-9a-f]{64}\)/,
      );
    },
    RUN_TIMEOUT,
  );

  test.skipIf(hostedServicesUnavailable())(
    "with a tiny artifact-part-size the qcow2 really goes up in parts across artifacts, and the summary says so",
    async () => {
      const cli = ensureBuilt("cli");
      ensureBuilt("disk-image");
      const workdir = await mkdtemp(join(scratch, "cli-split-"));
      const inputs = {
        image: source.signed,
        types: "qcow2",
        "builder-image": builderImage["image-builder"],
        "artifact-name": "split-disks",
        "artifact-part-size": "64K",
        "output-directory": "disk-output",
      };
      const { stdout, stderr } = await exec(
        process.execPath,
        [
          ...[cli, "run", "disk-image", "--workdir", workdir, "--hosted-services"],
          ...Object.entries(inputs).flatMap(([name, value]) => ["--input", `${name}=${value}`]),
          ...Object.entries(env).flatMap(([name, value]) => ["--env", `${name}=${value}`]),
        ],
        { timeout: RUN_TIMEOUT - 10_000, maxBuffer: 16 * 1024 * 1024 },
      );
      expect(stdout).toMatch(/^OK: main exited 0/m);
      const out = join(workdir, "disk-output");
      const qcow2 = join(out, "qcow2/bootc-frostyard-1-qcow2-x86_64.qcow2");
      const { stdout: size } = await exec("stat", ["-c", "%s", qcow2]);
      const parts = Math.ceil(Number(size) / 65536);
      expect(parts).toBeGreaterThan(1);
      const held = [...stderr.matchAll(/^ {2}artifact (split-disks(?:-\d+)?) #\d+/gm)].map((m) => m[1]);
      // Each full part fills an artifact; the last part, the small files and the index go up as the name asked for.
      expect(held.slice(-1)).toEqual(["split-disks"]);
      expect(held.length).toBeGreaterThanOrEqual(parts);
      expect(stdout).toContain(
        `\`qcow2/bootc-frostyard-1-qcow2-x86_64.qcow2\` (${formatBytes(Number(size))}) was split into ${parts} parts`,
      );
      expect(stdout).toContain("run `sh reassemble.sh`");
      // Free space before and after, on the output's volume (summary) and the builders' storage (log).
      expect(stdout).toMatch(
        /Free space: \/\S+\/disk-output: [\d.]+ [KMGT]?i?B free before, [\d.]+ [KMGT]?i?B after\./,
      );
      expect(stdout).toMatch(
        /container storage \/\S+: [\d.]+ [KMGT]?i?B free before, [\d.]+ [KMGT]?i?B after/,
      );
      // The parts were removed once uploaded; the disk itself stays where the outputs point.
      expect((await readdir(join(out, "qcow2"))).sort()).toEqual([
        "bootc-frostyard-1-qcow2-x86_64.qcow2",
        "bootc-frostyard-1-qcow2-x86_64.qcow2.sha256",
      ]);
      expect(await readFile(join(out, "reassemble.sh"), "utf8")).toContain(
        "cat qcow2/bootc-frostyard-1-qcow2-x86_64.qcow2.part-000 ",
      );
    },
    RUN_TIMEOUT,
  );

  // Fake credentials: the stand-in only checks they arrive; the test checks their values never leave.
  const AWS = {
    AWS_ACCESS_KEY_ID: "AKIAFROSTYARDTEST000",
    AWS_SECRET_ACCESS_KEY: "fRoStYaRd/secret+value/never-logged",
    AWS_SESSION_TOKEN: "frostyard-session-token-never-logged",
  };
  const AMI_INPUTS = {
    "aws-ami-name": "frostyard-os 1 (x86_64)",
    "aws-bucket": "frostyard-amis",
    "aws-region": "eu-central-1",
  };
  const AMI_FLAGS = [
    "--aws-ami-name",
    "frostyard-os 1 (x86_64)",
    "--aws-bucket",
    "frostyard-amis",
    "--aws-region",
    "eu-central-1",
  ];

  test.each([
    {
      builder: "image-builder" as const,
      types: "qcow2, ami",
      argvs: [
        ["build", "--bootc-ref", "SRC", "--arch", "x86_64", "--output-dir", "/output/qcow2", "qcow2"],
        [
          "build",
          "--bootc-ref",
          "SRC",
          "--arch",
          "x86_64",
          "--output-dir",
          "/output/ami",
          ...AMI_FLAGS,
          "ami",
        ],
      ],
      uploads: [undefined, "frostyard-os 1 (x86_64) in eu-central-1 via s3://frostyard-amis"],
    },
    {
      builder: "bootc-image-builder" as const,
      types: "ami",
      argvs: [["--type", "ami", "--target-arch", "amd64", ...AMI_FLAGS, "SRC"]],
      uploads: ["frostyard-os 1 (x86_64) in eu-central-1 via s3://frostyard-amis"],
    },
  ])(
    "$builder: the AMI upload's flags where the CLI takes them, credentials by name only to the ami run, never a value in the log",
    async ({ builder, types, argvs, uploads }) => {
      const { run, out } = await runDisk(
        { builder, image: source.signed, types, "builder-image": builderImage[builder], ...AMI_INPUTS },
        AWS,
      );
      expect(errors(run)).toEqual([]);
      expect(run.exitCode).toBe(0);
      const runs = await standInRuns(out);
      expect(runs.map((r) => r.argv)).toEqual(
        argvs.map((a) => a.map((x) => (x === "SRC" ? source.signed : x))),
      );
      expect(runs.map((r) => r.upload)).toEqual(uploads);
      for (const [i, r] of runs.entries()) {
        const awsEnv = Object.fromEntries(Object.entries(r.env).filter(([k]) => k.startsWith("AWS_")));
        // The run that uploads gets exactly the credentials; a run that does not gets none.
        expect(awsEnv).toEqual(uploads[i] ? AWS : {});
      }
      const podmanRuns = run.log.filter((l) => l.startsWith("[command]podman run "));
      expect(podmanRuns).toHaveLength(argvs.length);
      expect(podmanRuns.at(-1)).toContain(
        "-e AWS_ACCESS_KEY_ID -e AWS_SECRET_ACCESS_KEY -e AWS_SESSION_TOKEN " + builderImage[builder],
      );
      const everything = [...run.log, run.summary, ...run.annotations.map((a) => a.message)].join("\n");
      for (const value of Object.values(AWS)) expect(everything).not.toContain(value);
      expect(everything).toContain(
        "uploaded the ami as frostyard-os 1 (x86_64) in eu-central-1 via s3://frostyard-amis",
      );
    },
    RUN_TIMEOUT,
  );

  test(
    "an AMI upload without AWS credentials fails before anything is pulled or built",
    async () => {
      const { run, out } = await runDisk(
        {
          builder: "bootc-image-builder",
          image: source.signed,
          types: "ami",
          "builder-image": builderImage["bootc-image-builder"],
          ...AMI_INPUTS,
        },
        { AWS_ACCESS_KEY_ID: AWS.AWS_ACCESS_KEY_ID },
      );
      expect(run.exitCode).toBe(1);
      expect(errors(run)[0]).toContain(
        "input 'aws-ami-name': the AMI upload has no AWS credentials: AWS_SECRET_ACCESS_KEY unset in the step's environment",
      );
      expect(run.log.some((l) => l.startsWith("[command]podman"))).toBe(false);
      expect(await standInRuns(out)).toEqual([]);
    },
    RUN_TIMEOUT,
  );

  test(
    "a builder that fails fails the action with its own last lines; nothing is described or checksummed",
    async () => {
      const { run, out } = await runDisk({
        builder: "bootc-image-builder",
        image: source.signed,
        types: "qcow2",
        "builder-image": builderImage["bootc-image-builder"],
        "builder-args": "--no-such-flag",
      });
      expect(run.exitCode).toBe(1);
      expect(errors(run)[0]).toContain("bootc-image-builder: error: unknown flag: --no-such-flag");
      // It ran (and was refused by the builder itself), after the pull.
      expect((await standInRuns(out)).map((r) => r.argv.at(-2))).toEqual(["--no-such-flag"]);
      expect(existsSync(join(out, "SHA256SUMS"))).toBe(false);
      expect(run.outputs.artifacts).toBe("[]");
      expect(run.summary).toContain("**Failed:**");
    },
    RUN_TIMEOUT,
  );

  test(
    "a type the builder refuses fails the run with the builder's own message, and no file is described",
    async () => {
      const out = join(scratch, "refused");
      const logger = recordingLogger();
      const podman = {
        command: "env",
        prefix: [...Object.entries(env).map(([k, v]) => `${k}=${v}`), "podman"],
      };
      await expect(
        buildWithContainer({
          builder: "image-builder",
          builderImage: builderImage["image-builder"],
          sourceRef: source.unsigned,
          types: ["floppy"],
          arch: "amd64",
          outputDirectory: out,
          scratch: join(scratch, "refused-config"),
          logger,
          podman,
        }),
      ).rejects.toThrow('image-builder: error: unsupported image type "floppy"');
      const runs = await standInRuns(out);
      expect(runs.map((r) => r.argv.at(-1))).toEqual(["floppy"]);
      expect(existsSync(join(out, "floppy"))).toBe(false);
    },
    RUN_TIMEOUT,
  );
});
