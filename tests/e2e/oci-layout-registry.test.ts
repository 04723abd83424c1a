import { execFile } from "node:child_process";
import { access, mkdir, mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { promisify } from "node:util";
import { afterAll, beforeAll, describe, expect, test } from "vitest";
import {
  generateCosignKeyPair,
  keySigner,
  keyVerifier,
  signatureTag,
  signImages,
  verifyInRegistry,
} from "@frostyard/cosign";
import { recordingLogger } from "@frostyard/kit";
import {
  ANNOTATION_REF_NAME,
  OCI_IMAGE_MANIFEST,
  parseReference,
  pushLayout,
  readIndex,
  RegistryClient,
  serveLayout,
  sha256Digest,
  type LayoutRegistry,
} from "@frostyard/oci";
import { containersConfig, type ContainersConfig } from "../helpers/containers";
import { buildTestImageLayout, IMAGE_TOOLS, pushMultiArchIndex } from "../helpers/images";
import { missingTools } from "../helpers/tools";

const run = promisify(execFile);
const REPOSITORY = "os/snow";

describe.skipIf(missingTools(...IMAGE_TOOLS, "umoci", "podman", "runc"))(
  "serveLayout: an OCI layout served as a registry, driven by skopeo, umoci and our client",
  () => {
    let scratch: string;
    let served: string;
    let registry: LayoutRegistry;
    let containers: ContainersConfig;
    const logger = recordingLogger();
    const client = () => new RegistryClient({ logger: recordingLogger() });
    const repo = () => parseReference(registry.reference());
    const skopeo = async (...args: string[]) =>
      (
        await run("skopeo", [args[0]!, "--policy", containers.policyPath, ...args.slice(1)], {
          env: { ...process.env, ...containers.env },
          maxBuffer: 16 * 1024 * 1024,
        })
      ).stdout;
    const podman = (...args: string[]) =>
      run("podman", args, { env: { ...process.env, ...containers.env }, maxBuffer: 16 * 1024 * 1024 });
    const api = (path: string, init?: RequestInit) => fetch(`${registry.url}/v2/${path}`, init);

    beforeAll(async () => {
      scratch = await mkdtemp(join(tmpdir(), "frostyard-layout-registry-"));
      served = join(scratch, "served");
      registry = await serveLayout({ layout: served, repository: REPOSITORY, logger });
      containers = await containersConfig({ insecureRegistries: [registry.host] });
    });
    afterAll(async () => {
      await registry?.close();
      // Images podman pulled live in the temp storage; remove them with podman so its mounts go too.
      if (containers) {
        await podman("rmi", "--all", "--force").catch(() => {});
        await containers.cleanup();
      }
      if (scratch) await rm(scratch, { recursive: true, force: true });
    });

    test("GET /v2/ announces the distribution API; another repository is NAME_UNKNOWN; referrers 404", async () => {
      const base = await api("");
      expect(base.status).toBe(200);
      expect(base.headers.get("docker-distribution-api-version")).toBe("registry/2.0");
      const other = await api("os/other/manifests/latest");
      expect(other.status).toBe(404);
      expect(await other.json()).toEqual({
        errors: [{ code: "NAME_UNKNOWN", message: expect.stringContaining("os/other") }],
      });
      const referrers = await api(`${REPOSITORY}/referrers/${sha256Digest("x")}`);
      expect(referrers.status).toBe(404);
    });

    test("bad options are refused before anything listens; reference() builds and checks names", async () => {
      const layout = join(scratch, "refused");
      await expect(serveLayout({ layout, repository: "OS/snow" })).rejects.toThrow(
        /layout registry repository "OS\/snow": .*must be lowercase/,
      );
      await expect(serveLayout({ layout, repository: "OS/snow" })).rejects.toMatchObject({
        name: "LayoutRegistryError",
        option: "repository",
        value: "OS/snow",
      });
      await expect(
        serveLayout({ layout, repository: "os/snow", host: "0.0.0.0" as "127.0.0.1" }),
      ).rejects.toThrow(/layout registry host "0.0.0.0": it is not loopback; expected "127.0.0.1"/);
      await mkdir(layout);
      await writeFile(join(layout, "oci-layout"), JSON.stringify({ imageLayoutVersion: "2.0.0" }));
      await expect(serveLayout({ layout, repository: "os/snow" })).rejects.toThrow(
        /only "1.0.0" is supported/,
      );

      expect(registry.reference()).toBe(`${registry.host}/${REPOSITORY}`);
      expect(registry.reference("v1.0")).toBe(`${registry.host}/${REPOSITORY}:v1.0`);
      expect(registry.host).toMatch(/^127\.0\.0\.1:\d+$/);
      expect(() => registry.reference("a__b")).toThrow(/layout registry tag "a__b": it is not a tag/);
    });

    test("skopeo copies an image in and out with the same digest, and inspects it", async () => {
      const { dir: source, image } = await buildTestImageLayout({ content: "in and out" });
      const out = join(scratch, "out");
      try {
        const digestFile = join(scratch, "pushed-digest");
        await skopeo(
          "copy",
          "--dest-tls-verify=false",
          "--digestfile",
          digestFile,
          `oci:${source}:latest`,
          `docker://${registry.reference("t")}`,
        );
        expect((await readFile(digestFile, "utf8")).trim()).toBe(image.descriptor.digest);
        const inspected = JSON.parse(
          await skopeo("inspect", "--tls-verify=false", `docker://${registry.reference("t")}`),
        ) as { Digest: string; Labels: Record<string, string> };
        expect(inspected.Digest).toBe(image.descriptor.digest);
        expect(inspected.Labels["org.frostyard.test.content"]).toBe("in and out");

        await skopeo("copy", "--src-tls-verify=false", `docker://${registry.reference("t")}`, `oci:${out}:t`);
        const [entry] = (await readIndex(out)).manifests;
        expect(entry?.digest).toBe(image.descriptor.digest);
      } finally {
        await rm(source, { recursive: true, force: true });
      }
    });

    test("podman pulls and runs the image skopeo pushed", async () => {
      const { stdout } = await podman(
        "run",
        "--rm",
        "--tls-verify=false",
        registry.reference("t"),
        "/bin/busybox",
        "cat",
        "/content.txt",
      );
      expect(stdout).toBe("in and out");
    });

    test("skopeo copy --all of a multi-arch index: children by digest, the index by tag", async () => {
      const pushed = await pushMultiArchIndex(registry.host, `${REPOSITORY}:multi`);
      const head = await client().headManifest(parseReference(registry.reference("multi")));
      expect(head?.digest).toBe(pushed.indexDigest);
      const arm = await client().getManifest({ ...repo(), digest: pushed.platformDigests.arm64 });
      expect(arm?.mediaType).toBe(OCI_IMAGE_MANIFEST);
    });

    test("pushLayout, headManifest, getManifest and listTags; pushing again moves the tag", async () => {
      const first = await buildTestImageLayout({ content: "first" });
      const second = await buildTestImageLayout({ content: "second" });
      try {
        const push = (layout: string, tags: string[]) =>
          pushLayout({
            client: client(),
            layout,
            refName: "latest",
            target: repo(),
            tags,
            logger: recordingLogger(),
          });
        const pushed = await push(first.dir, ["a", "b"]);
        expect(pushed.digest).toBe(first.image.descriptor.digest);
        expect((await client().headManifest(parseReference(registry.reference("a"))))?.digest).toBe(
          pushed.digest,
        );
        const fetched = await client().getManifest(parseReference(registry.reference("b")));
        expect(fetched?.bytes.equals(first.image.manifest)).toBe(true);

        const moved = await push(second.dir, ["b"]);
        expect(moved.skippedBlobs).toBe(1); // the busybox layer is shared with the first image
        expect((await client().headManifest(parseReference(registry.reference("b"))))?.digest).toBe(
          moved.digest,
        );
        const named = (await readIndex(served)).manifests.filter(
          (m) => m.annotations?.[ANNOTATION_REF_NAME] === "b",
        );
        expect(named.map((m) => m.digest)).toEqual([moved.digest]);

        const tags = await client().listTags(repo());
        expect(tags).toEqual(expect.arrayContaining(["a", "b"]));
        expect(await client().listTags(repo(), { pageSize: 1 })).toEqual(tags);
      } finally {
        await Promise.all([first.dir, second.dir].map((d) => rm(d, { recursive: true, force: true })));
      }
    });

    test("cosign signing (legacy .sig tag and bundle referrer via the tag fallback) verifies, then promotes", async () => {
      const keys = await generateCosignKeyPair("layout");
      const report = await signImages({
        client: client(),
        images: [registry.reference("multi")],
        signer: keySigner(keys),
        format: "both",
        recursive: true,
        annotations: {},
        promoteTags: ["signed"],
        logger: recordingLogger(),
      });
      expect(report.failure).toBeUndefined();
      expect(report.verified).toBe(true);
      expect(report.images[0]!.targets).toHaveLength(3); // the index and both platforms
      const head = await client().headManifest(parseReference(registry.reference("signed")));
      expect(head?.digest).toBe(report.images[0]!.targets[0]!.digest);
      const sigTag = signatureTag(head!.digest);
      expect(await client().listTags(repo())).toEqual(expect.arrayContaining([sigTag]));
      expect(
        await verifyInRegistry(client(), repo(), head!.digest, "both", keyVerifier(keys.publicKey)),
      ).toMatchObject({
        verified: true,
      });
    });

    test("a layout built beforehand is served as it is: its ref names are tags", async () => {
      const built = await buildTestImageLayout({ content: "built before" });
      const second = await serveLayout({ layout: built.dir, repository: "built/here" });
      try {
        expect(second.host).not.toBe(registry.host);
        const inspected = JSON.parse(
          await skopeo("inspect", "--tls-verify=false", `docker://${second.reference("latest")}`),
        ) as { Digest: string };
        expect(inspected.Digest).toBe(built.image.descriptor.digest);
        expect(await client().listTags(parseReference(second.reference()))).toEqual(["latest"]);
      } finally {
        await second.close();
        await rm(built.dir, { recursive: true, force: true });
      }
    });

    test("concurrent manifest PUTs under different tags all land in index.json", async () => {
      const { image } = await buildTestImageLayout({ content: "in and out" }).then(async (built) => {
        await rm(built.dir, { recursive: true, force: true });
        return built;
      });
      const tags = Array.from({ length: 12 }, (_, i) => `par-${i}`);
      await Promise.all(
        tags.map((tag) =>
          client().putManifest(parseReference(registry.reference(tag)), image.manifest, OCI_IMAGE_MANIFEST),
        ),
      );
      const names = (await readIndex(served)).manifests.map((m) => m.annotations?.[ANNOTATION_REF_NAME]);
      expect(names).toEqual(expect.arrayContaining(tags));
    });

    test("DELETE by tag removes only that tag; a second DELETE is MANIFEST_UNKNOWN", async () => {
      expect((await api(`${REPOSITORY}/manifests/par-0`, { method: "DELETE" })).status).toBe(202);
      expect((await api(`${REPOSITORY}/manifests/par-0`, { method: "HEAD" })).status).toBe(404);
      expect((await api(`${REPOSITORY}/manifests/par-1`, { method: "HEAD" })).status).toBe(200);
      const again = await api(`${REPOSITORY}/manifests/par-0`, { method: "DELETE" });
      expect(((await again.json()) as { errors: { code: string }[] }).errors[0]?.code).toBe(
        "MANIFEST_UNKNOWN",
      );
    });

    test("a chunked upload through the client lands as a blob; a wrong digest or range is refused", async () => {
      const bytes = Buffer.from("a chunked blob ".repeat(1000));
      const digest = sha256Digest(bytes);
      await client().uploadBlob(repo(), digest, bytes, bytes.length, { mode: "chunked", chunkSize: 4096 });
      const got = await api(`${REPOSITORY}/blobs/${digest}`);
      expect(Buffer.from(await got.arrayBuffer()).equals(bytes)).toBe(true);

      const wrong = sha256Digest("something else");
      const refused = await api(`${REPOSITORY}/blobs/uploads/?digest=${wrong}`, {
        method: "POST",
        body: bytes,
      });
      expect(refused.status).toBe(400);
      expect(((await refused.json()) as { errors: { code: string }[] }).errors[0]?.code).toBe(
        "DIGEST_INVALID",
      );
      expect((await api(`${REPOSITORY}/blobs/${wrong}`, { method: "HEAD" })).status).toBe(404);

      const opened = await api(`${REPOSITORY}/blobs/uploads/`, { method: "POST" });
      expect(opened.status).toBe(202);
      const location = `${registry.url}${opened.headers.get("location")}`;
      const gap = await fetch(location, {
        method: "PATCH",
        headers: { "Content-Range": "5-9" },
        body: "12345",
      });
      expect(gap.status).toBe(416);
    });

    test("manifests are checked: a digest that does not match, a missing blob", async () => {
      const manifest = Buffer.from(
        JSON.stringify({
          schemaVersion: 2,
          mediaType: OCI_IMAGE_MANIFEST,
          config: {
            mediaType: "application/vnd.oci.image.config.v1+json",
            digest: sha256Digest("nope"),
            size: 4,
          },
          layers: [],
        }),
      );
      const headers = { "Content-Type": OCI_IMAGE_MANIFEST };
      const byWrongDigest = await api(`${REPOSITORY}/manifests/${sha256Digest("other")}`, {
        method: "PUT",
        headers,
        body: manifest,
      });
      expect(byWrongDigest.status).toBe(400);
      const missingBlob = await api(`${REPOSITORY}/manifests/orphan`, {
        method: "PUT",
        headers,
        body: manifest,
      });
      expect(((await missingBlob.json()) as { errors: { code: string }[] }).errors[0]?.code).toBe(
        "MANIFEST_BLOB_UNKNOWN",
      );
      expect((await api(`${REPOSITORY}/manifests/orphan`, { method: "HEAD" })).status).toBe(404);
    });

    test("after close() the directory is a plain OCI layout skopeo and umoci read", async () => {
      const digest = (await client().headManifest(parseReference(registry.reference("t"))))?.digest;
      await registry.close();
      await expect(fetch(`${registry.url}/v2/`)).rejects.toThrow();
      await expect(access(join(served, ".uploads"))).rejects.toThrow();
      const inspected = JSON.parse(await skopeo("inspect", `oci:${served}:t`)) as { Digest: string };
      expect(inspected.Digest).toBe(digest);
      const { stdout } = await run("umoci", ["ls", "--layout", served]);
      expect(stdout.split("\n").filter(Boolean)).toEqual(expect.arrayContaining(["t", "a", "b", "multi"]));
      // Every request above was answered on purpose: none ended in an unexpected (500) error.
      expect(logger.lines.filter((line) => line.startsWith("warning"))).toEqual([]);
    });
  },
);
