import { mkdir, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { installTool, InputError, runnerArch, stopwatch, type Logger } from "@frostyard/kit";
import {
  addCounts,
  emptyCounts,
  formatAge,
  gateFailure,
  readDbMetadata,
  scannerNaming,
  scanOnce,
  shapeSarif,
  sortFindings,
  summaryMarkdown,
  trivyDownload,
  trivyVersion,
  TrivyVersionError,
  SEVERITIES,
  type ScanResult,
  type TrivyRunner,
} from "@frostyard/trivy";
import { coreLogger, inputGetter, run, setJsonOutput, setOutput, writeSummary } from "..";
import { prepareDb, trivyCacheDir, type DbState } from "./db-cache";
import { isSystemVersion, parseInputs, type TrivyScanInputs } from "./inputs";
import { resolveTargets } from "./targets";
import { uploadToCodeScanning } from "./upload";

/** The trivy binary: the pinned release through the tool cache, or the one on PATH for `version: system`. */
async function installTrivy(version: string, logger: Logger): Promise<string> {
  if (isSystemVersion(version)) return "trivy";
  try {
    const download = trivyDownload(version, runnerArch());
    return (await installTool(download, { logger })).binaries.trivy!;
  } catch (error) {
    if (error instanceof TrivyVersionError) throw new InputError("version", error.problem, error.accepted);
    throw error;
  }
}

function trivyEnv(inputs: TrivyScanInputs): Record<string, string> | undefined {
  // Trivy reads registry credentials from its environment: they never reach argv.
  if (!inputs.registryUsername || !inputs.registryPassword) return undefined;
  return { TRIVY_USERNAME: inputs.registryUsername, TRIVY_PASSWORD: inputs.registryPassword };
}

async function main(): Promise<void> {
  const logger = coreLogger;
  const clock = stopwatch();
  const workspace = process.env.GITHUB_WORKSPACE || process.cwd();
  const inputs = parseInputs(inputGetter, workspace);
  if (inputs.registryPassword) logger.setSecret(inputs.registryPassword);
  if (inputs.token) logger.setSecret(inputs.token);

  const trivy = await installTrivy(inputs.version, logger);
  const cacheDir = trivyCacheDir();
  const env = trivyEnv(inputs);
  const runner: TrivyRunner = {
    trivy,
    cacheDir,
    logger,
    ...(env ? { env, secrets: [env.TRIVY_PASSWORD!] } : {}),
  };
  const version = await trivyVersion(runner);
  const naming = await scannerNaming(runner);
  const outDir = inputs.outputDirectory ?? join(process.env.RUNNER_TEMP || tmpdir(), "trivy-scan");
  await mkdir(outDir, { recursive: true });

  const { scans, digest } = await resolveTargets(inputs, logger);
  let db: DbState | undefined;
  if (inputs.scanners.includes("vuln")) {
    db = await logger.group("Trivy vulnerability DB", () =>
      prepareDb(trivy, cacheDir, inputs.dbRepositories, logger),
    );
  }

  const settings = {
    scanners: inputs.scanners,
    severities: inputs.severities,
    ignoreUnfixed: inputs.ignoreUnfixed,
    timeout: inputs.timeout,
    listAllPackages: inputs.sbom !== "none",
    ...(inputs.trivyignore ? { ignorefile: inputs.trivyignore } : {}),
  };
  const sbomExtension = inputs.sbom === "spdx-json" ? "spdx.json" : "cdx.json";
  const results: (ScanResult & { name: string; category: string })[] = [];
  for (const scan of scans) {
    const files = {
      json: join(outDir, `${scan.slug}.json`),
      sarif: join(outDir, `${scan.slug}.trivy.sarif`),
      ...(inputs.sbom !== "none" ? { sbom: join(outDir, `${scan.slug}.${sbomExtension}`) } : {}),
    };
    const result = await logger.group(`Trivy: ${scan.name}`, () =>
      scanOnce(runner, scan.target, settings, files, inputs.sbom, naming),
    );
    results.push({ ...result, name: scan.name, category: scan.category });
  }

  const shaped = shapeSarif(
    results.map((r) => ({ category: r.category, log: r.sarif })),
    inputs.severities,
  );
  for (const note of shaped.notes) logger.warning(`SARIF: ${note}`);
  const sarifPath = join(outDir, "trivy.sarif");
  await writeFile(sarifPath, JSON.stringify(shaped.log));

  const totals = results.reduce((sum, r) => addCounts(sum, r.report.counts), emptyCounts());
  const gate = gateFailure(totals, inputs.failOn);
  const jsonPaths = results.map((r) => r.files.json).join("\n");
  const sbomPaths = results.flatMap((r) => (r.files.sbom ? [r.files.sbom] : [])).join("\n");
  setOutput("json", jsonPaths);
  setOutput("sarif", sarifPath);
  setOutput("sbom", sbomPaths);
  setOutput("digest", digest ?? "");
  for (const severity of SEVERITIES) setOutput(severity.toLowerCase(), String(totals[severity]));
  setJsonOutput("findings", sortFindings(results.flatMap((r) => r.report.findings)));
  setOutput("passed", String(gate === undefined));

  let uploadNote: string | undefined;
  let uploadError: unknown;
  if (inputs.uploadSarif) {
    try {
      const outcome = await uploadToCodeScanning(shaped.log, inputs.token, logger);
      uploadNote = outcome.uploaded ? "uploaded to code scanning" : `not uploaded: ${outcome.skipped}`;
    } catch (error) {
      uploadError = error;
      uploadNote = `upload failed: ${(error as Error).message}`;
    }
  }

  const metadata = db ? await readDbMetadata(cacheDir) : undefined;
  const dbFacts = db
    ? [
        db.cache === "restored" ? `today's cache entry ${db.key}` : `cache ${db.cache}`,
        db.download ? `from ${db.download.repository}` : undefined,
      ]
        .filter(Boolean)
        .join(", ")
    : undefined;
  await writeSummary(
    summaryMarkdown({
      scans: results.map((r) => ({
        name: r.name,
        findings: r.report.findings,
        counts: r.report.counts,
        ...(r.report.os ? { os: r.report.os } : {}),
      })),
      totals,
      trivyVersion: version,
      ...(metadata?.updatedAt ? { dbAge: formatAge(metadata.updatedAt, new Date()) } : {}),
      ...(dbFacts ? { dbSource: dbFacts } : {}),
      ...(gate ? { gate } : {}),
      reports: { json: jsonPaths, sarif: sarifPath, sbom: sbomPaths, "trivy cache": cacheDir },
      sarifNotes: uploadNote ? [...shaped.notes, uploadNote] : shaped.notes,
      durationMs: clock.elapsedMs(),
    }),
  );
  // Every report is written before anything fails the step.
  if (uploadError) throw uploadError;
  if (gate) throw new Error(gate);
}

await run(main);
