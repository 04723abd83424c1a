import type { Edit, FoundRef } from "./types";

/** Applies non-overlapping edits to a text; everything outside the edited spans is kept byte for byte. */
export function applyEdits(text: string, edits: readonly Edit[]): string {
  const sorted = [...edits].sort((a, b) => a.start - b.start);
  let out = "";
  let at = 0;
  for (const e of sorted) {
    if (e.start < at || e.end < e.start || e.end > text.length) {
      throw new Error(`edit ${e.start}..${e.end} overlaps another edit or lies outside the text`);
    }
    out += text.slice(at, e.start) + e.text;
    at = e.end;
  }
  return out + text.slice(at);
}

const VERSIONISH = /^(?:tag=|pin\s*@?)?@?v?\d[\w.+-]*$/i;

/**
 * The comment to write after a pinned action: `# <version>`, keeping any words of the old comment that
 * were not its version (`# v4 checkout sources` → `# v4.2.2 checkout sources`).
 */
export function versionComment(version: string, oldComment: string | undefined, oldRef: string): string {
  const words = (oldComment ?? "").split(/\s+/).filter(Boolean);
  if (words[0] && (VERSIONISH.test(words[0]) || words[0] === oldRef || words[0] === version)) words.shift();
  return ` # ${[version, ...words].join(" ")}`;
}

/** Edits that pin an image reference: the reference's span only. */
export function imageEdits(ref: FoundRef, pinned: string): Edit[] {
  return [{ ...ref.span, text: pinned }];
}

/**
 * Edits that pin an action: `owner/repo[/path]@<sha>` in the reference's span (quotes stay outside it)
 * and the version comment after the value. Throws when the line has no room for a comment.
 */
export function actionEdits(
  ref: FoundRef,
  name: string,
  sha: string,
  version: string,
  oldRef: string,
): Edit[] {
  if (!ref.commentSlot) {
    throw new Error(
      `more YAML follows '${ref.text}' on line ${ref.line}, so a '# ${version}' comment cannot be added; put uses: on its own line`,
    );
  }
  return [
    { ...ref.span, text: `${name}@${sha}` },
    { ...ref.commentSlot, text: versionComment(version, ref.commentSlot.text, oldRef) },
  ];
}
