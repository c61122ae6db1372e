/** nctool's migrations as a plugin: `new Migrator({ client, sources: [migrationSource] })`. */
import { folderSource } from '@mongrate/core';

export const migrationSource = folderSource(import.meta.dirname);
