/**
 * The Task interface: what a clinical task is to Physis — its labels, recipe, extra inputs, network head, loss,
 * metrics, interval, suitability check, per-film answer and its one-line human form. Generic layers (train/,
 * infer/, eval/, explain/) never name a task; a task is one folder under src/tasks/ that implements this and is
 * registered by name (src/tasks/registry.ts).
 *
 * Why this shape: transformers.js' `SUPPORTED_TASKS` (a name → a pipeline that owns its pre- and post-processing),
 * Lightning's module/trainer split and MONAI's trainer arguments; the training half is {@link TrainingTask}, which
 * the generic trainer runs.
 *
 * What a new task provides (see src/tasks/hand-bone-age/ for a complete one):
 * - `name`, `description`, `recipe` (the default recipe, as data) and optionally `defaultModel` (a shipped bundle);
 * - `readLabels` (through the one CSV reader), `splitOf`, `stratum`, `target`, `inputValue`;
 * - `inputs` (extra inputs: how each is parsed and read from DICOM; never defaulted);
 * - the training half: `sampleModule`, `loaderItem`, `sampleOptions`, `modelOptions`, `loss`, `evaluate`,
 *   `selection`, `report`, `card`, `finalise`;
 * - the inference half: `openMember` (parse the bundle's artifacts), `filmFields`, `suitability`, `predict`, `format`.
 */
import type { SaliencyMethod } from '../explain/index.js';
import type { ReportTable } from '../eval/index.js';
import type { CompositeInterval, MemberRunner, ModelSetMember, PredictorBackend } from '../infer/index.js';
import type { ZooModel } from '../models/index.js';
import type { PreprocessOptions, PreprocessResult } from '../preprocess/index.js';
import type { Radiograph } from '../radiograph/index.js';
import type { EnsembleCalibration, ReportImage, TrainingItem, TrainingTask, TrainRecipe } from '../train/index.js';

/** Where and how a task's {@link Task.prepareTraining} runs. */
export interface PrepareTrainingContext {
  /** The run's output folder (the labels file may be written inside it). */
  readonly outDir: string;
  /** Overwrite what another run left there. */
  readonly force: boolean;
  /** Resuming: reuse the labels an interrupted run made, so the run continues on the same data. */
  readonly resume: boolean;
  /** Lines a person should read (what was paired, labelled, left out, with progress). */
  readonly onNote: (line: string) => void;
}

/** An extra input of a task's network (sex, chronological age, view…), resolved per film and never defaulted. */
export interface InputSpec {
  /** Name as in the card's `input.extra`, the manifest column and the `--<name>` option. */
  readonly name: string;
  /** One line for help texts. */
  readonly description: string;
  /**
   * The values of a categorical input. When a film's value is unknown the task answers for every value (and says
   * so); an input without values must be known, or the film is refused.
   */
  readonly values?: readonly string[];
  /**
   * Parse a given value strictly (command line or manifest); null for a spelling that means unknown (empty, `O`).
   * @throws a typed error naming `where` for anything else
   */
  parse(raw: string, where: string): string | null;
  /** The value the DICOM header gives, if any. */
  fromRadiograph(radiograph: Radiograph): string | null;
  /**
   * The value the suitability gate's verdict gives (e.g. the view it sees on the image), if any: the last source,
   * after the header; a disagreement with the header is reported as a conflict.
   */
  fromGate?(verdict: GateViewVerdict): string | null;
  /** The network's extra-input values for a value. */
  encode(value: string): readonly number[];
  /**
   * A known value the model must not answer for (e.g. a chronological age beyond its training range): the refusal in
   * words, else null. Absent: every parsed value is answered.
   */
  refusal?(value: string): string | null;
}

/** Where a resolved input value came from: the command line, a manifest column, the DICOM header, the gate, or nowhere. */
export type InputSource = 'cli' | 'manifest' | 'dicom' | 'gate' | 'unknown';

/** What an input may read from the suitability gate's verdict: its body-part and view answers with their probabilities. */
export interface GateViewVerdict {
  readonly anatomy: { readonly value: string; readonly p: number };
  readonly view: { readonly value: string; readonly p: number };
}

/** One input resolved for a film. */
export interface ResolvedInput {
  readonly value: string | null;
  readonly source: InputSource;
  /** Set when two sources disagree; the higher-priority one wins and this says so. */
  readonly conflict?: string;
}

/** A suitability verdict of a task's own check: null when the film passes, else the reason in words. */
export type Refusal = string | null;

