import { readCommentRef } from "./action-comment";
import { type ActionText, actionName, isFullSha, splitAction } from "./action-text";
import { type ImageText, lookupReference, splitImage } from "./image-text";
import type { FoundRef, Include, Mode, RefOutcome } from "./types";

/** What to do with one reference, decided from its text and the mode alone (no network). */
export type Step =
  | { do: "report"; outcome: RefOutcome }
  | { do: "pin-image"; image: ImageText; lookup: string }
  | { do: "update-image"; image: ImageText; lookup: string }
  | { do: "pin-action"; action: ActionText }
  | { do: "update-action"; action: ActionText; tag: string };

export function included(kind: FoundRef["kind"], include: Include): boolean {
  return include === "all" || (include === "images" ? kind === "image" : kind === "action");
}

/** The reference as it reads before any change: for actions, with its comment. */
export function oldText(ref: FoundRef): string {
  return ref.commentSlot?.text ? `${ref.text} # ${ref.commentSlot.text}` : ref.text;
}

function nameOf(ref: FoundRef): string {
  try {
    return ref.kind === "image" ? splitImage(ref.text).name : actionName(splitAction(ref.text));
  } catch {
    return ref.text;
  }
}

/** An outcome for a reference that needs no lookup. */
export function outcome(
  ref: FoundRef,
  status: RefOutcome["status"],
  extra: Partial<RefOutcome> = {},
): RefOutcome {
  return {
    file: ref.file,
    line: ref.line,
    column: ref.column,
    kind: ref.kind,
    ref: nameOf(ref),
    old: oldText(ref),
    status,
    ...extra,
  };
}

/** Decides per reference: report as is (pinned, unpinned, variable, invalid) or look something up. */
export function planRef(ref: FoundRef, mode: Mode): Step {
  if (ref.variable) {
    return {
      do: "report",
      outcome: outcome(ref, "variable", {
        message: `'${ref.text}' contains the variable ${ref.variable}; pin-digest does not guess its value: pin the value where it is set`,
      }),
    };
  }
  try {
    if (ref.kind === "image") {
      const image = splitImage(ref.text);
      if (image.digest) {
        if (mode === "update" && image.tag)
          return { do: "update-image", image, lookup: lookupReference(image) };
        return { do: "report", outcome: outcome(ref, "already-pinned") };
      }
      if (mode === "pin") return { do: "pin-image", image, lookup: lookupReference(image) };
      return {
        do: "report",
        outcome: outcome(ref, "unpinned", { message: `'${ref.text}' is not pinned to a digest` }),
      };
    }
    const action = splitAction(ref.text);
    if (isFullSha(action.ref)) {
      // The tag to follow is what Renovate would follow, so both propose the same update.
      const tag = ref.commentSlot?.text ? readCommentRef(ref.commentSlot.text)?.ref : undefined;
      if (mode === "update" && tag) return { do: "update-action", action, tag };
      return { do: "report", outcome: outcome(ref, "already-pinned") };
    }
    if (mode === "pin") return { do: "pin-action", action };
    return {
      do: "report",
      outcome: outcome(ref, "unpinned", { message: `'${ref.text}' is not pinned to a commit SHA` }),
    };
  } catch (e) {
    return { do: "report", outcome: outcome(ref, "error", { message: (e as Error).message }) };
  }
}
