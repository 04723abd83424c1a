/**
 * Warm vs cold for actions/build-mkosi: the same project built three times through the local runner
 * (action.yml + dist bundle, main and post steps), each in a fresh work directory with a fresh package cache,
 * sharing only the build cache store the first run's post step saved into: cold, warm (unchanged), and warm
 * with one package's files changed (its files rewritten and its version bumped in dpkg's status by the
 * project's finalize script, as an upgrade would). The later runs start like a new CI job whose cache was
 * restored, and take unchanged layers over from the image the build cache kept. mkosi 25.3 comes from the
 * trixie toolbox. Prints a markdown table and, unless --no-docs, writes the generated part of
 * docs/benchmarks/build-mkosi.md (everything from its first "## " heading on is kept as written).
 *
 *   npm run bench:mkosi [-- --project examples|fixture|large --no-docs --keep]
 *
 * `--keep` leaves the scratch directory (work directories, the build-cache store, each run's log as
 * run-N.log) for profiling by hand.
 *
 * `large` (about 1.5 GiB of rootfs) is run by hand; its figures go to docs/benchmarks/build-mkosi-large.md.
 * After its three mkosi runs it also packages the cold run's rootfs with our packager (from scratch, then
 * with the previous image unchanged and with one package changed) against buildah (`cp -a` into a scratch
 * container, gzip commit), in the same run: bench-packaging.ts, shared with `bench:image --tree`.
 */
