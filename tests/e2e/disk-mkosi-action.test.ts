import { execFile } from "node:child_process";
import { cp, mkdtemp, readdir, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { promisify } from "node:util";
import { afterAll, beforeAll, describe, expect, test } from "vitest";
import { repoRoot, runBuiltAction } from "../helpers/run-action";
import {
  ensureToolbox,
  toolboxUnavailable,
  TOOLBOX_BUILD_TIMEOUT_MS,
  type Toolbox,
} from "../helpers/toolbox";

/**
 * actions/disk-image with builder mkosi through the local runner (action.yml, the dist bundle, main and post
 * steps): a project whose image is not Format=disk fails on the directory input after `mkosi summary`,
 * before mkosi builds anything, and no disk is left in output-directory. The build, conversion and boot
 * themselves are exercised by disk-mkosi.test.ts against the library (a second cold build here would
 * double the suite's longest test).
 */
const run = promisify(execFile);
const skip = toolboxUnavailable();

describe.skipIf(skip)("actions/disk-image builder mkosi through the local runner", () => {
  let toolbox: Toolbox;
  let scratch: string;
  beforeAll(async () => {
    toolbox = await ensureToolbox();
    scratch = await mkdtemp(join(tmpdir(), "disk-mkosi-action-"));
  }, TOOLBOX_BUILD_TIMEOUT_MS);
  afterAll(() => rm(scratch, { recursive: true, force: true }));

  test("a Format=directory project is the directory input's error; nothing built, nothing in output-directory", async () => {
    const project = join(scratch, "project");
    await cp(join(repoRoot, "tests/fixtures/mkosi/disk-bootable"), project, { recursive: true });
    await run(join(repoRoot, "examples/sandbox-from-host.sh"), [project, "trixie"]);
    const conf = join(project, "mkosi.conf");
    await writeFile(conf, (await readFile(conf, "utf8")).replace(/^Format=disk$/m, "Format=directory"));
    const result = await runBuiltAction("disk-image", {
      workdir: scratch,
      env: {
        ...toolbox.env,
        FROSTYARD_TOOLBOX_BINDS: scratch,
        FROSTYARD_BUILD_CACHE: join(scratch, "cache"),
      },
      inputs: {
        builder: "mkosi",
        directory: project,
        "mkosi-ref": "system",
        "work-directory": join(scratch, "work"),
        "source-date-epoch": "1735689600",
        types: "qcow2, vhd",
        upload: "false",
        "output-directory": "disk-output",
      },
      timeoutMs: 600_000,
    });
    expect(result.failed).toBe(true);
    const errors = result.annotations.filter((a) => a.level === "error").map((a) => a.message);
    expect(errors).toEqual([
      expect.stringMatching(/^input 'directory': .*Format=directory.*set Format=disk/),
    ]);
    expect(result.summary).toContain("disk-image: mkosi");
    expect(result.outputs.artifacts).toBe("[]");
    expect(await readdir(join(scratch, "disk-output"))).toEqual([]);
    expect(await readdir(join(scratch, "work", "output"))).toEqual([]);
  }, 700_000);
});
