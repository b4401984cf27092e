// The wire layer is pure (no binding), yet it must write sa_family and read ee_origin: its copies
// of these kernel numbers are pinned here to the binding's constants table (native/binding.cc,
// from the system headers), so the two can never drift apart.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { c } from '../../src/sock/binding.js';
import * as sockaddr from '../../src/wire/sockaddr.js';
import * as errqueue from '../../src/wire/errqueue.js';
import { ETHERTYPE_IPV4, ETHERTYPE_IPV6 } from '../../src/wire/protocols.js';

test("wire's AF_* are the binding's", () => {
  for (const name of ['AF_UNSPEC', 'AF_INET', 'AF_INET6', 'AF_NETLINK', 'AF_PACKET'] as const) {
    assert.equal(sockaddr[name], c(name), name);
  }
});

test("wire's SO_EE_ORIGIN_* are the binding's", () => {
  for (const name of ['SO_EE_ORIGIN_NONE', 'SO_EE_ORIGIN_LOCAL', 'SO_EE_ORIGIN_ICMP', 'SO_EE_ORIGIN_ICMP6'] as const) {
    assert.equal(errqueue[name], c(name), name);
  }
});

test("wire's ethertypes are the binding's ETH_P_IP / ETH_P_IPV6", () => {
  assert.equal(ETHERTYPE_IPV4, c('ETH_P_IP'));
  assert.equal(ETHERTYPE_IPV6, c('ETH_P_IPV6'));
});
