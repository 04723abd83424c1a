import { isTransientError, retry, type Logger, type RetryOptions } from "@frostyard/kit";
import { Octokit } from "@octokit/rest";
import type { ActionRefResolver, ActionResolution } from "./resolvers";

interface GitObject {
  type: string;
  sha: string;
}

function status(e: unknown): number | undefined {
  const s = (e as { status?: unknown }).status;
  return typeof s === "number" ? s : undefined;
}

/** Turns an API failure into a message that says which ref, what happened and what to do. */
export function describeApiError(what: string, e: unknown): Error {
  const code = status(e);
  const detail = (e as Error).message;
  if (code === 401)
    return new Error(`${what}: the GitHub API rejected the token (401); check the 'token' input`);
  if (code === 403 || code === 429) {
    return new Error(
      `${what}: the GitHub API refused the request (${code}: ${detail}); a rate limit or a token without read access to the repository`,
    );
  }
  return new Error(`${what}: GitHub API request failed${code ? ` (${code})` : ""}: ${detail}`);
}

const SEMVERISH = /^v?(\d+)(?:\.(\d+))?(?:\.(\d+))?$/;

function versionKey(tag: string): number[] {
  const m = SEMVERISH.exec(tag);
  return m ? [Number(m[1]), Number(m[2] ?? -1), Number(m[3] ?? -1)] : [];
}

function compareVersionsDesc(a: string, b: string): number {
  const ka = versionKey(a);
  const kb = versionKey(b);
  for (let i = 0; i < 3; i++) if (ka[i] !== kb[i]) return (kb[i] ?? -1) - (ka[i] ?? -1);
  return 0;
}

/** 429 and 5xx (not 501) from the API, or a reset connection: worth another try. */
export function isRetryableApiError(e: unknown): boolean {
  const code = status(e);
  if (code !== undefined) return code === 429 || (code >= 500 && code <= 599 && code !== 501);
  return isTransientError(e);
}

/**
 * An Octokit that retries transient failures with backoff, and whose own request log goes to debug: a
 * 404 while probing `tags/x` before `heads/x` is expected, not a warning worth showing.
 */
export function newOctokit(
  token: string | undefined,
  baseUrl: string | undefined,
  logger?: Logger,
  retryOptions: RetryOptions = {},
): Octokit {
  const debug = (message: string) => logger?.debug(message);
  const octokit = new Octokit({
    auth: token || undefined,
    baseUrl,
    userAgent: "frostyard-pin-digest",
    log: { debug, info: debug, warn: debug, error: debug },
  });
  octokit.hook.wrap("request", (request, options) =>
    retry(async () => request(options), {
      attempts: 4,
      isRetryable: isRetryableApiError,
      onRetry: ({ attempt, delayMs, error }) =>
        logger?.info(
          `GitHub API ${options.method} ${options.url}: ${(error as Error).message}; retry ${attempt} in ${delayMs} ms`,
        ),
      ...retryOptions,
    }),
  );
  return octokit;
}

/** How many candidate tags are peeled to find the most specific name for a commit. */
const MAX_REFINE_LOOKUPS = 5;

/**
 * Resolves action refs through the GitHub REST API (git refs and tags; only GETs). The base URL comes
 * from the caller (GITHUB_API_URL on a runner, a local stand-in in tests).
 */
export class GitHubActionResolver implements ActionRefResolver {
  readonly octokit: Octokit;

  constructor(options: {
    token?: string;
    baseUrl?: string;
    logger?: Logger;
    retry?: RetryOptions;
    octokit?: Octokit;
  }) {
    this.octokit =
      options.octokit ?? newOctokit(options.token, options.baseUrl, options.logger, options.retry);
  }

  private async getRef(owner: string, repo: string, ref: string): Promise<GitObject | undefined> {
    try {
      const { data } = await this.octokit.rest.git.getRef({ owner, repo, ref });
      return data.object;
    } catch (e) {
      if (status(e) === 404) return undefined;
      throw e;
    }
  }

  /** Follows annotated tags down to the commit they point at. */
  private async peel(owner: string, repo: string, object: GitObject): Promise<string> {
    let current = object;
    for (let depth = 0; current.type === "tag"; depth++) {
      if (depth === 5) throw new Error(`tag chain deeper than 5 at ${current.sha}`);
      const { data } = await this.octokit.rest.git.getTag({ owner, repo, tag_sha: current.sha });
      current = data.object;
    }
    return current.sha;
  }

  /** `v4` on commit X → the newest `v4.x.y` tag also on X, so the comment names an exact release. */
  private async refine(owner: string, repo: string, tag: string, sha: string): Promise<string> {
    if (!SEMVERISH.test(tag) || versionKey(tag)[2] !== -1) return tag;
    const { data } = await this.octokit.rest.git.listMatchingRefs({ owner, repo, ref: `tags/${tag}.` });
    const candidates = data
      .map((r) => ({ name: r.ref.replace(/^refs\/tags\//, ""), object: r.object }))
      .filter((c) => SEMVERISH.test(c.name))
      .sort((a, b) => compareVersionsDesc(a.name, b.name))
      .slice(0, MAX_REFINE_LOOKUPS);
    for (const c of candidates) {
      if ((await this.peel(owner, repo, c.object)) === sha) return c.name;
    }
    return tag;
  }

  async resolve(owner: string, repo: string, ref: string, refine: boolean): Promise<ActionResolution> {
    const what = `${owner}/${repo}@${ref}`;
    try {
      const tag = await this.getRef(owner, repo, `tags/${ref}`);
      if (tag) {
        const sha = await this.peel(owner, repo, tag);
        return { sha, version: refine ? await this.refine(owner, repo, ref, sha) : ref };
      }
      const branch = await this.getRef(owner, repo, `heads/${ref}`);
      if (branch) return { sha: branch.sha, version: ref };
    } catch (e) {
      throw describeApiError(what, e);
    }
    const exists = await this.octokit.rest.repos.get({ owner, repo }).then(
      () => true,
      (e: unknown) => (status(e) === 404 ? false : Promise.reject(describeApiError(what, e))),
    );
    if (!exists) {
      throw new Error(`${what}: repository ${owner}/${repo} not found (or the token cannot read it)`);
    }
    throw new Error(`${what}: ${owner}/${repo} has no tag or branch named '${ref}'`);
  }
}
