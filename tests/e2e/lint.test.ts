// The repository's own hygiene, as part of `npm test`: eslint, prettier and the TypeScript compiler over
// everything. Each fails with the tool's own output, which says what to fix.
import { spawn } from "node:child_process";
import { join } from "node:path";
import { expect, test } from "vitest";
import { repoRoot } from "../helpers/run-action";

function runTool(bin: string, args: string[]): Promise<{ code: number | null; output: string }> {
  return new Promise((resolvePromise, reject) => {
    const child = spawn(process.execPath, [join(repoRoot, "node_modules", bin), ...args], { cwd: repoRoot });
    let output = "";
    child.stdout.on("data", (chunk) => (output += chunk));
    child.stderr.on("data", (chunk) => (output += chunk));
    child.on("error", reject);
    child.on("close", (code) => resolvePromise({ code, output }));
  });
}

test.concurrent.each([
  { tool: "eslint", bin: "eslint/bin/eslint.js", args: ["--max-warnings=0", "."] },
  { tool: "prettier --check", bin: "prettier/bin/prettier.cjs", args: ["--check", "."] },
  { tool: "tsc --noEmit", bin: "typescript/bin/tsc", args: ["-p", "tsconfig.json", "--noEmit"] },
])(
  "$tool passes",
  async ({ bin, args }) => {
    const { code, output } = await runTool(bin, args);
    expect(code, output).toBe(0);
  },
  300_000,
);
