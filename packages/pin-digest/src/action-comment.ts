/**
 * The comment after a SHA-pinned action names the tag (or branch) the pin follows. Renovate's github-actions
 * manager decides what it follows from that comment with these two expressions (Renovate 44,
 * lib/modules/manager/github-actions/parse.ts: pinTokenRe, then bareTokenRe for a comment of one word), so
 * pin-digest reads exactly what Renovate reads and writes only comments Renovate reads back the same way:
 * `# v1.2.3`, `# tag=v1.2.3`, `# renovate: tag=v1.2.3`, `# renovate: pin v1.2.3`, `# pin @v1.2.3`,
 * `# ratchet:owner/repo@v1.2.3`, `# v1.2.3 words`, and a branch only as the whole comment (`# main`).
 */
const PIN_TOKEN =
  /^\s*(?:(?:renovate\s*:\s*)?(?:pin\s+|tag\s*=\s*)?|(?:ratchet:[\w-]+\/[.\w-]+(?:\/[.\w-]+)*))?@?(?<version>(?:[\w-]*[-/])?v?\d+(?:\.\d+(?:\.\d+)?)?(?:-[a-zA-Z0-9.]+)?)/;
const BARE_TOKEN = /^\s*(?<token>\S+)\s*$/;

/** What a pin's comment says it follows, and where that sits in the comment text. */
export interface CommentRef {
  /** The tag or branch, as Renovate reads it (`v1.2.3` from `v1.2.3+build.5`). */
  ref: string;
  /**
   * The span of the whole word holding it (`v1.2.3+build.5`), so a rewrite to another version replaces the
   * word rather than leaving a stale suffix.
   */
  start: number;
  end: number;
}

/** The tag or branch a pin's comment text (after `#`) follows, or undefined when Renovate reads none. */
export function readCommentRef(comment: string): CommentRef | undefined {
  if (comment.trim() === "ratchet:exclude") return undefined;
  const pin = PIN_TOKEN.exec(comment);
  const version = pin?.groups?.version;
  if (pin && version) {
    const matchEnd = pin.index + pin[0].length;
    const rest = /^\S*/.exec(comment.slice(matchEnd))![0];
    return { ref: version, start: matchEnd - version.length, end: matchEnd + rest.length };
  }
  const bare = BARE_TOKEN.exec(comment);
  const token = bare?.groups?.token;
  if (!token) return undefined;
  const start = comment.indexOf(token);
  return { ref: token, start, end: start + token.length };
}

/** The new comment, and the user's words that had to move to a comment line of their own. */
export interface PinComment {
  /** Written after the pin: ` # …`. */
  comment: string;
  /** Words of the old comment that would stop Renovate reading `version` (`# main nightly build`). */
  aside?: string;
}

function readsAs(comment: string, version: string): boolean {
  return readCommentRef(comment)?.ref === version;
}

/**
 * The comment after a pin that follows `version`, kept in the user's form: the version word of a comment
 * Renovate reads is replaced in place (`# renovate: tag=v4` → `# renovate: tag=v4.2.2`, a comment that already
 * names `version` stays as it is); otherwise the version goes first and the old words after it
 * (`# checkout sources` → `# v4.2.2 checkout sources`). When the result would not read back as `version`
 * (a branch followed by words), the comment is the version alone and the old words become `aside`.
 */
export function pinComment(version: string, oldComment: string | undefined, oldRef: string): PinComment {
  const old = (oldComment ?? "").trim();
  const read = old ? readCommentRef(old) : undefined;
  if (read && read.ref === version) return { comment: ` # ${old}` };
  // A lone word Renovate would follow only when nothing else is written (`# checkout`) is the user's word, unless
  // it names the ref being pinned.
  const versionWord = read && (PIN_TOKEN.test(old) || read.ref === oldRef) ? read : undefined;
  let candidate: string;
  if (versionWord) {
    candidate = `${old.slice(0, versionWord.start)}${version}${old.slice(versionWord.end)}`;
  } else {
    const words = old.split(/\s+/).filter(Boolean);
    if (words[0] === oldRef) words.shift();
    candidate = [version, ...words].join(" ");
  }
  if (readsAs(candidate, version)) return { comment: ` # ${candidate}` };
  const words = old
    .split(/\s+/)
    .filter(Boolean)
    .filter((w, i) => !(i === 0 && w === oldRef));
  return words.length > 0
    ? { comment: ` # ${version}`, aside: words.join(" ") }
    : { comment: ` # ${version}` };
}
