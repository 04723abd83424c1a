// dist/ is committed and is what the runner executes: it must be exactly what the sources build to.
// Builds every bundle into a temp directory with the same script and compares byte for byte.
import { spawnSync } from "node:child_process";
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, relative } from "node:path";
import { afterAll, expect, test } from "vitest";
import { repoRoot } from "../helpers/run-action";

const fresh = mkdtempSync(join(tmpdir(), "dist-fresh-"));
afterAll(() => rmSync(fresh, { recursive: true, force: true }));

/** Every file under dir, relative; dot-directories (a build's scratch space) are not output. */
function files(dir: string): string[] {
  if (!existsSync(dir)) return [];
  const found: string[] = [];
  const walk = (current: string) => {
    for (const entry of readdirSync(current, { withFileTypes: true })) {
      if (entry.name.startsWith(".")) continue;
      const path = join(current, entry.name);
      if (entry.isDirectory()) walk(path);
      else found.push(relative(dir, path));
    }
  };
  walk(dir);
  return found.sort();
}

test("dist/ is what `npm run build` makes from the current sources", () => {
  const build = spawnSync(process.execPath, [join(repoRoot, "scripts/build.mjs"), "--out-dir", fresh], {
    cwd: repoRoot,
    encoding: "utf8",
  });
  expect(build.status, `build failed:\n${build.stdout}${build.stderr}`).toBe(0);

  const committed = join(repoRoot, "dist");
  const built = files(fresh);
  const present = files(committed);
  const stale = built.filter(
    (file) =>
      !present.includes(file) ||
      !readFileSync(join(fresh, file)).equals(readFileSync(join(committed, file))) ||
      (statSync(join(fresh, file)).mode & 0o111) !== (statSync(join(committed, file)).mode & 0o111),
  );
  const extra = present.filter((file) => !built.includes(file));
  const report = [
    ...stale.map((file) => `stale or missing: dist/${file}`),
    ...extra.map((file) => `not built by any entry: dist/${file}`),
  ];
  expect(built.length).toBeGreaterThan(0);
  expect(report, `${report.join("\n")}\nrun npm run build and commit dist/`).toEqual([]);
}, 300_000);
