/** Which kind of thing a reference names: a container image or a GitHub action / reusable workflow. */
export type RefKind = "image" | "action";

/** Where in a file a reference was found, so reports and annotations can point at it. */
export type RefSource =
  | "dockerfile-from"
  | "dockerfile-copy-from"
  | "dockerfile-arg"
  | "workflow-uses"
  | "workflow-container"
  | "workflow-service"
  | "action-uses"
  | "action-image"
  | "compose-image";

/** A span of text in a file: `start` inclusive, `end` exclusive, both character offsets. */
export interface Span {
  start: number;
  end: number;
}

/** The rest of an action's line, where its comment goes. */
export interface CommentSlot extends Span {
  /** The comment already there, after `#`, trimmed. */
  text?: string;
  /** Where the line starts and its indentation: the user's words that cannot stay in the comment go above it. */
  lineStart: number;
  indent: string;
  /** The file's line ending ("\n" or "\r\n"). */
  eol: string;
}

/** One reference as written in a file. */
export interface FoundRef {
  /** Path relative to the scanned root, with forward slashes. */
  file: string;
  /** 1-based line and column of the reference's first character. */
  line: number;
  column: number;
  kind: RefKind;
  source: RefSource;
  /** The reference exactly as written, without a `docker://` prefix. */
  text: string;
  /** Where `text` sits in the file; a rewrite replaces only this span (plus `comment` for actions). */
  span: Span;
  /**
   * Actions only: the rest of the line after the value, where the `# vX.Y.Z` comment goes; `text` is the
   * comment already there. Undefined when more YAML follows on the line, so no comment can be added.
   */
  commentSlot?: CommentSlot;
  /** Set when the reference contains a variable (`$ARG`, `${{ … }}`): reported, never guessed. */
  variable?: string;
}

/** A file that could not be read or parsed: reported, left untouched. */
export interface FileProblem {
  file: string;
  line?: number;
  message: string;
}

/** What `extract` returns for one file. */
export interface Extraction {
  refs: FoundRef[];
  problems: FileProblem[];
}

/** Replace `span` of a file's text with `text`. */
export interface Edit extends Span {
  text: string;
}

export type Mode = "pin" | "check" | "update";
export type Include = "images" | "actions" | "all";

/** What happened to one reference. */
export type RefStatus =
  | "pinned" // was unpinned, now pinned
  | "updated" // was pinned, the tag moved, digest refreshed
  | "up-to-date" // was pinned and still points where its tag does
  | "already-pinned" // pinned; nothing to do in this mode
  | "unpinned" // check mode: needs pinning
  | "variable" // contains a variable; cannot be resolved statically
  | "error"; // lookup or rewrite failed

export interface RefOutcome {
  file: string;
  line: number;
  column: number;
  kind: RefKind;
  /** The image or action name, without tag, digest or ref. */
  ref: string;
  /** The text before (the reference, and for actions its version comment). */
  old: string;
  /** The text after, when it changed or would change. */
  new?: string;
  status: RefStatus;
  /** For `error` and `variable`: what went wrong and what to do. */
  message?: string;
}
