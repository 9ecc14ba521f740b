package phone

import (
	"encoding/json"
	"fmt"
	"net/http"
	"strings"
	"testing"
	"unicode"

	tea "charm.land/bubbletea/v2"

	"github.com/pushsim/pushsim/device/verifyclient"
	"github.com/pushsim/pushsim/tui/internal/tuitest"
)

// Text the phone draws is never cut at 80×24: these tests read what is on
// screen and find every character of what was meant to be there.

// screenRows are the rows inside the phone's outline, without its border
// and padding, from the status bar to the help footer.
func screenRows(t *testing.T, p *Phone) []string {
	t.Helper()
	var rows []string
	lines := strings.Split(tuitest.Plain(p.View()), "\n")
	for _, l := range lines[1 : len(lines)-1] {
		r := []rune(l)
		first, last := -1, -1
		for i, c := range r {
			if strings.ContainsRune("│┃║", c) {
				if first < 0 {
					first = i
				}
				last = i
			}
		}
		if first < 0 || last <= first {
			t.Fatalf("no outline on %q", l)
		}
		rows = append(rows, strings.TrimSuffix(strings.TrimPrefix(string(r[first+1:last]), " "), " "))
	}
	return rows
}

// bodyRows are the rows of the screen area: below the title, above the
// notice and footer rows.
func bodyRows(t *testing.T, p *Phone) []string {
	rows := screenRows(t, p)
	return rows[rowsAbove : len(rows)-rowsBelow]
}

// squeeze drops white space: where a line wrapped does not matter, that
// every character is there, in order, does.
func squeeze(s string) string {
	return strings.Map(func(r rune) rune {
		if unicode.IsSpace(r) {
			return -1
		}
		return r
	}, s)
}

// scrolledDetail is every line of the open exchange, read a page at a
// time to its end.
func scrolledDetail(t *testing.T, p *Phone) []string {
	t.Helper()
	ls := p.top().(*logScreen)
	var out []string
	for range 1000 {
		rows := bodyRows(t, p)
		at := ls.scroll
		p.Update(tea.KeyPressMsg{Code: tea.KeyPgDown})
		p.View() // settles the scroll at the end
		if ls.scroll == at {
			return append(out, rows...)
		}
		out = append(out, rows[:ls.scroll-at]...)
	}
	t.Fatal("the exchange never ended")
	return nil
}

// bigListExchange is a phone's GET of its challenges answered with a page
// of n of them: a body far longer than the log shows at first.
func bigListExchange(t *testing.T, n int) (verifyclient.Exchange, []string) {
	t.Helper()
	var page struct {
		Challenges []map[string]any `json:"challenges"`
	}
	var sids []string
	for i := range n {
		sid := fmt.Sprintf("YC%032x", i+1)
		sids = append(sids, sid)
		page.Challenges = append(page.Challenges, map[string]any{
			"sid": sid, "factor_sid": tuitest.FactorSid, "status": "pending",
			"url": "http://127.0.0.1:4010/v2/Services/" + tuitest.ServiceSid + "/Entities/" + tuitest.Identity + "/Challenges/" + sid,
		})
	}
	body, err := json.Marshal(page)
	if err != nil {
		t.Fatal(err)
	}
	return verifyclient.Exchange{
		Method: "GET", URL: "http://127.0.0.1:4010/v2/Services/" + tuitest.ServiceSid + "/Entities/" + tuitest.Identity + "/Challenges",
		StatusCode: 200, ResponseHeader: http.Header{"Content-Type": {"application/json"}}, ResponseBody: body,
	}, sids
}

