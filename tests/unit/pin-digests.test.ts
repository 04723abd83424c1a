import { chmod, readFile, rm, stat, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { afterEach, describe, expect, test } from "vitest";
import { recordingLogger } from "@frostyard/kit";
import {
  pinDigests,
  type ActionRefResolver,
  type ImageDigestResolver,
  type PinOptions,
} from "@frostyard/pin-digest";
import { copyFixtureRepo, snapshot } from "../fixtures/pin-digest/fixture";

/**
 * pinDigests over the fixture repository with table resolvers standing in for the registry and the
 * GitHub API (both are exercised for real in tests/e2e/pin-digest*.test.ts). What is checked here is the
 * orchestration: dedupe, bounded concurrency, per-reference errors, idempotence, what each mode writes.
 */

const R = "registry.example:5000";
const digest = (c: string) => `sha256:${c.repeat(64)}`;
const sha = (c: string) => c.repeat(40);

function tableImages(table: Record<string, string>, delayMs = 5) {
  const calls: string[] = [];
  let inFlight = 0;
  let maxInFlight = 0;
  const resolver: ImageDigestResolver = {
    async digest(reference) {
      calls.push(reference);
      inFlight++;
      maxInFlight = Math.max(maxInFlight, inFlight);
      await new Promise((r) => setTimeout(r, delayMs));
      inFlight--;
      if (reference.includes("/broken-registry/")) throw new Error(`${reference}: connect ECONNREFUSED`);
      return table[reference];
    },
  };
  return { resolver, calls, maxInFlight: () => maxInFlight };
}

function tableActions(table: Record<string, { sha: string; version: string }>) {
  const calls: string[] = [];
  const resolver: ActionRefResolver = {
    async resolve(owner, repo, ref, refine) {
      calls.push(`${owner}/${repo}@${ref}${refine ? " refine" : ""}`);
      const hit = table[`${owner}/${repo}@${ref}`];
      if (!hit)
        throw new Error(`${owner}/${repo}@${ref}: ${owner}/${repo} has no tag or branch named '${ref}'`);
      return hit;
    },
  };
  return { resolver, calls };
}

const DIGESTS = {
  [`${R}/base:1`]: digest("1"),
  [`${R}/tools:2`]: digest("2"),
  [`${R}/db:1`]: digest("3"),
  [`${R}/multi:1`]: digest("4"),
};
const COMMITS = {
  "actions/checkout@v4": { sha: sha("a"), version: "v4.2.2" },
  "acme/tool@main": { sha: sha("b"), version: "main" },
};

let dirs: string[] = [];
afterEach(async () => {
  await Promise.all(dirs.map((d) => rm(d, { recursive: true, force: true })));
  dirs = [];
});

async function repo(): Promise<string> {
  const dir = await copyFixtureRepo();
  dirs.push(dir);
  return dir;
}

function options(root: string, extra: Partial<PinOptions>): PinOptions {
  return { root, mode: "pin", logger: recordingLogger(), ...extra };
}

describe("pinDigests", () => {
  test("pin: every reference pinned in place, each distinct one looked up once, within the bound", async () => {
    const root = await repo();
    await chmod(join(root, "Containerfile"), 0o640);
    const images = tableImages(DIGESTS);
    const actions = tableActions(COMMITS);
    const report = await pinDigests(
      options(root, { images: images.resolver, actions: actions.resolver, concurrency: 2 }),
    );

    expect(images.calls.sort()).toEqual([
      `${R}/base:1`,
      `${R}/db:1`,
      `${R}/missing:1`,
      `${R}/multi:1`,
      `${R}/tools:2`,
    ]);
    expect(images.maxInFlight()).toBe(2);
    expect(actions.calls.sort()).toEqual(["acme/tool@main refine", "actions/checkout@v4 refine"]);
    expect(report.lookups).toEqual({ images: 5, actions: 2 });

    expect(await readFile(join(root, "Containerfile"), "utf8")).toBe(
      [
        "# syntax=docker/dockerfile:1",
        // FROM ${BASE} names the ARG whole: its default is pinned in the ARG line.
        `ARG BASE=${R}/base:1@${digest("1")}`,
        `FROM --platform=$BUILDPLATFORM ${R}/base:1@${digest("1")} AS build`,
        "RUN echo building",
        `COPY --from=${R}/tools:2@${digest("2")} /bin/busybox /usr/local/bin/tool`,
        "",
        "FROM build AS test",
        "FROM ${BASE}",
        "FROM scratch",
        "COPY --from=build /etc/os-release /",
        "",
      ].join("\n"),
    );
    expect((await stat(join(root, "Containerfile"))).mode & 0o777).toBe(0o640);
    expect(await readFile(join(root, ".github/workflows/ci.yml"), "utf8")).toBe(
      [
        "name: ci",
        "on: [push]",
        "",
        "jobs:",
        "  test:",
        "    runs-on: ubuntu-latest",
        "    # the build container",
        `    container: ${R}/base:1@${digest("1")}`,
        "    services:",
        "      db:",
        `        image: "${R}/db:1@${digest("3")}"`,
        "    steps:",
        `      - uses: actions/checkout@${sha("a")} # v4.2.2`,
        "      - uses: ./.github/actions/setup",
        `      - uses: "docker://${R}/tools:2@${digest("2")}"`,
        `      - uses: acme/tool@${sha("b")} # main`,
        "        with:",
        `          image: ${R}/not-a-ref:1`,
        "      - uses: acme/tool@${{ inputs.ref }}",
        "",
      ].join("\n"),
    );
    expect(await readFile(join(root, "compose.yaml"), "utf8")).toBe(
      [
        "services:",
        "  web:",
        `    image: ${R}/multi:1@${digest("4")} # web tier`,
        "  db:",
        `    image: "${R}/db:1@${digest("3")}"`,
        "",
      ].join("\n"),
    );

    const byStatus = (s: string) =>
      report.outcomes.filter((o) => o.status === s).map((o) => `${o.file}:${o.line}`);
    expect(byStatus("pinned")).toEqual([
      ".github/actions/setup/action.yml:6",
      ".github/workflows/ci.yml:8",
      ".github/workflows/ci.yml:11",
      ".github/workflows/ci.yml:13",
      ".github/workflows/ci.yml:15",
      ".github/workflows/ci.yml:16",
      "Containerfile:2",
      "Containerfile:3",
      "Containerfile:5",
      "app/Dockerfile.release:1",
      "compose.yaml:3",
      "compose.yaml:5",
    ]);
    expect(report.outcomes.filter((o) => o.status === "error")).toEqual([
      expect.objectContaining({
        file: "app/Dockerfile.release",
        line: 2,
        ref: `${R}/missing`,
        message: `'${R}/missing:1': no such tag in the registry (manifest unknown)`,
      }),
    ]);
    expect(byStatus("variable")).toEqual([".github/workflows/ci.yml:19"]);
    expect(report.problems).toEqual([
      expect.objectContaining({
        file: "broken/compose.yaml",
        message: expect.stringMatching(/^not valid YAML/),
      }),
    ]);
    expect(report.changedFiles).toEqual([
      ".github/actions/setup/action.yml",
      ".github/workflows/ci.yml",
      "Containerfile",
      "app/Dockerfile.release",
      "compose.yaml",
    ]);
  });

  test("idempotent: a second pin run changes nothing and looks nothing up", async () => {
    const root = await repo();
    const first = tableImages(DIGESTS);
    await pinDigests(options(root, { images: first.resolver, actions: tableActions(COMMITS).resolver }));
    const after = await snapshot(root);
    const again = tableImages(DIGESTS);
    const actions = tableActions(COMMITS);
    const report = await pinDigests(options(root, { images: again.resolver, actions: actions.resolver }));
    expect(await snapshot(root)).toEqual(after);
    expect(report.changedFiles).toEqual([]);
    expect(again.calls).toEqual([`${R}/missing:1`]);
    expect(actions.calls).toEqual([]);
  });

  test("check: writes nothing, needs no resolver, lists every unpinned reference", async () => {
    const root = await repo();
    const before = await snapshot(root);
    const report = await pinDigests(options(root, { mode: "check" }));
    expect(await snapshot(root)).toEqual(before);
    expect(
      report.outcomes.filter((o) => o.status === "unpinned").map((o) => `${o.file}:${o.line} ${o.old}`),
    ).toEqual([
      ".github/actions/setup/action.yml:6 actions/checkout@v4",
      `.github/workflows/ci.yml:8 ${R}/base:1`,
      `.github/workflows/ci.yml:11 ${R}/db:1`,
      ".github/workflows/ci.yml:13 actions/checkout@v4 # v4",
      `.github/workflows/ci.yml:15 ${R}/tools:2`,
      ".github/workflows/ci.yml:16 acme/tool@main",
      `Containerfile:2 ${R}/base:1`,
      `Containerfile:3 ${R}/base:1`,
      `Containerfile:5 ${R}/tools:2`,
      `app/Dockerfile.release:1 ${R}/multi:1`,
      `app/Dockerfile.release:2 ${R}/missing:1`,
      `compose.yaml:3 ${R}/multi:1`,
      `compose.yaml:5 ${R}/db:1`,
    ]);
  });

  test("update: refreshes only pinned references whose tag moved, following the version comment", async () => {
    const root = await repo();
    await pinDigests(
      options(root, { images: tableImages(DIGESTS).resolver, actions: tableActions(COMMITS).resolver }),
    );
    const moved = tableImages({ ...DIGESTS, [`${R}/db:1`]: digest("9") });
    const actions = tableActions({
      ...COMMITS,
      "actions/checkout@v4.2.2": { sha: sha("c"), version: "v4.2.2" },
      "acme/tool@main": COMMITS["acme/tool@main"],
    });
    const report = await pinDigests(
      options(root, { mode: "update", images: moved.resolver, actions: actions.resolver }),
    );

    expect(actions.calls.sort()).toEqual(["acme/tool@main", "actions/checkout@v4.2.2"]);
    expect(
      report.outcomes.filter((o) => o.status === "updated").map((o) => `${o.file}:${o.line} ${o.new}`),
    ).toEqual([
      `.github/actions/setup/action.yml:6 actions/checkout@${sha("c")} # v4.2.2`,
      `.github/workflows/ci.yml:11 ${R}/db:1@${digest("9")}`,
      `.github/workflows/ci.yml:13 actions/checkout@${sha("c")} # v4.2.2`,
      `compose.yaml:5 ${R}/db:1@${digest("9")}`,
    ]);
    // 8: the ARG line of FROM ${BASE} too.
    expect(report.outcomes.filter((o) => o.status === "up-to-date")).toHaveLength(8);
    expect(await readFile(join(root, "compose.yaml"), "utf8")).toContain(`"${R}/db:1@${digest("9")}"`);
    // The unpinned reference (missing:1, whose lookup failed) is left alone in update mode.
    expect(report.outcomes.find((o) => o.ref === `${R}/missing`)?.status).toBe("unpinned");
  });

  test("a failing lookup is that reference's error; the other references in the same file are pinned", async () => {
    const root = await repo();
    await writeFile(join(root, "Containerfile"), `FROM ${R}/broken-registry/x:1\nFROM ${R}/base:1\n`);
    const report = await pinDigests(
      options(root, { include: "images", paths: ["Containerfile"], images: tableImages(DIGESTS).resolver }),
    );
    expect(report.outcomes.map((o) => [o.status, o.message])).toEqual([
      ["error", `${R}/broken-registry/x:1: connect ECONNREFUSED`],
      ["pinned", undefined],
    ]);
    expect(await readFile(join(root, "Containerfile"), "utf8")).toBe(
      `FROM ${R}/broken-registry/x:1\nFROM ${R}/base:1@${digest("1")}\n`,
    );
  });

  test("include=actions leaves images alone and needs no image resolver", async () => {
    const root = await repo();
    const report = await pinDigests(
      options(root, { include: "actions", actions: tableActions(COMMITS).resolver }),
    );
    expect(new Set(report.outcomes.map((o) => o.kind))).toEqual(new Set(["action"]));
    expect(await readFile(join(root, "compose.yaml"), "utf8")).not.toContain("@sha256:");
  });
});
