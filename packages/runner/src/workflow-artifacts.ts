import { existsSync } from "node:fs";
import { readdir, stat } from "node:fs/promises";
import { dirname, join, relative, resolve, sep } from "node:path";
import { DefaultArtifactClient } from "@actions/artifact";
import { WorkflowError } from "./workflow-errors";

/**
 * actions/upload-artifact and actions/download-artifact, modelled: the same inputs a workflow gives them,
 * carried out with @actions/artifact (the library both actions are built on) against the loopback results
 * service and blob storage (hosted-services.ts). Globs in `path`, `compression-level`, `overwrite` and
 * `include-hidden-files` are not modelled; an input outside what is modelled fails naming it.
 */

const UPLOAD_INPUTS = ["name", "path", "retention-days", "if-no-files-found"];
const DOWNLOAD_INPUTS = ["name", "pattern", "path", "merge-multiple"];

/** `pattern:` of download-artifact: `*` and `?` as in a glob, anchored. */
export function artifactPattern(pattern: string): RegExp {
  const escaped = pattern
    .replace(/[.+^${}()|[\]\\]/g, "\\$&")
    .replace(/\*/g, ".*")
    .replace(/\?/g, ".");
  return new RegExp(`^${escaped}$`);
}

function refuseUnknown(where: string, action: string, inputs: Record<string, string>, known: string[]) {
  const unknown = Object.keys(inputs).filter((name) => !known.includes(name));
  if (unknown.length > 0) {
    throw new WorkflowError(
      where,
      `${action}: input(s) '${unknown.join("', '")}' are not modelled by the local runner (modelled: ${known.join(", ")})`,
    );
  }
}

async function filesUnder(path: string): Promise<string[]> {
  if (!(await stat(path)).isDirectory()) return [path];
  const files: string[] = [];
  for (const entry of await readdir(path, { withFileTypes: true })) {
    files.push(...(await filesUnder(join(path, entry.name))));
  }
  return files;
}

/** The deepest directory holding every path: upload-artifact's root, so names inside keep their layout. */
export function commonRoot(paths: readonly string[]): string {
  const parts = paths.map((path) => resolve(path).split(sep));
  const first = parts[0] ?? [];
  let length = 0;
  while (length < first.length && parts.every((p) => p[length] === first[length])) length++;
  return first.slice(0, length).join(sep) || sep;
}

/**
 * Runs `fn` with this process's env pointing @actions/artifact at the job's services (it reads process.env
 * on every call), and its stdout (where @actions/core writes, workflow commands included) handed to `line`
 * as the runner would read a step's output. Jobs run one at a time, so nothing else writes meanwhile.
 */
async function asStep<T>(
  env: Record<string, string>,
  line: (text: string) => void,
  fn: () => Promise<T>,
): Promise<T> {
  const saved = Object.fromEntries(Object.keys(env).map((name) => [name, process.env[name]]));
  Object.assign(process.env, env);
  const write = process.stdout.write;
  let pending = "";
  // The caller may print what it is handed (the CLI does): that output goes out as it is, not back here.
  let delivering = false;
  process.stdout.write = ((chunk: string | Uint8Array, ...rest: unknown[]) => {
    if (delivering) return (write as (...args: unknown[]) => boolean).call(process.stdout, chunk, ...rest);
    const text = typeof chunk === "string" ? chunk : Buffer.from(chunk).toString("utf8");
    const lines = (pending + text).split(/\r?\n/);
    pending = lines.pop() ?? "";
    delivering = true;
    try {
      for (const each of lines) line(each);
    } finally {
      delivering = false;
    }
    return true;
  }) as typeof process.stdout.write;
  try {
    return await fn();
  } finally {
    process.stdout.write = write;
    if (pending !== "") line(pending);
    for (const [name, value] of Object.entries(saved)) {
      if (value === undefined) delete process.env[name];
      else process.env[name] = value;
    }
  }
}

export interface ArtifactStep {
  where: string;
  inputs: Record<string, string>;
  /** The job's hosted-service env (ACTIONS_RESULTS_URL, ACTIONS_RUNTIME_TOKEN) and GITHUB_WORKSPACE. */
  env: Record<string, string>;
  /** Takes every line the step prints, workflow commands included (the caller processes them). */
  log: (line: string) => void;
}

