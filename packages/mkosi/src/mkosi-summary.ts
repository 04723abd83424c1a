import { isAbsolute, join } from "node:path";
import { MINIMUM_MKOSI_VERSION } from "./version";

/** One image of `mkosi --json summary`, reduced to what the action uses. */
export interface MkosiImage {
  /** "main" for the top-level image, the directory name for `mkosi.images/<name>`. */
  name: string;
  format: string;
  /** Output name without extension, e.g. "fixture_1.0". */
  output: string;
  /** Absolute directory the outputs land in. */
  outputDirectory: string;
  /** The artefact: `<OutputDirectory>/<Output>` plus `.<OutputExtension>` when there is one. */
  outputPath: string;
  /** `<Output>.manifest` when `ManifestFormat` includes json, else undefined. */
  manifestPath?: string;
  /** ManifestFormat= as mkosi resolved it (empty: the project asks for no manifest). */
  manifestFormats?: string[];
  imageId?: string;
  imageVersion?: string;
  distribution: string;
  release: string;
  architecture: string;
  cacheDirectory?: string;
  incremental: string;
  /** Config files mkosi read for this image. */
  files: string[];
  /** Scripts from the *Scripts= settings. */
  scripts: string[];
  profiles: string[];
  /** Environment= as mkosi resolved it for this image (e.g. a sysext's KEYPACKAGE=). */
  environment?: Record<string, string>;
}

const SCRIPT_KEYS = [
  "ConfigureScripts",
  "SyncScripts",
  "PrepareScripts",
  "BuildScripts",
  "PostInstallationScripts",
  "FinalizeScripts",
  "PostOutputScripts",
  "CleanScripts",
] as const;

const tooOld = (detail: string) =>
  new Error(
    `mkosi --json summary ${detail}: this shape comes from an mkosi older than ${MINIMUM_MKOSI_VERSION.major}, ` +
      `which build-mkosi does not support; use mkosi ${MINIMUM_MKOSI_VERSION.major} or newer`,
  );

function str(image: Record<string, unknown>, key: string, index: number): string {
  const value = image[key];
  if (typeof value !== "string") throw tooOld(`gave image ${index} no string '${key}'`);
  return value;
}

function optionalStr(image: Record<string, unknown>, key: string): string | undefined {
  const value = image[key];
  return typeof value === "string" && value !== "" ? value : undefined;
}

function stringList(value: unknown): string[] {
  if (!Array.isArray(value)) return [];
  return value.filter((v): v is string => typeof v === "string");
}

function stringRecord(value: unknown): Record<string, string> {
  if (typeof value !== "object" || value === null || Array.isArray(value)) return {};
  return Object.fromEntries(
    Object.entries(value).filter((entry): entry is [string, string] => typeof entry[1] === "string"),
  );
}

/**
 * Parses `mkosi --json summary`. Images come back in mkosi's order: subimages in dependency order, the
 * main image last. A relative or missing OutputDirectory resolves against the project directory, where
 * mkosi writes by default.
 */
export function parseSummary(json: string, projectDirectory: string): MkosiImage[] {
  let parsed: unknown;
  try {
    parsed = JSON.parse(json);
  } catch (error) {
    throw new Error(
      `mkosi --json summary did not print JSON (${(error as Error).message}); first bytes: ${JSON.stringify(json.slice(0, 80))}`,
    );
  }
  if (
    typeof parsed !== "object" ||
    parsed === null ||
    !Array.isArray((parsed as { Images?: unknown }).Images)
  ) {
    throw tooOld("printed no top-level 'Images' list");
  }
  const images = (parsed as { Images: unknown[] }).Images;
  if (images.length === 0)
    throw new Error("mkosi --json summary lists no images: the project configures nothing to build");
  return images.map((raw, index) => {
    if (typeof raw !== "object" || raw === null) throw tooOld(`gave image ${index} as a non-object`);
    const image = raw as Record<string, unknown>;
    const output = str(image, "Output", index);
    const format = str(image, "Format", index);
    const configured = optionalStr(image, "OutputDirectory");
    const outputDirectory = configured
      ? isAbsolute(configured)
        ? configured
        : join(projectDirectory, configured)
      : projectDirectory;
    const extension = optionalStr(image, "OutputExtension");
    const manifestFormats = stringList(image.ManifestFormat);
    const scripts = SCRIPT_KEYS.flatMap((key) => stringList(image[key]));
    const result: MkosiImage = {
      name: optionalStr(image, "Image") ?? "main",
      format,
      output,
      outputDirectory,
      outputPath: join(outputDirectory, extension ? `${output}.${extension}` : output),
      distribution: str(image, "Distribution", index),
      release: str(image, "Release", index),
      architecture: str(image, "Architecture", index),
      incremental: String(image.Incremental ?? "no"),
      files: stringList(image.Files),
      scripts,
      profiles: stringList(image.Profiles),
      environment: stringRecord(image.Environment),
      manifestFormats,
    };
    if (manifestFormats.includes("json")) result.manifestPath = join(outputDirectory, `${output}.manifest`);
    const imageId = optionalStr(image, "ImageId");
    if (imageId) result.imageId = imageId;
    const imageVersion = optionalStr(image, "ImageVersion");
    if (imageVersion) result.imageVersion = imageVersion;
    const cacheDirectory = optionalStr(image, "CacheDirectory");
    if (cacheDirectory)
      result.cacheDirectory = isAbsolute(cacheDirectory)
        ? cacheDirectory
        : join(projectDirectory, cacheDirectory);
    return result;
  });
}

/** The image the project is about: mkosi lists it last. */
export function mainImage(images: readonly MkosiImage[]): MkosiImage {
  const main = images.at(-1);
  if (!main) throw new Error("mkosi --json summary lists no images");
  return main;
}

/** Formats whose output is a root filesystem tree the action can package as an OCI image. */
export function isDirectoryFormat(format: string): boolean {
  return format === "directory";
}
