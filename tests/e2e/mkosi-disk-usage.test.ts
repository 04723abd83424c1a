import { link, mkdir, mkdtemp, rm, symlink, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, test } from "vitest";
import { diskUsage } from "@frostyard/mkosi";

/** The sizes the build report gives per output, on a real tree (the walk now looks at siblings at once). */
describe("diskUsage", () => {
  let root: string;
  beforeAll(async () => {
    root = await mkdtemp(join(tmpdir(), "frostyard-disk-usage-"));
    const tree = join(root, "tree");
    await mkdir(join(tree, "usr/lib/deep/er"), { recursive: true });
    await mkdir(join(tree, "empty"));
    await writeFile(join(tree, "usr/a"), Buffer.alloc(1000));
    await writeFile(join(tree, "usr/lib/b"), Buffer.alloc(20_000));
    await writeFile(join(tree, "usr/lib/deep/er/c"), Buffer.alloc(300));
    // Hardlinks, also in different directories walked side by side, count once.
    for (let i = 0; i < 20; i++) await link(join(tree, "usr/lib/b"), join(tree, `usr/lib/deep/b${i}`));
    await link(join(tree, "usr/a"), join(tree, "usr/lib/deep/er/a"));
    // Symlinks are not followed, to files or directories.
    await writeFile(join(root, "outside"), Buffer.alloc(50_000));
    await symlink(join(root, "outside"), join(tree, "usr/to-outside"));
    await symlink("usr/lib", join(tree, "lib"));
    await writeFile(join(root, "file"), Buffer.alloc(4321));
  });
  afterAll(() => rm(root, { recursive: true, force: true }));

  test.each([
    ["a tree: regular files, hardlinks once, symlinks not followed", "tree", 1000 + 20_000 + 300],
    ["a subtree", "tree/usr/lib/deep", 20_000 + 1000 + 300],
    ["an empty directory", "tree/empty", 0],
    ["a file", "file", 4321],
    ["a missing path", "nope", undefined],
  ])("%s", async (_what, path, expected) => {
    expect(await diskUsage(join(root, path))).toBe(expected);
  });
});
