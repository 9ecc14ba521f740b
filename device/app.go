package device

import (
	"context"
	"errors"
	"fmt"
	"net/url"
	"slices"
	"strings"
	"sync"

	"github.com/gorilla/websocket"

	"github.com/pushsim/pushsim/device/pushclient"
	"github.com/pushsim/pushsim/device/verifyclient"
)

// PushURL is the push service's websocket address on a pushsim server
// whose base URL is serverURL.
func PushURL(serverURL string) (string, error) {
	u, err := url.Parse(strings.TrimRight(serverURL, "/"))
	if err != nil || u.Host == "" {
		return "", fmt.Errorf("server URL %q is not an absolute URL", serverURL)
	}
	switch u.Scheme {
	case "http":
		u.Scheme = "ws"
	case "https":
		u.Scheme = "wss"
	default:
		return "", fmt.Errorf("server URL %q must be http or https", serverURL)
	}
	u.Path += "/push/connect"
	return u.String(), nil
}

// LaunchOptions say how the app behaves once opened.
type LaunchOptions struct {
	// Identity and FriendlyName enroll a factor when the phone has none;
	// with no Identity the app just runs, waiting to be enrolled.
	Identity     string
	FriendlyName string
	// PushURL is the push service to register with; empty means no push:
	// factors use platform none and the phone polls.
	PushURL string
	// AutoAnswer, when "approved" or "denied", answers every challenge
	// that reaches the phone (for scripts and CI). Approving skips
	// number-matching challenges, which take the number shown at sign-in:
	// each is reported as an error event (ErrNumberMatchNotAutomatic) and
	// left pending for the user. Denying denies them too.
	AutoAnswer string
	// Dialer connects the push socket; default pushclient's.
	Dialer *websocket.Dialer
}

// Launch does what the sample app does when it is opened and keeps doing it
// until ctx ends: finish any enrolment a crash or a failure left unverified
// (verify the factor again, or forget it if the server no longer has it),
// settle the push token (so a factor is created on the right platform),
// enroll if the phone has no factor, then run the poller and the push
// socket, and come to the foreground. It returns early only when the phone
// cannot start: the enrolment failed, or the phone was to enroll an
// identity and has no verified factor after trying. Everything later is
// reported as events.
func (d *Device) Launch(ctx context.Context, o LaunchOptions) error {
	if o.AutoAnswer != "" && o.AutoAnswer != verifyclient.ChallengeApproved && o.AutoAnswer != verifyclient.ChallengeDenied {
		return fmt.Errorf("device: cannot auto-answer %q", o.AutoAnswer)
	}
	// First, so that a factor the server has forgotten is not registered
	// for pushes in vain.
	unfinished := d.finishEnrollments(ctx)
	var reg pushRegistration
	var err error
	if o.PushURL != "" {
		reg, err = d.ensurePushRegistration(ctx)
	} else {
		err = d.UpdatePushToken(ctx, "")
	}
	if err != nil {
		// Not fatal: the factors keep their old platform and polling works.
		d.emitError("push-token", "", "", err)
	}
	factors, err := d.GetAllFactors()
	if err != nil {
		return err
	}
	if unfinished != nil {
		// A phone left with only a factor it could not verify has nothing
		// to run, just like one whose enrolment failed.
		if o.Identity != "" && !slices.ContainsFunc(factors, isVerified) {
			return fmt.Errorf("enroll %s: %w", o.Identity, unfinished)
		}
		d.emitError("enroll", "", "", unfinished)
	}
	if len(factors) == 0 && o.Identity != "" {
		if _, err := d.CreateFactor(ctx, EnrollParams{Identity: o.Identity, FriendlyName: o.FriendlyName}); err != nil {
			return fmt.Errorf("enroll %s: %w", o.Identity, err)
		}
	}

	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	var wg sync.WaitGroup
	defer wg.Wait()
	if o.AutoAnswer != "" {
		events := d.Subscribe(ctx)
		wg.Add(1)
		go func() { defer wg.Done(); d.autoAnswer(ctx, events, o.AutoAnswer) }()
	}
	if o.PushURL != "" && reg.secret != "" {
		wg.Add(1)
		go func() { defer wg.Done(); d.runPush(ctx, o.PushURL, reg.secret, o.Dialer) }()
	}
	wg.Add(1)
	go func() { defer wg.Done(); d.Run(ctx) }()
	d.SetForeground(true)
	<-ctx.Done()
	return nil
}

func isVerified(f Factor) bool { return f.Status == verifyclient.FactorVerified }

// ErrNumberMatchNotAutomatic is why an automatic approval left a
// number-matching challenge pending.
var ErrNumberMatchNotAutomatic = errors.New("number matching: approving takes the number shown on the sign-in page, which automatic answers are never given; " +
	"type it on the phone's keypad, or deny the challenge")

func (d *Device) autoAnswer(ctx context.Context, events <-chan Event, status string) {
	for e := range events {
		// A challenge announced again (resent) was answered when it was
		// first announced.
		if e.Kind != EventChallenge || d.settled(e.ChallengeSid) {
			continue
		}
		// Approving without the number would make the user's glance at
		// the sign-in page, the point of number matching, unnecessary.
		// Denying needs no number and signs nobody in.
		if status == verifyclient.ChallengeApproved && e.Challenge != nil && NeedsNumberMatch(e.Challenge) {
			d.emitError("auto-"+status, e.FactorSid, e.ChallengeSid, ErrNumberMatchNotAutomatic)
			continue
		}
		if _, err := d.UpdateChallenge(ctx, e.FactorSid, e.ChallengeSid, status); err != nil && ctx.Err() == nil {
			d.emitError("auto-"+status, e.FactorSid, e.ChallengeSid, err)
		}
	}
}

// runPush keeps the push socket open while the phone is online: airplane
// mode drops it, leaving airplane mode dials again. Every (re)connect polls,
// because pushes sent while the phone was away may be lost. The socket is
// opened with the registration's secret, so it receives what is sent to the
// token derived from it.
func (d *Device) runPush(ctx context.Context, pushURL, secret string, dialer *websocket.Dialer) {
	client, err := pushclient.New(pushclient.Config{
		URL: pushURL, Secret: secret, Dialer: dialer, Now: d.now,
		OnMessage: func(m pushclient.Message) {
			if m.Data["type"] != "verify_push_challenge" {
				return
			}
			n := PushNotification{ChallengeSid: m.Data["challenge_sid"], FactorSid: m.Data["factor_sid"], Message: m.Data["message"]}
			// Fetching the challenge is a network call; the socket's reader
			// must not wait for it.
			go d.HandlePush(ctx, n)
		},
		OnDuplicate: func(m pushclient.Message) {
			d.emit(Event{Kind: EventPushDuplicate, ChallengeSid: m.Data["challenge_sid"], FactorSid: m.Data["factor_sid"]})
		},
		OnConnect: func() {
			d.emit(Event{Kind: EventPushConnected})
			d.pollSoon()
		},
		OnDisconnect: func(err error) {
			e := Event{Kind: EventPushDisconnected}
			if err != nil && ctx.Err() == nil {
				e.Error = err.Error()
			}
			d.emit(e)
		},
	})
	if err != nil {
		d.emitError("push", "", "", err)
		return
	}
	for ctx.Err() == nil {
		online, changed := d.network()
		if !online {
			select {
			case <-ctx.Done():
			case <-changed:
			}
			continue
		}
		runCtx, stop := context.WithCancel(ctx)
		go func() {
			select {
			case <-changed:
			case <-runCtx.Done():
			}
			stop()
		}()
		client.Run(runCtx)
		stop()
	}
}
