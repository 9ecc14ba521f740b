// Package device is the simulated phone: the Verify Push SDK's surface
// (CreateFactor, VerifyFactor, UpdateFactor, DeleteFactor, GetAllFactors,
// GetChallenge, GetAllChallenges, UpdateChallenge, ClearLocalStorage) on top
// of a file keystore and the wire client, plus what the sample app adds
// around the SDK: enrolment through an access-token URL, a poller for
// pending challenges, silent approval of pushed challenges, push-token
// refresh, and phone settings (airplane mode, a skewed clock, foreground).
//
// Everything that happens is reported on one event stream (Subscribe), which
// UIs and scripts consume. Pushes are fed in by whoever receives them, through
// HandlePush. The phone talks to any Verify v2 server given a base URL and an
// access-token URL; with no push it polls.
package device

import (
	"crypto/rand"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strings"
	"sync"
	"time"

	"github.com/pushsim/pushsim/device/keystore"
	"github.com/pushsim/pushsim/device/verifyclient"
)

// The SDK's models, as the phone exposes them.
type (
	Factor        = keystore.Factor
	Challenge     = verifyclient.Challenge
	ChallengeList = verifyclient.ChallengeList
	ListParams    = verifyclient.ListParams
)

// DefaultPollInterval is how often the phone lists pending challenges.
const DefaultPollInterval = 5 * time.Second

// ErrAirplaneMode is the cause of every network failure in airplane mode.
var ErrAirplaneMode = errors.New("airplane mode is on")

// Config configures a Device.
type Config struct {
	// Home is the app's data directory; deleting it uninstalls the app.
	Home string
	// ServerURL is a pushsim server's base URL, e.g. http://127.0.0.1:4010.
	// It stands for the three addresses a phone of that server needs, so
	// no caller spells them out: BaseURL, AccessTokenURL and PushURL
	// default to its Verify API, its sample backend's enrolment endpoint
	// and its push service.
	ServerURL string
	// BaseURL is the Verify v2 root, e.g. http://127.0.0.1:4010/v2/.
	BaseURL string
	// AccessTokenURL is the app backend's enrolment endpoint, called as the
	// sample app does: POST form identity=... answering {token, serviceSid,
	// identity, factorType}.
	AccessTokenURL string
	// PushURL is the push service the app registers with when push is on
	// (launch with it as LaunchOptions.PushURL). Empty: the phone knows no
	// push service and can only poll.
	PushURL string
	// App names the app in User-Agent and Config.AppId.
	App verifyclient.App
	// HTTPClient is the phone's network; default a client with a 30 s
	// timeout. Airplane mode is enforced on top of it.
	HTTPClient *http.Client
	// Clock is the phone's clock before any offset; default time.Now.
	Clock func() time.Time
	// Rand is the randomness for key aliases and push secrets; default
	// crypto/rand. Keys themselves always come from crypto/rand.
	Rand io.Reader
	// PollInterval is the time between polls to start with; default
	// DefaultPollInterval. SetPollInterval changes it.
	PollInterval time.Duration
	// Ticker makes the poll ticker; default one at PollInterval that
	// follows SetPollInterval. Tests pass a channel they drive.
	Ticker func(time.Duration) (ticks <-chan time.Time, stop func())
	// Observer sees every HTTP exchange as it ends, as Exchanges keeps
	// it: with number-matching codes masked in JSON bodies.
	Observer func(verifyclient.Exchange)
}

// Device is one simulated phone with the app installed. It is safe for
// concurrent use.
type Device struct {
	cfg    Config
	store  *keystore.Store
	client *verifyclient.Client
	http   *http.Client
	rand   io.Reader

	offsetMu sync.Mutex // orders SetClockOffset calls: store, then memory

	mu          sync.Mutex
	clockOffset time.Duration
	airplane    bool
	foreground  bool
	seen        map[string]*seenChallenge // by challenge SID

	nudge     chan struct{} // asks the poller to poll now
	netChange chan struct{} // closed and replaced when airplane mode flips

	poll      *pollTicker
	exchanges *ExchangeLog

	subMu sync.Mutex
	subs  map[*subscriber]struct{}
}

