import {
  getBoolean,
  getEnum,
  getList,
  getOptionalString,
  InputError,
  type InputGetter,
} from "@frostyard/kit";
import { checkPromoteTags } from "@frostyard/cosign";
import { validateSkip } from "@frostyard/lint-bootc";
import type { PipelineOptions } from "@frostyard/pipeline";
import { parseInputs as parseBuildInputs, secretValues as buildSecretValues } from "../build-mkosi/inputs";
import { FORMATS } from "../cosign-sign/inputs";

/** Every input of the root action, parsed once; the build's are build-mkosi's, by the same names. */
export function parseInputs(get: InputGetter): PipelineOptions {
  // build-mkosi's own parser for the build inputs; pushing is the pipeline's stage, so `push` is not one.
  const build = parseBuildInputs((name) => (name === "push" ? "" : get(name)));
  const key = getOptionalString(get, "key");
  const password = get("password");
  if (key !== undefined && password === "") {
    throw new InputError(
      "password",
      "is empty while 'key' is set",
      "the password of the cosign key (an unencrypted key is not accepted); leave key empty for a throwaway key",
    );
  }
  const registryLayout = getOptionalString(get, "registry-layout");
  const publicKeyPath = getOptionalString(get, "public-key-path");
  if (registryLayout !== undefined && build.image) {
    throw new InputError(
      "registry-layout",
      "is set together with 'image'",
      "either image (push to that registry) or registry-layout (push to an OCI layout directory), not both",
    );
  }
  const {
    image,
    registryUsername,
    registryPassword,
    tags,
    push: _push,
    overwriteVersion,
    previousImage,
    ...rest
  } = build;
  return {
    build: rest,
    overwriteVersion,
    previousImage,
    ...(image ? { image } : {}),
    ...(registryUsername ? { registryUsername } : {}),
    ...(registryPassword ? { registryPassword } : {}),
    tags,
    lint: getBoolean(get, "lint", true),
    lintFatalWarnings: getBoolean(get, "lint-fatal-warnings", false),
    lintSkip: validateSkip(getList(get, "lint-skip"), "lint-skip"),
    ...(key !== undefined ? { key, password } : {}),
    format: getEnum(get, "format", FORMATS, "legacy"),
    promoteTags: checkPromoteTags(getList(get, "promote-tags"), "promote-tags"),
    ...(registryLayout !== undefined ? { registryLayout } : {}),
    ...(publicKeyPath !== undefined ? { publicKeyPath } : {}),
  };
}

/** Values that must never reach a log line: build-mkosi's, and the signing key's password and inline PEM. */
export function secretValues(options: PipelineOptions, get: InputGetter): string[] {
  return [
    ...buildSecretValues({ variables: options.build.variables, registryPassword: options.registryPassword }),
    ...(options.password ? [options.password] : []),
    ...(get("key").includes("-----BEGIN") ? [get("key")] : []),
  ];
}
