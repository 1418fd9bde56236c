// Forwards an uploaded image to ptjs and answers its predictions. Zero dependencies.
//   ptjs serve --model digits=configs/digits/model.pt &      # listens on 127.0.0.1:8080
//   node apps/node/examples/http-upload.mjs                   # listens on 127.0.0.1:3000
//   curl --data-binary @configs/digits/images/three/0045.png http://127.0.0.1:3000/classify/digits
import http from 'node:http';
import { PtjsClient, PtjsError } from '../index.js';

const ptjs = new PtjsClient({ baseUrl: process.env.PTJS_URL ?? 'http://127.0.0.1:8080', timeoutMs: 10_000 });
const port = Number(process.env.PORT ?? 3000);

const server = http.createServer(async (req, res) => {
  const model = req.method === 'POST' && req.url.match(/^\/classify\/([\w.-]+)$/)?.[1];
  if (!model) return reply(res, 404, { error: 'POST an image to /classify/<model>' });
  try {
    reply(res, 200, await ptjs.predict(model, req)); // req is the raw upload stream
  } catch (err) {
    reply(res, err instanceof PtjsError && err.status ? err.status : 502, { error: err.message });
  }
});
server.listen(port, '127.0.0.1', () => console.error(`listening on http://127.0.0.1:${server.address().port}`));

function reply(res, status, body) {
  res.writeHead(status, { 'Content-Type': 'application/json' }).end(JSON.stringify(body));
}
