import { describe, expect, test } from "vitest";
import { InputError, messageWithCauses } from "@frostyard/kit";

describe("messageWithCauses", () => {
  const refused = new Error("connect ECONNREFUSED 127.0.0.1:1");
  const chain = (depth: number): Error =>
    Array.from({ length: depth }, (_, i) => i).reduce<Error>(
      (cause, i) => new Error(`level ${i}`, { cause }),
      new Error("root"),
    );

  test.each<[string, unknown, string]>([
    [
      "an InputError as written, causes left out",
      new InputError("mode", "got 'x'", "a or b"),
      "input 'mode': got 'x'; expected a or b",
    ],
    ["a plain error", new Error("push failed"), "push failed"],
    [
      "fetch failed with the refused connection",
      new TypeError("fetch failed", { cause: refused }),
      "fetch failed: connect ECONNREFUSED 127.0.0.1:1",
    ],
    [
      "a cause already in the message once",
      new Error("x: connect ECONNREFUSED 127.0.0.1:1", { cause: refused }),
      "x: connect ECONNREFUSED 127.0.0.1:1",
    ],
    ["a string cause", new Error("failed", { cause: "timeout" }), "failed: timeout"],
    ["not an Error", "plain text", "plain text"],
    ["five causes at most", chain(7), "level 6: level 5: level 4: level 3: level 2: level 1"],
  ])("%s", (_name, error, expected) => {
    expect(messageWithCauses(error)).toBe(expected);
  });
});
