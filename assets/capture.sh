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
challenge "Transfer €120 to Bob" --data-urlencode 'details=[{"label":"Amount","value":"€120"}]'
sleep 1
keys Escape # dismiss the banner
keys a      # approve it
challenge "Log in to Acme?" --data-urlencode 'details=[{"label":"Location","value":"Lisbon"},{"label":"Browser","value":"Firefox 140"}]' \
	--data-urlencode 'hiddenDetails={"ip":"203.0.113.7"}'
sleep 0.7
capture phone-push
keys Enter # open it from the banner
keys h     # show the hidden details
capture phone-challenge

# tmux carries attributes over from one line to the next; standalone
# makes every line stand alone, so the two screens can sit side by side.
standalone() { awk -f assets/standalone.awk "$1"; }
paste -d '\n' <(standalone "$work/phone-push.ans") <(standalone "$work/phone-challenge.ans") |
	awk 'NR % 2 == 1 { left = $0; next } { print left "    " $0 }' >assets/phone.ans
go run github.com/charmbracelet/freeze@v0.2.2 --language ansi -o assets/phone.svg assets/phone.ans
