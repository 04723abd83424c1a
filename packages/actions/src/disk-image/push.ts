import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { basename, join } from "node:path";
import { renderSha256Sums, type DiskArtifact } from "@frostyard/disk";
import { getBoolean, getOptionalString, InputError, type InputGetter, type Logger } from "@frostyard/kit";
import { defaultImageVersion, validateImageVersion } from "@frostyard/mkosi";
import { RegistryAuthError, RegistryDeniedError, type ImageReference } from "@frostyard/oci";
import {
  DISK_ARTIFACT_TYPE,
  pushArtifact,
  registryClientFor,
  VersionTagTakenError,
  type PushedArtifact,
} from "@frostyard/publish";
import { parseRegistryLogin, type RegistryLogin } from "../registry-login";
import { parseRepositoryInput } from "../publish-inputs";

/** Where disk-image pushes its disks as one OCI artifact; undefined when push-image is empty. */
export interface DiskPushInputs {
  /** The repository (no tag: push-tag is the tag). */
  repository: ImageReference;
  /** The immutable tag. */
  tag: string;
  overwrite: boolean;
  login: RegistryLogin;
}

const REPOSITORY_ACCEPTED = "a repository such as ghcr.io/acme/os-disks (no tag: push-tag is the tag)";

/**
 * push-image, push-tag, push-overwrite and the registry login. push-tag defaults to image-version (builder
 * mkosi's version input) and else to the UTC time, as build-mkosi's version does; it is immutable.
 */
export function parsePushInputs(get: InputGetter, now = new Date()): DiskPushInputs | undefined {
  const raw = getOptionalString(get, "push-image");
  const login = parseRegistryLogin(get, { registryImplied: true });
  if (raw === undefined) {
    // push-tag and the login alone are ignored: a workflow passes them to every job and sets push-image
    // where it pushes. push-overwrite: true is a request to move a tag, which cannot happen without one.
    if (getBoolean(get, "push-overwrite", false))
      throw new InputError(
        "push-overwrite",
        "is true but push-image is empty: nothing is pushed",
        "push-overwrite with push-image",
      );
    return undefined;
  }
  const repository = parseRepositoryInput("push-image", raw, REPOSITORY_ACCEPTED);
  const given = getOptionalString(get, "push-tag");
  const tag = given
    ? validateImageVersion(given, "push-tag")
    : validateImageVersion(
        getOptionalString(get, "image-version") ?? defaultImageVersion(now),
        "image-version",
      );
  return { repository, tag, overwrite: getBoolean(get, "push-overwrite", false), login };
}

/** Each file once: bootc-image-builder writes raw and ami (and iso and anaconda-iso) to one file. */
export function uniqueDisks<T extends Pick<DiskArtifact, "path">>(built: readonly T[]): T[] {
  const seen = new Set<string>();
  return built.filter((disk) => !seen.has(disk.path) && seen.add(disk.path));
}

/**
 * SHA256SUMS as the artifact names its files: by base name, since oras pull and podman artifact extract
 * write each layer as its title into one directory, so `sha256sum -c SHA256SUMS` works where they put them.
 * For disks at the top of the output directory (qemu-img, mkosi) it is the output directory's SHA256SUMS
 * byte for byte; the builders' per-type sub-directories (`qcow2/disk.qcow2`) are flattened.
 */
export function artifactSha256Sums(disks: readonly Pick<DiskArtifact, "path" | "sha256">[]): string {
  return renderSha256Sums(disks.map((disk) => ({ name: basename(disk.path), sha256: disk.sha256 })));
}

/** The files of one run: every disk (its sha256 already known from the build) and SHA256SUMS, in that order. */
export function artifactFiles(built: readonly Pick<DiskArtifact, "path" | "sha256">[], sums: string) {
  return [
    ...built.map((disk) => ({ path: disk.path, title: basename(disk.path), sha256: disk.sha256 })),
    { path: sums, title: basename(sums), mediaType: "text/plain" },
  ];
}

/**
 * Pushes the disks and SHA256SUMS as one OCI artifact. Called only once every boot test passed: a disk is
 * never published unverified. The publish path's errors about values the user set become their inputs'.
 */
export async function pushDisks(options: {
  push: DiskPushInputs;
  built: readonly DiskArtifact[];
  annotations: Record<string, string>;
  logger: Logger;
}): Promise<PushedArtifact> {
  const { push, logger } = options;
  const client = registryClientFor(push.login, logger, push.repository.registry);
  const disks = uniqueDisks(options.built);
  const scratch = await mkdtemp(join(process.env.RUNNER_TEMP || tmpdir(), "disk-push-"));
  const sums = join(scratch, "SHA256SUMS");
  await writeFile(sums, artifactSha256Sums(disks));
  try {
    return await logger.group(
      `push ${push.repository.registry}/${push.repository.repository}:${push.tag}`,
      () =>
        pushArtifact({
          client,
          target: push.repository,
          tag: push.tag,
          files: artifactFiles(disks, sums),
          artifactType: DISK_ARTIFACT_TYPE,
          annotations: options.annotations,
          overwrite: push.overwrite,
          logger,
        }),
    );
  } catch (error) {
    throw pushInputError(error, push);
  } finally {
    await rm(scratch, { recursive: true, force: true });
  }
}

/** A refused tag or login as the input the user set; anything else unchanged. */
export function pushInputError(error: unknown, push: Pick<DiskPushInputs, "login">): unknown {
  if (error instanceof VersionTagTakenError)
    return new InputError(
      "push-tag",
      error.message,
      "a tag not used yet (disks of one build per tag), or push-overwrite: true to move it on purpose",
    );
  if (
    (error instanceof RegistryAuthError || error instanceof RegistryDeniedError) &&
    push.login.registryUsername
  )
    return new InputError(
      "registry-password",
      `the registry answered ${error.status} ${error.status === 401 ? "Unauthorized" : "Forbidden"}: ${error.message}`,
      "a password or token with push access to push-image for registry-username",
    );
  if (error instanceof RegistryAuthError || error instanceof RegistryDeniedError)
    return new Error(`the registry answered ${error.status}: ${error.message}`, { cause: error });
  return error;
}

/** The summary's line for the push. */
export function pushSummary(pushed: PushedArtifact): string {
  return `Pushed ${pushed.layers.map((layer) => `\`${layer.title}\``).join(", ")} as one OCI artifact to \`${pushed.repository}:${pushed.tag}\`: \`${pushed.digest}\` (${pushed.uploadedBytes} bytes uploaded, ${pushed.skippedBlobs} blob(s) already there); sign this digest with cosign-sign.`;
}
