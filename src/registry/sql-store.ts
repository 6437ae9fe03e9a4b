/**
 * The registry's logic, written once over {@link SqlDriver} and shared by both engines: migrations at open,
 * exactly-once writes, the queries and the export.
 *
 * Exactly-once: every write is keyed (a file by its path and sha256, an instance by its sha256 and its
 * SOPInstanceUID, a prediction by instance, task and weights sha256) and inserted with `ON CONFLICT DO NOTHING`
 * followed by a read of the existing row, so a resumed or concurrent writer finds the row instead of adding a
 * second one; a film's writes share one transaction, so a kill leaves all of them or none. The audit entry of
 * each write is part of the same transaction (no write without its entry, no entry without its write).
 */
import { AsyncLocalStorage } from 'node:async_hooks';
import {
  RegistryConflictError,
  RegistryError,
  RegistryInputError,
  RegistryNotFoundError,
  RegistrySchemaTooNewError,
} from './errors.js';
import { LATEST_SCHEMA_VERSION, MIGRATIONS, SCHEMA_MIGRATIONS_DDL, migrationSql } from './migrations.js';
import { firstRow, type SqlDriver, type SqlExecutor, type SqlRow, type SqlValue } from './sql-driver.js';
import {
  FILE_STATUSES,
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
  type StatusCounts,
} from './types.js';

const SHA256_RE = /^[0-9a-f]{64}$/;
const DATE_RE = /^\d{4}-\d{2}-\d{2}$/;
/** How often recordFile re-reads after a concurrent writer won the insert of the same bytes or UID. */
const MAX_INSERT_ATTEMPTS = 3;

const FILE_COLUMNS =
  'f.id AS f_id, f.source_path AS f_source_path, f.sha256 AS f_sha256, f.status AS f_status, ' +
  'f.quarantine_reason AS f_quarantine_reason, f.instance_id AS f_instance_id, ' +
  'f.duplicate_of_instance_id AS f_duplicate_of_instance_id, f.conflict_instance_id AS f_conflict_instance_id, ' +
  'f.recorded_at AS f_recorded_at';
const INSTANCE_COLUMNS =
  'i.id AS i_id, i.sha256 AS i_sha256, i.sop_instance_uid AS i_sop_instance_uid, i.source_path AS i_source_path, ' +
  'pt.pseudonym AS i_patient, st.study_instance_uid AS i_study_instance_uid, ' +
  'se.series_instance_uid AS i_series_instance_uid, i.modality AS i_modality, i.body_part AS i_body_part, ' +
  'i.view_position AS i_view_position, i.laterality AS i_laterality, i.sex AS i_sex, i.age_months AS i_age_months, ' +
  'i.acquisition_date_shifted AS i_acquisition_date_shifted, i.recorded_at AS i_recorded_at';
const INSTANCE_JOINS =
  'LEFT JOIN patients pt ON pt.id = i.patient_id LEFT JOIN studies st ON st.id = i.study_id ' +
  'LEFT JOIN series se ON se.id = i.series_id';
const PREDICTION_COLUMNS =
  'p.id AS p_id, p.instance_id AS p_instance_id, p.task AS p_task, p.model_id AS p_model_id, ' +
  'p.weights_sha256 AS p_weights_sha256, p.outputs_json AS p_outputs_json, p.probabilities_json AS p_probabilities_json, ' +
  'p.label AS p_label, p.confidence AS p_confidence, p.gate_json AS p_gate_json, p.created_at AS p_created_at';
const REVIEW_COLUMNS =
  'r.id AS r_id, r.instance_id AS r_instance_id, r.task AS r_task, r.prediction_id AS r_prediction_id, ' +
  'r.verdict AS r_verdict, r.label AS r_label, r.reviewer AS r_reviewer, r.note AS r_note, r.reviewed_at AS r_reviewed_at';
/** latest_results under the aliases the prediction and review mappers read. */
const LATEST_COLUMNS =
  'lr.prediction_id AS p_id, lr.instance_id AS p_instance_id, lr.task AS p_task, lr.model_id AS p_model_id, ' +
  'lr.weights_sha256 AS p_weights_sha256, lr.outputs_json AS p_outputs_json, lr.probabilities_json AS p_probabilities_json, ' +
  'lr.predicted_label AS p_label, lr.confidence AS p_confidence, lr.gate_json AS p_gate_json, lr.created_at AS p_created_at, ' +
  'lr.review_id AS r_id, lr.instance_id AS r_instance_id, lr.task AS r_task, lr.review_prediction_id AS r_prediction_id, ' +
  'lr.review_verdict AS r_verdict, lr.review_label AS r_label, lr.reviewer AS r_reviewer, lr.review_note AS r_note, ' +
  'lr.reviewed_at AS r_reviewed_at, lr.review_state AS lr_review_state, lr.label AS lr_label';

// ---------------------------------------------------------------------------------------------------------------
// column readers: the engines return integers and reals as numbers and text as strings (postgres.ts parses int8)

function text(row: SqlRow, column: string): string {
  const v = row[column];
  if (typeof v !== 'string') throw new RegistryError(`registry column ${column} holds ${v === null ? 'null' : typeof v}, not text`);
  return v;
}

