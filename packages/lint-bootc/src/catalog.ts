import { InputError } from "@frostyard/kit";

/** bootc's classification: a fatal lint fails `bootc container lint`; a warning only with --fatal-warnings. */
export type LintSeverity = "fatal" | "warning";

/** Which root a bootc lint applies to: `running` (inside the image) or `alternative` (a root given by path). */
export type RootType = "running" | "alternative";

export interface LintRule {
  name: string;
  severity: LintSeverity;
  /** Set when the rule only runs against one kind of root; undefined: always. */
  rootType?: RootType;
  /** Whether our native checks implement it (otherwise only bootc itself can). */
  native: boolean;
  summary: string;
}

/**
 * bootc's lints, with bootc's names and types (crates/lib/src/lints.rs; the list in
 * tests/fixtures/shared/bootc-lint/lint-catalog.from-source.json), so `skip` means the same to bootc and
 * to our native checks. `var-tmpfiles` needs the running root's tmpfiles.d evaluation and
 * `etc-uid-drift` (newer than that list) needs tmpfiles chown coverage: bootc runs them, we do not.
 */
export const BOOTC_LINTS: readonly LintRule[] = [
  {
    name: "api-base-directories",
    severity: "fatal",
    native: true,
    summary: "/dev /proc /sys /run /tmp /var exist as directories",
  },
  {
    name: "baseimage-composefs",
    severity: "warning",
    native: true,
    summary: "composefs enabled in ostree's prepare-root.conf",
  },
  {
    name: "baseimage-root",
    severity: "fatal",
    native: true,
    summary: "/sysroot is a directory and /ostree -> sysroot/ostree",
  },
  { name: "bootc-kargs", severity: "fatal", native: true, summary: "/usr/lib/bootc/kargs.d/*.toml parse" },
  {
    name: "buildah-injected",
    severity: "warning",
    rootType: "alternative",
    native: true,
    summary: "no empty /etc/hostname or /etc/resolv.conf left by a build",
  },
  {
    name: "etc-uid-drift",
    severity: "warning",
    native: false,
    summary: "non-root-owned files in /etc have tmpfiles.d chown entries",
  },
  { name: "etc-usretc", severity: "fatal", native: true, summary: "not both /etc and /usr/etc" },
  { name: "kernel", severity: "fatal", native: true, summary: "at most one kernel under /usr/lib/modules" },
  { name: "nonempty-boot", severity: "warning", native: true, summary: "/boot present and empty" },
  { name: "nonempty-run-tmp", severity: "warning", native: true, summary: "/run and /tmp empty" },
  {
    name: "sysusers",
    severity: "warning",
    native: true,
    summary: "every /etc/passwd and /etc/group entry has a sysusers.d entry",
  },
  { name: "utf8", severity: "fatal", native: true, summary: "UTF-8 file names and symlink targets" },
  { name: "var-log", severity: "warning", native: true, summary: "no non-empty files under /var/log" },
  { name: "var-run", severity: "fatal", native: true, summary: "/var/run is a symlink" },
  {
    name: "var-tmpfiles",
    severity: "warning",
    rootType: "running",
    native: false,
    summary: "content in /var has tmpfiles.d entries",
  },
];

/**
 * Our rules for systemd system extensions (build-sysext validates with them). Not bootc's: a sysext is
 * not a bootable root, so the bootc rules do not apply to it.
 */
export const SYSEXT_LINTS: readonly LintRule[] = [
  { name: "sysext-layout", severity: "fatal", native: true, summary: "only /usr and /opt at the top level" },
  {
    name: "sysext-release",
    severity: "fatal",
    native: true,
    summary: "extension-release present; ID and SYSEXT_LEVEL or VERSION_ID match the base",
  },
  {
    name: "sysext-secrets",
    severity: "fatal",
    native: true,
    summary: "no /etc/shadow, SSH host keys or private keys",
  },
  { name: "sysext-required-paths", severity: "fatal", native: true, summary: "every required path present" },
  {
    name: "sysext-nonempty",
    severity: "fatal",
    native: true,
    summary: "something besides extension-release",
  },
];

export const ALL_LINTS: readonly LintRule[] = [...BOOTC_LINTS, ...SYSEXT_LINTS];

export function findRule(name: string): LintRule | undefined {
  return ALL_LINTS.find((rule) => rule.name === name);
}

/** Checks `skip` names against every rule we or bootc know; an unknown name is an InputError listing them all. */
export function validateSkip(names: readonly string[], input = "skip"): string[] {
  const unknown = names.filter((name) => !findRule(name));
  if (unknown.length > 0) {
    throw new InputError(
      input,
      `unknown lint name(s) ${unknown.map((n) => `'${n}'`).join(", ")}`,
      `names from ${ALL_LINTS.map((r) => r.name).join(", ")}`,
    );
  }
  return [...new Set(names)];
}
