import type { Command } from '../command.js';
import { versionCommand } from './version.js';
import { inspectCommand } from './inspect.js';
import { previewCommand } from './preview.js';
import { demoCommand } from './demo.js';
import { trainCommand } from './train.js';
import { evaluateCommand } from './evaluate.js';
import { explainCommand } from './explain.js';
import { predictCommand } from './predict.js';
import { bundleCommand } from './bundle.js';
import { suitabilityLabelsCommand } from './suitability-labels.js';
import { triageCommand } from './triage.js';
import { phantomsCommand } from './phantoms.js';
import { pairCommand } from './pair.js';
import { registryCommand } from './registry.js';
import { ingestCommand } from './ingest.js';
import { serveCommand } from './serve.js';
import { pacsCommand } from './pacs.js';
import { workerCommand } from './worker.js';
import { queueCommand } from './queue.js';

/** Every sub-command, in the order `physis --help` lists them. Add new commands here. */
export const COMMANDS: readonly Command[] = [versionCommand, inspectCommand, previewCommand, demoCommand, predictCommand, explainCommand, triageCommand, trainCommand, evaluateCommand, bundleCommand, suitabilityLabelsCommand, phantomsCommand, pairCommand, ingestCommand, workerCommand, queueCommand, registryCommand, serveCommand, pacsCommand];
