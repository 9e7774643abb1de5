#!/usr/bin/env bash
# Make the LibreOffice-written spreadsheet fixtures in tests/fixtures/sheets/ from the sources in
# tests/fixtures/sheets/src/ (people CSVs and flat ODF workbooks written by make_sources.py).
# Not run by CI or the tests: the outputs are committed. Needs LibreOffice Calc:
#   apt-get install -y libreoffice-calc-nogui        (python3-uno comes with it)
# Usage: bash scripts/make_sheet_fixtures.sh
set -euo pipefail
cd "$(dirname "$0")/.."

out=tests/fixtures/sheets
src=$out/src
command -v soffice >/dev/null || { echo "soffice not found: apt-get install -y libreoffice-calc-nogui" >&2; exit 1; }

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
profile="-env:UserInstallation=file://$work/profile"

.venv/bin/python "$src/make_sources.py"

# convert FORMAT[:FILTER[:OPTIONS]] FILE... into $work/conv (emptied first)
convert() {
  local target=$1; shift
  rm -rf "$work/conv"; mkdir -p "$work/conv"
  soffice "$profile" --headless --norestore --convert-to "$target" --outdir "$work/conv" "$@" >/dev/null 2>&1
}

# Workbooks: xlsx, xls and ods where the format matters to the reading; xlsx and xls otherwise.
all3=(payroll_clean two_sheets dates_east_asian template_formulas amounts_float_noise)
two=(hidden_sheet hidden_rows autofilter hidden_column total_row wanyuan_header amounts_past_cents
     amounts_as_text)
one=(total_row_unlabelled qianyuan_header)
for fmt in xlsx xls ods; do
  names=("${all3[@]}")
  [ "$fmt" = ods ] || names+=("${two[@]}")
  [ "$fmt" = xlsx ] && names+=("${one[@]}")
  files=()
  for n in "${names[@]}"; do files+=("$src/$n.fods"); done
  convert "$fmt" "${files[@]}"
  for n in "${names[@]}"; do mv "$work/conv/$n.$fmt" "$out/$n.$fmt"; echo "$out/$n.$fmt"; done
done

# Text files. Calc's CSV filter options: separator, quote, character set (rtl_TextEncoding:
# 76 UTF-8, 85 GB18030, 68 Big5, 64 Shift-JIS, 1 Windows-1252, 65535 UTF-16), first line.
csv_filter="Text - txt - csv (StarCalc)"
text_file() {  # SOURCE OUTPUT EXTENSION OPTIONS [FILTER]
  local source=$1 output=$2 ext=$3 options=$4 filter=${5:-$csv_filter}
  convert "$ext:$filter${options:+:$options}" "$src/$source.fods"
  mv "$work/conv/$source.$ext" "$out/$output"
  echo "$out/$output"
}
text_file payroll_clean payroll_utf8.csv csv 44,34,76,1
text_file payroll_clean payroll_gb18030.csv csv 44,34,85,1
text_file payroll_clean payroll_utf16.csv csv 44,34,65535,1
text_file payroll_clean payroll_semicolon.csv csv 59,34,76,1
text_file payroll_clean payroll_tab.xls xls 9,34,76,1
text_file payroll_clean payroll_html.xls xls "" "HTML (StarCalc)"
text_file people_big5 payroll_big5.csv csv 44,34,68,1
text_file people_shiftjis payroll_shiftjis.csv csv 44,34,64,1
text_file people_cp1252 payroll_cp1252.csv csv 44,34,1,1
text_file total_row total_row.csv csv 44,34,76,1
text_file amounts_as_text amounts_as_text.csv csv 44,34,76,1

# Password to open: 123456 (a UNO call: --convert-to has no way to set it).
/usr/bin/python3 "$src/save_with_password.py" 123456 "$out/payroll_clean.xlsx" \
  "$out/payroll_password.xlsx:Calc MS Excel 2007 XML" "$out/payroll_password.xls:MS Excel 97"

soffice --version | head -1
