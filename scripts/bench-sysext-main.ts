/**
 * actions/build-sysext, cold and warm: tests/fixtures/mkosi/sysext-project (a base, vim-tiny and, under the
 * extra profile, tools) built twice through the local runner (action.yml + dist bundle, main and post
 * steps), each in a fresh work directory, sharing only the build cache store the first run's post step
 * saved into. Then the check stage alone: for each extension, reading it back and checking it
 * (readSysextImage + checkSysext: systemd-dissect --mtree and --copy-from) against `systemd-dissect --mtree`
 * by itself, the floor any check that reads the image pays. mkosi 25.3 and systemd 257 come from the trixie
 * toolbox. Prints a markdown table and, unless --no-docs, writes the generated part of
 * docs/benchmarks/sysext.md (a "## Notes" section written by hand is kept).
 *
 *   npm run bench:sysext [-- --no-docs --repeat 5]
 */
import { execFileSync } from "node:child_process";
import { chmod, cp, mkdir, mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { cpus, tmpdir } from "node:os";
import { join } from "node:path";
import { consoleLogger, formatBytes, formatDuration, type Logger } from "@frostyard/kit";
import { checkSysext, readSysextImage, type DissectCommand } from "@frostyard/sysext";
import { repoRoot, runBuiltAction, type ActionRun } from "../tests/helpers/run-action";
import { ensureToolbox } from "../tests/helpers/toolbox";
import { stagesOf } from "./bench-summary";
import { writeBenchDoc } from "./bench-doc";

/** `--no-docs`, `--repeat N`; anything else is refused before an expensive run rewrites the docs. */
function parseArgs(args: readonly string[]): { writeDocs: boolean; repeat: number } {
  const parsed = { writeDocs: true, repeat: 5 };
  for (let i = 0; i < args.length; i++) {
    if (args[i] === "--no-docs") parsed.writeDocs = false;
    else if (args[i] === "--repeat" && /^[1-9]\d*$/.test(args[i + 1] ?? ""))
      parsed.repeat = Number(args[++i]);
    else throw new Error(`unknown argument '${args[i]}'; expected --no-docs, --repeat N (N ≥ 1)`);
  }
  return parsed;
}

const { writeDocs, repeat } = parseArgs(process.argv.slice(2));
const quiet: Logger = { ...consoleLogger, info: () => {}, debug: () => {} };

function checked(run: ActionRun, label: string): ActionRun {
  if (!run.failed) return run;
  const errors = run.annotations.filter((a) => a.level === "error").map((a) => a.message);
  throw new Error(`${label}: the action failed: ${errors.join("; ") || run.stderr.slice(-2000)}`);
}

const median = (values: number[]) => [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)] ?? 0;

