/**
 * Typed errors of the work queue. Each message is one line; it names Redis by host, port and database only (a queue
 * URL may hold a password) and a film by its file name at most, because a message ends up in Redis' failed set,
 * terminals and logs, which are outside the registry's access control (HIPAA minimum necessary, 45 CFR 164.502(b)).
 */

/** Base class: the queue could not do what was asked. */
export class QueueError extends Error {
  override name = 'QueueError';
}

/** The queue URL is not `redis://[user[:password]@]host[:port][/db]` (or `rediss://` for TLS). */
export class QueueUrlError extends QueueError {
  override name = 'QueueUrlError';
}

/** Redis could not be reached, or refused the login. */
export class QueueUnreachableError extends QueueError {
  override name = 'QueueUnreachableError';
}

/**
 * A job that cannot succeed however often it is tried (its data is malformed, or it names a task this worker has no
 * model for): failed at once, without the retries an infrastructure failure gets.
 */
export class PermanentJobError extends QueueError {
  override name = 'PermanentJobError';
}
