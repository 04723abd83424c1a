import { getOptionalString, InputError, type InputGetter } from "@frostyard/kit";
import type { RegistryLogin } from "@frostyard/publish";

/** The `registry`, `registry-username` and `registry-password` inputs several actions share. */
export type { RegistryLogin } from "@frostyard/publish";

/**
 * Reads the login inputs: username and password come as a pair, and (unless the registry is implied, as
 * build-mkosi's image implies it) the `registry` they are for is required, so credentials are only ever
 * sent to the host they were given for.
 */
export function parseRegistryLogin(
  get: InputGetter,
  options: { registryImplied?: boolean } = {},
): RegistryLogin {
  const registry = options.registryImplied ? undefined : getOptionalString(get, "registry");
  const registryUsername = getOptionalString(get, "registry-username");
  const registryPassword = getOptionalString(get, "registry-password");
  if ((registryUsername === undefined) !== (registryPassword === undefined)) {
    const missing = registryUsername === undefined ? "registry-username" : "registry-password";
    throw new InputError(
      missing,
      "is empty while its partner is set",
      "registry-username and registry-password together",
    );
  }
  if (!options.registryImplied && registryUsername !== undefined && registry === undefined) {
    throw new InputError(
      "registry",
      "is empty while registry-username is set; credentials are sent only to the registry they are for",
      "a registry host such as ghcr.io or registry.example.com:5000",
    );
  }
  return {
    ...(registry !== undefined ? { registry } : {}),
    ...(registryUsername !== undefined ? { registryUsername } : {}),
    ...(registryPassword !== undefined ? { registryPassword } : {}),
  };
}

/** The credential store is built in one place, the publish path's; entries import it from here. */
export { credentialsFor } from "@frostyard/publish";
