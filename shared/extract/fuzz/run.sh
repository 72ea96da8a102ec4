#!/usr/bin/env bash
# Fuzzes every extractor family for SECONDS each (default 120): ./run.sh [SECONDS] [TARGET...]
# Needs a nightly toolchain and cargo-fuzz (cargo install cargo-fuzz). Seeds come from the test
# fixtures plus a few small samples made here; crashes land in artifacts/<target>/.
set -uo pipefail
cd "$(dirname "$0")"
secs=${1:-120}
shift || true
targets=("$@")
[ ${#targets[@]} -gt 0 ] || targets=(pdf office_zip office_legacy markup text media)
fixtures=../tests/fixtures

seed() { # seed TARGET FILE...: each seed gets a leading name-pick byte of 0
  mkdir -p "corpus/$1"
  local t=$1; shift
  for f in "$@"; do [ -f "$f" ] && { printf '\0'; cat "$f"; } > "corpus/$t/$(basename "$f")"; done
}
seed pdf $fixtures/*.pdf
seed office_zip $fixtures/*.docx $fixtures/*.xlsx $fixtures/*.pptx $fixtures/*.od?
seed office_legacy $fixtures/*.doc $fixtures/*.xls
seed markup $fixtures/*.html $fixtures/*.rtf
seed text $fixtures/*.csv $fixtures/*.md
samples=$(mktemp -d)
printf '<?xml version="1.0"?><r a="1"><b>t</b><![CDATA[x]]></r>' > "$samples/a.xml"
printf 'From: a@b.c\r\nTo: d@e.f\r\nSubject: Hi\r\nContent-Type: text/plain\r\n\r\nBody\r\n' > "$samples/a.eml"
printf 'WEBVTT\n\n00:00:01.000 --> 00:00:02.500\n<v Ana>Hello\n' > "$samples/a.vtt"
printf '1\n00:00:01,000 --> 00:00:02,000\nBob: hi\n' > "$samples/a.srt"
printf '{"a": [1, {"b": null}], "c": "d"}' > "$samples/a.json"
printf 'a: 1\nb:\n  - x\n  - y\n' > "$samples/a.yaml"
printf '\x89PNG\r\n\x1a\n\0\0\0\rIHDR\0\0\0\x10\0\0\0\x10\x08\x02\0\0\0' > "$samples/a.png"
printf 'RIFF\x2c\0\0\0WAVEfmt \x10\0\0\0\x01\0\x01\0\x40\x1f\0\0\x80\x3e\0\0\x02\0\x10\0data\x08\0\0\0\x01\0\x02\0\x03\0\x04\0' > "$samples/a.wav"
{ for _ in 1 2 3; do printf '\xff\xfb\x90\0'; head -c 413 /dev/zero; done; } > "$samples/a.mp3"
seed markup "$samples/a.xml" "$samples/a.eml"
seed text "$samples/a.vtt" "$samples/a.srt" "$samples/a.json" "$samples/a.yaml"
seed media "$samples/a.png" "$samples/a.wav" "$samples/a.mp3"
rm -rf "$samples"

for t in "${targets[@]}"; do
  echo "== $t: ${secs}s"
  cargo +nightly fuzz run "$t" "corpus/$t" -- -max_total_time="$secs" -rss_limit_mb=2048 \
    -timeout=20 -max_len=1048576 -print_final_stats=1 2>&1 | tail -n 12
done