// The HTTP log shows a long body's first lines and says how to see the
// rest; e shows it whole, every SID on one line and every URL whole
// (broken at '/'), and e again goes back.
func TestLogShowsWholeBodies(t *testing.T) {
	clock := newTestClock()
	p := newTestPhone(t, newTestDevice(t, nil, clock.Now, nil), Options{})
	ex, sids := bigListExchange(t, 20)
	p.Device().Exchanges().RecordAt(clock.Now(), ex)
	p.Update(openLogMsg{tagged: p.c.tag()})
	p.Update(tuitest.Press("enter"))

	cut := scrolledDetail(t, p)
	if got := squeeze(strings.Join(cut, "\n")); strings.Contains(got, sids[len(sids)-1]) || !strings.Contains(got, "eshowsthewholebody") {
		t.Fatalf("the cut body does not say how to see the rest:\n%s", strings.Join(cut, "\n"))
	}
	if footer := screenRows(t, p); !strings.Contains(footer[len(footer)-1], "e whole bodies") {
		t.Fatalf("the footer does not offer e: %q", footer[len(footer)-1])
	}

	p.Update(tuitest.Press("g"))
	p.Update(tuitest.Press("e"))
	whole := scrolledDetail(t, p)
	text := squeeze(strings.Join(whole, "\n"))
	var pretty strings.Builder
	for _, l := range strings.Split(string(indentJSON(t, ex.ResponseBody)), "\n") {
		pretty.WriteString(squeeze(l))
	}
	if !strings.Contains(text, pretty.String()) {
		t.Fatalf("the whole body is not on screen, in order:\n%s", strings.Join(whole, "\n"))
	}
	for _, sid := range sids {
		found := false
		for _, l := range whole {
			found = found || strings.Contains(l, sid)
		}
		if !found {
			t.Fatalf("%s is split across lines:\n%s", sid, strings.Join(whole, "\n"))
		}
	}
	for _, l := range whole {
		if i := strings.Index(l, "/Challenges/"); i >= 0 && !strings.HasSuffix(strings.TrimSpace(l), "/Challenges/") {
			if rest := strings.TrimSpace(l[i+len("/Challenges/"):]); !strings.HasPrefix(rest, "YC") || len(rest) < 34 {
				t.Fatalf("a URL breaks inside a SID: %q", l)
			}
		}
	}
	if footer := screenRows(t, p); !strings.Contains(footer[len(footer)-1], "e short bodies") {
		t.Fatalf("the footer does not offer to shorten: %q", footer[len(footer)-1])
	}

	p.Update(tuitest.Press("e"))
	p.Update(tuitest.Press("g"))
	if again := scrolledDetail(t, p); len(again) != len(cut) {
		t.Fatalf("e again shows %d lines, not the %d of the cut body", len(again), len(cut))
	}
}

func indentJSON(t *testing.T, raw []byte) []byte {
	t.Helper()
	var v any
	if err := json.Unmarshal(raw, &v); err != nil {
		t.Fatal(err)
	}
	out, err := json.MarshalIndent(v, "", "  ")
	if err != nil {
		t.Fatal(err)
	}
	return out
}

// The factor screen shows the user's identity whole, as it is on the
// wire: the factor list may shorten it, this screen does not.
func TestFactorScreenShowsTheWholeIdentity(t *testing.T) {
	p, _ := offlinePhone(t)
	if got := squeeze(strings.Join(bodyRows(t, p), "\n")); !strings.Contains(got, "User"+tuitest.Identity) {
		t.Fatalf("the identity is not whole at 80×24:\n%s", strings.Join(bodyRows(t, p), "\n"))
	}
}

// A notice too long for its line wraps instead of losing its end: an
// error's headline and its detail, and a toast.
func TestNoticesWrapWhole(t *testing.T) {
	p, _ := offlinePhone(t)
	message := "Invalid parameter: the challenge YC00000000000000000000000000000003 of factor " + tuitest.FactorSid + " cannot be answered"
	api := &verifyclient.APIError{Code: 60200, Message: message, Status: 400}
	err := verifyclient.Wrap(verifyclient.CodeNetwork, &verifyclient.HTTPError{StatusCode: 400, API: api})
	p.Update(answeredMsg{tagged: p.c.tag(), challengeSid: "YCx", err: fmt.Errorf("approve: %w", err)})
	rows := screenRows(t, p)
	text := strings.Join(rows, "\n")
	for _, want := range []string{"✗ Code: 60200 - " + message, "SDK 60401 · HTTP 400 · esc dismiss"} {
		if !strings.Contains(squeeze(text), squeeze(want)) {
			t.Fatalf("%q is not whole at 80×24:\n%s", want, text)
		}
	}
	for _, sid := range []string{"YC00000000000000000000000000000003", tuitest.FactorSid} {
		if !strings.Contains(text, sid) {
			t.Fatalf("%s is split:\n%s", sid, text)
		}
	}
	if got := rows[len(rows)-1]; !strings.Contains(got, "esc dismiss") {
		t.Fatalf("the error does not end on the last row: %q", got)
	}
	p.Update(tuitest.Press("esc"))

	toast := "Approved silently: “Sign in to Acme from Lisbon, Portugal on Firefox 140 on macOS?”"
	p.showToast(toast)
	rows = screenRows(t, p)
	if !strings.Contains(squeeze(strings.Join(rows, "\n")), squeeze("✓ "+toast)) {
		t.Fatalf("the toast is not whole:\n%s", strings.Join(rows, "\n"))
	}
	if got := rows[len(rows)-1]; !strings.HasSuffix(got, "? help") && !strings.Contains(got, "? help") {
		t.Fatalf("a toast hid the footer: %q", got)
	}
}

// When the footer cannot hold every key of a screen, it keeps ? help,
// which lists the rest, last.
func TestFooterKeepsHelpLast(t *testing.T) {
	clock := newTestClock()
	p := newTestPhone(t, newTestDevice(t, nil, clock.Now, nil), Options{})
	loadFixtureFactor(p) // the factor list: five keys and ?
	rows := screenRows(t, p)
	footer := strings.TrimSpace(rows[len(rows)-1])
	if !strings.HasSuffix(footer, "… ? help") || strings.Contains(footer, "x delete") {
		t.Fatalf("the footer reads %q", footer)
	}
}
