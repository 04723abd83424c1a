import { emitAnnotations, InputError, maskSecrets } from "@frostyard/kit";
import { RegistryClient } from "@frostyard/oci";
import { credentialsFor } from "../registry-login";
import {
  GitHubActionResolver,
  openPullRequest,
  OutsideRootError,
  pinDigests,
  pinRecords,
  pullRequestBody,
  registryResolver,
  statusCounts,
  type PinReport,
} from "@frostyard/pin-digest";
import { coreLogger, inputGetter, run, setJsonOutput, setOutput, writeSummary } from "..";
import { parseInputs, type PinDigestInputs } from "./inputs";
import { annotationsFor, failureOf, summaryMarkdown } from "./report";

async function main(): Promise<void> {
  const logger = coreLogger;
  const inputs = parseInputs(inputGetter);
  maskSecrets(logger, [inputs.token, inputs.registryPassword]);
  const root = process.env.GITHUB_WORKSPACE || process.cwd();

  const credentials = credentialsFor(inputs, logger);
  const client = new RegistryClient({ logger, credentials, insecureRegistries: inputs.insecureRegistries });
  const actions = new GitHubActionResolver({
    token: inputs.token,
    baseUrl: process.env.GITHUB_API_URL,
    logger,
  });

  const report = await logger
    .group(`pin-digest: ${inputs.mode} (${inputs.include})`, () =>
      pinDigests({
        root,
        paths: inputs.paths,
        mode: inputs.mode,
        include: inputs.include,
        images: registryResolver(client),
        actions,
        concurrency: inputs.concurrency,
        logger,
      }),
    )
    .catch((e: unknown) => {
      if (!(e instanceof OutsideRootError)) throw e;
      throw new InputError(
        "paths",
        `matches '${e.file}', outside the workspace ${root}`,
        "globs relative to the workspace that stay inside it",
      );
    });
  logger.info(`${statusCounts(report.outcomes)}; registry requests: ${client.stats.requests}`);
  emitAnnotations(logger, annotationsFor(report, inputs.mode));

  const changed = report.changedFiles.length > 0;
  setOutput("changed", String(changed));
  setJsonOutput("pins", pinRecords(report.outcomes));

  let pullRequest: { number: number; url: string } | undefined;
  let pullRequestError: unknown;
  if (inputs.createPr && changed) {
    // A refused push or API call still leaves the pins, outputs and summary in place; it fails the step below.
    try {
      pullRequest = await logger.group("pin-digest: pull request", () => openPr(inputs, root, report));
    } catch (e) {
      pullRequestError = e;
    }
  } else if (inputs.createPr && inputs.mode === "check") {
    logger.info("create-pr is ignored in check mode: nothing is changed");
  }
  setOutput("pull-request-url", pullRequest?.url ?? "");
  setOutput("pull-request-number", pullRequest ? String(pullRequest.number) : "");

  await writeSummary(summaryMarkdown(report, inputs, pullRequest));
  if (pullRequestError) throw pullRequestError;
  const failure = failureOf(report, inputs.mode, inputs.paths);
  if (failure) throw new Error(failure);
}

async function openPr(inputs: PinDigestInputs, root: string, report: PinReport) {
  const repository = process.env.GITHUB_REPOSITORY;
  if (!repository) throw new Error("create-pr needs GITHUB_REPOSITORY (owner/repo), which the runner sets");
  if (!inputs.token) throw new Error("create-pr needs a token: set the 'token' input (default github.token)");
  const changes = pinRecords(report.outcomes).filter((p) => p.new);
  return openPullRequest({
    root,
    repository,
    files: report.changedFiles,
    title: "Pin container images and actions to digests",
    body: pullRequestBody(report.outcomes),
    commitMessage: [
      `Pin ${changes.length} reference(s) to digests`,
      "",
      ...changes.map((p) => `${p.file}:${p.line} ${p.old} -> ${p.new}`),
    ].join("\n"),
    token: inputs.token,
    apiUrl: process.env.GITHUB_API_URL,
    serverUrl: process.env.GITHUB_SERVER_URL,
    branch: inputs.branch,
    logger: coreLogger,
  });
}

await run(main);
