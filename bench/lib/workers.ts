import { Worker } from 'node:worker_threads';

/** Starts bench/workers/<file> as a worker thread (it inherits the TypeScript loader through execArgv). */
export function spawnWorker(file: string, data: unknown): Worker {
  return new Worker(new URL(`../workers/${file}`, import.meta.url), { workerData: data });
}

/** The worker's next message (typed by the caller's protocol); rejects if the worker fails or exits first. */
export function nextMessage<T>(worker: Worker): Promise<T> {
  return new Promise((resolve, reject) => {
    const cleanup = () => {
      worker.off('message', onMessage);
      worker.off('error', onError);
      worker.off('exit', onExit);
    };
    const onMessage = (message: T) => {
      cleanup();
      resolve(message);
    };
    const onError = (error: Error) => {
      cleanup();
      reject(error);
    };
    const onExit = (code: number) => {
      cleanup();
      reject(new Error(`worker exited with code ${code} before answering`));
    };
    worker.on('message', onMessage);
    worker.on('error', onError);
    worker.on('exit', onExit);
  });
}

/** Runs a one-shot worker: its first message is the result. */
export async function runWorker<T>(file: string, data: unknown): Promise<T> {
  const worker = spawnWorker(file, data);
  try {
    return await nextMessage<T>(worker);
  } finally {
    await worker.terminate();
  }
}
