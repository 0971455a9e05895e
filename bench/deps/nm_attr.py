#!/usr/bin/env python3
# Sum `go tool nm -size` symbol sizes of a binary by module. Usage: nm_attr.py BINARY MODMAP
import subprocess, sys, collections, re
mods = sorted({l.split()[1] for l in open(sys.argv[2]) if len(l.split()) > 1}, key=len, reverse=True)
# Skip .bss/.noptrbss (no bytes in the file): everything at or above the .bss address.
bss = min(int(l.split()[3], 16) for l in subprocess.run(['readelf', '-SW', sys.argv[1]], capture_output=True, text=True).stdout.splitlines() if '.bss' in l or '.noptrbss' in l)
out = subprocess.run(['go', 'tool', 'nm', '-size', sys.argv[1]], capture_output=True, text=True, check=True).stdout
tot = collections.Counter(); kinds = collections.Counter()
for line in out.splitlines():
    f = line.split(None, 3)
    if len(f) < 4: continue
    size, typ, name = int(f[1]), f[2], f[3]
    if typ in 'Uu' or int(f[0], 16) >= bss: continue
    n = name
    for p in ('type:', 'go:itab.', 'go:info.', 'go:cuinfo.', 'gclocals·', 'go:'):
        if n.startswith(p): n = n[len(p):]
    n = n.lstrip('*')
    g = 'std'
    for m in mods:
        if n.startswith(m + '/') or n.startswith(m + '.'):
            g = m; break
    else:
        if not re.match(r'^[a-z0-9_]+(/[a-z0-9_]+)*\.', n) and not n.startswith(('runtime', 'internal')):
            g = 'unattributed (' + ('string' if name.startswith('go:string') else 'other') + ')'
    tot[g] += size
s = sum(tot.values())
for g, d in tot.most_common():
    print(f'{d/1e6:8.2f} MB {100*d/s:5.1f}% {g}')
print(f'{s/1e6:8.2f} MB total symbol bytes')
