import { execFile } from "node:child_process";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { promisify } from "node:util";
import { afterAll, beforeAll, describe, expect, test } from "vitest";
import { recordingLogger } from "@frostyard/kit";
import {
  OCI_IMAGE_INDEX,
  OCI_IMAGE_MANIFEST,
  parseReference,
  pushLayout,
  readBlob,
  RegistryClient,
  writeManifest,
} from "@frostyard/oci";
import { packageRootfs, type PackageResult } from "@frostyard/rootfs-oci";
import { containersConfig, type ContainersConfig } from "../helpers/containers";
import { startRegistry, type TestRegistry } from "../helpers/registry";
import { buildSpecialRootfs, SPECIAL, SPECIAL_ROOTFS_TOOLS } from "../helpers/rootfs-fixtures";
import { missingTools } from "../helpers/tools";

const run = promisify(execFile);

describe.skipIf(missingTools("docker-registry", "skopeo", "podman", "runc", "tar", ...SPECIAL_ROOTFS_TOOLS))(
  "pushLayout of a packaged rootfs to a real registry, pulled and run by podman",
  () => {
    let scratch: string;
    let registry: TestRegistry;
    let containers: ContainersConfig;
    let packaged: PackageResult;
    let layout: string;
    const client = () => new RegistryClient({ logger: recordingLogger() });
    const total = () => packaged.layers.reduce((sum, l) => sum + l.size, 0);
    const podman = (...args: string[]) =>
      run("podman", args, { env: { ...process.env, ...containers.env }, maxBuffer: 16 * 1024 * 1024 });

    beforeAll(async () => {
      scratch = await mkdtemp(join(tmpdir(), "frostyard-push-layout-"));
      [registry, containers] = await Promise.all([startRegistry(), containersConfig()]);
      await buildSpecialRootfs(join(scratch, "rootfs"));
      layout = join(scratch, "layout");
      packaged = await packageRootfs({
        rootfs: join(scratch, "rootfs"),
        layout,
        refName: "1.0",
        sourceDateEpoch: 1_700_000_000,
        labels: { "org.opencontainers.image.version": "1.0" },
        bootable: true,
        logger: recordingLogger(),
      });
    });
    afterAll(async () => {
      // Images podman pulled live in the temp storage; remove them with podman so its mounts go too.
      if (containers) {
        await podman("rmi", "--all", "--force").catch(() => {});
        await containers.cleanup();
      }
      await registry?.stop();
      if (scratch) await rm(scratch, { recursive: true, force: true });
    });

    test("first push uploads every blob; skopeo sees the layout's digest under each tag, with the labels", async () => {
      const logger = recordingLogger();
      const result = await pushLayout({
        client: client(),
        layout,
        refName: "1.0",
        target: parseReference(`${registry.host}/os/special`),
        tags: ["1.0", "candidate"],
        concurrency: 2,
        logger,
      });
      expect(result).toEqual({
        digest: packaged.manifestDigest,
        pushedBlobs: packaged.layers.length + 1,
        skippedBlobs: 0,
        mountedBlobs: 0,
        uploadedBytes: expect.any(Number),
        tags: ["1.0", "candidate"],
      });
      // Layers plus the config (the config is the remainder of the image size minus the manifest).
      expect(result.uploadedBytes).toBeGreaterThan(total());
      expect(result.uploadedBytes).toBeLessThan(packaged.size);
      for (const tag of ["1.0", "candidate"]) {
        const { stdout } = await run("skopeo", [
          "inspect",
          "--tls-verify=false",
          `docker://${registry.host}/os/special:${tag}`,
        ]);
        const inspected = JSON.parse(stdout) as { Digest: string; Labels: Record<string, string> };
        expect(inspected.Digest).toBe(packaged.manifestDigest);
        expect(inspected.Labels).toEqual({
          "containers.bootc": "1",
          "org.opencontainers.image.version": "1.0",
        });
      }
    });

    test("a re-push of the unchanged image uploads nothing", async () => {
      const result = await pushLayout({
        client: client(),
        layout,
        refName: "1.0",
        target: parseReference(`${registry.host}/os/special`),
        tags: ["1.0"],
        logger: recordingLogger(),
      });
      expect(result).toMatchObject({
        pushedBlobs: 0,
        uploadedBytes: 0,
        mountedBlobs: 0,
        skippedBlobs: packaged.layers.length + 1,
      });
    });

    test("to another repository with mountFrom, blobs are mounted, not uploaded", async () => {
      const result = await pushLayout({
        client: client(),
        layout,
        refName: "1.0",
        target: parseReference(`${registry.host}/os/copy`),
        tags: ["1.0"],
        mountFrom: "os/special",
        logger: recordingLogger(),
      });
      expect(result).toMatchObject({
        pushedBlobs: 0,
        uploadedBytes: 0,
        skippedBlobs: 0,
        mountedBlobs: packaged.layers.length + 1,
      });
      const { stdout } = await run("skopeo", [
        "inspect",
        "--tls-verify=false",
        `docker://${registry.host}/os/copy:1.0`,
      ]);
      expect((JSON.parse(stdout) as { Digest: string }).Digest).toBe(packaged.manifestDigest);
    });

    test("podman pulls and runs it: SUID/SGID bits, hardlink, symlink and numeric owner survive", async () => {
      const image = `${registry.host}/os/special:1.0`;
      await podman("pull", "--quiet", image);
      const { stdout } = await podman(
        "run",
        "--rm",
        "--network=none",
        image,
        "/usr/bin/busybox",
        "sh",
        "-c",
        [
          `stat -c '%a %u:%g' /${SPECIAL.suid} /${SPECIAL.sgid} /${SPECIAL.numericOwner.path}`,
          `stat -c %i /${SPECIAL.hardlinks[0]} /${SPECIAL.hardlinks[1]} | uniq | wc -l`,
          `readlink /${SPECIAL.symlink.path}`,
          `cat /etc/os-release | head -1`,
        ].join("; "),
      );
      expect(stdout.trim().split("\n")).toEqual([
        "4755 0:0",
        "2755 0:0",
        `644 ${SPECIAL.numericOwner.uid}:${SPECIAL.numericOwner.gid}`,
        "1",
        SPECIAL.symlink.target,
        "ID=frostyard-test",
      ]);
    });

    test("the capability survives the pull: getcap on podman's mount of the image", async () => {
      const image = `${registry.host}/os/special:1.0`;
      const { stdout: mountpoint } = await podman("image", "mount", image);
      try {
        const { stdout } = await run("getcap", [join(mountpoint.trim(), SPECIAL.capability)]);
        expect(stdout).toContain("cap_net_raw=ep");
        const { stdout: plain } = await run("getcap", [join(mountpoint.trim(), SPECIAL.suid)]);
        expect(plain.trim()).toBe(""); // only the file given one has it
      } finally {
        await podman("image", "unmount", image);
      }
      const { stdout: inspected } = await podman("image", "inspect", "--format", "{{.Digest}}", image);
      expect(inspected.trim()).toBe(packaged.manifestDigest);
    });

    test("an image index: its platform manifests go first by digest, then the index under the tag", async () => {
      const images = [];
      for (const architecture of ["amd64", "arm64"]) {
        images.push(
          await packageRootfs({
            rootfs: join(scratch, "rootfs"),
            layout,
            refName: `1.0-${architecture}`,
            sourceDateEpoch: 1_700_000_000,
            architecture,
            maxLayers: 1,
            logger: recordingLogger(),
          }),
        );
      }
      expect(images[0]!.manifestDigest).not.toBe(images[1]!.manifestDigest);
      const index = await writeManifest(
        layout,
        {
          schemaVersion: 2,
          mediaType: OCI_IMAGE_INDEX,
          manifests: await Promise.all(
            images.map(async (image, i) => ({
              mediaType: OCI_IMAGE_MANIFEST,
              digest: image.manifestDigest,
              size: (await readBlob(layout, image.manifestDigest)).length,
              platform: { architecture: ["amd64", "arm64"][i]!, os: "linux" },
            })),
          ),
        },
        { refName: "multi" },
      );
      const result = await pushLayout({
        client: client(),
        layout,
        refName: "multi",
        target: parseReference(`${registry.host}/os/multi`),
        tags: ["multi"],
        logger: recordingLogger(),
      });
      expect(result.digest).toBe(index.digest);
      // Two configs and one layer: the same tree gives the same layer, so both platforms share it.
      expect(result).toMatchObject({ pushedBlobs: 3, skippedBlobs: 0, mountedBlobs: 0 });
      const { stdout } = await run("skopeo", [
        "inspect",
        "--raw",
        "--tls-verify=false",
        `docker://${registry.host}/os/multi:multi`,
      ]);
      expect(JSON.parse(stdout)).toEqual(JSON.parse((await readBlob(layout, index.digest)).toString()));
      for (const image of images) {
        const child = await run("skopeo", [
          "inspect",
          "--tls-verify=false",
          `docker://${registry.host}/os/multi@${image.manifestDigest}`,
        ]);
        expect((JSON.parse(child.stdout) as { Digest: string }).Digest).toBe(image.manifestDigest);
      }
    });

    test("bad input: no tags, an invalid tag, an unknown ref name — nothing pushed", async () => {
      const base = {
        client: client(),
        layout,
        refName: "1.0",
        target: parseReference(`${registry.host}/os/bad`),
        logger: recordingLogger(),
      };
      await expect(pushLayout({ ...base, tags: [] })).rejects.toThrow(
        /no tags given for .*os\/bad; name at least one/,
      );
      await expect(pushLayout({ ...base, tags: ["ok", "not ok"] })).rejects.toThrow(
        /tag "not ok" is not a valid tag/,
      );
      await expect(pushLayout({ ...base, refName: "2.0", tags: ["2.0"] })).rejects.toThrow(
        /no manifest named "2.0" in .*; it has 1.0/,
      );
      expect(await client().listTags(parseReference(`${registry.host}/os/bad`))).toEqual([]);
    });
  },
);
