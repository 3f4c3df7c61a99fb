#!/usr/bin/env python3
"""Check the multiboot headers of the x86_64 kernel file (TAP output).

  check_multiboot.py KERNEL.bin LOAD_ADDR

The flat kernel file must carry, as QEMU's loader and GRUB2 expect:
  - a multiboot1 header in the first 8 KiB, 4-byte aligned, checksum 0,
    address fields (flag 16) with header_addr - load_addr equal to its file
    offset, load_end_addr = 0 (load the whole file) and an entry inside the
    image (Multiboot Specification 0.6.96 §3.1);
  - a multiboot2 header in the first 32 KiB, 8-byte aligned, checksum 0,
    with an address tag (load_end_addr = 0), an entry address tag and an
    end tag (Multiboot2 Specification §3.1).
"""
import struct
import sys

MB1_MAGIC = 0x1BADB002
MB2_MAGIC = 0xE85250D6


def find(data, magic, limit, align):
    for off in range(0, min(limit, len(data) - 4), align):
        if struct.unpack_from('<I', data, off)[0] == magic:
            return off
    return None


def main():
    path, load = sys.argv[1], int(sys.argv[2], 0)
    with open(path, 'rb') as handle:
        data = handle.read()
    results = []

    def check(ok, name):
        results.append((bool(ok), name))

    off = find(data, MB1_MAGIC, 8192, 4)
    check(off is not None, 'multiboot1 header in the first 8 KiB')
    if off is not None:
        magic, flags, csum, hdr, ld, ld_end, bss_end, entry = struct.unpack_from('<8I', data, off)
        check((magic + flags + csum) & 0xffffffff == 0, 'multiboot1 checksum')
        check(flags & (1 << 16), 'multiboot1 address fields (flag 16)')
        check(flags & (1 << 1), 'multiboot1 asks for the memory map (flag 1)')
        check(ld == load and hdr - ld == off, 'multiboot1 header_addr/load_addr match the file layout')
        check(ld_end == 0 and bss_end == 0, 'multiboot1 load_end_addr = 0: the whole file, package included')
        check(load <= entry < load + len(data), 'multiboot1 entry inside the image')

    off = find(data, MB2_MAGIC, 32768, 8)
    check(off is not None, 'multiboot2 header in the first 32 KiB, 8-byte aligned')
    if off is not None:
        magic, arch, length, csum = struct.unpack_from('<4I', data, off)
        check((magic + arch + length + csum) & 0xffffffff == 0, 'multiboot2 checksum')
        tags = {}
        pos = off + 16
        while pos + 8 <= off + length:
            ttype, _, size = struct.unpack_from('<HHI', data, pos)
            tags[ttype] = (pos, size)
            if ttype == 0:
                break
            pos += (size + 7) & ~7
        check(0 in tags and tags[0][0] + 8 == off + length, 'multiboot2 end tag closes the header')
        if 2 in tags:
            hdr, ld, ld_end, bss_end = struct.unpack_from('<4I', data, tags[2][0] + 8)
            check(ld == load and hdr - ld == off and ld_end == 0,
                  'multiboot2 address tag: header at its file offset, whole file loaded')
        else:
            check(False, 'multiboot2 address tag')
        if 3 in tags:
            entry = struct.unpack_from('<I', data, tags[3][0] + 8)[0]
            check(load <= entry < load + len(data), 'multiboot2 entry address tag inside the image')
        else:
            check(False, 'multiboot2 entry address tag')

    print('1..%d' % len(results))
    for number, (ok, name) in enumerate(results, 1):
        print('%s %d - %s' % ('ok' if ok else 'not ok', number, name))
    return 0 if all(ok for ok, _ in results) else 1


if __name__ == '__main__':
    sys.exit(main())
