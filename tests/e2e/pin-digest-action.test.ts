import { execFileSync } from "node:child_process";
import { mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { basename, join } from "node:path";
import { afterAll, beforeAll, describe, expect, test } from "vitest";
import { copyFixtureRepo, snapshot } from "../fixtures/pin-digest/fixture";
import { startFakeGitHub, type FakeGitHub } from "../helpers/github-api";
import { IMAGE_TOOLS, pushMultiArchIndex, pushTestImage } from "../helpers/images";
import { startRegistry, type TestRegistry } from "../helpers/registry";
import { runBuiltAction } from "../helpers/run-action";
import { missingTools } from "../helpers/tools";

/**
 * actions/pin-digest end to end through the local runner (action.yml + dist bundle, INPUT_* and the
 * file commands as the runner sets them), against a real registry on 127.0.0.1 with skopeo-pushed
 * images. The GitHub API cannot be had here (no internet on our machines): action tags and the pull request go to
 * tests/helpers/github-api.ts, a local server implementing only the endpoints used, whose received
 * requests are asserted. Git is real, with a bare repository on disk as the remote.
 */

const skip = missingTools("docker-registry", "git", ...IMAGE_TOOLS);
const CHECKOUT_SHA = "a".repeat(40);
const TOOL_SHA = "b".repeat(40);
const TOKEN = "ghs_pin-digest-action-token-0987654321";

describe.skipIf(skip)("actions/pin-digest through the local runner", () => {
  let registry: TestRegistry;
  let github: FakeGitHub;
  const digests: Record<string, string> = {};
  const dirs: string[] = [];

  beforeAll(async () => {
    [registry, github] = await Promise.all([
      startRegistry(),
      startFakeGitHub({
        "actions/checkout": { tags: { v4: { commit: CHECKOUT_SHA }, "v4.2.2": { commit: CHECKOUT_SHA } } },
        "acme/tool": { branches: { main: TOOL_SHA } },
        "acme/site": { defaultBranch: "main" },
      }),
    ]);
    digests["multi:1"] = (await pushMultiArchIndex(registry.host, "multi:1")).indexDigest;
    for (const repoTag of ["base:1", "db:1", "tools:2"]) {
      digests[repoTag] = await pushTestImage(registry.host, repoTag, { content: repoTag });
    }
  });
  afterAll(async () => {
    await Promise.all([
      registry?.stop(),
      github?.stop(),
      ...dirs.map((d) => rm(d, { recursive: true, force: true })),
    ]);
  });

  async function workspace(): Promise<string> {
    const dir = await copyFixtureRepo(registry.host);
    dirs.push(dir);
    return dir;
  }

  /** The fixture as a git work tree whose `origin` is a bare repository on disk. */
  async function gitWorkspace() {
    const workdir = await workspace();
    await rm(join(workdir, "broken"), { recursive: true });
    await writeFile(join(workdir, "app/Dockerfile.release"), `FROM ${registry.host}/multi:1\n`);
    const remote = await mkdtemp(join(tmpdir(), "pin-digest-remote-"));
    dirs.push(remote);
    const git = (cwd: string, ...args: string[]) =>
      execFileSync("git", ["-c", "user.name=t", "-c", "user.email=t@example.com", ...args], {
        cwd,
        encoding: "utf8",
      }).trim();
    git(remote, "init", "-q", "--bare", "-b", "main");
    git(workdir, "init", "-q", "-b", "main");
    git(workdir, "add", "-A");
    git(workdir, "commit", "-q", "-m", "fixture");
    git(workdir, "remote", "add", "origin", remote);
    git(workdir, "push", "-q", "origin", "main");
    return { workdir, remote, git };
  }

  const env = () => ({ GITHUB_API_URL: github.url, GITHUB_REPOSITORY: "acme/site", GITHUB_TOKEN: TOKEN });

  test("check: changes nothing and fails with one file:line annotation per unpinned reference", async () => {
    const workdir = await workspace();
    const before = await snapshot(workdir);
    const run = await runBuiltAction("pin-digest", {
      workdir,
      env: env(),
      inputs: { mode: "check", paths: ".github/workflows/*.yml\ncompose.yaml" },
    });
    expect(run.failed).toBe(true);
    expect(await snapshot(workdir)).toEqual(before);
    const errors = run.annotations.filter((a) => a.level === "error" && a.title === "unpinned reference");
    expect(errors.map((a) => `${a.file}:${a.line}:${a.col}`)).toEqual([
      ".github/workflows/ci.yml:8:16",
      ".github/workflows/ci.yml:11:17",
      ".github/workflows/ci.yml:13:15",
      ".github/workflows/ci.yml:15:25",
      ".github/workflows/ci.yml:16:15",
      "compose.yaml:3:12",
      "compose.yaml:5:13",
    ]);
    expect(
      run.annotations.filter((a) => a.level === "warning" && a.title === "reference with a variable"),
    ).toEqual([expect.objectContaining({ file: ".github/workflows/ci.yml", line: 19 })]);
    expect(run.outputs.changed).toBe("false");
    expect(JSON.parse(run.outputs.pins ?? "")).toHaveLength(7);
    const failure = run.annotations.find(
      (a) => a.level === "error" && a.message.startsWith("7 reference(s) not pinned"),
    );
    expect(failure?.message).toContain(`.github/workflows/ci.yml:13 actions/checkout@v4 # v4`);
    expect(github.requests).toEqual([]); // check mode looks nothing up
  });

  test("pin + create-pr: pins images and actions, commits, pushes and opens a PR listing every pin", async () => {
    const { workdir, remote, git } = await gitWorkspace();
    github.requests.length = 0;

    const run = await runBuiltAction("pin-digest", {
      workdir,
      env: env(),
      inputs: { mode: "pin", "create-pr": "true", token: TOKEN },
    });
    expect(run.annotations.filter((a) => a.level === "error")).toEqual([]);
    expect(run.failed).toBe(false);
    expect(run.outputs.changed).toBe("true");
    expect(run.outputs["pull-request-number"]).toBe("1");
    expect(run.outputs["pull-request-url"]).toBe(`${github.url}/repos/acme/site/pull/1`);

    const pins = JSON.parse(run.outputs.pins ?? "") as {
      file: string;
      line: number;
      old: string;
      new: string;
    }[];
    expect(pins.map((p) => `${p.file}:${p.line} ${p.new}`)).toEqual([
      `.github/actions/setup/action.yml:6 actions/checkout@${CHECKOUT_SHA} # v4.2.2`,
      `.github/workflows/ci.yml:8 ${registry.host}/base:1@${digests["base:1"]}`,
      `.github/workflows/ci.yml:11 ${registry.host}/db:1@${digests["db:1"]}`,
      `.github/workflows/ci.yml:13 actions/checkout@${CHECKOUT_SHA} # v4.2.2`,
      `.github/workflows/ci.yml:15 ${registry.host}/tools:2@${digests["tools:2"]}`,
      `.github/workflows/ci.yml:16 acme/tool@${TOOL_SHA} # main`,
      // The ARG default FROM ${BASE} names, pinned in its ARG line.
      `Containerfile:2 ${registry.host}/base:1@${digests["base:1"]}`,
      `Containerfile:3 ${registry.host}/base:1@${digests["base:1"]}`,
      `Containerfile:5 ${registry.host}/tools:2@${digests["tools:2"]}`,
      `app/Dockerfile.release:1 ${registry.host}/multi:1@${digests["multi:1"]}`,
      `compose.yaml:3 ${registry.host}/multi:1@${digests["multi:1"]}`,
      `compose.yaml:5 ${registry.host}/db:1@${digests["db:1"]}`,
    ]);

    // Committed on the branch and pushed; the pushed file is what the action wrote.
    expect(git(remote, "show", "frostyard/pin-digest:compose.yaml")).toBe(
      (await readFile(join(workdir, "compose.yaml"), "utf8")).trim(),
    );
    expect(git(remote, "show", "frostyard/pin-digest:compose.yaml")).toContain(
      `multi:1@${digests["multi:1"]} # web tier`,
    );
    expect(git(remote, "rev-parse", "main")).not.toBe(git(remote, "rev-parse", "frostyard/pin-digest"));

    // The API calls, exactly: tag/branch lookups (each distinct ref once), then the PR.
    expect(github.requests.map((r) => `${r.method} ${r.url}`).sort()).toEqual(
      [
        "GET /repos/actions/checkout/git/ref/tags%2Fv4",
        "GET /repos/actions/checkout/git/matching-refs/tags%2Fv4.",
        "GET /repos/acme/tool/git/ref/tags%2Fmain",
        "GET /repos/acme/tool/git/ref/heads%2Fmain",
        "GET /repos/acme/site/pulls?head=acme%3Afrostyard%2Fpin-digest&state=open&per_page=1",
        "POST /repos/acme/site/pulls",
      ].sort(),
    );
    expect(github.requests.every((r) => r.authorization === `token ${TOKEN}`)).toBe(true);
    const pull = github.pulls.get("acme/site")?.[0];
    expect(pull).toMatchObject({
      head: "frostyard/pin-digest",
      base: "main",
      title: "Pin container images and actions to digests",
    });
    for (const p of pins) expect(pull?.body).toContain(`\`${p.new}\``);

    // The token was masked and never reached the log.
    expect(run.masks).toContain(TOKEN);
    expect(run.log.join("\n")).not.toContain(TOKEN);
    expect(run.summary).toContain("| Location | Reference | Old | New | Status |");
    expect(run.summary).toContain(`[#1](${github.url}/repos/acme/site/pull/1)`);
  });

  test("a push refused for want of the workflow scope: a clear failure, pins and outputs still in place", async () => {
    const { workdir, remote } = await gitWorkspace();
    const hook = join(remote, "hooks", "pre-receive");
    await writeFile(
      hook,
      "#!/bin/sh\necho 'refusing to allow a GitHub App to create or update workflow `.github/workflows/ci.yml` without `workflows` permission' >&2\nexit 1\n",
      { mode: 0o755 },
    );
    const pullsBefore = github.pulls.get("acme/site")?.length ?? 0;
    const run = await runBuiltAction("pin-digest", {
      workdir,
      env: env(),
      inputs: { mode: "pin", "create-pr": "true", token: TOKEN },
    });
    expect(run.failed).toBe(true);
    const errors = run.annotations.filter((a) => a.level === "error").map((a) => a.message);
    expect(errors).toHaveLength(1);
    expect(errors[0]).toContain(
      "the push was refused because the token may not create or update files under .github/workflows",
    );
    expect(errors[0]).toContain("'Workflows: write'");
    expect(run.outputs.changed).toBe("true");
    expect(JSON.parse(run.outputs.pins ?? "")).toHaveLength(12);
    expect(run.outputs["pull-request-url"]).toBe("");
    expect(run.summary).toContain("12 pinned");
    expect(github.pulls.get("acme/site")?.length ?? 0).toBe(pullsBefore);
    expect(run.log.join("\n")).not.toContain(TOKEN);
  });

  test("an unknown tag fails that reference with an annotation; the other references are pinned", async () => {
    const workdir = await workspace();
    const run = await runBuiltAction("pin-digest", {
      workdir,
      env: env(),
      inputs: { paths: "app/Dockerfile.release", include: "images" },
    });
    expect(run.failed).toBe(true);
    expect(run.annotations.filter((a) => a.level === "error" && a.title === "pin-digest")).toEqual([
      expect.objectContaining({
        file: "app/Dockerfile.release",
        line: 2,
        message: `'${registry.host}/missing:1': no such tag in the registry (manifest unknown)`,
      }),
    ]);
    expect(await readFile(join(workdir, "app/Dockerfile.release"), "utf8")).toBe(
      `FROM ${registry.host}/multi:1@${digests["multi:1"]}\nFROM ${registry.host}/missing:1\n`,
    );
    expect(run.outputs.changed).toBe("true");
  });

  test("paths leaving the workspace are refused, naming the input; the file outside is not rewritten", async () => {
    const workdir = await workspace();
    const outside = await mkdtemp(join(tmpdir(), "pin-digest-outside-"));
    dirs.push(outside);
    const text = `FROM ${registry.host}/base:1\n`;
    await writeFile(join(outside, "Containerfile"), text);
    const run = await runBuiltAction("pin-digest", {
      workdir,
      env: env(),
      inputs: { paths: join("..", basename(outside), "Containerfile") },
    });
    expect(run.failed).toBe(true);
    expect(run.annotations.map((a) => a.message).join("\n")).toContain(
      `input 'paths': matches '../${basename(outside)}/Containerfile', outside the workspace`,
    );
    expect(await readFile(join(outside, "Containerfile"), "utf8")).toBe(text);
  });

  test("check with paths matching no file fails naming the patterns", async () => {
    const workdir = await workspace();
    const run = await runBuiltAction("pin-digest", {
      workdir,
      env: env(),
      inputs: { mode: "check", paths: "nope/*.yml" },
    });
    expect(run.failed).toBe(true);
    expect(run.annotations.map((a) => a.message)).toContain(
      "input 'paths' matched no file ('nope/*.yml'): a check that checked nothing cannot pass",
    );
  });

  test("a bad input fails with the input's name and what is accepted", async () => {
    const workdir = await workspace();
    const run = await runBuiltAction("pin-digest", { workdir, env: env(), inputs: { mode: "bogus" } });
    expect(run.failed).toBe(true);
    expect(run.annotations.map((a) => a.message)).toContain(
      "input 'mode': got 'bogus'; expected one of: pin, check, update",
    );
  });
});
