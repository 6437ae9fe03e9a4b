/**
 * Evaluation: regression and classification metrics, Bland-Altman agreement, accumulators, fold
 * aggregation and self-contained HTML/JSON reports. Pure TypeScript; imports no other Physis module.
 *
 * @example
 * import { regressionMetrics } from './eval/index.js';
 * regressionMetrics([10, 20], [12, 18]).mae; // 2
 */
export { MetricInputError } from './errors.js';
export { mean, sampleSd } from './stats.js';
export { blandAltman, LOA_Z, type BlandAltman } from './bland-altman.js';
export {
  regressionMetrics,
  type RegressionMetrics,
  type RegressionMetricOptions,
  type WithinShare,
} from './regression-metrics.js';
export {
  groupedRegressionMetrics,
  type AgeBand,
  type AgeBandMetrics,
  type GroupedMetricOptions,
  type GroupedRegressionMetrics,
  type RegressionSample,
} from './grouped-metrics.js';
export {
  classificationMetrics,
  confusionMatrix,
  type ClassMetrics,
  type ClassificationMetrics,
  type ClassificationMetricOptions,
} from './classification-metrics.js';
export {
  RegressionAccumulator,
  ClassificationAccumulator,
  type MetricAccumulator,
  type RegressionBatch,
  type ClassificationBatch,
} from './accumulator.js';
export { aggregateFolds, flattenMetrics, type MeanSd } from './aggregate-folds.js';
export { scatterSvg, barSvg, niceTicks, escapeXml, type ScatterPoint, type HorizontalLine, type Bar } from './svg-plots.js';
export {
  buildRegressionReport,
  renderRegressionReportHtml,
  writeRegressionReport,
  type RegressionReport,
  type RegressionReportOptions,
  type PublishedResult,
  parsePublishedResults,
} from './regression-report.js';
export {
  conformalQuantile,
  spreadOf,
  calibrateScaledInterval,
  scaledInterval,
  scaledHeldOutCoverage,
  heldOutCoverageByHalvings,
  HELD_OUT_HALVINGS,
  type Shuffler,
  calibrateResidualInterval,
  type Spread,
  type ScaledIntervalCalibration,
  type ResidualIntervalCalibration,
} from './conformal.js';
export { shrunkCovariance, mahalanobisDistance, type ShrunkCovariance } from './mahalanobis.js';
export { confusionSvg, type ConfusionSvgOptions } from './confusion-svg.js';
export { checkReportTable, reportTablesHtml, type ReportTable } from './report-table.js';
export { reportPageStart, reportPageEnd, factsTable } from './report-page.js';
export {
  expectedCalibrationError,
  rejectOperatingPoint,
  selectRejectThreshold,
  probabilisticMetrics,
  confidencesOf,
  buildClassificationReport,
  renderClassificationReportHtml,
  writeClassificationReport,
  reliabilitySvg,
  CALIBRATION_BINS,
  DEFAULT_TARGET_ACCURACY,
  type Calibration,
  type CalibrationBin,
  type RejectOperatingPoint,
  type RejectSelection,
  type ProbabilisticSample,
  type ProbabilisticMetrics,
  type ProbabilisticGroupMetrics,
  type PublishedClassificationResult,
  type ClassificationReport,
  type ClassificationReportOptions,
  type ReliabilitySvgOptions,
} from './classification-report.js';
export {
  ordinalMetrics,
  buildOrdinalReport,
  renderOrdinalReportHtml,
  writeOrdinalReport,
  MISSING_GROUP,
  type OrdinalSample,
  type OrdinalMetrics,
  type OrdinalGroupMetrics,
  type OrdinalReport,
  type OrdinalReportOptions,
  type OrdinalReportImage,
  type PublishedOrdinalResult,
} from './ordinal-report.js';
