import { join } from "node:path";
import type { MkosiImage } from "./mkosi-summary";

/**
 * Whether one of the project's config files assigns `CacheDirectory=` (a non-empty value). `--cache-directory`
 * on the command line would override it, so the action then leaves the choice to the project.
 */
export function projectSetsCacheDirectory(configContents: readonly string[]): boolean {
  return configContents.some((text) => /^[ \t]*CacheDirectory[ \t]*=[ \t]*\S/m.test(text));
}

/**
 * `--manifest-format=json` when the project asks for no manifest at all, so the `mkosi-manifest` output
 * names a file by default; a project that set ManifestFormat= keeps its choice.
 */
export function manifestFormatToAdd(main: MkosiImage): "json" | undefined {
  return (main.manifestFormats ?? []).length === 0 ? "json" : undefined;
}

/** The images as the build with `--manifest-format=json` writes them: each gets its `.manifest` path. */
export function withJsonManifest(images: readonly MkosiImage[]): MkosiImage[] {
  return images.map((image) => ({
    ...image,
    manifestFormats: ["json"],
    manifestPath: join(image.outputDirectory, `${image.output}.manifest`),
  }));
}

export interface SourceDateEpochInput {
  /** From the source-date-epoch input, already validated. */
  given?: number;
  /** SOURCE_DATE_EPOCH of the environment, as found. */
  fromEnvironment?: string;
  /** `git log -1 --format=%ct` of the project, as printed. */
  commitTime?: string;
  now: Date;
}

export interface SourceDateEpoch {
  epoch: number;
  source: "input" | "environment" | "commit" | "now";
  /** What the log must say: an invalid environment value, an unreproducible fallback. */
  warnings: string[];
}

const EPOCH = /^\d{1,12}$/;

/** SOURCE_DATE_EPOCH: the input, the environment's, the project's last commit time, else now (warned). */
export function resolveSourceDateEpoch(input: SourceDateEpochInput): SourceDateEpoch {
  if (input.given !== undefined) return { epoch: input.given, source: "input", warnings: [] };
  const warnings: string[] = [];
  const fromEnv = input.fromEnvironment?.trim();
  if (fromEnv) {
    if (EPOCH.test(fromEnv)) return { epoch: Number(fromEnv), source: "environment", warnings };
    warnings.push(
      `SOURCE_DATE_EPOCH=${JSON.stringify(fromEnv.slice(0, 40))} in the environment is not seconds since 1970-01-01 UTC; ignoring it`,
    );
  }
  if (input.commitTime && EPOCH.test(input.commitTime.trim()))
    return { epoch: Number(input.commitTime.trim()), source: "commit", warnings };
  const epoch = Math.floor(input.now.getTime() / 1000);
  warnings.push(
    `no source-date-epoch, SOURCE_DATE_EPOCH or git commit time for the project: using now (${epoch}), so the image will not be reproducible`,
  );
  return { epoch, source: "now", warnings };
}