// New opens the phone's home directory and prepares the client. It makes no
// network calls.
func New(cfg Config) (*Device, error) {
	if cfg.ServerURL != "" {
		server := strings.TrimRight(cfg.ServerURL, "/")
		push, err := PushURL(server)
		if err != nil {
			return nil, err
		}
		if cfg.BaseURL == "" {
			cfg.BaseURL = server + "/v2/"
		}
		if cfg.AccessTokenURL == "" {
			cfg.AccessTokenURL = server + "/backend/access-token"
		}
		if cfg.PushURL == "" {
			cfg.PushURL = push
		}
	}
	if cfg.AccessTokenURL == "" {
		return nil, errors.New("device: no access-token URL configured")
	}
	if cfg.Clock == nil {
		cfg.Clock = time.Now
	}
	if cfg.PollInterval <= 0 {
		cfg.PollInterval = DefaultPollInterval
	}
	random := cfg.Rand
	if random == nil {
		random = rand.Reader
	}
	d := &Device{
		cfg:       cfg,
		rand:      &lockedReader{r: random},
		seen:      map[string]*seenChallenge{},
		nudge:     make(chan struct{}, 1),
		netChange: make(chan struct{}),
		subs:      map[*subscriber]struct{}{},
		poll:      newPollTicker(cfg.PollInterval),
		exchanges: NewExchangeLog(0, cfg.Clock),
	}
	if d.cfg.Ticker == nil {
		d.cfg.Ticker = d.poll.ticker
	}
	store, err := keystore.Open(cfg.Home, d.rand)
	if err != nil {
		return nil, verifyclient.Wrap(verifyclient.CodeStorage, err)
	}
	d.store = store
	settings, err := store.Settings()
	if err != nil {
		return nil, verifyclient.Wrap(verifyclient.CodeStorage, err)
	}
	// The offset comes back with the correction learned under it.
	d.clockOffset = settings.ClockOffset

	base := cfg.HTTPClient
	if base == nil {
		base = &http.Client{Timeout: 30 * time.Second}
	}
	phoneNet := *base
	phoneNet.Transport = &airplaneTransport{d: d, next: base.Transport}
	d.http = &phoneNet

	d.client, err = verifyclient.New(verifyclient.Config{
		BaseURL:        cfg.BaseURL,
		App:            cfg.App,
		HTTPClient:     d.http,
		Now:            d.now,
		TimeCorrection: store,
		Observer:       d.observe,
	})
	if err != nil {
		return nil, err
	}
	return d, nil
}

// observe records an HTTP exchange the phone made, with any
// number-matching code masked: the log is something the phone shows.
func (d *Device) observe(e verifyclient.Exchange) {
	e.RequestBody = maskNumberMatch(e.RequestBody)
	e.ResponseBody = maskNumberMatch(e.ResponseBody)
	d.exchanges.Record(e)
	if d.cfg.Observer != nil {
		d.cfg.Observer(e)
	}
}

// Exchanges is the log of the phone's latest HTTP exchanges, for an HTTP
// log screen and for showing what a step put on the wire.
func (d *Device) Exchanges() *ExchangeLog { return d.exchanges }

// Home is the app's data directory.
func (d *Device) Home() string { return d.store.Dir() }

// AccessTokenURL is the app backend's enrolment endpoint the phone asks
// for access tokens.
func (d *Device) AccessTokenURL() string { return d.cfg.AccessTokenURL }

// PushURL is the push service the app registers with when push is on;
// empty when the phone knows none.
func (d *Device) PushURL() string { return d.cfg.PushURL }

// Now is the phone's own clock: the clock it was given, skewed by the
// user's clock offset. It is what the phone's status bar shows.
func (d *Device) Now() time.Time { return d.now() }

// now is the phone's clock: the injected clock plus the user's offset.
func (d *Device) now() time.Time {
	d.mu.Lock()
	offset := d.clockOffset
	d.mu.Unlock()
	return d.cfg.Clock().Add(offset)
}

// SetClockOffset skews the phone's clock, as changing the time in the
// phone's settings would, and remembers it across restarts. The time
// correction learned under the old offset is wrong under the new one, so
// a new offset clears it (both in one write) and the phone polls at once:
// the poll's 401 teaches the SDK the new correction before anything
// judges expiry with the uncorrected clock for long.
func (d *Device) SetClockOffset(offset time.Duration) error {
	d.offsetMu.Lock()
	defer d.offsetMu.Unlock()
	cleared, err := d.store.SetClockOffset(offset)
	if err != nil {
		return verifyclient.Wrap(verifyclient.CodeStorage, err)
	}
	d.mu.Lock()
	d.clockOffset = offset
	d.mu.Unlock()
	if !cleared {
		return nil
	}
	if err := d.client.ReloadTimeCorrection(); err != nil {
		return err
	}
	d.pollSoon()
	return nil
}

// ClockOffset is the current skew of the phone's clock.
func (d *Device) ClockOffset() time.Duration {
	d.mu.Lock()
	defer d.mu.Unlock()
	return d.clockOffset
}

// TimeCorrection is the server-minus-phone difference the SDK has learned,
// in seconds.
func (d *Device) TimeCorrection() int64 { return d.client.TimeCorrection() }

// SetAirplaneMode cuts the phone off the network (every call fails with
// ErrAirplaneMode and polling pauses) or reconnects it, which polls at once.
func (d *Device) SetAirplaneMode(on bool) {
	d.mu.Lock()
	changed := d.airplane != on
	d.airplane = on
	if changed {
		close(d.netChange)
		d.netChange = make(chan struct{})
	}
	d.mu.Unlock()
	if !on {
		d.pollSoon()
	}
}

