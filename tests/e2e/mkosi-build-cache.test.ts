import { execFileSync } from "node:child_process";
import { existsSync } from "node:fs";
import {
  chmod,
  chown,
  link,
  mkdir,
  mkdtemp,
  readdir,
  readFile,
  rm,
  stat,
  symlink,
  writeFile,
} from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, test } from "vitest";
import { recordingLogger } from "@frostyard/kit";
import {
  LocalDirectoryCache,
  mountCacheTmpfs,
  packDirectory,
  unmountCacheTmpfs,
  unpackDirectory,
} from "@frostyard/mkosi";
import { missingTools } from "../helpers/tools";

/**
 * The pieces that carry mkosi's incremental images between runs, on the real filesystem with GNU tar and
 * zstd: an archive of a root-owned tree keeps SUID bits, owners, hardlinks, symlinks and file capabilities,
 * and the local store restores the newest matching entry to wherever the next run asks.
 */
describe.skipIf(missingTools("tar", "zstd", "setcap", "getcap"))(
  "mkosi cache archive and local store",
  () => {
    let root: string;
    beforeAll(async () => {
      root = await mkdtemp(join(tmpdir(), "frostyard-mkosi-cache-"));
    });
    afterAll(async () => {
      if (root) await rm(root, { recursive: true, force: true });
    });

    test("pack → unpack keeps SUID, owners, hardlinks, symlinks and security.capability", async () => {
      const tree = join(root, "cache/debian~trixie~x86-64.cache");
      await mkdir(join(tree, "usr/bin"), { recursive: true });
      await writeFile(join(tree, "usr/bin/passwd"), "#!/bin/sh\n");
      await chmod(join(tree, "usr/bin/passwd"), 0o4755);
      await writeFile(join(tree, "usr/bin/ping"), "binary");
      await chmod(join(tree, "usr/bin/ping"), 0o755);
      execFileSync("setcap", ["cap_net_raw=ep", join(tree, "usr/bin/ping")]);
      await link(join(tree, "usr/bin/ping"), join(tree, "usr/bin/ping-hardlink"));
      await symlink("passwd", join(tree, "usr/bin/passwd-link"));
      await writeFile(join(tree, "shadow"), "secret");
      await chmod(join(tree, "shadow"), 0o640);
      await chown(join(tree, "shadow"), 0, 42);

      const archive = join(root, "work-a/mkosi-cache.tar.zst");
      await mkdir(join(root, "work-a"));
      const logger = recordingLogger();
      await packDirectory(join(root, "cache"), archive, { sudo: false, logger });
      const restored = join(root, "restored");
      await unpackDirectory(archive, restored, { sudo: false, logger });

      const back = join(restored, "debian~trixie~x86-64.cache");
      expect((await stat(join(back, "usr/bin/passwd"))).mode & 0o7777).toBe(0o4755);
      expect(execFileSync("getcap", [join(back, "usr/bin/ping")], { encoding: "utf8" }).trim()).toBe(
        `${join(back, "usr/bin/ping")} cap_net_raw=ep`,
      );
      const [a, b] = await Promise.all([
        stat(join(back, "usr/bin/ping")),
        stat(join(back, "usr/bin/ping-hardlink")),
      ]);
      expect(a.ino).toBe(b.ino);
      expect(execFileSync("readlink", [join(back, "usr/bin/passwd-link")], { encoding: "utf8" }).trim()).toBe(
        "passwd",
      );
      const shadow = await stat(join(back, "shadow"));
      expect([shadow.uid, shadow.gid, shadow.mode & 0o777]).toEqual([0, 42, 0o640]);
      expect(logger.lines.join("\n")).toContain("--xattrs-include=*");
    });

    // Mounting needs root (or sudo, which the action uses on a runner); the tmpfs path is only taken then.
    test.skipIf(process.getuid?.() !== 0)(
      "an exact hit unpacked into a tmpfs keeps SUID, owners and capabilities; unmounting empties it",
      async () => {
        const tree = join(root, "tmpfs-src/debian~trixie~x86-64.cache");
        await mkdir(join(tree, "usr/bin"), { recursive: true });
        await writeFile(join(tree, "usr/bin/su"), "#!/bin/sh\n");
        await chmod(join(tree, "usr/bin/su"), 0o4755);
        await writeFile(join(tree, "usr/bin/ping"), "binary");
        execFileSync("setcap", ["cap_net_raw=ep", join(tree, "usr/bin/ping")]);
        await writeFile(join(tree, "gshadow"), "secret");
        await chown(join(tree, "gshadow"), 0, 42);
        await mkdir(join(root, "work-t"));
        const archive = join(root, "work-t/mkosi-cache.tar.zst");
        const logger = recordingLogger();
        await packDirectory(join(root, "tmpfs-src"), archive, { sudo: false, logger });

        const cache = join(root, "work-t/cache");
        await mkdir(cache);
        expect(await mountCacheTmpfs(cache, 64 * 2 ** 20, { sudo: false, logger })).toBe(true);
        const mounted = () =>
          readFile("/proc/self/mounts", "utf8").then((m) =>
            m.split("\n").some((line) => line.split(" ")[1] === cache && line.startsWith("tmpfs ")),
          );
        try {
          expect(await mounted()).toBe(true);
          await unpackDirectory(archive, cache, { sudo: false, logger });
          const back = join(cache, "debian~trixie~x86-64.cache");
          expect((await stat(join(back, "usr/bin/su"))).mode & 0o7777).toBe(0o4755);
          expect(execFileSync("getcap", [join(back, "usr/bin/ping")], { encoding: "utf8" }).trim()).toBe(
            `${join(back, "usr/bin/ping")} cap_net_raw=ep`,
          );
          expect((await stat(join(back, "gshadow"))).gid).toBe(42);
        } finally {
          await unmountCacheTmpfs(cache, { sudo: false, logger });
        }
        expect(await mounted()).toBe(false);
        expect(await readdir(cache)).toEqual([]);
      },
    );

    test("local store: exact key, else the newest entry of the first matching restore key, to the new path", async () => {
      let clock = 1000;
      const store = new LocalDirectoryCache(join(root, "store"), () => clock++);
      const file = (name: string, text: string) => {
        const path = join(root, name);
        return writeFile(path, text).then(() => path);
      };
      await store.save("mkosi-debian-trixie-extra-aaaa", [await file("a.tar.zst", "first")]);
      await store.save("mkosi-debian-trixie-extra-bbbb", [await file("b.tar.zst", "second")]);
      await store.save("mkosi-debian-trixie-extra-aaaa", [
        await file("c.tar.zst", "ignored: keys are immutable"),
      ]);

      const target = join(root, "work-b/nested/mkosi-cache.tar.zst");
      expect(await store.restore("mkosi-debian-trixie-extra-aaaa", ["mkosi-debian-trixie-"], [target])).toBe(
        "mkosi-debian-trixie-extra-aaaa",
      );
      expect(await readFile(target, "utf8")).toBe("first");
      expect(
        await store.restore("mkosi-debian-trixie-extra-cccc", ["mkosi-debian-trixie-extra-"], [target]),
      ).toBe("mkosi-debian-trixie-extra-bbbb");
      expect(await readFile(target, "utf8")).toBe("second");
      expect(await store.restore("mkosi-fedora-x", ["mkosi-fedora-"], [join(root, "none")])).toBeUndefined();
      expect(existsSync(join(root, "none"))).toBe(false);
      // No partial directories are left behind.
      expect((await readdir(join(root, "store"))).filter((n) => n.includes(".partial"))).toEqual([]);
    });
  },
);
