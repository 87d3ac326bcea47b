#!/usr/bin/env bash
# Rebuilds the small C seed modules of the elf_inspect corpus (fuzz/corpus/elf_inspect/seed-c-*):
# a few-KB shared object that passes every static check of the loader (the `.ssdlet_meta`
# section of testkit-abi-first, the three entry points), and variants with an import, a
# forbidden import, a .symtab and a SysV hash table. Needs gcc, strip and python3. The fuzzer
# mutates these far faster than a real 300 KB Rust module (seed-abi-first-stripped.so).
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
corpus="$here/../corpus/elf_inspect"
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
python3 - "$corpus/seed-meta-abi-first" "$work/m.c" <<'PY'
import sys
meta = open(sys.argv[1], 'rb').read()
arr = ','.join(str(b) for b in meta)
open(sys.argv[2], 'w').write(f'''
__attribute__((section(".ssdlet_meta"), used))
const unsigned char ssdlet_meta_bytes[{len(meta)}] = {{{arr}}};
int ssdlet_module_init(void *v) {{ return 0; }}
int ssdlet_run(void *a, void *b) {{ return 0; }}
const unsigned char *ssdlet_metadata(unsigned long *len) {{ *len = {len(meta)}; return ssdlet_meta_bytes; }}
''')
PY
cat > "$work/imports.c" <<'C'
extern void *memcpy(void *, const void *, unsigned long);
void *(*volatile cp)(void *, const void *, unsigned long) = memcpy;
static int counter;
int *volatile counter_ref = &counter;
C
cat > "$work/socket.c" <<'C'
extern int socket(int, int, int);
int (*volatile sk)(int, int, int) = socket;
C
flags=(-shared -fPIC -Os -nostdlib -Wl,-z,max-page-size=4096 -Wl,-z,noseparate-code
    -Wl,--hash-style=gnu -Wl,-z,norelro -Wl,--build-id=none)
gcc "${flags[@]}" -o "$work/c.so" "$work/m.c" && strip --strip-all "$work/c.so"
gcc "${flags[@]}" -o "$work/imports.so" "$work/m.c" "$work/imports.c" -lc && strip --strip-all "$work/imports.so"
gcc "${flags[@]}" -o "$work/socket.so" "$work/m.c" "$work/socket.c" -lc && strip --strip-all "$work/socket.so"
gcc "${flags[@]}" -o "$work/symtab.so" "$work/m.c"
gcc "${flags[@]}" -Wl,--hash-style=both -o "$work/sysv.so" "$work/m.c" && strip --strip-all "$work/sysv.so"
cp "$work/c.so" "$corpus/seed-c-module.so"
cp "$work/imports.so" "$corpus/seed-c-module-imports.so"
cp "$work/socket.so" "$corpus/seed-c-module-socket.so"
cp "$work/symtab.so" "$corpus/seed-c-module-symtab.so"
cp "$work/sysv.so" "$corpus/seed-c-module-sysv-hash.so"
