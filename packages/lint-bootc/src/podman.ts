import { randomBytes } from "node:crypto";
import { mkdir, readFile, rm, stat, symlink } from "node:fs/promises";
import { join, resolve } from "node:path";
import { execStreaming, InputError, type Logger } from "@frostyard/kit";
import {
  bootcFeatures,
  lintInvocation,
  podmanBootcArgs,
  type BootcFeatures,
  type LintRequest,
} from "./bootc-argv";
import { describeSource, pullReference, type ImageSource } from "./image-source";
import { parseLintOutput, type ParsedLintOutput } from "./parse-output";

export interface PodmanOptions {
  logger: Logger;
  /** Laid over our environment for podman (CONTAINERS_CONF, REGISTRY_AUTH_FILE, …). */
  env?: Record<string, string>;
  /** The podman binary; default "podman". */
  podman?: string;
}

function podman(options: PodmanOptions, args: string[], extra: { capture?: boolean; quiet?: boolean } = {}) {
  return execStreaming(options.podman ?? "podman", args, {
    logger: options.logger,
    env: options.env,
    extendEnv: true,
    ignoreReturnCode: true,
    captureStdout: extra.capture,
    ...(extra.quiet ? { onStderrLine: (line: string) => options.logger.debug(line) } : {}),
  });
}

/** Checks that `path` is an OCI image layout we can read, before podman gives a vaguer error. */
export async function checkLayout(path: string, input = "image"): Promise<void> {
  const accepted =
    "a readable OCI image layout directory (oci-layout and index.json), e.g. build-mkosi's oci-layout output";
  try {
    const info = await stat(path);
    if (!info.isDirectory()) throw new Error("not a directory");
    JSON.parse(await readFile(join(path, "oci-layout"), "utf8"));
    const index = JSON.parse(await readFile(join(path, "index.json"), "utf8")) as { manifests?: unknown };
    if (!Array.isArray(index.manifests)) throw new Error("index.json has no manifests list");
  } catch (error) {
    throw new InputError(
      input,
      `OCI layout '${path}' cannot be read (${(error as Error).message})`,
      accepted,
    );
  }
}

/**
 * Whether a bare name may be taken from podman's storage without asking its registry: a local build's
 * name (no registry host, or podman's own localhost/) or a reference pinned by digest (immutable). A
 * tag on a registry can have moved since it was last pulled, so that is always pulled (podman fetches
 * only the layers it lacks).
 */
export function usesLocalCopy(ref: string): boolean {
  if (/@sha256:[0-9a-f]{64}$/.test(ref)) return true;
  const first = ref.split("/")[0] ?? "";
  // podman names its own builds localhost/<name>; localhost:<port> is a registry.
  const hasRegistryHost = ref.includes("/") && (first.includes(".") || first.includes(":"));
  return !hasRegistryHost;
}

/**
 * Makes the image available in podman's storage and returns what `podman run` should be given: the
 * name for a local image, the image ID for one pulled from a registry or imported from an OCI layout.
 */
export async function prepareImage(
  source: ImageSource,
  options: PodmanOptions,
  input = "image",
): Promise<string> {
  const { logger } = options;
  if (source.kind === "oci-layout") await checkLayout(source.path, input);
  const local =
    source.kind === "containers-storage"
      ? source.name
      : source.kind === "name" && usesLocalCopy(source.ref)
        ? source.ref
        : undefined;
  if (local !== undefined) {
    const exists = await podman(options, ["image", "exists", local], { quiet: true });
    if (exists.exitCode === 0) {
      logger.info(`using ${describeSource(source)} from podman's storage`);
      return local;
    }
    if (source.kind === "containers-storage") {
      throw new InputError(
        input,
        `'${source.name}' is not in podman's local storage`,
        "the name of an image podman has (see `podman images`)",
      );
    }
  }
  const { reference, cleanup } = await pullableReference(source);
  let pulled;
  try {
    pulled = await podman(options, ["pull", "--quiet", reference], { capture: true });
  } finally {
    await cleanup();
  }
  const id = pulled.stdout.trim().split("\n").pop()?.trim() ?? "";
  if (pulled.exitCode !== 0 || !/^[0-9a-f]{12,64}$/.test(id)) {
    const why =
      pulled.stderrTail
        .filter((l) => l.trim())
        .slice(-3)
        .join(" ") || `podman pull exited with code ${pulled.exitCode}`;
    throw new InputError(
      input,
      `${describeSource(source)} could not be made available to podman: ${why}`,
      "an image that exists: a registry reference podman can pull (log in first for private ones), an OCI layout path or a local image name",
    );
  }
  logger.info(`${describeSource(source)} is image ${id.slice(0, 12)}`);
  return id;
}

/**
 * What to hand `podman pull`. podman (4.x) names an image pulled from an OCI layout after the layout's
 * path and refuses paths that are not valid repository names (upper case, for one), so such a layout is
 * reached through a symlink with a plain lower-case name, removed once pulled.
 */
