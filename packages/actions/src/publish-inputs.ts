import { InputError } from "@frostyard/kit";
import { parseReference, type ImageReference } from "@frostyard/oci";
import { VersionTagTakenError } from "@frostyard/publish";

/**
 * An input naming a repository to push to: a registry and path, no tag and no digest (the version input
 * is the tag). Anything else is an InputError naming `input`, with what it accepts.
 */
export function parseRepositoryInput(input: string, raw: string, accepted: string): ImageReference {
  let ref: ImageReference;
  try {
    ref = parseReference(raw);
  } catch (error) {
    throw new InputError(input, (error as Error).message, accepted);
  }
  if (ref.tag !== undefined || ref.digest !== undefined)
    throw new InputError(input, `'${raw}' names a tag or digest`, accepted);
  return ref;
}

/** publish-image's and publish-index's `version` input: a version tag that already names another image. */
export function versionInputError(error: unknown): unknown {
  return error instanceof VersionTagTakenError
    ? new InputError(
        "version",
        error.message,
        "a new version, or overwrite-version: true to move it on purpose",
      )
    : error;
}