/** What the first forward of each member gave (the features its check measures, the head per variant). */
export interface FirstPass {
  readonly pooled: Float32Array;
  /** The head's first output for each variant, in `variants` order. */
  readonly outputs: readonly number[];
  /** Every output of the head for each variant (classifiers with several outputs). */
  readonly heads: readonly Float32Array[];
}

/**
 * What films a task accepts, in the suitability gate's terms. The gate runs before the task on every film: a film
 * outside this is refused with the reason in words, a film turned, inverted or of the other side is corrected first
 * when the gate is sure (and the answer says so).
 */
export interface Acceptance {
  /** The gate's body parts (hand, knee, skull, spine, chest). */
  readonly anatomy: readonly string[];
  /** The gate's views (frontal, lateral); absent: any. */
  readonly views?: readonly string[];
  /** The side as seen the task's model expects; a film of the other side is mirrored to it. Absent: either side as is. */
  readonly laterality?: 'left' | 'right';
  /** Why that side, for the note (e.g. the reference standard assumes it). */
  readonly lateralityWhy?: string;
  /** The film in words, for refusals: "chest radiograph, not a left-hand PA radiograph". */
  readonly describe: string;
}

/** One combination of input values the film is answered for (several when a categorical input is unknown). */
export interface Variant {
  readonly values: Readonly<Record<string, string>>;
  /** The network's extra inputs for these values. */
  readonly extra: readonly number[];
}

/** A member with its task state (parsed artifacts) and the variants it answers. */
export interface MemberRoute<State> {
  readonly member: ModelSetMember;
  readonly state: State;
  /** Indices into the film's variants that this member answers. */
  readonly variants: readonly number[];
  readonly firstPass: FirstPass;
  /** Runs the member (ONNX Runtime or libtorch) for further passes, e.g. test-time augmentation. */
  readonly runner: MemberRunner;
}

/** Everything a task's `predict` gets for one film that passed every check. */
export interface FilmContext<State> {
  readonly file: string;
  readonly radiograph: Radiograph;
  readonly prepared: PreprocessResult;
  readonly inputs: Readonly<Record<string, ResolvedInput>>;
  readonly variants: readonly Variant[];
  readonly setKind: 'single' | 'ensemble' | 'routed';
  readonly routes: readonly MemberRoute<State>[];
  /** The composite's interval rule, when the set is a composite that has one. */
  readonly compositeInterval?: CompositeInterval;
  readonly compositeId?: string;
}

/** The head output a heat map explains, how its map is scaled, and what it is in words. */
export interface SaliencyTarget {
  readonly outputIndex: number;
  readonly mode?: 'positive' | 'relative';
  /** How the feature map is weighed by the gradient (explain's gradCam); default `grad-cam`. */
  readonly method?: SaliencyMethod;
  /** E.g. `the predicted class 3 months`. */
  readonly describe: string;
  /**
   * Explain the map this many stages before the last feature map (finer; e.g. 1: ResNet's layer3), where the model can
   * be cut there; the last map otherwise, and the method says which. Default 0: the last feature map.
   */
  readonly stagesBeforeLast?: number;
}

/** A task's answer for one film: the fields it adds to the result (JSON-able), in the task's own words. */
export type TaskAnswer = Readonly<Record<string, unknown>>;

/** A recipe the task offers by name, with what it is for. */
export interface NamedRecipe {
  /** What it reproduces and what it needs (hardware, data, the commands around it), in one or two sentences. */
  readonly description: string;
  readonly recipe: TrainRecipe;
  /**
   * The named recipe whose trained bundle this one goes on from (`physis train --init <that bundle>`, required): e.g.
   * weight averaging over more epochs of an already trained model.
   */
  readonly continues?: string;
}

/**
 * A clinical task.
 * @typeParam Item - a labelled item
 * @typeParam State - what `openMember` parses from a bundle (OOD statistics, calibration)
 */
