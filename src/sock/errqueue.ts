// struct sock_extended_err (linux/errqueue.h), as delivered in an IP_RECVERR / IPV6_RECVERR control
// message, followed by the offender's sockaddr (SO_EE_OFFENDER) — the router or host that sent the
// ICMP error, or AF_UNSPEC for local errors.
//   u32 ee_errno; u8 ee_origin; u8 ee_type; u8 ee_code; u8 ee_pad; u32 ee_info; u32 ee_data;
// The origin numbers and the struct's size are the binding's (the system headers').
import { endianness } from 'node:os';
import { DecodeError } from '../errors.js';
import { c } from './binding.js';
import { decodeInet } from './sockaddr.js';

export type ErrOrigin = 'none' | 'local' | 'icmp' | 'icmp6' | 'other';

export interface ExtendedError {
  /** Positive errno, e.g. EMSGSIZE 90, EHOSTUNREACH 113, ECONNREFUSED 111. */
  errno: number;
  origin: ErrOrigin;
  /** ICMP type/code for ICMP origins. */
  type: number;
  code: number;
  /** For EMSGSIZE: the MTU (next-hop MTU from a PTB, or the interface MTU for local errors). */
  info: number;
  data: number;
  /** Who sent the error (router/host address), when the kernel knows. */
  offender: string | null;
}

const LE = endianness() === 'LE';

let origins: Map<number, ErrOrigin> | undefined;
function originName(o: number): ErrOrigin {
  origins ??= new Map([
    [c('SO_EE_ORIGIN_NONE'), 'none'],
    [c('SO_EE_ORIGIN_LOCAL'), 'local'],
    [c('SO_EE_ORIGIN_ICMP'), 'icmp'],
    [c('SO_EE_ORIGIN_ICMP6'), 'icmp6'],
  ]);
  return origins.get(o) ?? 'other';
}

export function decodeExtendedError(b: Buffer): ExtendedError {
  const SIZEOF_SOCK_EXTENDED_ERR = c('SIZEOF_SOCK_EXTENDED_ERR');
  if (b.length < SIZEOF_SOCK_EXTENDED_ERR) {
    throw new DecodeError('sock_extended_err', `need ${SIZEOF_SOCK_EXTENDED_ERR} bytes, have ${b.length}`);
  }
  const u32 = (o: number): number => (LE ? b.readUInt32LE(o) : b.readUInt32BE(o));
  let offender: string | null = null;
  if (b.length > SIZEOF_SOCK_EXTENDED_ERR + 2) {
    const sa = decodeInet(b, SIZEOF_SOCK_EXTENDED_ERR);
    offender = sa?.address ?? null;
  }
  return {
    errno: u32(0),
    origin: originName(b[4]),
    type: b[5],
    code: b[6],
    info: u32(8),
    data: u32(12),
    offender,
  };
}
