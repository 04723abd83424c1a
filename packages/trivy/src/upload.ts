import { gzipSync } from "node:zlib";
import type { SarifLog } from "./sarif";

/** The body of POST /repos/{owner}/{repo}/code-scanning/sarifs: the SARIF gzipped, then base64. */
export interface SarifUploadRequest {
  owner: string;
  repo: string;
  commit_sha: string;
  ref: string;
  sarif: string;
}

export function sarifUploadRequest(
  repository: string,
  commitSha: string,
  ref: string,
  log: SarifLog,
): SarifUploadRequest {
  const [owner, repo, ...rest] = repository.split("/");
  if (!owner || !repo || rest.length > 0) {
    throw new Error(`'${repository}' is not an owner/repository name`);
  }
  return {
    owner,
    repo,
    commit_sha: commitSha,
    ref,
    sarif: gzipSync(JSON.stringify(log)).toString("base64"),
  };
}

/** Why the upload is skipped, or undefined when it can go ahead. */
export function uploadSkipReason(
  env: Record<string, string | undefined>,
  event: unknown,
): string | undefined {
  if (!env.GITHUB_API_URL || !env.GITHUB_REPOSITORY || !env.GITHUB_SHA || !env.GITHUB_REF) {
    return "no GitHub API is configured (GITHUB_API_URL, GITHUB_REPOSITORY, GITHUB_SHA and GITHUB_REF are needed)";
  }
  if (env.GITHUB_EVENT_NAME === "pull_request" || env.GITHUB_EVENT_NAME === "pull_request_target") {
    const pr = (event as { pull_request?: { head?: { repo?: { full_name?: string; fork?: boolean } } } })
      ?.pull_request;
    const head = pr?.head?.repo;
    if (head && (head.fork === true || (head.full_name && head.full_name !== env.GITHUB_REPOSITORY))) {
      return `a pull request from the fork ${head.full_name ?? "?"} gets a read-only token: code scanning refuses its uploads`;
    }
  }
  return undefined;
}

/** What a failed upload means for the user: a 403 is almost always the missing permission. */
export function uploadFailureMessage(status: number | undefined, message: string): string {
  if (status === 403 || status === 404) {
    return (
      `uploading SARIF to code scanning was refused (${status ?? "?"}: ${message}); the job needs ` +
      "`permissions: security-events: write` (and code scanning enabled on the repository)"
    );
  }
  return `uploading SARIF to code scanning failed (${status ?? "no status"}): ${message}`;
}
