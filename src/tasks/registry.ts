/**
 * The task registry: tasks register themselves by name and callers resolve them by name (ONNX Runtime's
 * `registerBackend`, which refuses a duplicate name; timm's model registry; transformers.js' `SUPPORTED_TASKS`).
 *
 * @example
 * getTask('hand-bone-age').description; // 'bone age from a left-hand PA radiograph …'
 * listTasks().map((t) => t.name); // ['hand-bone-age']
 */
import { TaskRegistryError } from './errors.js';
import type { TrainingItem } from '../train/index.js';
import type { Task } from './task.js';

const TASKS = new Map<string, Task>();

/**
 * Register a task under its name.
 * @param task - the task
 * @throws TaskRegistryError when the name is taken
 */
export function registerTask<Item extends TrainingItem, State>(task: Task<Item, State>): void {
  if (TASKS.has(task.name)) throw new TaskRegistryError(`task '${task.name}' is registered twice`);
  // stored type-erased: callers get items from the same task's readLabels, so Item and State always match
  TASKS.set(task.name, task as unknown as Task);
}

/**
 * Remove a task (tests that register a synthetic task clean up after themselves).
 * @param name - the task's name
 */
export function unregisterTask(name: string): void {
  TASKS.delete(name);
}

/**
 * The task of a name.
 * @param name - e.g. `hand-bone-age`
 * @throws TaskRegistryError for an unknown name, listing the known ones
 */
export function getTask(name: string): Task {
  const task = TASKS.get(name);
  if (!task) throw new TaskRegistryError(`unknown task '${name}'; tasks: ${[...TASKS.keys()].join(', ')}`);
  return task;
}

/** Every registered task, in registration order. */
export function listTasks(): Task[] {
  return [...TASKS.values()];
}
