// struct sock_extended_err (linux/errqueue.h), as delivered in an IP_RECVERR / IPV6_RECVERR control
// message, followed by the offender's sockaddr (SO_EE_OFFENDER) — the router or host that sent the
// ICMP error, or AF_UNSPEC for local errors.
//   u32 ee_errno; u8 ee_origin; u8 ee_type; u8 ee_code; u8 ee_pad; u32 ee_info; u32 ee_data;
import { endianness } from 'node:os';
import { DecodeError } from '../errors.js';
import { decodeInet } from './sockaddr.js';

export const SO_EE_ORIGIN_NONE = 0;
export const SO_EE_ORIGIN_LOCAL = 1;
export const SO_EE_ORIGIN_ICMP = 2;
export const SO_EE_ORIGIN_ICMP6 = 3;
export const SIZEOF_SOCK_EXTENDED_ERR = 16;

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

function originName(o: number): ErrOrigin {
  switch (o) {
    case SO_EE_ORIGIN_NONE: return 'none';
    case SO_EE_ORIGIN_LOCAL: return 'local';
    case SO_EE_ORIGIN_ICMP: return 'icmp';
    case SO_EE_ORIGIN_ICMP6: return 'icmp6';
    default: return 'other';
  }
}

export function decodeExtendedError(b: Buffer): ExtendedError {
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
