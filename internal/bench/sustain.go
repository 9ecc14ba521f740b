package bench

import (
	"bufio"
	"context"
	"os"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/pushsim/pushsim/server"
	"github.com/pushsim/pushsim/server/store"
)

// sustain creates cfg.Sustain challenges from cfg.Clients clients and
// compares the create rate of the first and the last tenth, watching the
// write-ahead log and the process's resident memory on the way.
func (l *lab) sustain(ctx context.Context, cfg Config, srv *server.Server, res *Result) error {
	if len(l.phones) == 0 {
		return errNoPhones
	}
	tenth := cfg.sustainTenth()
	var mu sync.Mutex
	marks := map[int64]time.Time{} // creates done -> when
	walSize := func() int64 { return 0 }
	if srv != nil {
		if st, ok := srv.Store().(*store.SQLite); ok {
			walSize = st.WALSize
			res.SustainWALLimit = store.DefaultWALLimit
		}
	}
	// Only an in-process server's memory is this process's; a server at
	// a URL is weighed by whoever runs it.
	inProcess := srv != nil
	if inProcess {
		res.RSSStartBytes = rss()
	}
	watch, stopWatch := context.WithCancel(ctx)
	watched := make(chan struct{})
	go func() {
		defer close(watched)
		t := time.NewTicker(100 * time.Millisecond)
		defer t.Stop()
		for {
			res.SustainWALMaxBytes = max(res.SustainWALMaxBytes, walSize())
			select {
			case <-watch.Done():
				return
			case <-t.C:
			}
		}
	}()
	start := time.Now()
	err := l.createMany(ctx, cfg.Clients, cfg.Sustain, func(n int64) {
		if n == int64(tenth) || n == int64(cfg.Sustain-tenth) || n == int64(cfg.Sustain) {
			mu.Lock()
			marks[n] = time.Now()
			// The tenths compared get profiles of their own.
			switch n {
			case int64(tenth):
				cfg.Phase("sustain-middle")
			case int64(cfg.Sustain - tenth):
				cfg.Phase("sustain-last")
			}
			mu.Unlock()
		}
		if n%10000 == 0 {
			l.progress(cfg, n)
		}
	})
	stopWatch()
	<-watched
	if err != nil {
		return err
	}
	res.SustainCreates = cfg.Sustain
	res.SustainFirstPerS = float64(tenth) / marks[int64(tenth)].Sub(start).Seconds()
	res.SustainLastPerS = float64(tenth) / marks[int64(cfg.Sustain)].Sub(marks[int64(cfg.Sustain-tenth)]).Seconds()
	if inProcess {
		res.RSSEndBytes = rss()
	}
	return nil
}

func (l *lab) progress(cfg Config, n int64) {
	if cfg.Progress != nil {
		cfg.Progress.Write([]byte("  " + strconv.FormatInt(n, 10) + " created\n"))
	}
}

// rss is the process's resident set size from /proc (Linux); 0 elsewhere.
func rss() int64 {
	f, err := os.Open("/proc/self/status")
	if err != nil {
		return 0
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		if rest, ok := strings.CutPrefix(sc.Text(), "VmRSS:"); ok {
			kb, _ := strconv.ParseInt(strings.TrimSuffix(strings.TrimSpace(rest), " kB"), 10, 64)
			return kb << 10
		}
	}
	return 0
}

// sustainTenth is how many creates each end of a sustained run, and its
// control, are timed over.
func (c Config) sustainTenth() int { return max(c.Sustain/10, 1) }

// controlRate is the create rate of a fresh in-process server over n
// creates, with the sustained run's phones and clients. The machine's
// speed moves by up to a third between minutes, so the first tenth of a
// long run, a minute before its last, says less about what the data's
// growth cost than a fresh store measured right after the last tenth.
func controlRate(ctx context.Context, cfg Config, n int) (float64, error) {
	_, target, stop, err := startServer(ctx, cfg)
	if err != nil {
		return 0, err
	}
	defer stop()
	l, err := newLab(ctx, target, cfg)
	if err != nil {
		return 0, err
	}
	defer l.close()
	if err := l.enroll(ctx, cfg.Phones, cfg.Clients); err != nil {
		return 0, err
	}
	if len(l.phones) == 0 {
		return 0, errNoPhones
	}
	start := time.Now()
	err = l.createMany(ctx, cfg.Clients, n, func(int64) {})
	return float64(n) / time.Since(start).Seconds(), err
}

// createMany creates n challenges from clients clients, for the phones in
// turn, and calls created with the count done after each.
func (l *lab) createMany(ctx context.Context, clients, n int, created func(done int64)) error {
	var next, done atomic.Int64
	return parallel(ctx, clients, clients, func(int) error {
		for i := next.Add(1); i <= int64(n); i = next.Add(1) {
			if _, err := l.createChallenge(ctx, l.phones[int(i)%len(l.phones)], loadTestMessage); err != nil {
				return err
			}
			created(done.Add(1))
		}
		return nil
	})
}
