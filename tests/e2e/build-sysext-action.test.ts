import { spawn, type ChildProcess } from "node:child_process";
import { createHash } from "node:crypto";
import { existsSync } from "node:fs";
import { chmod, cp, mkdir, mkdtemp, readdir, readFile, readlink, rm, writeFile } from "node:fs/promises";
import { createServer } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { promisify } from "node:util";
import { execFile } from "node:child_process";
import { afterAll, beforeAll, describe, expect, test } from "vitest";
import { repoRoot, runBuiltAction, type ActionRun } from "../helpers/run-action";
import {
  ensureToolbox,
  inToolbox,
  toolboxUnavailable,
  TOOLBOX_BUILD_TIMEOUT_MS,
  type Toolbox,
} from "../helpers/toolbox";
import { missingTools } from "../helpers/tools";

/**
 * actions/build-sysext end to end through the local runner: mkosi 25.3 from the trixie toolbox builds
 * tests/fixtures/mkosi/sysext-project (a base, vim-tiny with KEYPACKAGE= and an epoch in its version, tools
 * only under the extra profile), the action reads each image back with the toolbox's systemd-dissect (a
 * wrapper first on PATH, as the host's would be on a runner), and the real consumer takes the output:
 * systemd-sysupdate 257 fetches it from 127.0.0.1, checks SHA256SUMS and installs it; a newer build is
 * picked up as an update; a tampered file is refused. The broken profile's extensions are each refused by
 * name, with nothing published.
 */

const run = promisify(execFile);
const skip = toolboxUnavailable() || missingTools("python3", "gpg", "gpgv", "zstd");
const VIM_VERSION = /^2\+9\.1\.\d+-[0-9a-z.+~]+$/;
const sha256 = async (path: string) =>
  createHash("sha256")
    .update(await readFile(path))
    .digest("hex");

async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once("error", reject);
    server.listen(0, "127.0.0.1", () => {
      const address = server.address();
      server.close(() => resolve(typeof address === "object" && address ? address.port : 0));
    });
  });
}

/** python3 -m http.server on 127.0.0.1, stopped by its own pid. */
async function serve(directory: string, port: number): Promise<ChildProcess> {
  const child = spawn(
    "python3",
    ["-m", "http.server", String(port), "--bind", "127.0.0.1", "--directory", directory],
    {
      stdio: "ignore",
    },
  );
  for (let i = 0; i < 50; i++) {
    const up = await fetch(`http://127.0.0.1:${port}/`).then(
      () => true,
      () => false,
    );
    if (up) return child;
    await new Promise((r) => setTimeout(r, 100));
  }
  child.kill();
  throw new Error(`python3 -m http.server did not answer on 127.0.0.1:${port}`);
}

