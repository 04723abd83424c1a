import type { HostedServices } from "./hosted-services";
import type { Annotation } from "./workflow-commands";
import type { WorkflowEvent } from "./workflow-context";
import type { LoadedWorkflow } from "./workflow-load";
import type { MatrixCell } from "./workflow-matrix";

export type Result = "success" | "failure" | "cancelled" | "skipped";

export interface RunWorkflowOptions {
  /** The workflow file; `$/` references resolve to the repository holding it (…/.github/workflows/x.yml). */
  file: string;
  event: WorkflowEvent;
  inputs?: Record<string, string>;
  secrets?: Record<string, string>;
  vars?: Record<string, string>;
  /** Environment every step gets on top of this process's (tool locations, a toolbox's PATH). */
  env?: Record<string, string>;
  /** GITHUB_WORKSPACE: the caller's checkout; default the current directory. */
  workdir?: string;
  /** The loopback artifact/cache services; artifact steps need them. */
  services?: HostedServices;
  repository?: string;
  sha?: string;
  ref?: string;
  defaultBranch?: string;
  actor?: string;
  debug?: boolean;
  /** Where each job's RUNNER_TEMP and scratch files go (removed after the run); default: the OS's temp. */
  tempDir?: string;
  /** Kill a step that runs longer than this. */
  stepTimeoutMs?: number;
  onLine?: (line: string) => void;
}

export interface StepRecord {
  id: string;
  uses?: string;
  outcome: Result;
  conclusion: Result;
  outputs: Record<string, string>;
}

export interface CellRun {
  name: string;
  matrix: MatrixCell;
  result: Result;
  outputs: Record<string, string>;
  steps: StepRecord[];
  summary: string;
  annotations: Annotation[];
}

/** What the run recorded for one job: GitHub's view (result, outputs), what it was granted, its cells. */
export interface JobRun {
  id: string;
  result: Result;
  /** Job outputs as `needs.<id>.outputs` shows them: a matrix job's are last-writer-wins, as on GitHub. */
  outputs: Record<string, string>;
  /** runs-on as evaluated per cell; recorded, not honoured: every cell runs on this machine. */
  runsOn: string[];
  /** The job's permissions as written (the workflow's when the job names none). */
  permissions?: Record<string, string>;
  /** Whether its steps were given secrets and an id-token (never on a pull request). */
  secrets: boolean;
  idToken: boolean;
  cells: CellRun[];
}

export interface WorkflowRun {
  jobs: JobRun[];
  outputs: Record<string, string>;
  failed: boolean;
  log: string[];
  masks: string[];
}

/** What every job of one run shares. */
export interface RunState {
  workflow: LoadedWorkflow;
  options: RunWorkflowOptions;
  runs: Map<string, JobRun>;
  github: Record<string, unknown>;
  inputs: Record<string, unknown>;
  secrets: Record<string, string>;
  vars: Record<string, string>;
  masks: string[];
  workspace: string;
  runDir: string;
  eventPath: string;
  say: (line: string) => void;
  pull: boolean;
  /** This run's id at the results service: artifacts belong to one run, as on GitHub. */
  runBackendId: string;
}
