import { execFile } from "node:child_process";
import { mkdtemp, readFile, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { promisify } from "node:util";
import {
  isIndex,
  OCI_IMAGE_CONFIG,
  OCI_IMAGE_INDEX,
  OCI_IMAGE_MANIFEST,
  OCI_LAYER_TAR_GZIP,
  parseManifest,
  parseReference,
  readBlob,
  RegistryClient,
  resolve,
  sha256Digest,
  writeBlob,
  writeManifest,
  type ImageManifest,
} from "@frostyard/oci";
import { afterAll, beforeAll, describe, expect, test } from "vitest";
import { containersConfig, type ContainersConfig } from "../helpers/containers";
import { IMAGE_TOOLS, pushMultiArchIndex, type PushedIndex } from "../helpers/images";
import { startRegistry, type TestRegistry } from "../helpers/registry";
import { missingTools } from "../helpers/tools";

const run = promisify(execFile);

describe.skipIf(missingTools("docker-registry", "umoci", "gzip", ...IMAGE_TOOLS))(
  "OCI layouts read and written by skopeo and umoci",
  () => {
    let registry: TestRegistry;
    let containers: ContainersConfig;
    let scratch: string;
    let multi: PushedIndex;

    beforeAll(async () => {
      [registry, containers, scratch] = await Promise.all([
        startRegistry(),
        containersConfig(),
        mkdtemp(join(tmpdir(), "oci-layout-e2e-")),
      ]);
      multi = await pushMultiArchIndex(registry.host, "layout/multi:v1");
    });
    afterAll(async () => {
      await Promise.all([
        registry?.stop(),
        containers?.cleanup(),
        scratch && rm(scratch, { recursive: true, force: true }),
      ]);
    });

    const tool = async (bin: string, ...args: string[]) =>
      (await run(bin, args, { env: { ...process.env, ...containers.env }, maxBuffer: 16 * 1024 * 1024 }))
        .stdout;
    const skopeo = (verb: string, ...args: string[]) =>
      tool("skopeo", verb, "--policy", containers.policyPath, ...args);

    test("a layout we write is what skopeo inspects, umoci lists and unpacks, and skopeo pushes byte for byte", async () => {
      const layout = join(scratch, "ours");
      const layerFile = join(scratch, "layer.tar.gz");
      await run("sh", ["-c", `tar -C / --owner=0 --group=0 -cf - bin/busybox | gzip -n > ${layerFile}`]);
      const layer = await writeBlob(layout, await readFile(layerFile));
      const diffId = (await run("sh", ["-c", `gzip -dc ${layerFile} | sha256sum`])).stdout.split(" ")[0];
      const config = Buffer.from(
        JSON.stringify({
          architecture: "arm64",
          os: "linux",
          config: { Cmd: ["/bin/busybox"] },
          rootfs: { type: "layers", diff_ids: [`sha256:${diffId}`] },
        }),
      );
      const configBlob = await writeBlob(layout, config);
      const manifest: ImageManifest = {
        schemaVersion: 2,
        mediaType: OCI_IMAGE_MANIFEST,
        config: { mediaType: OCI_IMAGE_CONFIG, ...configBlob },
        layers: [{ mediaType: OCI_LAYER_TAR_GZIP, ...layer }],
      };
      const descriptor = await writeManifest(layout, manifest, { refName: "v1" });

      const inspected = JSON.parse(await skopeo("inspect", `oci:${layout}:v1`)) as {
        Digest: string;
        Architecture: string;
        Layers: string[];
      };
      expect(inspected).toMatchObject({
        Digest: descriptor.digest,
        Architecture: "arm64",
        Layers: [layer.digest],
      });
      expect((await tool("umoci", "ls", "--layout", layout)).trim().split("\n")).toEqual(["v1"]);
      // umoci unpack verifies every blob digest and the diff_id while it extracts.
      const bundle = join(scratch, "bundle");
      await tool("umoci", "raw", "unpack", "--rootless", "--image", `${layout}:v1`, bundle);
      expect((await readFile(join(bundle, "bin", "busybox"))).equals(await readFile("/bin/busybox"))).toBe(
        true,
      );

      await skopeo(
        "copy",
        "--dest-tls-verify=false",
        `oci:${layout}:v1`,
        `docker://${registry.host}/layout/ours:v1`,
      );
      const head = await new RegistryClient().headManifest(parseReference(`${registry.host}/layout/ours:v1`));
      expect(head).toEqual({
        digest: descriptor.digest,
        mediaType: OCI_IMAGE_MANIFEST,
        size: descriptor.size,
      });
    });

    test("a layout skopeo writes (multi-arch, --all) resolves and reads back with checked digests", async () => {
      const layout = join(scratch, "theirs");
      await skopeo(
        "copy",
        "--all",
        "--src-tls-verify=false",
        `docker://${registry.host}/layout/multi:v1`,
        `oci:${layout}:multi`,
      );
      const top = await resolve(layout, "multi");
      expect(top).toMatchObject({ mediaType: OCI_IMAGE_INDEX, digest: multi.indexDigest });
      const { manifest: index } = parseManifest(await readBlob(layout, top.digest), top.mediaType);
      expect(isIndex(index) && index.manifests.map((m) => m.digest)).toEqual([
        multi.platformDigests.amd64,
        multi.platformDigests.arm64,
      ]);
      for (const [architecture, digest] of Object.entries(multi.platformDigests)) {
        const bytes = await readBlob(layout, digest);
        expect(sha256Digest(bytes)).toBe(digest);
        const { manifest } = parseManifest(bytes, OCI_IMAGE_MANIFEST);
        const image = manifest as ImageManifest;
        const config = JSON.parse((await readBlob(layout, image.config.digest)).toString()) as {
          architecture: string;
        };
        expect(config.architecture).toBe(architecture);
        for (const layer of image.layers)
          expect((await readBlob(layout, layer.digest)).length).toBe(layer.size);
      }
    });
  },
);
