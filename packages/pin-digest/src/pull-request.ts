import { ExecError, execStreaming, type Logger } from "@frostyard/kit";
import { newOctokit } from "./github-resolver";

export const DEFAULT_BRANCH = "frostyard/pin-digest";
const BOT_NAME = "github-actions[bot]";
const BOT_EMAIL = "41898282+github-actions[bot]@users.noreply.github.com";

export interface PullRequestOptions {
  /** The repository's work tree, with the rewritten files in it. */
  root: string;
  /** `owner/repo` on GitHub (GITHUB_REPOSITORY on a runner). */
  repository: string;
  /** Files (relative to `root`) to commit. */
  files: readonly string[];
  title: string;
  body: string;
  commitMessage: string;
  token: string;
  /** GITHUB_API_URL; tests point it at a local stand-in. */
  apiUrl?: string;
  /** GITHUB_SERVER_URL; the token is sent as an HTTP header to this host only (env, never argv). */
  serverUrl?: string;
  /** The branch the PR comes from; default `frostyard/pin-digest`. Force-pushed: it belongs to this action. */
  branch?: string;
  /** The branch the PR goes into; default the checked-out branch, or the repository's default branch. */
  base?: string;
  remote?: string;
  logger: Logger;
}

export interface PullRequestResult {
  number: number;
  url: string;
  created: boolean;
}

/** A push the server refused because the token may not change workflow files. */
export class WorkflowPermissionError extends Error {
  constructor(detail: string) {
    super(
      "the push was refused because the token may not create or update files under .github/workflows " +
        `(${detail}). GITHUB_TOKEN cannot change workflow files at all; pass a token with the 'workflow' ` +
        "scope (classic PAT) or a GitHub App / fine-grained token with 'Workflows: write' in the 'token' input, " +
        "or limit 'paths'/'include' so workflow files are not rewritten",
    );
    this.name = "WorkflowPermissionError";
  }
}

/** Recognises GitHub's refusal ("refusing to allow a … to create or update workflow … without `workflow` scope"). */
export function workflowRefusal(stderr: readonly string[]): string | undefined {
  return stderr
    .find((l) => /refusing to allow .* to create or update workflow/i.test(l))
    ?.replace(/^remote:\s*/, "")
    .trim();
}

/** Environment that gives git the token as an HTTP header for `serverUrl` only, as actions/checkout does. */
export function gitAuthEnv(serverUrl: string, token: string): Record<string, string> {
  const basic = Buffer.from(`x-access-token:${token}`).toString("base64");
  return {
    GIT_CONFIG_COUNT: "1",
    GIT_CONFIG_KEY_0: `http.${serverUrl.replace(/\/$/, "")}/.extraheader`,
    GIT_CONFIG_VALUE_0: `AUTHORIZATION: basic ${basic}`,
  };
}

function status(e: unknown): number | undefined {
  const s = (e as { status?: unknown }).status;
  return typeof s === "number" ? s : undefined;
}

function apiFailure(what: string, e: unknown): Error {
  const code = status(e);
  if (code === 403 || code === 401) {
    return new Error(
      `${what} was refused (${code}: ${(e as Error).message}); the token needs 'contents: write' and ` +
        "'pull-requests: write', and the repository must allow GitHub Actions to create pull requests",
    );
  }
  return new Error(`${what} failed${code ? ` (${code})` : ""}: ${(e as Error).message}`);
}

/**
 * Commits `files` on `branch` (created from the current HEAD), force-pushes it, then opens a pull
 * request from it or updates the one already open. The work tree is left on `branch`.
 */
export async function openPullRequest(options: PullRequestOptions): Promise<PullRequestResult> {
  const { root, logger, token } = options;
  logger.setSecret(token);
  const [owner, repo] = options.repository.split("/");
  if (!owner || !repo) throw new Error(`repository '${options.repository}' is not of the form owner/repo`);
  const branch = options.branch || DEFAULT_BRANCH;
  const remote = options.remote ?? "origin";
  const octokit = newOctokit(token, options.apiUrl, logger);
  const git = (args: string[], env: Record<string, string> = {}) =>
    execStreaming("git", args, {
      logger,
      cwd: root,
      env,
      extendEnv: true,
      secrets: [token],
      captureStdout: true,
    });

  const checkedOut = (await git(["rev-parse", "--abbrev-ref", "HEAD"])).stdout.trim();
  // Into the branch that was checked out; when detached (pull_request runs) or already on our branch,
  // into the repository's default branch. Asked only when a PR has to be opened.
  const baseBranch = async (): Promise<string> => {
    if (options.base) return options.base;
    if (checkedOut !== "HEAD" && checkedOut !== branch) return checkedOut;
    const { data } = await octokit.rest.repos.get({ owner, repo }).catch((e: unknown) => {
      throw apiFailure(`reading ${owner}/${repo}'s default branch`, e);
    });
    return data.default_branch;
  };

  await git(["checkout", "-B", branch]);
  await git(["add", "--", ...options.files]);
  await git([
    "-c",
    `user.name=${BOT_NAME}`,
    "-c",
    `user.email=${BOT_EMAIL}`,
    "commit",
    "--no-verify",
    "-m",
    options.commitMessage,
  ]);
  const authEnv = options.serverUrl ? gitAuthEnv(options.serverUrl, token) : {};
  try {
    await git(["push", "--force", remote, `HEAD:refs/heads/${branch}`], authEnv);
  } catch (e) {
    const refusal = e instanceof ExecError ? workflowRefusal(e.stderrTail) : undefined;
    if (refusal) throw new WorkflowPermissionError(refusal);
    throw e;
  }

  const open = await octokit.rest.pulls
    .list({ owner, repo, head: `${owner}:${branch}`, state: "open", per_page: 1 })
    .catch((e: unknown) => {
      throw apiFailure(`listing pull requests from ${branch}`, e);
    });
  const existing = open.data[0];
  if (existing) {
    await octokit.rest.pulls
      .update({ owner, repo, pull_number: existing.number, title: options.title, body: options.body })
      .catch((e: unknown) => {
        throw apiFailure(`updating pull request #${existing.number}`, e);
      });
    logger.info(`updated pull request #${existing.number}: ${existing.html_url}`);
    return { number: existing.number, url: existing.html_url, created: false };
  }
  const base = await baseBranch();
  const { data } = await octokit.rest.pulls
    .create({ owner, repo, head: branch, base, title: options.title, body: options.body })
    .catch((e: unknown) => {
      throw apiFailure(`opening a pull request from ${branch} into ${base}`, e);
    });
  logger.info(`opened pull request #${data.number}: ${data.html_url}`);
  return { number: data.number, url: data.html_url, created: true };
}
