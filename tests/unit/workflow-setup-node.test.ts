import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, expect, test } from "vitest";
import { requestedNodeMajor, setupNode } from "../../packages/runner/src/workflow-setup-node";

const WHERE = "job verify step 2";
const runtime = { execPath: "/opt/node24/bin/node", version: "24.21.0" };
let workspace: string;

beforeAll(async () => {
  workspace = await mkdtemp(join(tmpdir(), "setup-node-"));
  await writeFile(join(workspace, ".node-version"), "24\n");
  await writeFile(join(workspace, ".nvmrc"), "lts/*\n");
});
afterAll(() => rm(workspace, { recursive: true, force: true }));

test.each([
  ["24", 24],
  ["24.x", 24],
  ["v24.1.0", 24],
  ["24.21.0\n", 24],
  ["20.*", 20],
])("requestedNodeMajor(%j) = %i", (spec, major) => {
  expect(requestedNodeMajor(spec, WHERE)).toBe(major);
});

test.each(["lts/*", "latest", "node", ">=20", "24 || 22", ""])("requestedNodeMajor refuses %j", (spec) => {
  expect(() => requestedNodeMajor(spec, WHERE)).toThrow(`${WHERE}: actions/setup-node: node-version`);
});

test.each([
  [
    { "node-version-file": ".node-version", cache: "npm" },
    /Node 24\.21\.0 from \/opt\/node24\/bin; cache: npm not modelled/,
  ],
  [{ "node-version": "24.x" }, /^actions\/setup-node \(modelled\): Node 24\.21\.0 from \/opt\/node24\/bin$/],
])("setupNode(%j) puts the runner's own Node first on PATH", async (inputs, message) => {
  const result = await setupNode(inputs, workspace, WHERE, runtime);
  expect(result.addedPath).toEqual(["/opt/node24/bin"]);
  expect(result.message).toMatch(message);
});

test.each([
  [{ "node-version": "22" }, "Node 22 asked for; the local runner has only its own Node 24.21.0"],
  [{ "node-version-file": ".nvmrc" }, "node-version 'lts/*' is not modelled"],
  [{ "node-version-file": "missing" }, "node-version-file " + "MISSING cannot be read"],
  [{ "node-version": "24", "check-latest": "true" }, "check-latest not modelled"],
  [{}, "give node-version or node-version-file"],
])("setupNode(%j) refuses, naming the step", async (inputs, message) => {
  await expect(setupNode(inputs, workspace, WHERE, runtime)).rejects.toThrow(
    `${WHERE}: actions/setup-node: ${message.replace("MISSING", join(workspace, "missing"))}`,
  );
});
