export * from "./errors";
export * from "./log";
export * from "./retry";
export * from "./input-list";
export * from "./inputs";
export * from "./exec";
export * from "./secrets";
export * from "./tool-installer";
