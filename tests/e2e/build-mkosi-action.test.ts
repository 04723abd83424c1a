import { execFile } from "node:child_process";
import { existsSync } from "node:fs";
import { cp, mkdtemp, readdir, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { promisify } from "node:util";
import { afterAll, beforeAll, describe, expect, test } from "vitest";
import { containersConfig, type ContainersConfig } from "../helpers/containers";
import { copyTestProject } from "../helpers/mkosi-project";
import { startRegistry, type TestRegistry } from "../helpers/registry";
import { runBuiltAction, type ActionRun } from "../helpers/run-action";
import {
  ensureToolbox,
  toolboxUnavailable,
  TOOLBOX_BUILD_TIMEOUT_MS,
  type Toolbox,
} from "../helpers/toolbox";
import { missingTools } from "../helpers/tools";

/**
 * actions/build-mkosi end to end through the local runner: mkosi 25.3 from the trixie toolbox (its `mkosi`
 * wrapper first on PATH, `mkosi-ref: system`) builds tests/fixtures/mkosi/project, the action packages the
 * rootfs and pushes it to a real registry with password auth, podman pulls and runs it. One cold build is
 * shared by the assertions; the warm run and the failure cases reuse its cache.
 */

const run = promisify(execFile);
const skip =
  toolboxUnavailable() || missingTools("docker-registry", "skopeo", "podman", "runc", "tar", "zstd");
const CREDENTIALS = { user: "builder", password: "reg-pass-5c1f0e" };
const SECRET = "tok-9d8c7b6a5f4e3d2c1b0a";
const EPOCH = "1735689600";
const GITHUB_RUN = {
  GITHUB_SHA: "0123456789abcdef0123456789abcdef01234567",
  GITHUB_REPOSITORY: "frostyard/e2e-os",
  GITHUB_SERVER_URL: "https://git.example",
};
/** The cache key of the fixture's target with profile extra, in any refresh period; mkosi's version as it is. */
const CACHE_KEY = /mkosi-\d+(\.\d+)*-debian-trixie-x86-64-w\d{4}W\d{2}-extra-[0-9a-f]{16}/;
const cacheKeyIn = (text: string) => CACHE_KEY.exec(text)?.[0];

describe.skipIf(skip)(
  "actions/build-mkosi through the local runner with mkosi 25 and a real registry",
  () => {
    let toolbox: Toolbox;
    let scratch: string;
    let project: string;
    let registry: TestRegistry;
    let containers: ContainersConfig;
    let cold: ActionRun;

    const env = () => ({
      ...toolbox.env,
      FROSTYARD_TOOLBOX_BINDS: scratch,
      FROSTYARD_TOOLBOX_ENV: "FROSTYARD_GREETING,FROSTYARD_TOKEN,FROSTYARD_FAIL",
      FROSTYARD_BUILD_CACHE: join(scratch, "build-cache"),
    });
    const baseInputs = () => ({
      directory: project,
      profiles: "extra",
      "mkosi-ref": "system",
      "work-directory": join(scratch, "work"),
      "source-date-epoch": EPOCH,
      environment: "FROSTYARD_GREETING=hello from the runner",
      "secret-environment": `FROSTYARD_TOKEN=${SECRET}`,
      image: `${registry.host}/os/test`,
      "registry-username": CREDENTIALS.user,
      "registry-password": CREDENTIALS.password,
    });
    const action = (inputs: Record<string, string>, extraEnv: Record<string, string> = {}) =>
      runBuiltAction("build-mkosi", {
        workdir: scratch,
        env: { ...env(), ...extraEnv },
        inputs,
        timeoutMs: 600_000,
      });
    const podman = (...args: string[]) =>
      run("podman", args, { env: { ...process.env, ...containers.env }, maxBuffer: 16 * 1024 * 1024 });
    const registryTags = async (repository: string) => {
      const auth = Buffer.from(`${CREDENTIALS.user}:${CREDENTIALS.password}`).toString("base64");
      const response = await fetch(`${registry.url}/v2/${repository}/tags/list`, {
        headers: { authorization: `Basic ${auth}` },
      });
      if (response.status === 404) return [];
      return ((await response.json()) as { tags: string[] | null }).tags ?? [];
    };

    beforeAll(async () => {
      toolbox = await ensureToolbox();
      scratch = await mkdtemp(join(tmpdir(), "frostyard-build-mkosi-"));
      project = await copyTestProject(scratch);
      // Without ManifestFormat= the action asks for a JSON manifest itself (the mkosi-manifest output).
      const conf = await readFile(join(project, "mkosi.conf"), "utf8");
      await writeFile(join(project, "mkosi.conf"), conf.replace(/^ManifestFormat=json\n/m, ""));
      [registry, containers] = await Promise.all([
        startRegistry({ htpasswd: CREDENTIALS }),
        containersConfig({}),
      ]);
      containers.env.REGISTRY_AUTH_FILE = join(containers.dir, "auth.json");
      await writeFile(
        containers.env.REGISTRY_AUTH_FILE,
        JSON.stringify({
          auths: {
            [registry.host]: {
              auth: Buffer.from(`${CREDENTIALS.user}:${CREDENTIALS.password}`).toString("base64"),
            },
          },
        }),
      );
      cold = await action(
        {
          ...baseInputs(),
          "image-version": "1.0",
          push: "true",
          tags: "candidate",
          labels: "org.example.team=os\norg.opencontainers.image.description=test image",
          annotations: "org.example.pipeline=e2e",
        },
        GITHUB_RUN,
      );
    }, TOOLBOX_BUILD_TIMEOUT_MS + 600_000);

    afterAll(async () => {
      if (containers) {
        await podman("rmi", "--all", "--force").catch(() => {});
        await containers.cleanup();
      }
      await registry?.stop();
      if (scratch) await rm(scratch, { recursive: true, force: true });
    });

    test("cold run: builds, packages, pushes; outputs agree with the registry; cache missed then saved in post", async () => {
      expect(cold.annotations.filter((a) => a.level === "error")).toEqual([]);
      expect(cold.failed).toBe(false);
      const digest = cold.outputs.digest ?? "";
      expect(digest).toMatch(/^sha256:[0-9a-f]{64}$/);
      expect(cold.outputs.image).toBe(`${registry.host}/os/test@${digest}`);
      expect(JSON.parse(cold.outputs.tags ?? "")).toEqual(["1.0", "candidate"]);
      expect(cold.outputs["image-version"]).toBe("1.0");
      const rootfs = cold.outputs.rootfs ?? "";
      expect(rootfs).toBe(join(scratch, "work/output/frostyard-test_1.0"));
      expect(existsSync(join(rootfs, "usr/bin/passwd"))).toBe(true);
      expect(cold.outputs["oci-layout"]).toBe(`${rootfs}.oci`);
      // The project sets no ManifestFormat=, so the action asked for the JSON manifest itself.
      expect(cold.log.find((line) => line.includes("--force build"))).toContain("--manifest-format=json");
      expect(
        JSON.parse(await readFile(cold.outputs["mkosi-manifest"] ?? "", "utf8")).packages.map(
          (p: { name: string }) => p.name,
        ),
      ).toEqual(expect.arrayContaining(["passwd", "libcap2-bin", "netbase"]));
      const layers = JSON.parse(cold.outputs.layers ?? "") as {
        digest: string;
        size: number;
        packages: string[];
      }[];
      expect(layers.length).toBeGreaterThan(1);
      expect(layers.flatMap((l) => l.packages)).toEqual(expect.arrayContaining(["passwd", "netbase"]));

      for (const tag of ["1.0", "candidate"]) {
        const { stdout } = await run("skopeo", [
          "inspect",
          "--tls-verify=false",
          `--creds=${CREDENTIALS.user}:${CREDENTIALS.password}`,
          `docker://${registry.host}/os/test:${tag}`,
        ]);
        const inspected = JSON.parse(stdout) as {
          Digest: string;
          Labels: Record<string, string>;
          Layers: string[];
        };
        expect(inspected.Digest).toBe(digest);
        expect(inspected.Layers).toEqual(layers.map((l) => l.digest));
        expect(inspected.Labels).toMatchObject({
          "containers.bootc": "1",
          "org.opencontainers.image.version": "1.0",
          "org.opencontainers.image.title": "frostyard-test",
          "org.opencontainers.image.created": new Date(Number(EPOCH) * 1000).toISOString(),
        });
      }

      // The standard keys from the run on the config's labels and the manifest's annotations, with the
      // user's labels and annotations over them.
      const creds = `--creds=${CREDENTIALS.user}:${CREDENTIALS.password}`;
      const ref = `docker://${registry.host}/os/test:1.0`;
      const standard = {
        "org.opencontainers.image.title": "frostyard-test",
        "org.opencontainers.image.version": "1.0",
        "org.opencontainers.image.created": new Date(Number(EPOCH) * 1000).toISOString(),
        "org.opencontainers.image.revision": GITHUB_RUN.GITHUB_SHA,
        "org.opencontainers.image.source": "https://git.example/frostyard/e2e-os",
        "org.opencontainers.image.url": "https://git.example/frostyard/e2e-os",
      };
      const config = JSON.parse(
        (await run("skopeo", ["inspect", "--tls-verify=false", creds, "--config", ref])).stdout,
      ) as { config: { Labels: Record<string, string> } };
      expect(config.config.Labels).toMatchObject({
        ...standard,
        "org.example.team": "os",
        "org.opencontainers.image.description": "test image",
      });
      expect(config.config.Labels).not.toHaveProperty("org.example.pipeline");
      const manifest = JSON.parse(
        (await run("skopeo", ["inspect", "--tls-verify=false", creds, "--raw", ref])).stdout,
      ) as { annotations: Record<string, string> };
      expect(manifest.annotations).toMatchObject({ ...standard, "org.example.pipeline": "e2e" });
      expect(manifest.annotations).not.toHaveProperty("org.example.team");
      // Only the version tag and the explicit extra tag: no floating tag is pushed by default.
      expect((await registryTags("os/test")).sort()).toEqual(["1.0", "candidate"]);
      expect(await registryTags("os/test")).not.toContain("latest");

      const key = cacheKeyIn(cold.summary) ?? "";
      expect(cold.summary).toContain(`| cache | miss \`${key}\``);
      // The post step added the size it saved to the summary.
      expect(cold.summary).toMatch(
        new RegExp(`\\*\\*Cache saved\\*\\* \\(post step\\): \`${key}\`, [\\d.]+ (MiB|GiB)`),
      );
      expect(cold.summary).toContain(`## Layers: ${layers.length},`);
      expect(cold.summary).toMatch(/\| mkosi build \| [\d.]+ (s|ms|min)/);
      // The post step packed mkosi's cache (incremental images) into the local store.
      expect(cold.postExitCode).toBe(0);
      const stored = await readdir(join(scratch, "build-cache"));
      expect(stored.filter((name) => CACHE_KEY.test(name))).toHaveLength(1);
      // The secret was masked and never reached the log or mkosi's argv.
      expect(cold.masks).toContain(SECRET);
      expect(cold.log.join("\n")).not.toContain(SECRET);
      expect(cold.log.join("\n")).toContain("--environment=FROSTYARD_TOKEN");
    });

    test("podman runs the pushed image: SUID bit and capability survive, variables reached the postinst", async () => {
      const ref = cold.outputs.image ?? "";
      await podman("pull", "--tls-verify=false", ref);
      const sh = (script: string) =>
        podman("run", "--rm", "--network=none", ref, "sh", "-c", script).then((r) => r.stdout.trim());
      expect(await sh("stat -c '%a %U' /usr/bin/passwd")).toBe("4755 root");
      expect(await sh("getcap /usr/local/bin/frostyard-cap")).toBe(
        "/usr/local/bin/frostyard-cap cap_net_bind_service=ep",
      );
      expect(await sh("cat /etc/frostyard-greeting")).toBe("hello from the runner");
      const { createHash } = await import("node:crypto");
      expect(await sh("cat /etc/frostyard-token.sha256")).toBe(
        createHash("sha256").update(SECRET).digest("hex"),
      );
    });

    test("warm run with a refused password: cache hit, fast incremental build, then a clear auth failure and nothing pushed", async () => {
      // A fresh work directory: the incremental image comes from the build cache, not the first run's disk.
      const warm = await action(
        {
          ...baseInputs(),
          "work-directory": join(scratch, "work2"),
          "image-version": "2.0",
          push: "true",
          "registry-password": "wrong-password",
        },
        // Packaging in the separate process a non-root runner uses under sudo (here root needs no sudo).
        { FROSTYARD_MKOSI_PACKAGE_IN_CHILD: "1" },
      );
      expect(warm.failed).toBe(true);
      const error = warm.annotations.find((a) => a.level === "error")?.message ?? "";
      expect(error).toMatch(
        /rejected the credentials .* for 127\.0\.0\.1:\d+\/os\/test: check the user and password/,
      );
      expect(warm.summary).toContain(`| cache | hit \`${cacheKeyIn(cold.summary)}\``);
      // Really incremental: mkosi 25 started from its cached tree ("Copying cached trees" before any package
      // is installed) and never saved a new one ("Installing cache copies" follows a package install, as
      // in the cold run, which then copies the fresh cache back too).
      const warmLog = warm.log.join("\n");
      const coldLog = cold.log.join("\n");
      expect(coldLog).toContain("Setting up passwd");
      expect(coldLog).toContain("Installing cache copies");
      expect(warmLog).toContain("Copying cached trees");
      expect(warmLog).not.toContain("Installing cache copies");
      expect(warmLog).not.toContain("Setting up passwd");
      expect(warm.log.join("\n")).not.toContain("wrong-password");
      expect(await registryTags("os/test")).toEqual(expect.not.arrayContaining(["2.0"]));
      // Built, packaged, but never pushed.
      expect(warm.log.join("\n")).toContain("Packaging in a separate process");
      const index = JSON.parse(
        await readFile(join(scratch, "work2/output/frostyard-test_2.0.oci/index.json"), "utf8"),
      ) as { manifests: { digest: string }[] };
      expect(index.manifests.map((m) => m.digest)).toContain(warm.outputs.digest);
      expect(existsSync(join(scratch, "work2/output/frostyard-test_2.0/usr/bin/passwd"))).toBe(true);
      // The registry refused to list its tags, so the previous image is the one the cold run kept in the build
      // cache, handed to the packaging process as a layout: every layer taken over, nothing to download.
      expect(warmLog).toMatch(/Could not read 127\.0\.0\.1:\d+\/os\/test for a previous image/);
      expect(warmLog).toMatch(
        /\d+ of \d+ layers unchanged since .*frostyard-previous-image:previous: taken over/,
      );
      // mkosi writes the image version into os-release, so the layer holding it is new; the rest is taken over.
      const layers = JSON.parse(warm.outputs.layers ?? "[]") as { size: number; reused: boolean }[];
      const fresh = layers.filter((l) => !l.reused);
      expect(fresh.length).toBeGreaterThan(0);
      expect(fresh.length).toBeLessThan(layers.length / 2);
      expect(warm.outputs["update-bytes"]).toBe(String(fresh.reduce((sum, l) => sum + l.size, 0)));
      // Finding the previous image and keeping this one for the next build are timed stages of their own.
      expect(warm.summary).toMatch(/\| previous image \| [\d.]+ m?s \|/);
      expect(warm.summary).toMatch(/\| keep image for the next build \| [\d.]+ m?s \|/);
    }, 300_000);

    test("a new version pushed after 1.0: 1.0 is found in the registry, its layers taken over and not uploaded again", async () => {
      const next = await action({
        ...baseInputs(),
        "work-directory": join(scratch, "work-next"),
        "image-version": "1.5",
        push: "true",
      });
      expect(next.annotations.filter((a) => a.level === "error")).toEqual([]);
      expect(next.failed).toBe(false);
      const update = JSON.parse(next.outputs.update ?? "{}") as {
        previous: string;
        previousDigest: string;
        bytes: number;
        layers: number;
      };
      expect(update).toMatchObject({
        previous: `${registry.host}/os/test:1.0`,
        previousDigest: cold.outputs.digest,
      });
      const layers = JSON.parse(next.outputs.layers ?? "[]") as {
        digest: string;
        size: number;
        reused: boolean;
      }[];
      const coldDigests = new Set(
        (JSON.parse(cold.outputs.layers ?? "[]") as { digest: string }[]).map((l) => l.digest),
      );
      // A layer is taken over exactly when 1.0 has it; what a host downloads is the rest.
      for (const layer of layers) expect(layer.reused).toBe(coldDigests.has(layer.digest));
      const fresh = layers.filter((l) => !coldDigests.has(l.digest));
      expect(update.bytes).toBe(fresh.reduce((sum, l) => sum + l.size, 0));
      expect(update.layers).toBe(fresh.length);
      // The same project rebuilt from its cache: most of the image is unchanged.
      expect(layers.length - fresh.length).toBeGreaterThan(layers.length / 2);
      // The push uploaded none of the taken-over layers again.
      const already = Number(/\((\d+) blob\(s\) already there\)/.exec(next.summary)?.[1]);
      expect(already).toBeGreaterThanOrEqual(layers.length - fresh.length);
      expect(next.summary).toMatch(
        /\*\*Update cost:\*\* a host on 127\.0\.0\.1:\d+\/os\/test:1\.0 .* downloads .* in \d+ of \d+ layers/,
      );
    }, 300_000);

    test("the version tag is immutable: another image under 1.0 is refused naming both digests", async () => {
      const coldDigest = cold.outputs.digest ?? "";
      const result = await action(
        {
          ...baseInputs(),
          "work-directory": join(scratch, "work-immutable"),
          "image-version": "1.0",
          push: "true",
          labels: "org.example.rebuild=yes",
        },
        GITHUB_RUN,
      );
      expect(result.failed).toBe(true);
      const rebuilt = result.outputs.digest ?? "";
      expect(rebuilt).toMatch(/^sha256:[0-9a-f]{64}$/);
      expect(rebuilt).not.toBe(coldDigest);
      const error = result.annotations.find((a) => a.level === "error")?.message ?? "";
      expect(error).toBe(
        `input 'image-version': ${registry.host}/os/test:1.0 already exists as ${coldDigest}; this build is ${rebuilt}, and a version tag is immutable; expected a new image version (the default is UTC %Y%m%d%H%M%S), or overwrite-version: true to move it on purpose`,
      );
      const { stdout } = await run("skopeo", [
        "inspect",
        "--tls-verify=false",
        `--creds=${CREDENTIALS.user}:${CREDENTIALS.password}`,
        `docker://${registry.host}/os/test:1.0`,
      ]);
      expect((JSON.parse(stdout) as { Digest: string }).Digest).toBe(coldDigest);
    }, 300_000);

    test("a project's own CacheDirectory= is used, not overridden: restored into it and saved from it", async () => {
      const own = join(scratch, "project-own-cache");
      await cp(project, own, { recursive: true });
      await writeFile(join(own, "mkosi.conf"), "\n[Build]\nCacheDirectory=own-cache\n", { flag: "a" });
      const result = await action({
        ...baseInputs(),
        directory: own,
        "work-directory": join(scratch, "work-own-cache"),
        "image-version": "6.0",
      });
      expect(result.annotations.filter((a) => a.level === "error")).toEqual([]);
      expect(result.failed).toBe(false);
      const log = result.log.join("\n");
      expect(log).toContain(`The project sets CacheDirectory=${join(own, "own-cache")}; using it`);
      const buildLine = result.log.find((line) => line.includes("--force build")) ?? "";
      expect(buildLine).toContain(`--directory ${own}`);
      expect(buildLine).not.toContain("--cache-directory=");
      // A changed config within the period: the first run's cache restored (partial) into the project's
      // directory, where mkosi found its incremental image.
      expect(result.summary).toContain(`| cache | partial: restored \`${cacheKeyIn(cold.summary)}\``);
      expect(log).toContain("Copying cached trees");
      expect(log).not.toContain("Installing cache copies");
      expect((await readdir(join(own, "own-cache"))).length).toBeGreaterThan(0);
      expect(await readdir(join(scratch, "work-own-cache/cache")).catch(() => [])).toEqual([]);
    }, 300_000);

    test("Format=oci: mkosi's own layout is named by the image version and pushed as it is", async () => {
      const result = await action({
        ...baseInputs(),
        "image-version": "5.0",
        push: "true",
        args: "--format=oci",
      });
      expect(result.annotations.filter((a) => a.level === "error")).toEqual([]);
      expect(result.failed).toBe(false);
      const layout = join(scratch, "work/output/frostyard-test_5.0");
      expect(result.outputs["oci-layout"]).toBe(layout);
      expect(result.outputs.rootfs).toBe("");
      const digest = result.outputs.digest ?? "";
      expect(result.outputs.image).toBe(`${registry.host}/os/test@${digest}`);
      const index = JSON.parse(await readFile(join(layout, "index.json"), "utf8")) as {
        manifests: { digest: string; annotations?: Record<string, string> }[];
      };
      expect(index.manifests).toEqual([
        expect.objectContaining({ digest, annotations: { "org.opencontainers.image.ref.name": "5.0" } }),
      ]);
      const { stdout } = await run("skopeo", [
        "inspect",
        "--tls-verify=false",
        `--creds=${CREDENTIALS.user}:${CREDENTIALS.password}`,
        `docker://${registry.host}/os/test:5.0`,
      ]);
      const inspected = JSON.parse(stdout) as { Digest: string; Layers: string[] };
      expect(inspected.Digest).toBe(digest);
      const layers = JSON.parse(result.outputs.layers ?? "") as { digest: string; packages: string[] }[];
      expect(inspected.Layers).toEqual(layers.map((l) => l.digest));
    });

    test.each([
      [
        "missing directory",
        { directory: "no-such-project" },
        /input 'directory'.*no-such-project.*is not a directory/,
      ],
      ["unknown profile", { profiles: "extra,nope" }, /input 'profiles'.*unknown profile\(s\) 'nope'.*extra/],
      ["invalid image name", { image: "Registry.example/UPPER/case" }, /input 'image'/],
      ["image with a tag", { image: "127.0.0.1:1/os/test:latest" }, /input 'image'.*names a tag or digest/],
      [
        "floating image version",
        { "image-version": "latest" },
        /input 'image-version': 'latest' is a floating tag name/,
      ],
      [
        "packaging inputs on a Format=oci build",
        { args: "--format=oci", labels: "a=b", compression: "zstd" },
        /input 'labels, compression': are set, but the project builds Format=oci/,
      ],
      [
        "oci-layout naming a file",
        { "oci-layout": "/proc/version" },
        /input 'oci-layout': '\/proc\/version' exists and is not a directory/,
      ],
      [
        "unwritable output",
        { "output-directory": "/proc/version/out" },
        /input 'output-directory'.*cannot create or write '\/proc\/version\/out'/,
      ],
    ])("bad input: %s fails clearly before building and pushes nothing", async (_name, inputs, message) => {
      const tagsBefore = await registryTags("os/test");
      const result = await action({ ...baseInputs(), "image-version": "3.0", push: "true", ...inputs });
      expect(result.failed).toBe(true);
      const errors = result.annotations.filter((a) => a.level === "error").map((a) => a.message);
      expect(errors).toHaveLength(1);
      expect(errors[0]).toMatch(message);
      expect(result.log.join("\n")).not.toContain("--force build");
      expect(await registryTags("os/test")).toEqual(tagsBefore);
    });

    test("a project mkosi.cache that cannot be a directory is reported under the directory input", async () => {
      const broken = join(scratch, "project-cache-file");
      await cp(project, broken, { recursive: true });
      await writeFile(join(broken, "mkosi.cache"), "not a directory\n");
      const result = await action({ ...baseInputs(), directory: broken, "image-version": "7.0" });
      expect(result.failed).toBe(true);
      const errors = result.annotations.filter((a) => a.level === "error").map((a) => a.message);
      expect(errors).toEqual([
        expect.stringMatching(
          new RegExp(
            `^input 'directory': cannot create or write '${broken}/mkosi\\.cache' \\((EEXIST|ENOTDIR)\\)`,
          ),
        ),
      ]);
      expect(result.log.join("\n")).not.toContain("--force build");
    });

    test("a failing build (postinst exits 3) fails with mkosi's last lines, pushes nothing, and its cache is still saved", async () => {
      const tagsBefore = await registryTags("os/test");
      // A changed script: a new cache key, so the restore keys bring back the first run's cache (partial)
      // and the post step has a key to save after the failure. Scripts are not in mkosi's own cache
      // manifest, so the restored incremental image is reused and the postinst fails within seconds.
      const changed = join(scratch, "project-changed");
      await cp(project, changed, { recursive: true });
      await writeFile(join(changed, "mkosi.postinst"), "# changed\n", { flag: "a" });
      const result = await action({
        ...baseInputs(),
        directory: changed,
        "work-directory": join(scratch, "work3"),
        environment: "FROSTYARD_GREETING=x\nFROSTYARD_FAIL=1",
        "image-version": "4.0",
        push: "true",
      });
      expect(result.failed).toBe(true);
      const error = result.annotations.find((a) => a.level === "error")?.message ?? "";
      expect(error).toMatch(/^mkosi build exited with code \d+; its last lines:\n/);
      expect(error).toContain("frostyard-test: failing on purpose (FROSTYARD_FAIL=1)");
      // The newest cache of the same target and period (an earlier test's), restored for a new key.
      const partial = new RegExp(
        `\\| cache \\| partial: restored \`(${CACHE_KEY.source})\` for \`(${CACHE_KEY.source})\``,
      ).exec(result.summary);
      expect(partial?.[1]).toBeDefined();
      expect(partial?.[1]).not.toBe(partial?.[3]);
      expect(result.outputs.digest ?? "").toBe("");
      expect(await registryTags("os/test")).toEqual(tagsBefore);
      expect(result.postExitCode).toBe(0);
      // Saved under the failed run's own key.
      const stored = await readdir(join(scratch, "build-cache"));
      expect(stored.filter((name) => name.includes(partial?.[3] ?? "?"))).toHaveLength(1);
      expect(result.summary).toContain(`\n\n**Cache saved** (post step): \`${partial?.[3]}\``);
    }, 300_000);
  },
);
