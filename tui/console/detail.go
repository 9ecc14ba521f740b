package console

import (
	"maps"
	"slices"
	"strings"

	"charm.land/bubbles/v2/key"
	"github.com/charmbracelet/x/ansi"

	"github.com/pushsim/pushsim/device"
	"github.com/pushsim/pushsim/device/verifyclient"
	"github.com/pushsim/pushsim/internal/backendclient"
	"github.com/pushsim/pushsim/tui/style"
)

// The challenge list shows each challenge in two lines, shortened; the
// detail view shows the one under the cursor whole, every field wrapped:
// its SID, its phone, and the context the sign-in page sent. It takes the
// whole pane, because on a short terminal the list has only a few lines.

// openChallenge is the challenge the detail view shows, if it is open.
func (c *Console) openChallenge() (backendclient.Challenge, bool) {
	if !c.detailOpen {
		return backendclient.Challenge{}, false
	}
	ch, ok := c.selectedChallenge()
	if !ok {
		c.detailOpen = false
	}
	return ch, ok
}

func (c *Console) detailView(ch backendclient.Challenge, w, h int) []string {
	st, k := c.com.Styles, c.com.Keys
	now := c.serverNow()
	row := func(label, value string) []string { return detailField(st, label, value, w) }
	status := c.statusWord(ch)
	lines := []string{style.Spread(st.Heading.Render("Challenge"), st.StatusStyle(ch.Status).Render(status), w)}
	message := ch.Details.Message
	if message == "" {
		message = "(no message)"
	}
	lines = append(lines, style.WrapIndented(message, w, 2, st.Strong)...)
	lines = append(lines, row("Sid", st.Text.Render(ch.Sid))...)
	state := st.StatusStyle(ch.Status).Render(status)
	if ch.Status == verifyclient.ChallengePending {
		state += st.Muted.Render(" · ") + st.Countdown.Render(style.Countdown(now, ch.ExpirationDate)) + st.Muted.Render(" left")
	}
	lines = append(lines, row("Status", state)...)
	if ch.RespondedReason != "" && ch.RespondedReason != "none" {
		lines = append(lines, row("Reason", st.Text.Render(ch.RespondedReason))...)
	}
	if n := c.resends[ch.Sid]; n > 0 {
		lines = append(lines, row("Resent", st.Text.Render(plural(n, "time")))...)
	}
	if name := c.knownFactorName(ch.FactorSid); name != "" {
		lines = append(lines, row("Phone", st.Text.Render(name))...)
	}
	lines = append(lines, row("Factor", st.Text.Render(ch.FactorSid))...)
	lines = append(lines, row("Created", st.Text.Render(style.Stamp(ch.DateCreated)))...)
	lines = append(lines, row("Expires", st.Text.Render(style.Stamp(ch.ExpirationDate)))...)
	if len(ch.Details.Fields) > 0 {
		lines = append(lines, st.Heading.Render("Details"))
		for _, f := range ch.Details.Fields {
			lines = append(lines, row(f.Label, st.Text.Render(f.Value))...)
		}
	}
	if len(ch.HiddenDetails) > 0 {
		lines = append(lines, st.Heading.Render("Hidden details"))
		for _, name := range slices.Sorted(maps.Keys(ch.HiddenDetails)) {
			value := ch.HiddenDetails[name]
			if name == device.NumberMatchKey {
				value += " (the number to match)"
			}
			lines = append(lines, row(name, st.Text.Render(value))...)
		}
	}
	footer := style.ShortHelp(st, []key.Binding{k.Back, k.PickRow("challenge"), k.Resend, k.Expire, k.Help}, w)
	return append(style.FitBlock(strings.Join(lines, "\n"), w, h-1), footer)
}

// detailField is a labelled value; a label too long for the label column
// goes on its own line, its value wrapped under it.
func detailField(st *style.Styles, label, value string, w int) []string {
	if ansi.StringWidth(label) < style.LabelWidth {
		return strings.Split(style.Field(st, label, value, w), "\n")
	}
	return append([]string{st.Label.Render(label)}, style.WrapIndented("  "+value, w, 2, st.Text)...)
}

// knownFactorName is the friendly name of one of the user's factors, or
// "" for one the console has not listed.
func (c *Console) knownFactorName(sid string) string {
	for _, f := range c.factors {
		if f.Sid == sid {
			return f.FriendlyName
		}
	}
	return ""
}
