import { findDownload, type ToolArch, type ToolDownload } from "@frostyard/kit";

/**
 * Trivy releases that must never run: the March 2026 compromise (CVE-2026-33634, GHSA-69fq-xp46-6x23)
 * published a credential-stealing v0.69.4 binary, and v0.69.5/v0.69.6 images on Docker Hub.
 */
export const COMPROMISED_TRIVY_VERSIONS: readonly string[] = ["0.69.4", "0.69.5", "0.69.6"];
export const TRIVY_ADVISORY =
  "CVE-2026-33634 / GHSA-69fq-xp46-6x23 (https://github.com/aquasecurity/trivy/security/advisories/GHSA-69fq-xp46-6x23)";

/** The default: the first release published after the incident. */
export const DEFAULT_TRIVY_VERSION = "0.70.0";

/** `version: system` runs the trivy found on PATH, unchecked: the runner's owner vouches for it. */
export const SYSTEM_VERSION = "system";

const RELEASES = "https://github.com/aquasecurity/trivy/releases/download";

function release(version: string, arch: ToolArch, sha256: string): ToolDownload {
  const asset = `trivy_${version}_Linux-${arch === "x64" ? "64bit" : "ARM64"}.tar.gz`;
  return {
    tool: "trivy",
    version,
    platform: "linux",
    arch,
    url: `${RELEASES}/v${version}/${asset}`,
    sha256,
    archive: "tar.gz",
    binaries: ["trivy"],
  };
}

/**
 * The pinned release tarballs. GitHub cannot be reached from where this table was written, so each sum is
 * the one published in `trivy_<version>_checksums.txt` as quoted, identically, by several independent
 * public repositories that pin Trivy (see packages/trivy/README.md); none was invented or computed here.
 */
export const TRIVY_DOWNLOADS: readonly ToolDownload[] = [
  release("0.70.0", "x64", "8b4376d5d6befe5c24d503f10ff136d9e0c49f9127a4279fd110b727929a5aa9"),
  release("0.70.0", "arm64", "2f6bb988b553a1bbac6bdd1ce890f5e412439564e17522b88a4541b4f364fc8d"),
  // The last release before the incident, named safe by the advisory.
  release("0.69.3", "x64", "1816b632dfe529869c740c0913e36bd1629cb7688bd5634f4a858c1d57c88b75"),
  release("0.69.3", "arm64", "7e3924a974e912e57b4a99f65ece7931f8079584dae12eb7845024f97087bdfd"),
];

/** A version that cannot be installed: compromised, `latest`, or not in the table. */
export class TrivyVersionError extends Error {
  constructor(
    readonly version: string,
    readonly problem: string,
    readonly accepted: string,
  ) {
    super(`${problem}; expected ${accepted}`);
    this.name = "TrivyVersionError";
  }
}

const normalise = (version: string) => version.trim().replace(/^v/, "");

/** The download for a version, after refusing the compromised releases by name. */
export function trivyDownload(
  version: string,
  arch: ToolArch,
  table: readonly ToolDownload[] = TRIVY_DOWNLOADS,
): ToolDownload {
  const wanted = normalise(version);
  const pinned = [...new Set(table.filter((d) => d.tool === "trivy").map((d) => d.version))].join(", ");
  const accepted = `a pinned version (${pinned}) or ${SYSTEM_VERSION}`;
  if (COMPROMISED_TRIVY_VERSIONS.includes(wanted)) {
    throw new TrivyVersionError(
      version,
      `Trivy ${wanted} is a compromised release (${TRIVY_ADVISORY}) and is refused`,
      accepted,
    );
  }
  if (wanted === "" || wanted.toLowerCase() === "latest") {
    throw new TrivyVersionError(version, `'${version.trim()}' is not a pinned version`, accepted);
  }
  try {
    return findDownload(table, "trivy", wanted, arch);
  } catch (error) {
    throw new TrivyVersionError(version, (error as Error).message.replace(/; expected .*$/, ""), accepted);
  }
}
