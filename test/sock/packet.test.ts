// PacketSocket after POLLERR: taking the captured interface down leaves ENETDOWN pending on an
// AF_PACKET socket (POLLERR). The capture must say so (an 'error' event naming it) and go on
// capturing once the link is back — not stop silently, as it did.
import assert from 'node:assert/strict';
import { ifindex } from '../../src/lab/config.js';
import { labTest } from '../../src/lab/testing.js';
import { PacketSocket, type Frame } from '../../src/sock/packet.js';
import { ProbeSocket } from '../../src/sock/socket.js';

const waitFor = async (cond: () => boolean, ms = 3000): Promise<boolean> => {
  const until = Date.now() + ms;
  while (!cond() && Date.now() < until) await new Promise((r) => setTimeout(r, 10));
  return cond();
};

labTest('a packet capture reports its link going down (POLLERR) and captures again once it is up', { routers: [{}] }, async (lab) => {
  const index = ifindex(0, 'left'); // the client's end of its first link
  const dev = (await lab.exec('client', ['ip', '-o', 'link', 'show'])).stdout
    .split('\n')
    .find((l) => l.startsWith(`${index}:`))
    ?.split(':')[1]
    ?.trim()
    .split('@')[0];
  assert.ok(dev, `the client's interface ${index}`);
  lab.enter('client');
  const cap = PacketSocket.open({ type: 'dgram', ifindex: index });
  const tx = ProbeSocket.open('udp', 4);
  lab.leave();
  const frames: Frame[] = [];
  const errors: Error[] = [];
  cap.on('frame', (f) => frames.push(f));
  cap.on('error', (e) => errors.push(e));
  cap.start();
  try {
    const send = (): void => void tx.trySend(Buffer.from('probe'), { address: lab.server.v4, port: 9 });
    send();
    assert.ok(await waitFor(() => frames.length > 0), 'captures while the link is up');

    assert.equal((await lab.exec('client', ['ip', 'link', 'set', 'dev', dev!, 'down'])).code, 0);
    assert.ok(await waitFor(() => errors.length > 0), 'the link going down is reported');
    assert.match(errors[0]!.message, /ENETDOWN/, String(errors[0]));

    assert.equal((await lab.exec('client', ['ip', 'link', 'set', 'dev', dev!, 'up'])).code, 0);
    // The route comes back with the link; send until a frame is seen again.
    const before = frames.length;
    assert.ok(await waitFor(() => (send(), frames.length > before), 5000), 'captures again once the link is up');
  } finally {
    cap.close();
    tx.close();
  }
});
