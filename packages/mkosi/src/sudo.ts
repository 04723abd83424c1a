import { InputError } from "@frostyard/kit";

export const SUDO_MODES = ["auto", "true", "false"] as const;
export type SudoMode = (typeof SUDO_MODES)[number];

/** mkosi needs root to build; `auto` adds sudo exactly when we are not root already. */
export function useSudo(mode: SudoMode, uid: number, sudoAvailable: boolean): boolean {
  const wanted = mode === "true" || (mode === "auto" && uid !== 0);
  if (wanted && !sudoAvailable) {
    throw new InputError(
      "sudo",
      mode === "auto"
        ? `not running as root (uid ${uid}) and sudo is not on PATH`
        : "is true but sudo is not on PATH",
      "a runner with passwordless sudo, running as root, or sudo: false when mkosi may run unprivileged",
    );
  }
  return wanted;
}

/** Variables mkosi and its tools honour that must survive sudo's environment reset when set. */
export const PASSED_THROUGH = [
  "SOURCE_DATE_EPOCH",
  "TMPDIR",
  "http_proxy",
  "https_proxy",
  "no_proxy",
  "HTTP_PROXY",
  "HTTPS_PROXY",
  "NO_PROXY",
] as const;

/**
 * The command line that runs `command args` with root when `sudo` is set. sudo resets the environment, so
 * the variables mkosi needs are named with `--preserve-env=` (names only: values stay in the environment
 * and never reach argv or the log). `-n` fails at once instead of waiting for a password nobody types.
 */
export function withSudo(
  command: string,
  args: readonly string[],
  sudo: boolean,
  envNames: readonly string[],
): { command: string; args: string[] } {
  if (!sudo) return { command, args: [...args] };
  const names = [...new Set(envNames)];
  const preserve = names.length > 0 ? [`--preserve-env=${names.join(",")}`] : [];
  return { command: "sudo", args: ["-n", ...preserve, "--", command, ...args] };
}
