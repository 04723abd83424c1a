import { createHash } from "node:crypto";
import { createReadStream, existsSync } from "node:fs";
import { copyFile, mkdir, readFile, rm, stat, symlink, writeFile } from "node:fs/promises";
import { dirname, join } from "node:path";
import { execStreaming, type Logger } from "@frostyard/kit";
import type { MkosiImage } from "@frostyard/mkosi";
import { loadOsRelease } from "@frostyard/lint-bootc";
import { checkSysext, parseRequiredPaths, SysextCheckError, type SysextFinding } from "./checks";
import {
  KeyPackageError,
  keyPackageOf,
  keyPackageVersion,
  parseManifest,
  type ManifestPackage,
} from "./manifest";
import { stableFileName, sysextFileName, systemdArchitecture, versionField } from "./naming";
import { readSysextImage, type DissectCommand } from "./read-image";
import { renderSha256Sums } from "./sums";
import { componentDirectory, renderFeature, renderTransfer } from "./sysupdate";

export const COMPRESSIONS = ["none", "zstd", "xz"] as const;
export type Compression = (typeof COMPRESSIONS)[number];
const SUFFIX: Record<Exclude<Compression, "none">, string> = { zstd: ".zst", xz: ".xz" };

export interface SysupdateSettings {
  baseUrl: string;
  targetPath: string;
  symlinkDirectory: string;
  instancesMax: number;
  /** Features start enabled (true) or wait for `updatectl enable` / a drop-in (false). */
  featuresEnabled: boolean;
}

export interface PublishSetOptions {
  sysexts: readonly MkosiImage[];
  base: MkosiImage;
  imageVersion: string;
  /** The key-package input (wins over KEYPACKAGE= in an image's environment). */
  keyPackage?: string;
  revision?: string;
  /** The required-paths input; empty: each image's required-paths.txt beside its config, if any. */
  requiredPaths: readonly string[];
  destination: string;
  compression: Compression;
  sysupdate?: SysupdateSettings;
  dissect?: DissectCommand;
  /** Signs SHA256SUMS (writes SHA256SUMS.gpg); the transfer files then say Verify=yes. */
  sign?: (file: string) => Promise<string>;
  logger: Logger;
  /** Where the checks may unpack an image; inside a directory systemd-dissect can write to. */
  scratch?: string;
}

export interface Sysext {
  name: string;
  version: string;
  keyPackage?: string;
  file: string;
  sha256: string;
  size: number;
  /** Compressed copy (file name), when compression was asked. */
  compressed?: string;
  packagesAdded: ManifestPackage[];
}

export interface PublishedSet {
  sysexts: Sysext[];
  destination: string;
  sha256sums: string;
  /** SHA256SUMS.gpg, when signed. */
  signature?: string;
  transferDirectory?: string;
  osVersion: string;
  architecture: string;
  /** Time spent reading and checking each extension's image, ms. */
  checkMs: Record<string, number>;
}

export async function sha256File(path: string): Promise<string> {
  const hash = createHash("sha256");
  for await (const chunk of createReadStream(path)) hash.update(chunk as Buffer);
  return hash.digest("hex");
}

/** The built `.raw` of a sysext image: mkosi writes `<Output>.raw` and a symlink `<Output>` to it. */
export function rawPath(image: MkosiImage): string {
  const raw = join(image.outputDirectory, `${image.output}.raw`);
  return existsSync(raw) ? raw : image.outputPath;
}

/** Required paths of one image: the input's, or `required-paths.txt` beside the image's own config. */
async function requiredPathsOf(image: MkosiImage, fromInput: readonly string[]): Promise<string[]> {
  if (fromInput.length > 0) return [...fromInput];
  for (const file of image.files) {
    const candidate = join(dirname(file), "required-paths.txt");
    if (existsSync(candidate)) return parseRequiredPaths(await readFile(candidate, "utf8"));
  }
  return [];
}

interface Planned {
  image: MkosiImage;
  raw: string;
  name: string;
  version: string;
  keyPackage?: string;
  file: string;
  packagesAdded: ManifestPackage[];
}

/**
 * The built extensions → a set systemd-sysupdate can fetch: every image read back and checked first (one
 * failing extension fails them all, before anything is written), then named copies, stable symlinks,
 * optional compressed copies, `SHA256SUMS` and the sysupdate transfer and feature files.
 */
