#!/usr/bin/env node
// `npm run bench:<name>`: bundles scripts/bench-<name>-main.ts (TypeScript importing the workspace packages
// and the test helpers) with ncc into .tmp/, then runs it with this node (Node 24) from the repository root.
// Transpile only: `npm run typecheck` checks types, and ncc would otherwise fail on type errors anywhere in
// the project. Arguments after the name pass through, e.g.
//
//   npm run bench:pin [-- --delay-ms 50 --refs 200 --distinct 50 --concurrency 16 --no-docs]
//   npm run bench:image [-- --synthetic --no-docs]      (root, GNU tar, buildah, skopeo, docker-registry)
//   npm run bench:mkosi [-- --project examples|fixture --no-docs]
//   npm run bench:disk [-- --no-docs --no-boot --repeat 3 --disk PATH.raw]   (toolbox, qemu-img, qemu-system-x86, ovmf)
//   npm run bench:trivy [-- --no-docs --repeat 3]   (Trivy from npm, Go + bbolt for the DB, docker-registry)
import { spawnSync } from "node:child_process";
import { existsSync } from "node:fs";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";

const repoRoot = resolve(dirname(fileURLToPath(import.meta.url)), "..");
const [name, ...args] = process.argv.slice(2);
const main = join(repoRoot, "scripts", `bench-${name}-main.ts`);
if (!name || !existsSync(main)) {
  console.error(`usage: run-bench.mjs <name> [args…]; no scripts/bench-${name ?? "<name>"}-main.ts`);
  process.exit(2);
}
const out = join(repoRoot, ".tmp", `bench-${name}`);
const ncc = join(repoRoot, "node_modules/@vercel/ncc/dist/ncc/cli.js");
const options = { cwd: repoRoot, stdio: "inherit" };

const built = spawnSync(
  process.execPath,
  [ncc, "build", main, "--out", out, "--quiet", "--transpile-only"],
  options,
);
if (built.status !== 0) process.exit(built.status ?? 1);
const ran = spawnSync(process.execPath, [join(out, "index.js"), ...args], options);
process.exit(ran.status ?? 1);
