/**
 * Typed errors of the registry store. Each message is one line that names the cause and, where it helps, the
 * store's own row id (`file #12`, `instance #3`) — never a source path, a pseudonym or a DICOM UID, because a
 * message ends up in terminals, logs and bug reports, and those are outside the registry's access control
 * (HIPAA minimum necessary, 45 CFR 164.502(b)).
 */

/** Base class: the registry could not do what was asked. */
export class RegistryError extends Error {
  override name = 'RegistryError';
}

/** The registry URL is not one of the accepted forms (`sqlite:<file>`, `sqlite::memory:`, `postgres://…`). */
export class RegistryUrlError extends RegistryError {
  override name = 'RegistryUrlError';
}

/** The database could not be reached or opened (server down, wrong host, refused login, unwritable file). */
export class RegistryUnreachableError extends RegistryError {
  override name = 'RegistryUnreachableError';
}

/**
 * The database was migrated by a newer Physis than this one: its schema version is above the newest migration
 * this code knows. Refused rather than read, because an older program writing a newer schema can corrupt it.
 */
export class RegistrySchemaTooNewError extends RegistryError {
  override name = 'RegistrySchemaTooNewError';
  /** The version the database is at. */
  readonly databaseVersion: number;
  /** The newest version this code knows. */
  readonly codeVersion: number;
  /**
   * @param databaseVersion - the highest version in schema_migrations
   * @param codeVersion - the newest migration this code has
   */
  constructor(databaseVersion: number, codeVersion: number) {
    super(`registry schema is version ${databaseVersion}, newer than this Physis knows (${codeVersion}); upgrade Physis`);
    this.databaseVersion = databaseVersion;
    this.codeVersion = codeVersion;
  }
}

/**
 * A write contradicts what the registry already holds under the same key (the same bytes with another
 * SOPInstanceUID, a review of a prediction that does not exist), so neither value can be kept silently.
 */
export class RegistryConflictError extends RegistryError {
  override name = 'RegistryConflictError';
}

/** A write was given a malformed value (a sha256 that is not 64 hex digits, a correction without a label). */
export class RegistryInputError extends RegistryError {
  override name = 'RegistryInputError';
}

/** A row the caller named by id does not exist (a review of an unknown instance). */
export class RegistryNotFoundError extends RegistryError {
  override name = 'RegistryNotFoundError';
}
