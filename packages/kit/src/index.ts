export function hello(): string { return "kit"; }
