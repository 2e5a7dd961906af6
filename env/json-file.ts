/** Reading a JSON file a user gave: every way it can fail is one line naming the file. */
import { readFileSync } from 'node:fs';
import { UserError } from './errors.js';

/** Why a file could not be read, in words (directory, permission, missing) rather than a parse error. */
export function unreadable(file: string, error: unknown, expected: string): UserError {
  const code = (error as NodeJS.ErrnoException).code;
  if (code === 'ENOENT') return new UserError(`${file}: file not found`);
  if (code === 'EISDIR') return new UserError(`${file}: is a directory, expected ${expected}`);
  if (code === 'EACCES' || code === 'EPERM') return new UserError(`${file}: permission denied`);
  if (code === 'ENOTDIR') return new UserError(`${file}: a part of the path is a file, not a folder`);
  return new UserError(`${file}: cannot read (${code ?? (error as Error).message})`);
}

/** The parsed JSON of `file`; an unreadable, empty or malformed file is a UserError naming it. */
export function readJsonFile(file: string, expected = 'a JSON file'): unknown {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (error) {
    throw unreadable(file, error, expected);
  }
  if (text.trim() === '') throw new UserError(`${file}: file is empty, expected ${expected}`);
  try {
    return JSON.parse(text);
  } catch (error) {
    throw new UserError(`${file}: not valid JSON (${(error as Error).message.split('\n')[0]})`);
  }
}

/** The parsed JSON of `file` when it is an object (not an array, a number or null). */
export function readJsonObject(file: string, expected = 'a JSON object'): Record<string, unknown> {
  const json = readJsonFile(file, expected);
  if (json === null || typeof json !== 'object' || Array.isArray(json)) {
    throw new UserError(`${file}: expected ${expected}, got ${json === null ? 'null' : Array.isArray(json) ? 'a list' : typeof json}`);
  }
  return json as Record<string, unknown>;
}
