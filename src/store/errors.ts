/** A database that cannot be opened, migrated or written; the run cannot go on. */
export class StoreError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'StoreError';
  }
}
