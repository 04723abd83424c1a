#!/usr/bin/env node
// Exits 0 when node_modules holds exactly what package-lock.json pins, so .ci/run can skip `npm ci`
// (which always deletes and reinstalls node_modules) when nothing changed. Runs on any Node ≥ 18: it is
// what decides whether the Node 24 devDependency must be installed first.
import { existsSync, lstatSync, readFileSync } from "node:fs";
import { join } from "node:path";

const root = new URL("..", import.meta.url).pathname;
const lock = JSON.parse(readFileSync(join(root, "package-lock.json"), "utf8"));
const problems = [];
for (const [path, entry] of Object.entries(lock.packages ?? {})) {
  if (!path.startsWith("node_modules/")) continue;
  const dir = join(root, path);
  if (entry.link) {
    if (!existsSync(dir) || !lstatSync(dir).isSymbolicLink())
      problems.push(`${path}: workspace link missing`);
    continue;
  }
  const manifest = join(dir, "package.json");
  if (!existsSync(manifest)) {
    // Optional dependencies for other platforms (e.g. native bindings) are never installed here.
    if (!entry.optional) problems.push(`${path}: missing`);
    continue;
  }
  const installed = JSON.parse(readFileSync(manifest, "utf8")).version;
  if (installed !== entry.version)
    problems.push(`${path}: ${installed} installed, lock pins ${entry.version}`);
}
if (problems.length > 0) {
  console.log(`node_modules differs from package-lock.json:\n  ${problems.slice(0, 10).join("\n  ")}`);
  process.exit(1);
}
