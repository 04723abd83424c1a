import * as core from "@actions/core";
import type { AnnotationProperties, Logger } from "@frostyard/kit";

function annotation(properties: AnnotationProperties | undefined): core.AnnotationProperties {
  if (!properties) return {};
  const { title, file, startLine, endLine, startColumn, endColumn } = properties;
  return { title, file, startLine, endLine, startColumn, endColumn };
}

/** The kit Logger on the runner: annotations with file/line/column, collapsible groups, masked secrets. */
export const coreLogger: Logger = {
  debug: (message) => core.debug(message),
  info: (message) => core.info(message),
  warning: (message, properties) => core.warning(message, annotation(properties)),
  error: (message, properties) => core.error(message, annotation(properties)),
  notice: (message, properties) => core.notice(message, annotation(properties)),
  group: (name, fn) => core.group(name, fn),
  setSecret: (value) => {
    // An empty mask would be meaningless to the runner; short values are still masked (the runner decides).
    if (value !== "") core.setSecret(value);
  },
};
