import { parse } from "yaml";

export interface ActionInput {
  description?: string;
  required: boolean;
  /** As the runner sees it: a string ("false" for `default: false`), or undefined when absent. */
  default?: string;
  deprecationMessage?: string;
}

export interface ActionOutput {
  description?: string;
}

/** The parts of action.yml a local run and the metadata checks need. */
export interface ActionMetadata {
  name?: string;
  description?: string;
  inputs: Record<string, ActionInput>;
  outputs: Record<string, ActionOutput>;
  runs: { using: string; main?: string; pre?: string; post?: string; postIf?: string };
}

/** action.yml that cannot be read or run; the message names the file and what was wrong. */
export class ActionMetadataError extends Error {
  constructor(file: string, problem: string) {
    super(`${file}: ${problem}`);
    this.name = "ActionMetadataError";
  }
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

function optionalString(value: unknown): string | undefined {
  if (value === undefined || value === null) return undefined;
  return typeof value === "string" ? value : String(value);
}

/**
 * Parses action.yml text into typed metadata. Only the shape is checked here (a mapping, `runs` present,
 * inputs/outputs mappings); whether it can run locally is `assertRunnable`'s question.
 */
export function parseActionMetadata(text: string, file: string): ActionMetadata {
  let document: unknown;
  try {
    document = parse(text);
  } catch (error) {
    throw new ActionMetadataError(file, `not valid YAML: ${error instanceof Error ? error.message : error}`);
  }
  if (!isRecord(document)) throw new ActionMetadataError(file, "expected a YAML mapping at the top");
  const runs = document.runs;
  if (!isRecord(runs)) throw new ActionMetadataError(file, "missing 'runs' mapping");

  const section = (key: "inputs" | "outputs"): Record<string, Record<string, unknown>> => {
    const value = document[key];
    if (value === undefined || value === null) return {};
    if (!isRecord(value))
      throw new ActionMetadataError(file, `'${key}' must be a mapping of name → properties`);
    const entries: Record<string, Record<string, unknown>> = {};
    for (const [name, properties] of Object.entries(value)) {
      entries[name] = isRecord(properties) ? properties : {};
    }
    return entries;
  };

  const inputs: Record<string, ActionInput> = {};
  for (const [name, p] of Object.entries(section("inputs"))) {
    inputs[name] = {
      description: optionalString(p.description),
      required: p.required === true || p.required === "true",
      default: optionalString(p.default),
      deprecationMessage: optionalString(p.deprecationMessage),
    };
  }
  const outputs: Record<string, ActionOutput> = {};
  for (const [name, p] of Object.entries(section("outputs"))) {
    outputs[name] = { description: optionalString(p.description) };
  }
  return {
    name: optionalString(document.name),
    description: optionalString(document.description),
    inputs,
    outputs,
    runs: {
      using: optionalString(runs.using) ?? "",
      main: optionalString(runs.main),
      pre: optionalString(runs.pre),
      post: optionalString(runs.post),
      postIf: optionalString(runs["post-if"]),
    },
  };
}

/** The runtime this runner provides: GitHub's current node runtime, which every action here targets. */
export const SUPPORTED_USING = "node24";

/** Throws unless the local runner can run this action the way GitHub's runner would. */
export function assertRunnable(
  metadata: ActionMetadata,
  file: string,
): asserts metadata is ActionMetadata & {
  runs: { main: string };
} {
  const { using, main, pre } = metadata.runs;
  if (using !== SUPPORTED_USING) {
    throw new ActionMetadataError(
      file,
      `runs.using is '${using}'; the local runner runs '${SUPPORTED_USING}' actions only`,
    );
  }
  if (!main) throw new ActionMetadataError(file, "runs.main is missing: a node action needs its entry file");
  if (pre) throw new ActionMetadataError(file, "runs.pre is not supported by the local runner");
}