export interface Task<Item extends TrainingItem = TrainingItem, State = unknown> extends TrainingTask<Item> {
  readonly description: string;
  /** The default recipe. */
  readonly recipe: TrainRecipe;
  /** Other recipes by name (`physis train <task> --recipe <name>`), e.g. a publication's, for larger hardware. */
  readonly namedRecipes?: Readonly<Record<string, NamedRecipe>>;
  /** The shipped default bundle, relative to the repository root (used when `--bundle` is not given). */
  readonly defaultModel?: string;
  readonly inputs: readonly InputSpec[];
  /**
   * What films the task accepts; the suitability gate checks every film against it before the task sees it. Absent
   * only for the gate's own task.
   */
  readonly accepts?: Acceptance;
  /** Read a labels CSV (paths relative to it). */
  readLabels(csvPath: string): Item[];
  /**
   * How a registry's reviewed results become this task's labels file (`physis registry export --for-training`): the
   * column the label fills, and the columns filled from what the registry keeps of each film. Absent: not exported.
   */
  readonly registryLabels?: {
    readonly labelColumn: string;
    /** The column of the patient's pseudonym (default `patient_id`), which the task's splits group by. */
    readonly patientColumn?: string;
    readonly columns?: Readonly<Record<string, 'sex' | 'age_months' | 'view' | 'laterality'>>;
  };
  /** Options `physis train <task>` takes beyond the generic ones, each with its help line, for `prepareTraining`. */
  readonly trainOptions?: Readonly<Record<string, string>>;
  /**
   * Make the labels file from the task's own training options before training (e.g. pair films and label them with
   * a teacher model); training then reads it as it reads `--data`. `summary` goes into the card's training data.
   */
  prepareTraining?(options: Readonly<Record<string, string>>, o: PrepareTrainingContext): Promise<{ readonly data: string; readonly summary: string }>;
  /** The item's `split` column value, if any. */
  splitOf(item: Item): string | undefined;
  /** The item's value of an input (to filter a subset, to route evaluation, to pass as the extra input). */
  inputValue(item: Item, name: string): string | null;
  /** Parse what the task needs from a verified member bundle. */
  openMember(member: ModelSetMember): State;
  /** Warnings about a member that people must see before its answers (e.g. no OOD statistics to check films). */
  memberWarnings?(state: State, member: ModelSetMember): string[];
  /** Film descriptors the suitability check needs beside the features (computed in loaders and for single films). */
  filmFields(radiograph: Radiograph, prepared: PreprocessResult): Readonly<Record<string, Float32Array>>;
  /** The task's own check (a second line after the suitability gate): null to accept, else the reason in words. */
  suitability(state: State, pooled: Float32Array, fields: Readonly<Record<string, Float32Array>>): Refusal;
  /** The answer for a film that passed every check. */
  predict(ctx: FilmContext<State>): TaskAnswer | Promise<TaskAnswer>;
  /**
   * Which output of the head the heat map explains, from one variant's first-pass outputs (e.g. the predicted class's
   * logit, as Grad-CAM explains a classifier; Selvaraju et al. 2017). Absent: output 0, the task's estimate.
   */
  saliencyTarget?(heads: Float32Array): SaliencyTarget;
  /** One line for people. `result` is the whole JSON result (file, answer, model, warnings). */
  format(result: FilmResult): string;
  /**
   * The answer as coded findings for a DICOM Structured Report written back to the PACS (PS3.16 TID 1500
   * measurements, TID 300 numeric values with UCUM units). Absent: the report carries no findings, only what ran.
   * @param result - the film's result with an answer
   */
  reportFindings?(result: FilmResult): ReportFinding[];
  /** Calibrate a fold ensemble's interval on out-of-fold head outputs (regression tasks). */
  calibrateEnsemble?(outputs: readonly Float32Array[], items: readonly Item[], data: string): EnsembleCalibration;
  /**
   * Saliency for an evaluation report: maps of some of the scored films with a measure of where they fall (e.g. on
   * masks of the anatomy that carries the signal), as pictures and metrics. Absent: the report has no saliency.
   */
  reportSaliency?(
    model: ZooModel,
    items: readonly Item[],
    preprocessing: PreprocessOptions & { readonly size: number },
  ): Promise<{ readonly metrics: Readonly<Record<string, number>>; readonly images: readonly ReportImage[]; readonly tables?: readonly ReportTable[] }>;
  /** Rewrite an older bundle folder in place to the current card schema (weights untouched). */
  upgradeBundle?(dir: string): string;
  /** Record the train and dev rows of the labels file an upgraded bundle was trained on (for evaluate's overlap check). */
  recordTrainingRows?(dir: string, labelsCsv: string): string;
  /**
   * Recalibrate a bundle's interval in place on labelled films it did not train on (`physis bundle recalibrate`),
   * weights untouched; returns one line for people. Absent: the task's bundles carry no interval to recalibrate.
   */
  recalibrateInterval?(dir: string, labelsCsv: string, o: RecalibrateIntervalOptions): Promise<string>;
}

