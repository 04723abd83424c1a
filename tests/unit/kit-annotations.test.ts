import { describe, expect, test } from "vitest";
import {
  annotationProperties,
  emitAnnotations,
  formatAnnotation,
  recordingLogger,
  type Annotation,
  type AnnotationProperties,
  type Logger,
} from "@frostyard/kit";

describe("annotationProperties", () => {
  test.each<[Annotation, AnnotationProperties]>([
    [{ level: "error", message: "m" }, {}],
    [
      { level: "warning", message: "m", file: "mkosi.conf", line: 3, endLine: 5, col: 2, title: "lint" },
      { file: "mkosi.conf", startLine: 3, endLine: 5, startColumn: 2, title: "lint" },
    ],
    [{ level: "notice", message: "m", file: "a", line: 0, col: -1, endLine: 1.5 }, { file: "a" }],
  ])("%j", (annotation, expected) => {
    expect(annotationProperties(annotation)).toEqual(expected);
  });
});

describe("formatAnnotation", () => {
  test.each<[Annotation, string]>([
    [{ level: "error", message: "boom" }, "error: boom"],
    [{ level: "warning", message: "m", file: "f", line: 2, col: 4, title: "t" }, "warning: f:2:4: t: m"],
    [{ level: "notice", message: "m", file: "f", col: 4 }, "notice: f: m"],
  ])("%j → %s", (annotation, expected) => {
    expect(formatAnnotation(annotation)).toBe(expected);
  });
});

describe("emitAnnotations", () => {
  function recorder() {
    const calls: [string, string, AnnotationProperties | undefined][] = [];
    const logger: Logger = {
      ...recordingLogger(),
      info: (m) => calls.push(["info", m, undefined]),
      error: (m, p) => calls.push(["error", m, p]),
      warning: (m, p) => calls.push(["warning", m, p]),
      notice: (m, p) => calls.push(["notice", m, p]),
    };
    return { logger, calls };
  }

  test("each level goes to its logger method with its position", () => {
    const { logger, calls } = recorder();
    const counts = emitAnnotations(logger, [
      { level: "error", message: "no /usr", file: "img", line: 1 },
      { level: "warning", message: "world-writable", title: "bootc lint" },
      { level: "notice", message: "3 layers" },
    ]);
    expect(calls).toEqual([
      ["error", "no /usr", { file: "img", startLine: 1 }],
      ["warning", "world-writable", { title: "bootc lint" }],
      ["notice", "3 layers", {}],
    ]);
    expect(counts).toEqual({ error: 1, warning: 1, notice: 1 });
  });

  test("beyond the per-level limit, annotations become log lines and a note says how many", () => {
    const { logger, calls } = recorder();
    const list: Annotation[] = [1, 2, 3].map((n) => ({
      level: "warning",
      message: `w${n}`,
      file: "f",
      line: n,
    }));
    const counts = emitAnnotations(logger, [...list, { level: "error", message: "e1" }], { maxPerLevel: 2 });
    expect(calls).toEqual([
      ["warning", "w1", { file: "f", startLine: 1 }],
      ["warning", "w2", { file: "f", startLine: 2 }],
      ["info", "warning: f:3: w3", undefined],
      ["error", "e1", {}],
      ["info", "1 more warning(s) are in the log above but not annotated (limit 2 per step)", undefined],
    ]);
    expect(counts).toEqual({ error: 1, warning: 3, notice: 0 });
  });

  test("a logger without notice gets the notice as an info line", () => {
    const base = recordingLogger();
    const logger: Logger = { ...base, notice: undefined };
    emitAnnotations(logger, [{ level: "notice", message: "fyi", file: "a.conf", line: 9 }]);
    expect(base.lines).toEqual(["notice: a.conf:9: fyi"]);
  });
});
