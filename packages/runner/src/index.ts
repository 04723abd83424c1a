export { runAction, loadAction } from "./run-action";
export type { ActionRun, RunActionOptions, StepName, StepRun } from "./run-action";
export { parseActionMetadata, assertRunnable, ActionMetadataError, SUPPORTED_USING } from "./action-metadata";
export type { ActionInput, ActionMetadata, ActionOutput } from "./action-metadata";
export { checkActionDocs, documentedNames } from "./action-docs";
export type { ActionDocsInput } from "./action-docs";
export { parseCliArgs, CliUsageError, USAGE } from "./cli-args";
export type { CliCommand, RunCommand, WorkflowCliCommand } from "./cli-args";
export { inputEnvName, stateEnvName, isRunnerOwnedEnv } from "./env-names";
export {
  evaluateDefault,
  contextEnvName,
  contextPaths,
  coerceString,
  evaluateCondition,
  evaluateExpression,
  evaluateTemplate,
  parseExpression,
  ExpressionFailure,
  CONTEXT_NAMES,
} from "./expressions";
export type { DefaultValue, JobStatus } from "./expressions";
export { parseKeyValueFile, parsePathFile, FileCommandError } from "./file-commands";
export { findNode, nodeMajor, REQUIRED_NODE_MAJOR } from "./node-binary";
export { evaluatePostIf } from "./post-if";
export type { StepStatus } from "./post-if";
export { renderRunReport } from "./render";
export { findRepoRoot } from "./repo-root";
export { actionFile, resolveActionDir } from "./resolve-action";
export {
  parseWorkflowCommand,
  toAnnotation,
  annotationLocation,
  StepOutputProcessor,
} from "./workflow-commands";
export type { Annotation, AnnotationLevel, WorkflowCommand } from "./workflow-commands";
export { startHostedServices, describeHostedStore } from "./hosted-services";
export type { HostedServices, HostedServicesOptions } from "./hosted-services";
export { HostedStore, StoreConflict, StoreNotFound } from "./hosted-store";
export type { Artifact, CacheEntry, StoreSnapshot } from "./hosted-store";
export { makeRuntimeToken, verifyRuntimeToken, RuntimeTokenError } from "./runtime-token";
export type { RunIds } from "./runtime-token";
export { blobSasStringToSign, signedBlobUrl, accountSasQuery, sasTime, SAS_VERSION } from "./azure-sas";
export type { StorageAccount } from "./azure-sas";
export { startBlobStorage, azuriteEntry } from "./azurite";
export type { BlobStorage } from "./azurite";
export { startResultsService, resultsHandlers, TwirpError } from "./results-service";
export type { ResultsService, ServedRequest } from "./results-service";
export { runWorkflow, workflowRoot } from "./workflow-run";
export type { RunWorkflowOptions, WorkflowRun, JobRun, CellRun, StepRecord, Result } from "./workflow-run";
export { loadWorkflow } from "./workflow-load";
export type { LoadedWorkflow, LoadedJob, LoadedStep } from "./workflow-load";
export { expandMatrix, cellName } from "./workflow-matrix";
export type { MatrixCell } from "./workflow-matrix";
export { jobOrder, ancestors } from "./workflow-graph";
export { githubContext, githubEnv, inputsContext, WORKFLOW_EVENTS } from "./workflow-context";
export type { WorkflowEvent, RunIdentity, InputDefinition } from "./workflow-context";
export { WorkflowError } from "./workflow-errors";
export { shellCommand, usesTarget } from "./workflow-steps";
export type { UsesTarget } from "./workflow-steps";
export { artifactPattern, commonRoot } from "./workflow-artifacts";
export { renderWorkflowReport } from "./workflow-render";
