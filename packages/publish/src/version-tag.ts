/**
 * The version tag already names another image. The publish path refuses to move it (a version names one
 * build); the entry that took the version from its user turns this into that input's error.
 */
export class VersionTagTakenError extends Error {
  constructor(
    /** `registry/repository:version`. */
    readonly reference: string,
    readonly existing: string,
    readonly built: string,
  ) {
    super(
      `${reference} already exists as ${existing}; this build is ${built}, and a version tag is immutable`,
    );
    this.name = "VersionTagTakenError";
  }
}

/**
 * The version tag is immutable: pushing it again is fine when the registry holds the same manifest,
 * refused when it holds another one, unless `overwrite` says otherwise.
 */
export function versionTagAction(
  reference: string,
  existing: string | undefined,
  built: string,
  overwrite: boolean,
): "push" | "same" | "overwrite" {
  if (existing === undefined) return "push";
  if (existing === built) return "same";
  if (overwrite) return "overwrite";
  throw new VersionTagTakenError(reference, existing, built);
}
