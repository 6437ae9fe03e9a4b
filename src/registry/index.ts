/**
 * The imaging registry's store: what an archive's films are (patients by pseudonym, studies, series, instances),
 * what became of each file at ingest (stored, quarantined with the reason, duplicate of which instance), every
 * model prediction, every human review, and an append-only audit log.
 *
 * Two engines behind one interface, picked by URL (`openRegistry`):
 * - SQLite (`sqlite:registry.db`, the default): one file, no server; what a single workstation or a laptop study
 *   needs, backed up by copying the file. Several processes may write it (WAL and a busy timeout).
 * - PostgreSQL (`postgres://…`): a registry several people or machines share, with the server's roles, backups and
 *   concurrent writers.
 * Each engine's driver is loaded lazily by its adapter file, so a SQLite user never loads `pg` and vice versa.
 * One list of numbered migrations serves both; a database newer than the code is refused.
 *
 * Exactly-once: ingestion is resumable (a killed run is simply run again), so every write is keyed — a file by
 * its path and the sha256 of its bytes, an instance by that sha256 and its SOPInstanceUID, a prediction by
 * (instance, task, weights sha256) — and a repeat returns the existing row instead of adding one; everything a film
 * produces is written in one transaction (`recordIngest`, or `transaction`), so a kill leaves all or none of it.
 * The store stores what it is given: de-identification happens before (src/radiograph), and messages name rows by
 * their integer id, never by path, pseudonym or UID.
 *
 * @example
 * const store = await openRegistry('sqlite:spine-registry.db');
 * await store.recordIngest({
 *   file: { sourcePath: 'archive/0001.dcm', sha256, status: 'stored', instance: { modality: 'DX', bodyPart: 'SPINE', view: 'AP' } },
 *   predictions: [{ task: 'spine-view', modelId: 'spine-view-resnet18', weightsSha256, outputs: { view: 'AP' }, label: 'AP', confidence: 0.97 }],
 * });
 * (await store.exportRows()).rows[0]?.['spine-view.label']; // -> 'AP'
 */
export {
  RegistryError,
  RegistryUrlError,
  RegistryUnreachableError,
  RegistrySchemaTooNewError,
  RegistryConflictError,
  RegistryInputError,
  RegistryNotFoundError,
} from './errors.js';
export { openRegistry, parseRegistryUrl, DEFAULT_REGISTRY_URL, type RegistryLocation } from './open-registry.js';
export { LATEST_SCHEMA_VERSION } from './migrations.js';
export { EXPORT_FILE_COLUMNS, EXPORT_TASK_COLUMNS } from './sql-store.js';
export {
  FILE_STATUSES,
  REVIEW_STATES,
  REVIEW_VERDICTS,
  type AuditEntry,
  type AuditRecord,
  type ExportTable,
  type FileRecord,
  type FileRow,
  type FileStatus,
  type GateVerdict,
  type IngestRecord,
  type IngestResult,
  type InstanceFilter,
  type InstanceMetadata,
  type InstanceRow,
  type JsonValue,
  type LatestResult,
  type OpenRegistryOptions,
  type PredictionRecord,
  type PredictionRow,
  type RegistryRow,
  type RegistryStore,
  type RegistryTx,
  type ReviewQueueItem,
  type ReviewQueueOptions,
  type ReviewRecord,
  type ReviewRow,
  type ReviewState,
  type ReviewVerdict,
  type StatusCounts,
} from './types.js';
