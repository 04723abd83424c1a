import {
  getBoolean,
  getEnum,
  getList,
  getOptionalString,
  InputError,
  parseEnum,
  pathInWorkspace,
  type InputGetter,
} from "@frostyard/kit";
import { parseReference, type ImageReference } from "@frostyard/oci";
import {
  DEFAULT_DB_REPOSITORIES,
  DEFAULT_TRIVY_VERSION,
  FAIL_ON,
  SBOM_FORMATS,
  SCANNERS,
  SEVERITIES,
  SYSTEM_VERSION,
  type FailOn,
  type SbomFormat,
  type Scanner,
  type Severity,
  type TargetKind,
} from "@frostyard/trivy";

/** Every input of actions/trivy-scan, parsed once. */
export interface TrivyScanInputs {
  version: string;
  target: { kind: TargetKind; text: string; path?: string; image?: ImageReference };
  platforms: string[];
  scanners: Scanner[];
  severities: Severity[];
  ignoreUnfixed: boolean;
  trivyignore?: string;
  timeout: string;
  failOn: FailOn;
  dbRepositories: string[];
  sbom: SbomFormat;
  outputDirectory?: string;
  uploadSarif: boolean;
  token?: string;
  registryUsername?: string;
  registryPassword?: string;
}

/** As Trivy's own default: vulnerabilities and secrets. */
const DEFAULT_SCANNERS: Scanner[] = ["vuln", "secret"];
const PLATFORM = /^[a-z0-9]+\/[a-z0-9_]+(\/[a-z0-9]+)?$/;
const DURATION = /^(\d+h)?(\d+m)?(\d+s)?$/;

function pathInput(get: InputGetter, name: string, workspace: string): string | undefined {
  const text = getOptionalString(get, name);
  if (text === undefined) return undefined;
  const path = pathInWorkspace(workspace, text);
  if (path === undefined) {
    throw new InputError(
      name,
      `'${text}' is outside the workspace ${workspace}`,
      "a path inside the workspace",
    );
  }
  return path;
}

export function parseInputs(get: InputGetter, workspace: string = process.cwd()): TrivyScanInputs {
  const version = getOptionalString(get, "version") ?? DEFAULT_TRIVY_VERSION;
  const given = (["image", "oci-layout", "rootfs"] as const).filter((name) => getOptionalString(get, name));
  if (given.length !== 1) {
    throw new InputError(
      given[1] ?? "image",
      given.length === 0 ? "no target is set" : `is set together with ${given[0]}`,
      "exactly one of image (a registry reference), oci-layout (a directory) or rootfs (a directory)",
    );
  }
  const kind = given[0]!;
  const text = getOptionalString(get, kind)!;
  let target: TrivyScanInputs["target"];
  if (kind === "image") {
    let image: ImageReference;
    try {
      image = parseReference(text);
    } catch (error) {
      throw new InputError(
        "image",
        (error as Error).message,
        "a registry reference such as ghcr.io/acme/os:1.0 or …@sha256:<hex>",
      );
    }
    target = { kind, text, image };
  } else {
    target = { kind, text, path: pathInput(get, kind, workspace) };
  }
  const platforms = getList(get, "platform");
  for (const platform of platforms) {
    if (!PLATFORM.test(platform))
      throw new InputError(
        "platform",
        `'${platform}' is not os/arch[/variant]`,
        "e.g. linux/amd64, linux/arm64/v8",
      );
  }
  const scannerList = getList(get, "scanners").map((s) => parseEnum("scanners", s, SCANNERS));
  const scanners = scannerList.length > 0 ? scannerList : DEFAULT_SCANNERS;
  const severityList = getList(get, "severity").map((s) =>
    parseEnum("severity", s.toUpperCase(), SEVERITIES),
  );
  const severities = severityList.length > 0 ? severityList : [...SEVERITIES];
  const timeout = getOptionalString(get, "timeout") ?? "10m";
  if (!DURATION.test(timeout) || timeout === "")
    throw new InputError(
      "timeout",
      `'${timeout}' is not a duration`,
      "Go's duration syntax: 10m, 1h30m, 90s",
    );
  const dbRepositories = getList(get, "db-repositories");
  const outputDirectory = getOptionalString(get, "output-directory");
  return {
    version,
    target,
    platforms,
    scanners: [...new Set(scanners)],
    severities: SEVERITIES.filter((s) => severities.includes(s)),
    ignoreUnfixed: getBoolean(get, "ignore-unfixed", false),
    trivyignore: pathInput(get, "trivyignore", workspace),
    timeout,
    failOn: getEnum(get, "fail-on", FAIL_ON, "critical"),
    dbRepositories: dbRepositories.length > 0 ? dbRepositories : [...DEFAULT_DB_REPOSITORIES],
    sbom: getEnum(get, "sbom", SBOM_FORMATS, "cyclonedx"),
    outputDirectory:
      outputDirectory === undefined ? undefined : pathInput(get, "output-directory", workspace),
    uploadSarif: getBoolean(get, "upload-sarif", true),
    token: getOptionalString(get, "token"),
    registryUsername: getOptionalString(get, "registry-username"),
    registryPassword: getOptionalString(get, "registry-password"),
  };
}

/** `version: system` is not a table version; kept apart so the installer never sees it. */
export const isSystemVersion = (version: string) => version.trim() === SYSTEM_VERSION;
