import { listenOnLoopback, type ServerAdapterHarness } from '@messagebox/testkit';
import express from 'express';
import express4 from 'express4';
import { createServer } from 'node:http';
import { expressInbox } from '../src/index.js';

function harness(name: string, framework: typeof express): ServerAdapterHarness {
  return {
    name,
    async start(inbox, options) {
      const app = framework();
      app.all('/inbox', expressInbox(inbox, options));
      app.use(framework.json());
      return listenOnLoopback(createServer(app));
    },
  };
}

export const expressHarness = harness('express', express);
export const express4Harness = harness('express 4', express4);
