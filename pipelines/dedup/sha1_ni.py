"""SHA-1 with the x86 SHA extensions (SHA-NI), four independent one-block messages at a time.

`sha1ni_spans4(buf, starts, lengths)` returns (h0, h1) for each of the four messages
`buf[starts[k]: starts[k] + lengths[k]]`, k < 4, with every length <= 55 (one padded block) and
every `starts[k] + 64 <= len(buf)` (each message is loaded as a whole 64-byte block, then the
bytes past its end are masked off and the padding is set in registers):

    padded block = message bytes | 0x80 | zeros | 64-bit big-endian bit length

The four dependency chains are independent, so the CPU overlaps them. The code is emitted as
LLVM IR (`llvm.x86.sha1rnds4`, `sha1nexte`, `sha1msg1`, `sha1msg2`), following the schedule of
Intel's SHA extensions paper:

    m[i] = sha1msg2(sha1msg1(m[i-4], m[i-3]) ^ m[i-2], m[i-1])                (i >= 4)
    e[0] = (0, 0, 0, h4) + m[0];  e[i] = sha1nexte(abcd[i-1], m[i])
    abcd[i+1] = sha1rnds4(abcd[i], e[i], i // 5)

`HAS_SHA_NI` says whether this machine's CPU has the extensions; `sha1.sha1_spans` uses them
only then. Not here: messages longer than one block (the portable code handles those).
"""

from __future__ import annotations

import platform

import llvmlite.binding as llvm
from llvmlite import ir
from numba import types
from numba.core import cgutils
from numba.extending import intrinsic


def _has_sha_ni() -> bool:
    if platform.machine().lower() not in ("x86_64", "amd64"):
        return False
    features = llvm.get_host_cpu_features()
    # vzeroupper (see below) needs AVX; SHA-NI CPUs without AVX use the portable code
    return all(bool(features.get(name, False)) for name in ("sha", "sse4.1", "avx"))


HAS_SHA_NI = _has_sha_ni()

_I8, _I32, _I64 = ir.IntType(8), ir.IntType(32), ir.IntType(64)
_V4, _V16 = ir.VectorType(_I32, 4), ir.VectorType(_I8, 16)
_H = (0x67452301, 0xEFCDAB89, 0x98BADCFE, 0x10325476, 0xC3D2E1F0)
_REVERSE = ir.Constant(ir.VectorType(_I32, 16), list(range(15, -1, -1)))


def _splat(builder, value):
    one = builder.insert_element(ir.Constant(_V16, ir.Undefined), value, ir.Constant(_I32, 0))
    return builder.shuffle_vector(one, ir.Constant(_V16, ir.Undefined),
                                  ir.Constant(ir.VectorType(_I32, 16), [0] * 16))


def _message(builder, data, start, length):
    """The four message-schedule vectors of the padded block data[start:start+length]."""
    block = builder.bitcast(builder.gep(data, [start]), _V16.as_pointer())
    lengths = _splat(builder, builder.trunc(length, _I8))
    bits = builder.mul(length, ir.Constant(_I64, 8))
    out = []
    for i in range(4):
        raw = builder.load(builder.gep(block, [ir.Constant(_I32, i)]), align=1)
        index = ir.Constant(_V16, list(range(16 * i, 16 * i + 16)))
        v = builder.select(builder.icmp_unsigned("<", index, lengths), raw, ir.Constant(_V16, [0] * 16))
        v = builder.select(builder.icmp_unsigned("==", index, lengths), ir.Constant(_V16, [0x80] * 16), v)
        if i == 3:  # the bit length (< 2**16 for one block) in bytes 62 and 63
            v = builder.insert_element(v, builder.trunc(builder.lshr(bits, ir.Constant(_I64, 8)), _I8),
                                       ir.Constant(_I32, 14))
            v = builder.insert_element(v, builder.trunc(bits, _I8), ir.Constant(_I32, 15))
        # subtle: reversing all 16 bytes makes big-endian words in the lane order sha1rnds4 wants
        out.append(builder.bitcast(builder.shuffle_vector(v, v, _REVERSE), _V4))
    return out


def _rounds(builder, m, rnds4, nexte, msg1, msg2):
    m = list(m)
    for i in range(4, 20):
        mixed = builder.xor(builder.call(msg1, [m[i - 4], m[i - 3]]), m[i - 2])
        m.append(builder.call(msg2, [mixed, m[i - 1]]))
    abcd0 = ir.Constant(_V4, [_H[3], _H[2], _H[1], _H[0]])
    abcd, previous = abcd0, None
    for i in range(20):
        e = builder.add(ir.Constant(_V4, [0, 0, 0, _H[4]]), m[0]) if i == 0 else \
            builder.call(nexte, [previous, m[i]])
        previous = abcd
        abcd = builder.call(rnds4, [abcd, e, ir.Constant(_I8, i // 5)])
    abcd = builder.add(abcd, abcd0)
    return [builder.zext(builder.extract_element(abcd, ir.Constant(_I32, lane)), _I64)
            for lane in (3, 2)]


@intrinsic
def sha1ni_spans4(typingctx, buf, starts, lengths):
    sig = types.UniTuple(types.uint64, 8)(buf, starts, lengths)

    def codegen(context, builder, signature, args):
        data, st, ln = (context.make_array(t)(context, builder, a).data
                        for t, a in zip(signature.args, args))
        module = builder.module

        def declare(name, n_args, ret=_V4):
            arg_types = [_V4] * n_args + ([_I8] if name.endswith("rnds4") else [])
            return cgutils.get_or_insert_function(module, ir.FunctionType(ret, arg_types), name)

        # subtle: the SHA instructions have only legacy-SSE encodings; clearing the upper vector
        # state first avoids a penalty on every one of them after AVX code (measured 100x).
        builder.call(cgutils.get_or_insert_function(
            module, ir.FunctionType(ir.VoidType(), []), "llvm.x86.avx.vzeroupper"), [])
        fns = (declare("llvm.x86.sha1rnds4", 2), declare("llvm.x86.sha1nexte", 2),
               declare("llvm.x86.sha1msg1", 2), declare("llvm.x86.sha1msg2", 2))
        out = []
        for k in range(4):
            start = builder.load(builder.gep(st, [ir.Constant(_I32, k)]))
            length = builder.load(builder.gep(ln, [ir.Constant(_I32, k)]))
            out += _rounds(builder, _message(builder, data, start, length), *fns)
        return context.make_tuple(builder, signature.return_type, out)

    return sig, codegen
