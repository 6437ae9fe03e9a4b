/**
 * Errors raised by the tensor engine. Every libtorch failure arrives as one of these, never as an abort; messages
 * name the op and the shapes involved so a one-line CLI report says what went wrong.
 */

/** A libtorch (c10::Error) failure that is not recognisably a shape, dtype or device problem; message kept. */
export class LibtorchError extends Error {
  override name = 'LibtorchError';
}

/** Incompatible shapes, e.g. `conv2d: input [2,3,32,32] has 3 channels, weight [8,1,3,3] expects 1 (groups=1)`. */
export class ShapeError extends Error {
  override name = 'ShapeError';
}

/** An operation received a tensor of a dtype it cannot handle. */
export class DTypeError extends Error {
  override name = 'DTypeError';
}

/** A device was requested that the linked libtorch cannot provide (e.g. `cuda` on a CPU-only build). */
export class DeviceError extends Error {
  override name = 'DeviceError';
}

/** A tensor was used after `dispose()` (directly or by a `tidy()` scope that ended). */
export class TensorDisposedError extends Error {
  override name = 'TensorDisposedError';
}

/** `loadStateDict` found a missing, unexpected or mis-shaped key; the message names the key. */
export class StateDictError extends Error {
  override name = 'StateDictError';
}

/** The native addon could not be loaded (not built, or libtorch missing at run time). */
export class NativeAddonError extends Error {
  override name = 'NativeAddonError';
}

/**
 * A collective or the rendezvous of a process group failed: a peer rank died (its sockets closed), stalled past the
 * group's timeout, or never arrived. The message names the op, this rank, the backend and the timeout.
 */
export class DistributedError extends Error {
  override name = 'DistributedError';
}
