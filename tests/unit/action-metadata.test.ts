// Every action's metadata and docs agree: action.yml is valid and runnable on node24 from dist/, and its
// README's `## Inputs` / `## Outputs` tables list exactly what action.yml declares (first column: the
// name, optionally in backticks). The root action is documented in README.md or docs/pipeline.md.
import { existsSync, readdirSync, readFileSync } from "node:fs";
import { join, relative, resolve } from "node:path";
import { describe, expect, test } from "vitest";
import { checkActionDocs, documentedNames, parseActionMetadata } from "@frostyard/runner";
import { repoRoot } from "../helpers/run-action";

interface ActionUnderTest {
  label: string;
  file: string;
  readmes: string[];
}

function discoverActions(): ActionUnderTest[] {
  const found: ActionUnderTest[] = [];
  const actionsDir = join(repoRoot, "actions");
  if (existsSync(actionsDir)) {
    for (const name of readdirSync(actionsDir).sort()) {
      const file = join(actionsDir, name, "action.yml");
      if (existsSync(file))
        found.push({ label: `actions/${name}`, file, readmes: [join(actionsDir, name, "README.md")] });
    }
  }
  // The root action (the whole pipeline as one step) is required: a missing action.yml fails below.
  found.push({
    label: "root action",
    file: join(repoRoot, "action.yml"),
    readmes: [join(repoRoot, "README.md"), join(repoRoot, "docs/pipeline.md")],
  });
  return found;
}

const actions = discoverActions();

test("the root action.yml exists (uses: frostyard/build@<sha> runs the pipeline)", () => {
  expect(existsSync(join(repoRoot, "action.yml"))).toBe(true);
});

describe.runIf(actions.length > 0)("every action in the repository", () => {
  test.each(actions)("$label: action.yml and README agree", ({ file, readmes }) => {
    const problems = checkActionDocs({
      file: relative(repoRoot, file),
      text: readFileSync(file, "utf8"),
      readmes: readmes
        .filter((readme) => existsSync(readme))
        .map((readme) => ({ file: relative(repoRoot, readme), text: readFileSync(readme, "utf8") })),
      repoRoot,
      exists: (path) => existsSync(resolve(repoRoot, path)),
    });
    expect(problems).toEqual([]);
  });
});

test("every action bundle in dist/ belongs to an action.yml (no orphans)", () => {
  const distDir = join(repoRoot, "dist");
  const bundles = existsSync(distDir)
    ? readdirSync(distDir, { withFileTypes: true })
        .filter((d) => d.isDirectory() && !d.name.startsWith(".") && d.name !== "cli")
        .map((d) => d.name)
    : [];
  const referenced = new Set<string>();
  for (const { file } of actions) {
    const { runs } = parseActionMetadata(readFileSync(file, "utf8"), file);
    for (const entry of [runs.main, runs.post]) {
      if (entry) referenced.add(relative(distDir, resolve(file, "..", entry)).split(/[\\/]/)[0] ?? "");
    }
  }
  expect(bundles.filter((name) => !referenced.has(name))).toEqual([]);
});

describe("every bundle in dist/ as shipped", () => {
  const distDir = join(repoRoot, "dist");
  const bundles = existsSync(distDir)
    ? readdirSync(distDir, { withFileTypes: true })
        .filter((d) => d.isDirectory() && !d.name.startsWith("."))
        .map((d) => d.name)
    : [];

  test("there are bundles to check", () => {
    expect(bundles.length).toBeGreaterThan(0);
  });

  test.each(bundles)("%s: carries the licences of what it bundles", (name) => {
    const file = join(distDir, name, "licenses.txt");
    expect(existsSync(file), `dist/${name}/licenses.txt is missing: run npm run build`).toBe(true);
    const text = readFileSync(file, "utf8");
    // The runner CLI bundles no @actions package; every action does, through @frostyard/actions.
    if (name === "cli") expect(text).toMatch(/^yaml@\d/m);
    else expect(text).toMatch(/^@actions\/core@\d+\.\d+\.\d+\nMIT\nThe MIT License/m);
  });

  test.each(bundles)("%s: its source maps name sources that exist, and it stays within 3 MB", (name) => {
    const dir = join(distDir, name);
    const files = readdirSync(dir);
    const maps = files.filter((f) => f.endsWith(".js.map"));
    expect(maps).toContain("bundle.js.map");
    const sources = maps.flatMap(
      (m) => (JSON.parse(readFileSync(join(dir, m), "utf8")) as { sources: string[] }).sources,
    );
    expect(sources).toContain(
      name === "cli" ? "../../packages/runner/src/cli.ts" : `../../packages/actions/src/${name}/main.ts`,
    );
    expect(sources.filter((source) => !existsSync(resolve(dir, source)))).toEqual([]);
    // What Node may load at start: the loader, the bundle and its chunks (a map is read only on a failure).
    const loaded = files.filter((f) => f.endsWith(".js"));
    const bytes = loaded.reduce((sum, f) => sum + readFileSync(join(dir, f)).length, 0);
    expect(bytes).toBeLessThanOrEqual(3 * 1024 * 1024);
  });
});

