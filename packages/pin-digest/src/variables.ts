/** The first variable in a reference (`${{ … }}`, `${NAME}`, `$NAME`), or undefined when there is none. */
export function findVariable(text: string): string | undefined {
  const m = /\$\{\{.*?\}\}|\$\{[^}]*\}?|\$[A-Za-z_][A-Za-z0-9_]*/.exec(text);
  return m?.[0];
}
