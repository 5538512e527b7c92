// Value typing, in two modules: the scalar converters (convert.ts) and the row typer
// (row-typer.ts). This module re-exports both for callers that import them from here.
export * from './convert.js';
export * from './row-typer.js';
