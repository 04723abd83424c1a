import { execFileSync } from "node:child_process";
import { createHash } from "node:crypto";
import { existsSync } from "node:fs";
import { chmod, cp, mkdir, mkdtemp, readdir, readFile, rm, writeFile } from "node:fs/promises";
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, test } from "vitest";
import { recordingLogger } from "@frostyard/kit";
import { DEFAULT_MKOSI_REF, installMkosi, MKOSI_PINS, resolveMkosiSource } from "@frostyard/mkosi";
import { ensureToolbox, inToolbox, toolboxUnavailable, TOOLBOX_BUILD_TIMEOUT_MS } from "../helpers/toolbox";
import { missingTools } from "../helpers/tools";

/**
 * The install path against a local HTTP server standing in for github.com/systemd/mkosi/archive: a real
 * mkosi source tree (the toolbox's mkosi 25.3 Python package, plus a bin/mkosi launcher as upstream's
 * tree has, run with the toolbox's python3) packed the way GitHub packs a commit (`mkosi-<commit>/…` in a .tar.gz).
 */

const COMMIT = "4f0d5a1c2b3e4f5a6b7c8d9e0f1a2b3c4d5e6f70";
const sha256 = (bytes: Buffer) => createHash("sha256").update(bytes).digest("hex");

describe.skipIf(toolboxUnavailable() || missingTools("tar", "gzip"))(
  "installMkosi from a served source tarball",
  () => {
    let root: string;
    let server: Server;
    let base: string;
    let tarball: Buffer;
    let releaseTarball: Buffer | undefined;
    /** `mkosi --version` of the toolbox's own mkosi, whose tree is served: whatever trixie ships now. */
    let toolboxVersion: string;
    const requests: string[] = [];
    const savedEnv = { cache: process.env.RUNNER_TOOL_CACHE, temp: process.env.RUNNER_TEMP };

    beforeAll(async () => {
      const toolbox = await ensureToolbox();
      const printed = await inToolbox(["mkosi", "--version"]);
      if (printed.code !== 0) throw new Error(`the toolbox's mkosi --version exited ${printed.code}`);
      toolboxVersion = printed.stdout;
      root = await mkdtemp(join(tmpdir(), "frostyard-mkosi-install-"));
      const tree = join(root, "src", `mkosi-${COMMIT}`);
      await mkdir(join(tree, "bin"), { recursive: true });
      await cp(join(toolbox.root, "usr/lib/python3/dist-packages/mkosi"), join(tree, "mkosi"), {
        recursive: true,
        filter: (path) => !path.includes("__pycache__"),
      });
      // Like upstream's bin/mkosi: run the tree's package with the host's python3.
      await writeFile(
        join(tree, "bin/mkosi"),
        '#!/bin/sh\nPYTHONPATH="$(dirname "$(dirname "$(readlink -f "$0")")")"\nexport PYTHONPATH\nexec python3 -B -m mkosi "$@"\n',
      );
      await chmod(join(tree, "bin/mkosi"), 0o644); // the installer makes it executable
      execFileSync("tar", ["czf", join(root, "archive.tar.gz"), "-C", join(root, "src"), `mkosi-${COMMIT}`]);
      tarball = await readFile(join(root, "archive.tar.gz"));
      server = createServer((request, response) => {
        requests.push(request.url ?? "");
        if (request.url === `/archive/${COMMIT}.tar.gz`) {
          response.writeHead(200, { "content-type": "application/gzip" }).end(tarball);
        } else if (request.url === `/archive/${MKOSI_PINS[0]?.archive}` && releaseTarball) {
          response.writeHead(200, { "content-type": "application/gzip" }).end(releaseTarball);
        } else {
          response.writeHead(404).end();
        }
      });
      await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
      base = `http://127.0.0.1:${(server.address() as AddressInfo).port}/archive`;
      process.env.RUNNER_TOOL_CACHE = join(root, "tool-cache");
      process.env.RUNNER_TEMP = join(root, "temp");
      await mkdir(process.env.RUNNER_TEMP, { recursive: true });
    }, TOOLBOX_BUILD_TIMEOUT_MS);

    afterAll(async () => {
      process.env.RUNNER_TOOL_CACHE = savedEnv.cache;
      process.env.RUNNER_TEMP = savedEnv.temp;
      if (savedEnv.cache === undefined) delete process.env.RUNNER_TOOL_CACHE;
      if (savedEnv.temp === undefined) delete process.env.RUNNER_TEMP;
      await new Promise((resolve) => server?.close(resolve));
      if (root) await rm(root, { recursive: true, force: true });
    });

    test("a wrong checksum is refused: nothing cached, nothing left in RUNNER_TEMP", async () => {
      const source = resolveMkosiSource(COMMIT, "0".repeat(64), []);
      if (source.kind !== "commit") throw new Error("expected a commit source");
      await expect(installMkosi(source, { logger: recordingLogger(), baseUrl: base })).rejects.toThrow(
        new RegExp(`checksum mismatch for mkosi ${COMMIT} .*expected sha256 0{64}, got ${sha256(tarball)}`),
      );
      expect(existsSync(join(process.env.RUNNER_TOOL_CACHE!, "mkosi"))).toBe(false);
      expect(await readdir(process.env.RUNNER_TEMP!)).toEqual([]);
    });

    test("the right checksum installs a working mkosi; the second install reuses the tool cache", async () => {
      const source = resolveMkosiSource(COMMIT, sha256(tarball), []);
      if (source.kind !== "commit") throw new Error("expected a commit source");
      requests.length = 0;
      const first = await installMkosi(source, { logger: recordingLogger(), baseUrl: base });
      expect(first.cached).toBe(false);
      expect(first.path).toBe(
        join(process.env.RUNNER_TOOL_CACHE!, "mkosi", COMMIT, "x64", `mkosi-${COMMIT}`, "bin", "mkosi"),
      );
      // The installed launcher runs the tree with python3 on PATH: the toolbox's (Debian 12 may have none).
      const version = await inToolbox([first.path, "--version"], { binds: [root] });
      expect(toolboxVersion).toMatch(/^mkosi \d+/);
      expect(version).toMatchObject({ code: 0, stdout: toolboxVersion });
      expect(requests).toEqual([`/archive/${COMMIT}.tar.gz`]);

      const logger = recordingLogger();
      const second = await installMkosi(source, { logger, baseUrl: base });
      expect(second).toEqual({ path: first.path, cached: true });
      expect(requests).toHaveLength(1);
      expect(logger.lines.join("\n")).toContain("found in the tool cache");
    });

    test("the default pin is right for the real v25.3 tarball: sha256 matches, its bin/mkosi runs", async (context) => {
      // The pinned sum is Debian's for mkosi_25.3.orig.tar.gz, GitHub's git-archive of the tag; fetching
      // those bytes from the machine's own Debian mirror checks the pin against the real release tree.
      const fetched = await debianOrigTarball("mkosi_25.3.orig.tar.gz").catch((error: Error) => error);
      if (fetched instanceof Error) {
        const reason = `the Debian mirror is unreachable (${fetched.message})`;
        if (process.env.FROSTYARD_REQUIRE_TOOLS === "1")
          throw new Error(`${reason}; FROSTYARD_REQUIRE_TOOLS=1 forbids skipping`);
        console.warn(`SKIP: ${reason}`);
        context.skip(reason);
        return;
      }
      releaseTarball = fetched;
      const source = resolveMkosiSource(DEFAULT_MKOSI_REF, undefined);
      if (source.kind !== "commit") throw new Error("expected the default to be a pinned commit");
      expect(sha256(releaseTarball)).toBe(source.sha256);
      requests.length = 0;
      const installed = await installMkosi(source, { logger: recordingLogger(), baseUrl: base });
      expect(requests).toEqual(["/archive/refs/tags/v25.3.tar.gz"]);
      expect(installed.path.endsWith("/mkosi-25.3/bin/mkosi")).toBe(true);
      const version = await inToolbox([installed.path, "--version"], { binds: [root] });
      expect(version).toMatchObject({ code: 0, stdout: "mkosi 25.3\n" });
    });
  },
);

/** A Debian source tarball from this machine's mirror, cached outside the clone between runs. */
async function debianOrigTarball(name: string): Promise<Buffer> {
  const cacheDir = process.env.FROSTYARD_CACHE ?? "/var/cache/frostyard";
  const cached = join(cacheDir, name);
  if (existsSync(cached)) return readFile(cached);
  const sources = await readFile("/etc/apt/sources.list.d/debian.sources", "utf8");
  const mirror = /^URIs:\s*(\S+)/m.exec(sources)?.[1];
  if (!mirror) throw new Error("no mirror in /etc/apt/sources.list.d/debian.sources");
  const url = `${mirror.replace(/\/+$/, "")}/pool/main/m/mkosi/${name}`;
  const response = await fetch(url, { signal: AbortSignal.timeout(60_000) }).catch((error: Error) => {
    throw new Error(`${url}: ${(error.cause as Error | undefined)?.message ?? error.message}`);
  });
  if (!response.ok) throw new Error(`${name} from ${mirror}: HTTP ${response.status}`);
  const bytes = Buffer.from(await response.arrayBuffer());
  await mkdir(cacheDir, { recursive: true });
  await writeFile(cached, bytes);
  return bytes;
}
