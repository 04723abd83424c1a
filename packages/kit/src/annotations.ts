import type { AnnotationProperties, Logger } from "./log";

export type AnnotationLevel = "error" | "warning" | "notice";

export interface Annotation {
  level: AnnotationLevel;
  message: string;
  file?: string;
  line?: number;
  endLine?: number;
  col?: number;
  title?: string;
}

export interface EmitOptions {
  /**
   * Annotations shown per level; default 10, as GitHub shows no more than 10 of each level per step. The rest
   * still reach the log as plain lines, so nothing is lost silently.
   */
  maxPerLevel?: number;
}

export type AnnotationCounts = Record<AnnotationLevel, number>;

/** The runner's annotation properties for one finding; positions that are not positive integers are left out. */
export function annotationProperties(annotation: Annotation): AnnotationProperties {
  const properties: AnnotationProperties = {};
  if (annotation.title) properties.title = annotation.title;
  if (annotation.file) properties.file = annotation.file;
  if (isPosition(annotation.line)) properties.startLine = annotation.line;
  if (isPosition(annotation.endLine)) properties.endLine = annotation.endLine;
  if (isPosition(annotation.col)) properties.startColumn = annotation.col;
  return properties;
}

function isPosition(n: number | undefined): n is number {
  return n !== undefined && Number.isInteger(n) && n > 0;
}

/** "level: file:line:col: title: message" for the log, when an annotation cannot be shown as one. */
export function formatAnnotation(annotation: Annotation): string {
  const where = annotation.file
    ? `${annotation.file}${isPosition(annotation.line) ? `:${annotation.line}` : ""}${isPosition(annotation.line) && isPosition(annotation.col) ? `:${annotation.col}` : ""}: `
    : "";
  const title = annotation.title ? `${annotation.title}: ` : "";
  return `${annotation.level}: ${where}${title}${annotation.message}`;
}

/** Emits each annotation through the logger, at most `maxPerLevel` per level; returns how many of each there were. */
export function emitAnnotations(
  logger: Logger,
  list: readonly Annotation[],
  options: EmitOptions = {},
): AnnotationCounts {
  const max = options.maxPerLevel ?? 10;
  const counts: AnnotationCounts = { error: 0, warning: 0, notice: 0 };
  for (const annotation of list) {
    counts[annotation.level]++;
    if (counts[annotation.level] > max) {
      logger.info(formatAnnotation(annotation));
      continue;
    }
    const properties = annotationProperties(annotation);
    switch (annotation.level) {
      case "error":
        logger.error(annotation.message, properties);
        break;
      case "warning":
        logger.warning(annotation.message, properties);
        break;
      case "notice":
        if (logger.notice) logger.notice(annotation.message, properties);
        else logger.info(formatAnnotation(annotation));
        break;
    }
  }
  for (const level of ["error", "warning", "notice"] as const) {
    if (counts[level] > max) {
      logger.info(
        `${counts[level] - max} more ${level}(s) are in the log above but not annotated (limit ${max} per step)`,
      );
    }
  }
  return counts;
}