function needServices(step: ArtifactStep, action: string) {
  if (!step.env.ACTIONS_RESULTS_URL || !step.env.ACTIONS_RUNTIME_TOKEN) {
    throw new WorkflowError(step.where, `${action} needs the artifact service: run with --hosted-services`);
  }
}

export async function uploadArtifact(step: ArtifactStep): Promise<Record<string, string>> {
  const action = "actions/upload-artifact";
  refuseUnknown(step.where, action, step.inputs, UPLOAD_INPUTS);
  needServices(step, action);
  const name = step.inputs.name || "artifact";
  const workspace = step.env.GITHUB_WORKSPACE ?? process.cwd();
  const paths = (step.inputs.path ?? "")
    .split("\n")
    .map((line) => line.trim())
    .filter((line) => line !== "");
  if (paths.length === 0) throw new WorkflowError(step.where, `${action}: path is required`);
  const globbed = paths.find((path) => /[*?[]/.test(path) || path.startsWith("!"));
  if (globbed)
    throw new WorkflowError(
      step.where,
      `${action}: glob path '${globbed}' is not modelled; name files or directories`,
    );
  const absolute = paths.map((path) => resolve(workspace, path));
  const present = absolute.filter((path) => existsSync(path));
  const missing = absolute.filter((path) => !existsSync(path));
  const ifNone = step.inputs["if-no-files-found"] || "warn";
  if (present.length === 0) {
    const message = `no files were found with the provided path: ${paths.join(", ")}`;
    if (ifNone === "error") throw new WorkflowError(step.where, `${action}: ${message}`);
    if (ifNone === "warn") step.log(`::warning::${message}. No artifacts will be uploaded.`);
    return {};
  }
  if (missing.length > 0) step.log(`${action}: not found, skipped: ${missing.join(", ")}`);
  const files = (await Promise.all(present.map(filesUnder))).flat();
  // As upload-artifact: one file uploads from its directory, one directory from itself, several paths
  // from their deepest common directory, so names inside the artifact keep their layout.
  const single = present[0] as string;
  const root =
    present.length > 1
      ? commonRoot(present)
      : files.length === 1 && files[0] === single
        ? dirname(single)
        : single;
  const retention = step.inputs["retention-days"] ? Number(step.inputs["retention-days"]) : undefined;
  const uploaded = await asStep(step.env, step.log, () =>
    new DefaultArtifactClient().uploadArtifact(
      name,
      files,
      root,
      retention ? { retentionDays: retention } : {},
    ),
  );
  step.log(
    `${action}: uploaded '${name}' (${files.map((file) => relative(root, file)).join(", ")}), id ${uploaded.id}, ${uploaded.size} bytes`,
  );
  return { "artifact-id": String(uploaded.id ?? ""), "artifact-digest": uploaded.digest ?? "" };
}

export async function downloadArtifact(step: ArtifactStep): Promise<Record<string, string>> {
  const action = "actions/download-artifact";
  refuseUnknown(step.where, action, step.inputs, DOWNLOAD_INPUTS);
  needServices(step, action);
  const workspace = step.env.GITHUB_WORKSPACE ?? process.cwd();
  const path = resolve(workspace, step.inputs.path || ".");
  const merge = step.inputs["merge-multiple"] === "true";
  return asStep(step.env, step.log, async () => {
    const client = new DefaultArtifactClient();
    if (step.inputs.name) {
      const { artifact } = await client.getArtifact(step.inputs.name);
      await client.downloadArtifact(artifact.id, { path });
      step.log(`${action}: '${artifact.name}' → ${path}`);
      return { "download-path": path };
    }
    const pattern = step.inputs.pattern ? artifactPattern(step.inputs.pattern) : /.*/;
    const { artifacts } = await client.listArtifacts({ latest: true });
    const chosen = artifacts.filter((artifact) => pattern.test(artifact.name));
    for (const artifact of chosen) {
      const into = merge ? path : join(path, artifact.name);
      await client.downloadArtifact(artifact.id, { path: into });
    }
    step.log(
      `${action}: ${chosen.length} artifact(s) → ${path}: ${chosen.map((a) => a.name).join(", ") || "none matched"}`,
    );
    return { "download-path": path };
  });
}
