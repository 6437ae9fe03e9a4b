/** A DICOM object Physis writes or reads back for a PACS is malformed or lacks what the standard requires. */
export class PacsObjectError extends Error {
  override readonly name = 'PacsObjectError';
  /**
   * @param file - the object's name, for the message
   * @param message - what is wrong
   */
  constructor(file: string, message: string) {
    super(`${file}: ${message}`);
  }
}
