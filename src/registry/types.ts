/**
 * The registry's public types: what a caller writes (records), what it reads back (rows), and the store
 * interface both engines implement. Rows carry the store's integer ids so that commands and logs can name a
 * row without naming a patient.
 */

/** A JSON value, as stored in the outputs, probabilities and gate-verdict columns. */
export type JsonValue = string | number | boolean | null | readonly JsonValue[] | { readonly [key: string]: JsonValue };

/**
 * What became of one ingested file. `duplicate`: its bytes (or its SOPInstanceUID with the same bytes) are
 * already stored as another instance; `quarantined`: not stored, with a reason (unreadable, refused by
 * de-identification, or a SOPInstanceUID already stored with other bytes).
 */
export type FileStatus = 'stored' | 'quarantined' | 'duplicate';

/** Every file status, in the order counts and exports list them. */
export const FILE_STATUSES: readonly FileStatus[] = Object.freeze(['stored', 'quarantined', 'duplicate']);

/** A reviewer's verdict on a prediction: accept it, correct its label, or reject it (unusable or wrong). */
export type ReviewVerdict = 'accept' | 'correct' | 'reject';

/** Every review verdict. */
export const REVIEW_VERDICTS: readonly ReviewVerdict[] = Object.freeze(['accept', 'correct', 'reject']);

/** The review state of an (instance, task): its latest review's verdict, or none yet. */
export type ReviewState = 'unreviewed' | 'accepted' | 'corrected' | 'rejected';

/** Every review state. */
export const REVIEW_STATES: readonly ReviewState[] = Object.freeze(['unreviewed', 'accepted', 'corrected', 'rejected']);

/**
 * A stored film's metadata, already de-identified by the caller: the store keeps exactly what it is given.
 * DICOM fields keep their keyword (PS3.6) in camelCase; every field is optional because a PNG has none of them.
 */
export interface InstanceMetadata {
  /** The pseudonymous patient id the de-identification assigned (never a real PatientID). */
  readonly patientPseudonym?: string | null;
  readonly studyInstanceUid?: string | null;
  readonly seriesInstanceUid?: string | null;
  /** The film's SOPInstanceUID: a second key beside the content hash. */
  readonly sopInstanceUid?: string | null;
  /** DICOM Modality (0008,0060), e.g. `DX`, `CR`. */
  readonly modality?: string | null;
  /** DICOM BodyPartExamined (0018,0015), e.g. `SPINE`. */
  readonly bodyPart?: string | null;
  /** DICOM ViewPosition (0018,5101), e.g. `AP`, `LL`. */
  readonly view?: string | null;
  /** DICOM ImageLaterality (0020,0062) or Laterality (0020,0060): `L`, `R`, `U`, `B`. */
  readonly laterality?: string | null;
  /** DICOM PatientSex (0010,0040): `M`, `F`, `O`. */
  readonly sex?: string | null;
  /** Age at acquisition in months. */
  readonly ageMonths?: number | null;
  /** Acquisition date after the de-identification's date shift, `YYYY-MM-DD`. */
  readonly acquisitionDateShifted?: string | null;
}

/** One file an ingest read: stored with its metadata, or quarantined with the reason. */
export type FileRecord =
  | {
      readonly sourcePath: string;
      /** sha256 of the file's bytes, 64 lowercase hex digits. */
      readonly sha256: string;
      readonly status: 'stored';
      readonly instance: InstanceMetadata;
    }
  | {
      readonly sourcePath: string;
      readonly sha256: string;
      readonly status: 'quarantined';
      /** Why it was not stored, in words (no patient identifiers). */
      readonly reason: string;
    };

/** A recorded file. */
export interface FileRow {
  readonly id: number;
  readonly sourcePath: string;
  readonly sha256: string;
  readonly status: FileStatus;
  /** Why it is quarantined; null otherwise. */
  readonly quarantineReason: string | null;
  /** The instance this file is (stored) or repeats (duplicate); null when quarantined. */
  readonly instanceId: number | null;
  /** For a duplicate: the instance it repeats (equal to instanceId). */
  readonly duplicateOfInstanceId: number | null;
  /** For a file quarantined because its SOPInstanceUID is stored with other bytes: that instance. */
  readonly conflictInstanceId: number | null;
  /** ISO 8601 UTC. */
  readonly recordedAt: string;
}

/** A stored instance (one film) with the hierarchy it belongs to. */
export interface InstanceRow extends Required<InstanceMetadata> {
  readonly id: number;
  readonly sha256: string;
  /** The path the instance was first stored from. */
  readonly sourcePath: string;
  readonly recordedAt: string;
}

/** The suitability gate's verdict on a film before a model read it: passed or refused, with its details. */
export interface GateVerdict {
  readonly passed: boolean;
  readonly [detail: string]: JsonValue;
}

