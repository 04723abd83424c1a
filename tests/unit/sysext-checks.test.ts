import { describe, expect, test } from "vitest";
import {
  checkSysext,
  filesToRead,
  parseMtree,
  parseRequiredPaths,
  SysextCheckError,
  type SysextCheckOptions,
} from "@frostyard/sysext";

/** A listing shaped as systemd-dissect --mtree prints it (lines taken from a real vim-tiny sysext). */
const GOOD_MTREE = `./ type=dir mode=0755 uid=0 gid=0
./usr/ type=dir mode=0755 uid=0 gid=0
./usr/bin/ type=dir mode=0755 uid=0 gid=0
./usr/bin/vi type=link uid=0 gid=0 link=/etc/alternatives/vi
./usr/bin/vim.tiny type=file mode=0755 uid=0 gid=0 size=1761704 sha256sum=9adfd18f3e6c3c7e9742258f9042432f1b87c8990c86610a94a9a08c03a77453
./usr/lib/ type=dir mode=0755 uid=0 gid=0
./usr/lib/extension-release.d/ type=dir mode=0755 uid=0 gid=0
./usr/lib/extension-release.d/extension-release.vim type=file mode=0644 uid=0 gid=0 size=102 sha256sum=5897946ca5128fe354e45cf15c3c3b09b92784ed1576eb34caf2938d5fb26926
./usr/share/ type=dir mode=0755 uid=0 gid=0
./usr/share/doc/ type=dir mode=0755 uid=0 gid=0
./usr/share/doc/vim/example.pem type=file mode=0644 uid=0 gid=0 size=200 sha256sum=00
`;
const RELEASE =
  "ID=debian\nVERSION_ID=13\nSYSEXT_VERSION_ID=1.0\nSYSEXT_SCOPE=initrd system portable\nARCHITECTURE=x86-64\n";
const BASE = { ID: "debian", VERSION_ID: "13" };
const OPTIONS: SysextCheckOptions = { name: "vim", base: BASE, architecture: "x86-64" };
const file = (path: string, size = 10) =>
  `./${path} type=file mode=0644 uid=0 gid=0 size=${size} sha256sum=aa\n`;
const files = (extra: Record<string, string> = {}) =>
  new Map(
    Object.entries({ "usr/lib/extension-release.d/extension-release.vim": RELEASE, ...extra }).map(
      ([k, v]) => [k, Buffer.from(v)],
    ),
  );

describe("parseMtree", () => {
  test("paths relative, types, sizes, sums and link targets; escapes decoded", () => {
    const entries = parseMtree(`${GOOD_MTREE}./usr/share/a\\040b type=file mode=0644 size=3 sha256sum=ab\n`);
    expect(entries[0]).toEqual({ path: "", type: "dir", mode: 0o755 });
    expect(entries.find((e) => e.path === "usr/bin/vi")).toEqual({
      path: "usr/bin/vi",
      type: "link",
      link: "/etc/alternatives/vi",
    });
    expect(entries.find((e) => e.path === "usr/bin/vim.tiny")?.size).toBe(1761704);
    expect(entries.at(-1)?.path).toBe("usr/share/a b");
  });
});

describe("filesToRead: the extension-release and small files outside documentation", () => {
  test("the doc example key and the big binary are not read", () => {
    expect(filesToRead(parseMtree(GOOD_MTREE + file("opt/x/token.env")), "vim")).toEqual([
      "usr/lib/extension-release.d/extension-release.vim",
      "opt/x/token.env",
    ]);
  });
});

