package console

import (
	"github.com/pushsim/pushsim/internal/backendclient"
	"github.com/pushsim/pushsim/internal/termtext"
)

// Everything the console draws comes from the server and its backend,
// which on a shared server anyone with the account's credentials feeds: it
// is made safe for the terminal as it arrives (termtext), before it is
// kept, and View neutralises any C1 or bidi code point left in the frame.
// A real SID is unchanged by it, so the console still calls the backend
// with what it keeps.

func shownChallenges(in []backendclient.Challenge) []backendclient.Challenge {
	if in == nil {
		return nil
	}
	out := make([]backendclient.Challenge, len(in))
	for i, ch := range in {
		out[i] = shownChallenge(ch)
	}
	return out
}

func shownChallenge(ch backendclient.Challenge) backendclient.Challenge {
	ch.Sid = termtext.Line(ch.Sid)
	ch.Identity = termtext.Line(ch.Identity)
	ch.FactorSid = termtext.Line(ch.FactorSid)
	ch.Status = termtext.Line(ch.Status)
	ch.RespondedReason = termtext.Line(ch.RespondedReason)
	ch.Details.Message = termtext.Line(ch.Details.Message)
	ch.Details.Fields = append(ch.Details.Fields[:0:0], ch.Details.Fields...)
	for i, f := range ch.Details.Fields {
		ch.Details.Fields[i].Label, ch.Details.Fields[i].Value = termtext.Line(f.Label), termtext.Line(f.Value)
	}
	ch.HiddenDetails = termtext.Map(ch.HiddenDetails)
	return ch
}

func shownFactors(in []backendclient.Factor) []backendclient.Factor {
	if in == nil {
		return nil
	}
	out := make([]backendclient.Factor, len(in))
	for i, f := range in {
		out[i] = backendclient.Factor{Sid: termtext.Line(f.Sid), FriendlyName: termtext.Line(f.FriendlyName), Status: termtext.Line(f.Status)}
	}
	return out
}

func shownEvents(in []backendclient.WebhookEvent) []backendclient.WebhookEvent {
	if in == nil {
		return nil
	}
	out := make([]backendclient.WebhookEvent, len(in))
	for i, e := range in {
		e.Type, e.UUID, e.Params = termtext.Line(e.Type), termtext.Line(e.UUID), termtext.Map(e.Params)
		out[i] = e
	}
	return out
}

func shownFaults(in backendclient.Faults) backendclient.Faults {
	out := backendclient.Faults{Push: make([]backendclient.PushFault, len(in.Push))}
	for i, r := range in.Push {
		r.FactorSid, r.Mode = termtext.Line(r.FactorSid), termtext.Line(r.Mode)
		out.Push[i] = r
	}
	if in.Webhook != nil {
		w := *in.Webhook
		w.Mode = termtext.Line(w.Mode)
		out.Webhook = &w
	}
	return out
}

func shownDeliveries(in []backendclient.Delivery) []backendclient.Delivery {
	if in == nil {
		return nil
	}
	out := make([]backendclient.Delivery, len(in))
	for i, d := range in {
		d.UUID, d.Type, d.URL, d.State, d.LastError = termtext.Line(d.UUID), termtext.Line(d.Type), termtext.Line(d.URL), termtext.Line(d.State), termtext.Line(d.LastError)
		out[i] = d
	}
	return out
}
