import { InputError } from "@frostyard/kit";
import { standardLabels } from "@frostyard/rootfs-oci";

/** What the run knows about where the image comes from; empty values are left out. */
export interface ImageOrigin {
  title?: string;
  version: string;
  /** RFC 3339. */
  created: string;
  /** GITHUB_SHA, else the project's HEAD. */
  revision?: string;
  /** GITHUB_SERVER_URL, GITHUB_REPOSITORY of the run. */
  serverUrl?: string;
  repository?: string;
  /** `git remote get-url origin` of the project, used when not on GitHub. */
  gitRemote?: string;
}

/**
 * A remote as it may be published: user info (which can hold a token) dropped, scp-like `git@host:path`
 * rewritten to https. Undefined for a local path, which names nothing a reader could open.
 */
export function publishableRemote(remote: string | undefined): string | undefined {
  if (!remote) return undefined;
  const scp = /^[^@/\s]+@([^:/\s]+):(.+)$/.exec(remote);
  if (scp) return `https://${scp[1]}/${scp[2]}`;
  let url: URL;
  try {
    url = new URL(remote);
  } catch {
    return undefined;
  }
  if (!["https:", "http:", "ssh:", "git:"].includes(url.protocol)) return undefined;
  // The URL setters cannot turn ssh: into https:, so the result is put together by hand.
  const scheme = url.protocol === "http:" ? "http" : "https";
  const port = scheme === url.protocol.slice(0, -1) && url.port ? `:${url.port}` : "";
  return `${scheme}://${url.hostname}${port}${url.pathname}`;
}

/**
 * The `org.opencontainers.image.*` keys for both the config's labels and the manifest's annotations: `url`
 * and `source` are the repository on GitHub, `source` the project's git remote elsewhere.
 */
export function standardImageMetadata(origin: ImageOrigin): Record<string, string> {
  const onGitHub = origin.repository
    ? `${origin.serverUrl || "https://github.com"}/${origin.repository}`
    : undefined;
  return standardLabels({
    title: origin.title,
    version: origin.version,
    created: origin.created,
    revision: origin.revision,
    source: onGitHub ?? publishableRemote(origin.gitRemote),
    url: onGitHub,
  });
}

/** What a Format=oci build is given that mkosi's own layout ignores. */
export interface OciFormatInputs {
  ociLayout?: string;
  labels: ReadonlyMap<string, string>;
  annotations: ReadonlyMap<string, string>;
  /** Of bootable, max-layers, compression: those given a value. */
  explicitPackagingInputs?: readonly string[];
}

/** The inputs a Format=oci build would silently ignore, in input order. */
export function inputsIgnoredByOciFormat(inputs: OciFormatInputs): string[] {
  const explicit = new Set(inputs.explicitPackagingInputs ?? []);
  const ignored: string[] = [];
  if (inputs.ociLayout) ignored.push("oci-layout");
  if (inputs.labels.size > 0) ignored.push("labels");
  if (inputs.annotations.size > 0) ignored.push("annotations");
  for (const name of ["bootable", "max-layers", "compression"]) if (explicit.has(name)) ignored.push(name);
  return ignored;
}

export function assertNoInputsIgnoredByOciFormat(inputs: OciFormatInputs): void {
  const ignored = inputsIgnoredByOciFormat(inputs);
  if (ignored.length === 0) return;
  throw new InputError(
    ignored.join(", "),
    `${ignored.length === 1 ? "is" : "are"} set, but the project builds Format=oci: mkosi writes the OCI layout itself and build-mkosi pushes it as it is, so ${ignored.length === 1 ? "it would be" : "they would be"} ignored`,
    "Format=directory to have build-mkosi package the image with these, or mkosi's own settings (OciLabels=, OciAnnotations=) with these inputs left empty",
  );
}
