package demo

import (
	"fmt"
	"strings"
	"testing"
)

// TestDemoSignInApproveWebhook is the demo end to end: "Sign in" on the
// console raises the phone's badge, a key approves on the phone, and the
// console shows the challenge approved and the signed webhook that said so.
func TestDemoSignInApproveWebhook(t *testing.T) {
	r := startDemo(t, Options{}, 140, 40)
	r.enrolled()

	s := r.signIn("i", "Sign-in pushed to 1 phone")
	sid := s.console.Newest
	r.until("the phone's badge", func(s demoSnapshot) bool {
		return s.phones[0].Badge == 1 && strings.Contains(statusBarOf(s.phones[0].frame), " 1 ")
	})

	r.openPendingChallenge(0)
	r.keys("a")
	r.until("the console to show the approval and its webhook", func(s demoSnapshot) bool {
		return s.console.Statuses[sid] == "approved" && strings.Contains(s.left, "✓ challenge.approved")
	})
	r.until("the phone's badge to go", func(s demoSnapshot) bool { return s.phones[0].Badge == 0 })
	if got := r.srv.challengeStatus("alice", sid); got != "approved" {
		t.Fatalf("the server has the challenge %s", got)
	}
}

// TestDemoNumberMatching: the phone asks for the sign-in page's number; a
// wrong one denies the challenge, the right one approves.
func TestDemoNumberMatching(t *testing.T) {
	r := startDemo(t, Options{}, 140, 40)
	r.enrolled()

	s := r.signIn("m", "Sign-in page shows")
	wrongSid, code := s.console.Newest, s.console.Code
	if len(code) != 2 || s.console.Statuses[wrongSid] != "pending" {
		t.Fatalf("number-matching sign-in: code %q, status %q", code, s.console.Statuses[wrongSid])
	}
	if strings.Contains(r.probe.now().phones[0].frame, code+" ") {
		t.Fatalf("the phone shows the code %s before it is typed:\n%s", code, s.phones[0].frame)
	}
	r.openPendingChallenge(0)
	r.keys("a")
	r.until("the number prompt", func(s demoSnapshot) bool {
		return s.phones[0].NumberPrompt && strings.Contains(s.phones[0].frame, "Type the number shown")
	})
	r.keys(strings.Split(otherCode(code), "")...)
	r.keys("enter")
	s = r.until("the wrong number to deny", func(s demoSnapshot) bool {
		return s.console.Statuses[wrongSid] == "denied" && strings.Contains(s.phones[0].frame, "wrong number")
	})

	s = r.signIn("m", "Sign-in page shows")
	rightSid, code := s.console.Newest, s.console.Code
	if rightSid == wrongSid {
		t.Fatal("the second sign-in made no new challenge")
	}
	r.openPendingChallenge(0)
	r.keys("a")
	r.until("the number prompt", func(s demoSnapshot) bool { return s.phones[0].NumberPrompt })
	r.keys(strings.Split(code, "")...)
	r.keys("enter")
	r.until("the right number to approve", func(s demoSnapshot) bool { return s.console.Statuses[rightSid] == "approved" })
	if got := r.srv.challengeStatus("alice", wrongSid); got != "denied" {
		t.Fatalf("the mistyped challenge is %s on the server", got)
	}
}

// TestDemoTwoPhones: one sign-in reaches both phones; approving on one
// withdraws it from the other, which says it was answered elsewhere.
func TestDemoTwoPhones(t *testing.T) {
	r := startDemo(t, Options{Phones: 2}, 160, 40)
	r.enrolled()

	r.signIn("i", "Sign-in pushed to 2 phones")
	r.until("both badges", func(s demoSnapshot) bool { return s.phones[0].Badge == 1 && s.phones[1].Badge == 1 })

	r.openPendingChallenge(0)
	r.keys("a")
	r.until("the other phone to hear it was answered", func(s demoSnapshot) bool {
		return s.phones[1].Badge == 0 && strings.Contains(s.phones[1].frame, "Answered on another device")
	})
	r.until("the console to list one approved, one not needed", func(s demoSnapshot) bool {
		words := map[string]int{}
		for _, w := range s.console.Statuses {
			words[w]++
		}
		return words["approved"] == 1 && words["not needed"] == 1 && len(s.console.Statuses) == 2
	})
	r.until("the approving phone's badge to go", func(s demoSnapshot) bool { return s.phones[0].Badge == 0 })
}

// TestDemoPushBombingResendExpire: a burst is cut off at five pending
// challenges with Verify's 429; resends stop at three; Expire now ends
// the selected challenge.
func TestDemoPushBombingResendExpire(t *testing.T) {
	r := startDemo(t, Options{}, 140, 40)
	r.enrolled()

	s := r.action("b", "5 pushed, 3 refused")
	if !strings.Contains(s.left, "429 · 20429") {
		t.Fatalf("the refusal is not shown:\n%s", s.left)
	}
	r.until("five pending", func(s demoSnapshot) bool { return s.phones[0].Badge == 5 && len(s.console.Statuses) == 5 })

	for n := 1; n <= 3; n++ {
		r.action("p", fmt.Sprintf("(resend %d)", n))
	}
	r.action("p", "60309")

	sid := r.probe.now().console.Newest
	r.action("c", "Expired")
	r.until("the console to list it expired", func(s demoSnapshot) bool { return s.console.Statuses[sid] == "expired" })
}

// otherCode is a two-digit code that is not code.
func otherCode(code string) string {
	if code == "42" {
		return "24"
	}
	return "42"
}

// statusBarOf is the phone's first row inside its outline.
func statusBarOf(frame string) string {
	for _, l := range strings.Split(frame, "\n") {
		if strings.Contains(l, "│") && strings.Contains(l, ":") {
			return l
		}
	}
	return ""
}
