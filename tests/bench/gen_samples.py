#!/usr/bin/python3
"""Write a ustar tar of N one-file samples, 1,000 per directory
(dDDDD/NNNNNNN.txt, 16 bytes each), fast enough for 1,000,000 members.
usage: gen_samples.py OUT.tar N  (used by index_scale.sh and mount_scale.sh)"""
import sys


def hdr(name, size):
    h = bytearray(512)
    h[0:len(name)] = name
    h[100:108] = b"0000644\0"
    h[108:116] = b"0000000\0"
    h[116:124] = b"0000000\0"
    h[124:136] = b"%011o\0" % size
    h[136:148] = b"14755143000\0"
    h[148:156] = b" " * 8
    h[156:157] = b"0"
    h[257:263] = b"ustar\0"
    h[263:265] = b"00"
    h[148:156] = b"%06o\0 " % sum(h)
    return bytes(h)


def main():
    out, n = sys.argv[1], int(sys.argv[2])
    with open(out, "wb", buffering=1 << 22) as f:
        for i in range(n):
            data = b"sample %09d\n" % i
            f.write(hdr(b"d%04d/%07d.txt" % (i // 1000, i), len(data)))
            f.write(data + b"\0" * (512 - len(data)))
        f.write(b"\0" * 1024)


if __name__ == "__main__":
    main()
