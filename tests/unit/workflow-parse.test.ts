import { readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, test } from "vitest";
import { data, Evaluator, Lexer, Parser } from "@actions/expressions";
import type { FunctionDefinition } from "@actions/expressions/funcs/info";
import { truthy } from "@actions/expressions/result";
import { convertWorkflowTemplate, NoOperationTraceWriter, parseWorkflow } from "@actions/workflow-parser";
import { parseAction } from "@actions/workflow-parser/actions/action-parser";
import { parse as parseYaml } from "yaml";

/**
 * The workflows and actions through GitHub's own parser (@actions/workflow-parser, the one behind the
 * Actions language service) and expression engine (@actions/expressions): no errors, every `${{ }}` parses,
 * each job holds only the permissions it uses, and the pull-request path pushes and signs nothing. What
 * this does not model: the runner's job scheduling beyond `needs` and `if:`, matrix expansion, and the
 * actions' own behaviour (their tests cover that).
 */

const ROOT = join(import.meta.dirname, "..", "..");
const WORKFLOWS = [
  ...readdirSync(join(ROOT, ".github/workflows")).map((f) => `.github/workflows/${f}`),
  ...readdirSync(join(ROOT, "examples/consumer")).map((f) => `examples/consumer/${f}`),
]
  .filter((f) => /\.ya?ml$/.test(f))
  .sort();
const ACTIONS = [
  "action.yml",
  ...readdirSync(join(ROOT, "actions")).map((name) => `actions/${name}/action.yml`),
].filter((f) => {
  try {
    readFileSync(join(ROOT, f));
    return true;
  } catch {
    return false;
  }
});

const read = (path: string) => readFileSync(join(ROOT, path), "utf8");

function parseErrors(path: string, content = read(path)) {
  const parsed = parseWorkflow({ name: path, content }, new NoOperationTraceWriter());
  return { parsed, errors: parsed.context.errors.getErrors().map((e) => e.message) };
}

/** Parse and conversion errors together (some checks, such as permission levels, run in conversion). */
async function allErrors(path: string, content: string) {
  const { parsed, errors } = parseErrors(path, content);
  if (errors.length > 0 || !parsed.value) return errors;
  const template = await convertWorkflowTemplate(parsed.context, parsed.value);
  return (template.errors ?? []).map((e: { Message: string }) => e.Message);
}

async function converted(path: string) {
  const { parsed, errors } = parseErrors(path);
  expect(errors).toEqual([]);
  const template = await convertWorkflowTemplate(parsed.context, parsed.value!);
  expect((template.errors ?? []).map((e: { Message: string }) => e.Message)).toEqual([]);
  return template;
}

const CONTEXTS = [
  "github",
  "inputs",
  "needs",
  "matrix",
  "steps",
  "secrets",
  "runner",
  "job",
  "jobs",
  "env",
  "strategy",
  "vars",
];
const STATUS_FUNCTIONS = ["success", "always", "failure", "cancelled", "hashFiles"].map((name) => ({
  name,
  minArgs: 0,
  maxArgs: name === "hashFiles" ? 255 : 0,
}));

function parseExpression(expression: string) {
  const lexed = new Lexer(expression).lex();
  return new Parser(lexed.tokens, CONTEXTS, STATUS_FUNCTIONS).parse();
}

/** Every expression in a YAML tree: `${{ … }}` in any string, and the bare `if:` conditions. */
function expressionsIn(node: unknown, key = ""): string[] {
  if (typeof node === "string") {
    const found = [...node.matchAll(/\$\{\{(.*?)\}\}/gs)].map((m) => m[1]!.trim());
    if (key === "if" && found.length === 0) found.push(node);
    return found;
  }
  if (Array.isArray(node)) return node.flatMap((item) => expressionsIn(item));
  if (node && typeof node === "object") {
    return Object.entries(node).flatMap(([k, v]) => expressionsIn(v, k));
  }
  return [];
}