/** One model's result on one instance for one task. */
export interface PredictionRecord {
  readonly instanceId: number;
  /** The task name (`spine-view`, `hand-bone-age`). */
  readonly task: string;
  /** The model card's id. */
  readonly modelId: string;
  /** sha256 of the model's weights: with instance and task, the prediction's idempotency key. */
  readonly weightsSha256: string;
  /** The task's outputs as it reports them. */
  readonly outputs: JsonValue;
  /** Class probabilities (classification) or the prediction interval (regression); null when the task has none. */
  readonly probabilities?: JsonValue;
  /** The class (classification) or a printable value; filters and review corrections compare against it. */
  readonly label?: string | null;
  /** The confidence in [0, 1] the review queue sorts by; null when the task gives none. */
  readonly confidence?: number | null;
  readonly gate?: GateVerdict | null;
}

/** A recorded prediction. */
export interface PredictionRow {
  readonly id: number;
  readonly instanceId: number;
  readonly task: string;
  readonly modelId: string;
  readonly weightsSha256: string;
  readonly outputs: JsonValue;
  readonly probabilities: JsonValue;
  readonly label: string | null;
  readonly confidence: number | null;
  readonly gate: GateVerdict | null;
  readonly createdAt: string;
}

/** A human review of the latest prediction of an (instance, task). */
export interface ReviewRecord {
  readonly instanceId: number;
  /** Which task's prediction; may be left out when the instance has predictions for one task only. */
  readonly task?: string;
  readonly verdict: ReviewVerdict;
  /** The corrected label; required for `correct`, refused otherwise. */
  readonly label?: string | null;
  readonly reviewer: string;
  readonly note?: string | null;
}

/** A recorded review. */
export interface ReviewRow {
  readonly id: number;
  readonly instanceId: number;
  readonly task: string;
  /** The prediction that was reviewed. */
  readonly predictionId: number;
  readonly verdict: ReviewVerdict;
  readonly label: string | null;
  readonly reviewer: string;
  readonly note: string | null;
  readonly reviewedAt: string;
}

/** The latest prediction of an (instance, task) with its latest review. */
export interface LatestResult {
  readonly prediction: PredictionRow;
  readonly review: ReviewRow | null;
  readonly reviewState: ReviewState;
  /** The label to use: the correction if corrected, none if rejected, else the predicted label. */
  readonly label: string | null;
}

/** One ingested file with its instance and the latest result per task. */
export interface RegistryRow {
  readonly file: FileRow;
  /** The stored instance (for a duplicate, the one it repeats); null when quarantined. */
  readonly instance: InstanceRow | null;
  /** Latest result per task, by task name; only the filtered task when the filter names one. */
  readonly results: readonly LatestResult[];
}

/** Filters of {@link RegistryStore.listInstances}; all given ones must hold (AND). */
export interface InstanceFilter {
  readonly status?: FileStatus | readonly FileStatus[];
  /** Only rows with a result for this task (and the result filters below apply to that task). */
  readonly task?: string;
  /** The result's label (the correction when corrected). */
  readonly label?: string;
  /** Results with confidence strictly below this. */
  readonly confidenceBelow?: number;
  /** Results with confidence strictly above this. */
  readonly confidenceAbove?: number;
  readonly reviewState?: ReviewState;
  /** Case-insensitive substring of the source path. */
  readonly pathContains?: string;
  /** Only the files of this instance (the stored one and its duplicates). */
  readonly instanceId?: number;
  /** Newest recorded first (default oldest first, the recording order). */
  readonly newestFirst?: boolean;
  readonly limit?: number;
  readonly offset?: number;
}

/** Files by status; `conflict` counts the quarantined files whose SOPInstanceUID is stored with other bytes. */
export interface StatusCounts {
  readonly stored: number;
  readonly quarantined: number;
  readonly duplicate: number;
  readonly conflict: number;
  readonly total: number;
}

/** One entry of the review queue: the latest prediction of an (instance, task) awaiting a person. */
export interface ReviewQueueItem {
  readonly instanceId: number;
  readonly sourcePath: string;
  readonly task: string;
  readonly predictionId: number;
  readonly label: string | null;
  readonly confidence: number | null;
  readonly gatePassed: boolean | null;
  /** `rejected` when a reviewer rejected it and it awaits a correction; else `unreviewed`. */
  readonly reviewState: ReviewState;
}

/** Options of {@link RegistryStore.reviewQueue}. */
export interface ReviewQueueOptions {
  readonly task?: string;
  /** Only unreviewed results below this confidence (rejected ones are always listed). */
  readonly confidenceBelow?: number;
  readonly limit?: number;
}

/** The export: named columns and one row per ingested file, as a CSV writer prints them. */
export interface ExportTable {
  readonly columns: readonly string[];
  readonly rows: readonly Readonly<Record<string, string | number | null>>[];
}

