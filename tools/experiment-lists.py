#!/usr/bin/env python3
"""Rewrites the experiment table of README.md and the list in docs/README.md §6 from the registry
(experiments/registry.c, gallery order), keeping each entry's existing one-line description and
falling back to the experiment's title.  Run from the repository root after adding an experiment."""
import re, sys

reg = open('experiments/registry.c').read()
order = re.findall(r'&(od_exp_\w+),', reg)
names, titles = {}, {}
import glob
for f in glob.glob('experiments/*.c'):
    s = open(f).read()
    for m in re.finditer(r'const od_experiment (od_exp_\w+) = \{(.*?)\n\};', s, re.S):
        body = m.group(2)
        n = re.search(r'\.name\s*=\s*"([^"]+)"', body)
        t = re.search(r'\.title\s*=\s*((?:"[^"]*"\s*)+)', body)
        names[m.group(1)] = n.group(1)
        titles[m.group(1)] = ''.join(re.findall(r'"([^"]*)"', t.group(1))) if t else n.group(1)
missing = [o for o in order if o not in names]
if missing: sys.exit(f'not found: {missing}')
module = lambda f: ('SDEs and optimizers' if any(k in f for k in ['ou_em','integrator','sgd_sde','svag','adam_rmsprop','linear_scaling','sam_sde','sqrt_scaling'])
                    else 'Linear regression' if 'linreg' in f
                    else 'Stability and the edge of stability' if any(k in f for k in ['stability_','coherence','edge_of','scalar_network'])
                    else 'Spectra' if any(k in f for k in ['slq','bbp','ghosts','block_het','outlier','mlp'])
                    else 'Scaling laws')

# README table
rd = open('README.md').read()
i = rd.index('## Experiments'); j = rd.index('\n## ', i + 5)
rows = {m.group(1): m.group(0) for m in re.finditer(r'^\| `([^`]+)` \|.*$', rd[i:j], re.M)}
out = ['## Experiments', '', '`optdyn list` prints them; each has a page in `docs/experiments/`.', '']
last = None
for o in order:
    n = names[o]
    if module(o) != last:
        last = module(o)
        out += ['', f'**{last}**', '', '| name | what it checks | page |', '|---|---|---|']
    out.append(rows.get(n, f'| `{n}` | {titles[o]} | [docs](docs/experiments/{n}.md) |'))
rd = rd[:i] + '\n'.join(out).replace('\n\n\n', '\n\n') + '\n' + rd[j:]
open('README.md', 'w').write(rd)

# docs list
dd = open('docs/README.md').read()
i = dd.index('## 6. Experiments'); j = dd.index('\n## ', i + 5)
items = {}
for m in re.finditer(r'^- \[([^\]]+)\]\(experiments/[^)]+\)(.*?)(?=^- \[|\Z)', dd[i:j], re.M | re.S):
    items[m.group(1)] = m.group(0).rstrip('\n')
out = ['## 6. Experiments', '', 'One page each in [`docs/experiments/`](experiments/), in gallery order:']
last = None
for o in order:
    n = names[o]
    if module(o) != last:
        last = module(o)
        out += ['', f'*{last}*', '']
    out.append(items.get(n, f'- [{n}](experiments/{n}.md) — {titles[o]}.'))
dd = dd[:i] + '\n'.join(out) + '\n' + dd[j:]
open('docs/README.md', 'w').write(dd)
print(len(order), 'experiments listed')
