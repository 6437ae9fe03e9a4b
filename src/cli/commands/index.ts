import type { Command } from '../command.js';
import { versionCommand } from './version.js';

/** Every sub-command, in the order `physis --help` lists them. Add new commands here. */
export const COMMANDS: readonly Command[] = [versionCommand];