function textOrNull(row: SqlRow, column: string): string | null {
  const v = row[column];
  return v === null || v === undefined ? null : String(v);
}

function int(row: SqlRow, column: string): number {
  const v = row[column];
  if (typeof v !== 'number') throw new RegistryError(`registry column ${column} holds ${v === null ? 'null' : typeof v}, not a number`);
  return v;
}

function numOrNull(row: SqlRow, column: string): number | null {
  const v = row[column];
  return typeof v === 'number' ? v : null;
}

function jsonOrNull(row: SqlRow, column: string): JsonValue {
  const v = textOrNull(row, column);
  return v === null ? null : (JSON.parse(v) as JsonValue);
}

function toFileRow(row: SqlRow): FileRow {
  const status = text(row, 'f_status');
  if (!(FILE_STATUSES as readonly string[]).includes(status)) throw new RegistryError(`registry file #${int(row, 'f_id')} has unknown status ${status}`);
  return {
    id: int(row, 'f_id'),
    sourcePath: text(row, 'f_source_path'),
    sha256: text(row, 'f_sha256'),
    status: status as FileStatus,
    quarantineReason: textOrNull(row, 'f_quarantine_reason'),
    instanceId: numOrNull(row, 'f_instance_id'),
    duplicateOfInstanceId: numOrNull(row, 'f_duplicate_of_instance_id'),
    conflictInstanceId: numOrNull(row, 'f_conflict_instance_id'),
    recordedAt: text(row, 'f_recorded_at'),
  };
}

function toInstanceRow(row: SqlRow): InstanceRow {
  return {
    id: int(row, 'i_id'),
    sha256: text(row, 'i_sha256'),
    sourcePath: text(row, 'i_source_path'),
    patientPseudonym: textOrNull(row, 'i_patient'),
    studyInstanceUid: textOrNull(row, 'i_study_instance_uid'),
    seriesInstanceUid: textOrNull(row, 'i_series_instance_uid'),
    sopInstanceUid: textOrNull(row, 'i_sop_instance_uid'),
    modality: textOrNull(row, 'i_modality'),
    bodyPart: textOrNull(row, 'i_body_part'),
    view: textOrNull(row, 'i_view_position'),
    laterality: textOrNull(row, 'i_laterality'),
    sex: textOrNull(row, 'i_sex'),
    ageMonths: numOrNull(row, 'i_age_months'),
    acquisitionDateShifted: textOrNull(row, 'i_acquisition_date_shifted'),
    recordedAt: text(row, 'i_recorded_at'),
  };
}

function toPredictionRow(row: SqlRow): PredictionRow {
  const gate = jsonOrNull(row, 'p_gate_json');
  return {
    id: int(row, 'p_id'),
    instanceId: int(row, 'p_instance_id'),
    task: text(row, 'p_task'),
    modelId: text(row, 'p_model_id'),
    weightsSha256: text(row, 'p_weights_sha256'),
    outputs: jsonOrNull(row, 'p_outputs_json'),
    probabilities: jsonOrNull(row, 'p_probabilities_json'),
    label: textOrNull(row, 'p_label'),
    confidence: numOrNull(row, 'p_confidence'),
    gate: gate === null ? null : (gate as GateVerdict),
    createdAt: text(row, 'p_created_at'),
  };
}

function toReviewRow(row: SqlRow): ReviewRow {
  return {
    id: int(row, 'r_id'),
    instanceId: int(row, 'r_instance_id'),
    task: text(row, 'r_task'),
    predictionId: int(row, 'r_prediction_id'),
    verdict: text(row, 'r_verdict') as ReviewRow['verdict'],
    label: textOrNull(row, 'r_label'),
    reviewer: text(row, 'r_reviewer'),
    note: textOrNull(row, 'r_note'),
    reviewedAt: text(row, 'r_reviewed_at'),
  };
}

function toLatestResult(row: SqlRow): LatestResult {
  return {
    prediction: toPredictionRow(row),
    review: row['r_id'] === null ? null : toReviewRow(row),
    reviewState: text(row, 'lr_review_state') as ReviewState,
    label: textOrNull(row, 'lr_label'),
  };
}

function toAuditEntry(row: SqlRow): AuditEntry {
  return {
    id: int(row, 'id'),
    at: text(row, 'at'),
    actor: text(row, 'actor'),
    action: text(row, 'action'),
    tableName: text(row, 'table_name'),
    rowId: numOrNull(row, 'row_id'),
    detail: jsonOrNull(row, 'detail_json'),
  };
}

// ---------------------------------------------------------------------------------------------------------------
// input checks: messages name the field, never the value (a value may be a path or a UID)

function requireSha256(value: string, field: string): void {
  if (!SHA256_RE.test(value)) throw new RegistryInputError(`${field} must be 64 lowercase hex digits (a sha256)`);
}

function requireText(value: string | null | undefined, field: string): asserts value is string {
  if (typeof value !== 'string' || value.trim() === '') throw new RegistryInputError(`${field} must be a non-empty string`);
}