export async function publishSet(options: PublishSetOptions): Promise<PublishedSet> {
  const { logger } = options;
  const osRelease = await loadOsRelease(options.base.outputPath, "base");
  const osVersion = osRelease.VERSION_ID ?? options.base.release;
  const architecture = systemdArchitecture(options.base.architecture);

  const planned: Planned[] = [];
  for (const image of options.sysexts) {
    // mkosi writes no manifest for an image that installs no package.
    const manifest = image.manifestPath && existsSync(image.manifestPath) ? image.manifestPath : undefined;
    const packagesAdded = manifest ? parseManifest(await readFile(manifest, "utf8"), manifest) : [];
    const keyPackage = keyPackageOf(options.keyPackage, image.environment ?? {});
    let version = options.imageVersion;
    if (keyPackage) {
      if (!manifest)
        throw new KeyPackageError(
          keyPackage,
          `cannot be looked up: ${image.name} has no JSON manifest (set ManifestFormat=json in its mkosi.conf; mkosi writes none for an image that installs no package)`,
        );
      version = keyPackageVersion(packagesAdded, keyPackage, `${image.name}'s manifest`);
    }
    const file = sysextFileName({
      name: image.output,
      version,
      osVersion,
      architecture,
      ...(options.revision ? { revision: options.revision } : {}),
    });
    planned.push({
      image,
      raw: rawPath(image),
      name: image.output,
      version: versionField(version, options.revision),
      ...(keyPackage ? { keyPackage } : {}),
      file,
      packagesAdded,
    });
  }

  const failures: { name: string; file: string; findings: SysextFinding[] }[] = [];
  const checkMs: Record<string, number> = {};
  for (const p of planned) {
    const started = performance.now();
    const contents = await readSysextImage(p.raw, p.name, {
      logger,
      ...(options.dissect ? { dissect: options.dissect } : {}),
      ...(options.scratch ? { scratch: options.scratch } : {}),
    });
    const findings = checkSysext(contents.entries, contents.files, {
      name: p.name,
      base: osRelease,
      architecture,
      requiredPaths: await requiredPathsOf(p.image, options.requiredPaths),
    });
    checkMs[p.name] = Math.round(performance.now() - started);
    if (findings.length > 0) failures.push({ name: p.name, file: p.raw, findings });
    else logger.info(`${p.name}: ${contents.entries.length} entries checked, no findings`);
  }
  if (failures.length > 0) throw new SysextCheckError(failures);

  await mkdir(options.destination, { recursive: true });
  const sysexts: Sysext[] = [];
  const sums: { file: string; sha256: string }[] = [];
  for (const p of planned) {
    const target = join(options.destination, p.file);
    await copyFile(p.raw, target);
    const stable = join(options.destination, stableFileName(p.name));
    await rm(stable, { force: true });
    await symlink(p.file, stable);
    const sha256 = await sha256File(target);
    sums.push({ file: p.file, sha256 });
    const sysext: Sysext = {
      name: p.name,
      version: p.version,
      ...(p.keyPackage ? { keyPackage: p.keyPackage } : {}),
      file: p.file,
      sha256,
      size: (await stat(target)).size,
      packagesAdded: p.packagesAdded,
    };
    if (options.compression !== "none") {
      const compressed = `${p.file}${SUFFIX[options.compression]}`;
      const args =
        options.compression === "zstd"
          ? ["-q", "-f", "-19", "-T0", "-k", target, "-o", join(options.destination, compressed)]
          : ["-f", "-k", "-T0", target];
      await execStreaming(options.compression, args, { logger });
      sums.push({ file: compressed, sha256: await sha256File(join(options.destination, compressed)) });
      sysext.compressed = compressed;
    }
    sysexts.push(sysext);
  }
  const sha256sums = join(options.destination, "SHA256SUMS");
  await writeFile(sha256sums, renderSha256Sums(sums));
  const signature = options.sign ? await options.sign(sha256sums) : undefined;

  let transferDirectory: string | undefined;
  if (options.sysupdate) {
    const s = options.sysupdate;
    transferDirectory = join(options.destination, "sysupdate-definitions");
    await mkdir(transferDirectory, { recursive: true });
    for (const p of planned) {
      // One systemd-sysupdate component per extension (sysupdate.<name>.d, `--component=<name>`): the
      // transfers of one component must share their versions, and each extension has its own.
      const component = join(transferDirectory, componentDirectory(p.name));
      await mkdir(component, { recursive: true });
      await writeFile(
        join(component, `${p.name}.transfer`),
        renderTransfer({
          name: p.name,
          osVersion,
          architecture,
          baseUrl: s.baseUrl,
          targetPath: s.targetPath,
          symlinkDirectory: s.symlinkDirectory,
          instancesMax: s.instancesMax,
          feature: p.name,
          verify: signature !== undefined,
        }),
      );
      await writeFile(
        join(component, `${p.name}.feature`),
        renderFeature({
          name: p.name,
          description: `System extension ${p.name}${p.keyPackage ? ` (${p.keyPackage})` : ""}`,
          enabled: s.featuresEnabled,
        }),
      );
    }
  }
  return {
    sysexts,
    destination: options.destination,
    sha256sums,
    ...(signature ? { signature } : {}),
    ...(transferDirectory ? { transferDirectory } : {}),
    osVersion,
    architecture,
    checkMs,
  };
}
