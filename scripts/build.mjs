#!/usr/bin/env node
// Bundles every action entry (packages/actions/src/<name>/main.ts → dist/<name>/) and the local runner CLI
// (packages/runner/src/cli.ts → dist/cli/) with ncc: minified ESM. ncc also writes a package.json
// {"type":"module"} beside each bundle; it is kept, since the bundle is ESM and the runner must load it as
// such wherever it is checked out. Each dist/<name>/ holds:
//   index.js        scripts/bundle-loader.js: imports bundle.js after hooking stack formatting, so that a
//                   trace is mapped through the .map files when it is printed (Node's own source maps
//                   cost every start ~30 ms; see that file).
//   bundle.js(.map) the bundle and its map (chunks: N.index.js(.map)); stack traces name the lines of
//                   packages/…/*.ts. Only our own sources are mapped (see traceMap), with paths relative to
//                   dist/<name>/, so they resolve in a checkout.
//   licenses.txt    the licences of every third-party package bundled, as GitHub's and Docker's actions ship.
//                   Written here from the packages the maps name, not by ncc --license: with chunks, ncc
//                   writes one licenses.txt per chunk to the same name and the last one wins.
//
//   node scripts/build.mjs [--out-dir DIR] [--only NAME[,NAME…]] [--entry FILE]
//
// --entry builds one other entry (a test fixture) the same way, into DIR/<its directory's name>/.
//
// Same sources → byte-identical output (the dist-fresh test and the check-dist job rely on it). Each
// entry is built by its own ncc process into a scratch directory, then moved into place file by file
// with rename, so tests reading dist/ while a build runs never see half a file.
import { spawn } from "node:child_process";
import { chmod, mkdir, mkdtemp, readdir, readFile, rename, rm, stat, writeFile } from "node:fs/promises";
import { readdirSync, readFileSync } from "node:fs";
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
    // No ncc register: it would bundle source-map-support; scripts/bundle-loader.js maps traces instead.
    const args = [
      ...[nccCli, "build", entry, "--out", outDir, "--minify", "--transpile-only", "--quiet"],
      ...["--source-map", "--no-source-map-register"],
    ];
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

const BASE64 = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

/** One mappings segment's VLQ fields, as numbers (still relative, as the format stores them). */
function decodeSegment(text) {
  const values = [];
  let value = 0;
  let shift = 0;
  for (const char of text) {
    const digit = BASE64.indexOf(char);
    if (digit < 0) throw new Error(`source map: '${char}' is not a base64 VLQ digit`);
    value += (digit & 31) << shift;
    if (digit & 32) shift += 5;
    else {
      values.push(value & 1 ? -(value >>> 1) : value >>> 1);
      value = 0;
      shift = 0;
    }
  }
  return values;
}

function encodeSegment(values) {
  let text = "";
  for (const n of values) {
    let value = n < 0 ? (-n << 1) | 1 : n << 1;
    do {
      let digit = value & 31;
      value >>>= 5;
      if (value > 0) digit |= 32;
      text += BASE64[digit];
    } while (value > 0);
  }
  return text;
}

/** Our own code: TypeScript outside node_modules (the bundled packages ship JavaScript). */
const isOurs = (source) => source.endsWith(".ts") && !source.split("/").includes("node_modules");

/**
 * A map as Node needs it for stack traces into our code: only segments of our TypeScript sources (a
 * dependency's position in the bundle is left unmapped), no names and no sourcesContent (a trace needs
 * positions, not text), one segment per run of a source line, and `sources` relative to dist/<name>/
 * (ncc writes them relative to the repository with a "../" prefix). This keeps a map to about 3% of its
 * bundle, what a failing step reads to print its trace. The same for any output directory, so builds stay
 * byte-identical.
 */
export function traceMap(map, file) {
  const sources = [];
  const index = new Map();
  let [source, line, column] = [0, 0, 0]; // absolute, in ncc's map
  let [outSource, outLine, outColumn] = [0, 0, 0]; // last written, in ours
  const lines = map.mappings.split(";").map((lineText) => {
    let generated = 0;
    let outGenerated = 0;
    let open = false; // whether the last written segment maps somewhere (so a gap must close it)
    const segments = [];
    for (const text of lineText === "" ? [] : lineText.split(",")) {
      const fields = decodeSegment(text);
      generated += fields[0];
      if (fields.length >= 4) {
        source += fields[1];
        line += fields[2];
        column += fields[3];
      }
      const name = fields.length >= 4 ? map.sources[source] : undefined;
      if (name !== undefined && isOurs(name)) {
        if (!index.has(name)) {
          index.set(name, sources.length);
          sources.push(`../${name}`);
        }
        const target = index.get(name);
        // ncc's maps are line maps (every column 0), with a segment per minified token: a run of segments
        // on the same source line says nothing the first does not; dropping them leaves a quarter.
        if (open && target === outSource && line === outLine && column === outColumn) continue;
        segments.push(
          encodeSegment([generated - outGenerated, target - outSource, line - outLine, column - outColumn]),
        );
        [outGenerated, outSource, outLine, outColumn] = [generated, target, line, column];
        open = true;
      } else if (open) {
        segments.push(encodeSegment([generated - outGenerated]));
        outGenerated = generated;
        open = false;
      }
    }
    return segments.join(",");
  });
  return { version: 3, file, sources, names: [], mappings: lines.join(";") };
}