function checkFileRecord(file: FileRecord): void {
  requireText(file.sourcePath, 'sourcePath');
  requireSha256(file.sha256, 'sha256');
  if (file.status === 'quarantined') {
    requireText(file.reason, 'reason of a quarantined file');
    return;
  }
  if (file.status !== 'stored') throw new RegistryInputError(`status must be 'stored' or 'quarantined'`);
  const m = file.instance;
  if (m.ageMonths !== undefined && m.ageMonths !== null && !(Number.isFinite(m.ageMonths) && m.ageMonths >= 0)) {
    throw new RegistryInputError('ageMonths must be a finite number ≥ 0');
  }
  if (m.acquisitionDateShifted != null && !DATE_RE.test(m.acquisitionDateShifted)) {
    throw new RegistryInputError('acquisitionDateShifted must be YYYY-MM-DD');
  }
}

function checkPredictionRecord(p: PredictionRecord): void {
  if (!Number.isInteger(p.instanceId)) throw new RegistryInputError('instanceId must be an integer');
  requireText(p.task, 'task');
  requireText(p.modelId, 'modelId');
  requireSha256(p.weightsSha256, 'weightsSha256');
  if (p.confidence != null && !(p.confidence >= 0 && p.confidence <= 1)) throw new RegistryInputError('confidence must be in [0, 1]');
  if (p.gate != null && typeof p.gate.passed !== 'boolean') throw new RegistryInputError('gate.passed must be a boolean');
}

const nullable = <T>(v: T | null | undefined): T | null => (v === undefined ? null : v);
const jsonText = (v: JsonValue | undefined): string | null => (v === undefined || v === null ? null : JSON.stringify(v));
const now = (): string => new Date().toISOString();
/** A LIKE pattern matching `needle` anywhere, with LIKE's wildcards in it escaped (`\` is the escape). */
const containsPattern = (needle: string): string => `%${needle.toLowerCase().replace(/[\\%_]/g, (c) => `\\${c}`)}%`;

// ---------------------------------------------------------------------------------------------------------------

/** The reads and writes over one open transaction. */
class SqlTx implements RegistryTx {
  private closed = false;

  constructor(
    private readonly ex: SqlExecutor,
    private readonly actor: string,
  ) {}

  /** Refuse use of a handle after its transaction ended (it would run outside any transaction). */
  end(): void {
    this.closed = true;
  }

  private sql(): SqlExecutor {
    if (this.closed) throw new RegistryError('registry transaction handle used after its transaction ended');
    return this.ex;
  }

  private async insertReturningId(sql: string, params: readonly SqlValue[]): Promise<number | null> {
    const row = await firstRow(this.sql(), sql, params);
    return row === null ? null : int(row, 'id');
  }

  async appendAudit(entry: AuditRecord): Promise<AuditEntry> {
    requireText(entry.action, 'action');
    requireText(entry.tableName, 'tableName');
    const rows = await this.sql().all(
      'INSERT INTO audit_log (at, actor, action, table_name, row_id, detail_json) VALUES (?, ?, ?, ?, ?, ?) ' +
        'RETURNING id, at, actor, action, table_name, row_id, detail_json',
      [now(), entry.actor ?? this.actor, entry.action, entry.tableName, nullable(entry.rowId), jsonText(entry.detail)],
    );
    const row = rows[0];
    if (row === undefined) throw new RegistryError('audit_log insert returned no row');
    return toAuditEntry(row);
  }

  async findFile(sourcePath: string, sha256: string): Promise<FileRow | null> {
    const row = await firstRow(this.sql(), `SELECT ${FILE_COLUMNS} FROM files f WHERE f.source_path = ? AND f.sha256 = ?`, [sourcePath, sha256]);
    return row === null ? null : toFileRow(row);
  }

  async filesAtPath(sourcePath: string): Promise<FileRow[]> {
    const rows = await this.sql().all(`SELECT ${FILE_COLUMNS} FROM files f WHERE f.source_path = ? ORDER BY f.id`, [sourcePath]);
    return rows.map(toFileRow);
  }

  private async fileById(id: number): Promise<FileRow> {
    const row = await firstRow(this.sql(), `SELECT ${FILE_COLUMNS} FROM files f WHERE f.id = ?`, [id]);
    if (row === null) throw new RegistryNotFoundError(`no file #${id}`);
    return toFileRow(row);
  }

  /** Insert a files row unless (path, sha256) is already there; audit it. */
  private async insertFile(
    file: FileRecord,
    status: FileStatus,
    o: { reason?: string; instanceId?: number; conflictInstanceId?: number },
  ): Promise<{ file: FileRow; created: boolean }> {
    const id = await this.insertReturningId(
      'INSERT INTO files (source_path, sha256, status, quarantine_reason, instance_id, duplicate_of_instance_id, conflict_instance_id, recorded_at) ' +
        'VALUES (?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT (source_path, sha256) DO NOTHING RETURNING id',
      [
        file.sourcePath,
        file.sha256,
        status,
        nullable(o.reason),
        nullable(o.instanceId),
        status === 'duplicate' ? nullable(o.instanceId) : null,
        nullable(o.conflictInstanceId),
        now(),
      ],
    );
    if (id === null) {
      // a concurrent writer recorded the same file between our read and this insert
      const existing = await this.findFile(file.sourcePath, file.sha256);
      if (existing === null) throw new RegistryError('file insert conflicted but no file row is there');
      return { file: existing, created: false };
    }
    await this.appendAudit({
      action: `record-file:${status}`,
      tableName: 'files',
      rowId: id,
      detail: { status, instanceId: o.instanceId ?? null, conflictInstanceId: o.conflictInstanceId ?? null },
    });
    return { file: await this.fileById(id), created: true };
  }

