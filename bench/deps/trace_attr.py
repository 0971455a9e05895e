#!/usr/bin/env python3
# Sum the wall time of every "build <pkg>" / link action in a `go build -debug-trace` file by module.
# Usage: trace_attr.py TRACE MODMAP   (MODMAP: lines "importpath module", module empty for std)
import json, sys, collections
ev = json.load(open(sys.argv[1]))
mod = {}
for line in open(sys.argv[2]):
    f = line.split()
    if f: mod[f[0]] = f[1] if len(f) > 1 else 'std'
open_ = {}
tot = collections.Counter(); cnt = collections.Counter()
for e in ev:
    n = e['name']
    if e['ph'] not in 'BE' or not n.startswith('Executing action ('): continue
    key = (n, e['tid'])
    if e['ph'] == 'B': open_[key] = e['ts']; continue
    d = (e['ts'] - open_.pop(key)) / 1e6
    kind, _, rest = n[len('Executing action ('):-1].partition(' ')
    if kind == 'build':
        if rest.startswith('check cache'): g = 'check-cache'
        else: g = mod.get(rest, '?' + rest)
    else: g = kind
    tot[g] += d; cnt[g] += 1
s = sum(tot.values())
for g, d in tot.most_common():
    print(f'{d:8.1f}s {100*d/s:5.1f}% {cnt[g]:4d} {g}')
print(f'{s:8.1f}s total action time')
