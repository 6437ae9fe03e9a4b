/**
 * JSON schemas of the API's requests and answers: Fastify validates requests against them and @fastify/swagger
 * publishes them as the OpenAPI document.
 */

/** The error body every 4xx and 5xx answer carries. */
export const ERROR_SCHEMA = {
  type: 'object',
  required: ['error', 'message'],
  properties: { error: { type: 'string' }, message: { type: 'string' } },
} as const;

const free = { type: 'object', additionalProperties: true } as const;

/** One task's result in an analysis. */
export const RESULT_SCHEMA = {
  type: 'object',
  required: ['task', 'outcome', 'summary', 'model'],
  properties: {
    task: { type: 'string' },
    outcome: { type: 'string', enum: ['answered', 'refused', 'error'] },
    summary: { type: 'string' },
    answer: free,
    reason: { type: 'string' },
    byGate: { type: 'boolean' },
    label: { type: ['string', 'null'] },
    confidence: { type: ['number', 'null'] },
    model: { type: 'object', properties: { id: { type: 'string' }, weightsSha256: { type: 'string' } } },
    gate: { ...free, nullable: true },
    warnings: { type: 'array', items: { type: 'string' } },
    inputs: free,
    imageUrl: { type: 'string' },
    imageRows: { type: 'integer' },
    imageColumns: { type: 'integer' },
    imageWindowCenter: { type: 'number' },
    imageWindowWidth: { type: 'number' },
    heatmapUrl: { type: 'string' },
    overlayUrl: { type: 'string' },
    heatmapMethod: { type: 'string' },
    reviewState: { type: 'string', enum: ['unreviewed', 'accepted', 'corrected', 'rejected'] },
    review: { ...free, nullable: true },
    createdAt: { type: 'string' },
  },
} as const;

/** An analysis of a stored film. */
export const ANALYSIS_SCHEMA = {
  type: 'object',
  required: ['instanceId', 'status', 'results'],
  properties: {
    instanceId: { type: 'integer' },
    fileId: { type: 'integer' },
    status: { type: 'string', enum: ['stored', 'duplicate', 'skipped'] },
    recordedAt: { type: 'string' },
    instance: free,
    image: {
      type: 'object',
      properties: { url: { type: 'string' }, rows: { type: 'integer' }, columns: { type: 'integer' }, windowCenter: { type: 'number' }, windowWidth: { type: 'number' } },
    },
    results: { type: 'array', items: RESULT_SCHEMA },
  },
} as const;

/** The standard error answers of an authorised endpoint. */
export const AUTH_ERRORS = { 401: ERROR_SCHEMA, 403: ERROR_SCHEMA, 429: ERROR_SCHEMA } as const;
