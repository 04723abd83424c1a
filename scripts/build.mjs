#!/usr/bin/env node
// Bundles every action entry (packages/actions/src/<name>/main.ts → dist/<name>/index.js) and the local
// runner CLI (packages/runner/src/cli.ts → dist/cli/index.js) with ncc: minified ESM, no source maps, no
// license files. ncc also writes a package.json {"type":"module"} beside each bundle; it is kept, since
// the bundle is ESM and the runner must load it as such wherever it is checked out.
//
//   node scripts/build.mjs [--out-dir DIR] [--only NAME[,NAME…]] [--entry FILE]
//
// --entry builds one other entry (a test fixture) the same way, into DIR/<its directory's name>/.
//
// Same sources → byte-identical output (the dist-fresh test and the check-dist job rely on it). Each
// entry is built by its own ncc process into a scratch directory, then moved into place file by file
// with rename, so tests reading dist/ while a build runs never see half a file.
import { spawn } from "node:child_process";
import { chmod, mkdir, mkdtemp, readdir, readFile, rename, rm, stat } from "node:fs/promises";
import { availableParallelism } from "node:os";
import { basename, dirname, join, relative, resolve } from "node:path";
import { fileURLToPath } from "node:url";

const repoRoot = resolve(dirname(fileURLToPath(import.meta.url)), "..");
const nccCli = join(repoRoot, "node_modules/@vercel/ncc/dist/ncc/cli.js");

/** Every bundle this repository ships: name → entry source. */
export async function listEntries(root = repoRoot) {
  const actionsSrc = join(root, "packages/actions/src");
  const entries = [];
  for (const dirent of await readdir(actionsSrc, { withFileTypes: true })) {
    if (!dirent.isDirectory()) continue;
    const main = join(actionsSrc, dirent.name, "main.ts");
    if (await exists(main)) entries.push({ name: dirent.name, entry: main });
  }
  entries.push({ name: "cli", entry: join(root, "packages/runner/src/cli.ts") });
  return entries.sort((a, b) => a.name.localeCompare(b.name));
}

async function exists(path) {
  try {
    await stat(path);
    return true;
  } catch {
    return false;
  }
}

function parseArgs(argv) {
  const options = { outDir: join(repoRoot, "dist"), only: undefined, entry: undefined };
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i];
    const value = () => {
      const next = argv[++i];
      if (next === undefined) throw new Error(`${arg} needs a value`);
      return next;
    };
    if (arg === "--out-dir") options.outDir = resolve(value());
    else if (arg === "--only") options.only = value().split(",").filter(Boolean);
    else if (arg === "--entry") options.entry = resolve(value());
    else
      throw new Error(
        `unknown argument '${arg}'; expected --out-dir DIR, --only NAME[,NAME…] or --entry FILE`,
      );
  }
  return options;
}

function runNcc(entry, outDir) {
  return new Promise((resolvePromise, reject) => {
    // Transpile only: type checking is `npm run typecheck`'s job. With it, ncc's ts-loader would check
    // the whole tsconfig program (tests included) for every bundle, slowly, and a type error in a test
    // would stop every action from building.
    const args = [nccCli, "build", entry, "--out", outDir, "--minify", "--transpile-only", "--quiet"];
    const child = spawn(process.execPath, args, {
      cwd: repoRoot,
      stdio: ["ignore", "pipe", "pipe"],
    });
    let output = "";
    child.stdout.on("data", (chunk) => (output += chunk));
    child.stderr.on("data", (chunk) => (output += chunk));
    child.on("error", reject);
    child.on("close", (code) => {
      if (code === 0) resolvePromise();
      else reject(new Error(`ncc failed for ${relative(repoRoot, entry)} (exit ${code}):\n${output.trim()}`));
    });
  });
}

async function listFiles(dir, prefix = "") {
  const files = [];
  for (const dirent of await readdir(dir, { withFileTypes: true })) {
    const rel = join(prefix, dirent.name);
    if (dirent.isDirectory()) files.push(...(await listFiles(join(dir, dirent.name), rel)));
    else files.push(rel);
  }
  return files.sort();
}

/** Moves the scratch build into `target`, replacing files atomically and removing ones no longer built. */
async function install(scratch, target, executable) {
  await mkdir(target, { recursive: true });
  const built = await listFiles(scratch);
  for (const file of built) {
    const from = join(scratch, file);
    const to = join(target, file);
    await mkdir(dirname(to), { recursive: true });
    // ncc marks bundles with a shebang executable; only the CLI has one, and only it should be.
    await chmod(from, executable && file === "index.js" ? 0o755 : 0o644);
    await rename(from, to);
  }
  for (const file of await listFiles(target)) {
    if (!built.includes(file)) await rm(join(target, file));
  }
}

async function buildOne({ name, entry }, outDir, scratchRoot) {
  const started = performance.now();
  const scratch = join(scratchRoot, name);
  await runNcc(entry, scratch);
  const code = await readFile(join(scratch, "index.js"), "utf8");
  await install(scratch, join(outDir, name), code.startsWith("#!"));
  return { name, ms: Math.round(performance.now() - started), bytes: Buffer.byteLength(code) };
}

/** Runs `work` over `items`, `limit` at a time; every item runs even when one fails, then all failures throw. */
async function pool(items, limit, work) {
  const results = [];
  const failures = [];
  let next = 0;
  const workers = Array.from({ length: Math.min(limit, items.length) }, async () => {
    while (next < items.length) {
      const item = items[next++];
      try {
        results.push(await work(item));
      } catch (error) {
        failures.push(error instanceof Error ? error.message : String(error));
      }
    }
  });
  await Promise.all(workers);
  if (failures.length > 0) throw new Error(failures.join("\n\n"));
  return results;
}

export async function build({ outDir = join(repoRoot, "dist"), only, entry } = {}) {
  const all = entry ? [{ name: basename(dirname(entry)), entry }] : await listEntries();
  const unknown = (only ?? []).filter((name) => !all.some((e) => e.name === name));
  if (unknown.length > 0) {
    throw new Error(`no entry named ${unknown.join(", ")}; entries: ${all.map((e) => e.name).join(", ")}`);
  }
  const entries = only ? all.filter((e) => only.includes(e.name)) : all;
  await mkdir(outDir, { recursive: true });
  // Scratch beside the output so rename never crosses filesystems.
  const scratchRoot = await mkdtemp(join(outDir, ".build-"));
  try {
    const results = await pool(entries, availableParallelism(), (e) => buildOne(e, outDir, scratchRoot));
    if (!only && !entry) {
      // A whole build also drops bundles whose entry is gone.
      const names = new Set(entries.map((e) => e.name));
      for (const dirent of await readdir(outDir, { withFileTypes: true })) {
        if (dirent.isDirectory() && !dirent.name.startsWith(".") && !names.has(dirent.name)) {
          await rm(join(outDir, dirent.name), { recursive: true });
        }
      }
    }
    return results.sort((a, b) => a.name.localeCompare(b.name));
  } finally {
    await rm(scratchRoot, { recursive: true, force: true });
  }
}

if (process.argv[1] && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  try {
    const options = parseArgs(process.argv.slice(2));
    const results = await build(options);
    for (const r of results) {
      console.log(
        `${relative(repoRoot, join(options.outDir, r.name, "index.js"))}  ${r.bytes} bytes  ${r.ms} ms`,
      );
    }
  } catch (error) {
    console.error(error instanceof Error ? error.message : error);
    process.exitCode = 1;
  }
}