async function pullableReference(
  source: ImageSource,
): Promise<{ reference: string; cleanup: () => Promise<void> }> {
  if (source.kind !== "oci-layout") return { reference: pullReference(source), cleanup: async () => {} };
  const path = resolve(source.path);
  if (/^[a-z0-9/._-]+$/.test(path) && !/\/[._-]|[._-]\/|\/\//.test(path)) {
    return { reference: pullReference({ ...source, path }), cleanup: async () => {} };
  }
  const link = `/tmp/frostyard-lint-oci-${process.pid}-${randomBytes(4).toString("hex")}`;
  await symlink(path, link);
  return { reference: pullReference({ ...source, path: link }), cleanup: () => rm(link, { force: true }) };
}

export type BootcProbe =
  { present: false; reason: string } | { present: true; version: string; features: BootcFeatures };

/** Asks the image for `bootc --version` and `bootc container lint --help`. */
export async function probeBootc(image: string, options: PodmanOptions): Promise<BootcProbe> {
  const stderr: string[] = [];
  const version = await execStreaming(options.podman ?? "podman", podmanBootcArgs(image, ["--version"]), {
    logger: options.logger,
    env: options.env,
    extendEnv: true,
    ignoreReturnCode: true,
    captureStdout: true,
    onStderrLine: (line) => stderr.push(line),
  });
  // 126/127: the runtime could not find or execute the entrypoint, i.e. the image has no bootc.
  if (
    version.exitCode === 126 ||
    version.exitCode === 127 ||
    /executable file .?bootc.? not found/i.test(stderr.join("\n"))
  ) {
    return {
      present: false,
      reason: stderr.filter((l) => l.trim()).slice(-1)[0] ?? `exit code ${version.exitCode}`,
    };
  }
  if (version.exitCode !== 0) {
    return {
      present: false,
      reason: `bootc --version exited with code ${version.exitCode}: ${stderr.slice(-3).join(" ")}`,
    };
  }
  const help = await podman(options, podmanBootcArgs(image, ["container", "lint", "--help"]), {
    capture: true,
    quiet: true,
  });
  return {
    present: true,
    version: version.stdout.trim(),
    features: bootcFeatures(version.stdout, help.exitCode === 0 ? help.stdout : ""),
  };
}

export interface BootcLintRun {
  argv: string[];
  dropped: string[];
  exitCode: number;
  /** stdout and stderr lines in the order they arrived. */
  output: string;
  parsed: ParsedLintOutput;
}

/** Runs `bootc container lint` inside the image with the flags its bootc supports, and parses what it says. */
export async function runBootcLint(
  request: LintRequest,
  features: BootcFeatures,
  options: PodmanOptions,
): Promise<BootcLintRun> {
  const { args, dropped } = lintInvocation(request, features);
  for (const flag of dropped) options.logger.warning(`the bootc in the image does not support ${flag}`);
  const lines: string[] = [];
  const keep = (line: string) => {
    lines.push(line);
    options.logger.info(line);
  };
  const result = await execStreaming(options.podman ?? "podman", args, {
    logger: options.logger,
    env: options.env,
    extendEnv: true,
    ignoreReturnCode: true,
    onStdoutLine: keep,
    onStderrLine: keep,
  });
  const output = lines.join("\n");
  return {
    argv: ["podman", ...args],
    dropped,
    exitCode: result.exitCode,
    output,
    parsed: parseLintOutput(output, result.exitCode),
  };
}

/**
 * Unpacks the image's filesystem into `dir` (podman create + export + GNU tar), for native checks when
 * the image has no bootc or only a reference was given.
 */
export async function exportRootfs(image: string, dir: string, options: PodmanOptions): Promise<void> {
  await mkdir(dir, { recursive: true });
  // create never runs the entrypoint, so any path will do; it only must not need a Cmd from the image.
  const created = await podman(
    options,
    ["create", "--pull=never", "--entrypoint", "/frostyard-unused", image],
    { capture: true },
  );
  const id = created.stdout.trim();
  if (created.exitCode !== 0 || !id)
    throw new Error(`podman create ${image} failed: ${created.stderrTail.join(" ")}`);
  const tarball = `${dir}.tar`;
  try {
    const exported = await podman(options, ["export", "--output", tarball, id]);
    if (exported.exitCode !== 0)
      throw new Error(`podman export ${image} failed: ${exported.stderrTail.join(" ")}`);
    await execStreaming(
      "tar",
      ["--extract", "--file", tarball, "--directory", dir, "--numeric-owner", "--preserve-permissions"],
      {
        logger: options.logger,
      },
    );
  } finally {
    await podman(options, ["rm", "--force", id], { capture: true, quiet: true });
    await rm(tarball, { force: true });
  }
}
