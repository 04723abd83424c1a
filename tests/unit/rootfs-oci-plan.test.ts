import { describe, expect, test } from "vitest";
import {
  binOf,
  comparePaths,
  impliedOwner,
  layerBudget,
  pickBigPackages,
  planLayers,
  unownedGroup,
  type RootfsEntry,
} from "@frostyard/rootfs-oci";

const dir = (path: string): RootfsEntry => ({ path, kind: "directory", size: 0 });
const file = (path: string, size: number, inode?: string): RootfsEntry => ({
  path,
  kind: "file",
  size,
  ...(inode ? { inode } : {}),
});

describe("layerBudget", () => {
  test.each([
    [1, 0, 0, 0],
    [2, 0, 0, 0],
    [3, 0, 1, 0],
    [6, 1, 3, 0],
    [10, 2, 6, 0],
    [18, 3, 12, 1],
    [64, 14, 45, 3],
    [128, 29, 90, 7],
  ])("max %i layers → %i big slots, %i package bins, %i unowned bins", (max, big, bins, unownedBins) => {
    expect(layerBudget(max)).toEqual({ big, bins, unownedBins });
    expect(2 + big + bins + unownedBins).toBe(Math.max(2, max));
  });
});

describe("comparePaths", () => {
  test.each([
    ["usr", "usr/bin", -1],
    ["usr-foo", "usr/bin", -1], // '-' (0x2d) sorts before '/' (0x2f), as tar --sort=name does
    ["usr/bin", "usr/bin", 0],
    ["é", "z", 1], // bytes, not UTF-16 code units or locale
  ])("%s vs %s", (a, b, sign) => {
    expect(Math.sign(comparePaths(a, b))).toBe(sign);
  });
});

describe("binOf", () => {
  test("depends only on the name and the bin count", () => {
    const names = Array.from({ length: 200 }, (_, i) => `package-${i}`);
    const first = names.map((n) => binOf(n, 31));
    const reversed = [...names]
      .reverse()
      .map((n) => binOf(n, 31))
      .reverse();
    expect(reversed).toEqual(first);
    expect(first.every((b) => b >= 0 && b < 31)).toBe(true);
    // 200 names spread over 31 bins: a hash that clumps would leave many empty.
    expect(new Set(first).size).toBeGreaterThan(25);
  });
});

describe("impliedOwner", () => {
  const owners = new Map([
    ["usr/lib/python3/dist-packages/yaml/reader.py", "python3-yaml"],
    ["usr/lib/python3.13/os.py", "libpython3.13-minimal"],
  ]);
  test.each([
    ["usr/lib/python3/dist-packages/yaml/__pycache__/reader.cpython-313.pyc", "python3-yaml"],
    ["usr/lib/python3.13/__pycache__/os.cpython-313.opt-1.pyc", "libpython3.13-minimal"],
    ["usr/lib/python3.13/__pycache__/missing.cpython-313.pyc", undefined],
    ["usr/lib/python3.13/os.pyc", undefined],
    ["etc/ld.so.cache", undefined],
  ])("%s → %s", (path, want) => {
    expect(impliedOwner(path, owners)).toBe(want);
  });
});

describe("unownedGroup", () => {
  test.each([
    ["usr/lib/udev/hwdb.bin", "usr/lib/udev"],
    ["var/cache/debconf/config.dat", "var/cache/debconf"],
    ["var/lib/apt/lists/deep/x", "var/lib/apt"],
    ["etc/ld.so.cache", "etc"],
    ["toplevel", "/"],
  ])("%s → %s", (path, want) => {
    expect(unownedGroup(path)).toBe(want);
  });
});

describe("pickBigPackages", () => {
  test.each([
    {
      name: "only those above the fair share",
      sizes: { a: 700, b: 200, c: 100 },
      big: 2,
      slots: 4,
      want: ["a"],
    },
    {
      name: "at most `big` of them, largest first",
      sizes: { a: 500, b: 400, c: 100 },
      big: 1,
      slots: 10,
      want: ["a"],
    },
    { name: "ties by name", sizes: { b: 500, a: 500 }, big: 1, slots: 2, want: ["a"] },
    { name: "none without big slots", sizes: { a: 1000 }, big: 0, slots: 1, want: [] },
    { name: "all equal and above share", sizes: { a: 10, b: 10 }, big: 2, slots: 2, want: ["a", "b"] },
  ])("$name", ({ sizes, big, slots, want }) => {
    expect([...pickBigPackages(new Map(Object.entries(sizes)), big, slots)].sort()).toEqual(want);
  });
});

