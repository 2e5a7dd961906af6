/**
 * A problem with the user's input or flags. The CLI prints its message as one
 * line and exits 1; anything else is a bug and keeps its stack trace.
 */
export class UserError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'UserError';
  }
}

/** `file row R, column C: message` — the one-line shape every input error takes. */
export function inputError(file: string, row: number | undefined, column: string | undefined, message: string): UserError {
  const where = [row !== undefined ? `row ${row}` : '', column !== undefined ? `column ${column}` : '']
    .filter(Boolean)
    .join(', ');
  return new UserError(`${file}${where ? ` ${where}` : ''}: ${message}`);
}
