import { execFileSync } from "node:child_process";
import { createHash } from "node:crypto";
import { existsSync } from "node:fs";
import { chmod, mkdir, mkdtemp, readdir, readFile, rm, writeFile } from "node:fs/promises";
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, test } from "vitest";
import {
  installTool,
  recordingLogger,
  toolCacheRecordPath,
  type ToolCacheRecord,
  type ToolDownload,
} from "@frostyard/kit";
import { missingTools } from "../helpers/tools";

const sha256 = (bytes: Buffer) => createHash("sha256").update(bytes).digest("hex");

describe.skipIf(missingTools("tar", "xz", "zip", "unzip"))("installTool against a local HTTP server", () => {
  let root: string;
  let server: Server;
  let base: string;
  const files = new Map<string, Buffer>();
  const requests: string[] = [];
  const savedEnv = { cache: process.env.RUNNER_TOOL_CACHE, temp: process.env.RUNNER_TEMP };

  /** Builds `hello` scripts that print their version, packed the way real releases ship them. */
  async function pack(version: string): Promise<void> {
    const src = join(root, "src", version);
    await mkdir(join(src, `hello-${version}`, "bin"), { recursive: true });
    const script = join(src, `hello-${version}`, "bin", "hello");
    await writeFile(script, `#!/bin/sh\necho "hello ${version}"\n`);
    await chmod(script, 0o755);
    const out = join(root, "out");
    await mkdir(out, { recursive: true });
    execFileSync("tar", ["czf", join(out, `hello-${version}.tar.gz`), "-C", src, `hello-${version}`]);
    execFileSync("tar", ["cJf", join(out, `hello-${version}.tar.xz`), "-C", src, `hello-${version}`]);
    execFileSync("zip", ["-qr", join(out, `hello-${version}.zip`), `hello-${version}`], { cwd: src });
    for (const name of [`hello-${version}.tar.gz`, `hello-${version}.tar.xz`, `hello-${version}.zip`]) {
      files.set(`/${name}`, await readFile(join(out, name)));
    }
    files.set(`/hello-${version}-linux-amd64`, await readFile(script));
  }

  function download(path: string, overrides: Partial<ToolDownload> = {}): ToolDownload {
    const bytes = files.get(path);
    if (!bytes) throw new Error(`test setup: nothing served at ${path}`);
    return {
      tool: "hello",
      version: "1.2.3",
      platform: "linux",
      arch: "x64",
      url: `${base}${path}`,
      sha256: sha256(bytes),
      archive: "tar.gz",
      binaries: ["hello-1.2.3/bin/hello"],
      ...overrides,
    };
  }

  const run = (binary: string) => execFileSync(binary, { encoding: "utf8" });
  const cacheRoot = () => process.env.RUNNER_TOOL_CACHE!;
  const tempLeftovers = async () => readdir(process.env.RUNNER_TEMP!);

  beforeAll(async () => {
    root = await mkdtemp(join(tmpdir(), "kit-tools-"));
    process.env.RUNNER_TOOL_CACHE = join(root, "toolcache");
    process.env.RUNNER_TEMP = join(root, "temp");
    await mkdir(process.env.RUNNER_TEMP, { recursive: true });
    for (const version of ["1.2.3", "2.0.0", "25.3", "0.9.0"]) await pack(version);
    server = createServer((req, res) => {
      requests.push(req.url ?? "");
      const body = files.get(req.url ?? "");
      if (body) res.writeHead(200, { "content-length": body.length }).end(body);
      else res.writeHead(404).end("not found");
    });
    await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
    base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  });

  afterAll(async () => {
    await new Promise((resolve) => server.close(resolve));
    await rm(root, { recursive: true, force: true });
    for (const [key, value] of [
      ["RUNNER_TOOL_CACHE", savedEnv.cache],
      ["RUNNER_TEMP", savedEnv.temp],
    ] as const) {
      if (value === undefined) delete process.env[key];
      else process.env[key] = value;
    }
  });

  test("a good checksum installs; the second call is a cache hit with no request", async () => {
    const logger = recordingLogger();
    const first = await installTool(download("/hello-1.2.3.tar.gz"), { logger });
    expect(first.cached).toBe(false);
    expect(first.dir).toBe(join(cacheRoot(), "hello", "1.2.3", "x64"));
    expect(first.binaries).toEqual({ hello: join(first.dir, "hello-1.2.3/bin/hello") });
    expect(run(first.binaries.hello!)).toBe("hello 1.2.3\n");
    expect(requests).toEqual(["/hello-1.2.3.tar.gz"]);
    expect(await tempLeftovers()).toEqual([]); // the download and the extraction are gone

    const second = await installTool(download("/hello-1.2.3.tar.gz"), { logger });
    expect(second).toEqual({ ...first, cached: true });
    expect(requests).toEqual(["/hello-1.2.3.tar.gz"]);
    expect(logger.lines.at(-1)).toBe(`hello 1.2.3 (x64) found in the tool cache: ${first.dir}`);
  });

  describe("a cache hit is re-hashed against the record the install wrote", () => {
    // Each case gets its own tool name: a fresh install, then the cache entry is tampered with the way a
    // planted tool would be on a self-hosted runner whose RUNNER_TOOL_CACHE outlives the job.
    const entry = (tool: string) => download("/hello-1.2.3.tar.gz", { tool });
    const binary = (dir: string) => join(dir, "hello-1.2.3/bin/hello");

    test("the install records the download's sha256 and every file's", async () => {
      const installed = await installTool(entry("hello-record"), { logger: recordingLogger() });
      const record = JSON.parse(
        await readFile(toolCacheRecordPath(installed.dir), "utf8"),
      ) as ToolCacheRecord;
      expect(toolCacheRecordPath(installed.dir)).toBe(
        `${join(cacheRoot(), "hello-record", "1.2.3", "x64")}.sha256.json`,
      );
      expect(record).toEqual({
        archiveSha256: entry("hello-record").sha256,
        files: { "hello-1.2.3/bin/hello": `sha256:${sha256(await readFile(binary(installed.dir)))}` },
      });
    });

    test("Python's __pycache__ written into the tree by a run is removed, not trusted, and the entry stays a hit", async () => {
      const installed = await installTool(entry("hello-pycache"), { logger: recordingLogger() });
      await mkdir(join(installed.dir, "hello-1.2.3/bin/__pycache__"));
      await writeFile(join(installed.dir, "hello-1.2.3/bin/__pycache__/hello.cpython-311.pyc"), "bytecode");
      const before = requests.length;
      const again = await installTool(entry("hello-pycache"), { logger: recordingLogger() });
      expect(again.cached).toBe(true);
      expect(requests.length).toBe(before);
      expect(existsSync(join(installed.dir, "hello-1.2.3/bin/__pycache__"))).toBe(false);
    });

    test.each<[string, (dir: string) => Promise<void>, RegExp]>([
      [
        "a planted binary",
        async (dir) => writeFile(binary(dir), '#!/bin/sh\necho "planted"\n', { mode: 0o755 }),
        /does not hash as installed: hello-1\.2\.3\/bin\/hello \(sha256:[0-9a-f]{64}, recorded sha256:[0-9a-f]{64}\)/,
      ],
      [
        "a file added beside the binary",
        async (dir) => writeFile(join(dir, "hello-1.2.3/bin/libpreload.so"), "x"),
        /does not hash as installed: hello-1\.2\.3\/bin\/libpreload\.so \(not installed by the download\)/,
      ],
      [
        "no record (an entry made by hand, or by an installer that did not record it)",
        async (dir) => rm(toolCacheRecordPath(dir)),
        /has no sha256 record \(.*\.sha256\.json\), so nothing shows it came from the pinned download/,
      ],
      [
        "a record of another download",
        async (dir) => {
          const record = JSON.parse(await readFile(toolCacheRecordPath(dir), "utf8")) as ToolCacheRecord;
          await writeFile(
            toolCacheRecordPath(dir),
            JSON.stringify({ ...record, archiveSha256: "cd".repeat(32) }),
          );
        },
        /was installed from another download \(sha256 (cd){32}, pinned [0-9a-f]{64}\)/,
      ],
    ])(
      "%s: warned about, discarded and installed afresh from the pinned download",
      async (_, tamper, why) => {
        const tool = `hello-tamper-${requests.length}`;
        const first = await installTool(entry(tool), { logger: recordingLogger() });
        await tamper(first.dir);
        const before = requests.length;

        const logger = recordingLogger();
        const second = await installTool(entry(tool), { logger });
        expect(second).toEqual({ ...first, cached: false });
        expect(requests.length).toBe(before + 1);
        const warning = logger.lines.find((l) => l.startsWith("warning: "));
        expect(warning).toMatch(why);
        expect(warning).toContain(`discarding it and downloading it again from ${entry(tool).url}`);
        expect(run(second.binaries.hello!)).toBe("hello 1.2.3\n");
        expect(existsSync(join(second.dir, "hello-1.2.3/bin/libpreload.so"))).toBe(false);

        // The fresh entry is trusted again: the next call is a hit with no request.
        const third = await installTool(entry(tool), { logger: recordingLogger() });
        expect(third.cached).toBe(true);
        expect(requests.length).toBe(before + 1);
      },
    );
  });

  test("a wrong checksum is refused with both sums, and nothing is cached or left behind", async () => {
    const good = download("/hello-2.0.0.tar.gz", { version: "2.0.0", binaries: ["hello-2.0.0/bin/hello"] });
    const wrong = "ab".repeat(32);
    const attempt = installTool({ ...good, sha256: wrong }, { logger: recordingLogger() });
    await expect(attempt).rejects.toThrow(
      `checksum mismatch for hello 2.0.0 (x64) from ${good.url}: expected sha256 ${wrong}, got ${good.sha256}; ` +
        "the download was deleted and nothing was cached",
    );
    expect(existsSync(join(cacheRoot(), "hello", "2.0.0"))).toBe(false);
    expect(await tempLeftovers()).toEqual([]);
  });

  test.each<[string, ToolDownload["archive"]]>([
    ["/hello-2.0.0.tar.xz", "tar.xz"],
    ["/hello-2.0.0.zip", "zip"],
  ])("%s (%s) extracts to a runnable binary", async (path, archive) => {
    const tool = `hello-${archive.replace(".", "")}`;
    const installed = await installTool(
      download(path, { tool, version: "2.0.0", archive, binaries: ["hello-2.0.0/bin/hello"] }),
      { logger: recordingLogger() },
    );
    expect(installed.dir).toBe(join(cacheRoot(), tool, "2.0.0", "x64"));
    expect(run(installed.binaries.hello!)).toBe("hello 2.0.0\n");
  });

  test("a bare binary ('none') is cached under its name and made executable", async () => {
    const installed = await installTool(
      download("/hello-0.9.0-linux-amd64", {
        tool: "hello-bare",
        version: "0.9.0",
        archive: "none",
        binaries: ["hello"],
      }),
      { logger: recordingLogger() },
    );
    expect(installed.binaries).toEqual({ hello: join(cacheRoot(), "hello-bare", "0.9.0", "x64", "hello") });
    expect(run(installed.binaries.hello!)).toBe("hello 0.9.0\n");
  });

  test("a version that is not semver ('25.3') is found again at its exact directory", async () => {
    const entry = download("/hello-25.3.tar.gz", {
      tool: "hello-mkosi",
      version: "25.3",
      binaries: ["hello-25.3/bin/hello"],
    });
    const first = await installTool(entry, { logger: recordingLogger() });
    const before = requests.length;
    const second = await installTool(entry, { logger: recordingLogger() });
    expect(first.cached).toBe(false);
    expect(second.cached).toBe(true);
    expect(second.dir).toBe(join(cacheRoot(), "hello-mkosi", "25.3", "x64"));
    expect(requests.length).toBe(before);
    expect(run(second.binaries.hello!)).toBe("hello 25.3\n");
  });

  test("a binary the archive lacks is named, and nothing is cached", async () => {
    const entry = download("/hello-1.2.3.tar.gz", {
      tool: "hello-missing",
      binaries: ["hello-1.2.3/bin/hello", "bin/helper"],
    });
    await expect(installTool(entry, { logger: recordingLogger() })).rejects.toThrow(
      `the tar.gz download of hello-missing 1.2.3 from ${entry.url} does not contain bin/helper`,
    );
    expect(existsSync(join(cacheRoot(), "hello-missing"))).toBe(false);
    expect(await tempLeftovers()).toEqual([]);
  });

  test("a 404 names the tool and the url", async () => {
    const entry = { ...download("/hello-1.2.3.tar.gz", { tool: "hello-gone" }), url: `${base}/nope.tar.gz` };
    await expect(installTool(entry, { logger: recordingLogger() })).rejects.toThrow(
      new RegExp(`^downloading hello-gone 1\\.2\\.3 from ${entry.url.replace(/[.]/g, "\\.")} failed: .*404`),
    );
  });

  test("a malformed pinned sha256 is refused before any download", async () => {
    const before = requests.length;
    await expect(
      installTool(download("/hello-1.2.3.tar.gz", { tool: "hello-bad-pin", sha256: "sha256:abc" }), {
        logger: recordingLogger(),
      }),
    ).rejects.toThrow("the pinned sha256 of hello-bad-pin 1.2.3 (x64) is not 64 hex digits: 'sha256:abc'");
    expect(requests.length).toBe(before);
  });
});
