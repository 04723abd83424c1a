import { readFile } from "node:fs/promises";
import { InputError } from "@frostyard/kit";
import {
  PREDICATE_TYPES,
  predicateSpec,
  PredicateError,
  renderPredicate,
  type AttestationInput,
  type PredicateSpec,
} from "@frostyard/cosign";

/** One `attest` entry: what to attest and from which file. */
export interface AttestPair {
  type: string;
  path: string;
  spec: PredicateSpec;
}

const ACCEPTED = `type=path pairs, type one of ${Object.keys(PREDICATE_TYPES).join(", ")} or a predicate type URI (e.g. cyclonedx=sbom.cdx.json)`;

/**
 * `attest` entries as `type=path` (split at the first `=`, so a path may hold one). The type is checked
 * here, the file when the run starts ({@link loadAttestations}).
 */
export function parseAttestPairs(entries: readonly string[], input = "attest"): AttestPair[] {
  return entries.map((entry) => {
    const at = entry.indexOf("=");
    if (at < 0) throw new InputError(input, `'${entry}' is not a type=path pair`, ACCEPTED);
    const type = entry.slice(0, at).trim();
    const path = entry.slice(at + 1).trim();
    const spec = predicateSpec(type);
    if (!spec) throw new InputError(input, `'${entry}': the type '${type}' is unknown`, ACCEPTED);
    if (path === "") throw new InputError(input, `'${entry}' names no file`, ACCEPTED);
    return { type, path, spec };
  });
}

/**
 * Reads every predicate file before anything is signed, so a missing or malformed one fails the step
 * with nothing pushed. JSON types are rendered once here to find what cosign would refuse.
 */
export async function loadAttestations(
  pairs: readonly AttestPair[],
  input = "attest",
): Promise<AttestationInput[]> {
  return Promise.all(
    pairs.map(async ({ type, path, spec }) => {
      let file: Buffer;
      try {
        file = await readFile(path);
      } catch (error) {
        const code = (error as NodeJS.ErrnoException).code;
        throw new InputError(
          input,
          `${type}=${path}: the file cannot be read (${code ?? (error as Error).message})`,
          "a path, relative to the working directory, of a file the job wrote (e.g. trivy-scan's sbom output)",
        );
      }
      try {
        renderPredicate(spec, file, new Date(0));
      } catch (error) {
        if (!(error instanceof PredicateError)) throw error;
        throw new InputError(
          input,
          `${type}=${path} ${error.message}`,
          `a JSON document for the type ${type}`,
        );
      }
      return { spec, path, file };
    }),
  );
}
