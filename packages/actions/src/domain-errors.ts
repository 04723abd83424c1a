import { InputError } from "@frostyard/kit";
import { PipelineStageError } from "@frostyard/pipeline";
import { VersionTagTakenError } from "@frostyard/publish";
import { PackageOptionError, type PackageOptions } from "@frostyard/rootfs-oci";

/** The packaging options a user sets through build-mkosi's (and the root action's) inputs, by input name. */
const PACKAGING_INPUTS: Partial<Record<keyof PackageOptions, string>> = {
  maxLayers: "max-layers",
  compression: "compression",
  sourceDateEpoch: "source-date-epoch",
  refName: "image-version",
  labels: "labels",
  annotations: "annotations",
  bootable: "bootable",
};

/**
 * Libraries speak their own language (an option, a tag); the user set inputs. A library error about a value
 * that came from an input becomes an InputError naming that input; anything else is returned as it is.
 */
export function asInputError(error: unknown): unknown {
  // The root action names the stage first, and keeps doing so when the cause was an input's value.
  if (error instanceof PipelineStageError && error.cause !== undefined) {
    const cause = asInputError(error.cause);
    return cause === error.cause || !(cause instanceof Error)
      ? error
      : new PipelineStageError(error.stage, cause.message, { cause });
  }
  if (error instanceof VersionTagTakenError) {
    return new InputError(
      "image-version",
      error.message,
      "a new image version (the default is UTC %Y%m%d%H%M%S), or overwrite-version: true to move it on purpose",
    );
  }
  if (error instanceof PackageOptionError) {
    const input = PACKAGING_INPUTS[error.option];
    if (input) return new InputError(input, error.problem, error.accepted);
  }
  return error;
}

/**
 * Runs `fn`, rethrowing library errors about input values as InputErrors naming the input; `onFailure` is
 * told the message the user will see (for the job summary).
 */
export async function withInputNames<T>(
  fn: () => Promise<T>,
  onFailure?: (message: string) => void,
): Promise<T> {
  try {
    return await fn();
  } catch (error) {
    const mapped = asInputError(error);
    onFailure?.(mapped instanceof Error ? mapped.message : String(mapped));
    throw mapped;
  }
}
