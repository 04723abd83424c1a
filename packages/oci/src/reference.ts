import { digestProblem } from "./digest";
import { InvalidReferenceError } from "./errors";

/** A registry and a repository in it: what tag listing, blobs and referrers work on. */
export interface RepositoryRef {
  /** Host with optional port, lowercase, `docker.io` for Docker Hub: `ghcr.io`, `127.0.0.1:5000`, `[::1]:5000`. */
  registry: string;
  /** Path inside the registry: `library/alpine`, `acme/os/snow`. */
  repository: string;
}

/** A parsed, normalised image reference. A reference may carry a tag, a digest, both, or neither. */
export interface ImageReference extends RepositoryRef {
  tag?: string;
  /** `sha256:<64 hex>` (or `sha512:<128 hex>`). */
  digest?: string;
}

export const DOCKER_HUB = "docker.io";
/** Docker Hub's historical names that mean the same registry. */
const DOCKER_HUB_ALIASES = new Set(["index.docker.io"]);
const MAX_NAME_LENGTH = 255;

const TAG = /^[\w][\w.-]{0,127}$/;
const PATH_COMPONENT = /^[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*$/;
const HOST_LABEL = "[a-zA-Z0-9](?:[a-zA-Z0-9-]*[a-zA-Z0-9])?";
const REGISTRY = new RegExp(`^(?:${HOST_LABEL}(?:\\.${HOST_LABEL})*|\\[[0-9a-fA-F:.]+\\])(?::(\\d+))?$`);
const URL_PREFIX = /^([a-z][a-z0-9+.-]*):\/\//i;
const VARIABLE = /\$\{[^}]*\}?|\$[A-Za-z_][A-Za-z0-9_]*|\$\(/;

/** Whether the first path segment names a registry rather than a Docker Hub namespace (docker's rule). */
function looksLikeRegistry(segment: string): boolean {
  return segment.includes(".") || segment.includes(":") || segment === "localhost" || segment.startsWith("[");
}

function normaliseRegistry(input: string, registry: string): string {
  const match = REGISTRY.exec(registry);
  if (!match) {
    throw new InvalidReferenceError(
      input,
      "registry",
      `registry "${registry}" is not a host name, IPv4 address or [IPv6] address with an optional :port`,
    );
  }
  const port = match[1];
  if (port !== undefined && (Number(port) < 1 || Number(port) > 65535 || port.startsWith("0"))) {
    throw new InvalidReferenceError(
      input,
      "registry",
      `registry port "${port}" is not a number from 1 to 65535`,
    );
  }
  const lower = registry.toLowerCase();
  return DOCKER_HUB_ALIASES.has(lower) ? DOCKER_HUB : lower;
}

function checkRepository(input: string, repository: string): void {
  if (repository === "") throw new InvalidReferenceError(input, "repository", "the repository is empty");
  if (repository !== repository.toLowerCase()) {
    throw new InvalidReferenceError(input, "repository", `repository "${repository}" must be lowercase`);
  }
  for (const component of repository.split("/")) {
    if (component === "") {
      throw new InvalidReferenceError(
        input,
        "repository",
        `repository "${repository}" has an empty path component`,
      );
    }
    if (!PATH_COMPONENT.test(component)) {
      throw new InvalidReferenceError(
        input,
        "repository",
        `repository path component "${component}" must be lowercase letters and digits, separated by ".", "_", "__" or dashes`,
      );
    }
  }
}

/**
 * Parses an image reference the way docker and containers/image do: no registry → `docker.io`,
 * single-segment Docker Hub names get `library/`, `index.docker.io` → `docker.io`, and the first path
 * segment is a registry only when it has a `.` or `:` or is `localhost`. A tag and a digest may both
 * be given; both are kept. Throws InvalidReferenceError naming the part that is wrong.
 */
export function parseReference(input: string): ImageReference {
  if (typeof input !== "string" || input === "") {
    throw new InvalidReferenceError(String(input ?? ""), "reference", "the reference is empty");
  }
  if (/\s/.test(input)) {
    throw new InvalidReferenceError(input, "reference", "it contains whitespace");
  }
  const variable = VARIABLE.exec(input);
  if (variable) {
    throw new InvalidReferenceError(
      input,
      "reference",
      `it contains the unexpanded shell/workflow variable "${variable[0]}"; expand it before passing the reference`,
    );
  }
  const scheme = URL_PREFIX.exec(input);
  if (scheme) {
    throw new InvalidReferenceError(
      input,
      "reference",
      `it starts with "${scheme[0]}"; give the reference without it`,
    );
  }

  let name = input;
  let digest: string | undefined;
  const at = input.indexOf("@");
  if (at >= 0) {
    name = input.slice(0, at);
    digest = input.slice(at + 1);
    const problem = digest === "" ? "the digest after @ is empty" : digestProblem(digest);
    if (problem) throw new InvalidReferenceError(input, "digest", problem);
  }

  let tag: string | undefined;
  const lastColon = name.lastIndexOf(":");
  if (lastColon > name.lastIndexOf("/")) {
    tag = name.slice(lastColon + 1);
    name = name.slice(0, lastColon);
    if (tag === "") throw new InvalidReferenceError(input, "tag", "the tag after : is empty");
    if (!TAG.test(tag)) {
      throw new InvalidReferenceError(
        input,
        "tag",
        `tag "${tag}" must be 1 to 128 letters, digits, "_", "." or "-", not starting with "." or "-"`,
      );
    }
  }
  if (name === "") throw new InvalidReferenceError(input, "repository", "the repository is empty");

  const slash = name.indexOf("/");
  let registry = DOCKER_HUB;
  let repository = name;
  if (slash >= 0 && looksLikeRegistry(name.slice(0, slash))) {
    registry = normaliseRegistry(input, name.slice(0, slash));
    repository = name.slice(slash + 1);
  } else if (slash < 0 && name.startsWith("[")) {
    throw new InvalidReferenceError(
      input,
      "repository",
      `"${name}" is a registry address with no repository after it`,
    );
  }
  checkRepository(input, repository);
  if (registry === DOCKER_HUB && !repository.includes("/")) repository = `library/${repository}`;
  if (registry.length + 1 + repository.length > MAX_NAME_LENGTH) {
    throw new InvalidReferenceError(
      input,
      "repository",
      `the name is longer than ${MAX_NAME_LENGTH} characters`,
    );
  }

  const ref: ImageReference = { registry, repository };
  if (tag !== undefined) ref.tag = tag;
  if (digest !== undefined) ref.digest = digest;
  return ref;
}

/** `registry/repository`. */
export function repositoryName(ref: RepositoryRef): string {
  return `${ref.registry}/${ref.repository}`;
}

/** The fully qualified form: `registry/repository[:tag][@digest]`. */
export function formatReference(ref: ImageReference): string {
  return `${repositoryName(ref)}${ref.tag !== undefined ? `:${ref.tag}` : ""}${ref.digest !== undefined ? `@${ref.digest}` : ""}`;
}

/** What goes after /manifests/ in a registry URL: the digest when known, else the tag, else `latest`. */
export function manifestReference(ref: ImageReference): string {
  return ref.digest ?? ref.tag ?? "latest";
}

/** The same repository with `tag` (and no digest). */
export function withTag(ref: RepositoryRef, tag: string): ImageReference {
  if (!TAG.test(tag)) {
    throw new InvalidReferenceError(
      `${repositoryName(ref)}:${tag}`,
      "tag",
      `tag "${tag}" is not a valid tag`,
    );
  }
  return { registry: ref.registry, repository: ref.repository, tag };
}

/** The same repository (and tag, if any) pinned to `digest`. */
export function withDigest(ref: ImageReference, digest: string): ImageReference {
  const problem = digestProblem(digest);
  if (problem) throw new InvalidReferenceError(`${formatReference(ref)}@${digest}`, "digest", problem);
  return { ...ref, digest };
}
