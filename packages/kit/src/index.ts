export * from "./errors";
export * from "./log";
