package tour

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"time"

	tea "charm.land/bubbletea/v2"

	"github.com/pushsim/pushsim/device"
	"github.com/pushsim/pushsim/internal/backendclient"
	"github.com/pushsim/pushsim/tui/style"
)

// The steps, numbered from 1 as the tour shows them.
const (
	tourStepService = 1 + iota
	tourStepToken
	tourStepCreateFactor
	tourStepVerifyFactor
	tourStepWebhook
	tourStepChallenge
	tourStepApprove
	tourStepWebhookReceived
)

// tourServiceName names the service the tour creates, apart from the
// sample backend's.
const tourServiceName = "pushsim tour"

// What the login page of step 6 knows about the sign-in, for the phone to
// show.
const (
	signInLocation = "Lisbon, Portugal"
	signInBrowser  = "Firefox 140 on macOS"
	signInIP       = "203.0.113.7"
)

// requestTimeout bounds each step's calls, so a hung server never leaves a
// step running forever.
const requestTimeout = 30 * time.Second

// tourSteps follow the quickstart's two sequences: registering the user's
// device (service, token, factor, verification, webhook), then
// challenging and verifying the user.
func tourSteps() []tourStep {
	return []tourStep{
		{"Create a Verify Service",
			"Your backend's first call. A Verify Service holds the push settings " +
				"(on Twilio you would attach an FCM push credential; pushsim's push " +
				"service needs none), and every later call names it by its VA SID. " +
				"Your backend calls Verify with the account SID and auth token.",
			(*Tour).createService},
		{"Your backend gets an access token",
			"The app never holds your account credentials: it asks your backend, " +
				"which asks Verify for an enrolment token bound to the service, the " +
				"user's identity and the push factor type. It is single-use and short-" +
				"lived. The identity is the SHA-256 of the user name, so no personal " +
				"data reaches Verify.",
			(*Tour).createAccessToken},
		{"The phone creates its factor",
			"The app fetches the token from the endpoint your backend exposes (the " +
				"tour serves one on loopback), makes a P-256 key in its keystore and " +
				"creates a push factor with the public key and its push token, " +
				"authenticated as Basic token:<access token>. The entity is created " +
				"with it. The factor starts unverified.",
			(*Tour).createFactor},
		{"The phone verifies the factor",
			"The app proves it holds the private key: it signs the factor SID and " +
				"posts the signature as AuthPayload, authenticated from now on by a " +
				"device JWT signed with the same key. Verify checks it against the " +
				"public key and the factor becomes verified. The app then opens its " +
				"push socket and starts polling.",
			(*Tour).verifyFactor},
		{"Configure a webhook",
			"Your backend subscribes to Verify's events, so it learns of answers " +
				"without polling. The tour points the webhook at the sample backend's " +
				"sink on this server, which checks each delivery's X-Twilio-Signature.",
			(*Tour).createWebhook},
		{"Create a challenge",
			"The user signs in, so your backend challenges their factor: a message " +
				"and fields the phone shows, hidden details it keeps to itself, and an " +
				"expiry (five minutes by default). Verify pushes {type: " +
				"verify_push_challenge, challenge_sid, factor_sid} to the phone, which " +
				"fetches the challenge to show it.",
			(*Tour).createChallenge},
		{"The user approves",
			"The phone fetches the challenge, reads Twilio-Verify-Signature-Fields, " +
				"signs those fields and status=approved as a JWS with the factor's key " +
				"and posts it as AuthPayload. Enter approves for the user; or tab to " +
				"the phone and press a (or d).",
			(*Tour).approve},
		{"The webhook arrives",
			"Verify checks the signature against the factor's public key, settles " +
				"the challenge once, and posts challenge.approved to your webhook, " +
				"signed with X-Twilio-Signature under your auth token. Your backend " +
				"lets the user in; reading the challenge confirms it.",
			(*Tour).awaitWebhook},
	}
}

// v2 is a call to Verify with the account's credentials, as your backend
// makes it.
func v2(method, path string, form url.Values) backendclient.Call {
	return backendclient.Call{Method: method, Path: "/v2" + path, Form: form, Account: true}
}

func (t *Tour) entityPath() string {
	return "/Services/" + t.serviceSid + "/Entities/" + t.identity
}

