import express from 'express';

// The HTTP ceiling baseline: express 5 with the same JSON body parser as the service, answering {}.
const app = express();
app.disable('x-powered-by');
app.use(express.json({ limit: '16kb' }));
app.post('/bare', (_req, res) => { res.json({}); });
app.get('/healthz', (_req, res) => { res.json({}); });
const server = app.listen(Number(process.env.PORT), '127.0.0.1');
server.keepAliveTimeout = 65_000;
process.on('SIGTERM', () => server.close(() => process.exit(0)));
