import { execFile } from "node:child_process";
import { copyFile, mkdir, mkdtemp, readFile, rm, symlink, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { promisify } from "node:util";
import { afterAll, beforeAll, describe, expect, test } from "vitest";
import { recordingLogger } from "@frostyard/kit";
import { lint, prepareImage, probeBootc, runBootcLint, parseImageSource } from "@frostyard/lint-bootc";
import { containersConfig, type ContainersConfig } from "../helpers/containers";
import { BUSYBOX } from "../helpers/images";
import { startRegistry, type TestRegistry } from "../helpers/registry";
import { BOOTC_BREAKERS, writeBootcRootfs } from "../helpers/rootfs";
import { repoRoot, runBuiltAction } from "../helpers/run-action";
import { missingTools } from "../helpers/tools";

/**
 * bootc container lint inside real images under real podman (runc, the containers config from
 * tests/helpers/containers.ts). bootc itself cannot be had on these machines, so the images, built here
 * with buildah from scratch on a busybox-static root, carry tests/fixtures/lint-bootc/bootc-stand-in.sh as
 * /usr/bin/bootc: it prints a real bootc output from the fixtures, exits as bootc does, refuses flags its
 * --help does not list, and records the arguments it got on stderr; the tests assert those arguments.
 */

const exec = promisify(execFile);
const skip = missingTools("podman", "buildah", "runc", "tar", "docker-registry", BUSYBOX);
const FIXTURES = join(repoRoot, "tests/fixtures/lint-bootc");
const OUTPUTS = join(repoRoot, "tests/fixtures/shared/bootc-lint");

interface Variant {
  output?: string;
  version?: string;
  help?: string;
  breaker?: keyof typeof BOOTC_BREAKERS;
}

/** name → what the image holds: which bootc output, version and --help; no output means no bootc at all. */
const VARIANTS: Record<string, Variant> = {
  warn: { output: "multiple-warnings-truncated.txt", version: "bootc 1.13.0", help: "bootc-help-1.13.txt" },
  sysusers: {
    output: "fatal-warnings-sysusers-failed.txt",
    version: "bootc 1.13.0",
    help: "bootc-help-1.13.txt",
  },
  old: {
    output: "warning-nonempty-run-tmp.bootc-1.13.0.txt",
    version: "bootc 1.0.8",
    help: "bootc-help-1.0.txt",
  },
  nobootc: { breaker: "var-run" },
};

describe.skipIf(skip)("lint-bootc with real podman and a stand-in bootc", () => {
  let containers: ContainersConfig;
  let registry: TestRegistry;
  let scratch: string;
  let env: Record<string, string>;
  const image = (variant: string) => `localhost/lint-bootc-test:${variant}`;

  async function buildah(...args: string[]): Promise<string> {
    const { stdout } = await exec("buildah", args, { env: { ...process.env, ...env } });
    return stdout.trim();
  }

  async function buildVariant(name: string, variant: Variant): Promise<void> {
    const root = join(scratch, `root-${name}`);
    await mkdir(root);
    await writeBootcRootfs(root);
    if (variant.breaker) await BOOTC_BREAKERS[variant.breaker]?.(root);
    for (const applet of ["cat", "grep"]) await symlink("busybox", join(root, "usr/bin", applet));
    if (variant.output) {
      const share = join(root, "usr/share/bootc-stand-in");
      await mkdir(share, { recursive: true });
      await copyFile(join(FIXTURES, "bootc-stand-in.sh"), join(root, "usr/bin/bootc"));
      await copyFile(join(OUTPUTS, variant.output), join(share, "output"));
      await copyFile(join(FIXTURES, variant.help ?? ""), join(share, "help"));
      await writeFile(join(share, "version"), `${variant.version}\n`);
    }
    const tarball = join(scratch, `${name}.tar`);
    await exec("tar", ["--create", "--file", tarball, "--numeric-owner", "-C", root, "."]);
    const container = await buildah("from", "scratch");
    await buildah("add", container, tarball, "/");
    await buildah("commit", "--quiet", container, image(name));
    await buildah("rm", container);
  }

  beforeAll(async () => {
    registry = await startRegistry();
    containers = await containersConfig({ insecureRegistries: [registry.host] });
    env = containers.env;
    scratch = await mkdtemp(join(tmpdir(), "lint-bootc-podman-"));
    for (const [name, variant] of Object.entries(VARIANTS)) await buildVariant(name, variant);
    await buildah(
      "push",
      "--quiet",
      "--tls-verify=false",
      image("warn"),
      `docker://${registry.host}/os:warn`,
    );
    await buildah("push", "--quiet", image("sysusers"), `oci:${join(scratch, "layout")}:sysusers`);
  });

  afterAll(async () => {
    await registry?.stop();
    if (scratch) await rm(scratch, { recursive: true, force: true });
    if (!containers) return;
    // The overlay driver bind-mounts its own directory; it must go before the directory can.
    await exec("umount", [join(containers.dir, "storage/overlay")]).catch(() => {});
    await containers.cleanup();
  });

  test("probe: bootc --version and lint --help from inside the image decide the flags", async () => {
    const logger = recordingLogger();
    expect(await probeBootc(image("warn"), { logger, env })).toEqual({
      present: true,
      version: "bootc 1.13.0",
      features: { fatalWarnings: true, skip: true, noTruncate: true },
    });
    expect(await probeBootc(image("old"), { logger, env })).toEqual({
      present: true,
      version: "bootc 1.0.8",
      features: { fatalWarnings: false, skip: false, noTruncate: false },
    });
    const none = await probeBootc(image("nobootc"), { logger, env });
    expect(none.present).toBe(false);
  });

  test("the argv podman runs and the argv bootc receives", async () => {
    const logger = recordingLogger();
    const run = await runBootcLint(
      { image: image("warn"), fatalWarnings: true, skip: ["var-log"], noTruncate: true },
      { fatalWarnings: true, skip: true, noTruncate: true },
      { logger, env },
    );
    expect(run.argv).toEqual([
      ...["podman", "run", "--rm", "--pull=never", "--network=none", "--entrypoint", "bootc", image("warn")],
      ...["container", "lint", "--fatal-warnings", "--no-truncate", "--skip", "var-log"],
    ]);
    // The stand-in's record of its own arguments: the unknown line bootc's output never has.
    expect(run.parsed.unknownLines).toEqual([
      "bootc-stand-in argv: container lint --fatal-warnings --no-truncate --skip var-log",
    ]);
    expect(run.exitCode).toBe(1); // three warnings, fatal
    expect(run.parsed.warnings.map((w) => w.lint)).toEqual(["sysusers", "var-log", "var-tmpfiles"]);
    expect(run.parsed.counts).toEqual({ passed: 9, skipped: 1, warnings: 3, failed: 3 });
  });

  test("an old bootc: unsupported flags are dropped and named, skip and fatal-warnings applied by us", async () => {
    const logger = recordingLogger();
    const report = await lint({
      image: parseImageSource(image("old")),
      engine: "bootc",
      fatalWarnings: true,
      skip: ["var-log"],
      logger,
      podmanEnv: env,
    });
    expect(report.bootc?.argv.slice(-3)).toEqual([image("old"), "container", "lint"]);
    expect(report.bootc?.parsed.unknownLines).toEqual(["bootc-stand-in argv: container lint"]);
    expect(report.notes.filter((n) => n.includes("does not support"))).toEqual([
      "bootc 1.0.8 does not support --fatal-warnings (warnings are judged from the output instead)",
      "bootc 1.0.8 does not support --no-truncate (lists stay cut at five items)",
      "bootc 1.0.8 does not support --skip var-log (findings of those lints are dropped from the report instead)",
    ]);
    expect(report.warnings.map((w) => w.lint)).toEqual(["nonempty-run-tmp"]);
    expect(report.passed).toBe(false);
    expect(report.warningsFatal).toBe(true);
  });

  test("auto with an image and a rootfs: bootc in the image, native checks on the rootfs, merged", async () => {
    const logger = recordingLogger();
    const rootfs = join(scratch, "root-nobootc"); // /var/run is a directory there
    const report = await lint({
      image: parseImageSource(image("warn")),
      rootfs,
      engine: "auto",
      fatalWarnings: false,
      skip: [],
      logger,
      podmanEnv: env,
    });
    expect(report.bootc?.version).toBe("bootc 1.13.0");
    expect(report.native?.root).toBe(rootfs);
    expect(report.failures.map((f) => [f.lint, f.source])).toEqual([["var-run", "native"]]);
    // sysusers, var-log, var-tmpfiles from bootc; the native run found no warning of its own on that root.
    expect(report.warnings.map((f) => [f.lint, f.source])).toEqual([
      ["sysusers", "bootc"],
      ["var-log", "bootc"],
      ["var-tmpfiles", "bootc"],
    ]);
    expect(report.passed).toBe(false);
  });

  test("a sysext given as an image is never handed to bootc: the sysext rules run on the unpacked image", async () => {
    const logger = recordingLogger();
    const report = await lint({
      image: parseImageSource(image("warn")),
      engine: "auto",
      fatalWarnings: false,
      skip: [],
      sysext: { requiredPaths: ["/usr/bin/bootc"] },
      logger,
      podmanEnv: env,
    });
    expect(report.bootc).toBeUndefined();
    expect(report.native?.root).toBe("<image>");
    expect(report.failures.map((f) => f.lint)).toEqual(["sysext-layout", "sysext-release"]);
    expect(report.native?.passed).toEqual(["sysext-secrets", "sysext-required-paths", "sysext-nonempty"]);
  });

  test("prepareImage: a local name is used as is; a registry image and an OCI layout are pulled to an ID", async () => {
    const logger = recordingLogger();
    expect(await prepareImage(parseImageSource(`containers-storage:${image("warn")}`), { logger, env })).toBe(
      image("warn"),
    );
    const pulled = await prepareImage(parseImageSource(`docker://${registry.host}/os:warn`), { logger, env });
    const imported = await prepareImage(parseImageSource(`oci:${join(scratch, "layout")}:sysusers`), {
      logger,
      env,
    });
    const ids = async (name: string) =>
      (
        await exec("podman", ["image", "inspect", "--format", "{{.Id}}", name], {
          env: { ...process.env, ...env },
        })
      ).stdout.trim();
    expect(pulled).toMatch(/^[0-9a-f]{64}$/);
    expect(pulled).toBe(await ids(image("warn")));
    expect(imported).toBe(await ids(image("sysusers")));
  });

  const action = (inputs: Record<string, string>) =>
    runBuiltAction("lint-bootc", { inputs, env, workdir: scratch });

  test("action: a registry image with warnings passes, with warning annotations, outputs and a summary", async () => {
    const run = await action({ image: `${registry.host}/os:warn` });
    expect(run.failed).toBe(false);
    expect(run.outputs.passed).toBe("true");
    expect(run.outputs["bootc-version"]).toBe("bootc 1.13.0");
    expect(JSON.parse(run.outputs.failures ?? "")).toEqual([]);
    const warnings = JSON.parse(run.outputs.warnings ?? "") as { lint: string; message: string }[];
    expect(warnings.map((w) => w.lint)).toEqual(["sysusers", "var-log", "var-tmpfiles"]);
    expect(warnings[1]).toEqual({
      lint: "var-log",
      message: "Found non-empty logfile: /var/log/akmods/akmods.log (and 5 more)",
    });
    expect(run.annotations.filter((a) => a.level === "warning").map((a) => a.title)).toEqual([
      "bootc lint: sysusers",
      "bootc lint: var-log",
      "bootc lint: var-tmpfiles",
    ]);
    expect(run.summary).toContain(
      "| `var-log` | warning | bootc | Found non-empty logfile: /var/log/akmods/akmods.log (and 5 more) |",
    );
    expect(run.summary).toContain("bootc-stand-in argv: container lint --no-truncate");
  });

  test("action: an OCI layout under fatal-warnings fails the step with error annotations", async () => {
    const run = await action({
      image: `oci:${join(scratch, "layout")}:sysusers`,
      "fatal-warnings": "true",
      skip: "var-log",
    });
    expect(run.failed).toBe(true);
    expect(run.outputs.passed).toBe("false");
    expect(JSON.parse(run.outputs.warnings ?? "").map((w: { lint: string }) => w.lint)).toEqual(["sysusers"]);
    const errors = run.annotations.filter((a) => a.level === "error");
    expect(errors.map((a) => a.title ?? a.message.split("\n")[0])).toEqual([
      "bootc lint: sysusers",
      "1 warning(s), fatal under fatal-warnings: sysusers",
    ]);
    expect(errors[0]?.message).toContain(
      "Found /etc/group entry without corresponding systemd sysusers.d:\n  avahi\n  docker",
    );
  });

  test("action: an image without bootc under auto says so and runs the native checks on it", async () => {
    const run = await action({ image: `containers-storage:${image("nobootc")}` });
    expect(run.failed).toBe(true);
    expect(run.outputs["bootc-version"]).toBe("");
    expect(JSON.parse(run.outputs.failures ?? "")).toEqual([
      { lint: "var-run", message: "Not a symlink: var/run" },
    ]);
    expect(
      run.annotations.some((a) => a.level === "warning" && a.message.startsWith("the image has no bootc")),
    ).toBe(true);
    expect(run.summary).toContain("native checks on `<image>`: 12 passed, 2 not run");
  });

  test("action: engine bootc on an image without bootc fails with what to do", async () => {
    const run = await action({ image: image("nobootc"), engine: "bootc" });
    expect(run.failed).toBe(true);
    expect(run.annotations.map((a) => a.message).join("\n")).toMatch(
      /the image has no bootc .*Use engine 'native' or 'auto'/,
    );
  });

  test("action: an image the registry does not have fails naming it and podman's reason", async () => {
    const run = await action({ image: `${registry.host}/nope/missing:1` });
    expect(run.failed).toBe(true);
    const message = run.annotations.find((a) => a.level === "error")?.message ?? "";
    expect(message).toContain(
      `input 'image': image ${registry.host}/nope/missing:1 could not be made available to podman:`,
    );
    expect(message).toMatch(/manifest unknown|not found/i);
  });

  test.each([
    [{ image: "./no-such-layout" }, "input 'image': OCI layout './no-such-layout' cannot be read (ENOENT"],
    [{ image: `oci:${FIXTURES}` }, `input 'image': OCI layout '${FIXTURES}' cannot be read (ENOENT`],
    [
      { image: "x", skip: "var-log, kernels" },
      "input 'skip': unknown lint name(s) 'kernels'; expected names from api-base-directories,",
    ],
    [{ rootfs: ".", engine: "bootc" }, "input 'engine': is 'bootc' but 'image' is empty"],
    [{ rootfs: "../../etc" }, "input 'rootfs': '../../etc' is outside the workspace"],
    [{ rootfs: ".", sysext: "true" }, "input 'sysext-name': is empty while sysext is true"],
  ])("action: bad input %j fails with a clear error", async (inputs, message) => {
    const run = await action(inputs);
    expect(run.failed).toBe(true);
    expect(
      run.annotations
        .filter((a) => a.level === "error")
        .map((a) => a.message)
        .join("\n"),
    ).toContain(message);
  });

  test("action: a rootfs with engine native, as a sysext against its base", async () => {
    const ext = join(scratch, "ext");
    await mkdir(join(ext, "usr/lib/extension-release.d"), { recursive: true });
    await writeFile(
      join(ext, "usr/lib/extension-release.d/extension-release.tools"),
      "ID=frostyard\nSYSEXT_LEVEL=1.0\n",
    );
    await copyFile(BUSYBOX, join(ext, "usr/tool"));
    const run = await action({
      rootfs: "ext",
      engine: "native",
      sysext: "true",
      "sysext-name": "tools",
      "sysext-base": "root-warn",
      "sysext-required-paths": "/usr/tool, /usr/bin/missing",
    });
    expect(run.failed).toBe(true);
    expect(JSON.parse(run.outputs.failures ?? "")).toEqual([
      { lint: "sysext-required-paths", message: "Missing required paths:\n  /usr/bin/missing" },
    ]);
    expect(await readFile(join(scratch, "root-warn/usr/lib/os-release"), "utf8")).toContain(
      "SYSEXT_LEVEL=1.0",
    );
  });
});
