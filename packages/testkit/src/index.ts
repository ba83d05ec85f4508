export * from './storage/index.js';
export * from './server/index.js';
export * from './app/index.js';
export * from './broker/index.js';
