package faults

import (
	"encoding/json"
	"testing"
	"time"
)

func TestFactorRuleWinsOverTheRuleForAll(t *testing.T) {
	var s Set
	if err := s.SetPush(PushRule{Mode: PushDrop}); err != nil {
		t.Fatal(err)
	}
	if err := s.SetPush(PushRule{FactorSid: "YF1", Mode: PushDelay, Delay: 30 * time.Second}); err != nil {
		t.Fatal(err)
	}
	if r, ok := s.Push("YF1"); !ok || r.Mode != PushDelay || r.Delay != 30*time.Second {
		t.Errorf("YF1: %+v %v, want its own delay", r, ok)
	}
	if r, ok := s.Push("YF2"); !ok || r.Mode != PushDrop {
		t.Errorf("YF2: %+v %v, want the drop for all", r, ok)
	}
	s.ClearPush("")
	if _, ok := s.Push("YF2"); ok {
		t.Error("YF2 still has a fault after the rule for all was cleared")
	}
	if _, ok := s.Push("YF1"); !ok {
		t.Error("clearing the rule for all cleared YF1's own rule")
	}
}

func TestRefusesNonsense(t *testing.T) {
	var s Set
	for _, r := range []PushRule{{Mode: "lose"}, {Mode: PushDelay}, {Mode: PushDelay, Delay: -time.Second}, {Mode: PushDelay, Delay: MaxPushDelay + 1}} {
		if err := s.SetPush(r); err == nil {
			t.Errorf("SetPush(%+v) accepted", r)
		}
	}
	for _, r := range []WebhookRule{{Mode: "slow"}, {Mode: WebhookStatus}, {Mode: WebhookStatus, Status: 600}} {
		if err := s.SetWebhook(r); err == nil {
			t.Errorf("SetWebhook(%+v) accepted", r)
		}
	}
	if s.Snapshot().Any() {
		t.Errorf("refused rules were kept: %+v", s.Snapshot())
	}
}

func TestSnapshotJSON(t *testing.T) {
	var s Set
	b, _ := json.Marshal(s.Snapshot())
	if string(b) != `{"push":[],"webhook":null}` {
		t.Errorf("no faults: %s", b)
	}
	s.SetPush(PushRule{FactorSid: "YF1", Mode: PushDuplicate})
	s.SetPush(PushRule{Mode: PushDelay, Delay: 90 * time.Second})
	s.SetWebhook(WebhookRule{Mode: WebhookStatus, Status: 503})
	b, _ = json.Marshal(s.Snapshot())
	want := `{"push":[{"factor_sid":"","mode":"delay","delay":"1m30s"},{"factor_sid":"YF1","mode":"duplicate"}],"webhook":{"mode":"status","status":503}}`
	if string(b) != want {
		t.Errorf("got  %s\nwant %s", b, want)
	}
	s.Clear()
	if s.Snapshot().Any() {
		t.Error("Clear left faults on")
	}
}