/** An append-only audit entry: who did what to which row, when. */
export interface AuditEntry {
  readonly id: number;
  readonly at: string;
  readonly actor: string;
  readonly action: string;
  /** The table of the row touched. */
  readonly tableName: string;
  readonly rowId: number | null;
  readonly detail: JsonValue;
}

/** A caller's own audit entry (e.g. an export). */
export interface AuditRecord {
  readonly action: string;
  readonly tableName: string;
  readonly rowId?: number | null;
  readonly detail?: JsonValue;
  /** Defaults to the store's actor. */
  readonly actor?: string;
}

/** What a film's ingest produced, written in one transaction by {@link RegistryStore.recordIngest}. */
export interface IngestRecord {
  readonly file: FileRecord;
  /** The film's predictions; attached to its instance (or the instance it duplicates), skipped if quarantined. */
  readonly predictions?: readonly Omit<PredictionRecord, 'instanceId'>[];
}

/** The outcome of {@link RegistryStore.recordIngest}. */
export interface IngestResult {
  readonly file: FileRow;
  /** False when the same file (path and bytes) was already recorded: a resumed run. */
  readonly fileCreated: boolean;
  readonly predictions: readonly PredictionRow[];
  /** How many of the given predictions were new (a rerun writes none). */
  readonly predictionsCreated: number;
}

/** Reads and writes of the registry; inside {@link RegistryStore.transaction} they share one transaction. */
export interface RegistryTx {
  /**
   * Record one file, exactly once: the same path and bytes again return the existing row (`created: false`);
   * the same bytes at another path, or the same SOPInstanceUID with the same bytes, record a duplicate of the
   * stored instance; the same SOPInstanceUID with other bytes records the file as quarantined (a conflict),
   * never overwriting the stored instance.
   */
  recordFile(file: FileRecord): Promise<{ readonly file: FileRow; readonly created: boolean }>;
  /** Record a prediction, exactly once per (instance, task, weights sha256); a rerun returns the existing row. */
  recordPrediction(prediction: PredictionRecord): Promise<{ readonly prediction: PredictionRow; readonly created: boolean }>;
  /** Record a review of the latest prediction of (instance, task). */
  recordReview(review: ReviewRecord): Promise<ReviewRow>;
  /** Append an audit entry of the caller's own (the store's writes audit themselves). */
  appendAudit(entry: AuditRecord): Promise<AuditEntry>;
  /** The file recorded at this path with these bytes, if any: lets a resumed ingest skip the film. */
  findFile(sourcePath: string, sha256: string): Promise<FileRow | null>;
  /** Every file recorded at this source path, oldest first (a source whose bytes changed has several). */
  filesAtPath(sourcePath: string): Promise<FileRow[]>;
  getInstance(instanceId: number): Promise<InstanceRow | null>;
  /** Every prediction of an instance, oldest first. */
  listPredictions(instanceId: number): Promise<PredictionRow[]>;
  /** Ingested files with their instance and latest result per task, in recording order. */
  listInstances(filter?: InstanceFilter): Promise<RegistryRow[]>;
  countByStatus(): Promise<StatusCounts>;
  /** Results awaiting review: rejected ones first, then gate-refused, then by confidence, lowest (or none) first. */
  reviewQueue(options?: ReviewQueueOptions): Promise<ReviewQueueItem[]>;
  /** One row per ingested file (stored, quarantined or duplicate) with its source path and latest results. */
  exportRows(filter?: InstanceFilter): Promise<ExportTable>;
  /** The audit log, oldest first. */
  auditLog(options?: { readonly tableName?: string; readonly rowId?: number; readonly limit?: number }): Promise<AuditEntry[]>;
}

/** An open registry: the reads and writes, a transaction, and close. */
export interface RegistryStore extends RegistryTx {
  /** `sqlite` or `postgres`. */
  readonly engine: 'sqlite' | 'postgres';
  /** The schema version after the migrations applied at open. */
  readonly schemaVersion: number;
  /**
   * Run `fn` in one transaction: every write through `tx` commits together or, if `fn` throws, not at all.
   * Calling the store itself (not `tx`) inside `fn` is refused, because on SQLite it would wait on its own lock.
   */
  transaction<T>(fn: (tx: RegistryTx) => Promise<T>): Promise<T>;
  /** Record a whole film (file and predictions) in one transaction: after a kill, all of it or none. */
  recordIngest(film: IngestRecord): Promise<IngestResult>;
  close(): Promise<void>;
}

/** Options of `openRegistry`. */
export interface OpenRegistryOptions {
  /** Who the audit log names for this store's writes (a reviewer's name is used for reviews). Default `physis`. */
  readonly actor?: string;
  /** SQLite: how long a writer waits for another's lock before failing (default 5000 ms). */
  readonly busyTimeoutMs?: number;
  /** PostgreSQL: how long to wait for a connection (default 5000 ms). */
  readonly connectTimeoutMs?: number;
}
