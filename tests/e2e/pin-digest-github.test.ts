import { execFileSync } from "node:child_process";
import { chmod, mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, test } from "vitest";
import { recordingLogger } from "@frostyard/kit";
import { GitHubActionResolver, openPullRequest, WorkflowPermissionError } from "@frostyard/pin-digest";
import { startFakeGitHub, type FakeGitHub } from "../helpers/github-api";
import { missingTools } from "../helpers/tools";

/**
 * The GitHub REST API cannot be had here (no internet on our machines), so these tests run the real @octokit/rest
 * client against tests/helpers/github-api.ts, a local server implementing only the endpoints pin-digest
 * uses, and assert the exact requests it received. Git itself is real: a bare repository on disk is the
 * remote, and a pre-receive hook plays GitHub's refusal of workflow changes.
 */

const A = "a".repeat(40);
const B = "b".repeat(40);
const C = "c".repeat(40);
const ANNOTATED = "d".repeat(40);
const TOKEN = "ghs_test-token-1234567890";

let github: FakeGitHub;
beforeAll(async () => {
  github = await startFakeGitHub({
    "actions/checkout": {
      tags: {
        v4: { commit: A },
        "v4.1.0": { commit: B },
        "v4.2.1": { commit: B },
        "v4.2.2": { commit: A, annotatedSha: ANNOTATED },
        "v4.10.0": { commit: C },
      },
      branches: { main: C },
    },
    "acme/annotated": { tags: { v1: { commit: B, annotatedSha: "e".repeat(40) } } },
    "acme/site": { defaultBranch: "trunk" },
  });
});
afterAll(() => github.stop());

function takeRequests() {
  const taken = github.requests.map((r) => `${r.method} ${r.url}`);
  github.requests.length = 0;
  return taken;
}

describe("GitHubActionResolver against the local GitHub API stand-in", () => {
  const resolver = () => new GitHubActionResolver({ token: TOKEN, baseUrl: github.url });

  test("a major tag resolves to its commit, named by the newest release tag on the same commit", async () => {
    takeRequests();
    // v4.10.0 is newer but on another commit; v4.2.2 (annotated, peeled) is the newest on A.
    expect(await resolver().resolve("actions", "checkout", "v4", true)).toEqual({
      sha: A,
      version: "v4.2.2",
    });
    expect(takeRequests()).toEqual([
      "GET /repos/actions/checkout/git/ref/tags%2Fv4",
      "GET /repos/actions/checkout/git/matching-refs/tags%2Fv4.",
      "GET /repos/actions/checkout/git/tags/" + ANNOTATED,
    ]);
    expect(github.requests.every((r) => r.authorization === `token ${TOKEN}`)).toBe(true);
  });

  test("without refine (update mode) the tag is kept as written", async () => {
    takeRequests();
    expect(await resolver().resolve("actions", "checkout", "v4.2.2", false)).toEqual({
      sha: A,
      version: "v4.2.2",
    });
    expect(takeRequests()).toEqual([
      "GET /repos/actions/checkout/git/ref/tags%2Fv4.2.2",
      "GET /repos/actions/checkout/git/tags/" + ANNOTATED,
    ]);
  });

  test("an annotated tag is peeled to its commit", async () => {
    expect(await resolver().resolve("acme", "annotated", "v1", false)).toEqual({ sha: B, version: "v1" });
  });

  test("a branch resolves to its head, named by the branch", async () => {
    takeRequests();
    expect(await resolver().resolve("actions", "checkout", "main", true)).toEqual({
      sha: C,
      version: "main",
    });
    expect(takeRequests()).toEqual([
      "GET /repos/actions/checkout/git/ref/tags%2Fmain",
      "GET /repos/actions/checkout/git/ref/heads%2Fmain",
    ]);
  });

  test.each([
    ["actions", "checkout", "v9", "actions/checkout@v9: actions/checkout has no tag or branch named 'v9'"],
    ["acme", "gone", "v1", "acme/gone@v1: repository acme/gone not found (or the token cannot read it)"],
  ])("%s/%s@%s: a clear error", async (owner, repo, ref, message) => {
    await expect(resolver().resolve(owner, repo, ref, true)).rejects.toThrow(message);
  });

  test("a 502 is retried; the lookup then succeeds", async () => {
    takeRequests();
    github.failures.set("GET /repos/acme/annotated/git/ref/", {
      status: 502,
      message: "Bad Gateway",
      times: 1,
    });
    const retrying = new GitHubActionResolver({
      token: TOKEN,
      baseUrl: github.url,
      retry: { baseDelayMs: 1 },
    });
    expect(await retrying.resolve("acme", "annotated", "v1", false)).toEqual({ sha: B, version: "v1" });
    expect(takeRequests()).toEqual([
      "GET /repos/acme/annotated/git/ref/tags%2Fv1",
      "GET /repos/acme/annotated/git/ref/tags%2Fv1",
      "GET /repos/acme/annotated/git/tags/" + "e".repeat(40),
    ]);
  });

  test("a rejected token is reported as such", async () => {
    github.failures.set("GET /repos/acme/annotated/", { status: 401, message: "Bad credentials" });
    try {
      await expect(resolver().resolve("acme", "annotated", "v1", true)).rejects.toThrow(
        "acme/annotated@v1: the GitHub API rejected the token (401); check the 'token' input",
      );
    } finally {
      github.failures.clear();
    }
  });
});

