import { readFile } from "node:fs/promises";
import { execStreaming, type Logger } from "@frostyard/kit";
import { convertArgv, scanArgv, scannerNamingFrom, type ScannerNaming } from "./argv";
import type { SbomFormat, ScanSettings, ScanTarget } from "./options";
import { parseReport, type ParsedReport } from "./report";
import type { SarifLog } from "./sarif";

export interface TrivyRunner {
  trivy: string;
  cacheDir: string;
  logger: Logger;
  /** Laid over the environment: registry credentials go here (TRIVY_USERNAME/TRIVY_PASSWORD), never argv. */
  env?: Record<string, string | undefined>;
  secrets?: readonly string[];
}

export interface ScanFiles {
  json: string;
  sarif: string;
  sbom?: string;
}

export interface ScanResult {
  report: ParsedReport;
  sarif: SarifLog;
  files: ScanFiles;
}

function execOptions(runner: TrivyRunner) {
  return {
    logger: runner.logger,
    ...(runner.env ? { env: runner.env, extendEnv: true } : {}),
    ...(runner.secrets ? { secrets: runner.secrets } : {}),
  };
}

/** `trivy --version`'s first line ("Version: 0.70.0" → "0.70.0"). */
export async function trivyVersion(runner: TrivyRunner): Promise<string> {
  const { stdout } = await execStreaming(runner.trivy, ["--version"], {
    ...execOptions(runner),
    captureStdout: true,
    echoCommand: false,
  });
  return /Version:\s*(\S+)/.exec(stdout)?.[1] ?? stdout.trim().split("\n")[0] ?? "unknown";
}

/** How the trivy that will run spells the misconfiguration scanner. */
export async function scannerNaming(runner: TrivyRunner): Promise<ScannerNaming> {
  const { stdout } = await execStreaming(runner.trivy, ["rootfs", "--help"], {
    ...execOptions(runner),
    captureStdout: true,
    echoCommand: false,
  });
  return scannerNamingFrom(stdout);
}

/** One scan: the JSON report, SARIF converted from it, and the SBOM when asked for. */
export async function scanOnce(
  runner: TrivyRunner,
  target: ScanTarget,
  settings: ScanSettings,
  files: ScanFiles,
  sbom: SbomFormat,
  naming: ScannerNaming,
): Promise<ScanResult> {
  const options = execOptions(runner);
  await execStreaming(runner.trivy, scanArgv(target, settings, runner.cacheDir, files.json, naming), options);
  await execStreaming(runner.trivy, convertArgv("sarif", files.json, files.sarif), options);
  if (sbom !== "none" && files.sbom) {
    await execStreaming(runner.trivy, convertArgv(sbom, files.json, files.sbom), options);
  }
  const report = parseReport(await readFile(files.json, "utf8"));
  const sarif = JSON.parse(await readFile(files.sarif, "utf8")) as SarifLog;
  return { report, sarif, files };
}
