import { execFile } from "node:child_process";
import { appendFile, copyFile, mkdir, mkdtemp, readdir, readFile, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { promisify } from "node:util";
import { afterAll, beforeAll, describe, expect, test } from "vitest";
import { runWorkflow, type WorkflowRun } from "@frostyard/runner";
import {
  hostedServicesUnavailable,
  startTestHostedServices,
  type HostedServices,
} from "../helpers/hosted-services";
import { repoRoot } from "../helpers/run-action";
import { missingTools } from "../helpers/tools";

/**
 * release.yml run end to end through `frostyard-build workflow`'s runner, on a clone of this repository at
 * HEAD: its verify job really runs `npm ci` and `npm run build` and compares dist/, and really makes the
 * source tarball and SHA256SUMS; its artifacts go through the loopback artifact service.
 *
 * Stand-in: `gh` (tests/fixtures/release/gh). GitHub's releases and git-refs API exist only on github.com,
 * which this machine cannot reach, and no real implementation of them can be run here. The stand-in answers
 * as gh's documented CLI does, keeps the rules the release depends on (a published release is immutable and
 * takes no asset; --verify-tag needs the tag), plays the repository's refs with the clone, and logs every
 * call; the test asserts the exact calls, in order, and that the token reached gh only through GH_TOKEN.
 *
 * Not modelled: GitHub's release-notes generation, the immutable-releases setting itself (the stand-in
 * enforces what it implies), `concurrency:` (one run at a time here), actions/setup-node's download (the
 * runner's own Node 24 is put on PATH when that is the version asked for).
 */

const run = promisify(execFile);
const skip = hostedServicesUnavailable() || missingTools("git", "jq", "bash", "tar", "sha256sum", "npm");
const REPOSITORY = "frostyard/build";
const git = async (cwd: string, ...args: string[]) =>
  (
    await run("git", ["-c", "user.name=release-e2e", "-c", "user.email=release-e2e@localhost", ...args], {
      cwd,
    })
  ).stdout.trim();

describe.skipIf(skip)("release.yml end to end through the local workflow runner", () => {
  let scratch: string;
  let clone: string;
  let state: string;
  let services: HostedServices;
  let released: string;
  let previousMajor: string;
  let stale: WorkflowRun;
  let good: WorkflowRun;
  // What the stale tag left, read before the good tag's run changes it.
  let callsAfterStale: unknown[];
  let releasesAfterStale: string[];
  let majorAfterStale: string;

  type Call = { argv: string[]; token: boolean; repo: string };
  const calls = async (): Promise<Call[]> =>
    (await readFile(join(state, "calls.jsonl"), "utf8").catch(() => ""))
      .split("\n")
      .filter(Boolean)
      .map((line) => JSON.parse(line) as Call);

  const release = (tag: string, sha: string) =>
    runWorkflow({
      file: join(clone, ".github/workflows/release.yml"),
      event: "push",
      ref: `refs/tags/${tag}`,
      sha,
      repository: REPOSITORY,
      workdir: clone,
      tempDir: scratch,
      services,
      env: {
        PATH: `${join(scratch, "bin")}:${process.env.PATH ?? ""}`,
        GH_STANDIN_STATE: state,
        GH_STANDIN_REMOTE: clone,
      },
      stepTimeoutMs: 900_000,
    });

  beforeAll(async () => {
    scratch = await mkdtemp(join(tmpdir(), "frostyard-release-e2e-"));
    clone = join(scratch, "build");
    state = join(scratch, "gh-state");
    await mkdir(join(scratch, "bin"));
    await copyFile(join(repoRoot, "tests/fixtures/release/gh"), join(scratch, "bin/gh"));
    await run("chmod", ["+x", join(scratch, "bin/gh")]);
    await git(scratch, "clone", "-q", repoRoot, clone);
    released = await git(clone, "rev-parse", "HEAD");
    previousMajor = await git(clone, "rev-parse", "HEAD~1");
    // The repository's refs as GitHub would hold them: the release tag, and v9 on an older release.
    await git(clone, "tag", "v9.9.9", released);
    await git(clone, "tag", "v9", previousMajor);
    services = await startTestHostedServices();

    // A tag whose committed dist/ is not what its sources build: one bundle edited by hand.
    await appendFile(join(clone, "dist/pin-digest/index.js"), "\n// edited by hand, not built\n");
    await git(clone, "commit", "-q", "-m", "dist edited by hand", "--", "dist/pin-digest/index.js");
    await git(clone, "tag", "v9.9.8");
    stale = await release("v9.9.8", await git(clone, "rev-parse", "HEAD"));
    callsAfterStale = await calls();
    releasesAfterStale = await readdir(join(state, "releases")).catch(() => []);
    majorAfterStale = await git(clone, "rev-parse", "v9");

    // verify rebuilt dist/ in place; the good tag is checked out over it.
    await git(clone, "checkout", "-q", "-f", "v9.9.9");
    good = await release("v9.9.9", released);
  }, 1_800_000);

  afterAll(async () => {
    await services?.stop();
    if (scratch) await rm(scratch, { recursive: true, force: true });
  });

  const job = (workflow: WorkflowRun, id: string) => workflow.jobs.find((j) => j.id === id)!;
  /** The directory the release job uploaded its assets from (its RUNNER_TEMP/assets). */
  const scratchOf = (made: Call[]) => dirname(made.find((call) => call.argv[1] === "upload")?.argv[3] ?? "");

  test("a tag whose dist/ differs from its sources fails verify, and nothing is released or moved", async () => {
    expect(stale.failed).toBe(true);
    expect(stale.jobs.map((j) => [j.id, j.result])).toEqual([
      ["verify", "failure"],
      ["release", "skipped"],
      ["move-major", "skipped"],
    ]);
    const annotations = job(stale, "verify").cells.flatMap((cell) => cell.annotations);
    expect(annotations.map((a) => a.message)).toContain(
      "dist/ at v9.9.8 is not what its sources build; rebuild and tag again",
    );
    expect(stale.log.join("\n")).toMatch(/dist\/pin-digest\/index\.js \| +\d+ [+-]+/);
    expect(callsAfterStale).toEqual([]);
    expect(releasesAfterStale).toEqual([]);
    expect(majorAfterStale).toBe(previousMajor);
  });

  test("a good tag: verify, a draft with the assets, published, and only then v9 moves", async () => {
    expect(good.failed, good.log.join("\n")).toBe(false);
    expect(good.jobs.map((j) => [j.id, j.result])).toEqual([
      ["verify", "success"],
      ["release", "success"],
      ["move-major", "success"],
    ]);
    expect(good.jobs.map((j) => [j.id, j.permissions])).toEqual([
      ["verify", { contents: "read" }],
      ["release", { contents: "write" }],
      ["move-major", { contents: "write" }],
    ]);
    const made = await calls();
    // The shell's glob orders the two assets by the locale's collation; which comes first does not matter.
    const argv = made.map((call) =>
      call.argv[1] === "upload" ? [...call.argv.slice(0, 3), ...call.argv.slice(3).sort()] : call.argv,
    );
    expect(scratchOf(made)).toMatch(/\/assets$/);
    expect(argv).toEqual([
      ["release", "create", "v9.9.9", "--draft", "--verify-tag", "--generate-notes", "--title", "v9.9.9"],
      [
        "release",
        "upload",
        "v9.9.9",
        join(scratchOf(made), "SHA256SUMS"),
        join(scratchOf(made), "frostyard-build-v9.9.9.tar.gz"),
      ],
      ["release", "edit", "v9.9.9", "--draft=false", "--latest"],
      ["release", "view", "v9.9.9", "--json", "isDraft", "--jq", ".isDraft"],
      ["api", `repos/${REPOSITORY}/git/ref/tags/v9`],
      [
        "api",
        "-X",
        "PATCH",
        `repos/${REPOSITORY}/git/refs/tags/v9`,
        "-f",
        `sha=${released}`,
        "-F",
        "force=true",
      ],
    ]);
    // The token reached gh as GH_TOKEN only: never on an argv, never in the log.
    expect(made.every((call) => call.token && call.repo === REPOSITORY)).toBe(true);
    expect(made.flatMap((call) => call.argv).join(" ")).not.toMatch(/ghs_/);
    expect(good.log.join("\n")).not.toMatch(/ghs_local[0-9a-f]/);
    expect((await readFile(join(state, "releases/v9.9.9/draft"), "utf8")).trim()).toBe("false");
    expect(await git(clone, "rev-parse", "v9")).toBe(released);
  });

  test("the assets: SHA256SUMS checks the tarball, which holds the tree at the tag, dist/ included", async () => {
    const assets = join(state, "releases/v9.9.9/assets");
    expect((await readdir(assets)).sort()).toEqual(["SHA256SUMS", "frostyard-build-v9.9.9.tar.gz"]);
    const checked = await run("sha256sum", ["-c", "SHA256SUMS"], { cwd: assets });
    expect(checked.stdout.trim()).toBe("frostyard-build-v9.9.9.tar.gz: OK");
    const listing = (
      await run("tar", ["-tzf", join(assets, "frostyard-build-v9.9.9.tar.gz")], { maxBuffer: 64 << 20 })
    ).stdout
      .split("\n")
      .filter(Boolean);
    const tracked = (await git(clone, "ls-tree", "-r", "--name-only", released)).split("\n");
    expect(listing.filter((entry) => !entry.endsWith("/")).sort()).toEqual(
      tracked.map((path) => `frostyard-build-v9.9.9/${path}`).sort(),
    );
    expect(listing).toContain("frostyard-build-v9.9.9/dist/pin-digest/index.js");
  });

  test("an asset added after publishing is refused, as an immutable release refuses it", async () => {
    const late = await run(
      join(scratch, "bin/gh"),
      ["release", "upload", "v9.9.9", join(clone, "README.md")],
      {
        env: {
          ...process.env,
          GH_TOKEN: "t",
          GH_REPO: REPOSITORY,
          GH_STANDIN_STATE: state,
          GH_STANDIN_REMOTE: clone,
        },
      },
    ).catch((error: { code: number; stderr: string }) => error);
    expect("code" in late && late.code).toBe(1);
    expect((late as { stderr: string }).stderr).toMatch(/immutable release/);
    expect((await readdir(join(state, "releases/v9.9.9/assets"))).sort()).toEqual([
      "SHA256SUMS",
      "frostyard-build-v9.9.9.tar.gz",
    ]);
  });
});
