// The fast CSV path (transcode.ts says what it is and why it exists beside the papaparse path).
export type { FastRecord } from './record.js';
export { type FastCsvHandlers, type FastCsvOptions, type FastCsvResult, transcodeCsv } from './transcode.js';