describe("GitHub's parser accepts every workflow", () => {
  test("there are workflows to check, the reusable one and the consumer's among them", () => {
    expect(WORKFLOWS).toEqual(
      expect.arrayContaining([
        ".github/workflows/build.yml",
        ".github/workflows/release.yml",
        "examples/consumer/build.yml",
      ]),
    );
  });

  test.each(WORKFLOWS)("%s parses and converts with no errors", async (path) => {
    await converted(path);
  });

  test.each(WORKFLOWS)("every expression in %s parses", (path) => {
    const expressions = expressionsIn(parseYaml(read(path)));
    if (path === ".github/workflows/build.yml") expect(expressions.length).toBeGreaterThan(50);
    for (const expression of expressions) {
      expect(() => parseExpression(expression), expression).not.toThrow();
    }
  });

  test("the parser would catch a mistake: a misspelt key, an unknown job in needs, a broken expression", async () => {
    const content = read(".github/workflows/build.yml");
    expect(
      (
        await allErrors(
          "broken.yml",
          content.replace(
            "    permissions:\n      security-events: write",
            "    permisions:\n      security-events: write",
          ),
        )
      ).join("\n"),
    ).toContain("Unexpected value 'permisions'");
    expect(
      (
        await allErrors(
          "broken.yml",
          content.replace("needs: [plan, build-push]", "needs: [plan, bild-push]"),
        )
      ).join("\n"),
    ).toContain("bild-push");
    expect(() => parseExpression("needs.plan.outputs.publish == ")).toThrow();
  });

  test("the self-repository reference ($/) is accepted, and the reusable workflow uses only it for this repository's actions", () => {
    const build = read(".github/workflows/build.yml");
    const own = [...build.matchAll(/uses: (\S+)/g)]
      .map((m) => m[1]!)
      .filter((u) => !u.startsWith("actions/"));
    expect(own.length).toBeGreaterThan(0);
    for (const uses of own) expect(uses).toMatch(/^\$\/actions\/[a-z-]+$/);
    // Third-party actions are pinned by commit with the version in a comment, the form Renovate updates.
    for (const [, uses, comment] of build.matchAll(/uses: (actions\/\S+)(.*)/g)) {
      expect(uses).toMatch(/@[0-9a-f]{40}$/);
      expect(comment).toMatch(/^ # v\d+\.\d+\.\d+$/);
    }
  });
});

describe("every step of this repository's actions passes inputs the action declares", () => {
  // GitHub only warns about an unknown `with:` key at run time ("Unexpected input"), and the action then
  // runs without it: a renamed input would silently stop reaching the action.
  const ownSteps = WORKFLOWS.flatMap((path) => {
    const jobs = (parseYaml(read(path)) as { jobs?: Record<string, { steps?: Step[] }> }).jobs ?? {};
    return Object.entries(jobs).flatMap(([job, body]) =>
      (body.steps ?? [])
        .filter((step) => step.uses?.startsWith("$/") || step.uses?.startsWith("./"))
        .map((step) => [`${path} ${job} ${step.uses!}`, step] as const),
    );
  });

  test("there are such steps", () => {
    expect(ownSteps.length).toBeGreaterThan(10);
  });

  test.each(ownSteps)("%s", (_where, step) => {
    const actionFile = `${step.uses!.replace(/^\$\/|^\.\//, "")}/action.yml`;
    const declared = Object.keys((parseYaml(read(actionFile)) as { inputs?: object }).inputs ?? {});
    expect(Object.keys(step.with ?? {}).filter((name) => !declared.includes(name))).toEqual([]);
  });
});

describe("GitHub's parser accepts every action", () => {
  test.each(ACTIONS)("%s", (path) => {
    const parsed = parseAction({ name: path, content: read(path) }, new NoOperationTraceWriter());
    expect(parsed.context.errors.getErrors().map((e) => e.message)).toEqual([]);
  });
});

type Jobs = Record<string, { permissions?: Record<string, string>; needs?: string | string[]; if?: string }>;
const buildJobs = () => (parseYaml(read(".github/workflows/build.yml")) as { jobs: Jobs }).jobs;

describe("least privilege per job", () => {
  const writes = (permissions: Record<string, string> | undefined) =>
    Object.entries(permissions ?? {})
      .filter(([, level]) => level === "write")
      .map(([scope]) => scope)
      .sort();

  test("the workflow grants nothing by default", () => {
    expect(parseYaml(read(".github/workflows/build.yml")).permissions).toEqual({});
  });

  test.each<[string, string[]]>([
    ["plan", []],
    ["build", []],
    ["build-push", ["packages"]],
    ["scan", ["security-events"]],
    ["index", ["packages"]],
    ["sign-keyless", ["id-token", "packages"]],
    ["sign", ["packages"]],
    ["disk-images", ["packages"]],
    ["sysexts", []],
    ["summary", []],
  ])("%s writes only %j", (job, scopes) => {
    const jobs = buildJobs();
    expect(jobs[job], `job ${job}`).toBeDefined();
    expect(jobs[job]!.permissions, `job ${job} names its permissions`).toBeDefined();
    expect(writes(jobs[job]!.permissions)).toEqual(scopes);
  });

  test("every job is in the table", () => {
    expect(Object.keys(buildJobs()).sort()).toEqual(
      [
        "build",
        "build-push",
        "disk-images",
        "index",
        "plan",
        "scan",
        "sign",
        "sign-keyless",
        "summary",
        "sysexts",
      ].sort(),
    );
  });
});

type Step = {
  id?: string;
  uses?: string;
  if?: string;
  with?: Record<string, string>;
  env?: Record<string, string>;
};
const stepsOf = (job: string) =>
  (parseYaml(read(".github/workflows/build.yml")) as { jobs: Record<string, { steps: Step[] }> }).jobs[job]!
    .steps;

describe("build-push lints and scans before anything is pushed", () => {
  const steps = stepsOf("build-push");
  const at = (action: string) => steps.findIndex((step) => step.uses === `$/actions/${action}`);

  test("build-mkosi only builds: no push, no registry credentials", () => {
    const build = steps[at("build-mkosi")]!;
    expect(build.with?.push).toBe("false");
    expect(Object.keys(build.with ?? {}).filter((name) => name.startsWith("registry-"))).toEqual([]);
  });

  test("publish-image pushes the layout build-mkosi wrote, after lint-bootc and trivy-scan, only if both passed", () => {
    const publish = at("publish-image");
    expect(at("build-mkosi")).toBeGreaterThanOrEqual(0);
    expect(at("lint-bootc")).toBeGreaterThan(at("build-mkosi"));
    expect(at("trivy-scan")).toBeGreaterThan(at("lint-bootc"));
    expect(publish).toBeGreaterThan(at("trivy-scan"));
    // No `if:` means success(): a failed lint or scan gate skips the push.
    expect(steps[publish]!.if).toBeUndefined();
    expect(steps[publish]!.with?.["oci-layout"]).toBe("${{ steps.build.outputs.oci-layout }}");
    expect(steps[publish]!.with?.["ref-name"]).toBe("${{ steps.build.outputs.image-version }}");
    // Only the push gets the registry login.
    const withLogin = steps.filter((step) => step.with?.["registry-password"] !== undefined);
    expect(withLogin.map((step) => step.uses)).toEqual(["$/actions/publish-image"]);
  });

  test("the scan in build-push gates on the layout and leaves the SARIF upload to the scan job", () => {
    const scan = steps[at("trivy-scan")]!;
    expect(scan.with?.["oci-layout"]).toBe("${{ steps.build.outputs.oci-layout }}");
    expect(scan.with?.["fail-on"]).toBe("${{ inputs.scan == 'gate' && inputs.scan-fail-on || 'none' }}");
    expect(scan.with?.["upload-sarif"]).toBe("false");
    const saved = steps.find((step) => step.with?.name === "trivy-sarif-${{ matrix.key }}");
    expect(saved?.with?.path).toBe("${{ steps.scan.outputs.sarif }}");
    const downloads = stepsOf("scan").filter((step) => step.uses?.startsWith("actions/download-artifact@"));
    expect(downloads.map((step) => step.with?.pattern)).toEqual(["trivy-sarif-${{ matrix.key }}"]);
  });

  test("the digest each cell records is the one publish-image pushed", () => {
    const record = steps.find((step) => step.env?.DIGEST !== undefined);
    expect(record?.env?.DIGEST).toBe("${{ steps.publish.outputs.digest }}");
    expect(steps.indexOf(record!)).toBeGreaterThan(at("publish-image"));
  });
});

interface Event {
  event_name: string;
  ref: string;
  event: Record<string, unknown>;
}

const PULL_REQUEST: Event = {
  event_name: "pull_request",
  ref: "refs/pull/7/merge",
  event: { repository: { default_branch: "main" }, pull_request: { head: { repo: { fork: true } } } },
};
const PUSH_MAIN: Event = {
  event_name: "push",
  ref: "refs/heads/main",
  event: { repository: { default_branch: "main" } },
};
const PUSH_BRANCH: Event = {
  event_name: "push",
  ref: "refs/heads/topic",
  event: { repository: { default_branch: "main" } },
};
const TAG: Event = {
  event_name: "push",
  ref: "refs/tags/v1.2.0",
  event: { repository: { default_branch: "main" } },
};

const DEFAULT_INPUTS = {
  push: "auto",
  signing: "key",
  scan: "off",
  "disk-types": "",
  sysexts: false,
  platforms: "linux/amd64",
};

/**
 * Which jobs of build.yml run, evaluating each job's converted `if:` (status functions included) with
 * GitHub's evaluator in `needs` order, every job that runs taken to succeed. The plan job's `publish`
 * output is its own expression, evaluated the same way; `multi-platform` stands in for its shell step.
 */
async function jobsThatRun(event: Event, inputs: Record<string, unknown>) {
  const template = await converted(".github/workflows/build.yml");
  const yaml = parseYaml(read(".github/workflows/build.yml")) as {
    jobs: { plan: { outputs: Record<string, string> } };
  };
  const github = { ...event, actor: "octocat", token: "***" };
  const evaluate = (
    expression: string,
    context: Record<string, unknown>,
    functions?: Map<string, FunctionDefinition>,
  ) =>
    new Evaluator(
      parseExpression(expression),
      JSON.parse(JSON.stringify(context), data.reviver),
      functions,
    ).evaluate();

  const publishExpression = yaml.jobs.plan.outputs.publish!.match(/\$\{\{(.*)\}\}/s)![1]!;
  const publish = truthy(evaluate(publishExpression, { github, inputs })) ? "true" : "false";
  const platforms = String(inputs.platforms).split(",");
  const planOutputs = {
    publish,
    "multi-platform": String(platforms.length > 1),
    version: "1",
    cells: "{}",
    profiles: "[]",
  };

  const results: Record<string, "success" | "skipped"> = {};
  // The converter's ids are string tokens: their `value` is the name.
  const name = (token: unknown) => String((token as { value?: string }).value ?? token);
  for (const job of template.jobs as unknown as { id: unknown; needs?: unknown[]; if: { expr: string } }[]) {
    const id = name(job.id);
    const needs = (job.needs ?? []).map(name);
    const needsContext = Object.fromEntries(
      needs.map((n) => [
        n,
        { result: results[n], outputs: n === "plan" && results.plan === "success" ? planOutputs : {} },
      ]),
    );
    const status = (name: string, result: () => boolean) => ({
      name,
      minArgs: 0,
      maxArgs: 0,
      call: () => new data.BooleanData(result()),
    });
    const functions = new Map(
      [
        status("success", () => needs.every((n) => results[n] === "success")),
        status("failure", () => false),
        status("cancelled", () => false),
        status("always", () => true),
      ].map((f) => [f.name, f]),
    );
    const run = truthy(evaluate(job.if.expr, { github, inputs, needs: needsContext }, functions));
    results[id] = run ? "success" : "skipped";
  }
  return { publish, ran: Object.keys(results).filter((job) => results[job] === "success") };
}

describe("what runs on which event", () => {
  const holdsWrite = (job: string) =>
    Object.values(buildJobs()[job]!.permissions ?? {}).some((level) => level === "write");

  test.each<[string, Event, Record<string, unknown>, string[]]>([
    ["a pull request (from a fork)", PULL_REQUEST, {}, ["plan", "build", "summary"]],
    [
      "a pull request with push: never and every extra on",
      PULL_REQUEST,
      {
        push: "never",
        signing: "both",
        scan: "gate",
        platforms: "linux/amd64,linux/arm64",
        "disk-types": "qcow2",
      },
      ["plan", "build", "summary"],
    ],
    ["a push to main", PUSH_MAIN, {}, ["plan", "build-push", "sign", "summary"]],
    [
      "a push to main, two platforms, scanned, both signatures",
      PUSH_MAIN,
      { platforms: "linux/amd64,linux/arm64", scan: "gate", signing: "both" },
      ["plan", "build-push", "scan", "index", "sign-keyless", "sign", "summary"],
    ],
    ["keyless only", PUSH_MAIN, { signing: "keyless" }, ["plan", "build-push", "sign-keyless", "summary"]],
    [
      "a tag, with disk images and sysexts",
      TAG,
      { push: "default-branch", "disk-types": "qcow2", sysexts: true },
      ["plan", "build-push", "sign", "disk-images", "sysexts", "summary"],
    ],
    [
      "a topic branch with push: default-branch",
      PUSH_BRANCH,
      { push: "default-branch" },
      ["plan", "build", "summary"],
    ],
    ["push: never on main", PUSH_MAIN, { push: "never" }, ["plan", "build", "summary"]],
  ])("%s runs %j", async (_name, event, inputs, expected) => {
    const { ran } = await jobsThatRun(event, { ...DEFAULT_INPUTS, ...inputs });
    expect(ran).toEqual(expected);
  });

  test("no job holding a write permission runs on a pull request, whatever the inputs", async () => {
    for (const push of ["auto", "default-branch", "never"]) {
      const { publish, ran } = await jobsThatRun(PULL_REQUEST, {
        ...DEFAULT_INPUTS,
        push,
        signing: "both",
        scan: "gate",
        platforms: "linux/amd64,linux/arm64",
      });
      expect(publish).toBe("false");
      expect(ran.filter(holdsWrite)).toEqual([]);
    }
  });
});

describe("the consumer's caller", () => {
  const caller = parseYaml(read("examples/consumer/build.yml")) as {
    jobs: Record<
      string,
      { uses: string; permissions: Record<string, string>; with: Record<string, unknown>; secrets: unknown }
    >;
  };
  const called = parseYaml(read(".github/workflows/build.yml")) as {
    on: { workflow_call: { inputs: Record<string, { required?: boolean }> } };
    jobs: Jobs;
  };

  test("is about 15 lines and pins the workflow by commit with its version in a comment", () => {
    expect(read("examples/consumer/build.yml").trimEnd().split("\n").length).toBeLessThanOrEqual(15);
    expect(read("examples/consumer/build.yml")).toMatch(
      /uses: frostyard\/build\/\.github\/workflows\/build\.yml@[0-9a-f]{40} # v\d+\.\d+\.\d+\n/,
    );
  });

  test("passes only inputs the workflow declares, every required one among them, and inherits secrets", () => {
    const job = Object.values(caller.jobs)[0]!;
    const declared = called.on.workflow_call.inputs;
    for (const input of Object.keys(job.with)) expect(Object.keys(declared)).toContain(input);
    for (const [input, spec] of Object.entries(declared))
      if (spec.required) expect(Object.keys(job.with)).toContain(input);
    expect(job.secrets).toBe("inherit");
  });

  test("grants every permission a called job asks for (a called job cannot hold more than its caller grants)", () => {
    const granted = Object.values(caller.jobs)[0]!.permissions;
    for (const [job, spec] of Object.entries(called.jobs)) {
      for (const [scope, level] of Object.entries(spec.permissions ?? {})) {
        if (level === "write") expect(granted[scope], `${job} needs ${scope}: write`).toBe("write");
        else expect(granted[scope], `${job} needs ${scope}: read`).toMatch(/^(read|write)$/);
      }
    }
  });
});
