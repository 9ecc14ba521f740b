package device

import (
	"testing"
	"time"
)

// Changing the poll interval moves a poller that is already running: the
// settings screen changes it while the app is open.
func TestSetPollIntervalMovesRunningTickers(t *testing.T) {
	p := newPollTicker(time.Hour)
	ticks, stop := p.ticker(time.Hour)
	defer stop()
	p.set(5 * time.Millisecond)
	select {
	case <-ticks:
	case <-time.After(5 * time.Second):
		t.Fatal("the running ticker kept the old interval")
	}
	if got := p.current(); got != 5*time.Millisecond {
		t.Fatalf("interval %s", got)
	}
}

func TestPollIntervalSetting(t *testing.T) {
	d, err := New(Config{ServerURL: "http://127.0.0.1:9", Home: t.TempDir() + "/phone", PollInterval: 2 * time.Second})
	if err != nil {
		t.Fatal(err)
	}
	if got := d.PollInterval(); got != 2*time.Second {
		t.Fatalf("starts at %s", got)
	}
	d.SetPollInterval(10 * time.Second)
	d.SetPollInterval(0) // not an interval: ignored
	if got := d.PollInterval(); got != 10*time.Second {
		t.Fatalf("after setting 10s and 0: %s", got)
	}
}
