/** A GITHUB_OUTPUT / GITHUB_STATE / GITHUB_ENV file the runner refuses, as the runner words it. */
export class FileCommandError extends Error {
  constructor(file: string, problem: string) {
    super(`${file}: ${problem}`);
    this.name = "FileCommandError";
  }
}

/**
 * Parses a key-value file command the way the runner does: `name=value` lines, and `name<<DELIMITER`
 * heredocs whose value is every line up to one equal to the delimiter (how `@actions/core` writes, with a
 * random `ghadelimiter_<uuid>`). Blank lines between entries are skipped; a later entry wins.
 * `file` names the file in errors (e.g. "GITHUB_OUTPUT").
 */
export function parseKeyValueFile(text: string, file: string): Record<string, string> {
  const entries = new Map<string, string>();
  const lines = text.split(/\r?\n/);
  for (let index = 0; index < lines.length; index++) {
    const line = lines[index] ?? "";
    if (line === "") continue;
    const equals = line.indexOf("=");
    const heredoc = line.indexOf("<<");
    if (equals >= 0 && (heredoc < 0 || equals < heredoc)) {
      const name = line.slice(0, equals);
      if (name === "")
        throw new FileCommandError(file, `invalid format '${line}': the name before '=' is empty`);
      entries.set(name, line.slice(equals + 1));
    } else if (heredoc >= 0) {
      const name = line.slice(0, heredoc);
      const delimiter = line.slice(heredoc + 2);
      if (name === "" || delimiter === "") {
        throw new FileCommandError(file, `invalid format '${line}': expected name<<DELIMITER`);
      }
      const end = lines.indexOf(delimiter, index + 1);
      if (end < 0) {
        throw new FileCommandError(file, `matching delimiter '${delimiter}' not found for '${name}'`);
      }
      entries.set(name, lines.slice(index + 1, end).join("\n"));
      index = end;
    } else {
      throw new FileCommandError(file, `invalid format '${line}': expected name=value or name<<DELIMITER`);
    }
  }
  return Object.fromEntries(entries);
}

/** GITHUB_PATH: one directory a line, each prepended to PATH for later steps. */
export function parsePathFile(text: string): string[] {
  return text
    .split(/\r?\n/)
    .map((line) => line.trim())
    .filter((line) => line !== "");
}