describe("checkSysext", () => {
  test("a good extension has no findings", () => {
    expect(checkSysext(parseMtree(GOOD_MTREE), files(), OPTIONS)).toEqual([]);
  });

  test.each<
    [
      string,
      string,
      Record<string, string>,
      Partial<SysextCheckOptions>,
      { check: string; path?: string; message: RegExp }[],
    ]
  >([
    [
      "/etc/shadow: outside /usr and a shadow file",
      `./etc/ type=dir mode=0755\n${file("etc/shadow")}`,
      {},
      {},
      [
        { check: "layout", path: "/etc", message: /^\/etc is outside \/usr and \/opt/ },
        { check: "secret", path: "/etc/shadow", message: /shadow password database/ },
      ],
    ],
    [
      "an SSH host key anywhere",
      file("usr/share/factory/etc/ssh/ssh_host_ed25519_key"),
      {},
      {},
      [
        {
          check: "secret",
          path: "/usr/share/factory/etc/ssh/ssh_host_ed25519_key",
          message: /SSH host private key/,
        },
      ],
    ],
    [
      "a PEM private key by content",
      file("opt/app/server.crt"),
      { "opt/app/server.crt": "x\n-----BEGIN RSA PRIVATE KEY-----\nMII\n" },
      {},
      [{ check: "secret", path: "/opt/app/server.crt", message: /holds a PEM private key/ }],
    ],
    [
      "a GitHub token in a config file",
      file("opt/app/config.ini"),
      { "opt/app/config.ini": `token = ghp_${"a1B2".repeat(9)}\n` },
      {},
      [{ check: "secret", path: "/opt/app/config.ini", message: /GitHub token/ }],
    ],
    [
      "machine-id",
      file("usr/lib/machine-id"),
      {},
      {},
      [{ check: "secret", path: "/usr/lib/machine-id", message: /machine-id/ }],
    ],
    [
      ".git directory, named once",
      `./opt/app/.git/ type=dir\n${file("opt/app/.git/config")}${file("opt/app/.git/HEAD")}`,
      {},
      {},
      [{ check: "secret", path: "/opt/app/.git", message: /\.git directory/ }],
    ],
    [
      "required path missing",
      "",
      {},
      { requiredPaths: ["/usr/bin/vim.tiny", "usr/bin/xxd", "/opt/"] },
      [
        { check: "required-path", path: "/usr/bin/xxd", message: /^\/usr\/bin\/xxd is required/ },
        { check: "required-path", path: "/opt", message: /^\/opt is required/ },
      ],
    ],
  ])("%s", (_, extra, contents, options, expected) => {
    const findings = checkSysext(parseMtree(GOOD_MTREE + extra), files(contents), { ...OPTIONS, ...options });
    expect(findings).toEqual(
      expected.map((e) => expect.objectContaining({ ...e, message: expect.stringMatching(e.message) })),
    );
  });

  test.each<[string, string | undefined, Record<string, string>, RegExp]>([
    ["missing", undefined, {}, /extension-release\.vim is missing$/],
    ["another ID", "ID=fedora\nVERSION_ID=41\n", {}, /ID=fedora does not match the base's ID=debian/],
    [
      "another VERSION_ID",
      "ID=debian\nVERSION_ID=12\n",
      {},
      /VERSION_ID=12 does not match the base's VERSION_ID=13/,
    ],
    [
      "another architecture",
      "ID=debian\nVERSION_ID=13\nARCHITECTURE=arm64\n",
      {},
      /ARCHITECTURE=arm64 does not match the base's x86-64/,
    ],
    ["no version at all", "ID=debian\n", {}, /neither SYSEXT_LEVEL= nor VERSION_ID=/],
  ])("extension-release %s", (_, release, __, message) => {
    const mtree =
      release === undefined ? GOOD_MTREE.replace(/^.*extension-release\.vim .*\n/m, "") : GOOD_MTREE;
    const contents = new Map<string, Buffer>();
    if (release !== undefined)
      contents.set("usr/lib/extension-release.d/extension-release.vim", Buffer.from(release));
    const findings = checkSysext(parseMtree(mtree), contents, OPTIONS);
    expect(findings).toEqual([
      expect.objectContaining({ check: "extension-release", message: expect.stringMatching(message) }),
    ]);
  });

  test("a release file under another name is named in the finding", () => {
    const mtree = GOOD_MTREE.replace("extension-release.vim", "extension-release.vim-old");
    const findings = checkSysext(parseMtree(mtree), new Map(), OPTIONS);
    expect(findings[0]?.message).toBe(
      "/usr/lib/extension-release.d/extension-release.vim is missing (found /usr/lib/extension-release.d/extension-release.vim-old: the name must be the extension's)",
    );
  });

  test("ID=_any matches any base", () => {
    const contents = files({ "usr/lib/extension-release.d/extension-release.vim": "ID=_any\n" });
    expect(checkSysext(parseMtree(GOOD_MTREE), contents, OPTIONS)).toEqual([]);
  });

  test("an extension with only its extension-release is empty", () => {
    const only = GOOD_MTREE.split("\n")
      .filter((l) => !/vim\.tiny|usr\/bin\/vi |example\.pem/.test(l))
      .join("\n");
    expect(checkSysext(parseMtree(only), files(), OPTIONS)).toEqual([
      { check: "empty", message: "the extension holds nothing besides its extension-release" },
    ]);
  });

  test("the error names every extension, file and finding", () => {
    const error = new SysextCheckError([
      {
        name: "a",
        file: "/o/a.raw",
        findings: [
          { check: "secret", path: "/etc/shadow", message: "/etc/shadow: a shadow password database" },
        ],
      },
      { name: "b", file: "/o/b.raw", findings: [{ check: "empty", message: "nothing" }] },
    ]);
    expect(error.message).toBe(
      "2 extension(s) failed the checks, nothing was published:\na (/o/a.raw):\n  - [secret] /etc/shadow: a shadow password database\nb (/o/b.raw):\n  - [empty] nothing",
    );
  });

  test("required-paths.txt: comments and blank lines ignored", () => {
    expect(parseRequiredPaths("# x\n/usr/bin/a\n\n  /opt/b  # trailing\n")).toEqual(["/usr/bin/a", "/opt/b"]);
  });
});