// work runs a step's calls with a deadline, off the UI's goroutine.
func (t *Tour) work(step int, do func(ctx context.Context) stepDoneMsg) tea.Cmd {
	parent := t.com.Context
	return func() tea.Msg {
		ctx, cancel := context.WithTimeout(parent, requestTimeout)
		defer cancel()
		msg := do(ctx)
		msg.step = step
		return msg
	}
}

func (t *Tour) createService() tea.Cmd {
	client := t.client
	return t.work(tourStepService, func(ctx context.Context) stepDoneMsg {
		var svc struct {
			Sid string `json:"sid"`
		}
		if err := client.Do(ctx, v2(http.MethodPost, "/Services", url.Values{"FriendlyName": {tourServiceName}}), &svc); err != nil {
			return stepDoneMsg{err: err}
		}
		return stepDoneMsg{serviceSid: svc.Sid, notes: []string{"Service " + svc.Sid + " created."}}
	})
}

func (t *Tour) createAccessToken() tea.Cmd {
	client, stage, path, user, identity, service := t.client, t.stage, "/Services/"+t.serviceSid+"/AccessTokens", t.user, t.identity, t.serviceSid
	return t.work(tourStepToken, func(ctx context.Context) stepDoneMsg {
		var tok struct {
			Sid   string `json:"sid"`
			Token string `json:"token"`
			TTL   int    `json:"ttl"`
		}
		form := url.Values{"Identity": {identity}, "FactorType": {"push"}, "Ttl": {"300"}}
		if err := client.Do(ctx, v2(http.MethodPost, path, form), &tok); err != nil {
			return stepDoneMsg{err: err}
		}
		stage.Offer(user, device.AccessToken{Token: tok.Token, ServiceSid: service, Identity: identity, FactorType: "push"})
		return stepDoneMsg{notes: []string{
			fmt.Sprintf("Access token %s: single-use, valid %d s.", tok.Sid, tok.TTL),
			"Your backend hands it to " + user + "'s phone at " + stage.TokenURL() + ".",
		}}
	})
}

// createFactor enrolls the phone and stops when it sends the verification,
// which the next step lets go.
func (t *Tour) createFactor() tea.Cmd {
	held := t.stage.HoldVerification()
	done := make(chan tourEnrolled, 1)
	t.enrolling = done
	dev, user := t.dev, t.user
	parent := t.com.Context
	return func() tea.Msg {
		go func() {
			var r tourEnrolled
			if _, r.err = dev.EnsurePushToken(parent); r.err == nil {
				r.factor, r.err = dev.CreateFactor(parent, device.EnrollParams{Identity: user, FriendlyName: user + "'s phone"})
			}
			done <- r
		}()
		msg := stepDoneMsg{step: tourStepCreateFactor, phone: &PhoneMsg{Action: PhoneReload}}
		select {
		case <-held:
			factors, err := dev.GetAllFactors()
			if err != nil || len(factors) == 0 {
				return stepDoneMsg{step: tourStepCreateFactor, err: errors.Join(err, errors.New("the phone kept no factor"))}
			}
			f := factors[0] // newest first
			msg.factorSid = f.Sid
			msg.notes = []string{
				fmt.Sprintf("Factor %s created: %s, push platform %s.", f.Sid, f.Status, f.NotificationPlatform),
				"The phone has sent its verification; the tour holds it until the next step.",
			}
		case r := <-done:
			if r.err != nil {
				return stepDoneMsg{step: tourStepCreateFactor, err: r.err}
			}
			// Verified without a second call: the next step has nothing to let go.
			done <- r
			msg.factorSid = r.factor.Sid
			msg.notes = []string{"Factor " + r.factor.Sid + " created, already " + r.factor.Status + "."}
		case <-parent.Done():
			return stepDoneMsg{step: tourStepCreateFactor, err: parent.Err()}
		}
		return msg
	}
}

func (t *Tour) verifyFactor() tea.Cmd {
	t.stage.ReleaseVerification()
	done, parent := t.enrolling, t.com.Context
	return func() tea.Msg {
		msg := stepDoneMsg{step: tourStepVerifyFactor}
		select {
		case r := <-done:
			if r.err != nil {
				msg.err = r.err
				return msg
			}
			msg.notes = []string{"Factor " + r.factor.Sid + " is " + r.factor.Status + "."}
			msg.phone = &PhoneMsg{Action: PhoneRelaunch}
		case <-parent.Done():
			msg.err = parent.Err()
		}
		return msg
	}
}

