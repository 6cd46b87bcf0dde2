/** The absolute path of MemBase's loadable extension for this platform. */
export function getLoadablePath(): string;
/** Loads MemBase into a better-sqlite3 Database or a node:sqlite DatabaseSync. */
export function load<T extends { loadExtension(path: string): unknown }>(db: T): T;
