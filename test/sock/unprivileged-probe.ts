// Child of acceptance test 5: runs as nobody, sends one oversized UDP probe, prints the error entry.
import { ProbeSocket } from '../../src/sock/socket.js';

const family = Number(process.argv[2]) as 4 | 6;
const server = process.argv[3]!;
const s = ProbeSocket.open('udp', family);
s.setPmtuMode('probe');
s.receiveErrors();
s.start();
const timer = setTimeout(() => {
  console.error('no error-queue entry within 3 s');
  process.exit(3);
}, 3000);
s.on('errqueue', (e) => {
  clearTimeout(timer);
  console.log(JSON.stringify({ uid: process.getuid?.(), gid: process.getgid?.(), groups: process.getgroups?.(), errno: e.errno, info: e.info, offender: e.offender }));
  s.close();
});
s.sendProbe(Buffer.alloc(1500 - (family === 4 ? 28 : 48)), { address: server, port: 33434 });
