import { chmod, mkdir, mkdtemp, readdir, readFile, rm, stat, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, test } from "vitest";
import {
  DEFAULT_PATHS,
  findFiles,
  formatOf,
  OutsideRootError,
  pinRecords,
  pullRequestBody,
  statusCounts,
  writeFileAtomic,
  type RefOutcome,
} from "@frostyard/pin-digest";

describe("formatOf", () => {
  test.each([
    ["Containerfile", "dockerfile"],
    ["sub/Dockerfile", "dockerfile"],
    ["Dockerfile.release", "dockerfile"],
    ["build/app.Containerfile", "dockerfile"],
    ["compose.yaml", "yaml"],
    [".github/workflows/ci.yml", "yaml"],
    ["README.md", undefined],
    ["Dockerfiles/notes.txt", undefined],
  ])("%s → %s", (file, format) => expect(formatOf(file)).toBe(format));
});

describe("findFiles with the default globs", () => {
  let root: string;
  beforeAll(async () => {
    root = await mkdtemp(join(tmpdir(), "pin-scan-"));
    const files = [
      "Containerfile",
      "app/Dockerfile",
      "app/Dockerfile.dev",
      "app/web.Containerfile",
      ".github/workflows/ci.yml",
      ".github/workflows/release.yaml",
      ".github/workflows/notes.md",
      ".github/actions/setup/action.yml",
      "actions/x/action.yaml",
      "compose.yaml",
      "deploy/docker-compose.prod.yml",
      "node_modules/pkg/Dockerfile",
      "node_modules/pkg/action.yml",
      "config.yml",
      "README.md",
    ];
    for (const f of files) {
      await mkdir(join(root, f, ".."), { recursive: true });
      await writeFile(join(root, f), "");
    }
    await mkdir(join(root, "Dockerfile.d")); // a directory whose name matches is not a file to read
  });
  afterAll(() => rm(root, { recursive: true, force: true }));

  test("finds Containerfiles, workflows, actions and compose files; skips node_modules and other files", async () => {
    expect(await findFiles(root, DEFAULT_PATHS)).toEqual([
      ".github/actions/setup/action.yml",
      ".github/workflows/ci.yml",
      ".github/workflows/release.yaml",
      "Containerfile",
      "actions/x/action.yaml",
      "app/Dockerfile",
      "app/Dockerfile.dev",
      "app/web.Containerfile",
      "compose.yaml",
      "deploy/docker-compose.prod.yml",
    ]);
  });

  test("explicit globs replace the defaults", async () => {
    expect(await findFiles(root, ["app/*", "config.yml"])).toEqual([
      "app/Dockerfile",
      "app/Dockerfile.dev",
      "app/web.Containerfile",
      "config.yml",
    ]);
  });

  test("writeFileAtomic replaces the content, keeps the mode and leaves no temporary file", async () => {
    const file = join(root, "app", "Dockerfile");
    await writeFile(file, "old\n");
    await chmod(file, 0o600);
    await writeFileAtomic(file, "new\n");
    expect(await readFile(file, "utf8")).toBe("new\n");
    expect((await stat(file)).mode & 0o777).toBe(0o600);
    expect((await readdir(join(root, "app"))).filter((n) => n.includes("pin-digest"))).toEqual([]);
  });
});

describe("findFiles never leaves the root", () => {
  let parent: string;
  beforeAll(async () => {
    parent = await mkdtemp(join(tmpdir(), "pin-outside-"));
    for (const f of ["ws/app/Containerfile", "outside/Containerfile"]) {
      await mkdir(join(parent, f, ".."), { recursive: true });
      await writeFile(join(parent, f), "FROM debian:12\n");
    }
  });
  afterAll(() => rm(parent, { recursive: true, force: true }));

  test.each([
    ["'..' out of the root", "../outside/Containerfile", "../outside/Containerfile"],
    ["'..' after '**'", "**/../outside/*", "../outside/Containerfile"],
    ["'..' after a directory", "app/../../outside/*", "../outside/Containerfile"],
  ])("%s (%s) is refused, naming the file", async (_name, glob, file) => {
    const error = await findFiles(join(parent, "ws"), ["**/Containerfile", glob]).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(OutsideRootError);
    expect((error as OutsideRootError).file).toBe(file);
  });

  test("an absolute glob elsewhere is refused", async () => {
    const error = await findFiles(join(parent, "ws"), [join(parent, "outside/*")]).catch((e: unknown) => e);
    expect((error as OutsideRootError).file).toBe(join(parent, "outside/Containerfile"));
  });

  test("'..' that comes back in is fine", async () => {
    expect(await findFiles(join(parent, "ws"), ["app/../app/Containerfile"])).toEqual(["app/Containerfile"]);
  });
});

function o(status: RefOutcome["status"], extra: Partial<RefOutcome> = {}): RefOutcome {
  return { file: "f", line: 1, column: 1, kind: "image", ref: "r", old: "r:1", status, ...extra };
}

describe("rendering", () => {
  test("pins lists what changed (and, in check mode, what needs pinning) with new null when unknown", () => {
    expect(
      pinRecords([
        o("pinned", { new: "r:1@sha256:1" }),
        o("updated", { line: 2, new: "r:1@sha256:2" }),
        o("unpinned", { line: 3 }),
        o("already-pinned", { line: 4 }),
        o("error", { line: 5, message: "x" }),
        o("variable", { line: 6 }),
        o("up-to-date", { line: 7 }),
      ]),
    ).toEqual([
      { file: "f", line: 1, ref: "r", old: "r:1", new: "r:1@sha256:1" },
      { file: "f", line: 2, ref: "r", old: "r:1", new: "r:1@sha256:2" },
      { file: "f", line: 3, ref: "r", old: "r:1", new: null },
    ]);
  });

  test("the PR body has a row per pin, old → new, and nothing else", () => {
    const body = pullRequestBody([
      o("pinned", {
        file: "Containerfile",
        line: 3,
        ref: "debian",
        old: "debian:12",
        new: "debian:12@sha256:a",
      }),
      o("error", { line: 9, old: "gone:1", message: "no such tag" }),
    ]);
    expect(body).toContain("Pins 1 reference(s) to immutable digests");
    expect(body).toContain("| Containerfile:3 | `debian` | `debian:12` | `debian:12@sha256:a` |");
    expect(body).not.toContain("gone:1");
  });

  test.each([
    [[], "no references"],
    [[o("pinned"), o("pinned"), o("error")], "2 pinned, 1 error"],
  ])("statusCounts", (outcomes, text) => expect(statusCounts(outcomes)).toBe(text));
});
