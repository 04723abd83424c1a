import { createHash } from "node:crypto";
import { mkdtemp, realpath, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, test } from "vitest";
import { authFileJson } from "../helpers/containers";
import { buildTestImageLayout, IMAGE_TOOLS, writeTestImageBlobs } from "../helpers/images";
import { startRegistry, type TestRegistry } from "../helpers/registry";
import { runBuiltAction, type ActionRun } from "../helpers/run-action";
import { ensureToolbox, inToolbox, TOOLBOX_BUILD_TIMEOUT_MS, toolboxUnavailable } from "../helpers/toolbox";
import { missingTools } from "../helpers/tools";

const REF = "org.opencontainers.image.ref.name";
const USER = "pusher";
const PASSWORD = "publish-image-e2e-password";

interface Entry {
  mediaType: string;
  digest: string;
  size: number;
  annotations?: Record<string, string>;
}

/** Renames the layout's manifests (the helper names its one `latest`) or adds entries beside them. */
async function setIndex(layout: string, entries: Entry[]): Promise<void> {
  const index = {
    schemaVersion: 2,
    mediaType: "application/vnd.oci.image.index.v1+json",
    manifests: entries,
  };
  await writeFile(join(layout, "index.json"), JSON.stringify(index));
}

const named = (entry: Entry, name: string): Entry => ({ ...entry, annotations: { [REF]: name } });

const errorOf = (run: ActionRun) => run.annotations.find((a) => a.level === "error")?.message ?? "";

/**
 * actions/publish-image through the local runner (its action.yml and dist bundle, as `frostyard-build run
 * publish-image` runs it) against a real registry that requires a password. The layouts are written by the
 * test helpers (GNU tar, node's gzip), not by packages/oci; what the registry holds is read back by an
 * independent client, trixie's skopeo.
 */
