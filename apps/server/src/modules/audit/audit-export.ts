import { Readable } from 'node:stream';
import { AuditEventResponseDto, ExportFormat } from './audit.dto';

export const CSV_COLUMNS = [
  'id',
  'at',
  'actor',
  'action',
  'target',
  'requestId',
  'address',
  'details',
  'before',
  'after',
  'prevHash',
  'hash',
] as const satisfies readonly (keyof AuditEventResponseDto)[];

/**
 * One CSV field (RFC 4180): quoted when it holds a quote, comma, CR or LF, quotes doubled. A text that a
 * spreadsheet would run as a formula (starting with =, +, -, @, tab or CR) gets a leading apostrophe.
 */
export function csvField(value: unknown): string {
  if (value === null || value === undefined) return '';
  let text = typeof value === 'string' ? value : JSON.stringify(value);
  if (/^[=+\-@\t\r]/.test(text)) text = `'${text}`;
  return /[",\r\n]/.test(text) ? `"${text.replace(/"/g, '""')}"` : text;
}

export function csvRow(e: AuditEventResponseDto): string {
  return CSV_COLUMNS.map((c) => csvField(e[c])).join(',') + '\r\n';
}

/** The export body, produced as the client reads it: a CSV with a header row, or one JSON array. */
export function exportStream(events: AsyncIterable<AuditEventResponseDto>, format: ExportFormat): Readable {
  async function* csv() {
    yield CSV_COLUMNS.join(',') + '\r\n';
    for await (const e of events) yield csvRow(e);
  }
  async function* json() {
    yield '[';
    let first = true;
    for await (const e of events) {
      yield (first ? '\n' : ',\n') + JSON.stringify(e);
      first = false;
    }
    yield first ? ']\n' : '\n]\n';
  }
  return Readable.from(format === 'csv' ? csv() : json(), { objectMode: false });
}
