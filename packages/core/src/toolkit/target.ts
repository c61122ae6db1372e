import { InvalidOptionError } from '../errors.js';

/** The part of a Mongoose `Model` (Mongoose 8 or 9) the toolkit uses: the name of its collection. */
export interface MongooseModelLike {
  readonly collection: { readonly collectionName: string };
}

/**
 * Which collection a toolkit call works on: by name, or as the collection of a Mongoose model. Either way the toolkit
 * reads and writes through the driver, on raw BSON, so Mongoose casting, defaults and middleware never alter a
 * backed-up or restored value.
 */
export interface ToolkitTarget {
  /** The collection's name. Give this or `model`. */
  readonly collection?: string;
  /** A Mongoose model (for example bound to `ctx.connection`) whose collection to use. Give this or `collection`. */
  readonly model?: MongooseModelLike;
}

/** The collection name of a toolkit call; refuses neither or both of `collection` and `model`. */
export function targetCollection(target: ToolkitTarget): string {
  if (target.collection !== undefined && target.model !== undefined) {
    throw new InvalidOptionError('Give the toolkit `collection` or `model`, not both.');
  }
  const name = target.collection ?? target.model?.collection?.collectionName;
  if (typeof name !== 'string' || name === '') {
    throw new InvalidOptionError('Name what to migrate: `collection` (a collection name) or `model` (a Mongoose model).');
  }
  return name;
}
