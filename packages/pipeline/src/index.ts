export * from "./stages";
export * from "./pipeline";
