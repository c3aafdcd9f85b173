# SPDX-License-Identifier: MIT
# cmake -DIN=file -DOUT=header -DNAME=symbol -P embed.cmake: writes a header defining
# `static const char NAME[]` with the bytes of IN, NUL-terminated, so that a program can print a
# document that lives in docs/ without finding it on disk.
file(READ "${IN}" hex HEX)
string(REGEX REPLACE "([0-9a-f][0-9a-f])" "0x\\1," bytes "${hex}")
file(WRITE "${OUT}" "/* Generated from ${IN}; do not edit. */\nstatic const char ${NAME}[] = {${bytes}0x00};\n")