  /** The id of the row of `table` whose `keyColumn` is `key`, inserting it (with `extra`) when absent. */
  private async idFor(table: 'patients' | 'studies' | 'series', keyColumn: string, key: string, extra: Record<string, SqlValue> = {}): Promise<number> {
    const select = `SELECT id FROM ${table} WHERE ${keyColumn} = ?`;
    const found = await firstRow(this.sql(), select, [key]);
    if (found !== null) return int(found, 'id');
    const columns = [keyColumn, ...Object.keys(extra)];
    const id = await this.insertReturningId(
      `INSERT INTO ${table} (${columns.join(', ')}) VALUES (${columns.map(() => '?').join(', ')}) ON CONFLICT (${keyColumn}) DO NOTHING RETURNING id`,
      [key, ...Object.values(extra)],
    );
    if (id !== null) return id;
    const raced = await firstRow(this.sql(), select, [key]);
    if (raced === null) throw new RegistryError(`${table} insert conflicted but no row is there`);
    return int(raced, 'id');
  }

  /** Insert the instance, or return null when its sha256 or SOPInstanceUID is already there. */
  private async insertInstance(sourcePath: string, sha256: string, m: InstanceMetadata): Promise<number | null> {
    const patientId = m.patientPseudonym ? await this.idFor('patients', 'pseudonym', m.patientPseudonym) : null;
    const studyId = m.studyInstanceUid ? await this.idFor('studies', 'study_instance_uid', m.studyInstanceUid, { patient_id: patientId }) : null;
    const seriesId = m.seriesInstanceUid ? await this.idFor('series', 'series_instance_uid', m.seriesInstanceUid, { study_id: studyId }) : null;
    const id = await this.insertReturningId(
      'INSERT INTO instances (sha256, sop_instance_uid, source_path, patient_id, study_id, series_id, modality, body_part, ' +
        'view_position, laterality, sex, age_months, acquisition_date_shifted, recorded_at) ' +
        'VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT DO NOTHING RETURNING id',
      [
        sha256,
        nullable(m.sopInstanceUid),
        sourcePath,
        patientId,
        studyId,
        seriesId,
        nullable(m.modality),
        nullable(m.bodyPart),
        nullable(m.view),
        nullable(m.laterality),
        nullable(m.sex),
        nullable(m.ageMonths),
        nullable(m.acquisitionDateShifted),
        now(),
      ],
    );
    if (id !== null) await this.appendAudit({ action: 'store-instance', tableName: 'instances', rowId: id });
    return id;
  }

  async recordFile(file: FileRecord): Promise<{ file: FileRow; created: boolean }> {
    checkFileRecord(file);
    const existing = await this.findFile(file.sourcePath, file.sha256);
    if (existing !== null) return { file: existing, created: false };
    if (file.status === 'quarantined') return this.insertFile(file, 'quarantined', { reason: file.reason });
    const sop = file.instance.sopInstanceUid ?? null;
    for (let attempt = 0; attempt < MAX_INSERT_ATTEMPTS; attempt++) {
      // the bytes decide identity: the same bytes are the same film, whatever UID a de-identification gave them
      const sameBytes = await firstRow(this.sql(), 'SELECT id FROM instances WHERE sha256 = ?', [file.sha256]);
      if (sameBytes !== null) return this.insertFile(file, 'duplicate', { instanceId: int(sameBytes, 'id') });
      if (sop !== null) {
        const sameUid = await firstRow(this.sql(), 'SELECT id FROM instances WHERE sop_instance_uid = ?', [sop]);
        if (sameUid !== null) {
          // PS3.3 C.12.1.1.1: a SOPInstanceUID names one instance; other bytes under it are an edited or
          // re-encoded copy, and which one is right is for a person to decide: keep the stored one, quarantine this
          const conflictId = int(sameUid, 'id');
          return this.insertFile(file, 'quarantined', {
            reason: `SOPInstanceUID conflict: stored as instance #${conflictId} with other bytes`,
            conflictInstanceId: conflictId,
          });
        }
      }
      const instanceId = await this.insertInstance(file.sourcePath, file.sha256, file.instance);
      if (instanceId !== null) return this.insertFile(file, 'stored', { instanceId });
      // a concurrent writer stored the same bytes or UID since our reads: look again
    }
    throw new RegistryConflictError(`instance for a file kept conflicting with concurrent writers after ${MAX_INSERT_ATTEMPTS} attempts`);
  }

  async getInstance(instanceId: number): Promise<InstanceRow | null> {
    const row = await firstRow(this.sql(), `SELECT ${INSTANCE_COLUMNS} FROM instances i ${INSTANCE_JOINS} WHERE i.id = ?`, [instanceId]);
    return row === null ? null : toInstanceRow(row);
  }

