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
	"github.com/pushsim/pushsim/internal/tourstage"
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
	tourStepAnswer
	tourStepOutcome
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
// challenging and verifying the user. The last step's words depend on the
// user's answer: see stepCopy.
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
		{"The user answers",
			"The phone shows the sign-in and the user decides. To answer, the app " +
				"fetches the challenge, reads Twilio-Verify-Signature-Fields, signs " +
				"those fields and the answer (status approved or denied) as a JWS with " +
				"the factor's key, and posts it as AuthPayload. Nobody answering ends " +
				"it too: the challenge expires.",
			(*Tour).offerAnswer},
		{"Your backend learns the answer",
			"Verify reports an answer to your webhook, signed with X-Twilio-" +
				"Signature under your auth token, and your backend reads the " +
				"challenge to confirm it.",
			(*Tour).learnOutcome},
	}
}

// stepCopy is the title and explanation of step (from 1) as they read
// once the user has answered: what the last step shows depends on it.
func (t *Tour) stepCopy(step int) (title, text string) {
	s := t.steps[step-1]
	if step != tourStepOutcome {
		return s.title, s.text
	}
	signed := "It posts challenge.%s to your webhook as a form, signed with " +
		"X-Twilio-Signature: an HMAC-SHA1, under your auth token, of the " +
		"webhook's URL and the form's fields in sorted order. Your backend " +
		"checks the signature, then %s; reading the challenge confirms it."
	settled := "Verify checked the phone's signature against the factor's " +
		"public key and settled the challenge, once. "
	switch t.answer {
	case answerApproved:
		return "The webhook arrives", settled + fmt.Sprintf(signed, answerApproved, "lets the user in")
	case answerDenied:
		return "The webhook arrives", settled + fmt.Sprintf(signed, answerDenied, "refuses the sign-in")
	case answerExpired:
		return "No answer, so no webhook",
			"Verify has nothing to report: it sends no webhook when a challenge " +
				"expires. Your backend reads the challenge (or keeps its own timer), " +
				"finds it expired and refuses the sign-in; the user signs in again " +
				"for a new challenge."
	}
	return s.title, s.text
}

// endCopy is the last screen's summary of the path the user took.
func (t *Tour) endCopy() string {
	const start = "A service, a token, a factor created and verified, a webhook, a challenge pushed, "
	switch t.answer {
	case answerApproved:
		return start + "approved with the factor's signature and reported back by a signed webhook: the user is in."
	case answerDenied:
		return start + "denied with the factor's signature and reported back by a signed webhook: the sign-in is refused."
	case answerExpired:
		return start + "left unanswered until it expired, which Verify reports to no one: your backend read it and refused the sign-in."
	}
	return start + "and your backend told of the answer."
}

// answerNotes say how the challenge ended at step 7.
func answerNotes(a phoneAnswer, sid string, expires time.Time) []string {
	switch a.answer {
	case answerApproved:
		if a.silent {
			return []string{"The phone approved " + sid + " by itself (silent approval is on) and Verify accepted its signed answer."}
		}
		return []string{"The phone approved " + sid + " and Verify accepted its signed answer."}
	case answerDenied:
		return []string{"The phone denied " + sid + " and Verify accepted its signed answer."}
	}
	if expires.IsZero() {
		return []string{"Nobody answered " + sid + " before it expired."}
	}
	return []string{"Nobody answered " + sid + " before it expired at " + style.Stamp(expires) + "."}
}

