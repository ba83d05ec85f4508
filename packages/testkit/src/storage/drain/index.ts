export { startCountingReceiver, type CountingReceiver, type CountingReceiverOptions } from './counting-receiver.js';
export { drainWithWorkers, startWorkerProcess, stopWorker, type DrainOptions, type DrainReport } from './drain-with-workers.js';
export { drainWorkerEnv, runDrainWorker, type DrainWorkerEnv } from './drain-worker.js';
export { measureStoreDrain, measureWorkerDrain, reportBenchmark, runDrainBenchmark, type BenchmarkStore, type DrainMeasurement } from './benchmark.js';
export { runMultiProcessDrainCases, runMultiProcessOrderingCase, type MultiProcessDrainOptions } from './multi-process-cases.js';
