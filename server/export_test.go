package server_test

import (
	"context"
	"testing"

	"github.com/pushsim/pushsim/device/sdkjose"
	"github.com/pushsim/pushsim/server/store"
)

func signFields(p *phone, body []byte, fields []string, status string) (string, error) {
	return sdkjose.ChallengeAuthPayload(p.key, body, fields, status)
}

func countOutbox(t *testing.T, h *harness, kind string) int {
	return len(outboxItems(t, h, kind))
}

func outboxItems(t *testing.T, h *harness, kind string) []store.OutboxItem {
	t.Helper()
	var items []store.OutboxItem
	err := h.srv.Store().Read(context.Background(), func(tx store.Tx) (err error) {
		items, err = tx.RecentOutbox(kind, 100000)
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	return items
}

func countOutboxState(t *testing.T, h *harness, kind, state string) (n int) {
	for _, o := range outboxItems(t, h, kind) {
		if o.State == state {
			n++
		}
	}
	return n
}