  private async predictionByKey(instanceId: number, task: string, weightsSha256: string): Promise<PredictionRow | null> {
    const row = await firstRow(
      this.sql(),
      `SELECT ${PREDICTION_COLUMNS} FROM predictions p WHERE p.instance_id = ? AND p.task = ? AND p.weights_sha256 = ?`,
      [instanceId, task, weightsSha256],
    );
    return row === null ? null : toPredictionRow(row);
  }

  async recordPrediction(p: PredictionRecord): Promise<{ prediction: PredictionRow; created: boolean }> {
    checkPredictionRecord(p);
    const existing = await this.predictionByKey(p.instanceId, p.task, p.weightsSha256);
    if (existing !== null) return { prediction: existing, created: false };
    if ((await firstRow(this.sql(), 'SELECT id FROM instances WHERE id = ?', [p.instanceId])) === null) {
      throw new RegistryNotFoundError(`no instance #${p.instanceId} to attach a prediction to`);
    }
    const id = await this.insertReturningId(
      'INSERT INTO predictions (instance_id, task, model_id, weights_sha256, outputs_json, probabilities_json, label, ' +
        'confidence, gate_json, gate_passed, created_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) ' +
        'ON CONFLICT (instance_id, task, weights_sha256) DO NOTHING RETURNING id',
      [
        p.instanceId,
        p.task,
        p.modelId,
        p.weightsSha256,
        JSON.stringify(p.outputs),
        jsonText(p.probabilities),
        nullable(p.label),
        nullable(p.confidence),
        jsonText(p.gate ?? null),
        p.gate == null ? null : p.gate.passed ? 1 : 0,
        now(),
      ],
    );
    if (id !== null) {
      await this.appendAudit({ action: 'record-prediction', tableName: 'predictions', rowId: id, detail: { instanceId: p.instanceId, task: p.task, modelId: p.modelId } });
    }
    const row = await this.predictionByKey(p.instanceId, p.task, p.weightsSha256);
    if (row === null) throw new RegistryError('prediction insert returned no row');
    return { prediction: row, created: id !== null };
  }

  async listPredictions(instanceId: number): Promise<PredictionRow[]> {
    const rows = await this.sql().all(`SELECT ${PREDICTION_COLUMNS} FROM predictions p WHERE p.instance_id = ? ORDER BY p.id`, [instanceId]);
    return rows.map(toPredictionRow);
  }

  async recordReview(review: ReviewRecord): Promise<ReviewRow> {
    if (!Number.isInteger(review.instanceId)) throw new RegistryInputError('instanceId must be an integer');
    requireText(review.reviewer, 'reviewer');
    if (review.verdict !== 'accept' && review.verdict !== 'correct' && review.verdict !== 'reject') {
      throw new RegistryInputError(`verdict must be accept, correct or reject`);
    }
    if (review.verdict === 'correct') requireText(review.label, 'label of a correction');
    else if (review.label != null) throw new RegistryInputError(`a label is given only with the verdict 'correct'`);
    if ((await firstRow(this.sql(), 'SELECT id FROM instances WHERE id = ?', [review.instanceId])) === null) {
      throw new RegistryNotFoundError(`no instance #${review.instanceId}`);
    }
    const tasks = (await this.sql().all('SELECT DISTINCT task FROM predictions WHERE instance_id = ? ORDER BY task', [review.instanceId])).map((r) => text(r, 'task'));
    const task = review.task ?? (tasks.length === 1 ? tasks[0] : undefined);
    if (task === undefined) {
      if (tasks.length === 0) throw new RegistryNotFoundError(`instance #${review.instanceId} has no prediction to review`);
      throw new RegistryInputError(`instance #${review.instanceId} has predictions for several tasks (${tasks.join(', ')}); name the task`);
    }
    const latest = await firstRow(this.sql(), 'SELECT prediction_id FROM latest_results WHERE instance_id = ? AND task = ?', [review.instanceId, task]);
    if (latest === null) throw new RegistryNotFoundError(`instance #${review.instanceId} has no ${task} prediction to review`);
    const id = await this.insertReturningId(
      'INSERT INTO reviews (instance_id, task, prediction_id, verdict, label, reviewer, note, reviewed_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?) RETURNING id',
      [review.instanceId, task, int(latest, 'prediction_id'), review.verdict, nullable(review.label), review.reviewer, nullable(review.note), now()],
    );
    if (id === null) throw new RegistryError('review insert returned no row');
    await this.appendAudit({ actor: review.reviewer, action: `review:${review.verdict}`, tableName: 'reviews', rowId: id, detail: { instanceId: review.instanceId, task } });
    const row = await firstRow(this.sql(), `SELECT ${REVIEW_COLUMNS} FROM reviews r WHERE r.id = ?`, [id]);
    if (row === null) throw new RegistryError('review insert returned no row');
    return toReviewRow(row);
  }

