import { rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { keyVerifier, parsePublicKey, verifyInRegistry } from "@frostyard/cosign";
import {
  AWS_CREDENTIAL_ENV,
  awsCredentialNames,
  awsCredentialProblem,
  BOOTABLE_TYPES,
  bootDisk,
  buildWithContainer,
  ensureDirectory,
  NoWorkVolumeError,
  placeOutputDirectory,
  StorageDirectoryError,
  convertRawDisk,
  describeUpload,
  freeOn,
  freeSpaceLine,
  type FreeSpace,
  QEMU_FORMAT,
  rootfulPodman,
  SourceDiskError,
  writeSha256Sums,
  type DiskArtifact,
  type UploadReport,
} from "@frostyard/disk";
import { InputError, markdownTable, formatBytes, formatDuration, heading, codeBlock } from "@frostyard/kit";
import { formatReference, parseReference, withDigest } from "@frostyard/oci";
import { registryClientFor } from "@frostyard/publish";
import { coreLogger, run, setOutput, writeSummary, inputGetter } from "..";
import { uploadSet } from "../build-sysext/upload";
import { saveCacheInPost } from "../build-mkosi/cache-post";
import { parseInputs, type DiskImageInputs } from "./inputs";
import { buildDiskWithMkosi, mkosiSecretValues } from "./mkosi";
import { uploadDisks } from "./upload";
import { pushDisks, pushSummary } from "./push";
import type { PushedArtifact } from "@frostyard/publish";

interface Built extends DiskArtifact {
  boot?: { ok: boolean; accel: string; elapsedMs: number; detail: string };
}

/** The source image by digest, its signature verified when a key is given: nothing is built from anything else. */
async function verifiedSource(inputs: DiskImageInputs): Promise<string> {
  const ref = parseReference(inputs.image!);
  const client = registryClientFor({}, coreLogger);
  let digest = ref.digest;
  if (!digest) {
    const head = await client.headManifest(ref);
    if (!head)
      throw new InputError("image", `${inputs.image} is not in its registry`, "an image the registry holds");
    digest = head.digest;
    coreLogger.info(`${inputs.image} resolved to ${digest}`);
  }
  const pinned = withDigest({ registry: ref.registry, repository: ref.repository }, digest);
  if (inputs.publicKey) {
    const verdict = await verifyInRegistry(
      client,
      pinned,
      digest,
      "legacy",
      keyVerifier(parsePublicKey(inputs.publicKey)),
    );
    for (const message of verdict.messages) coreLogger.info(message);
    if (!verdict.verified)
      throw new InputError(
        "image",
        `${formatReference(pinned)} is not signed by public-key (${verdict.messages.join("; ")})`,
        "an image cosign-sign signed with the key's private half",
      );
  }
  return formatReference(pinned);
}

function summary(
  inputs: DiskImageInputs,
  built: Built[],
  failure?: string,
  upload?: UploadReport,
  free?: FreeSpace,
  where?: string,
): string {
  const rows = built.map((b) => [
    b.type,
    b.path,
    formatBytes(b.size),
    `\`${b.sha256}\``,
    b.boot
      ? `${b.boot.ok ? "booted" : "failed"} (${b.boot.accel}, ${formatDuration(b.boot.elapsedMs)})`
      : "not tested",
  ]);
  return [
    heading(`disk-image: ${inputs.builder}`),
    failure ? `**Failed:** ${failure}\n` : "",
    markdownTable(["type", "path", "size", "sha256", "boot"], rows),
    ...(upload ? describeUpload(upload).map((line) => `\n${line}`) : []),
    ...(where ? [`\n${where}.`] : []),
    ...(free ? [`\nFree space: ${freeSpaceLine(free)}.`] : []),
  ].join("\n");
}

/** The directory domain errors, as the input that asked for the directory. */
function asInputError(input: string, error: unknown): unknown {
  if (error instanceof NoWorkVolumeError)
    return new InputError(
      input,
      `is empty (automatic) but ${error.message}`,
      "a directory this job may create and write",
    );
  if (error instanceof StorageDirectoryError)
    return new InputError(input, error.message, "a directory this job may create and write");
  return error;
}

async function main(): Promise<void> {
  const logger = coreLogger;
  const inputs = parseInputs(inputGetter);
  for (const secret of mkosiSecretValues(inputs.mkosi)) logger.setSecret(secret);
  // The builders run with these in their environment and print what the AWS SDK says.
  if (inputs.amiUpload)
    for (const name of AWS_CREDENTIAL_ENV) if (process.env[name]) logger.setSecret(process.env[name]);
  if (inputs.push?.login.registryPassword) logger.setSecret(inputs.push.login.registryPassword);
  const uid = process.getuid?.() ?? 0;
  const gid = process.getgid?.() ?? uid;
  const containerBuilder = inputs.builder === "image-builder" || inputs.builder === "bootc-image-builder";
  const storageRequest = inputs.containerStorage;
  if (containerBuilder && storageRequest.kind === "path")
    await ensureDirectory(storageRequest.path, { uid, gid, logger }).catch((error: unknown) => {
      throw asInputError("container-storage", error);
    });
  const placed = await placeOutputDirectory({
    ...(inputs.outputDirectory !== undefined ? { given: inputs.outputDirectory } : {}),
    env: process.env,
    tmp: tmpdir(),
    // The container builders run podman through sudo anyway; the others stay on volumes we may write.
    canSudo: uid !== 0 && containerBuilder,
    owner: { uid, gid },
    logger,
  }).catch((error: unknown) => {
    throw asInputError("output-directory", error);
  });
  const outputDirectory = placed.directory;
  const where = placed.said;
  if (where) logger.info(where);
  const free: FreeSpace = { path: outputDirectory, before: await freeOn(outputDirectory) };
  const built: Built[] = [];
  let failure: string | undefined;
  let uploaded: UploadReport | undefined;
  let pushed: PushedArtifact | undefined;
  let source: string | undefined;
  try {
    let artifacts: DiskArtifact[];
    if (inputs.builder === "qemu-img") {
      try {
        artifacts = await convertRawDisk({
          source: inputs.sourceDisk!,
          types: inputs.types,
          outputDirectory,
          name: inputs.name,
          logger,
        });
      } catch (error) {
        if (error instanceof SourceDiskError)
          throw new InputError("source-disk", error.message, "a raw disk image file");
        throw error;
      }
    } else if (inputs.builder === "mkosi") {
      ({ artifacts } = await buildDiskWithMkosi({
        build: inputs.mkosi!,
        types: inputs.types,
        outputDirectory,
        name: inputs.name,
        logger,
      }));
    } else {
      // Checked before the pull and the build: both builders would otherwise find out only when uploading.
      const credentialProblem = inputs.amiUpload ? awsCredentialProblem(process.env) : undefined;
      if (credentialProblem)
        throw new InputError(
          "aws-ami-name",
          `the AMI upload has no AWS credentials: ${credentialProblem}`,
          "AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY (and AWS_SESSION_TOKEN for temporary ones) in the step's env, e.g. from aws-actions/configure-aws-credentials",
        );
      const sourceRef = await verifiedSource(inputs);
      source = sourceRef;
      artifacts = await buildWithContainer({
        builder: inputs.builder,
        builderImage: inputs.builderImage,
        sourceRef,
        types: inputs.types,
        arch: inputs.arch,
        outputDirectory,
        ...(inputs.config ? { config: inputs.config } : {}),
        ...(inputs.buildRef ? { buildRef: inputs.buildRef } : {}),
        ...(inputs.installerPayloadRef ? { installerPayloadRef: inputs.installerPayloadRef } : {}),
        ...(inputs.rootfs ? { rootfs: inputs.rootfs } : {}),
        extraArgs: inputs.builderArgs,
        ...(inputs.amiUpload ? { amiUpload: inputs.amiUpload, amiEnv: awsCredentialNames(process.env) } : {}),
        podman: rootfulPodman(uid, process.env, inputs.amiUpload ? AWS_CREDENTIAL_ENV : []),
        ...(uid !== 0 ? { owner: { uid, gid } } : {}),
        containerStorage: storageRequest,
        ...(placed.volume ? { workVolume: placed.volume.path } : {}),
        scratch: join(process.env.RUNNER_TEMP || "/tmp", "disk-image-config"),
        logger,
      });
    }
    built.push(...artifacts);
    if (inputs.bootTest) {
      for (const artifact of built.filter((a) => BOOTABLE_TYPES.includes(a.type))) {
        const result = await logger.group(`boot test: ${artifact.type}`, () =>
          bootDisk({
            disk: artifact.path,
            format: QEMU_FORMAT[artifact.type]!,
            arch: inputs.arch,
            expect: inputs.bootExpect,
            timeoutMs: inputs.bootTimeoutSeconds * 1000,
            commands: inputs.bootCommands,
            consolePath: join(outputDirectory, `${artifact.type}.console.log`),
            logger,
          }),
        );
        artifact.boot = {
          ok: result.ok,
          accel: result.accel,
          elapsedMs: result.elapsedMs,
          detail: result.detail,
        };
        if (!result.ok) {
          logger.error(`${artifact.path} did not boot: ${result.detail}\n${result.tail}`);
          failure = `${artifact.type} did not boot: ${result.detail}\n\n${codeBlock(result.tail)}`;
        } else
          logger.info(
            `${artifact.type} booted under ${result.accel} in ${formatDuration(result.elapsedMs)}: ${result.detail}`,
          );
      }
      if (failure) {
        // The console logs go up alone: a disk that did not boot is not published.
        for (const artifact of built) await rm(artifact.path, { force: true });
        if (inputs.upload) await uploadSet(outputDirectory, `${inputs.artifactName}-console`, logger);
        throw new Error("boot test failed: the disks are not published");
      }
    }
    const sums = await writeSha256Sums(outputDirectory, built);
    setOutput("sha256sums", sums);
    if (inputs.upload) {
      const result = await uploadDisks(outputDirectory, inputs.artifactName, inputs.artifactPartSize, logger);
      if (!("skipped" in result)) uploaded = result;
    }
    // Here only when every boot test passed (a failed one threw above): nothing unverified is published.
    if (inputs.push) {
      pushed = await pushDisks({
        push: inputs.push,
        built,
        annotations: {
          "org.opencontainers.image.version": inputs.push.tag,
          ...(source ? { "org.opencontainers.image.base.name": source } : {}),
        },
        logger,
      });
      setOutput("digest", pushed.digest);
      setOutput("image", pushed.image);
    }
  } catch (error) {
    failure ??= error instanceof Error ? error.message : String(error);
    throw error;
  } finally {
    free.after = await freeOn(outputDirectory);
    logger.info(freeSpaceLine(free));
    setOutput("output-directory", outputDirectory);
    setOutput(
      "artifacts",
      JSON.stringify(
        built.map((b) => ({
          type: b.type,
          path: b.path,
          sha256: b.sha256,
          size: b.size,
          boot: b.boot ?? null,
          digest: pushed?.digest ?? null,
          image: pushed?.image ?? null,
        })),
      ),
    );
    for (const b of built) setOutput(`${b.type}-path`, b.path);
    await writeSummary(
      summary(inputs, built, failure, uploaded, free, where) + (pushed ? `\n\n${pushSummary(pushed)}` : ""),
    );
  }
}

// The post step saves mkosi's cache (builder mkosi); for the other builders it finds no state and returns.
await run(main, saveCacheInPost);
