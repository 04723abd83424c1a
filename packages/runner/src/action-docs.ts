import { isAbsolute, relative, resolve } from "node:path";
import { ActionMetadataError, parseActionMetadata, SUPPORTED_USING } from "./action-metadata";

export type DocSection = "inputs" | "outputs";

/**
 * Names documented in a README's `## Inputs` / `## Outputs` tables: the first cell of every body row
 * (its first `code span` when it has one, so "`token` (secret)" documents `token`). A table belongs to
 * the nearest heading above it that mentions inputs or outputs; deeper headings stay in that section.
 */
export function documentedNames(markdown: string, section: DocSection): Set<string> {
  const names = new Set<string>();
  const lines = markdown.split(/\r?\n/);
  let current: { section: DocSection; level: number } | undefined;
  let inFence = false;
  const separator = /^\s*\|?\s*:?-{3,}:?\s*(\|\s*:?-{3,}:?\s*)*\|?\s*$/;
  for (let index = 0; index < lines.length; index++) {
    const line = lines[index] ?? "";
    if (/^\s*(```|~~~)/.test(line)) inFence = !inFence;
    if (inFence) continue;
    const heading = /^(#{1,6})\s+(.*)$/.exec(line);
    if (heading) {
      const level = (heading[1] ?? "").length;
      const text = heading[2] ?? "";
      const named: DocSection | undefined = /\binputs?\b/i.test(text)
        ? "inputs"
        : /\boutputs?\b/i.test(text)
          ? "outputs"
          : undefined;
      if (named) current = { section: named, level };
      else if (current && level <= current.level) current = undefined;
      continue;
    }
    if (current?.section !== section || !line.trimStart().startsWith("|") || separator.test(line)) continue;
    // A row followed by the |---| line is the table's header.
    if (separator.test(lines[index + 1] ?? "")) continue;
    const firstCell = line.trim().replace(/^\|/, "").split("|")[0]?.trim() ?? "";
    const code = /`([^`]+)`/.exec(firstCell);
    const name = (code ? (code[1] ?? "") : firstCell).trim();
    if (name !== "") names.add(name);
  }
  return names;
}

export interface ActionDocsInput {
  /** action.yml's path, absolute or relative to `repoRoot` (for messages and to resolve `runs.main`). */
  file: string;
  text: string;
  /** The READMEs that document this action (for the root action: README.md and docs/pipeline.md). */
  readmes: { file: string; text: string }[];
  /** The repository root; bundles must live under its dist/. */
  repoRoot: string;
  exists: (path: string) => boolean;
}

/**
 * Everything wrong with one action's metadata and docs, as sentences naming the file and the fix;
 * empty when the action is in order. Checks: valid YAML; name and description; runs.using node24;
 * main (and post) existing under dist/; post-if with post; a description for every input and output;
 * and the README tables listing exactly the inputs and outputs action.yml declares.
 */
export function checkActionDocs(input: ActionDocsInput): string[] {
  const { file } = input;
  let metadata;
  try {
    metadata = parseActionMetadata(input.text, file);
  } catch (error) {
    return [error instanceof ActionMetadataError ? error.message : `${file}: ${String(error)}`];
  }
  const problems: string[] = [];
  const problem = (text: string) => problems.push(`${file}: ${text}`);
  if (!metadata.name?.trim()) problem("missing 'name'");
  if (!metadata.description?.trim()) problem("missing 'description'");
  if (metadata.runs.using !== SUPPORTED_USING) {
    problem(`runs.using is '${metadata.runs.using}'; expected '${SUPPORTED_USING}'`);
  }
  const dist = resolve(input.repoRoot, "dist");
  const checkEntry = (key: "main" | "post", path: string | undefined) => {
    if (path === undefined) return;
    const target = resolve(input.repoRoot, file, "..", path);
    const inDist = relative(dist, target);
    if (inDist.startsWith("..") || isAbsolute(inDist)) {
      problem(`runs.${key} '${path}' is outside dist/; point it at the bundle (../../dist/<name>/index.js)`);
    } else if (!input.exists(target)) {
      problem(`runs.${key} '${path}' does not exist; run \`npm run build\``);
    }
  };
  if (!metadata.runs.main) problem("runs.main is missing");
  checkEntry("main", metadata.runs.main);
  checkEntry("post", metadata.runs.post);
  if (metadata.runs.post && !metadata.runs.postIf) {
    problem("runs.post without 'post-if'; say when cleanup runs (usually \"!cancelled()\" or always())");
  }
  for (const [name, spec] of Object.entries(metadata.inputs)) {
    if (!spec.description?.trim()) problem(`input '${name}' has no description`);
  }
  for (const [name, spec] of Object.entries(metadata.outputs)) {
    if (!spec.description?.trim()) problem(`output '${name}' has no description`);
  }

  if (input.readmes.length === 0) {
    problem("no README documents it; add README.md beside it with ## Inputs and ## Outputs tables");
    return problems;
  }
  const readmeNames = input.readmes.map((r) => r.file).join(" or ");
  for (const section of ["inputs", "outputs"] as const) {
    const declared = Object.keys(metadata[section]);
    const documented = new Set(input.readmes.flatMap((r) => [...documentedNames(r.text, section)]));
    const singular = section.slice(0, -1);
    for (const name of declared) {
      if (!documented.has(name)) {
        problems.push(`${readmeNames}: ${singular} '${name}' of ${file} is not in the ${section} table`);
      }
    }
    for (const name of documented) {
      if (!declared.includes(name)) {
        problems.push(`${readmeNames}: documents ${singular} '${name}', which ${file} does not declare`);
      }
    }
  }
  return problems;
}
