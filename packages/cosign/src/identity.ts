import { DOCKER_HUB, parseReference, repositoryName, type RepositoryRef } from "@frostyard/oci";

/** go-containerregistry names Docker Hub `index.docker.io`; cosign's payload inherits that spelling. */
const GGCR_DOCKER_HUB = "index.docker.io";

/**
 * The `docker-reference` cosign writes into a payload: the repository without tag or digest, as
 * go-containerregistry's `Repository.Name()` spells it (`index.docker.io/library/alpine` for Docker Hub).
 */
export function cosignDockerReference(image: string | RepositoryRef): string {
  const ref = typeof image === "string" ? parseReference(image) : image;
  const registry = ref.registry === DOCKER_HUB ? GGCR_DOCKER_HUB : ref.registry;
  return `${registry}/${ref.repository}`;
}

/**
 * containers/image's `matchRepository`: the signed reference (which may carry a tag) names the same
 * repository as the image being checked, after docker's normalisation (`docker.io`, `library/`,
 * `index.docker.io`). An unparsable signed reference matches nothing.
 */
export function matchesRepository(signedReference: string, expected: string | RepositoryRef): boolean {
  let signed: RepositoryRef;
  try {
    signed = parseReference(signedReference);
  } catch {
    return false;
  }
  const wanted = typeof expected === "string" ? parseReference(expected) : expected;
  return repositoryName(signed) === repositoryName(wanted);
}