const skipGit = missingTools("git");

describe.skipIf(skipGit)("openPullRequest: real git, local bare remote, API stand-in", () => {
  let dir: string;
  let remote: string;
  let work: string;
  const git = (cwd: string, ...args: string[]) =>
    execFileSync("git", ["-c", "user.name=t", "-c", "user.email=t@example.com", ...args], {
      cwd,
      encoding: "utf8",
    }).trim();

  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), "pin-digest-git-"));
    remote = join(dir, "remote.git");
    work = join(dir, "work");
    execFileSync("git", ["init", "-q", "--bare", "-b", "trunk", remote]);
    execFileSync("git", ["init", "-q", "-b", "trunk", work]);
    await writeFile(join(work, "Containerfile"), "FROM debian:12\n");
    git(work, "add", "Containerfile");
    git(work, "commit", "-q", "-m", "initial");
    git(work, "remote", "add", "origin", remote);
    git(work, "push", "-q", "origin", "trunk");
  });
  afterAll(() => rm(dir, { recursive: true, force: true }));

  const open = (body: string) =>
    openPullRequest({
      root: work,
      repository: "acme/site",
      files: ["Containerfile"],
      title: "Pin digests",
      body,
      commitMessage: "Pin image and action references to digests",
      token: TOKEN,
      apiUrl: github.url,
      logger: recordingLogger(),
    });

  test("commits on the branch, pushes it, opens a PR into the checked-out branch; a second run updates it", async () => {
    takeRequests();
    await writeFile(join(work, "Containerfile"), `FROM debian:12@sha256:${"1".repeat(64)}\n`);
    const first = await open("first body");
    expect(first).toEqual({ number: 1, url: `${github.url}/repos/acme/site/pull/1`, created: true });
    expect(git(remote, "show", "frostyard/pin-digest:Containerfile")).toBe(
      `FROM debian:12@sha256:${"1".repeat(64)}`,
    );
    expect(git(remote, "log", "-1", "--format=%an <%ae>%n%s", "frostyard/pin-digest")).toBe(
      "github-actions[bot] <41898282+github-actions[bot]@users.noreply.github.com>\nPin image and action references to digests",
    );
    expect(takeRequests()).toEqual([
      "GET /repos/acme/site/pulls?head=acme%3Afrostyard%2Fpin-digest&state=open&per_page=1",
      "POST /repos/acme/site/pulls",
    ]);
    expect(github.pulls.get("acme/site")).toEqual([
      {
        number: 1,
        head: "frostyard/pin-digest",
        base: "trunk",
        title: "Pin digests",
        body: "first body",
        state: "open",
      },
    ]);

    await writeFile(join(work, "Containerfile"), `FROM debian:12@sha256:${"2".repeat(64)}\n`);
    const second = await open("second body");
    expect(second).toEqual({ number: 1, url: `${github.url}/repos/acme/site/pull/1`, created: false });
    expect(takeRequests()).toEqual([
      "GET /repos/acme/site/pulls?head=acme%3Afrostyard%2Fpin-digest&state=open&per_page=1",
      "PATCH /repos/acme/site/pulls/1",
    ]);
    expect(github.pulls.get("acme/site")?.[0]?.body).toBe("second body");
    expect(git(remote, "show", "frostyard/pin-digest:Containerfile")).toBe(
      `FROM debian:12@sha256:${"2".repeat(64)}`,
    );
  });

  test("a push refused for lack of the workflow scope is a clear error naming the fix", async () => {
    const hook = join(remote, "hooks", "pre-receive");
    await writeFile(
      hook,
      '#!/bin/sh\necho "refusing to allow a GitHub App to create or update workflow \\`.github/workflows/ci.yml\\` without \\`workflows\\` permission" >&2\nexit 1\n',
    );
    await chmod(hook, 0o755);
    await writeFile(join(work, "Containerfile"), `FROM debian:12@sha256:${"3".repeat(64)}\n`);
    const error = await open("body").catch((e: unknown) => e);
    expect(error).toBeInstanceOf(WorkflowPermissionError);
    expect((error as Error).message).toContain(
      "the push was refused because the token may not create or update files under .github/workflows",
    );
    expect((error as Error).message).toContain("'Workflows: write'");
    expect((error as Error).message).not.toContain(TOKEN);
    await rm(hook);
  });
});
