import re, sys
for p in sys.argv[1:]:
    s = open(p).read()
    o = s
    s = re.sub(r'router\((%[\w.]+), bias (%[\w.]+), selection_bias (%[\w.]+)\)', r'router(\1) bias(\2) selection_bias(\3)', s)
    s = re.sub(r'router\((%[\w.]+), bias (%[\w.]+)\)', r'router(\1) bias(\2)', s)
    s = re.sub(r'router\((%[\w.]+), selection_bias (%[\w.]+)\)', r'router(\1) selection_bias(\2)', s)
    s = re.sub(r'experts\(\s*gate (%[\w.\[\]:]+), up (%[\w.\[\]:]+), down (%[\w.\[\]:]+)\)', r'gate(\1) up(\2) down(\3)', s)
    s = re.sub(r'experts\(\s*up (%[\w.\[\]:]+), down (%[\w.\[\]:]+)\)', r'up(\1) down(\2)', s)
    if s != o:
        open(p, 'w').write(s); print("migrated", p)
