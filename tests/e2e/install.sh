#!/bin/bash
# make install into a DESTDIR: the programs, the man pages (each renders
# with man -l and names itself), the default model and the SR template;
# every radscribe subcommand in its usage has its entry in radscribe(8).
. "$(dirname "$0")/lib.sh"

tap_plan 5
need make man mandoc "$RADSCRIBE"
R=$T/root
if make -s -C "$top_builddir" install DESTDIR="$R" > "$T/install.log" 2>&1; then
    tap_ok "make install DESTDIR=..."
else
    tap_fail "make install DESTDIR=..." "$(tail -n 20 "$T/install.log")"
fi
missing=
for f in bin/radscribe sbin/radscribed share/man/man8/radscribed.8 share/man/man8/radscribe.8 \
         share/man/man5/radscribed.conf.5 share/man/man7/radscribe-models.7 \
         share/radscribe/models/radscribe-cxr.gguf share/radscribe/models/mmproj-radscribe-cxr.gguf \
         share/radscribe/templates/tid2000.xml; do
    [ -n "$(find "$R" -path "*/$f" -type f 2>/dev/null)" ] || missing="$missing $f"
done
tap_is "installed: programs, four man pages, default model, SR template" "${missing:-none}" none
bad=
for p in $(find "$R" -path "*/share/man/man*/*" -type f); do
    name=$(basename "$p" | sed 's/\.[0-9]$//')
    out=$(MANWIDTH=80 man -l "$p" 2>&1)
    grep -q "^NAME" <<<"$out" && grep -q "^ *$name " <<<"$out" &&
        [ "$(wc -l <<<"$out")" -gt 30 ] || bad="$bad $name"
done
tap_is "man -l renders each installed page, with its NAME" "${bad:-none}" none
lint=$(mandoc -Tlint -Wwarning $(find "$R" -path "*/share/man/man*/*" -type f) 2>&1)
tap_is "mandoc -Tlint -Wwarning: the installed pages are clean" "${lint:-clean}" clean
# The usage lists every subcommand; each must be an item of radscribe(8).
cmds=$("$RADSCRIBE" 2>&1 | sed -n 's/^ *\(usage: \)\{0,1\}radscribe \(\[-f file\] \)\{0,1\}\([a-z|]*\).*/\3/p' |
    tr '|' '\n' | sort -u)
undoc=
for c in $cmds; do
    { grep -q "^\.It Cm $c\b" "$top_srcdir/man/radscribe.8" ||
      grep -A1 "^\.It Xo" "$top_srcdir/man/radscribe.8" | grep -q "^\.Cm $c\b"; } || undoc="$undoc $c"
done
tap_is "every subcommand in radscribe's usage ($(echo $cmds | wc -w)) has an entry in radscribe(8)" "${undoc:-none}" none
tap_done
