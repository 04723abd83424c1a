/**
 * Image references split as text. Pinning keeps everything the user wrote (registry, path, tag) and only
 * appends or replaces the digest, so this works on the text rather than on a normalised reference.
 */
export interface ImageText {
  /** Everything before the tag: `[registry/]path`. */
  name: string;
  tag?: string;
  digest?: string;
}

const NAME =
  /^(?:[a-zA-Z0-9](?:[a-zA-Z0-9.-]*[a-zA-Z0-9])?(?::[0-9]+)?\/)?[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*(?:\/[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*)*$/;
const TAG = /^[\w][\w.-]{0,127}$/;
const DIGEST = /^[a-z0-9]+(?:[.+_-][a-z0-9]+)*:[a-zA-Z0-9=_-]{32,}$/;

/** Splits `name[:tag][@digest]`; throws an Error that says what is wrong with the reference. */
export function splitImage(text: string): ImageText {
  const at = text.indexOf("@");
  const beforeDigest = at === -1 ? text : text.slice(0, at);
  const digest = at === -1 ? undefined : text.slice(at + 1);
  const lastSlash = beforeDigest.lastIndexOf("/");
  const colon = beforeDigest.indexOf(":", lastSlash + 1);
  const name = colon === -1 ? beforeDigest : beforeDigest.slice(0, colon);
  const tag = colon === -1 ? undefined : beforeDigest.slice(colon + 1);
  const expected = "expected [registry/]repository[:tag][@sha256:<64 hex>], lowercase repository";
  if (!NAME.test(name))
    throw new Error(`'${text}' is not a valid image reference: bad name '${name}'; ${expected}`);
  if (tag !== undefined && !TAG.test(tag)) {
    throw new Error(`'${text}' is not a valid image reference: bad tag '${tag}'; ${expected}`);
  }
  if (digest !== undefined && !DIGEST.test(digest)) {
    throw new Error(`'${text}' is not a valid image reference: bad digest '${digest}'; ${expected}`);
  }
  return { name, tag, digest };
}

/** `name:tag@digest`. A missing tag becomes an explicit `latest`, so updates later know what to follow. */
export function formatPinnedImage(image: ImageText, digest: string): string {
  return `${image.name}:${image.tag ?? "latest"}@${digest}`;
}

/** The reference to look up (`name:tag`, never the digest): HEAD on the tag gives its current digest. */
export function lookupReference(image: ImageText): string {
  return `${image.name}:${image.tag ?? "latest"}`;
}
