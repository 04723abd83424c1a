/**
 * Tag names that conventionally move from image to image. An image's version tag is immutable, so it may
 * not be one of these; as extra tags they are allowed but warned about, since they move at push time, before
 * any signature is made or verified.
 */
export const FLOATING_TAGS = [
  "latest",
  "stable",
  "edge",
  "testing",
  "unstable",
  "next",
  "nightly",
  "beta",
  "canary",
  "current",
  "main",
  "master",
] as const;

export function isFloatingTag(tag: string): boolean {
  return (FLOATING_TAGS as readonly string[]).includes(tag.toLowerCase());
}

/** The extra tags that move from image to image: pushed by explicit choice, but they move before signing. */
export function floatingTags(tags: readonly string[]): string[] {
  return tags.filter(isFloatingTag);
}
