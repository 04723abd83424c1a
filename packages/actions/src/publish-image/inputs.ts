import { getBoolean, getList, getOptionalString, InputError, type InputGetter } from "@frostyard/kit";
import { validateImageVersion } from "@frostyard/mkosi";
import { withTag, type ImageReference } from "@frostyard/oci";
import { parseRegistryLogin, type RegistryLogin } from "../registry-login";
import { parseRepositoryInput } from "../publish-inputs";

/** Every input of actions/publish-image, parsed once. */
export interface PublishImageInputs extends RegistryLogin {
  /** The layout directory as given (resolved against the workspace when the action runs). */
  ociLayout: string;
  /** The layout's manifest to push, by its ref name; undefined: the layout's only one. */
  refName?: string;
  image: ImageReference;
  version: string;
  tags: string[];
  overwriteVersion: boolean;
}

function required(get: InputGetter, name: string, accepted: string): string {
  const value = getOptionalString(get, name);
  if (value === undefined) throw new InputError(name, "is required but was empty", accepted);
  return value;
}

function parseTags(image: ImageReference, tags: string[]): string[] {
  for (const tag of tags) {
    try {
      withTag(image, tag);
    } catch {
      throw new InputError(
        "tags",
        `'${tag.slice(0, 60)}' is not a valid tag`,
        "tags of letters, digits, '_', '.' and '-', at most 128 characters, not starting with '.' or '-'",
      );
    }
  }
  return tags;
}

export function parseInputs(get: InputGetter): PublishImageInputs {
  const ociLayout = required(
    get,
    "oci-layout",
    "an OCI image layout directory, e.g. build-mkosi's oci-layout output",
  );
  const refName = getOptionalString(get, "ref-name");
  const accepted = "a repository such as ghcr.io/acme/os (no tag: version is the tag, tags adds more)";
  const image = parseRepositoryInput("image", required(get, "image", accepted), accepted);
  const version = validateImageVersion(
    required(get, "version", "the immutable version tag the image is pushed under, e.g. 2026.12.04"),
    "version",
  );
  return {
    ociLayout,
    ...(refName !== undefined ? { refName } : {}),
    image,
    version,
    tags: parseTags(image, getList(get, "tags")),
    overwriteVersion: getBoolean(get, "overwrite-version", false),
    // The image names the registry the login is for.
    ...parseRegistryLogin(get, { registryImplied: true }),
  };
}
