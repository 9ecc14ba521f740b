#!/usr/bin/env bash
# Regenerates the README's picture of `pushsim demo` from the real program:
# the demo runs in a private tmux, keys are sent as a user would press them
# (sign in and approve on the phone, then sign in with number matching and
# start typing the number), and the screen is captured with its colours
# and turned into SVG with freeze. Run from the repository root:
#
#   bash assets/demo-capture.sh
#
# Needs tmux. Writes assets/demo.ans and assets/demo.svg.
set -euo pipefail

work=$(mktemp -d)
sock="pushsim-demo-capture-$$"
bin="$work/pushsim"

cleanup() {
	tmux -L "$sock" kill-server 2>/dev/null || true
	rm -rf "$work"
}
trap cleanup EXIT

go build -o "$bin" ./cmd/pushsim

keys() { tmux -L "$sock" send-keys -t demo "$@"; sleep 0.5; }
screen() { tmux -L "$sock" capture-pane -t demo -p; }
waitfor() { # text on screen, within five seconds
	for _ in $(seq 50); do screen | grep -q "$1" && return; sleep 0.1; done
	echo "demo-capture: \"$1\" never appeared" >&2
	screen >&2
	exit 1
}

tmux -L "$sock" new-session -d -s demo -x 120 -y 36 "$bin demo --data $work/state"
waitfor verified
keys i     # the console signs alice in
waitfor "Sign-in pushed"
keys Tab   # over to the phone
keys Enter # open the push's banner
keys a     # approve
waitfor "✓ challenge.approved"
keys Tab   # back to the console
keys m     # sign in with number matching
waitfor "Sign-in page shows"
keys Tab
keys Enter
keys a     # the phone asks for the number
waitfor "Type the number"
# Type the first digit of the code the console shows.
code=$(screen | sed -n 's/.*Sign-in page shows *\([0-9][0-9]\).*/\1/p' | head -1)
keys "${code:0:1}"
sleep 1.2 # let the clock and countdowns settle on a whole second
tmux -L "$sock" capture-pane -t demo -p -e >"$work/demo.ans"
awk -f assets/standalone.awk "$work/demo.ans" >assets/demo.ans
go run github.com/charmbracelet/freeze@v0.2.2 --language ansi -o assets/demo.svg assets/demo.ans