import { execFileSync } from "node:child_process";
import { appendFile, cp, mkdir, mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { cpus, loadavg, tmpdir } from "node:os";
import { join } from "node:path";
import { formatBytes, formatDuration } from "@frostyard/kit";
import { repoRoot, runBuiltAction, type ActionRun } from "../tests/helpers/run-action";
import { ensureToolbox } from "../tests/helpers/toolbox";
import { packagingAgainstBuildah } from "./bench-packaging";
import { stagesOf } from "./bench-summary";

const PROJECTS: Record<string, { path: string; profile?: string; againstBuildah?: boolean }> = {
  examples: { path: "examples/debian-bootc", profile: "devel" },
  fixture: { path: "tests/fixtures/mkosi/project", profile: "extra" },
  // About 1.5 GiB of rootfs (kernel, non-free firmware, podman, flatpak, cockpit…): by hand, not in CI.
  large: { path: "scripts/bench-projects/large", againstBuildah: true },
};

/** The load average as `uptime` prints it, for the figures' context on a shared machine. */
const load = () =>
  loadavg()
    .map((l) => l.toFixed(2))
    .join(", ");

/** A duration as formatDuration writes it ("450 ms", "6.1 s", "2 min 26 s", "1 h 02 min") in ms. */
function durationMs(text: string): number | undefined {
  const units: Record<string, number> = { ms: 1, s: 1000, min: 60_000, h: 3_600_000 };
  const parts = [...text.matchAll(/([\d.]+) (ms|s|min|h)\b/g)];
  return parts.length ? parts.reduce((sum, [, n, unit]) => sum + Number(n) * units[unit!]!, 0) : undefined;
}

/**
 * The components a project's mkosi.conf asks for beyond main (`Repositories=`): the mirror sources written
 * for the sandbox replace mkosi's defaults, so they have to carry these too.
 */
async function extraComponents(projectDir: string): Promise<string[]> {
  const conf = await readFile(join(projectDir, "mkosi.conf"), "utf8");
  return [...conf.matchAll(/^Repositories=(.+)$/gm)].flatMap(([, list]) =>
    list!.split(/[\s,]+/).filter(Boolean),
  );
}

/**
 * Appended to the copied project's mkosi.finalize: with FROSTYARD_BENCH_UPGRADE set, one package's regular
 * files get new bytes and dpkg's status its new version, the two layers an upgrade of that package changes.
 */
const UPGRADE_SCRIPT = `
if [ -n "\${FROSTYARD_BENCH_UPGRADE:-}" ]; then
  pkg="$FROSTYARD_BENCH_UPGRADE"
  while IFS= read -r path; do
    f="$BUILDROOT$path"
    if [ -f "$f" ] && [ ! -L "$f" ]; then printf '\\n# %s upgraded\\n' "$pkg" >> "$f"; fi
  done < "$BUILDROOT/var/lib/dpkg/info/$pkg.list"
  sed -i "/^Package: $pkg$/,/^$/ s/^Version: \\(.*\\)$/Version: \\1+bench1/" "$BUILDROOT/var/lib/dpkg/status"
fi
`;
const UPGRADED_PACKAGE = "dbus";

interface Measured {
  totalMs: number;
  mainMs: number;
  postMs: number;
  stages: Map<string, string>;
  rootfs: string;
  cache: string;
  layers: number;
  reused: number;
  update: string;
}

function measured(run: ActionRun): Measured {
  if (run.failed) {
    const errors = run.annotations.filter((a) => a.level === "error").map((a) => a.message);
    throw new Error(`the action failed: ${errors.join("; ") || run.stderr.slice(-2000)}`);
  }
  const cache = /\| cache \| (.+?) \|/.exec(run.summary)?.[1] ?? "?";
  return {
    mainMs: run.main.durationMs,
    postMs: run.post?.durationMs ?? 0,
    totalMs: run.main.durationMs + (run.post?.durationMs ?? 0),
    stages: stagesOf(run.summary),
    rootfs: run.outputs.rootfs ?? "",
    cache: cache.replace(/`/g, ""),
    layers: (JSON.parse(run.outputs.layers ?? "[]") as unknown[]).length,
    reused: (JSON.parse(run.outputs.layers ?? "[]") as { reused?: boolean }[]).filter((l) => l.reused).length,
    update: updateText(run.outputs.update),
  };
}

function updateText(json: string | undefined): string {
  if (!json) return "— (no previous image)";
  const update = JSON.parse(json) as { bytes: number; layers: number; totalLayers: number; percent: number };
  return `${formatBytes(update.bytes)} in ${update.layers} of ${update.totalLayers} layers (${update.percent} %)`;
}

async function main(): Promise<void> {
  let docs = true;
  let keep = false;
  let projectName = "examples";
  const args = process.argv.slice(2);
  for (let i = 0; i < args.length; i++) {
    if (args[i] === "--no-docs") docs = false;
    else if (args[i] === "--keep") keep = true;
    else if (args[i] === "--project" && PROJECTS[args[i + 1] ?? ""]) projectName = args[++i]!;
    else
      throw new Error(
        `unknown argument '${args[i]}'; expected --project ${Object.keys(PROJECTS).join("|")}, --no-docs, --keep`,
      );
  }
  const project = PROJECTS[projectName]!;
  const toolbox = await ensureToolbox();
  const scratch = await mkdtemp(join(tmpdir(), "frostyard-bench-mkosi-"));
  try {
    const dir = join(scratch, "project");
    await cp(join(repoRoot, project.path), dir, { recursive: true });
    execFileSync(join(repoRoot, "examples/sandbox-from-host.sh"), [dir, "trixie"], { stdio: "inherit" });
    const components = await extraComponents(dir);
    if (components.length) {
      const sources = join(dir, "mkosi.sandbox/etc/apt/sources.list.d/mkosi.sources");
      const text = await readFile(sources, "utf8");
      await writeFile(
        sources,
        text.replace(/^Components: main$/m, `Components: main ${components.join(" ")}`),
      );
    }
    await appendFile(join(dir, "mkosi.finalize"), UPGRADE_SCRIPT);
    const store = join(scratch, "store");
    await mkdir(store);
    const runOnce = async (n: number, environment = "") => {
      const started = Date.now();
      const run = await runBuiltAction("build-mkosi", {
        workdir: scratch,
        env: {
          ...toolbox.env,
          FROSTYARD_TOOLBOX_BINDS: scratch,
          // The toolbox wrapper hands mkosi only the variables it names.
          FROSTYARD_TOOLBOX_ENV: "FROSTYARD_BENCH_UPGRADE",
          FROSTYARD_BUILD_CACHE: store,
        },
        inputs: {
          directory: dir,
          profiles: project.profile ?? "",
          "mkosi-ref": "system",
          "work-directory": join(scratch, `work-${n}`),
          "image-version": `run${n}`,
          "source-date-epoch": "1735689600",
          image: "localhost/bench/os",
          push: "false",
          // A fresh package cache each run: neither run gets downloads for free from the toolbox's.
          args: `--package-cache-directory=${join(scratch, `packages-${n}`)}`,
          environment,
        },
        timeoutMs: 1_800_000,
      });
      await writeFile(join(scratch, `run-${n}.log`), `${run.stdout}\n--- stderr ---\n${run.stderr}`);
      const result = measured(run);
      console.log(`run ${n}: ${formatDuration(Date.now() - started)} (${result.cache})`);
      return result;
    };
    const loadAtStart = load();
    console.log(`load at start: ${loadAtStart}`);
    const cold = await runOnce(1);
    const warm = await runOnce(2);
    const changed = await runOnce(3, `FROSTYARD_BENCH_UPGRADE=${UPGRADED_PACKAGE}`);
    const runs = [cold, warm, changed];
    const ratio = warm.totalMs / cold.totalMs;
    const stageNames = [...new Set(runs.flatMap((r) => [...r.stages.keys()]))];
    const row = (name: string, cells: string[]) => `| ${name} | ${cells.join(" | ")} |`;
    const table = [
      `| | cold (first run) | warm (cache restored) | warm, ${UPGRADED_PACKAGE} changed |`,
      "| --- | --- | --- | --- |",
      row(
        "cache",
        runs.map((r) => r.cache),
      ),
      ...stageNames.map((name) =>
        row(
          name,
          runs.map((r) => r.stages.get(name) ?? "—"),
        ),
      ),
      row(
        "main step",
        runs.map((r) => formatDuration(r.mainMs)),
      ),
      row(
        "post step (pack + save cache)",
        runs.map((r) => formatDuration(r.postMs)),
      ),
      row(
        "**whole action**",
        runs.map((r) => `**${formatDuration(r.totalMs)}**`),
      ),
      row(
        "layers (taken over from the previous image)",
        runs.map((r) => `${r.layers} (${r.reused})`),
      ),
      row(
        "update cost for a host on the previous image",
        runs.map((r) => r.update),
      ),
    ].join("\n");
    const verdict = `warm / cold = ${ratio.toFixed(2)}× (target ≤ 0.15×): ${ratio <= 0.15 ? "met" : "NOT met"}; changed / cold = ${(changed.totalMs / cold.totalMs).toFixed(2)}×`;
    console.log(`\n${table}\n\n${verdict}`);
    // A failure here (buildah missing, say) must not cost the three mkosi runs' figures.
    const packaging = project.againstBuildah
      ? await packagingAgainstBuildah(cold.rootfs).catch((error: unknown) => {
          console.error(`packaging against buildah failed: ${String(error)}`);
          return undefined;
        })
      : undefined;
    const loadAtEnd = load();
    let packagingSection: string[] = [];
    if (packaging) {
      const mibPerSecond = (r: Measured) => {
        const ms = durationMs(r.stages.get("package") ?? "");
        return ms ? `${(packaging.rawBytes / 2 ** 20 / (ms / 1000)).toFixed(0)} MiB/s` : "?";
      };
      const rows = [
        `The action's package stage above, over the rootfs's ${formatBytes(packaging.rawBytes)} of file content`,
        `(${packaging.packages} packages): ${mibPerSecond(cold)} cold, ${mibPerSecond(warm)} warm, ${mibPerSecond(changed)} with ${UPGRADED_PACKAGE} changed`,
        `(each run's whole stage: reading the rootfs as root, hashing, compressing what changed, writing the layout).`,
      ];
      packagingSection = [
        // Not a "## " heading: everything from the first one on is the hand-written part a re-run keeps.
        "**Packaging against buildah, in the same run.**",
        "",
        "After the three runs, on the cold run's rootfs (`npm run bench:image -- --tree <rootfs>` measures the same):",
        "our packager from scratch, again with the first image as the previous one (nothing changed), again after",
        `one package (${packaging.changedPackage}) changed on a copy of the tree, and buildah from scratch (\`buildah from`,
        "scratch`, `cp -a` into its mount, `buildah commit --disable-compression=false` to an OCI layout).",
        "Throughput is the tree's file content over the time; peak RSS is the benchmark process's (our packager",
        "runs in it, streaming) and `/usr/bin/time`'s for buildah commit.",
        "",
        packaging.table,
        "",
        rows.join(" "),
        "",
      ];
      console.log(`\n${packaging.table}\n\n${rows.join(" ")}\nMachine: ${packaging.machine}`);
    }
    const loadLine = `uptime load (1, 5, 15 min) ${loadAtStart} at the start, ${loadAtEnd} at the end`;
    console.log(loadLine);
    if (docs) {
      const doc = [
        `# build-mkosi: warm vs cold${project.againstBuildah ? " at a realistic size" : ""}`,
        "",
        `\`npm run bench:mkosi -- --project ${projectName}\` (projects: ${Object.keys(PROJECTS).join(", ")}; \`--no-docs\` prints only) builds the same mkosi project`,
        "three times with `actions/build-mkosi` through the local runner (action.yml, dist bundle, main and post",
        "steps): each run in a fresh work directory and with a fresh package cache (`--package-cache-directory`),",
        "sharing only the build-cache store the first run's post step saved into. The later runs start like a new",
        "CI job whose cache was restored: mkosi unpacks its incremental image and only runs what comes after",
        "package installation (scripts, extra trees, manifest); packaging hashes each layer's tar and takes over",
        "the compressed blob of every layer the previous image (the one the build cache kept) has. The third run",
        `changes one package the way an upgrade would (${UPGRADED_PACKAGE}'s files rewritten, its version bumped in`,
        "dpkg's status, by the project's finalize script): its layer and the dpkg database's are compressed again.",
        "",
        `Project: \`${project.path}\`${project.profile ? ` with profile \`${project.profile}\`` : ""}; mkosi 25.3 from the trixie toolbox;`,
        `packaged as an OCI layout (\`push: false\`). Machine: ${cpus().length} cores, shared with other jobs.`,
        ...(packaging ? [`Run ${new Date().toISOString().slice(0, 16)}Z; ${loadLine}.`] : []),
        "",
        table,
        "",
        `**${verdict}.**`,
        "",
        "What the warm run still pays: unpacking the cached image (on an exact hit into a tmpfs, about 0.6 s),",
        "mkosi's own copy of the cached tree into the workspace, reading and hashing every layer's tar (the",
        "compression of unchanged layers is skipped), and the post step, which saves nothing on an exact hit.",
        "",
        ...packagingSection,
      ].join("\n");
      const file = join(
        repoRoot,
        projectName === "large" ? "docs/benchmarks/build-mkosi-large.md" : "docs/benchmarks/build-mkosi.md",
      );
      // What was written by hand under later headings stays.
      const kept = await readFile(file, "utf8").then(
        (text) => text.slice(text.indexOf("\n## ") + 1 || text.length),
        () => "",
      );
      await mkdir(join(repoRoot, "docs/benchmarks"), { recursive: true });
      await writeFile(file, kept ? `${doc}\n${kept}` : doc);
      console.log(`wrote ${file}`);
    }
  } finally {
    if (keep) console.log(`kept ${scratch}`);
    else await rm(scratch, { recursive: true, force: true });
  }
}

await main();
