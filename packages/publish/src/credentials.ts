import type { Logger } from "@frostyard/kit";
import { CredentialStore, RegistryClient } from "@frostyard/oci";

/** A login an action was given: a username and password for one registry host. */
export interface RegistryLogin {
  registry?: string;
  registryUsername?: string;
  registryPassword?: string;
}

/**
 * The one place a credential store is made: the given login for its registry only (credentials are never
 * sent to another host), every other registry from the auth files (REGISTRY_AUTH_FILE, podman, docker).
 */
export function credentialsFor(
  login: RegistryLogin,
  logger: Logger,
  registry = login.registry,
): CredentialStore {
  const credentials = new CredentialStore({ logger });
  if (registry && login.registryUsername && login.registryPassword) {
    credentials.set(registry, { username: login.registryUsername, password: login.registryPassword });
  }
  return credentials;
}

/** A registry client logged in as `login` says for `registry`. */
export function registryClientFor(login: RegistryLogin, logger: Logger, registry = login.registry) {
  return new RegistryClient({ logger, credentials: credentialsFor(login, logger, registry) });
}
