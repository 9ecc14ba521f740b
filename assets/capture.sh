#!/usr/bin/env bash
# Regenerates the README pictures from the real program: a server and a
# phone run in a private tmux, challenges are created through the sample
# backend, keys are sent, and the screens are captured with their colours
# and turned into SVG with freeze. Run from the repository root:
#
#   bash assets/capture.sh
#
# Needs tmux. Writes assets/phone.ans (two screens side by side: a push
# arriving over the inbox, then the challenge it opens) and assets/phone.svg.
set -euo pipefail

port=4399
server="http://127.0.0.1:$port"
work=$(mktemp -d)
sock="pushsim-capture-$$"
bin="$work/pushsim"

cleanup() {
	tmux -L "$sock" kill-server 2>/dev/null || true
	[[ -n "${server_pid:-}" ]] && kill "$server_pid" 2>/dev/null || true
	rm -rf "$work"
}
trap cleanup EXIT

go build -o "$bin" ./cmd/pushsim
PUSHSIM_HOME="$work" "$bin" serve --memory --addr "127.0.0.1:$port" >"$work/serve.log" 2>&1 &
server_pid=$!
for _ in $(seq 50); do curl -fs "$server/_pushsim/health" >/dev/null && break; sleep 0.1; done

challenge() { # message, then extra curl arguments
	local message=$1
	shift
	curl -fs -X POST "$server/backend/create-challenge" -d identity=alice --data-urlencode "message=$message" "$@" >/dev/null
}
keys() { tmux -L "$sock" send-keys -t phone "$@"; sleep 0.4; }
capture() { tmux -L "$sock" capture-pane -t phone -p -e >"$work/$1.ans"; }

# The terminal is exactly as wide as the smallest phone, so each capture is
# the phone alone.
tmux -L "$sock" new-session -d -s phone -x 44 -y 24 \
	"PUSHSIM_HOME=$work $bin device --server $server --identity alice"
sleep 2
keys Enter # open alice's factor
challenge "Transfer €120 to Bob" -d amount=€120
sleep 1
keys Escape # dismiss the banner
keys a      # approve it
challenge "Log in to Acme?" -d location=Lisbon -d browser="Firefox 140" -d 'hidden={"ip":"203.0.113.7"}'
sleep 0.7
capture phone-push
keys Enter # open it from the banner
keys h     # show the hidden details
capture phone-challenge

# tmux carries attributes over from one line to the next. standalone
# tracks them and opens each line with the ones still in force, so every
# line stands alone and the two screens can sit side by side.
standalone() {
	awk '
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
	# Every change is written as a reset plus the whole state: freeze
	# handles resets better than single attributes turned off.
	{
		line = "\033[0m" state(); rest = $0
		while (match(rest, /\033\[[0-9;]*m/)) {
			line = line substr(rest, 1, RSTART - 1)
			apply(substr(rest, RSTART + 2, RLENGTH - 3))
			line = line "\033[0m" state()
			rest = substr(rest, RSTART + RLENGTH)
		}
		print line rest "\033[0m"
	}' "$1"
}
paste -d '\n' <(standalone "$work/phone-push.ans") <(standalone "$work/phone-challenge.ans") |
	awk 'NR % 2 == 1 { left = $0; next } { print left "    " $0 }' >assets/phone.ans
go run github.com/charmbracelet/freeze@v0.2.2 --language ansi -o assets/phone.svg assets/phone.ans
