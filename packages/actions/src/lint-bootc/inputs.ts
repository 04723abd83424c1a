import {
  getBoolean,
  getEnum,
  getList,
  getOptionalString,
  InputError,
  pathInWorkspace,
  type InputGetter,
} from "@frostyard/kit";
import {
  ENGINES,
  parseImageSource,
  targetProblem,
  validateSkip,
  type Engine,
  type ImageSource,
} from "@frostyard/lint-bootc";

/** Every input of actions/lint-bootc, parsed once. */
export interface LintBootcInputs {
  image?: ImageSource;
  /** The raw `image` input, for messages. */
  imageText?: string;
  /** The `rootfs` input as written, for messages. */
  rootfsText?: string;
  /** `rootfs` resolved against the workspace (never outside it). */
  rootfs?: string;
  engine: Engine;
  fatalWarnings: boolean;
  skip: string[];
  sysext: boolean;
  sysextName?: string;
  sysextBase?: string;
  sysextRequiredPaths: string[];
}

/** `workspace`: what relative paths are relative to, and what `rootfs` may not leave (GITHUB_WORKSPACE). */
export function parseInputs(get: InputGetter, workspace: string = process.cwd()): LintBootcInputs {
  const imageText = getOptionalString(get, "image");
  const rootfsText = getOptionalString(get, "rootfs");
  const engine = getEnum(get, "engine", ENGINES, "auto");
  const sysext = getBoolean(get, "sysext", false);
  const problem = targetProblem({ image: imageText, rootfs: rootfsText, engine, sysext });
  if (problem) throw new InputError(problem.option, problem.problem, problem.accepted);
  const rootfs = rootfsText === undefined ? undefined : pathInWorkspace(workspace, rootfsText);
  if (rootfsText !== undefined && rootfs === undefined) {
    throw new InputError(
      "rootfs",
      `'${rootfsText}' is outside the workspace ${workspace}`,
      "a root filesystem directory inside the workspace",
    );
  }
  const sysextName = getOptionalString(get, "sysext-name");
  const sysextBase = getOptionalString(get, "sysext-base");
  const sysextRequiredPaths = getList(get, "sysext-required-paths");
  if (!sysext && (sysextName || sysextBase || sysextRequiredPaths.length > 0)) {
    const given = sysextName ? "sysext-name" : sysextBase ? "sysext-base" : "sysext-required-paths";
    throw new InputError(given, "is set while sysext is false", "sysext: true to lint a system extension");
  }
  if (sysext && sysextName === undefined) {
    throw new InputError(
      "sysext-name",
      "is empty while sysext is true",
      "the extension's name: usr/lib/extension-release.d/extension-release.<name> is checked",
    );
  }
  if (sysextName !== undefined && !/^[A-Za-z0-9][\w.+-]*$/.test(sysextName)) {
    throw new InputError(
      "sysext-name",
      `got '${sysextName}'`,
      "an extension name of letters, digits, '.', '_', '+' and '-'",
    );
  }
  return {
    image: imageText ? parseImageSource(imageText) : undefined,
    imageText,
    rootfsText,
    rootfs,
    engine,
    fatalWarnings: getBoolean(get, "fatal-warnings", false),
    skip: validateSkip(getList(get, "skip")),
    sysext,
    sysextName,
    sysextBase,
    sysextRequiredPaths,
  };
}
