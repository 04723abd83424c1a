import { extractDockerfile } from "./dockerfile";
import type { Extraction } from "./types";
import { extractYaml } from "./yaml-refs";

export type FileFormat = "dockerfile" | "yaml";

/** Which extractor reads a file, from its name: Containerfile/Dockerfile variants, or YAML. */
export function formatOf(file: string): FileFormat | undefined {
  const base = file.slice(file.lastIndexOf("/") + 1);
  if (/^(Containerfile|Dockerfile)(\..*)?$/i.test(base) || /\.(containerfile|dockerfile)$/i.test(base)) {
    return "dockerfile";
  }
  if (/\.ya?ml$/i.test(base)) return "yaml";
  return undefined;
}

/** Finds every reference in one file's text. */
export function extract(file: string, text: string): Extraction {
  const format = formatOf(file);
  if (format === "dockerfile") return extractDockerfile(file, text);
  if (format === "yaml") return extractYaml(file, text);
  return {
    refs: [],
    problems: [
      {
        file,
        message:
          "not a file pin-digest reads; expected Containerfile*, Dockerfile*, *.Dockerfile or *.yml/*.yaml",
      },
    ],
  };
}