func (t *Tour) createWebhook() tea.Cmd {
	client, path, sink := t.client, "/Services/"+t.serviceSid+"/Webhooks", t.webhookURL
	return t.work(tourStepWebhook, func(ctx context.Context) stepDoneMsg {
		var hook struct {
			Sid string `json:"sid"`
		}
		form := url.Values{"FriendlyName": {"pushsim tour"}, "EventTypes": {"*"}, "WebhookUrl": {sink}}
		if err := client.Do(ctx, v2(http.MethodPost, path, form), &hook); err != nil {
			return stepDoneMsg{err: err}
		}
		return stepDoneMsg{notes: []string{"Webhook " + hook.Sid + " sends every event to " + sink + "."}}
	})
}

func (t *Tour) createChallenge() tea.Cmd {
	client, path, factor := t.client, t.entityPath()+"/Challenges", t.factorSid
	return t.work(tourStepChallenge, func(ctx context.Context) stepDoneMsg {
		form := url.Values{"FactorSid": {factor}, "Details.Message": {"Sign in to Acme?"}}
		for _, f := range [][2]string{{"Location", signInLocation}, {"Browser", signInBrowser}} {
			field, _ := json.Marshal(map[string]string{"label": f[0], "value": f[1]})
			form.Add("Details.Fields", string(field))
		}
		hidden, _ := json.Marshal(map[string]string{"ip": signInIP})
		form.Set("HiddenDetails", string(hidden))
		var ch struct {
			Sid            string    `json:"sid"`
			ExpirationDate time.Time `json:"expiration_date"`
		}
		if err := client.Do(ctx, v2(http.MethodPost, path, form), &ch); err != nil {
			return stepDoneMsg{err: err}
		}
		return stepDoneMsg{
			challengeSid: ch.Sid,
			notes:        []string{"Challenge " + ch.Sid + " is pending until " + style.Stamp(ch.ExpirationDate) + "."},
			await:        &tourAwait{challengeSid: ch.Sid},
		}
	})
}

// approve asks the phone to approve, unless its user already answered.
func (t *Tour) approve() tea.Cmd {
	sid, factor := t.challengeSid, t.factorSid
	return cmdOf(stepDoneMsg{step: tourStepApprove, await: &tourAwait{
		challengeSid: sid, answer: true,
		ask: &PhoneMsg{Action: PhoneApprove, FactorSid: factor, ChallengeSid: sid},
	}})
}

// awaitWebhook waits for the challenge's webhook at the sample backend's
// sink, then reads the challenge as your backend would.
func (t *Tour) awaitWebhook() tea.Cmd {
	client, path, sid, parent := t.client, t.entityPath()+"/Challenges/"+t.challengeSid, t.challengeSid, t.com.Context
	return func() tea.Msg {
		msg := stepDoneMsg{step: tourStepWebhookReceived}
		ctx, cancel := context.WithTimeout(parent, tourWebhookWait)
		defer cancel()
		event, err := waitForWebhook(ctx, client, sid)
		if err != nil {
			msg.err = err
			return msg
		}
		// Shown once found: the sink's list as the backend reads it.
		if _, err := client.WebhookEvents(ctx, false); err != nil {
			msg.err = err
			return msg
		}
		signature := "X-Twilio-Signature valid"
		if !event.Valid {
			signature = "X-Twilio-Signature INVALID"
		}
		var ch struct {
			Status string `json:"status"`
		}
		if err := client.Do(ctx, v2(http.MethodGet, path, nil), &ch); err != nil {
			msg.err = err
			return msg
		}
		msg.notes = []string{
			"✓ " + event.Type + " received, " + signature + ".",
			"Challenge " + sid + " reads " + ch.Status + ": the user is in.",
		}
		return msg
	}
}

// waitForWebhook polls the sink until it has received an answer event
// for the challenge.
func waitForWebhook(ctx context.Context, client *backendclient.Client, challengeSid string) (backendclient.WebhookEvent, error) {
	tick := time.NewTicker(100 * time.Millisecond)
	defer tick.Stop()
	for {
		events, err := client.WebhookEvents(ctx, true)
		if err == nil {
			for _, e := range events {
				if e.Params["challenge_sid"] == challengeSid && (e.Type == "challenge.approved" || e.Type == "challenge.denied") {
					return e, nil
				}
			}
		}
		select {
		case <-ctx.Done():
			return backendclient.WebhookEvent{}, errors.New("no webhook for " + challengeSid + " yet: Verify retries failed deliveries with backoff; press Enter to look again")
		case <-tick.C:
		}
	}
}
