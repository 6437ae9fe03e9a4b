/**
 * Clinical tasks: one folder per task (labels schema, sex/age handling, reference tables, default
 * config), plus the CSV reader they share.
 */
export { LabelsError, SexError, OodModelError } from './errors.js';
export { parseCsv, parseCsvTable, type CsvRecord, type CsvTable } from './csv.js';
export * from './hand-bone-age/index.js';
