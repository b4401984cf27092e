// Ethernet II header as read from an AF_PACKET socket (SOCK_RAW): destination and source MAC,
// then any 802.1Q (0x8100) / 802.1ad (0x88a8, and the pre-standard 0x9100) tags, walked in order,
// then the ethertype of the payload. Header only: the payload starts at `headerLength`.
// QinQ is why a 1500-byte packet can need a 1508-byte frame (seed 002's 1488 story).
import { DecodeError, UsageError } from '../errors.js';
import { bytesToMac, macToBytes } from './addr.js';
import { checkInt, need, target } from './bounds.js';
import { ETHERTYPE_QINQ, ETHERTYPE_QINQ_OLD, ETHERTYPE_VLAN } from './protocols.js';

export const HEADER_LENGTH = 14;
export const TAG_LENGTH = 4;
/** Tag stacks deeper than this are refused as hostile. */
export const MAX_TAGS = 8;

export interface VlanTag {
  /** Tag protocol identifier: 0x8100 (C-tag), 0x88a8 (S-tag) or 0x9100. */
  tpid: number;
  /** Priority code point (802.1p). */
  pcp: number;
  /** Drop eligible indicator. */
  dei: boolean;
  /** VLAN id. */
  vid: number;
}

export interface EthernetHeader {
  dst: string;
  src: string;
  /** Outermost first. */
  tags: VlanTag[];
  /** Ethertype of the payload (0x0800 IPv4, 0x86dd IPv6), or an 802.3 length when < 0x600. */
  ethertype: number;
}

export interface DecodedEthernetHeader extends EthernetHeader {
  headerLength: number;
}

export const isTagType = (t: number): boolean => t === ETHERTYPE_VLAN || t === ETHERTYPE_QINQ || t === ETHERTYPE_QINQ_OLD;

export function encodingLength(h: Pick<EthernetHeader, 'tags'>): number {
  return HEADER_LENGTH + TAG_LENGTH * (h.tags?.length ?? 0);
}

export function encode(h: EthernetHeader, buf?: Buffer, offset = 0): Buffer {
  const tags = h.tags ?? [];
  if (tags.length > MAX_TAGS) throw new UsageError(`more than ${MAX_TAGS} VLAN tags`);
  const n = encodingLength(h);
  const b = target(buf, offset, n, 'Ethernet header');
  macToBytes(h.dst).copy(b, offset);
  macToBytes(h.src).copy(b, offset + 6);
  let p = offset + 12;
  for (const t of tags) {
    if (!isTagType(t.tpid)) throw new UsageError(`0x${t.tpid.toString(16)} is not a VLAN tag protocol id`);
    b.writeUInt16BE(t.tpid, p);
    b.writeUInt16BE((checkInt(t.pcp, 3, 'pcp') << 13) | (t.dei ? 0x1000 : 0) | checkInt(t.vid, 12, 'vid'), p + 2);
    p += TAG_LENGTH;
  }
  if (isTagType(h.ethertype)) throw new UsageError('the inner ethertype cannot be a tag type: list the tag in tags');
  b.writeUInt16BE(checkInt(h.ethertype, 16, 'ethertype'), p);
  encode.bytes = n;
  return b;
}
encode.bytes = 0;

export function decode(buf: Buffer, offset = 0): DecodedEthernetHeader {
  need(buf, offset, HEADER_LENGTH, 'Ethernet header');
  const tags: VlanTag[] = [];
  let p = offset + 12;
  let type = buf.readUInt16BE(p);
  while (isTagType(type)) {
    if (tags.length >= MAX_TAGS) throw new DecodeError('Ethernet header', `more than ${MAX_TAGS} VLAN tags`, p);
    need(buf, p, TAG_LENGTH + 2, 'VLAN tag');
    const tci = buf.readUInt16BE(p + 2);
    tags.push({ tpid: type, pcp: tci >>> 13, dei: (tci & 0x1000) !== 0, vid: tci & 0x0fff });
    p += TAG_LENGTH;
    type = buf.readUInt16BE(p);
  }
  const headerLength = p + 2 - offset;
  decode.bytes = headerLength;
  return { dst: bytesToMac(buf, offset), src: bytesToMac(buf, offset + 6), tags, ethertype: type, headerLength };
}
decode.bytes = 0;
