import type { Logger } from "@frostyard/kit";
import { join } from "node:path";
import { actionName } from "./action-text";
import { mapBounded, settle } from "./concurrency";
import { formatPinnedImage } from "./image-text";
import { included, outcome, planRef, type Step } from "./plan";
import type { ActionRefResolver, ActionResolution, ImageDigestResolver } from "./resolvers";
import { actionEdits, applyEdits, imageEdits } from "./rewrite";
import { DEFAULT_PATHS, scan } from "./scan";
import type { Edit, FileProblem, FoundRef, Include, Mode, RefOutcome } from "./types";
import { writeFileAtomic } from "./write";

export interface PinOptions {
  /** The directory globs are relative to (the repository's work tree). */
  root: string;
  paths?: readonly string[];
  mode: Mode;
  include?: Include;
  /** Needed when images are pinned or updated. */
  images?: ImageDigestResolver;
  /** Needed when actions are pinned or updated. */
  actions?: ActionRefResolver;
  /** Lookups in flight at once (images and actions each). */
  concurrency?: number;
  logger: Logger;
}

export interface PinReport {
  /** Every file the globs matched (relative, sorted): none means nothing was checked. */
  files: string[];
  /** Every reference found (those `include` leaves out excepted), in file and line order. */
  outcomes: RefOutcome[];
  /** Files that could not be read or parsed, left untouched. */
  problems: FileProblem[];
  /** Files rewritten (none in check mode). */
  changedFiles: string[];
  /** Lookups made after deduplication: each identical reference once. */
  lookups: { images: number; actions: number };
}

interface Pending {
  ref: FoundRef;
  step: Exclude<Step, { do: "report" }>;
}

/** Looks each distinct key up once, at most `limit` at a time; failures are kept per key. */
async function lookupOnce<T>(keys: string[], limit: number, fn: (key: string) => Promise<T>) {
  const unique = [...new Set(keys)];
  const settled = await mapBounded(unique, limit, (k) => settle(fn(k)));
  return new Map(unique.map((k, i) => [k, settled[i]!]));
}

function canonicalOr(resolver: ImageDigestResolver, reference: string): string {
  return resolver.canonical ? resolver.canonical(reference) : reference;
}

/**
 * Finds references under `root`, resolves what the mode asks for, computes every edit of every file,
 * and only then writes the changed files (each atomically). A failed lookup or rewrite is an `error`
 * outcome for that reference; the others still go ahead.
 */
export async function pinDigests(options: PinOptions): Promise<PinReport> {
  const { root, mode, logger } = options;
  const include = options.include ?? "all";
  const concurrency = options.concurrency ?? 16;
  const scanned = await scan(root, options.paths ?? DEFAULT_PATHS);
  logger.info(`scanned ${scanned.length} file(s)`);

  const done = new Map<FoundRef, RefOutcome>();
  const pending: Pending[] = [];
  for (const file of scanned) {
    for (const ref of file.refs) {
      if (!included(ref.kind, include)) continue;
      const step = planRef(ref, mode);
      if (step.do === "report") done.set(ref, step.outcome);
      else pending.push({ ref, step });
    }
  }

  const images = pending.flatMap((p) =>
    p.step.do === "pin-image" || p.step.do === "update-image" ? [p] : [],
  );
  const actions = pending.flatMap((p) =>
    p.step.do === "pin-action" || p.step.do === "update-action" ? [p] : [],
  );
  if (images.length > 0 && !options.images)
    throw new Error("pinDigests: image references need an images resolver");
  if (actions.length > 0 && !options.actions)
    throw new Error("pinDigests: action references need an actions resolver");

  // Canonical keys: a reference the resolver cannot parse fails alone, before any lookup.
  const imageKeys = new Map<Pending, string>();
  for (const p of images) {
    if (p.step.do !== "pin-image" && p.step.do !== "update-image") continue;
    try {
      imageKeys.set(p, canonicalOr(options.images!, p.step.lookup));
    } catch (e) {
      done.set(p.ref, outcome(p.ref, "error", { message: (e as Error).message }));
    }
  }
  const actionKey = (p: Pending): string => {
    if (p.step.do === "pin-action")
      return `pin\0${p.step.action.owner}/${p.step.action.repo}@${p.step.action.ref}`;
    if (p.step.do === "update-action")
      return `update\0${p.step.action.owner}/${p.step.action.repo}@${p.step.tag}`;
    throw new Error("not an action step");
  };

  const [digests, commits] = await Promise.all([
    lookupOnce([...imageKeys.values()], concurrency, async (key) => {
      const digest = await options.images!.digest(key);
      if (!digest) throw new Error(`'${key}': no such tag in the registry (manifest unknown)`);
      return digest;
    }),
    lookupOnce(actions.map(actionKey), concurrency, (key) => {
      const [verb, spec] = key.split("\0") as [string, string];
      const [repoPath, ref] = [spec.slice(0, spec.indexOf("@")), spec.slice(spec.indexOf("@") + 1)];
      const [owner, repo] = repoPath.split("/") as [string, string];
      return options.actions!.resolve(owner, repo, ref, verb === "pin");
    }),
  ]);

  const editsByFile = new Map<string, Edit[]>();
  for (const p of pending) {
    if (done.has(p.ref)) continue;
    const result =
      p.step.do === "pin-image" || p.step.do === "update-image"
        ? digests.get(imageKeys.get(p)!)!
        : commits.get(actionKey(p))!;
    if ("error" in result) {
      done.set(p.ref, outcome(p.ref, "error", { message: result.error.message }));
      continue;
    }
    try {
      let edits: Edit[];
      let next: string;
      let unchanged: boolean;
      const step = p.step;
      if (step.do === "pin-image" || step.do === "update-image") {
        const digest = result.value as string;
        next = formatPinnedImage(step.image, digest);
        unchanged = step.image.digest === digest;
        edits = imageEdits(p.ref, next);
      } else {
        const { sha, version } = result.value as ActionResolution;
        const action = step.action;
        unchanged = action.ref === sha;
        edits = actionEdits(p.ref, actionName(action), sha, version, action.ref);
        next = `${actionName(action)}@${sha}${edits[1]!.text}`;
      }
      if (unchanged) {
        done.set(p.ref, outcome(p.ref, "up-to-date"));
        continue;
      }
      editsByFile.set(p.ref.file, [...(editsByFile.get(p.ref.file) ?? []), ...edits]);
      done.set(
        p.ref,
        outcome(p.ref, p.step.do.startsWith("pin") ? "pinned" : "updated", { new: next.trim() }),
      );
    } catch (e) {
      done.set(p.ref, outcome(p.ref, "error", { message: (e as Error).message }));
    }
  }

  // Every file's new text is computed before the first write: a failure here writes nothing.
  const rewritten = scanned.flatMap((f) => {
    const edits = editsByFile.get(f.file);
    return edits && mode !== "check" ? [{ file: f.file, text: applyEdits(f.text, edits) }] : [];
  });
  for (const { file, text } of rewritten) await writeFileAtomic(join(root, file), text);
  if (rewritten.length > 0) logger.info(`rewrote ${rewritten.length} file(s)`);

  const outcomes = scanned.flatMap((f) => f.refs.flatMap((r) => (done.has(r) ? [done.get(r)!] : [])));
  return {
    files: scanned.map((f) => f.file),
    outcomes,
    problems: scanned.flatMap((f) => f.problems),
    changedFiles: rewritten.map((r) => r.file),
    lookups: { images: new Set(imageKeys.values()).size, actions: new Set(actions.map(actionKey)).size },
  };
}
