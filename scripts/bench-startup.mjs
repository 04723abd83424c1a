#!/usr/bin/env node
// npm run bench:startup — for every bundle in dist/: its size, and its cold start to the first line of
// work (median of 10 runs): node is spawned on the bundle in an empty directory with no inputs and no
// runner files, so the entry reads its inputs, fails or starts work, and prints; the clock stops at the
// first byte on stdout or stderr and the process is killed. Size counts every file of the bundle that Node
// may load (the loader, the bundle, lazily loaded chunks); the source maps beside them, read only when a
// failing step formats its stack trace, are shown apart. Printed as a markdown table and written to
// docs/benchmarks/startup.md (unless --no-docs, or --dist DIR names another build); --against DIR times
// another build's bundles of the same names in turn with these (a before/after under the same load).
// Exits 1 when a bundle misses a target (≤ 3 MB, < 300 ms).
import { spawn } from "node:child_process";
import { existsSync, mkdtempSync, readdirSync, rmSync, statSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";

const repoRoot = resolve(dirname(fileURLToPath(import.meta.url)), "..");
const RUNS = 10;
const MAX_BYTES = 3 * 1024 * 1024;
const MAX_MS = 300;

function timeToFirstByte(args, cwd) {
  return new Promise((resolvePromise, reject) => {
    const started = process.hrtime.bigint();
    // Only what node needs: no INPUT_*, no GITHUB_* files, so nothing is written anywhere.
    const env = { PATH: process.env.PATH ?? "", HOME: cwd };
    const child = spawn(process.execPath, args, { cwd, env, stdio: ["ignore", "pipe", "pipe"] });
    let elapsed;
    const first = () => {
      if (elapsed !== undefined) return;
      elapsed = Number(process.hrtime.bigint() - started) / 1e6;
      child.kill("SIGKILL");
    };
    child.stdout.once("data", first);
    child.stderr.once("data", first);
    child.on("error", reject);
    child.on("close", () => {
      if (elapsed === undefined) reject(new Error(`${args.join(" ")} printed nothing`));
      else resolvePromise(elapsed);
    });
  });
}

function middle(times) {
  times.sort((a, b) => a - b);
  return (times[RUNS / 2 - 1] + times[RUNS / 2]) / 2;
}

/** Median time to first byte of each command, their runs taken in turn so load changes hit them alike. */
async function medians(commands, cwd) {
  const times = commands.map(() => []);
  for (let i = 0; i < RUNS; i++) {
    for (const [k, args] of commands.entries()) times[k].push(await timeToFirstByte(args, cwd));
  }
  return times.map(middle);
}

const distArg = process.argv.indexOf("--dist");
const distDir = distArg > 0 ? resolve(process.argv[distArg + 1] ?? "") : join(repoRoot, "dist");
const againstArg = process.argv.indexOf("--against");
const againstDir = againstArg > 0 ? resolve(process.argv[againstArg + 1] ?? "") : undefined;
const writeDocs = distArg < 0 && !process.argv.includes("--no-docs");
const bundles = existsSync(distDir)
  ? readdirSync(distDir, { withFileTypes: true })
      .filter(
        (d) => d.isDirectory() && !d.name.startsWith(".") && existsSync(join(distDir, d.name, "index.js")),
      )
      .map((d) => d.name)
      .sort()
  : [];
if (bundles.length === 0) {
  console.error("no bundles in dist/: run npm run build first");
  process.exit(1);
}

const cwd = mkdtempSync(join(tmpdir(), "bench-startup-"));
try {
  const [baseline] = await medians([["-e", "console.log(1)"]], cwd);
  const rows = [];
  let missed = false;
  for (const name of bundles) {
    const dir = join(distDir, name);
    const file = join(dir, "index.js");
    const files = readdirSync(dir).filter((f) => f.endsWith(".js"));
    const bytes = files.reduce((sum, f) => sum + statSync(join(dir, f)).size, 0);
    const mapBytes = readdirSync(dir)
      .filter((f) => f.endsWith(".js.map"))
      .reduce((sum, f) => sum + statSync(join(dir, f)).size, 0);
    const other = againstDir && join(againstDir, name, "index.js");
    const [ms, otherMs] = await medians(other && existsSync(other) ? [[file], [other]] : [[file]], cwd);
    const ok = bytes <= MAX_BYTES && ms < MAX_MS;
    missed ||= !ok;
    rows.push(
      `| ${name} | ${(bytes / 1024).toFixed(0)} KiB (${files.length} file${files.length > 1 ? "s" : ""}) | ${(mapBytes / 1024).toFixed(0)} KiB | ${ms.toFixed(0)} ms |${againstDir ? ` ${otherMs === undefined ? "–" : `${otherMs.toFixed(0)} ms`} |` : ""} ${ok ? "✓" : "✗"} |`,
    );
  }
  const report = [
    `Node ${process.versions.node}; cold start = first output byte, median of ${RUNS} runs`,
    `(bare \`node -e\` baseline: ${baseline.toFixed(0)} ms). Targets: ≤ 3 MB, < ${MAX_MS} ms.`,
    ...(againstDir ? [`--against build: ${againstDir}, each bundle timed in turn with this one.`] : []),
    "",
    `| bundle | size (all .js files) | source maps | cold start |${againstDir ? " cold start, --against build |" : ""} within targets |`,
    `| --- | ---: | ---: | ---: |${againstDir ? " ---: |" : ""} :---: |`,
    ...rows,
  ].join("\n");
  console.log(report);
  if (writeDocs) {
    const doc = [
      "# Bundle size and cold start",
      "",
      "```",
      "npm run bench:startup",
      "```",
      "",
      "Each action's bundle in `dist/` is started with Node 24 in an empty directory with no inputs; the clock",
      "stops at its first byte of output (it has parsed its inputs and started work, or failed on a missing",
      "input). The size counts the loader (`index.js`), the bundle and lazily loaded chunks (cosign-sign's",
      "keyless path, not loaded on the key-based path measured here). The source maps are not loaded at start:",
      "the loader reads one only when a stack trace through its file is formatted (a failing step), so they",
      "are listed apart; they map our own sources only.",
      "",
      report,
      "",
    ].join("\n");
    writeFileSync(join(repoRoot, "docs/benchmarks/startup.md"), doc);
  }
  if (missed) process.exitCode = 1;
} finally {
  rmSync(cwd, { recursive: true, force: true });
}
