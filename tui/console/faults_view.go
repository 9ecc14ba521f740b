package console

import (
	"strconv"
	"strings"

	"charm.land/bubbles/v2/key"
	"charm.land/lipgloss/v2"
	"github.com/charmbracelet/x/ansi"

	"github.com/pushsim/pushsim/internal/termtext"
	"github.com/pushsim/pushsim/tui/style"
)

// faultsView is the panel in place of the console's sections: its rows,
// the last action's outcome and the keys. The rows scroll when the pane
// is short; the heading says there are more.
func (c *Console) faultsView(w, h int) []string {
	st, k := c.com.Styles, c.com.Keys
	p := c.panel
	rows := c.faultRows()
	p.follow(rows)

	var top []string
	switch {
	case c.controlErr != nil:
		top = style.WrapIndented("✗ Could not read the faults: "+termtext.Line(c.controlErr.Error()), w, 2, st.Error)
	case !c.controlKnown:
		top = style.WrapIndented("Reading the server's faults…", w, 2, st.Muted)
	}
	var bottom []string
	if c.busy != "" || c.result.text != "" {
		bottom = c.resultView(w)
	}
	footer := style.ShortHelp(st, []key.Binding{k.Change, k.Apply, k.Back, k.Help}, w)
	room := max(h-1-len(top)-len(bottom)-1, 1)

	drawn := make([][]string, len(rows))
	for i, r := range rows {
		drawn[i] = c.faultRowView(i, r, i == p.cursor, w)
	}
	p.offset = min(p.offset, p.cursor)
	for p.offset < p.cursor && linesOf(drawn[p.offset:p.cursor+1]) > room {
		p.offset++
	}
	// Rows above come back when the ones below leave room.
	for p.offset > 0 && linesOf(drawn[p.offset-1:]) <= room {
		p.offset--
	}
	var body []string
	end := p.offset
	// The cursor's row is drawn even when it is taller than the room.
	for end < len(rows) && (end == p.offset || len(body)+len(drawn[end]) <= room) {
		body = append(body, drawn[end]...)
		end++
	}
	more := ""
	switch {
	case p.offset > 0 && end < len(rows):
		more = "↑↓ more"
	case p.offset > 0:
		more = "↑ more"
	case end < len(rows):
		more = "↓ more"
	}
	right := style.ShortHelp(st, []key.Binding{k.Back}, w)
	if more != "" {
		right = st.Muted.Render(more) + "  " + right
	}
	heading := style.Spread(st.Heading.Render("Server faults"), right, w)
	lines := append([]string{heading}, top...)
	lines = append(lines, style.FitBlock(strings.Join(body, "\n"), w, room)...)
	lines = append(lines, bottom...)
	lines = style.FitBlock(strings.Join(lines, "\n"), w, h-1)
	if p.confirm != nil {
		dialog := c.confirmView(p.confirm, w)
		lines = style.Overlay(lines, dialog, max((len(lines)-lipgloss.Height(dialog))/2, 0), w)
	}
	return append(lines, footer)
}

func linesOf(blocks [][]string) int {
	n := 0
	for _, b := range blocks {
		n += len(b)
	}
	return n
}

// faultRowView is one row: its name and the server's state for it, then
// for the rows with choices the choice the arrows move, and for the rows
// that act, once under the cursor, what they do.
func (c *Console) faultRowView(i int, r faultRow, selected bool, w int) []string {
	st, k := c.com.Styles, c.com.Keys
	cursor, labelStyle := "  ", st.Text
	if selected {
		cursor, labelStyle = st.Cursor.Render("▸ "), st.Selected
	}
	state, on := c.rowState(r)
	stateStyle := st.Muted
	if on {
		stateStyle = st.Status.Warning
	}
	lines := labelled(cursor+labelStyle.Render(r.label), stateStyle.Render(state), w)
	zone := "faults:row:" + strconv.Itoa(i)
	for j := range lines {
		lines[j] = style.Mark(zone, lines[j])
	}
	if r.choices() > 0 {
		choice := c.pick(r)
		picker := style.Mark("faults:less:"+strconv.Itoa(i), st.Cursor.Render("‹")) + " " +
			st.Strong.Render(c.choiceWord(r, choice)) + " " +
			style.Mark("faults:more:"+strconv.Itoa(i), st.Cursor.Render("›"))
		hint := ""
		if selected {
			hint = c.applyHint(r, choice, state)
		}
		line := "    " + picker
		if hint != "" {
			line += "  " + style.Mark("faults:apply:"+strconv.Itoa(i), st.Muted.Render(k.Apply.Help().Key+" "+hint))
		}
		return append(lines, style.WrapIndented(line, w, 4, lipgloss.NewStyle())...)
	}
	if selected {
		lines = append(lines, style.WrapIndented("    "+k.Apply.Help().Key+" "+actionWords[r.kind], w, 4, st.Muted)...)
	}
	return lines
}

