import { WorkflowError } from "./workflow-errors";

export type MatrixCell = Record<string, unknown>;

const isObject = (value: unknown): value is Record<string, unknown> =>
  typeof value === "object" && value !== null && !Array.isArray(value);

const same = (a: unknown, b: unknown) => JSON.stringify(a) === JSON.stringify(b);

function objects(value: unknown, where: string, key: string): Record<string, unknown>[] {
  if (value === undefined || value === null) return [];
  if (!Array.isArray(value) || !value.every(isObject)) {
    throw new WorkflowError(where, `matrix ${key} must be a list of mappings, got ${JSON.stringify(value)}`);
  }
  return value;
}

/**
 * Expands an evaluated `strategy.matrix` as GitHub does: the cross product of its list-valued keys, minus
 * every `exclude` entry that matches a cell on all its keys, then each `include` entry added to every cell
 * whose original values it does not contradict (values an include added may be overwritten by a later
 * include), or appended as a cell of its own when it fits none. No matrix means one cell with no values.
 */
export function expandMatrix(matrix: unknown, where: string): MatrixCell[] {
  if (matrix === undefined || matrix === null) return [{}];
  if (!isObject(matrix)) {
    throw new WorkflowError(where, `strategy.matrix must be a mapping, got ${JSON.stringify(matrix)}`);
  }
  const include = objects(matrix.include, where, "include");
  const exclude = objects(matrix.exclude, where, "exclude");
  const vectors = Object.entries(matrix).filter(([key]) => key !== "include" && key !== "exclude");
  let cells: MatrixCell[] = vectors.length === 0 ? [] : [{}];
  for (const [key, values] of vectors) {
    if (!Array.isArray(values) || values.length === 0) {
      throw new WorkflowError(
        where,
        `matrix key '${key}' must be a non-empty list, got ${JSON.stringify(values)}`,
      );
    }
    cells = cells.flatMap((cell) => values.map((value) => ({ ...cell, [key]: value })));
  }
  cells = cells.filter(
    (cell) => !exclude.some((entry) => Object.entries(entry).every(([key, value]) => same(cell[key], value))),
  );
  const original = new Set(vectors.map(([key]) => key));
  const expanded = cells.map((cell) => ({ ...cell }));
  const base = cells.length;
  for (const entry of include) {
    let added = false;
    for (let index = 0; index < base; index++) {
      const cell = expanded[index] as MatrixCell;
      const fits = Object.entries(entry).every(
        ([key, value]) => !original.has(key) || same(cell[key], value),
      );
      if (!fits) continue;
      Object.assign(cell, entry);
      added = true;
    }
    if (!added) expanded.push({ ...entry });
  }
  if (expanded.length === 0)
    throw new WorkflowError(where, "the matrix has no cells (everything excluded or empty)");
  return expanded;
}

/** A cell's display name, as GitHub shows a matrix job: `build (a, linux/amd64)`. */
export function cellName(job: string, cell: MatrixCell): string {
  const values = Object.values(cell).map((value) =>
    typeof value === "object" && value !== null ? JSON.stringify(value) : String(value),
  );
  return values.length === 0 ? job : `${job} (${values.join(", ")})`;
}
