import { InputError } from "@frostyard/kit";
import { FLOATING_TAGS, isFloatingTag } from "@frostyard/publish";

/** UTC `%Y%m%d%H%M%S`, e.g. 20261125214523: sorts as it reads and is a valid OCI tag. */
export function defaultImageVersion(now: Date): string {
  const pad = (value: number, width = 2) => String(value).padStart(width, "0");
  return (
    pad(now.getUTCFullYear(), 4) +
    pad(now.getUTCMonth() + 1) +
    pad(now.getUTCDate()) +
    pad(now.getUTCHours()) +
    pad(now.getUTCMinutes()) +
    pad(now.getUTCSeconds())
  );
}

/** The image version becomes the immutable tag it is pushed under, so it must be a valid OCI tag. */
const TAG = /^[A-Za-z0-9_][A-Za-z0-9._-]{0,127}$/;

export function validateImageVersion(value: string, input = "image-version"): string {
  if (!TAG.test(value)) {
    throw new InputError(
      input,
      `'${value.slice(0, 60)}' cannot be an image tag`,
      "1 to 128 characters of letters, digits, '_', '.' and '-', not starting with '.' or '-' (default: UTC %Y%m%d%H%M%S)",
    );
  }
  if (isFloatingTag(value)) {
    throw new InputError(
      input,
      `'${value}' is a floating tag name; the image version is the immutable tag the image is pushed under`,
      `a version that names one build, such as 2026.11.25 or the default UTC %Y%m%d%H%M%S (not ${FLOATING_TAGS.join(", ")}); move floating tags after signing with cosign-sign`,
    );
  }
  return value;
}