  async listInstances(filter: InstanceFilter = {}): Promise<RegistryRow[]> {
    const where: string[] = [];
    const params: SqlValue[] = [];
    if (filter.status !== undefined) {
      const statuses: readonly FileStatus[] = typeof filter.status === 'string' ? [filter.status] : filter.status;
      if (statuses.length === 0) return [];
      where.push(`f.status IN (${statuses.map(() => '?').join(', ')})`);
      params.push(...statuses);
    }
    if (filter.instanceId !== undefined) {
      where.push('f.instance_id = ?');
      params.push(filter.instanceId);
    }
    if (filter.pathContains !== undefined) {
      where.push(`LOWER(f.source_path) LIKE ? ESCAPE '\\'`);
      params.push(containsPattern(filter.pathContains));
    }
    const resultWhere: string[] = [];
    const resultParams: SqlValue[] = [];
    const onResult = (clause: string, value: SqlValue): void => {
      resultWhere.push(clause);
      resultParams.push(value);
    };
    if (filter.task !== undefined) onResult('lr.task = ?', filter.task);
    if (filter.label !== undefined) onResult('lr.label = ?', filter.label);
    if (filter.confidenceBelow !== undefined) onResult('lr.confidence < ?', filter.confidenceBelow);
    if (filter.confidenceAbove !== undefined) onResult('lr.confidence > ?', filter.confidenceAbove);
    if (filter.reviewState !== undefined) onResult('lr.review_state = ?', filter.reviewState);
    if (resultWhere.length > 0) {
      where.push(`EXISTS (SELECT 1 FROM latest_results lr WHERE lr.instance_id = f.instance_id AND ${resultWhere.join(' AND ')})`);
      params.push(...resultParams);
    }
    const order = filter.newestFirst === true ? 'f.id DESC' : 'f.id';
    let page = `SELECT * FROM files f${where.length > 0 ? ` WHERE ${where.join(' AND ')}` : ''} ORDER BY ${order}`;
    if (filter.limit !== undefined || filter.offset !== undefined) {
      page += ' LIMIT ? OFFSET ?';
      params.push(filter.limit ?? Number.MAX_SAFE_INTEGER, filter.offset ?? 0);
    }
    const taskClause = filter.task !== undefined ? ' AND lr.task = ?' : '';
    if (filter.task !== undefined) params.push(filter.task);
    const rows = await this.sql().all(
      `SELECT ${FILE_COLUMNS}, ${INSTANCE_COLUMNS}, ${LATEST_COLUMNS} FROM (${page}) f ` +
        `LEFT JOIN instances i ON i.id = f.instance_id ${INSTANCE_JOINS} ` +
        `LEFT JOIN latest_results lr ON lr.instance_id = f.instance_id${taskClause} ORDER BY ${order}, lr.task`,
      params,
    );
    const out: { file: FileRow; instance: InstanceRow | null; results: LatestResult[] }[] = [];
    for (const row of rows) {
      const fileId = int(row, 'f_id');
      let last = out[out.length - 1];
      if (last === undefined || last.file.id !== fileId) {
        last = { file: toFileRow(row), instance: row['i_id'] === null ? null : toInstanceRow(row), results: [] };
        out.push(last);
      }
      if (row['p_id'] !== null) last.results.push(toLatestResult(row));
    }
    return out;
  }

  async countByStatus(): Promise<StatusCounts> {
    const rows = await this.sql().all(
      'SELECT status, COUNT(*) AS n, SUM(CASE WHEN conflict_instance_id IS NULL THEN 0 ELSE 1 END) AS conflicts FROM files GROUP BY status',
    );
    const counts = { stored: 0, quarantined: 0, duplicate: 0, conflict: 0, total: 0 };
    for (const row of rows) {
      const n = int(row, 'n');
      counts[text(row, 'status') as FileStatus] = n;
      counts.conflict += int(row, 'conflicts');
      counts.total += n;
    }
    return counts;
  }

  async reviewQueue(options: ReviewQueueOptions = {}): Promise<ReviewQueueItem[]> {
    const params: SqlValue[] = [];
    let unreviewed = `lr.review_state = 'unreviewed'`;
    if (options.confidenceBelow !== undefined) {
      // no confidence is no reassurance: those stay in the queue
      unreviewed += ' AND (lr.confidence IS NULL OR lr.confidence < ?)';
      params.push(options.confidenceBelow);
    }
    let sql =
      'SELECT lr.instance_id, lr.task, lr.prediction_id, lr.label, lr.confidence, lr.gate_passed, lr.review_state, i.source_path ' +
      `FROM latest_results lr JOIN instances i ON i.id = lr.instance_id WHERE (lr.review_state = 'rejected' OR (${unreviewed}))`;
    if (options.task !== undefined) {
      sql += ' AND lr.task = ?';
      params.push(options.task);
    }
    sql +=
      ` ORDER BY CASE WHEN lr.review_state = 'rejected' THEN 0 WHEN lr.gate_passed = 0 THEN 1 ELSE 2 END,` +
      ' CASE WHEN lr.confidence IS NULL THEN 0 ELSE 1 END, lr.confidence, lr.instance_id, lr.task';
    if (options.limit !== undefined) {
      sql += ' LIMIT ?';
      params.push(options.limit);
    }
    const rows = await this.sql().all(sql, params);
    return rows.map((row) => {
      const gate = numOrNull(row, 'gate_passed');
      return {
        instanceId: int(row, 'instance_id'),
        sourcePath: text(row, 'source_path'),
        task: text(row, 'task'),
        predictionId: int(row, 'prediction_id'),
        label: textOrNull(row, 'label'),
        confidence: numOrNull(row, 'confidence'),
        gatePassed: gate === null ? null : gate === 1,
        reviewState: text(row, 'review_state') as ReviewState,
      };
    });
  }

