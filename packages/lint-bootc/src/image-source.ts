import { InputError } from "@frostyard/kit";

/** Where the image to lint comes from. */
export type ImageSource =
  | { kind: "oci-layout"; path: string; ref?: string }
  | { kind: "containers-storage"; name: string }
  | { kind: "registry"; ref: string }
  /** A bare name: a local build or a digest-pinned ref is taken from podman's storage when there; a registry tag is pulled (see usesLocalCopy). */
  | { kind: "name"; ref: string };

/**
 * Classifies the `image` input: `oci:<path>[:ref]` or a path (absolute, ./ or ../) is an OCI layout
 * (build-mkosi's oci-layout output); `containers-storage:<name>` a local image; `docker://<ref>` a
 * registry image; anything else a name, used locally when podman has it and pulled otherwise.
 */
export function parseImageSource(raw: string, input = "image"): ImageSource {
  const value = raw.trim();
  if (value === "")
    throw new InputError(input, "is empty", "a registry reference, an OCI layout path or a local image name");
  if (value.startsWith("oci:")) return layout(value.slice("oci:".length), input);
  if (value.startsWith("/") || value.startsWith("./") || value.startsWith("../"))
    return { kind: "oci-layout", path: value };
  if (value.startsWith("containers-storage:")) {
    const name = value.slice("containers-storage:".length);
    if (!name) throw new InputError(input, `got '${value}' with no image name`, "containers-storage:<name>");
    return { kind: "containers-storage", name };
  }
  if (value.startsWith("docker://"))
    return { kind: "registry", ref: checkedRef(value.slice("docker://".length), input) };
  if (/^[a-z-]+:\/\//i.test(value)) {
    throw new InputError(
      input,
      `got '${value}' with an unsupported transport`,
      "docker://, oci:, containers-storage: or a plain reference",
    );
  }
  return { kind: "name", ref: checkedRef(value, input) };
}

function layout(rest: string, input: string): ImageSource {
  if (!rest) throw new InputError(input, "got 'oci:' with no path", "oci:<path>[:<ref>]");
  // A ref name never contains "/", so a last ":" followed by one is part of the path.
  const colon = rest.lastIndexOf(":");
  if (colon > 0 && !rest.slice(colon + 1).includes("/")) {
    const ref = rest.slice(colon + 1);
    return ref
      ? { kind: "oci-layout", path: rest.slice(0, colon), ref }
      : { kind: "oci-layout", path: rest.slice(0, colon) };
  }
  return { kind: "oci-layout", path: rest };
}

function checkedRef(ref: string, input: string): string {
  // Whitespace or a leading "-" would reach podman as a separate word or an option.
  if (!ref || /\s/.test(ref) || ref.startsWith("-")) {
    throw new InputError(
      input,
      `got '${ref}'`,
      "an image reference such as ghcr.io/acme/os:1.2 or localhost/os@sha256:…",
    );
  }
  return ref;
}

/** podman's name for the source, as `podman pull` takes it. */
export function pullReference(source: ImageSource): string {
  switch (source.kind) {
    case "oci-layout":
      return `oci:${source.path}${source.ref ? `:${source.ref}` : ""}`;
    case "containers-storage":
      return `containers-storage:${source.name}`;
    case "registry":
      return `docker://${source.ref}`;
    case "name":
      return source.ref;
  }
}

/** How the source reads in messages. */
export function describeSource(source: ImageSource): string {
  switch (source.kind) {
    case "oci-layout":
      return `OCI layout ${source.path}${source.ref ? ` (ref ${source.ref})` : ""}`;
    case "containers-storage":
      return `local image ${source.name}`;
    case "registry":
      return `registry image ${source.ref}`;
    case "name":
      return `image ${source.ref}`;
  }
}