// outcomeNotes say what step 8 found: the webhook, if one came, and the
// challenge as your backend read it, which decides the sign-in.
func outcomeNotes(answer string, hook *Webhook, sid, status string) []string {
	var notes []string
	switch {
	case hook != nil && hook.Valid:
		notes = append(notes, "✓ Verify posted "+hook.Type+" to your webhook, and its X-Twilio-Signature checks out under your auth token.")
	case hook != nil:
		notes = append(notes, "✗ Verify posted "+hook.Type+" to your webhook, but its X-Twilio-Signature does not check out under your auth token: a real backend refuses it.")
	case answer == answerExpired:
		notes = append(notes, "No webhook: Verify sends none when a challenge expires, so your backend reads the challenge.")
	}
	switch status {
	case answerApproved:
		notes = append(notes, "Challenge "+sid+" reads approved: the user is in.")
	case answerDenied:
		notes = append(notes, "Challenge "+sid+" reads denied: the sign-in is refused and the user stays out.")
	case answerExpired:
		notes = append(notes, "Challenge "+sid+" reads expired: nobody answered in time, so the sign-in is refused.")
	default:
		notes = append(notes, "Challenge "+sid+" reads "+status+": Verify has not settled it, so the user is not in.")
	}
	return notes
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
	done, stage, parent := t.enrolling, t.stage, t.com.Context
	return func() tea.Msg {
		msg := stepDoneMsg{step: tourStepVerifyFactor}
		select {
		case r := <-done:
			// The verification's logged time includes the hold: say so.
			if hold, ok := stage.LastHold(); ok {
				msg.holds = []tourstage.Hold{hold}
			}
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
			expires:      ch.ExpirationDate,
			notes:        []string{"Challenge " + ch.Sid + " is pending until " + style.Stamp(ch.ExpirationDate) + "."},
			await:        &tourAwait{challengeSid: ch.Sid},
		}
	})
}

// offerAnswer waits for the challenge's answer, which the user gives on
// the phone or lets Enter give for them, unless it came already.
func (t *Tour) offerAnswer() tea.Cmd {
	return cmdOf(stepDoneMsg{step: tourStepAnswer, await: &tourAwait{challengeSid: t.challengeSid, answer: true}})
}

// learnOutcome waits for the answer's webhook at the sample backend's
// sink (there is none for an expiry), then reads the challenge as your
// backend would: what it reads decides the sign-in.
func (t *Tour) learnOutcome() tea.Cmd {
	client, path, sid, answer, sink, parent := t.client, t.entityPath()+"/Challenges/"+t.challengeSid, t.challengeSid, t.answer, t.webhookURL, t.com.Context
	return func() tea.Msg {
		msg := stepDoneMsg{step: tourStepOutcome}
		ctx, cancel := context.WithTimeout(parent, tourWebhookWait)
		defer cancel()
		if answer != answerExpired {
			hook, err := waitForWebhook(ctx, client, sid, answer)
			if err != nil {
				msg.err = err
				return msg
			}
			hook.URL = sink
			msg.webhook = &hook
		}
		var ch struct {
			Status string `json:"status"`
		}
		if err := client.Do(ctx, v2(http.MethodGet, path, nil), &ch); err != nil {
			msg.err = err
			return msg
		}
		msg.notes = outcomeNotes(answer, msg.webhook, sid, ch.Status)
		return msg
	}
}

// waitForWebhook polls the sink, with the account's credentials as the
// backend's operator, until it has received the challenge's answer event
// (challenge.approved or challenge.denied; either if answer is unknown).
// The polls are left out of the log: the step shows the delivery itself.
func waitForWebhook(ctx context.Context, client *backendclient.Client, challengeSid, answer string) (Webhook, error) {
	tick := time.NewTicker(100 * time.Millisecond)
	defer tick.Stop()
	for {
		events, err := client.WebhookEvents(ctx, true)
		if err == nil {
			for _, e := range events {
				if e.Params["challenge_sid"] != challengeSid {
					continue
				}
				if e.Type == "challenge."+answer || (answer == "" && (e.Type == "challenge.approved" || e.Type == "challenge.denied")) {
					return Webhook{Type: e.Type, Signature: e.Signature, Valid: e.Valid, Params: e.Params, Received: e.Received}, nil
				}
			}
		}
		select {
		case <-ctx.Done():
			return Webhook{}, errors.New("no webhook for " + challengeSid + " yet: Verify retries failed deliveries with backoff; press Enter to look again")
		case <-tick.C:
		}
	}
}
