import json,sys
from benchmarks.latency.traces import load_traces
d=json.load(open(sys.argv[1]))
for k,run in d['runs'].items():
    name=k.split('/')[0]
    tr=load_traces([name],max_keys=300)[0]
    for r in run['records']:
        if r.get('outcome')!='shown': continue
        n=r['version']-1
        typed=''.join(x.text for x in tr.keys[:n])
        line=typed.split('\n')[-1]
        print('=====',k,'v',r['version'],'line so far:',repr(line))
        print('   sugg:',repr(r['text'][:100]))
        print('   next:',repr(tr.typed[len(typed):][:100]))