  async exportRows(filter: InstanceFilter = {}): Promise<ExportTable> {
    return exportTable(await this.listInstances(filter));
  }

  async auditLog(options: { tableName?: string; rowId?: number; limit?: number } = {}): Promise<AuditEntry[]> {
    const where: string[] = [];
    const params: SqlValue[] = [];
    if (options.tableName !== undefined) {
      where.push('table_name = ?');
      params.push(options.tableName);
    }
    if (options.rowId !== undefined) {
      where.push('row_id = ?');
      params.push(options.rowId);
    }
    let sql = `SELECT id, at, actor, action, table_name, row_id, detail_json FROM audit_log${where.length > 0 ? ` WHERE ${where.join(' AND ')}` : ''} ORDER BY id`;
    if (options.limit !== undefined) {
      sql += ' LIMIT ?';
      params.push(options.limit);
    }
    return (await this.sql().all(sql, params)).map(toAuditEntry);
  }
}

/** The export's columns before the per-task ones. */
export const EXPORT_FILE_COLUMNS: readonly string[] = Object.freeze([
  'file_id',
  'source_path',
  'sha256',
  'status',
  'quarantine_reason',
  'duplicate_of_instance_id',
  'conflict_instance_id',
  'instance_id',
  'patient',
  'study_instance_uid',
  'series_instance_uid',
  'sop_instance_uid',
  'modality',
  'body_part',
  'view',
  'laterality',
  'sex',
  'age_months',
  'acquisition_date_shifted',
]);

/** The columns each task adds to the export, as `<task>.<column>`. */
export const EXPORT_TASK_COLUMNS: readonly string[] = Object.freeze([
  'label',
  'predicted_label',
  'confidence',
  'review',
  'reviewer',
  'gate_passed',
  'model_id',
  'weights_sha256',
  'probabilities',
  'outputs',
]);

/**
 * Flatten registry rows to the export's table: the file columns, then for each task present (sorted by name) the
 * task columns; a file without a result for a task has nulls there.
 * @param rows - rows of listInstances
 */
export function exportTable(rows: readonly RegistryRow[]): ExportTable {
  const tasks = [...new Set(rows.flatMap((r) => r.results.map((x) => x.prediction.task)))].sort();
  const columns = [...EXPORT_FILE_COLUMNS, ...tasks.flatMap((t) => EXPORT_TASK_COLUMNS.map((c) => `${t}.${c}`))];
  const out = rows.map((r) => {
    const i = r.instance;
    const row: Record<string, string | number | null> = {
      file_id: r.file.id,
      source_path: r.file.sourcePath,
      sha256: r.file.sha256,
      status: r.file.status,
      quarantine_reason: r.file.quarantineReason,
      duplicate_of_instance_id: r.file.duplicateOfInstanceId,
      conflict_instance_id: r.file.conflictInstanceId,
      instance_id: r.file.instanceId,
      patient: i?.patientPseudonym ?? null,
      study_instance_uid: i?.studyInstanceUid ?? null,
      series_instance_uid: i?.seriesInstanceUid ?? null,
      sop_instance_uid: i?.sopInstanceUid ?? null,
      modality: i?.modality ?? null,
      body_part: i?.bodyPart ?? null,
      view: i?.view ?? null,
      laterality: i?.laterality ?? null,
      sex: i?.sex ?? null,
      age_months: i?.ageMonths ?? null,
      acquisition_date_shifted: i?.acquisitionDateShifted ?? null,
    };
    for (const t of tasks) for (const c of EXPORT_TASK_COLUMNS) row[`${t}.${c}`] = null;
    for (const x of r.results) {
      const p = x.prediction;
      const t = p.task;
      Object.assign(row, {
        [`${t}.label`]: x.label,
        [`${t}.predicted_label`]: p.label,
        [`${t}.confidence`]: p.confidence,
        [`${t}.review`]: x.reviewState,
        [`${t}.reviewer`]: x.review?.reviewer ?? null,
        [`${t}.gate_passed`]: p.gate === null ? null : p.gate.passed ? 1 : 0,
        [`${t}.model_id`]: p.modelId,
        [`${t}.weights_sha256`]: p.weightsSha256,
        [`${t}.probabilities`]: jsonText(p.probabilities),
        [`${t}.outputs`]: jsonText(p.outputs),
      });
    }
    return row;
  });
  return { columns, rows: out };
}

/**
 * Apply the migrations the database lacks, in one transaction, and return the resulting version.
 * @throws RegistrySchemaTooNewError when the database is at a version above the newest migration here
 */
async function migrate(driver: SqlDriver): Promise<number> {
  return driver.transaction('migrate', async (ex) => {
    await ex.exec(SCHEMA_MIGRATIONS_DDL);
    const applied = new Set((await ex.all('SELECT version FROM schema_migrations')).map((r) => int(r, 'version')));
    const current = Math.max(0, ...applied);
    if (current > LATEST_SCHEMA_VERSION) throw new RegistrySchemaTooNewError(current, LATEST_SCHEMA_VERSION);
    for (const m of MIGRATIONS) {
      if (applied.has(m.version)) continue;
      await ex.exec(migrationSql(m, driver.engine));
      await ex.run('INSERT INTO schema_migrations (version, name, applied_at) VALUES (?, ?, ?)', [m.version, m.name, now()]);
    }
    return LATEST_SCHEMA_VERSION;
  });
}

