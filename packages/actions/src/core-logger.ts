import * as core from "@actions/core";
import type { AnnotationProperties, Logger } from "@frostyard/kit";

function annotation(properties: AnnotationProperties | undefined): core.AnnotationProperties {
  if (!properties) return {};
  const { title, file, startLine, endLine } = properties;
  return { title, file, startLine, endLine };
}

/** The kit Logger on the runner: annotations with file/line, collapsible groups, masked secrets. */
export const coreLogger: Logger = {
  debug: (message) => core.debug(message),
  info: (message) => core.info(message),
  warning: (message, properties) => core.warning(message, annotation(properties)),
  error: (message, properties) => core.error(message, annotation(properties)),
  group: (name, fn) => core.group(name, fn),
  setSecret: (value) => {
    // An empty mask would be meaningless to the runner; short values are still masked (the runner decides).
    if (value !== "") core.setSecret(value);
  },
};