describe("planLayers", () => {
  const entries: RootfsEntry[] = [
    file("usr/lib/big.so", 10_000),
    dir("usr"),
    dir("usr/lib"),
    dir("etc"),
    file("usr/lib/small1", 10),
    file("usr/lib/small2", 20),
    file("etc/hostname", 5),
    { path: "usr/lib/link", kind: "symlink", size: 0 },
  ];
  const owners = new Map([
    ["usr/lib/big.so", "bigpkg"],
    ["usr/lib/small1", "small-a"],
    ["usr/lib/small2", "small-b"],
    ["usr/lib/link", "small-a"],
    ["usr", "bigpkg"],
  ]);

  test("one layer when max-layers is 1, every path sorted", () => {
    const [only, ...rest] = planLayers(entries, owners, 1);
    expect(rest).toEqual([]);
    expect(only!.kind).toBe("all");
    expect(only!.paths).toEqual([...entries.map((e) => e.path)].sort(comparePaths));
    expect(only!.packages).toEqual(["bigpkg", "small-a", "small-b"]);
    expect(only!.size).toBe(10_035);
  });

  test("directories first, big package alone, small ones binned, unowned last", () => {
    const layers = planLayers(entries, owners, 6); // 1 big slot, 3 bins
    expect(layers.map((l) => [l.kind, l.packages, l.paths])).toEqual([
      ["skeleton", [], ["etc", "usr", "usr/lib"]],
      ["package", ["bigpkg"], ["usr/lib/big.so"]],
      ["bin", ["small-a", "small-b"], ["usr/lib/link", "usr/lib/small1", "usr/lib/small2"]],
      ["unowned", [], ["etc/hostname"]],
    ]);
  });

  test("with no package slots the owned files join the unowned layer", () => {
    const layers = planLayers(entries, owners, 2);
    expect(layers.map((l) => l.kind)).toEqual(["skeleton", "unowned"]);
    expect(layers[1]!.paths).toHaveLength(5);
    expect(layers[1]!.packages).toEqual(["bigpkg", "small-a", "small-b"]);
  });

  test("unowned files binned by directory after the packages; the package database last, alone", () => {
    const tree: RootfsEntry[] = [
      dir("usr"),
      dir("var"),
      file("usr/a", 10),
      file("usr/lib/udev/hwdb.bin", 1000),
      file("usr/lib/udev/other", 5),
      file("var/lib/dpkg/status", 50),
      file("var/lib/dpkg/info/a.list", 5),
      file("usr/lib/py/__pycache__/m.cpython-313.pyc", 7),
    ];
    const owners = new Map([
      ["usr/a", "a"],
      ["usr/lib/py/m.py", "a"],
    ]);
    const layers = planLayers(tree, owners, 18); // 1 unowned bin
    expect(layers.map((l) => [l.kind, l.paths])).toEqual([
      ["skeleton", ["usr", "var"]],
      ["package", ["usr/a", "usr/lib/py/__pycache__/m.cpython-313.pyc"]], // the only package: above the fair share
      ["unowned", ["usr/lib/udev/hwdb.bin", "usr/lib/udev/other"]],
      ["package-database", ["var/lib/dpkg/info/a.list", "var/lib/dpkg/status"]],
    ]);
  });

  test("hardlinked names stay together with the first name's owner, counted once", () => {
    const linked = [dir("a"), dir("b"), file("a/one", 100, "1:7"), file("b/two", 100, "1:7")];
    const layers = planLayers(
      linked,
      new Map([
        ["a/one", "pkg-a"],
        ["b/two", "pkg-b"],
      ]),
      3,
    );
    const holding = layers.filter((l) => l.paths.includes("a/one") || l.paths.includes("b/two"));
    expect(holding).toHaveLength(1);
    expect(holding[0]!.paths).toEqual(["a/one", "b/two"]);
    expect(holding[0]!.packages).toEqual(["pkg-a"]);
    expect(holding[0]!.size).toBe(100);
  });

  test("unowned hardlinked names in different directories stay in one layer too", () => {
    const linked = [dir("a"), dir("b"), file("a/one", 100, "1:9"), file("zz/two", 100, "1:9")];
    for (const max of [18, 64, 128]) {
      const holding = planLayers(linked, new Map(), max).filter((l) =>
        l.paths.some((p) => p === "a/one" || p === "zz/two"),
      );
      expect(holding.map((l) => l.paths)).toEqual([["a/one", "zz/two"]]);
    }
  });

  test("never more layers than max-layers and every path exactly once", () => {
    const many: RootfsEntry[] = [dir("usr")];
    const owned = new Map<string, string>();
    for (let i = 0; i < 500; i++) {
      many.push(file(`usr/f${i}`, (i % 50) * 1000 + 1));
      owned.set(`usr/f${i}`, `p${i % 300}`);
    }
    many.push(file("usr/stray", 1));
    for (const max of [3, 8, 64, 128]) {
      const layers = planLayers(many, owned, max);
      expect(layers.length).toBeLessThanOrEqual(max);
      const all = layers.flatMap((l) => l.paths).sort(comparePaths);
      expect(all).toEqual(many.map((e) => e.path).sort(comparePaths));
    }
  });

  test("adding a small package changes only its bin (and the skeleton when it adds directories)", () => {
    const base: RootfsEntry[] = [dir("usr")];
    const owned = new Map<string, string>();
    for (let i = 0; i < 200; i++) {
      base.push(file(`usr/f${i}`, 100 + i));
      owned.set(`usr/f${i}`, `p${i}`);
    }
    const before = planLayers(base, owned, 64);
    const after = planLayers([...base, file("usr/new", 50)], new Map([...owned, ["usr/new", "newpkg"]]), 64);
    const key = (l: { kind: string; paths: string[] }) => `${l.kind}:${l.paths.join(",")}`;
    const changed = after.filter((l) => !before.some((b) => key(b) === key(l)));
    expect(changed).toHaveLength(1);
    expect(changed[0]!.packages).toContain("newpkg");
  });
});