describe.skipIf(toolboxUnavailable() || missingTools("docker-registry", "htpasswd", ...IMAGE_TOOLS))(
  "actions/publish-image",
  () => {
    let registry: TestRegistry;
    let work: string;
    const layouts: string[] = [];
    const login = { "registry-username": USER, "registry-password": PASSWORD };

    /** skopeo inspect --raw of `reference` in the registry, with the test's login in an auth file. */
    async function rawManifest(
      reference: string,
    ): Promise<{ code: number | null; stdout: string; stderr: string }> {
      return inToolbox(
        [
          "skopeo",
          "inspect",
          "--raw",
          "--tls-verify=false",
          "--authfile",
          join(work, "auth.json"),
          `docker://${registry.host}/${reference}`,
        ],
        { binds: [work] },
      );
    }

    async function layoutWith(content: string) {
      const built = await buildTestImageLayout({ content });
      layouts.push(built.dir);
      return built;
    }

    beforeAll(async () => {
      registry = await startRegistry({ htpasswd: { user: USER, password: PASSWORD } });
      work = await realpath(await mkdtemp(join(tmpdir(), "frostyard-publish-image-")));
      await writeFile(
        join(work, "auth.json"),
        authFileJson({ [registry.host]: { user: USER, password: PASSWORD } }),
        {
          mode: 0o600,
        },
      );
      await ensureToolbox();
    }, TOOLBOX_BUILD_TIMEOUT_MS);
    afterAll(async () => {
      await registry?.stop();
      for (const dir of [work, ...layouts]) if (dir) await rm(dir, { recursive: true, force: true });
    });

    test("pushes the layout's manifest by digest under the version, and refuses another image under it", async () => {
      const first = await layoutWith("first build");
      const { platform: _platform, ...descriptor } = first.image.descriptor;
      await setIndex(first.dir, [named(descriptor, "2026.12.04")]);

      const result = await runBuiltAction("publish-image", {
        workdir: work,
        inputs: {
          "oci-layout": first.dir,
          image: `${registry.host}/acme/os`,
          version: "2026.12.04",
          tags: "edge",
          ...login,
        },
      });
      expect(result.annotations.filter((a) => a.level === "error")).toEqual([]);
      expect(result.failed).toBe(false);
      const digest = descriptor.digest;
      expect(result.outputs.digest).toBe(digest);
      expect(result.outputs.image).toBe(`${registry.host}/acme/os@${digest}`);
      expect(JSON.parse(result.outputs.tags ?? "[]")).toEqual(["2026.12.04", "edge"]);
      expect(result.summary).toContain(`| image | \`${registry.host}/acme/os@${digest}\` |`);
      // The password went in through the environment (INPUT_*) and is masked in the log the runner shows.
      expect(result.masks).toContain(PASSWORD);
      expect(result.log.join("\n")).not.toContain(PASSWORD);

      for (const tag of ["2026.12.04", "edge"]) {
        const raw = await rawManifest(`acme/os:${tag}`);
        expect(raw.code, raw.stderr).toBe(0);
        expect(`sha256:${createHash("sha256").update(raw.stdout).digest("hex")}`).toBe(digest);
        expect(Buffer.from(raw.stdout).equals(first.image.manifest)).toBe(true);
      }

      // The same image again under its version: nothing to refuse.
      const again = await runBuiltAction("publish-image", {
        workdir: work,
        inputs: {
          "oci-layout": first.dir,
          image: `${registry.host}/acme/os`,
          version: "2026.12.04",
          ...login,
        },
      });
      expect(again.failed, errorOf(again)).toBe(false);
      expect(again.outputs.digest).toBe(digest);

      // Another build under the same version is refused before anything moves.
      const second = await layoutWith("second build");
      const { platform: _p2, ...secondDescriptor } = second.image.descriptor;
      await setIndex(second.dir, [named(secondDescriptor, "2026.12.04")]);
      expect(secondDescriptor.digest).not.toBe(digest);
      const refused = await runBuiltAction("publish-image", {
        workdir: work,
        inputs: {
          "oci-layout": second.dir,
          image: `${registry.host}/acme/os`,
          version: "2026.12.04",
          ...login,
        },
      });
      expect(refused.failed).toBe(true);
      expect(errorOf(refused)).toMatch(
        new RegExp(
          `^input 'version': ${registry.host}/acme/os:2026\\.12\\.04 already exists as ${digest}; this build is ${secondDescriptor.digest}, and a version tag is immutable; expected a new version, or overwrite-version: true`,
        ),
      );
      const after = await rawManifest("acme/os:2026.12.04");
      expect(`sha256:${createHash("sha256").update(after.stdout).digest("hex")}`).toBe(digest);
    });

    test("a layout with several manifests: ref-name picks one, and without it the names are listed", async () => {
      const built = await layoutWith("several one");
      const other = await writeTestImageBlobs(built.dir, { content: "several two", architecture: "amd64" });
      const { platform: _a, ...one } = built.image.descriptor;
      const { platform: _b, ...two } = other.descriptor;
      await setIndex(built.dir, [named(one, "1.0"), named(two, "1.1")]);
      const inputs = {
        "oci-layout": built.dir,
        image: `${registry.host}/acme/several`,
        version: "1.1",
        ...login,
      };

      const unnamed = await runBuiltAction("publish-image", { workdir: work, inputs });
      expect(unnamed.failed).toBe(true);
      expect(errorOf(unnamed)).toMatch(
        /^input 'ref-name': is empty and \S+ holds 2 manifests \(named: 1\.0, 1\.1\)/,
      );
      expect((await rawManifest("acme/several:1.1")).code).not.toBe(0);

      const chosen = await runBuiltAction("publish-image", {
        workdir: work,
        inputs: { ...inputs, "ref-name": "1.1" },
      });
      expect(chosen.failed, errorOf(chosen)).toBe(false);
      expect(chosen.outputs.digest).toBe(two.digest);
      const raw = await rawManifest("acme/several:1.1");
      expect(raw.code, raw.stderr).toBe(0);
      expect(`sha256:${createHash("sha256").update(raw.stdout).digest("hex")}`).toBe(two.digest);
    });

    test("a directory that is not a layout names the oci-layout input", async () => {
      const run = await runBuiltAction("publish-image", {
        workdir: work,
        inputs: { "oci-layout": work, image: `${registry.host}/acme/os`, version: "3.0", ...login },
      });
      expect(run.failed).toBe(true);
      expect(errorOf(run)).toMatch(
        /^input 'oci-layout': \S+: \S+ is not an OCI image layout: it has no oci-layout file/,
      );
    });
  },
);
