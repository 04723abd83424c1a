import {
  getBoolean,
  getEnum,
  getList,
  getOptionalString,
  InputError,
  type InputGetter,
} from "@frostyard/kit";
import {
  ENGINES,
  parseImageSource,
  validateSkip,
  type Engine,
  type ImageSource,
} from "@frostyard/lint-bootc";

/** Every input of actions/lint-bootc, parsed once. */
export interface LintBootcInputs {
  image?: ImageSource;
  /** The raw `image` input, for messages. */
  imageText?: string;
  rootfs?: string;
  engine: Engine;
  fatalWarnings: boolean;
  skip: string[];
  sysext: boolean;
  sysextName?: string;
  sysextBase?: string;
  sysextRequiredPaths: string[];
}

export function parseInputs(get: InputGetter): LintBootcInputs {
  const imageText = getOptionalString(get, "image");
  const rootfs = getOptionalString(get, "rootfs");
  const engine = getEnum(get, "engine", ENGINES, "auto");
  if (!imageText && !rootfs) {
    throw new InputError(
      "image",
      "and 'rootfs' are both empty",
      "an image (registry reference, OCI layout path or local name), a rootfs directory, or both",
    );
  }
  if (engine === "bootc" && !imageText) {
    throw new InputError(
      "engine",
      "is 'bootc' but 'image' is empty",
      "an image to run bootc in, or engine native to check 'rootfs' alone",
    );
  }
  const sysext = getBoolean(get, "sysext", false);
  const sysextName = getOptionalString(get, "sysext-name");
  const sysextBase = getOptionalString(get, "sysext-base");
  const sysextRequiredPaths = getList(get, "sysext-required-paths");
  if (!sysext && (sysextName || sysextBase || sysextRequiredPaths.length > 0)) {
    const given = sysextName ? "sysext-name" : sysextBase ? "sysext-base" : "sysext-required-paths";
    throw new InputError(given, "is set while sysext is false", "sysext: true to lint a system extension");
  }
  if (sysext && engine === "bootc") {
    throw new InputError(
      "engine",
      "is 'bootc' with sysext: true; a system extension is checked by the native rules",
      "engine native or auto",
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
