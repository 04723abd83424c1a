/** What the action found out about the machine; gathered by `gatherRunnerFacts`, decided on purely. */
export interface RunnerFacts {
  /** RUNNER_ENVIRONMENT=github-hosted: a throwaway VM we may reconfigure. */
  githubHosted: boolean;
  /** ID from /etc/os-release. */
  osId?: string;
  /** Current values of the sysctls we may change; undefined when the kernel has no such knob. */
  sysctls: Record<string, string | undefined>;
  /** Paths that exist among those the plan asks about. */
  existingPaths: ReadonlySet<string>;
  /** Distributions the images build (from the summary). */
  distributions: readonly string[];
  /** Output formats the images build. */
  formats: readonly string[];
  /** Whether systemd-repart is on PATH. */
  hasSystemdRepart: boolean;
}

export type PrepStep =
  | { kind: "sysctl"; key: string; value: string; reason: string }
  | { kind: "apt-install"; packages: string[]; reason: string };

/**
 * Ubuntu 23.10+ forbids unprivileged user namespaces through AppArmor; mkosi's sandbox needs them for the
 * tools it runs. Only the restricting value (1) is changed.
 */
export const USERNS_SYSCTLS = [
  "kernel.apparmor_restrict_unprivileged_userns",
  "kernel.apparmor_restrict_unprivileged_unconfined",
] as const;

/** The apt keyring a distribution's packages are verified with, where the host's apt must supply it. */
const KEYRINGS: Record<string, { path: string; package: string }> = {
  debian: { path: "/usr/share/keyrings/debian-archive-keyring.gpg", package: "debian-archive-keyring" },
  ubuntu: { path: "/usr/share/keyrings/ubuntu-archive-keyring.gpg", package: "ubuntu-keyring" },
};

/**
 * Formats mkosi 25 assembles with systemd-repart: disk images, the ESP and the extension images. `oci`
 * (mkosi writes the layout itself), `uki`, `cpio`, `tar` and `directory` need no repart.
 */
const REPART_FORMATS = new Set(["disk", "esp", "sysext", "confext", "portable"]);

/** Paths `planRunnerPreparation` looks at, so the caller knows what to stat. */
export function pathsOfInterest(): string[] {
  return Object.values(KEYRINGS).map((k) => k.path);
}

/**
 * What to change on the runner before building: only on GitHub-hosted Ubuntu (a self-hosted machine or a
 * workstation is never reconfigured), and only what is missing. Each step says why, for the log.
 */
export function planRunnerPreparation(facts: RunnerFacts): PrepStep[] {
  if (!facts.githubHosted || facts.osId !== "ubuntu") return [];
  const steps: PrepStep[] = [];
  for (const key of USERNS_SYSCTLS) {
    if (facts.sysctls[key] === "1") {
      steps.push({
        kind: "sysctl",
        key,
        value: "0",
        reason: "AppArmor forbids the unprivileged user namespaces mkosi's sandbox uses",
      });
    }
  }
  const packages: string[] = [];
  const reasons: string[] = [];
  for (const distribution of new Set(facts.distributions)) {
    const keyring = KEYRINGS[distribution];
    if (keyring && !facts.existingPaths.has(keyring.path)) {
      packages.push(keyring.package);
      reasons.push(`${distribution} packages are verified with ${keyring.path}`);
    }
  }
  if (!facts.hasSystemdRepart && facts.formats.some((format) => REPART_FORMATS.has(format))) {
    packages.push("systemd-repart");
    reasons.push(
      `Format=${facts.formats.filter((f) => REPART_FORMATS.has(f)).join(",")} is assembled with systemd-repart`,
    );
  }
  if (packages.length > 0) steps.push({ kind: "apt-install", packages, reason: reasons.join("; ") });
  return steps;
}

/** The argv that carries out a step (run with sudo when not root). */
export function prepStepArgv(step: PrepStep): { command: string; args: string[] }[] {
  switch (step.kind) {
    case "sysctl":
      return [{ command: "sysctl", args: ["--write", `${step.key}=${step.value}`] }];
    case "apt-install":
      return [
        { command: "apt-get", args: ["update", "-qq"] },
        { command: "apt-get", args: ["install", "-y", "-qq", "--no-install-recommends", ...step.packages] },
      ];
  }
}