// actionWords say what the rows that act do.
var actionWords = map[faultRowKind]string{
	rowAllOff:  "turns every push and webhook fault off; the clock stays",
	rowRestart: "restarts it; the phones reconnect, faults and clock stay",
	rowReset:   "deletes all its data, after asking",
}

// applyHint is what enter would do on a row with choices: nothing worth
// saying when the choice is what the server already does.
func (c *Console) applyHint(r faultRow, choice int, state string) string {
	switch {
	case r.kind == rowClock:
		return "moves it on"
	case c.choiceWord(r, choice) == state:
		return ""
	}
	return "applies"
}

// choiceWord names a row's choice as the picker shows it. A phone's "off"
// is having no rule of its own, which follows the one for all phones when
// there is one.
func (c *Console) choiceWord(r faultRow, choice int) string {
	switch r.kind {
	case rowPush:
		rule := pushChoices[choice]
		if rule.Mode == pushChoices[0].Mode && r.factorSid != "" {
			if all, ok := c.faults.PushRule(""); ok {
				return pushRuleWord(all) + " (all)"
			}
		}
		return pushRuleWord(rule)
	case rowWebhook:
		return webhookRuleWord(webhookChoices[choice])
	case rowClock:
		return signed(clockSteps[choice])
	}
	return ""
}

// rowState is the server's state for a row and whether it is a fault;
// nothing is said of a state not read yet.
func (c *Console) rowState(r faultRow) (string, bool) {
	if !c.controlKnown && r.kind != rowRestart && r.kind != rowReset {
		return "…", false
	}
	switch r.kind {
	case rowPush:
		word := pushWord(c.faults, r.factorSid)
		return word, word != "off"
	case rowWebhook:
		return webhookWord(c.faults.Webhook), c.faults.Webhook != nil
	case rowClock:
		if c.clockOffset == 0 {
			return "on time", false
		}
		return signed(c.clockOffset), true
	case rowAllOff:
		n := len(c.faults.Push)
		if c.faults.Webhook != nil {
			n++
		}
		if n == 0 {
			return "none on", false
		}
		return strconv.Itoa(n) + " on", true
	case rowRestart, rowReset:
		if c.waiting != nil && c.waiting.reset == (r.kind == rowReset) {
			return "waiting…", true
		}
	}
	return "", false
}

// labelled puts left and right on one line when they fit, else wraps left
// and puts right after it, on its last line or on a line of its own.
func labelled(left, right string, w int) []string {
	lw, rw := ansi.StringWidth(left), ansi.StringWidth(right)
	if right == "" || lw+1+rw <= w {
		return []string{style.Spread(left, right, w)}
	}
	lines := style.WrapHanging(left, w, 2)
	last := len(lines) - 1
	if ansi.StringWidth(lines[last])+1+rw <= w {
		lines[last] = style.Spread(lines[last], right, w)
		return lines
	}
	return append(lines, style.Spread("", right, w))
}

// faultsLine is the faults in force on one wrapped line, on every view of
// the console but the panel itself, so nobody forgets the world is
// broken; a click opens the panel.
func (c *Console) faultsLine(w int) []string {
	words := c.faultWords(c.faults, c.clockOffset, len(c.deliveries))
	if len(words) == 0 {
		return nil
	}
	lines := style.WrapIndented("Faults: "+strings.Join(words, " · "), w, 2, c.com.Styles.Status.Warning)
	for i, l := range lines {
		lines[i] = style.Mark("console:faults", l)
	}
	return lines
}
