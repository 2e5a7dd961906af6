import { join } from 'node:path';
import { PACKAGE_ROOT } from '../../env/bundled.js';

/** "cloud" names the bundled catalogue (profiles/catalogues/cloud.csv); anything else is a file path. */
export function resolveCatalogue(nameOrFile: string): string {
  return nameOrFile === 'cloud' ? join(PACKAGE_ROOT, 'profiles', 'catalogues', 'cloud.csv') : nameOrFile;
}