async function main(): Promise<void> {
  const toolbox = await ensureToolbox();
  const scratch = await mkdtemp(join(tmpdir(), "frostyard-bench-sysext-"));
  try {
    const project = join(scratch, "project");
    await cp(join(repoRoot, "tests/fixtures/mkosi/sysext-project"), project, { recursive: true });
    execFileSync(join(repoRoot, "examples/sandbox-from-host.sh"), [project, "trixie"]);
    await mkdir(join(scratch, "bin"));
    const dissectWrapper = join(scratch, "bin/systemd-dissect");
    await writeFile(
      dissectWrapper,
      `#!/usr/bin/env bash\nexec ${join(toolbox.binDir, "toolbox-enter")} ${toolbox.root} -- systemd-dissect "$@"\n`,
    );
    await chmod(dissectWrapper, 0o755);
    const env = {
      ...toolbox.env,
      PATH: `${join(scratch, "bin")}:${toolbox.env.PATH}`,
      FROSTYARD_TOOLBOX_BINDS: scratch,
      FROSTYARD_BUILD_CACHE: join(scratch, "build-cache"),
    };
    process.env.FROSTYARD_TOOLBOX_BINDS = scratch;
    const build = (name: string) =>
      runBuiltAction("build-sysext", {
        workdir: scratch,
        env,
        timeoutMs: 1_800_000,
        inputs: {
          directory: project,
          profiles: "extra",
          "mkosi-ref": "system",
          "work-directory": join(scratch, name),
          "image-version": "1.0",
          "source-date-epoch": "1735689600",
          "base-url": "https://ext.example/sysext",
        },
      });
    const cold = checked(await build("cold"), "cold");
    const warm = checked(await build("warm"), "warm");

    const sysexts = JSON.parse(cold.outputs.sysexts ?? "[]") as {
      name: string;
      file: string;
      size: number;
    }[];
    const out = cold.outputs["output-dir"] ?? "";
    const osRelease = await readFile(join(scratch, "cold/output/base/usr/lib/os-release"), "utf8");
    const base = Object.fromEntries(
      osRelease
        .split("\n")
        .map((l) => /^([A-Z_]+)="?([^"]*)"?$/.exec(l))
        .filter((m): m is RegExpExecArray => m !== null)
        .map((m) => [m[1]!, m[2]!]),
    );
    const dissect: DissectCommand = { command: dissectWrapper, prefix: [] };
    const checkRows: string[][] = [];
    for (const s of sysexts) {
      const raw = join(out, s.file);
      const mtree: number[] = [];
      const full: number[] = [];
      let entries = 0;
      for (let i = 0; i < repeat; i++) {
        let t = performance.now();
        execFileSync(dissectWrapper, ["--mtree", raw], {
          stdio: ["ignore", "ignore", "ignore"],
          env: process.env,
        });
        mtree.push(performance.now() - t);
        t = performance.now();
        const contents = await readSysextImage(raw, s.name, { dissect, logger: quiet, scratch });
        const findings = checkSysext(contents.entries, contents.files, {
          name: s.name,
          base,
          architecture: "x86-64",
        });
        full.push(performance.now() - t);
        if (findings.length > 0)
          throw new Error(`${s.name}: unexpected findings ${JSON.stringify(findings)}`);
        entries = contents.entries.length;
      }
      checkRows.push([
        s.name,
        formatBytes(s.size),
        String(entries),
        formatDuration(median(mtree)),
        formatDuration(median(full)),
      ]);
    }

    const stageNames = [...new Set([...stagesOf(cold.summary).keys(), ...stagesOf(warm.summary).keys()])];
    const lines = [
      `# build-sysext benchmark`,
      "",
      `Generated by \`npm run bench:sysext\` on ${new Date().toISOString().slice(0, 10)} (${cpus().length} cores, mkosi and systemd from the trixie toolbox).`,
      "Project: `tests/fixtures/mkosi/sysext-project` with profile `extra` — a Debian trixie base (`Format=directory`) and two extensions, `vim` (vim-tiny, key package with an epoch) and `tools` (netbase).",
      "",
      "## Cold and warm",
      "",
      "Each run starts in a fresh work directory; the warm one restores the build cache the cold run's post step saved (the incremental base).",
      "",
      "| | cold | warm |",
      "| --- | --- | --- |",
      `| whole action (main + post) | ${formatDuration(cold.main.durationMs + (cold.post?.durationMs ?? 0))} | ${formatDuration(warm.main.durationMs + (warm.post?.durationMs ?? 0))} |`,
      `| main step | ${formatDuration(cold.main.durationMs)} | ${formatDuration(warm.main.durationMs)} |`,
      ...stageNames.map(
        (name) =>
          `| ${name} | ${stagesOf(cold.summary).get(name) ?? "—"} | ${stagesOf(warm.summary).get(name) ?? "—"} |`,
      ),
      `| cache output | ${cold.outputs.cache} | ${warm.outputs.cache} |`,
      "",
      "## The check stage per extension",
      "",
      `Median of ${repeat}: \`systemd-dissect --mtree\` alone against reading the image back and checking it (\`readSysextImage\`: \`--mtree\` and \`--copy-from\` of the tree for the bytes of small files; \`checkSysext\`). Both through the toolbox's enter script, which adds its own start-up to each call.`,
      "",
      "| extension | size | entries | `--mtree` alone | read + check |",
      "| --- | --- | --- | --- | --- |",
      ...checkRows.map((r) => `| ${r.join(" | ")} |`),
      "",
    ];
    const markdown = lines.join("\n");
    console.log(markdown);
    if (writeDocs) {
      const file = join(repoRoot, "docs/benchmarks/sysext.md");
      await writeBenchDoc(file, markdown);
    }
  } finally {
    await rm(scratch, { recursive: true, force: true });
  }
}

await main();
