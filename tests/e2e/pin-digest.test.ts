import { execFile } from "node:child_process";
import { readFile, rm, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { promisify } from "node:util";
import { afterAll, beforeAll, describe, expect, test } from "vitest";
import { recordingLogger } from "@frostyard/kit";
import { CredentialStore, RegistryClient } from "@frostyard/oci";
import { pinDigests, registryResolver } from "@frostyard/pin-digest";
import { copyFixtureRepo } from "../fixtures/pin-digest/fixture";
import { IMAGE_TOOLS, pushMultiArchIndex, pushTestImage } from "../helpers/images";
import { freePort, startRegistry, type TestRegistry } from "../helpers/registry";
import { missingTools } from "../helpers/tools";

/**
 * pin-digest's library against a real registry (Debian's docker-registry, distribution 2.8) on
 * 127.0.0.1, once open and once behind htpasswd, with images (a multi-arch index among them) pushed by
 * skopeo from locally built contents.
 */

const skip = missingTools("docker-registry", ...IMAGE_TOOLS);
const run = promisify(execFile);

describe.skipIf(skip)("pinDigests against a real registry", () => {
  let open: TestRegistry;
  let locked: TestRegistry;
  const pushed: Record<string, string> = {};
  let platformDigests: string[] = [];
  const dirs: string[] = [];

  beforeAll(async () => {
    [open, locked] = await Promise.all([
      startRegistry(),
      startRegistry({ htpasswd: { user: "pinner", password: "s3cret-pin" } }),
    ]);
    const index = await pushMultiArchIndex(open.host, "multi:1");
    pushed["multi:1"] = index.indexDigest;
    platformDigests = Object.values(index.platformDigests);
    for (const [repoTag, content] of [
      ["base:1", "base"],
      ["db:1", "db"],
      ["tools:2", "tools"],
    ] as const) {
      pushed[repoTag] = await pushTestImage(open.host, repoTag, { content });
    }
    pushed["private:1"] = await pushTestImage(locked.host, "private:1", {
      content: "private",
      credentials: locked.credentials,
    });
  });
  afterAll(async () => {
    await Promise.all([
      open?.stop(),
      locked?.stop(),
      ...dirs.map((d) => rm(d, { recursive: true, force: true })),
    ]);
  });

  async function repo(host: string) {
    const dir = await copyFixtureRepo(host);
    dirs.push(dir);
    return dir;
  }

  test("pins every image to the digest the registry serves, a multi-arch tag to its index, with HEAD requests only", async () => {
    const root = await repo(open.host);
    const client = new RegistryClient({ retry: { attempts: 1 } });
    const report = await pinDigests({
      root,
      mode: "pin",
      include: "images",
      images: registryResolver(client),
      logger: recordingLogger(),
    });

    const compose = await readFile(join(root, "compose.yaml"), "utf8");
    expect(compose).toContain(`image: ${open.host}/multi:1@${pushed["multi:1"]} # web tier`);
    for (const d of platformDigests) expect(compose).not.toContain(d);
    // skopeo reads the tag back to the same digest we wrote: the index, not a platform manifest.
    const { stdout } = await run("skopeo", [
      "inspect",
      "--raw",
      "--tls-verify=false",
      `docker://${open.host}/multi:1`,
    ]);
    expect(JSON.parse(stdout).mediaType).toBe("application/vnd.oci.image.index.v1+json");

    const containerfile = await readFile(join(root, "Containerfile"), "utf8");
    expect(containerfile).toContain(
      `FROM --platform=$BUILDPLATFORM ${open.host}/base:1@${pushed["base:1"]} AS build`,
    );
    expect(containerfile).toContain(`COPY --from=${open.host}/tools:2@${pushed["tools:2"]} /bin/busybox`);

    expect(report.outcomes.filter((o) => o.status === "error")).toEqual([
      expect.objectContaining({
        file: "app/Dockerfile.release",
        line: 2,
        message: `'${open.host}/missing:1': no such tag in the registry (manifest unknown)`,
      }),
    ]);
    // 5 distinct references (base, tools, db, multi, missing), each looked up once; no GETs at all.
    expect(report.lookups.images).toBe(5);
    expect(client.stats.byMethod).toEqual({ HEAD: 5 });
  });

  test("update refreshes a pin whose tag moved and leaves the others alone", async () => {
    const root = await repo(open.host);
    await pinDigests({
      root,
      mode: "pin",
      include: "images",
      images: registryResolver(new RegistryClient()),
      logger: recordingLogger(),
    });
    const moved = await pushTestImage(open.host, "db:1", { content: "db, rebuilt" });
    expect(moved).not.toBe(pushed["db:1"]);
    try {
      const report = await pinDigests({
        root,
        mode: "update",
        include: "images",
        images: registryResolver(new RegistryClient()),
        logger: recordingLogger(),
      });
      expect(
        report.outcomes.filter((o) => o.status === "updated").map((o) => `${o.file}:${o.line} ${o.new}`),
      ).toEqual([
        `.github/workflows/ci.yml:11 ${open.host}/db:1@${moved}`,
        `compose.yaml:5 ${open.host}/db:1@${moved}`,
      ]);
      // 7: the ARG line of FROM ${BASE} too.
      expect(report.outcomes.filter((o) => o.status === "up-to-date")).toHaveLength(7);
      expect(await readFile(join(root, "compose.yaml"), "utf8")).toContain(`"${open.host}/db:1@${moved}"`);
    } finally {
      pushed["db:1"] = await pushTestImage(open.host, "db:1", { content: "db" });
    }
  });

  test("htpasswd registry: without credentials a per-reference 401 error; with them, pinned", async () => {
    const root = await repo(open.host);
    const paths = ["Containerfile"];
    await writeFile(join(root, "Containerfile"), `FROM ${locked.host}/private:1\nFROM ${open.host}/base:1\n`);

    const anonymous = new CredentialStore({ authFiles: [] });
    const denied = await pinDigests({
      root,
      paths,
      mode: "pin",
      images: registryResolver(new RegistryClient({ credentials: anonymous, retry: { attempts: 1 } })),
      logger: recordingLogger(),
    });
    expect(denied.outcomes.map((o) => o.status)).toEqual(["error", "pinned"]);
    expect(denied.outcomes[0]!.message).toContain(`${locked.host}/private:1`);
    expect(denied.outcomes[0]!.message).toContain("authentication required");
    expect(await readFile(join(root, "Containerfile"), "utf8")).toBe(
      `FROM ${locked.host}/private:1\nFROM ${open.host}/base:1@${pushed["base:1"]}\n`,
    );

    const store = new CredentialStore({ authFiles: [] });
    store.set(locked.host, { username: "pinner", password: "s3cret-pin" });
    const allowed = await pinDigests({
      root,
      paths,
      mode: "pin",
      images: registryResolver(new RegistryClient({ credentials: store })),
      logger: recordingLogger(),
    });
    expect(allowed.outcomes.map((o) => o.status)).toEqual(["pinned", "already-pinned"]);
    expect(await readFile(join(root, "Containerfile"), "utf8")).toContain(
      `FROM ${locked.host}/private:1@${pushed["private:1"]}\n`,
    );
  });

  test("an unreachable registry is that reference's error; the rest are pinned", async () => {
    const root = await repo(open.host);
    const closed = `127.0.0.1:${await freePort()}`;
    await writeFile(join(root, "Containerfile"), `FROM ${closed}/gone:1\nFROM ${open.host}/tools:2\n`);
    const report = await pinDigests({
      root,
      paths: ["Containerfile"],
      mode: "pin",
      images: registryResolver(new RegistryClient({ retry: { attempts: 1 } })),
      logger: recordingLogger(),
    });
    expect(report.outcomes.map((o) => o.status)).toEqual(["error", "pinned"]);
    expect(report.outcomes[0]!.message).toContain(`${closed}/gone:1`);
    expect(report.outcomes[0]!.message).toContain("ECONNREFUSED");
  });
});
