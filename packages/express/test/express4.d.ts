// Express 4, installed as "express4" for the adapter's tests; typed with Express 5's types (same surface used here).
declare module 'express4' {
  import express from 'express';
  export default express;
}
