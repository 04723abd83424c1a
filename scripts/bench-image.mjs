#!/usr/bin/env node
// `npm run bench:image`: bundles scripts/bench-image-main.ts (TypeScript importing the workspace packages and
// the test helpers) with ncc into .tmp/, then runs it with this node. Transpile only: `npm run typecheck`
// checks types. Needs root, GNU tar, buildah, skopeo and docker-registry. Arguments pass through:
//
//   npm run bench:image [-- --synthetic --no-docs]
import { spawnSync } from "node:child_process";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";

const repoRoot = resolve(dirname(fileURLToPath(import.meta.url)), "..");
const out = join(repoRoot, ".tmp", "bench-image");
const ncc = join(repoRoot, "node_modules/@vercel/ncc/dist/ncc/cli.js");

const built = spawnSync(
  process.execPath,
  [ncc, "build", join(repoRoot, "scripts/bench-image-main.ts"), "--out", out, "--quiet", "--transpile-only"],
  { cwd: repoRoot, stdio: "inherit" },
);
if (built.status !== 0) process.exit(built.status ?? 1);
const ran = spawnSync(process.execPath, [join(out, "index.js"), ...process.argv.slice(2)], {
  cwd: repoRoot,
  stdio: "inherit",
});
process.exit(ran.status ?? 1);
