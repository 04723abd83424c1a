import type { Scanner, ScanSettings, ScanTarget, SbomFormat } from "./options";

/**
 * Trivy renamed the `config` scanner to `misconfig` (it still accepts `config` with a deprecation warning);
 * builds from before the rename know only `config`. Decided from the help text of the trivy that will run.
 */
export type ScannerNaming = "misconfig" | "config";

export function scannerNamingFrom(helpText: string): ScannerNaming {
  const line = helpText.split("\n").find((l) => l.includes("--scanners")) ?? "";
  return /misconfig/.test(line) || !/\bconfig\b/.test(line) ? "misconfig" : "config";
}

function scannerArg(scanners: readonly Scanner[], naming: ScannerNaming): string {
  return scanners.map((s) => (s === "misconfig" ? naming : s)).join(",");
}

/** Downloads (or updates) the vulnerability DB only, from one repository: tried one repository at a time. */
export function downloadDbArgv(cacheDir: string, repository: string): string[] {
  return [
    "image",
    "--download-db-only",
    "--no-progress",
    "--cache-dir",
    cacheDir,
    "--db-repository",
    repository,
  ];
}

/**
 * The scan itself: always a JSON report (SARIF and the SBOM are converted from it), the DB never updated
 * here (downloadDbArgv did that), and exit code 0 (the gate reads the report, after every report is written).
 */
export function scanArgv(
  target: ScanTarget,
  settings: ScanSettings,
  cacheDir: string,
  jsonPath: string,
  naming: ScannerNaming = "misconfig",
): string[] {
  const argv: string[] = [];
  switch (target.kind) {
    case "image":
      // Straight from the registry: never a same-named image from a local docker/podman daemon.
      argv.push("image", "--image-src", "remote");
      break;
    case "oci-layout":
      argv.push("image", "--input", target.ref);
      break;
    case "rootfs":
      argv.push("rootfs");
      break;
  }
  argv.push("--cache-dir", cacheDir, "--skip-db-update", "--no-progress");
  argv.push("--scanners", scannerArg(settings.scanners, naming));
  argv.push("--severity", settings.severities.join(","));
  if (settings.ignoreUnfixed) argv.push("--ignore-unfixed");
  if (settings.ignorefile) argv.push("--ignorefile", settings.ignorefile);
  if (settings.timeout) argv.push("--timeout", settings.timeout);
  if (target.platform) argv.push("--platform", target.platform);
  if (settings.listAllPackages) argv.push("--list-all-pkgs");
  argv.push("--exit-code", "0", "--format", "json", "--output", jsonPath);
  if (target.kind !== "oci-layout") argv.push(target.ref);
  return argv;
}

/** `trivy convert` turns the JSON report into SARIF or an SBOM without scanning again. */
export function convertArgv(
  format: "sarif" | Exclude<SbomFormat, "none">,
  jsonPath: string,
  output: string,
): string[] {
  return ["convert", "--format", format, "--output", output, jsonPath];
}
