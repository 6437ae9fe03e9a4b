// Worker threads do not inherit tsx's loader from the test process: register it, then load the TS worker.
import { register } from 'tsx/esm/api';

register();
await import('./fuzz-worker.ts');
