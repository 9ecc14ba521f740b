# Makes every line of a tmux capture (capture-pane -e) stand alone:
# tmux carries attributes over from one line to the next, and this tracks
# them and opens each line with the ones still in force. Every change is
# written as a reset plus the whole state: freeze handles resets better
# than single attributes turned off. Used by capture.sh and
# demo-capture.sh:
#
#   awk -f assets/standalone.awk screen.ans
function apply(params,   n, p, i) {
	n = split(params, p, ";")
	if (params == "") { n = 1; p[1] = 0 }
	for (i = 1; i <= n; i++) {
		if (p[i] == 0) { fg = ""; bg = ""; attrs = "" }
		else if (p[i] == 38 || p[i] == 48) {
			col = (p[i+1] == 5) ? p[i] ";5;" p[i+2] : p[i] ";2;" p[i+2] ";" p[i+3] ";" p[i+4]
			if (p[i] == 38) fg = col; else bg = col
			i += (p[i+1] == 5) ? 2 : 4
		}
		else if (p[i] == 39) fg = ""
		else if (p[i] == 49) bg = ""
		else if ((p[i] >= 30 && p[i] <= 37) || (p[i] >= 90 && p[i] <= 97)) fg = p[i]
		else if ((p[i] >= 40 && p[i] <= 47) || (p[i] >= 100 && p[i] <= 107)) bg = p[i]
		else if (p[i] == 22) { gsub(/;1|;2/, "", attrs) }
		else if (p[i] == 23) { gsub(/;3/, "", attrs) }
		else if (p[i] == 24) { gsub(/;4/, "", attrs) }
		else if (p[i] == 27) { gsub(/;7/, "", attrs) }
		else attrs = attrs ";" p[i]
	}
}
function state(   s) {
	s = attrs
	if (fg != "") s = s ";" fg
	if (bg != "") s = s ";" bg
	return s == "" ? "" : "\033[" substr(s, 2) "m"
}
{
	line = "\033[0m" state(); rest = $0
	while (match(rest, /\033\[[0-9;]*m/)) {
		line = line substr(rest, 1, RSTART - 1)
		apply(substr(rest, RSTART + 2, RLENGTH - 3))
		line = line "\033[0m" state()
		rest = substr(rest, RSTART + RLENGTH)
	}
	print line rest "\033[0m"
}
