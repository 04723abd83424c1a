import { isMap, isScalar, isSeq, parseAllDocuments, type Node, type Scalar, type YAMLMap } from "yaml";
import { isLocalAction } from "./action-text";
import { lineStarts, locate, commentSlot } from "./positions";
import type { Extraction, FoundRef, RefSource } from "./types";
import { findVariable } from "./variables";

const DOCKER = "docker://";

function get(map: unknown, key: string): unknown {
  return isMap(map) ? (map as YAMLMap).get(key, true) : undefined;
}

function mapValues(map: unknown): unknown[] {
  return isMap(map) ? map.items.map((p) => p.value) : [];
}

function seqItems(seq: unknown): unknown[] {
  return isSeq(seq) ? seq.items : [];
}

/**
 * Finds references in GitHub workflow, action and compose YAML, at the places that hold them:
 * `jobs.*.steps[*].uses`, `jobs.*.uses` (reusable workflows), `jobs.*.container[.image]`,
 * `jobs.*.services.*.image`, `runs.steps[*].uses`, `runs.image` (docker:// only) and compose
 * `services.*.image`. Other `image:` keys (an action's `with: image:` input, for one) are not
 * references to pin. Spans come from the parser's source ranges, so rewrites keep quotes, comments and
 * layout exactly.
 */
export function extractYaml(file: string, text: string): Extraction {
  const refs: FoundRef[] = [];
  const problems: Extraction["problems"] = [];
  const starts = lineStarts(text);
  const docs = parseAllDocuments(text, { prettyErrors: false });
  const errors = (Array.isArray(docs) ? docs : []).flatMap((d) => d.errors);
  if (!Array.isArray(docs) || errors.length > 0) {
    const first = errors[0];
    const line = first ? locate(starts, first.pos[0]).line : undefined;
    problems.push({
      file,
      line,
      message: `not valid YAML: ${first?.message.split("\n")[0] ?? "empty stream"}`,
    });
    return { refs, problems };
  }

  const add = (node: unknown, source: RefSource, kind: "image" | "action" | "uses") => {
    if (!isScalar(node) || typeof node.value !== "string") return;
    const scalar = node as Scalar<string>;
    const [rangeStart, rangeEnd] = scalar.range ?? [0, 0];
    const where = locate(starts, rangeStart);
    let value = scalar.value;
    let start = rangeStart;
    let end = rangeEnd;
    if (scalar.type === "QUOTE_DOUBLE" || scalar.type === "QUOTE_SINGLE") {
      start += 1;
      end -= 1;
    } else if (scalar.type !== "PLAIN") {
      problems.push({
        file,
        line: where.line,
        message: `'${value}' is a block scalar; write it on one line to pin it`,
      });
      return;
    }
    if (text.slice(start, end) !== value) {
      problems.push({
        file,
        line: where.line,
        message: `'${value}' uses escapes or folding; write it plainly to pin it`,
      });
      return;
    }
    let refKind: "image" | "action" = kind === "image" ? "image" : "action";
    if (value.startsWith(DOCKER)) {
      refKind = "image";
      value = value.slice(DOCKER.length);
      start += DOCKER.length;
    } else if (kind === "uses" && isLocalAction(value)) {
      return;
    } else if (source === "action-image") {
      return; // runs.image naming a Dockerfile in the action's repository
    }
    const ref: FoundRef = {
      file,
      ...locate(starts, start),
      kind: refKind,
      source,
      text: value,
      span: { start, end },
    };
    if (refKind === "action") {
      const slot = commentSlot(text, rangeEnd);
      if (slot) ref.commentSlot = slot;
    }
    const variable = findVariable(value);
    if (variable) ref.variable = variable;
    refs.push(ref);
  };

  for (const doc of docs) {
    const root: Node | null = doc.contents;
    for (const job of mapValues(get(root, "jobs"))) {
      add(get(job, "uses"), "workflow-uses", "uses");
      const container = get(job, "container");
      add(isMap(container) ? get(container, "image") : container, "workflow-container", "image");
      for (const service of mapValues(get(job, "services")))
        add(get(service, "image"), "workflow-service", "image");
      for (const step of seqItems(get(job, "steps"))) add(get(step, "uses"), "workflow-uses", "uses");
    }
    const runs = get(root, "runs");
    add(get(runs, "image"), "action-image", "image");
    for (const step of seqItems(get(runs, "steps"))) add(get(step, "uses"), "action-uses", "uses");
    for (const service of mapValues(get(root, "services")))
      add(get(service, "image"), "compose-image", "image");
  }
  refs.sort((a, b) => a.span.start - b.span.start);
  return { refs, problems };
}
