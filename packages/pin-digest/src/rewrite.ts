import { pinComment } from "./action-comment";
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

/** Edits that pin an image reference: the reference's span only. */
export function imageEdits(ref: FoundRef, pinned: string): Edit[] {
  return [{ ...ref.span, text: pinned }];
}

/**
 * Edits that pin an action: `owner/repo[/path]@<sha>` in the reference's span (quotes stay outside it), the
 * comment after the value naming what the pin follows (pinComment), and, when the user's words there would stop
 * Renovate reading it, those words on a comment line of their own above. Throws when the line has no room for a
 * comment.
 */
export function actionEdits(
  ref: FoundRef,
  name: string,
  sha: string,
  version: string,
  oldRef: string,
): Edit[] {
  const slot = ref.commentSlot;
  if (!slot) {
    throw new Error(
      `more YAML follows '${ref.text}' on line ${ref.line}, so a '# ${version}' comment cannot be added; put uses: on its own line`,
    );
  }
  const { comment, aside } = pinComment(version, slot.text, oldRef);
  const edits: Edit[] = [
    { ...ref.span, text: `${name}@${sha}` },
    { start: slot.start, end: slot.end, text: comment },
  ];
  if (aside)
    edits.push({ start: slot.lineStart, end: slot.lineStart, text: `${slot.indent}# ${aside}${slot.eol}` });
  return edits;
}