/** dist/<name>/index.js: maps stack traces through bundle.js.map when one is formatted (see the file). */
const LOADER = readFileSync(join(repoRoot, "scripts/bundle-loader.js"), "utf8");

/**
 * The package directories (repository-relative) that ncc's map `sources` come from: the innermost
 * node_modules/<name> or node_modules/@scope/<name> of each. Workspace packages (packages/*) are ours.
 */
export function bundledPackages(sources) {
  const dirs = new Set();
  for (const source of sources) {
    const path = source.replace(/^(\.\.\/)+/, "");
    const at = path.lastIndexOf("node_modules/");
    if (at < 0) continue;
    const parts = path.slice(at + "node_modules/".length).split("/");
    const name = parts[0]?.startsWith("@") ? parts.slice(0, 2).join("/") : parts[0];
    if (name) dirs.add(`${path.slice(0, at)}node_modules/${name}`);
  }
  return [...dirs];
}

const LICENCE_FILE = /^(licen[cs]e|copying)([.-]|$)/i;

/** "name@version", its licence id, and its licence file's text (or a note that it ships none), per package. */
export function licenceText(root, dirs) {
  const entries = dirs.map((dir) => {
    const manifest = JSON.parse(readFileSync(join(root, dir, "package.json"), "utf8"));
    const file = readdirSync(join(root, dir))
      .filter((name) => LICENCE_FILE.test(name))
      .sort()[0];
    const id = typeof manifest.license === "string" ? manifest.license : "(no license field)";
    const text = file
      ? readFileSync(join(root, dir, file), "utf8").trim()
      : "(the package ships no licence file)";
    return {
      key: `${manifest.name}@${manifest.version}`,
      block: `${manifest.name}@${manifest.version}\n${id}\n${text}`,
    };
  });
  const unique = new Map(entries.map((e) => [e.key, e.block]));
  return (
    [...unique.keys()]
      .sort()
      .map((key) => unique.get(key))
      .join("\n\n") + "\n"
  );
}

/**
 * ncc's index.js(.map) → bundle.js(.map) behind the loader; every map made fit for traces; licenses.txt
 * from the packages the maps name (every chunk's, before traceMap leaves only ours).
 */
async function arrange(scratch) {
  const sources = [];
  for (const file of await readdir(scratch)) {
    if (!file.endsWith(".js.map")) continue;
    const path = join(scratch, file);
    const target = file === "index.js.map" ? "bundle.js" : file.slice(0, -".map".length);
    const nccMap = JSON.parse(await readFile(path, "utf8"));
    sources.push(...nccMap.sources);
    await writeFile(path, JSON.stringify(traceMap(nccMap, target)));
  }
  await writeFile(join(scratch, "licenses.txt"), licenceText(repoRoot, bundledPackages(sources)));
  const code = await readFile(join(scratch, "index.js"), "utf8");
  // The bundle keeps its shebang line (valid at the top of a module): removing it would shift every mapping.
  const shebang = code.startsWith("#!") ? code.slice(0, code.indexOf("\n") + 1) : "";
  const bundle = code.replace(
    /\/\/# sourceMappingURL=index\.js\.map\s*$/,
    "//# sourceMappingURL=bundle.js.map\n",
  );
  if (bundle === code) throw new Error("ncc's index.js does not end with its sourceMappingURL comment");
  await writeFile(join(scratch, "bundle.js"), bundle);
  await rename(join(scratch, "index.js.map"), join(scratch, "bundle.js.map"));
  await writeFile(join(scratch, "index.js"), shebang + LOADER);
  return { executable: shebang !== "", bytes: Buffer.byteLength(code) };
}

async function buildOne({ name, entry }, outDir, scratchRoot) {
  const started = performance.now();
  const scratch = join(scratchRoot, name);
  await runNcc(entry, scratch);
  const { executable, bytes } = await arrange(scratch);
  await install(scratch, join(outDir, name), executable);
  return { name, ms: Math.round(performance.now() - started), bytes };
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
        `${relative(repoRoot, join(options.outDir, r.name, "bundle.js"))}  ${r.bytes} bytes  ${r.ms} ms`,
      );
    }
  } catch (error) {
    console.error(error instanceof Error ? error.message : error);
    process.exitCode = 1;
  }
}
