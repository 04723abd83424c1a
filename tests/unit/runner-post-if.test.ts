import { expect, test } from "vitest";
import { evaluatePostIf } from "@frostyard/runner";

test.each([
  { expression: undefined, ok: true, failed: true },
  { expression: "", ok: true, failed: true },
  { expression: "always()", ok: true, failed: true },
  { expression: "${{ always() }}", ok: true, failed: true },
  { expression: "success()", ok: true, failed: false },
  { expression: "failure()", ok: false, failed: true },
  { expression: "cancelled()", ok: false, failed: false },
  { expression: "!cancelled()", ok: true, failed: true },
  { expression: "! cancelled( )", ok: true, failed: true },
  { expression: "success() || failure()", ok: true, failed: true },
  { expression: "!cancelled() && success()", ok: true, failed: false },
  { expression: "!(success() && true)", ok: false, failed: true },
  { expression: "false || (failure())", ok: false, failed: true },
  { expression: "${{ !cancelled() && failure() }}", ok: false, failed: true },
])(
  "post-if '$expression' → $ok after a passing main, $failed after a failing one",
  ({ expression, ok, failed }) => {
    expect(evaluatePostIf(expression, { mainSucceeded: true })).toBe(ok);
    expect(evaluatePostIf(expression, { mainSucceeded: false })).toBe(failed);
  },
);

test.each([
  { expression: "github.event_name == 'push'", problem: "'github.event_name' is not understood" },
  // GitHub's parser words these now (the runner's own parser used to say "ends too early" and so on).
  { expression: "always() &&", problem: "Unexpected end of expression: '&&'" },
  { expression: "(always()", problem: "Unexpected end of expression: ')'" },
  { expression: "always() success()", problem: "Unexpected symbol: 'success'" },
  { expression: "hashFiles('x')", problem: "is not understood" },
])("refuses '$expression' naming what it accepts", ({ expression, problem }) => {
  expect(() => evaluatePostIf(expression, { mainSucceeded: true })).toThrow(problem);
  expect(() => evaluatePostIf(expression, { mainSucceeded: true })).toThrow(
    /accepted: always\(\), success\(\)/,
  );
});
