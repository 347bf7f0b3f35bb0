#!/usr/bin/env python3
"""Dump the op sequences around the text contractions of a fixture (for EXPORTERS.md).

usage: python dump_sites.py FIXTURE.onnx [--site N ...] [--fwd 8] [--img 4]

A "site" is an Einsum, or a MatMul with one image-value-dependent operand and one
image-value-independent operand (value dependence is not propagated through Shape).
For each site it prints: the backward slice of the text operand (all nodes, in graph
order), the last few nodes on the image operand, the contraction, and the forward chain.
"""
import argparse
import sys

import numpy as np
import onnx
from onnx import numpy_helper


def short(v, n=8):
    a = np.asarray(v)
    if a.size <= n:
        return a.tolist()
    return 'tensor%s' % (list(a.shape),)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument('path')
    ap.add_argument('--site', type=int, nargs='*')
    ap.add_argument('--fwd', type=int, default=9)
    ap.add_argument('--img', type=int, default=4)
    a = ap.parse_args()
    m = onnx.load(a.path)
    g = m.graph
    inits = {i.name: numpy_helper.to_array(i) for i in g.initializer}
    consts = {}
    for n in g.node:
        if n.op_type == 'Constant':
            for at in n.attribute:
                if at.name == 'value':
                    consts[n.output[0]] = numpy_helper.to_array(at.t)
                elif at.name in ('value_ints', 'value_int', 'value_float', 'value_floats'):
                    consts[n.output[0]] = np.array(onnx.helper.get_attribute_value(at))
    prod = {}
    for i, n in enumerate(g.node):
        for o in n.output:
            prod[o] = i
    cons = {}
    for i, n in enumerate(g.node):
        for x in n.input:
            cons.setdefault(x, []).append(i)
    img_inputs = {'images'}
    dep = set(img_inputs)
    for n in g.node:
        if n.op_type == 'Shape':
            continue
        if any(x in dep for x in n.input):
            dep.update(n.output)

    def desc_in(x):
        if x == '':
            return '-'
        if x in inits:
            return 'init%s%s' % (list(inits[x].shape),
                                 ('=' + str(short(inits[x]))) if inits[x].size <= 8 else '')
        if x in consts:
            return 'const=%s' % (short(consts[x]),)
        if x in prod:
            return '%s#%d' % (g.node[prod[x]].op_type, prod[x])
        return 'INPUT:' + x

    def desc(i):
        n = g.node[i]
        attrs = []
        for at in n.attribute:
            v = onnx.helper.get_attribute_value(at)
            if isinstance(v, bytes):
                v = v.decode()
            if isinstance(v, onnx.TensorProto):
                v = short(numpy_helper.to_array(v))
            attrs.append('%s=%s' % (at.name, v))
        return '#%d %s(%s)%s' % (i, n.op_type, ', '.join(desc_in(x) for x in n.input),
                                 (' {' + ', '.join(attrs) + '}') if attrs else '')

    sites = []
    for i, n in enumerate(g.node):
        if n.op_type == 'Einsum' or n.op_type == 'MatMul':
            ins = [x for x in n.input]
            d = [x in dep for x in ins]
            if n.op_type == 'Einsum' or (d[0] != d[1]):
                sites.append(i)
    print('file:', a.path, ' opset:', [(o.domain, o.version) for o in m.opset_import])
    print('sites (node idx):', [(s, g.node[s].op_type) for s in sites])
    from collections import Counter
    print('op counts:', dict(Counter(n.op_type for n in g.node)))
    sel = a.site if a.site else sites
    for s in sel:
        n = g.node[s]
        print('\n=== site #%d %s' % (s, n.op_type))
        for k, x in enumerate(n.input):
            if x in dep:
                # image operand: walk back a few producers along the dependent input
                chain = []
                cur = x
                for _ in range(a.img):
                    if cur not in prod:
                        break
                    j = prod[cur]
                    chain.append(j)
                    nxt = [y for y in g.node[j].input if y in dep]
                    if not nxt:
                        break
                    cur = nxt[0]
                print('  operand %d (image-dependent), last producers:' % k)
                for j in reversed(chain):
                    print('    ' + desc(j))
            else:
                # full backward slice of the text operand
                seen = set()
                stack = [x]
                while stack:
                    y = stack.pop()
                    if y in prod and prod[y] not in seen:
                        seen.add(prod[y])
                        if g.node[prod[y]].op_type != 'Shape':   # shape-only dependence
                            stack.extend(g.node[prod[y]].input)
                print('  operand %d (text path, %d nodes):' % (k, len(seen)))
                for j in sorted(seen):
                    print('    ' + desc(j))
        print('  contraction: ' + desc(s))
        cur = n.output[0]
        print('  forward:')
        for _ in range(a.fwd):
            c = cons.get(cur, [])
            if not c:
                break
            j = c[0]
            print('    ' + desc(j) + ('' if len(c) == 1 else '   [+%d other consumers]' % (len(c) - 1)))
            cur = g.node[j].output[0]


if __name__ == '__main__':
    main()
