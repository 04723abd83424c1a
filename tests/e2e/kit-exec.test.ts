import { chmod, mkdtemp, realpath, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, test } from "vitest";
import { ExecError, execStreaming, recordingLogger } from "@frostyard/kit";
import { missingTools } from "../helpers/tools";

/** Runs and returns the ExecError it rejects with, failing the test otherwise. */
async function execError(promise: Promise<unknown>): Promise<ExecError> {
  const error = await promise.then(
    () => new Error("expected an ExecError, the command succeeded"),
    (e: unknown) => e,
  );
  if (error instanceof ExecError) return error;
  throw error;
}

describe.skipIf(missingTools("sh", "printf", "yes", "head", "cat", "pwd"))(
  "execStreaming on real processes",
  () => {
    let dir: string;
    beforeAll(async () => {
      dir = await realpath(await mkdtemp(join(tmpdir(), "kit-exec-")));
    });
    afterAll(() => rm(dir, { recursive: true, force: true }));

    test("stdout and stderr lines reach their listeners, in order, without trailing newlines", async () => {
      const out: string[] = [];
      const err: string[] = [];
      const result = await execStreaming(
        "sh",
        ["-c", "printf 'one\\ntwo\\n'; printf 'warn\\n' >&2; printf three"],
        {
          logger: recordingLogger(),
          onStdoutLine: (l) => out.push(l),
          onStderrLine: (l) => err.push(l),
        },
      );
      expect(out).toEqual(["one", "two", "three"]);
      expect(err).toEqual(["warn"]);
      expect(result).toEqual({ exitCode: 0, stdout: "", stderrTail: ["warn"] });
    });

    test("by default lines go to logger.info after the echoed command line", async () => {
      const logger = recordingLogger();
      await execStreaming("printf", ["a\\nb c\\n"], { logger });
      expect(logger.lines).toEqual(["[command]printf 'a\\nb c\\n'", "a", "b c"]);
    });

    test("captureStdout returns stdout exactly and logs it only at debug", async () => {
      const logger = recordingLogger();
      const result = await execStreaming("printf", ['{"a": 1}\\n'], {
        logger,
        captureStdout: true,
        echoCommand: false,
      });
      expect(result.stdout).toBe('{"a": 1}\n');
      expect(logger.lines).toEqual(['debug: {"a": 1}']);
    });

    test("captured stdout beyond the bound is an error, not a buffer that grows", async () => {
      const error = await execError(
        execStreaming("head", ["-c", "5000", "/dev/zero"], {
          logger: recordingLogger(),
          captureStdout: true,
          maxCapturedStdoutBytes: 4096,
          onStdoutLine: () => {},
        }),
      );
      expect(error.message).toBe(
        "head wrote more than 4096 bytes to stdout; captureStdout is meant for short output",
      );
      expect(error.exitCode).toBe(0);
    });

    test("cwd, input on stdin, and env replacing or extending ours", async () => {
      const run = (script: string, options: object) =>
        execStreaming("sh", ["-c", script], {
          logger: recordingLogger(),
          captureStdout: true,
          ...options,
        }).then((r) => r.stdout);
      expect(await run("pwd", { cwd: dir })).toBe(`${dir}\n`);
      expect(await run("cat", { input: "from stdin\n" })).toBe("from stdin\n");
      expect(await run("cat", { input: Buffer.from([0x68, 0x69]) })).toBe("hi");
      process.env.KIT_EXEC_PARENT = "parent";
      try {
        const replaced = await run('echo "${KIT_EXEC_PARENT:-unset} $ONLY"', {
          env: { PATH: process.env.PATH, ONLY: "x" },
        });
        expect(replaced).toBe("unset x\n");
        const extended = await run('echo "$KIT_EXEC_PARENT $ONLY"', { env: { ONLY: "y" }, extendEnv: true });
        expect(extended).toBe("parent y\n");
      } finally {
        delete process.env.KIT_EXEC_PARENT;
      }
    });

    test("a child that ignores its stdin does not break the run", async () => {
      const result = await execStreaming("sh", ["-c", "exit 0"], {
        logger: recordingLogger(),
        input: Buffer.alloc(4 * 1024 * 1024),
      });
      expect(result.exitCode).toBe(0);
    });

    test("a non-zero exit rejects with the code and the last stderr lines", async () => {
      const error = await execError(
        execStreaming("sh", ["-c", 'for i in $(seq 1 50); do echo "line $i" >&2; done; exit 3'], {
          logger: recordingLogger(),
          stderrTailLines: 3,
        }),
      );
      expect(error.command).toBe("sh");
      expect(error.exitCode).toBe(3);
      expect(error.signal).toBeUndefined();
      expect(error.stderrTail).toEqual(["line 48", "line 49", "line 50"]);
      expect(error.message).toBe("sh exited with code 3:\nline 48\nline 49\nline 50");
    });

    test("the default tail is the last 20 lines", async () => {
      const error = await execError(
        execStreaming("sh", ["-c", "seq 1 1000 >&2; exit 1"], {
          logger: recordingLogger(),
          onStderrLine: () => {},
        }),
      );
      expect(error.stderrTail).toEqual(Array.from({ length: 20 }, (_, i) => String(981 + i)));
    });

    test("ignoreReturnCode resolves with the code", async () => {
      const result = await execStreaming("sh", ["-c", "echo nope >&2; exit 7"], {
        logger: recordingLogger(),
        ignoreReturnCode: true,
      });
      expect(result).toEqual({ exitCode: 7, stdout: "", stderrTail: ["nope"] });
    });

    test("a signal rejects naming it", async () => {
      const error = await execError(
        execStreaming("sh", ["-c", "kill -KILL $$"], { logger: recordingLogger() }),
      );
      expect(error.signal).toBe("SIGKILL");
      expect(error.exitCode).toBeUndefined();
      expect(error.message).toBe("sh was killed by signal SIGKILL (no output on stderr)");
    });

    test("a missing command says so", async () => {
      const error = await execError(
        execStreaming("mkosi-does-not-exist", ["build"], { logger: recordingLogger() }),
      );
      expect(error.message).toBe("'mkosi-does-not-exist' was not found on PATH");
      expect(error.exitCode).toBeUndefined();
      expect((error.cause as NodeJS.ErrnoException).code).toBe("ENOENT");
    });

    test("a file that is not executable says so", async () => {
      const script = join(dir, "not-executable.sh");
      await writeFile(script, "#!/bin/sh\necho hi\n");
      await chmod(script, 0o644);
      const error = await execError(execStreaming(script, [], { logger: recordingLogger() }));
      expect(error.message).toBe(`'${script}' is not executable (permission denied)`);
    });

    test("secrets never reach a listener, the echoed command line or the error", async () => {
      const token = "s3cr3t-t0ken";
      const key = "-----BEGIN KEY-----\nAAAAline2secret\n-----END KEY-----";
      const logger = recordingLogger();
      // The token reaches the child through env, as it should; it is also passed as $0 only to show that the
      // echoed command line is redacted should a caller ever put one in argv.
      const error = await execError(
        execStreaming(
          "sh",
          ["-c", `echo "token=$TOKEN"; echo "AAAAline2secret" >&2; echo "bad $TOKEN" >&2; exit 1`, token],
          { logger, env: { TOKEN: token }, extendEnv: true, secrets: [token, key, "", undefined] },
        ),
      );
      const everything = [...logger.lines, error.message, ...error.stderrTail].join("\n");
      expect(everything).not.toContain(token);
      expect(everything).not.toContain("line2secret");
      expect(logger.lines).toContain("token=***");
      expect(logger.lines[0]).toMatch(/^\[command\]sh -c .* \*\*\*$/);
      expect(error.message).toBe("sh exited with code 1:\n***\nbad ***");
    });

    test("100 MB of stdout streams through with memory bounded", async () => {
      // 100-character lines plus newline; `head -c` cuts the last one short, to one character.
      const total = 100_000_000;
      const fullLines = Math.floor(total / 101);
      let lines = 0;
      let chars = 0;
      let longest = 0;
      let peakRss = 0;
      const before = process.memoryUsage().rss;
      const sampler = setInterval(() => {
        peakRss = Math.max(peakRss, process.memoryUsage().rss);
      }, 20);
      try {
        await execStreaming("sh", ["-c", `yes "$(printf '%0100d' 0)" | head -c ${total}`], {
          logger: recordingLogger(),
          onStdoutLine: (line) => {
            lines++;
            chars += line.length;
            if (line.length > longest) longest = line.length;
          },
        });
      } finally {
        clearInterval(sampler);
      }
      peakRss = Math.max(peakRss, process.memoryUsage().rss);
      expect(lines).toBe(fullLines + 1);
      expect(chars).toBe(total - fullLines);
      expect(longest).toBe(100);
      // Holding the output would take ≥ 100 MB; streaming stays well under that.
      expect(peakRss - before).toBeLessThan(64 * 1024 * 1024);
    });
  },
);
