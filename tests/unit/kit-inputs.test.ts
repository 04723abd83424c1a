import { describe, expect, expectTypeOf, test } from "vitest";
import {
  getBoolean,
  getEnum,
  getHostList,
  getInteger,
  getKeyValues,
  getList,
  getOptionalString,
  inputsFrom,
  InputError,
  parseBoolean,
  parseEnum,
  parseHostPort,
  parseInteger,
  parseKeyValues,
  parseList,
} from "@frostyard/kit";

/** Runs `fn` and returns the InputError it throws, failing the test if it throws anything else or nothing. */
function inputError(fn: () => unknown): InputError {
  try {
    fn();
  } catch (error) {
    if (error instanceof InputError) return error;
    throw error;
  }
  throw new Error("expected an InputError, nothing was thrown");
}

describe("strings", () => {
  const get = inputsFrom({ image: "  ghcr.io/acme/os ", blank: "   ", empty: "" });

  test.each([
    ["image", "ghcr.io/acme/os"],
    ["blank", undefined],
    ["empty", undefined],
    ["unset", undefined],
  ])("getOptionalString(%s) → %j", (name, expected) => {
    expect(getOptionalString(get, name)).toBe(expected);
  });
});

describe("parseList", () => {
  test.each<[string, string, string[]]>([
    ["newlines", "a\nb\nc", ["a", "b", "c"]],
    ["CRLF", "a\r\nb\r\n", ["a", "b"]],
    ["commas", "a,b , c", ["a", "b", "c"]],
    ["mixed", "a, b\nc\n\n,d,", ["a", "b", "c", "d"]],
    ["blank items dropped", " , ,\n  \n", []],
    ["empty", "", []],
    ["quoted comma", '"a,b",c', ["a,b", "c"]],
    ["doubled quote escapes", '"say ""hi""", x', ['say "hi"', "x"]],
    ["quoted text kept as written", '" padded ",x', [" padded ", "x"]],
    ["quote inside an unquoted item is literal", 'a"b,c', ['a"b', "c"]],
    [
      "whole-line comment",
      "# platforms\nlinux/amd64\n  # indented comment\nlinux/arm64",
      ["linux/amd64", "linux/arm64"],
    ],
    ["comment after whitespace", "a, b # the rest, ignored\nc", ["a", "b", "c"]],
    ["comment after a comma", "a,# b, c\nd", ["a", "d"]],
    ["# not after whitespace is part of the item", "a#b,c#d", ["a#b", "c#d"]],
    ["# inside quotes is literal", '"a #b",c', ["a #b", "c"]],
    ["comment after a quoted item", '"a,b" # note', ["a,b"]],
    ["tab separated comment", "a\t# note", ["a"]],
  ])("%s", (_name, raw, expected) => {
    expect(parseList(raw)).toEqual(expected);
  });

  test.each<[string, string, string[]]>([
    ["commas kept", "--opt=a,b\n--other", ["--opt=a,b", "--other"]],
    ["quotes kept literally", '"a,b"\nc', ['"a,b"', "c"]],
    ["comments still apply", "# header\nx=1,2 # note\n", ["x=1,2"]],
  ])("comma: false — %s", (_name, raw, expected) => {
    expect(parseList(raw, { comma: false })).toEqual(expected);
  });

  test.each<[string, RegExp]>([
    ['"a,b', /^input 'tags': line 1: a quote is not closed; expected a closing " on the same line$/],
    [
      'x\n"a"b',
      /^input 'tags': line 2: unexpected text after a closing quote; expected a quoted item to end/,
    ],
  ])("bad quoting %j fails with the line", (raw, message) => {
    expect(inputError(() => getList(inputsFrom({ tags: raw }), "tags")).message).toMatch(message);
  });

  test("getList reads the named input", () => {
    expect(getList(inputsFrom({ profiles: "snow,cayo" }), "profiles")).toEqual(["snow", "cayo"]);
    expect(getList(inputsFrom({ args: "A=1,2" }), "args", { comma: false })).toEqual(["A=1,2"]);
  });
});

describe("parseBoolean", () => {
  test.each<[string, boolean | undefined, boolean]>([
    ["true", undefined, true],
    ["True", undefined, true],
    ["TRUE", undefined, true],
    ["false", undefined, false],
    ["False", undefined, false],
    ["FALSE", undefined, false],
    [" true ", undefined, true],
    ["", true, true],
    ["", false, false],
    ["  ", true, true],
  ])("%j (default %j) → %j", (raw, fallback, expected) => {
    expect(parseBoolean("push", raw, fallback)).toBe(expected);
  });

  test.each(["yes", "1", "on", "tRUE", "y"])("%j is refused with the accepted values", (raw) => {
    expect(inputError(() => parseBoolean("push", raw, false)).message).toBe(
      `input 'push': got '${raw}'; expected one of: true, True, TRUE, false, False, FALSE`,
    );
  });

  test("empty without a default is required", () => {
    expect(inputError(() => parseBoolean("push", "")).message).toMatch(
      /^input 'push': is required but was empty;/,
    );
  });

  test("getBoolean reads the named input", () => {
    expect(getBoolean(inputsFrom({ push: "false" }), "push", true)).toBe(false);
    expect(getBoolean(inputsFrom({}), "push", true)).toBe(true);
  });
});

describe("parseEnum", () => {
  const formats = ["qcow2", "raw", "iso"] as const;

  test.each<[string, string | undefined, string]>([
    ["qcow2", undefined, "qcow2"],
    [" iso ", undefined, "iso"],
    ["", "raw", "raw"],
  ])("%j (default %j) → %j", (raw, fallback, expected) => {
    expect(parseEnum("format", raw, formats, fallback as (typeof formats)[number] | undefined)).toBe(
      expected,
    );
  });

  test.each(["vmdk", "QCOW2", "qcow"])("%j is refused with the values", (raw) => {
    expect(inputError(() => parseEnum("format", raw, formats, "raw")).message).toBe(
      `input 'format': got '${raw}'; expected one of: qcow2, raw, iso`,
    );
  });

  test("a long bad value is cut in the message", () => {
    const message = inputError(() => parseEnum("format", "x".repeat(500), formats)).message;
    expect(message).toBe(`input 'format': got '${"x".repeat(60)}…'; expected one of: qcow2, raw, iso`);
  });

  test("empty without a default is required", () => {
    expect(inputError(() => parseEnum("format", "", formats)).message).toBe(
      "input 'format': is required but was empty; expected one of: qcow2, raw, iso",
    );
  });

  test("getEnum returns the union type", () => {
    const value = getEnum(inputsFrom({ format: "iso" }), "format", formats, "raw");
    expectTypeOf(value).toEqualTypeOf<"qcow2" | "raw" | "iso">();
    expect(value).toBe("iso");
  });
});

describe("parseKeyValues", () => {
  test.each<[string, string, [string, string][]]>([
    [
      "simple",
      "A=1\nB=two",
      [
        ["A", "1"],
        ["B", "two"],
      ],
    ],
    ["value with =", "URL=https://x/?a=b=c", [["URL", "https://x/?a=b=c"]]],
    ["empty value", "EMPTY=", [["EMPTY", ""]]],
    [
      "trimmed, comments and blanks skipped",
      "# header\n\n  A = 1 \n  # note\nB=2\r\n",
      [
        ["A", "1"],
        ["B", "2"],
      ],
    ],
    ["# inside a value kept", "COLOR=#fff", [["COLOR", "#fff"]]],
    ["empty", "", []],
  ])("%s", (_name, raw, expected) => {
    expect([...parseKeyValues("build-args", raw)]).toEqual(expected);
  });

  test.each<[string, string]>([
    ["A=1\nsecret-without-equals", "input 'build-args': line 2 has no '='; expected KEY=VALUE lines"],
    ["\n\n=value", "input 'build-args': line 3 has an empty key before '='; expected KEY=VALUE lines"],
    ["A=1\nB=2\nA=3", "input 'build-args': line 3 repeats key 'A' from line 1; expected each key once"],
  ])("%j → %s", (raw, message) => {
    const error = inputError(() => parseKeyValues("build-args", raw));
    expect(error.message).toBe(message);
    expect(error.message).not.toContain("secret");
  });

  test("getKeyValues reads the named input", () => {
    expect(getKeyValues(inputsFrom({ labels: "a=b" }), "labels").get("a")).toBe("b");
  });
});

describe("parseInteger", () => {
  test.each<[string, { min?: number; max?: number; default?: number }, number]>([
    ["5", {}, 5],
    [" 42 ", { min: 1 }, 42],
    ["-3", {}, -3],
    ["+7", {}, 7],
    ["-0", {}, 0],
    ["1", { min: 1, max: 128 }, 1],
    ["128", { min: 1, max: 128 }, 128],
    ["", { default: 64 }, 64],
  ])("%j %j → %d", (raw, options, expected) => {
    expect(parseInteger("max-layers", raw, options)).toBe(expected);
  });

  test.each<[string, { min?: number; max?: number; default?: number }, string]>([
    ["0", { min: 1, max: 128 }, "got 0; expected an integer from 1 to 128"],
    ["129", { min: 1, max: 128 }, "got 129; expected an integer from 1 to 128"],
    ["0", { min: 1 }, "got 0; expected an integer ≥ 1"],
    ["11", { max: 10 }, "got 11; expected an integer ≤ 10"],
    ["1.5", {}, "got '1.5'; expected an integer"],
    ["1e3", {}, "got '1e3'; expected an integer"],
    ["0x10", {}, "got '0x10'; expected an integer"],
    ["ten", { min: 1, max: 128 }, "got 'ten'; expected an integer from 1 to 128"],
    ["99999999999999999999", {}, "got '99999999999999999999'; expected an integer"],
    ["", { min: 1 }, "is required but was empty; expected an integer ≥ 1"],
  ])("%j %j is refused: %s", (raw, options, problem) => {
    expect(inputError(() => parseInteger("max-layers", raw, options)).message).toBe(
      `input 'max-layers': ${problem}`,
    );
  });

  test("getInteger reads the named input", () => {
    expect(getInteger(inputsFrom({ n: "3" }), "n", { min: 1 })).toBe(3);
  });
});

describe("hosts", () => {
  test.each([
    "registry.local",
    "registry.local:5000",
    "127.0.0.1:5000",
    "[::1]:5000",
    "[fe80::1]",
    "a-b.example.com",
  ])("%j is a host", (raw) => {
    expect(parseHostPort("insecure-registries", ` ${raw} `)).toBe(raw);
  });

  test.each([
    "::error::x",
    "http://registry.local",
    "registry.local/path",
    "host:0",
    "host:65536",
    "-host",
    "host-",
    "a..b",
    "host:port",
    "[::1",
    "reg istry",
  ])("%j is refused, naming the input", (raw) => {
    expect(inputError(() => parseHostPort("insecure-registries", raw)).message).toBe(
      `input 'insecure-registries': got '${raw}'; expected registry hosts as host or host:port (e.g. registry.local:5000, [::1]:5000), no scheme or path`,
    );
  });

  test("getHostList checks every entry of the list", () => {
    const get = inputsFrom({ hosts: "a.local:5000\nb.local", bad: "a.local, ::error::x" });
    expect(getHostList(get, "hosts")).toEqual(["a.local:5000", "b.local"]);
    expect(inputError(() => getHostList(get, "bad")).input).toBe("bad");
  });
});
