import { readFileSync } from "node:fs";
import { describe, expect, test } from "vitest";
import {
  DiskConfigError,
  parseConfig,
  parseToml,
  renderConfig,
  renderToml,
  TomlError,
} from "@frostyard/disk";
import { sharedFixture } from "../helpers/fixtures";

const fixture = (name: string) => readFileSync(sharedFixture(`bib/${name}`), "utf8");

describe("the builders' documented examples", () => {
  // Pairs the bootc-image-builder README gives in both forms must mean the same config.
  test.each(["filesystem", "installer-modules"])("readme-config-%s: TOML and JSON agree", (name) => {
    expect(parseConfig(fixture(`readme-config-${name}.toml`))).toEqual(
      parseConfig(fixture(`readme-config-${name}.json`)),
    );
  });

  test("the kickstart example: TOML's multi-line string is the JSON text plus its last newline", () => {
    const contents = (name: string) =>
      JSON.stringify(parseConfig(fixture(name))).match(/"contents":("(?:[^"\\]|\\.)*")/)![1]!;
    expect(JSON.parse(contents("readme-config-installer-kickstart.toml"))).toBe(
      JSON.parse(contents("readme-config-installer-kickstart.json")) + "\n",
    );
  });

  test.each([
    "action-fixture-config.toml",
    "readme-config-filesystem.toml",
    "readme-config-installer-kickstart.toml",
    "readme-config-installer-modules.toml",
    "readme-config-iso.toml",
    "readme-config-user.toml",
    "readme-config-kernel.json",
    "readme-config-user.json",
    "readme-config-filesystem.json",
  ])("%s validates and renders to TOML that parses back to the same config", (name) => {
    const config = parseConfig(fixture(name));
    const rendered = renderConfig(config);
    expect(rendered.fileName).toBe("config.toml");
    expect(parseToml(rendered.content)).toEqual(config);
  });

  test("user example values", () => {
    expect(parseConfig(fixture("readme-config-user.toml"))).toEqual({
      customizations: {
        user: [{ name: "alice", password: "bob", key: "ssh-rsa AAA ... user@email.com", groups: ["wheel"] }],
      },
    });
  });

  test("a kickstart renders in the triple-quoted form the README writes", () => {
    const content = renderConfig(parseConfig(fixture("readme-config-installer-kickstart.toml"))).content;
    expect(content).toBe(fixture("readme-config-installer-kickstart.toml"));
  });
});

describe("TOML subset", () => {
  test.each([
    ['a = "x\\ty"', { a: "x\ty" }],
    ["a = 'C:\\path'", { a: "C:\\path" }],
    ["a = 1_000\nb = -2\nc = 1.5\nd = true", { a: 1000, b: -2, c: 1.5, d: true }],
    ['a = [\n  "x", # note\n  "y",\n]', { a: ["x", "y"] }],
    ['a.b = "c"', { a: { b: "c" } }],
    ['t = { x = 1, "y z" = "w" }', { t: { x: 1, "y z": "w" } }],
    ['[[a]]\nn = 1\n[[a]]\nn = 2\n[a.b]\nc = "d"', { a: [{ n: 1 }, { n: 2, b: { c: "d" } }] }],
    ['a = """\\\n   joined"""', { a: "joined" }],
    ["a = '''\nraw\\n'''", { a: "raw\\n" }],
  ])("%j", (text, expected) => {
    expect(parseToml(text)).toEqual(expected);
  });

  test.each([
    ['a = "x"\na = "y"', "line 2: 'a' is defined twice"],
    ["[t]\n[t]", "line 2: table [t] is defined twice"],
    ['a = "open', "unterminated string"],
    ["a = 1979-05-27", "is not a value this config takes"],
    ["a = [1 2]", "expected ',' or ']'"],
    ['a = "x" b', "unexpected 'b' after a value"],
    ["= 1", "expected a key"],
  ])("%j is refused: %s", (text, message) => {
    expect(() => parseToml(text)).toThrow(TomlError);
    expect(() => parseToml(text)).toThrow(message);
  });

  test("render: scalars before tables, arrays of tables as headers, odd keys quoted", () => {
    expect(renderToml({ a: 1, t: { "x y": "z", u: { v: [1, 2] } }, l: [{ n: "a" }, { n: "b" }] })).toBe(
      'a = 1\n\n[t]\n"x y" = "z"\n\n[t.u]\nv = [1, 2]\n\n[[l]]\nn = "a"\n\n[[l]]\nn = "b"\n',
    );
  });
});

describe("validation", () => {
  test.each([
    ['[customizations]\nhostnme = "x"', "customizations.hostnme: is not a setting"],
    ['[[customizations.user]]\npassword = "x"', "customizations.user[0]: has no name"],
    [
      '[[customizations.user]]\nname = "bad name"',
      "customizations.user[0].name: 'bad name' is not a user name",
    ],
    [
      '[[customizations.user]]\nname = "a"\ngroups = "wheel"',
      "customizations.user[0].groups: is a string, not a list",
    ],
    ['[[customizations.filesystem]]\nmountpoint = "var"\nminsize = "1 GiB"', "'var' is not an absolute path"],
    ['[[customizations.filesystem]]\nmountpoint = "/"\nminsize = "lots"', "'lots' is not a size"],
    [
      '[[customizations.filesystem]]\nmountpoint = "/"\nminsize = 1\n[[customizations.filesystem]]\nmountpoint = "/"\nminsize = 2',
      "customizations.filesystem[1].mountpoint: '/' is listed twice",
    ],
    ['[customizations.kernel]\nappend = ["a"]', "customizations.kernel.append: is an array, not a string"],
    [`[customizations.iso]\nvolume_id = "${"V".repeat(33)}"`, "is 33 characters; an ISO volume id holds 32"],
    [
      '[[customizations.user]]\nname = "a"\n[customizations.installer.kickstart]\ncontents = "x"',
      "cannot be combined with customizations.user",
    ],
    [
      '[customizations.installer.modules]\nenable = ["M"]\ndisable = ["M"]',
      "'M' is both enabled and disabled",
    ],
    ['{"customizations": {"kernel": null}}', "customizations.kernel: is null"],
    ["[1, 2]", "not valid TOML"],
    ["{ not json", "not valid JSON"],
    ['packages = ["vim"]', "packages: is not a setting"],
  ])("%j: %s", (text, message) => {
    expect(() => parseConfig(text)).toThrow(DiskConfigError);
    expect(() => parseConfig(text)).toThrow(message);
  });
});