/** Which store the current async context is inside a transaction of (to refuse re-entry). */
const ACTIVE_TRANSACTION = new AsyncLocalStorage<SqlRegistryStore>();
const DRIVERS = new WeakMap<RegistryStore, SqlDriver>();

/** A {@link RegistryStore} over one SQL driver. */
class SqlRegistryStore implements RegistryStore {
  readonly engine: 'sqlite' | 'postgres';

  constructor(
    private readonly driver: SqlDriver,
    readonly schemaVersion: number,
    private readonly actor: string,
  ) {
    this.engine = driver.engine;
  }

  private async run<T>(mode: 'read' | 'write', fn: (tx: SqlTx) => Promise<T>): Promise<T> {
    if (ACTIVE_TRANSACTION.getStore() === this) {
      throw new RegistryError('registry store called inside its own transaction; use the transaction handle (tx) instead');
    }
    return this.driver.transaction(mode, async (ex) => {
      const tx = new SqlTx(ex, this.actor);
      try {
        return await ACTIVE_TRANSACTION.run(this, () => fn(tx));
      } finally {
        tx.end();
      }
    });
  }

  transaction<T>(fn: (tx: RegistryTx) => Promise<T>): Promise<T> {
    return this.run('write', fn);
  }

  recordIngest(film: IngestRecord): Promise<IngestResult> {
    return this.run('write', async (tx) => {
      const { file, created } = await tx.recordFile(film.file);
      const predictions: PredictionRow[] = [];
      let predictionsCreated = 0;
      // a quarantined film has no instance: its predictions (if any were made) have nothing to describe
      if (file.instanceId !== null) {
        for (const p of film.predictions ?? []) {
          const r = await tx.recordPrediction({ ...p, instanceId: file.instanceId });
          predictions.push(r.prediction);
          if (r.created) predictionsCreated++;
        }
      }
      return { file, fileCreated: created, predictions, predictionsCreated };
    });
  }

  recordFile(file: FileRecord): Promise<{ file: FileRow; created: boolean }> {
    return this.run('write', (tx) => tx.recordFile(file));
  }
  recordPrediction(prediction: PredictionRecord): Promise<{ prediction: PredictionRow; created: boolean }> {
    return this.run('write', (tx) => tx.recordPrediction(prediction));
  }
  recordReview(review: ReviewRecord): Promise<ReviewRow> {
    return this.run('write', (tx) => tx.recordReview(review));
  }
  appendAudit(entry: AuditRecord): Promise<AuditEntry> {
    return this.run('write', (tx) => tx.appendAudit(entry));
  }
  findFile(sourcePath: string, sha256: string): Promise<FileRow | null> {
    return this.run('read', (tx) => tx.findFile(sourcePath, sha256));
  }

  filesAtPath(sourcePath: string): Promise<FileRow[]> {
    return this.run('read', (tx) => tx.filesAtPath(sourcePath));
  }
  getInstance(instanceId: number): Promise<InstanceRow | null> {
    return this.run('read', (tx) => tx.getInstance(instanceId));
  }
  listPredictions(instanceId: number): Promise<PredictionRow[]> {
    return this.run('read', (tx) => tx.listPredictions(instanceId));
  }
  listInstances(filter?: InstanceFilter): Promise<RegistryRow[]> {
    return this.run('read', (tx) => tx.listInstances(filter));
  }
  countByStatus(): Promise<StatusCounts> {
    return this.run('read', (tx) => tx.countByStatus());
  }
  reviewQueue(options?: ReviewQueueOptions): Promise<ReviewQueueItem[]> {
    return this.run('read', (tx) => tx.reviewQueue(options));
  }
  exportRows(filter?: InstanceFilter): Promise<ExportTable> {
    return this.run('read', (tx) => tx.exportRows(filter));
  }
  auditLog(options?: { tableName?: string; rowId?: number; limit?: number }): Promise<AuditEntry[]> {
    return this.run('read', (tx) => tx.auditLog(options));
  }

  close(): Promise<void> {
    return this.driver.close();
  }
}

/**
 * Migrate the database behind `driver` and return the store over it; closes the driver if migrating fails.
 * @param driver - an open engine adapter
 * @param actor - who the audit log names for this store's writes
 */
export async function openSqlStore(driver: SqlDriver, actor: string): Promise<RegistryStore> {
  let version: number;
  try {
    version = await migrate(driver);
  } catch (e) {
    await driver.close();
    throw e;
  }
  const store = new SqlRegistryStore(driver, version, actor);
  DRIVERS.set(store, driver);
  return store;
}

/**
 * The SQL driver under a store, for tests that must reach past the API (to prove the audit log refuses UPDATE).
 * Not exported from the module's index.
 * @param store - a store from openRegistry
 */
export function driverOf(store: RegistryStore): SqlDriver {
  const driver = DRIVERS.get(store);
  if (driver === undefined) throw new RegistryError('not a SQL registry store');
  return driver;
}