describe("documentedNames", () => {
  const readme = [
    "# thing",
    "Intro mentioning inputs in prose: `not-a-row`.",
    "## Inputs",
    "| Name | Description | Default |",
    "|------|-------------|---------|",
    "| `registry` | where to push | `ghcr.io` |",
    "| `token` (secret) | a token | |",
    "| plain-name | no backticks | |",
    "### Advanced",
    "| Input | Description |",
    "| :--- | ---: |",
    "| `retries` | deeper heading stays in Inputs | ",
    "```",
    "| `in-a-fence` | ignored |",
    "```",
    "## Outputs",
    "| Output | Description |",
    "|---|---|",
    "| `digest` | sha256 |",
    "## Example",
    "| `not-an-output` | a table elsewhere |",
  ].join("\n");

  test.each([
    { section: "inputs" as const, names: ["registry", "token", "plain-name", "retries"] },
    { section: "outputs" as const, names: ["digest"] },
  ])("$section table → $names", ({ section, names }) => {
    expect([...documentedNames(readme, section)]).toEqual(names);
  });
});

describe("checkActionDocs catches drift", () => {
  const repo = "/repo";
  const goodYml = [
    "name: demo",
    "description: A demo action.",
    "inputs:",
    "  image: { description: The image., required: true }",
    "  mode: { description: check or update., default: check }",
    "outputs:",
    "  digest: { description: The digest. }",
    "runs:",
    "  using: node24",
    "  main: ../../dist/demo/index.js",
    "  post: ../../dist/demo/index.js",
    "  post-if: always()",
  ].join("\n");
  const goodReadme = [
    "# demo",
    "## Inputs",
    "| Input | Description |",
    "|---|---|",
    "| `image` | The image. |",
    "| `mode` | check or update. |",
    "## Outputs",
    "| Output | Description |",
    "|---|---|",
    "| `digest` | The digest. |",
  ].join("\n");
  const bundle = "/repo/dist/demo/index.js";
  const check = (yml: string, readme: string | undefined, files: string[] = [bundle]) =>
    checkActionDocs({
      file: "actions/demo/action.yml",
      text: yml,
      readmes: readme === undefined ? [] : [{ file: "actions/demo/README.md", text: readme }],
      repoRoot: repo,
      exists: (path) => files.includes(path),
    });
  // The synthetic action lives at /repo/actions/demo, so relative paths resolve against it.
  const checkAt = (yml: string, readme: string | undefined, files?: string[]) =>
    check(yml, readme, files).map((p) => p.replace("actions/demo/action.yml", "action.yml"));

  test("a matching pair has no problems", () => {
    expect(
      checkActionDocs({
        file: "/repo/actions/demo/action.yml",
        text: goodYml,
        readmes: [{ file: "README.md", text: goodReadme }],
        repoRoot: repo,
        exists: (path) => path === bundle,
      }),
    ).toEqual([]);
  });

  test.each([
    {
      drift: "an input missing from the README",
      yml: goodYml,
      readme: goodReadme.replace("| `mode` | check or update. |\n", ""),
      problem: "README.md: input 'mode' of action.yml is not in the inputs table",
    },
    {
      drift: "the README documenting an input action.yml lacks",
      yml: goodYml.replace("  mode: { description: check or update., default: check }\n", ""),
      readme: goodReadme,
      problem: "README.md: documents input 'mode', which action.yml does not declare",
    },
    {
      drift: "an output missing from the README",
      yml: goodYml,
      readme: goodReadme.replace("| `digest` | The digest. |", ""),
      problem: "README.md: output 'digest' of action.yml is not in the outputs table",
    },
    {
      drift: "the README documenting an output action.yml lacks",
      yml: goodYml.replace("outputs:\n  digest: { description: The digest. }\n", ""),
      readme: goodReadme,
      problem: "README.md: documents output 'digest', which action.yml does not declare",
    },
    {
      drift: "no README at all",
      yml: goodYml,
      readme: undefined,
      problem:
        "action.yml: no README documents it; add README.md beside it with ## Inputs and ## Outputs tables",
    },
    {
      drift: "an input without description",
      yml: goodYml.replace("{ description: The image., required: true }", "{ required: true }"),
      readme: goodReadme,
      problem: "action.yml: input 'image' has no description",
    },
    {
      drift: "an output without description",
      yml: goodYml.replace("digest: { description: The digest. }", "digest: {}"),
      readme: goodReadme,
      problem: "action.yml: output 'digest' has no description",
    },
    {
      drift: "node20",
      yml: goodYml.replace("using: node24", "using: node20"),
      readme: goodReadme,
      problem: "action.yml: runs.using is 'node20'; expected 'node24'",
    },
    {
      drift: "no name",
      yml: goodYml.replace("name: demo\n", ""),
      readme: goodReadme,
      problem: "action.yml: missing 'name'",
    },
    {
      drift: "no description",
      yml: goodYml.replace("description: A demo action.\n", ""),
      readme: goodReadme,
      problem: "action.yml: missing 'description'",
    },
    {
      drift: "post without post-if",
      yml: goodYml.replace("  post-if: always()", ""),
      readme: goodReadme,
      problem: "action.yml: runs.post without 'post-if'",
    },
    {
      drift: "main outside dist/",
      yml: goodYml.replace("main: ../../dist/demo/index.js", "main: src/main.js"),
      readme: goodReadme,
      problem: "action.yml: runs.main 'src/main.js' is outside dist/",
    },
    {
      drift: "invalid YAML",
      yml: "name: [demo",
      readme: goodReadme,
      problem: "action.yml: not valid YAML",
    },
  ])("$drift", ({ yml, readme, problem }) => {
    const problems = checkAt(yml, readme);
    expect(problems).toHaveLength(1);
    expect(problems[0]).toContain(problem);
  });

  test("a bundle that was never built", () => {
    const problems = checkAt(goodYml, goodReadme, []);
    expect(problems).toEqual([
      "action.yml: runs.main '../../dist/demo/index.js' does not exist; run `npm run build`",
      "action.yml: runs.post '../../dist/demo/index.js' does not exist; run `npm run build`",
    ]);
  });
});
