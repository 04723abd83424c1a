import { WorkflowError } from "./workflow-errors";

export type WorkflowEvent = "push" | "pull_request";
export const WORKFLOW_EVENTS: readonly WorkflowEvent[] = ["push", "pull_request"];

export interface RunIdentity {
  event: WorkflowEvent;
  /** owner/name the run belongs to. */
  repository: string;
  sha: string;
  /** push: the pushed ref (default refs/heads/<default branch>); pull_request: the merge ref. */
  ref?: string;
  defaultBranch: string;
  actor: string;
  runId: string;
  workspace: string;
  workflow: string;
  token: string;
  serverUrl: string;
}

/**
 * The `github` context (and its event payload) for a run. A pull request is modelled as GitHub runs one
 * from a fork, the case a reusable workflow must survive: no secrets, no id-token, a read-only token.
 */
export function githubContext(run: RunIdentity): Record<string, unknown> {
  const pull = run.event === "pull_request";
  const ref = run.ref ?? (pull ? "refs/pull/1/merge" : `refs/heads/${run.defaultBranch}`);
  const [owner = "", name = ""] = run.repository.split("/");
  const repository = {
    full_name: run.repository,
    name,
    owner: { login: owner },
    default_branch: run.defaultBranch,
  };
  const event: Record<string, unknown> = pull
    ? {
        action: "synchronize",
        number: 1,
        repository,
        pull_request: {
          number: 1,
          head: { ref: "topic", sha: run.sha, repo: { full_name: `fork/${name}`, fork: true } },
          base: { ref: run.defaultBranch, repo: repository },
        },
      }
    : { ref, after: run.sha, repository };
  return {
    event_name: run.event,
    event,
    ref,
    ref_name: pull ? "1/merge" : ref.replace(/^refs\/(heads|tags)\//, ""),
    ref_type: ref.startsWith("refs/tags/") ? "tag" : "branch",
    base_ref: pull ? run.defaultBranch : "",
    head_ref: pull ? "topic" : "",
    sha: run.sha,
    repository: run.repository,
    repository_owner: owner,
    actor: run.actor,
    triggering_actor: run.actor,
    run_id: run.runId,
    run_number: "1",
    run_attempt: "1",
    workflow: run.workflow,
    workspace: run.workspace,
    token: run.token,
    server_url: run.serverUrl,
    api_url: "https://api.github.com",
    graphql_url: "https://api.github.com/graphql",
    action: "",
    job: "",
  };
}

/** The GITHUB_* variables a step sees, from the `github` context. */
export function githubEnv(github: Record<string, unknown>, eventPath: string): Record<string, string> {
  const text = (key: string) => String(github[key] ?? "");
  return {
    GITHUB_EVENT_NAME: text("event_name"),
    GITHUB_EVENT_PATH: eventPath,
    GITHUB_REF: text("ref"),
    GITHUB_REF_NAME: text("ref_name"),
    GITHUB_REF_TYPE: text("ref_type"),
    GITHUB_BASE_REF: text("base_ref"),
    GITHUB_HEAD_REF: text("head_ref"),
    GITHUB_SHA: text("sha"),
    GITHUB_REPOSITORY: text("repository"),
    GITHUB_REPOSITORY_OWNER: text("repository_owner"),
    GITHUB_ACTOR: text("actor"),
    GITHUB_TRIGGERING_ACTOR: text("triggering_actor"),
    GITHUB_RUN_ID: text("run_id"),
    GITHUB_RUN_NUMBER: text("run_number"),
    GITHUB_RUN_ATTEMPT: text("run_attempt"),
    GITHUB_WORKFLOW: text("workflow"),
    GITHUB_WORKSPACE: text("workspace"),
    GITHUB_SERVER_URL: text("server_url"),
    GITHUB_API_URL: text("api_url"),
    GITHUB_GRAPHQL_URL: text("graphql_url"),
    GITHUB_JOB: text("job"),
  };
}

export interface InputDefinition {
  type?: string;
  required?: boolean;
  default?: unknown;
}

/**
 * The `inputs` context from `workflow_call` definitions and the `--input` strings given: typed as declared
 * (boolean inputs are booleans, numbers numbers), defaults applied, required and unknown inputs refused.
 */
export function inputsContext(
  definitions: Readonly<Record<string, InputDefinition>>,
  given: Readonly<Record<string, string>>,
): Record<string, unknown> {
  const unknown = Object.keys(given).filter((name) => !(name in definitions));
  if (unknown.length > 0) {
    throw new WorkflowError(
      "inputs",
      `'${unknown.join("', '")}' not declared; the workflow declares: ${Object.keys(definitions).join(", ") || "none"}`,
    );
  }
  const inputs: Record<string, unknown> = {};
  for (const [name, definition] of Object.entries(definitions)) {
    const type = definition.type ?? "string";
    const raw = given[name];
    if (raw === undefined) {
      if (definition.required) throw new WorkflowError(`input ${name}`, "required but not given (--input)");
      inputs[name] = definition.default ?? (type === "boolean" ? false : type === "number" ? 0 : "");
      continue;
    }
    if (type === "boolean") {
      if (raw !== "true" && raw !== "false") {
        throw new WorkflowError(`input ${name}`, `'${raw}' is not a boolean; accepted: true, false`);
      }
      inputs[name] = raw === "true";
    } else if (type === "number") {
      const value = Number(raw);
      if (raw.trim() === "" || Number.isNaN(value)) {
        throw new WorkflowError(`input ${name}`, `'${raw}' is not a number`);
      }
      inputs[name] = value;
    } else inputs[name] = raw;
  }
  return inputs;
}