/** Options of {@link Task.recalibrateInterval}. */
export interface RecalibrateIntervalOptions {
  /** Keep the rows of this split (e.g. `dev`); default every row. */
  readonly split?: string;
  /** The command line, recorded in the card. */
  readonly command: string;
  /** Called after each film. */
  readonly progress?: (done: number, total: number, filmsPerSecond: number, etaSeconds: number) => void;
}

/** The provenance of one model that answered. */
export interface ModelProvenance {
  readonly id: string;
  readonly version: string;
  readonly weightsSha256: string;
  readonly dir: string;
  /** Routed composites: the input value this member answers. */
  readonly route?: string;
  /** The runtime that computed the answer (the heat map is always computed by libtorch, which has the gradients). */
  readonly backend?: PredictorBackend;
}

/** What the suitability gate said about a film (src/tasks/suitability's GateReport). */
export interface GateSummary {
  /** The gate bundle that judged the film. */
  readonly model: { readonly id: string; readonly weightsSha256: string; readonly dir: string };
  /** The verdict on the film as stored: body part, view, modality, orientation, polarity, laterality, open-set distance. */
  readonly verdict: object;
  readonly verdictAfterCorrection?: object;
  /** Corrections made before the task saw the film, in words. */
  readonly corrections: readonly string[];
  /** Where the DICOM header disagrees with the image. */
  readonly metadata: readonly string[];
}

/** The result for one film: an answer, a refusal with its reason, or an error; always the file and what ran. */
export interface FilmResult {
  readonly file: string;
  readonly task: string;
  /** The task's answer (absent when refused or failed). */
  readonly answer?: TaskAnswer;
  /** Why no answer was given (unsuitable film, subset mismatch). */
  readonly rejected?: { readonly reason: string };
  /** The suitability gate's verdict (absent for the gate's own task, or when the gate was skipped: see warnings). */
  readonly gate?: GateSummary;
  /** A film that could not be read or analysed. */
  readonly error?: { readonly name: string; readonly message: string };
  readonly inputs?: Readonly<Record<string, ResolvedInput>>;
  /** The bundle (single) or composite and the members that answered. */
  readonly model?: ModelProvenance;
  readonly composite?: { readonly id: string; readonly kind: string; readonly dir: string };
  readonly members?: readonly ModelProvenance[];
  readonly heatmap?: string;
  readonly heatmapMethod?: string;
  /** Decoder and metadata warnings (multi-frame, colour, implausible rescale or age). */
  readonly warnings?: readonly string[];
}

/**
 * A coded concept: code value, coding scheme designator and code meaning (PS3.3 8.8 Code Sequence Macro).
 * Why: a PACS and its viewers read a finding by its code, a person by its meaning; Physis' own concepts use the
 * private scheme {@link PHYSIS_CODING_SCHEME} (declared in every report's CodingSchemeIdentificationSequence), standard
 * codes only where they are certain (DCM from PS3.16, UCUM units).
 */
export interface CodedConcept {
  /** CodeValue (LongCodeValue when longer than 16 characters). */
  readonly value: string;
  /** CodingSchemeDesignator, e.g. `DCM`, `UCUM`, `99PHYSIS`. */
  readonly scheme: string;
  /** CodeMeaning (at most 64 characters), in words a reader understands. */
  readonly meaning: string;
}

/** A modifier of a finding, e.g. the patient sex the estimate assumes (a HAS CONCEPT MOD CODE item, PS3.3 C.17.3.2.4). */
export interface FindingQualifier {
  readonly concept: CodedConcept;
  readonly value: CodedConcept;
}

/** A number with its unit, e.g. a bone age in months with its 90% interval (PS3.16 TID 300 Measurement). */
export interface NumericFinding {
  readonly kind: 'numeric';
  readonly concept: CodedConcept;
  readonly value: number;
  /** A UCUM unit (PS3.16 CID 82), e.g. `mo` month, `1` no units. */
  readonly unit: CodedConcept;
  /** The 90% interval, in the same unit. */
  readonly interval90?: { readonly lower: number; readonly upper: number };
  readonly qualifiers?: readonly FindingQualifier[];
}

/** A coded answer, e.g. a view category with its probability. */
export interface CodedFinding {
  readonly kind: 'coded';
  readonly concept: CodedConcept;
  readonly value: CodedConcept;
  /** The model's probability of this value, in [0, 1]. */
  readonly probability?: number;
  readonly qualifiers?: readonly FindingQualifier[];
}

/** One finding of a result, as a DICOM Structured Report carries it (see {@link Task.reportFindings}). */
export type ReportFinding = NumericFinding | CodedFinding;