describe.skipIf(skip)(
  "actions/build-sysext through the local runner with mkosi 25 and systemd-sysupdate 257",
  () => {
    let toolbox: Toolbox;
    let scratch: string;
    let project: string;
    let port: number;
    let site: string;
    let server: ChildProcess | undefined;
    let first: ActionRun;
    let firstOut: string;

    const env = () => ({
      ...toolbox.env,
      PATH: `${join(scratch, "bin")}:${toolbox.env.PATH}`,
      FROSTYARD_TOOLBOX_BINDS: scratch,
      FROSTYARD_BUILD_CACHE: join(scratch, "build-cache"),
    });
    const baseInputs = () => ({
      directory: project,
      profiles: "extra",
      "mkosi-ref": "system",
      "work-directory": join(scratch, "work"),
      "source-date-epoch": "1735689600",
      "base-url": `http://127.0.0.1:${port}`,
    });
    const action = (inputs: Record<string, string>) =>
      runBuiltAction("build-sysext", { workdir: scratch, env: env(), inputs, timeoutMs: 900_000 });
    const errors = (r: ActionRun) => r.annotations.filter((a) => a.level === "error").map((a) => a.message);
    /** systemd-sysupdate on a scratch host, for one extension's component. */
    const sysupdate = (root: string, component: string, ...args: string[]) =>
      inToolbox(
        [
          "/usr/lib/systemd/systemd-sysupdate",
          `--root=${root}`,
          `--component=${component}`,
          "--no-pager",
          ...args,
        ],
        { binds: [scratch], timeoutMs: 120_000 },
      );
    /**
     * A scratch host: each extension's component (sysupdate.<name>.d) in its etc/, each feature enabled by a
     * drop-in as an admin would, and the directory the current-version symlinks go in.
     */
    const host = async (name: string, transferDir: string) => {
      const root = join(scratch, name);
      await mkdir(join(root, "etc"), { recursive: true });
      await cp(transferDir, join(root, "etc"), { recursive: true });
      for (const component of await readdir(transferDir)) {
        const extension = /^sysupdate\.(.+)\.d$/.exec(component)?.[1];
        if (!extension) continue;
        const dropIns = join(root, "etc", component, `${extension}.feature.d`);
        await mkdir(dropIns, { recursive: true });
        await writeFile(join(dropIns, "enable.conf"), "[Feature]\nEnabled=true\n");
      }
      await mkdir(join(root, "var/lib/extensions"), { recursive: true });
      await mkdir(join(root, "usr/lib"), { recursive: true });
      await cp(join(scratch, "work/output/base/usr/lib/os-release"), join(root, "usr/lib/os-release"), {
        dereference: true,
      });
      return root;
    };
    const publish = async (from: string) => {
      await rm(site, { recursive: true, force: true });
      await cp(from, site, { recursive: true, verbatimSymlinks: true });
    };

    beforeAll(async () => {
      toolbox = await ensureToolbox();
      scratch = await mkdtemp(join(tmpdir(), "frostyard-build-sysext-"));
      project = join(scratch, "project");
      await cp(join(repoRoot, "tests/fixtures/mkosi/sysext-project"), project, { recursive: true });
      await run(join(repoRoot, "examples/sandbox-from-host.sh"), [project, "trixie"]);
      // The runner's systemd-dissect: here the toolbox's (systemd 257), through its enter script.
      await mkdir(join(scratch, "bin"));
      await writeFile(
        join(scratch, "bin/systemd-dissect"),
        `#!/usr/bin/env bash\nexec ${join(toolbox.binDir, "toolbox-enter")} ${toolbox.root} -- systemd-dissect "$@"\n`,
      );
      await chmod(join(scratch, "bin/systemd-dissect"), 0o755);
      port = await freePort();
      site = join(scratch, "site");
      first = await action({ ...baseInputs(), "image-version": "1.0" });
      // Later runs reuse the work directory, whose default destination they clear: keep this run's set.
      firstOut = join(scratch, "first-output");
      if (first.outputs["output-dir"])
        await cp(first.outputs["output-dir"], firstOut, { recursive: true, verbatimSymlinks: true });
    }, TOOLBOX_BUILD_TIMEOUT_MS + 900_000);

    afterAll(async () => {
      server?.kill();
      if (scratch) await rm(scratch, { recursive: true, force: true });
    });

    test("names each extension from its key package (epoch as +) or the image version; SHA256SUMS and sysupdate files agree", async () => {
      expect(errors(first)).toEqual([]);
      expect(first.failed).toBe(false);
      const sysexts = JSON.parse(first.outputs.sysexts ?? "[]") as {
        name: string;
        version: string;
        file: string;
        sha256: string;
        size: number;
        "key-package"?: string;
        "packages-added": string[];
      }[];
      expect(sysexts.map((s) => s.name).sort()).toEqual(["tools", "vim"]);
      const vim = sysexts.find((s) => s.name === "vim")!;
      expect(vim.version).toMatch(VIM_VERSION);
      expect(vim.file).toBe(`vim_${vim.version}_13_x86-64.raw`);
      expect(vim["key-package"]).toBe("vim-tiny");
      expect(vim["packages-added"]).toEqual(
        expect.arrayContaining([expect.stringMatching(/^vim-tiny=2:9\.1/)]),
      );
      const tools = sysexts.find((s) => s.name === "tools")!;
      expect(tools.file).toBe("tools_1.0_13_x86-64.raw");
      expect(tools["packages-added"]).toEqual(["netbase=6.5"]);

      const out = first.outputs["output-dir"] ?? "";
      expect(out).toBe(join(scratch, "work/output/sysupdate"));
      expect(first.outputs.sha256sums).toBe(join(out, "SHA256SUMS"));
      const sums = await readFile(join(out, "SHA256SUMS"), "utf8");
      for (const s of sysexts) {
        expect(await sha256(join(out, s.file))).toBe(s.sha256);
        expect(sums).toContain(`${s.sha256}  ${s.file}\n`);
        expect(await readlink(join(out, `${s.name}.raw`))).toBe(s.file);
      }
      expect(sums.trim().split("\n")).toHaveLength(2);
      const transferDir = first.outputs["transfer-dir"] ?? "";
      expect(transferDir).toBe(join(out, "sysupdate-definitions"));
      // One component per extension: each has its own versions.
      expect((await readdir(transferDir)).sort()).toEqual(["sysupdate.tools.d", "sysupdate.vim.d"]);
      expect(existsSync(join(transferDir, "sysupdate.tools.d/tools.feature"))).toBe(true);
      const transfer = await readFile(join(transferDir, "sysupdate.vim.d/vim.transfer"), "utf8");
      expect(transfer).toContain(`Path=http://127.0.0.1:${port}/\nMatchPattern=vim_@v_13_x86-64.raw`);
      expect(transfer).toContain("Features=vim");
      expect(first.summary).toMatch(/\| vim +\| 2\+9\.1/);
      // No artifact service on this machine: skipped with a notice, not an error.
      expect(
        first.annotations.some((a) => a.level === "notice" && /Artifact upload skipped/.test(a.message)),
      ).toBe(true);
      expect(first.outputs["artifact-id"]).toBe("");
    });

    test("systemd-sysupdate takes the output: lists, downloads, verifies SHA256SUMS, installs, links the current version", async () => {
      await publish(firstOut);
      server = await serve(site, port);
      const root = await host("host", join(firstOut, "sysupdate-definitions"));
      const sysexts = JSON.parse(first.outputs.sysexts ?? "[]") as {
        name: string;
        version: string;
        file: string;
        sha256: string;
      }[];
      const listed = await sysupdate(root, "vim", "list");
      expect(listed.stdout).toMatch(
        new RegExp(`${sysexts.find((s) => s.name === "vim")!.version.replace(/[+.]/g, "\\$&")} .*candidate`),
      );
      for (const s of sysexts) {
        const updated = await sysupdate(root, s.name, "update");
        expect(updated.stderr + updated.stdout).not.toMatch(/Failed/);
        expect(updated.code).toBe(0);
      }
      for (const s of sysexts) {
        const installed = join(root, "var/lib/extensions.d", s.file);
        expect(await sha256(installed)).toBe(s.sha256);
        expect(await readlink(join(root, "var/lib/extensions", `${s.name}.raw`))).toContain(s.file);
      }
      // The installed extension, as systemd reads it.
      const vim = sysexts.find((s) => s.name === "vim")!;
      const tree = await inToolbox(
        ["systemd-dissect", "--mtree", join(root, "var/lib/extensions.d", vim.file)],
        {
          binds: [scratch],
        },
      );
      expect(tree.stdout).toMatch(/^\.\/usr\/bin\/vim\.tiny type=file/m);
      expect(tree.stdout).toMatch(/^\.\/usr\/lib\/extension-release\.d\/extension-release\.vim type=file/m);
    });

    test("a second build with a newer version is an update; previous-sha256sums reports it", async () => {
      const previous = join(scratch, "SHA256SUMS.previous");
      await cp(join(firstOut, "SHA256SUMS"), previous);
      const second = await action({
        ...baseInputs(),
        "image-version": "1.1",
        revision: "1",
        "previous-sha256sums": previous,
        compression: "zstd",
      });
      expect(errors(second)).toEqual([]);
      // zstd: a compressed copy beside each .raw, summed too, holding the same bytes.
      const out = second.outputs["output-dir"] ?? "";
      const sums = await readFile(join(out, "SHA256SUMS"), "utf8");
      for (const s of JSON.parse(second.outputs.sysexts ?? "[]") as {
        file: string;
        sha256: string;
        compressed: string;
      }[]) {
        expect(s.compressed).toBe(`${s.file}.zst`);
        expect(sums).toContain(`${await sha256(join(out, s.compressed))}  ${s.compressed}\n`);
        const { stdout } = await run("sh", ["-c", 'zstd -dc "$0" | sha256sum', join(out, s.compressed)]);
        expect(stdout.split(" ")[0]).toBe(s.sha256);
      }
      const changes = JSON.parse(second.outputs.changes ?? "{}") as {
        updated: { name: string; from: string; to: string }[];
      };
      expect(changes.updated.map((c) => c.name).sort()).toEqual(["tools", "vim"]);
      expect(changes.updated.find((c) => c.name === "tools")).toEqual({
        name: "tools",
        from: "1.0",
        to: "1.1-1",
      });
      expect(second.summary).toContain("Since the previous SHA256SUMS");
      await publish(second.outputs["output-dir"] ?? "");
      const root = join(scratch, "host");
      const listed = await sysupdate(root, "tools", "list");
      expect(listed.stdout).toMatch(/1\.1-1 .*candidate/);
      const sysexts = JSON.parse(second.outputs.sysexts ?? "[]") as { name: string; file: string }[];
      for (const s of sysexts) {
        // With --root, systemd-sysupdate 257 chases an existing CurrentSymlink= to its target and replaces the
        // old version's file with the new link (seen here: "Updated symlink '<root>/var/lib/extensions.d/
        // tools_1.0_…raw' → …"); on a host, without --root, the link itself is replaced. The scratch root
        // drops its links first, so what is checked is the update, not that quirk of --root.
        await rm(join(root, "var/lib/extensions", `${s.name}.raw`));
        const updated = await sysupdate(root, s.name, "update");
        expect(updated.stderr + updated.stdout).not.toMatch(/Failed/);
        expect(updated.code).toBe(0);
        expect(await readlink(join(root, "var/lib/extensions", `${s.name}.raw`))).toContain(s.file);
      }
      // InstancesMax=2: the first version is kept beside the new one.
      expect(
        (await readdir(join(root, "var/lib/extensions.d"))).filter((f) => f.startsWith("tools_")).sort(),
      ).toEqual(["tools_1.0_13_x86-64.raw", "tools_1.1-1_13_x86-64.raw"]);
      expect((await sysupdate(root, "tools", "list")).stdout).toMatch(/1\.1-1 .*current/);
    }, 900_000);

    test("a tampered file is refused: nothing installed", async () => {
      const sysexts = JSON.parse(first.outputs.sysexts ?? "[]") as { name: string; file: string }[];
      await publish(firstOut);
      const vim = sysexts.find((s) => s.name === "vim")!;
      const bytes = await readFile(join(site, vim.file));
      bytes[bytes.length - 1] = bytes[bytes.length - 1]! ^ 0xff;
      await writeFile(join(site, vim.file), bytes);
      const root = await host("tampered-host", join(firstOut, "sysupdate-definitions"));
      const updated = await sysupdate(root, "vim", "update");
      expect(updated.code).not.toBe(0);
      expect(updated.stderr).toMatch(/checksum|SHA256|digest|hash/i);
      expect(existsSync(join(root, "var/lib/extensions.d", vim.file))).toBe(false);
    });

    test("the broken profile: each bad extension named with its reason, nothing published", async () => {
      const broken = await action({ ...baseInputs(), profiles: "extra,broken", "image-version": "2.0" });
      expect(broken.failed).toBe(true);
      const message = errors(broken).join("\n");
      expect(message).toContain("nothing was published");
      expect(message).toMatch(
        /leaky \(.*leaky\.raw\):\n {2}- \[secret\] \/usr\/share\/factory\/etc\/shadow: a shadow password database/,
      );
      expect(message).toMatch(
        /hostkey .*\n {2}- \[secret\] \/usr\/share\/factory\/etc\/ssh\/ssh_host_ed25519_key: an SSH host private key/,
      );
      expect(message).toMatch(
        /empty .*\n {2}- \[empty\] the extension holds nothing besides its extension-release/,
      );
      expect(message).toMatch(
        /wrongid .*\n {2}- \[extension-release\] \/usr\/lib\/extension-release\.d\/extension-release\.wrongid: extension-release ID=fedora does not match the base's ID=debian/,
      );
      expect(message).toMatch(
        /needs .*\n {2}- \[required-path\] \/usr\/bin\/needs-tool is required but not in the image/,
      );
      expect(message).not.toMatch(/\bvim \(/);
      expect(broken.outputs["output-dir"]).toBe("");
      expect(existsSync(join(scratch, "work/output/sysupdate"))).toBe(false);
    }, 900_000);

    test("a project with no sysext images is refused before building, naming its images", async () => {
      const plain = join(scratch, "plain-project");
      await cp(join(repoRoot, "tests/fixtures/mkosi/project"), plain, { recursive: true });
      const refused = await action({ ...baseInputs(), directory: plain });
      expect(refused.failed).toBe(true);
      expect(errors(refused).join("\n")).toMatch(
        /input 'directory': the project builds no Format=sysext image \(images: main \(directory\)\)/,
      );
      expect(refused.log.some((line) => line.includes("--force build"))).toBe(false);
    }, 300_000);

    test.each<[string, Record<string, string>, RegExp]>([
      [
        "unknown image names",
        { images: "vim,docker" },
        /input 'images': 'docker' is not a Format=sysext image of this build; the sysext images are: .*vim/,
      ],
      [
        "a bad base-url",
        { "base-url": "ftp://127.0.0.1/x" },
        /input 'base-url': ftp:\/\/127\.0\.0\.1\/x: uses ftp:/,
      ],
      [
        "a missing previous SHA256SUMS",
        { "previous-sha256sums": "/nonexistent/SHA256SUMS" },
        /input 'previous-sha256sums': could not read/,
      ],
      [
        "a gpg-private-key that is no key",
        {
          "gpg-private-key":
            "-----BEGIN PGP PRIVATE KEY BLOCK-----\nnot a key\n-----END PGP PRIVATE KEY BLOCK-----",
        },
        /input 'gpg-private-key': is not an OpenPGP key/,
      ],
    ])(
      "bad input, refused before building: %s",
      async (_, inputs, message) => {
        const refused = await action({ ...baseInputs(), ...inputs });
        expect(refused.failed).toBe(true);
        expect(errors(refused).join("\n")).toMatch(message);
        expect(refused.log.some((line) => line.includes("--force build"))).toBe(false);
      },
      300_000,
    );

    describe("signed with a throwaway GPG key", () => {
      const PASSPHRASE = "sysext-e2e-pass-41f2";
      let keys: string;
      let secretKey: string;
      let signed: ActionRun;
      const gpg = (...args: string[]) =>
        run("gpg", ["--batch", "--homedir", keys, ...args], { maxBuffer: 1 << 20 });
      /** systemd-pull verifies with /usr/lib/systemd/import-pubring.gpg: bound over it inside the toolbox's own mount namespace. */
      const verifyingUpdate = (root: string, component: string, pubring: string) =>
        inToolbox(
          [
            "sh",
            "-c",
            'mount --bind "$FROSTYARD_PUBRING" /usr/lib/systemd/import-pubring.gpg && exec /usr/lib/systemd/systemd-sysupdate --root="$1" --component="$2" --no-pager update',
            "sh",
            root,
            component,
          ],
          { binds: [scratch], env: { FROSTYARD_PUBRING: pubring }, timeoutMs: 120_000 },
        );

      beforeAll(async () => {
        keys = await mkdtemp(join(scratch, "gnupg-"));
        await gpg(
          "--pinentry-mode",
          "loopback",
          "--passphrase",
          PASSPHRASE,
          "--quick-gen-key",
          "Sysext E2E <e2e@example.invalid>",
          "ed25519",
          "sign",
          "never",
        );
        secretKey = (
          await gpg(
            "--pinentry-mode",
            "loopback",
            "--passphrase",
            PASSPHRASE,
            "--armor",
            "--export-secret-keys",
          )
        ).stdout;
        await gpg("--export", "--output", join(scratch, "pubring.gpg"));
        const other = await mkdtemp(join(scratch, "gnupg-other-"));
        await run("gpg", [
          "--batch",
          "--homedir",
          other,
          "--passphrase",
          "",
          "--pinentry-mode",
          "loopback",
          "--quick-gen-key",
          "Other <other@example.invalid>",
          "ed25519",
          "sign",
          "never",
        ]);
        await run("gpg", [
          "--batch",
          "--homedir",
          other,
          "--export",
          "--output",
          join(scratch, "other-pubring.gpg"),
        ]);
        signed = await action({
          ...baseInputs(),
          "image-version": "1.2",
          "gpg-private-key": secretKey,
          "gpg-passphrase": PASSPHRASE,
        });
      }, 900_000);

      test("SHA256SUMS.gpg verifies with the public key; transfers say Verify=yes; no secret in the log; GNUPGHOME gone", async () => {
        expect(errors(signed)).toEqual([]);
        const out = signed.outputs["output-dir"] ?? "";
        expect(signed.outputs.signature).toBe(join(out, "SHA256SUMS.gpg"));
        await run("gpgv", [
          "--keyring",
          join(scratch, "pubring.gpg"),
          join(out, "SHA256SUMS.gpg"),
          join(out, "SHA256SUMS"),
        ]);
        expect(
          await readFile(join(out, "sysupdate-definitions/sysupdate.vim.d/vim.transfer"), "utf8"),
        ).toContain("Verify=yes");
        // Masked before any log line (the raw stdout holds the ::add-mask:: commands themselves, as on GitHub).
        expect(signed.masks).toContain(PASSPHRASE);
        expect(signed.masks).toContain(secretKey.split("\n")[3]!.trim());
        const shown = [...signed.log, signed.summary, JSON.stringify(signed.outputs)].join("\n");
        expect(shown).not.toContain(PASSPHRASE);
        expect(shown).not.toContain(secretKey.split("\n")[3]!.trim());
        expect(signed.state.gnupgHome).toMatch(/sysext-gnupg-/);
        expect(existsSync(signed.state.gnupgHome!)).toBe(false);
      });

      test("systemd-sysupdate checks the signature: installs with the signer's key, refuses with another", async () => {
        const out = signed.outputs["output-dir"] ?? "";
        await publish(out);
        const good = await host("signed-host", join(out, "sysupdate-definitions"));
        const installed = await verifyingUpdate(good, "tools", join(scratch, "pubring.gpg"));
        expect(installed.stderr + installed.stdout).not.toMatch(/Failed/);
        expect(installed.code).toBe(0);
        expect(existsSync(join(good, "var/lib/extensions.d/tools_1.2_13_x86-64.raw"))).toBe(true);
        const bad = await host("wrong-key-host", join(out, "sysupdate-definitions"));
        const refused = await verifyingUpdate(bad, "tools", join(scratch, "other-pubring.gpg"));
        expect(refused.code).not.toBe(0);
        expect(existsSync(join(bad, "var/lib/extensions.d/tools_1.2_13_x86-64.raw"))).toBe(false);
      });

      test("a wrong passphrase is refused before building, naming gpg-passphrase", async () => {
        const refused = await action({
          ...baseInputs(),
          "gpg-private-key": secretKey,
          "gpg-passphrase": "wrong",
        });
        expect(refused.failed).toBe(true);
        expect(errors(refused).join("\n")).toMatch(
          /input 'gpg-passphrase': does not unlock key [0-9A-F]{40}/,
        );
        expect(refused.log.some((line) => line.includes("--force build"))).toBe(false);
        expect([...refused.log, refused.summary].join("\n")).not.toContain(secretKey.split("\n")[3]!.trim());
      }, 300_000);
    });
  },
);
