// Runs inside the test network namespace (see ../jamid.ts): listens on 127.0.0.1:<port> and forwards
// every connection, byte for byte, to the unix socket <path>, whose other end (in the test process)
// connects to the host's 127.0.0.1:<port>. TLS passes through untouched. Prints "listening" when ready.
// Usage: node tcp-to-unix.cjs <port> <unix socket path>
'use strict';
const net = require('node:net');

const [port, socketPath] = process.argv.slice(2);

function join(a, b) {
  a.pipe(b);
  b.pipe(a);
  const close = () => {
    a.destroy();
    b.destroy();
  };
  a.on('error', close);
  b.on('error', close);
  a.on('close', () => b.end());
  b.on('close', () => a.end());
}

const server = net.createServer({ allowHalfOpen: true }, (inbound) => {
  join(inbound, net.connect({ path: socketPath, allowHalfOpen: true }));
});
server.on('error', (err) => {
  console.error(`tcp-to-unix: ${err.message}`);
  process.exit(1);
});
server.listen(Number(port), '127.0.0.1', () => console.log('listening'));
process.on('SIGTERM', () => process.exit(0));
