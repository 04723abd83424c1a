import { getBoolean, getList, getOptionalString, InputError, type InputGetter } from "@frostyard/kit";
import { validateImageVersion } from "@frostyard/mkosi";
import type { ImageReference } from "@frostyard/oci";
import { parsePlatform, type PlatformImage } from "@frostyard/publish";
import { parseRegistryLogin, type RegistryLogin } from "../registry-login";
import { parseRepositoryInput } from "../publish-inputs";

/** Every input of actions/publish-index, parsed once. */
export interface PublishIndexInputs extends RegistryLogin {
  image: ImageReference;
  version: string;
  images: PlatformImage[];
  tags: string[];
  overwriteVersion: boolean;
}

const DIGEST = /^sha256:[0-9a-f]{64}$/;

/** `platform=digest` lines (or a comma list), e.g. `linux/arm64=sha256:…`. */
export function parsePlatformImages(lines: readonly string[]): PlatformImage[] {
  const accepted = "platform=digest entries, one per platform, e.g. linux/amd64=sha256:<64 hex>";
  if (lines.length === 0) throw new InputError("images", "is empty", accepted);
  return lines.map((line) => {
    const [platform = "", digest = "", extra] = line.split("=").map((part) => part.trim());
    if (extra !== undefined || !DIGEST.test(digest))
      throw new InputError("images", `'${line.slice(0, 120)}' is not platform=digest`, accepted);
    try {
      parsePlatform(platform);
    } catch (error) {
      throw new InputError("images", (error as Error).message, accepted);
    }
    return { platform, digest };
  });
}

export function parseInputs(get: InputGetter): PublishIndexInputs {
  const raw = getOptionalString(get, "image");
  const accepted = "a repository such as ghcr.io/acme/os (no tag: version is the tag)";
  if (raw === undefined) throw new InputError("image", "is required but was empty", accepted);
  const image = parseRepositoryInput("image", raw, accepted);
  const version = getOptionalString(get, "version");
  if (version === undefined)
    throw new InputError(
      "version",
      "is required but was empty",
      "the image version the index is tagged with",
    );
  return {
    image,
    version: validateImageVersion(version, "version"),
    images: parsePlatformImages(getList(get, "images")),
    tags: getList(get, "tags"),
    overwriteVersion: getBoolean(get, "overwrite-version", false),
    ...parseRegistryLogin(get, { registryImplied: true }),
  };
}
