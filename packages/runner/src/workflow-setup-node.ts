import { readFile } from "node:fs/promises";
import { dirname, resolve } from "node:path";
import { WorkflowError } from "./workflow-errors";

/** The inputs of actions/setup-node the local runner models; any other one refuses the step. */
const MODELLED_INPUTS = ["node-version", "node-version-file", "cache"];

/**
 * The major version a setup-node step asks for, from `node-version` or the first line of its
 * `node-version-file` (`24`, `24.x`, `v24.1.0`, `24.21.0`). Aliases (`lts/*`, `latest`, `node`) and
 * ranges resolve against a release index the local runner does not have, so they are refused.
 */
export function requestedNodeMajor(spec: string, where: string): number {
  const version = spec.trim().split("\n")[0]!.trim();
  const match = /^v?(\d+)(\.(\d+|x|\*))?(\.(\d+|x|\*))?$/.exec(version);
  if (!match) {
    throw new WorkflowError(
      where,
      `actions/setup-node: node-version '${version}' is not modelled (a major version such as 24, 24.x or v24.1.0)`,
    );
  }
  return Number(match[1]);
}

/**
 * actions/setup-node, modelled: it never downloads a Node. It puts the Node this runner runs on (the
 * project's pinned Node 24) first on PATH when that is the major asked for, and fails otherwise, so a
 * workflow that wants another Node does not silently run with this one. `cache: npm` is accepted and does
 * nothing here (npm's own cache on this machine serves `npm ci`).
 */
export async function setupNode(
  inputs: Record<string, string>,
  workspace: string,
  where: string,
  runtime = { execPath: process.execPath, version: process.versions.node },
): Promise<{ addedPath: string[]; message: string }> {
  const unknown = Object.keys(inputs).filter((name) => inputs[name] && !MODELLED_INPUTS.includes(name));
  if (unknown.length > 0) {
    throw new WorkflowError(
      where,
      `actions/setup-node: ${unknown.join(", ")} not modelled (it models ${MODELLED_INPUTS.join(", ")})`,
    );
  }
  let spec = inputs["node-version"];
  if (!spec && inputs["node-version-file"]) {
    const file = resolve(workspace, inputs["node-version-file"]);
    spec = await readFile(file, "utf8").catch(() => {
      throw new WorkflowError(where, `actions/setup-node: node-version-file ${file} cannot be read`);
    });
  }
  if (!spec) throw new WorkflowError(where, "actions/setup-node: give node-version or node-version-file");
  const wanted = requestedNodeMajor(spec, where);
  const have = Number(runtime.version.split(".")[0]);
  if (wanted !== have) {
    throw new WorkflowError(
      where,
      `actions/setup-node: Node ${wanted} asked for; the local runner has only its own Node ${runtime.version}`,
    );
  }
  const cache = inputs.cache
    ? `; cache: ${inputs.cache} not modelled (this machine's npm cache is used)`
    : "";
  return {
    addedPath: [dirname(runtime.execPath)],
    message: `actions/setup-node (modelled): Node ${runtime.version} from ${dirname(runtime.execPath)}${cache}`,
  };
}