// network reports whether the phone is online and a channel that is closed
// when that changes.
func (d *Device) network() (online bool, changed <-chan struct{}) {
	d.mu.Lock()
	defer d.mu.Unlock()
	return !d.airplane, d.netChange
}

// AirplaneMode reports whether the phone is offline.
func (d *Device) AirplaneMode() bool {
	d.mu.Lock()
	defer d.mu.Unlock()
	return d.airplane
}

// SetForeground moves the app to the foreground (which polls at once, as
// apps poll when opened) or the background. Silent approval works only in
// the foreground.
func (d *Device) SetForeground(on bool) {
	d.mu.Lock()
	d.foreground = on
	d.mu.Unlock()
	if on {
		d.pollSoon()
	}
}

// Foreground reports whether the app is in the foreground.
func (d *Device) Foreground() bool {
	d.mu.Lock()
	defer d.mu.Unlock()
	return d.foreground
}

// SetSilentApproval turns silent approval on or off for a factor. It is
// remembered across restarts.
func (d *Device) SetSilentApproval(factorSid string, on bool) error {
	err := d.store.UpdateSettings(func(s *keystore.Settings) {
		kept := s.SilentApproval[:0]
		for _, sid := range s.SilentApproval {
			if sid != factorSid {
				kept = append(kept, sid)
			}
		}
		if on {
			kept = append(kept, factorSid)
		}
		s.SilentApproval = kept
	})
	if err != nil {
		return verifyclient.Wrap(verifyclient.CodeStorage, err)
	}
	return nil
}

// SilentApproval reports whether silent approval is on for a factor.
func (d *Device) SilentApproval(factorSid string) (bool, error) {
	s, err := d.store.Settings()
	if err != nil {
		return false, verifyclient.Wrap(verifyclient.CodeStorage, err)
	}
	for _, sid := range s.SilentApproval {
		if sid == factorSid {
			return true, nil
		}
	}
	return false, nil
}

// PushToken is the registration token new factors are created with, as
// Verify shows it (config.notification_token); empty means no push. It is
// not what the phone connects to the push service with: that is the secret
// it was derived from, which never leaves the device otherwise.
func (d *Device) PushToken() (string, error) {
	s, err := d.store.Settings()
	if err != nil {
		return "", verifyclient.Wrap(verifyclient.CodeStorage, err)
	}
	return s.PushToken, nil
}

// airplaneTransport fails every request while airplane mode is on.
type airplaneTransport struct {
	d    *Device
	next http.RoundTripper
}

func (t *airplaneTransport) RoundTrip(r *http.Request) (*http.Response, error) {
	if t.d.AirplaneMode() {
		if r.Body != nil {
			r.Body.Close()
		}
		return nil, ErrAirplaneMode
	}
	next := t.next
	if next == nil {
		next = http.DefaultTransport
	}
	return next.RoundTrip(r)
}

// lockedReader lets the keystore and the push-secret generator share one
// reader that need not be safe for concurrent use.
type lockedReader struct {
	mu sync.Mutex
	r  io.Reader
}

func (l *lockedReader) Read(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.r.Read(p)
}

// storageError wraps a keystore failure as the SDK's 60403, with the SDK's
// "Factor not found" for a missing factor.
func storageError(err error) error {
	if errors.Is(err, keystore.ErrNotFound) {
		return verifyclient.Wrap(verifyclient.CodeStorage, fmt.Errorf("Factor not found: %w", err))
	}
	return verifyclient.Wrap(verifyclient.CodeStorage, err)
}

// credentials loads a factor and its key.
func (d *Device) credentials(factorSid string) (verifyclient.Credentials, Factor, error) {
	if factorSid == "" {
		return verifyclient.Credentials{}, Factor{}, verifyclient.Wrap(verifyclient.CodeInput, verifyclient.ErrEmptyFactorSid)
	}
	f, err := d.store.Factor(factorSid)
	if err != nil {
		return verifyclient.Credentials{}, Factor{}, storageError(err)
	}
	key, err := d.store.Key(f.KeyAlias)
	if err != nil {
		if errors.Is(err, keystore.ErrNotFound) {
			err = fmt.Errorf("%w: %w", verifyclient.ErrKeyPairNotSet, err)
		}
		return verifyclient.Credentials{}, Factor{}, verifyclient.Wrap(verifyclient.CodeKeyStorage, err)
	}
	return verifyclient.Credentials{
		FactorSid: f.Sid, AccountSid: f.AccountSid, ServiceSid: f.ServiceSid, Identity: f.Identity,
		CredentialSid: f.CredentialSid, Key: key,
	}, f, nil
}
