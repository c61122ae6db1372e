import { existsSync, readFileSync, statSync } from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';
import { InvalidOptionError } from '../errors.js';

/** A folder of numbered migration files, under a namespace that keeps its ids apart from other sources'. */
export interface MigrationSource {
  readonly namespace: string;
  readonly directory: string;
  /** The plugin package's version, recorded with each run. */
  readonly version?: string;
}

/** The `mongrate` field of a plugin's package.json. */
interface PluginManifest {
  readonly namespace?: string;
  /** Folder of the migration files, relative to the package. Default: the folder of the package's entry point. */
  readonly migrations?: string;
}

interface PackageJson {
  readonly name?: string;
  readonly version?: string;
  readonly mongrate?: PluginManifest;
}

function readPackageJson(directory: string): PackageJson | undefined {
  const file = path.join(directory, 'package.json');
  if (!existsSync(file)) return undefined;
  return JSON.parse(readFileSync(file, 'utf8')) as PackageJson;
}

/** The package.json of the folder, or of its parent when that one is a plugin (a built plugin keeps its files in `dist/`). */
function pluginManifestOf(dir: string): PackageJson | undefined {
  const own = readPackageJson(dir);
  if (own) return own;
  const parent = readPackageJson(path.dirname(dir));
  return parent?.mongrate ? parent : undefined;
}

/**
 * A folder source. Its namespace is, in order: `options.namespace`, the `mongrate.namespace` of a package.json
 * in the folder (or in its parent, for a plugin built into a subfolder), the folder's name. So a plugin gets the same ids whether it is named by folder or by package.
 */
export function folderSource(directory: string, options: { readonly namespace?: string; readonly version?: string } = {}): MigrationSource {
  const dir = path.resolve(directory);
  if (!existsSync(dir) || !statSync(dir).isDirectory()) {
    throw new InvalidOptionError(`Migrations folder ${dir} does not exist. Pass an existing folder or an installed plugin package.`);
  }
  const pkg = pluginManifestOf(dir);
  const namespace = options.namespace ?? pkg?.mongrate?.namespace ?? path.basename(dir);
  if (!/^[a-z0-9][a-z0-9._-]*$/i.test(namespace)) {
    throw new InvalidOptionError(`Migration namespace "${namespace}" (of ${dir}) must be letters, digits, '.', '_' or '-'.`);
  }
  const version = options.version ?? pkg?.version;
  return { namespace, directory: dir, ...(version ? { version } : {}) };
}

/** A plugin: an installed npm package whose package.json has a `mongrate` field, found from `fromDirectory` upwards. */
export function packageSource(name: string, fromDirectory = process.cwd()): MigrationSource {
  for (let dir = path.resolve(fromDirectory); ; dir = path.dirname(dir)) {
    const candidate = path.join(dir, 'node_modules', ...name.split('/'));
    const pkg = readPackageJson(candidate);
    if (pkg) {
      if (!pkg.mongrate) {
        throw new InvalidOptionError(`Package ${name} is not a migrations plugin: its package.json has no "mongrate" field.`);
      }
      const real = pkg.mongrate.migrations ? path.resolve(candidate, pkg.mongrate.migrations) : entryFolder(name, dir) ?? candidate;
      return folderSource(real, {
        namespace: pkg.mongrate.namespace ?? name.replace(/^@/, '').replace('/', '.'),
        ...(pkg.version ? { version: pkg.version } : {}),
      });
    }
    if (path.dirname(dir) === dir) break;
  }
  throw new InvalidOptionError(`"${name}" is neither a folder nor an installed package. Pass a migrations folder or a plugin package name.`);
}

/**
 * The folder of a plugin's entry point, as Node resolves it here (with this process's export conditions): the built
 * `dist/` of an installed package, its sources under a development condition. Undefined if it has no entry point.
 */
function entryFolder(name: string, fromDirectory: string): string | undefined {
  try {
    return path.dirname(createRequire(path.join(fromDirectory, 'package.json')).resolve(name));
  } catch {
    return undefined;
  }
}

/** A folder path if one exists there, else an installed plugin package. */
export function resolveSource(spec: string, fromDirectory = process.cwd()): MigrationSource {
  const asPath = path.resolve(fromDirectory, spec);
  if (existsSync(asPath)) return folderSource(asPath);
  return packageSource(spec, fromDirectory);
}
