package console

import (
	"context"
	"errors"
	"strings"

	tea "charm.land/bubbletea/v2"

	"github.com/pushsim/pushsim/device/verifyclient"
	"github.com/pushsim/pushsim/internal/backendclient"
)

// refresh reloads the live lists, one reload at a time: asking while one
// is in flight runs another when it lands, so nothing is missed.
func (c *Console) refresh() tea.Cmd {
	if c.refreshing {
		c.refreshAgain = true
		return nil
	}
	c.refreshing = true
	client, user, parent := c.client, c.user, c.com.Context
	// The delivery log is read while the sink fails or a delivery it
	// refused is still being retried.
	deliveries := c.faults.Webhook != nil || len(c.deliveries) > 0
	seq := c.controlSeq
	return func() tea.Msg {
		ctx, cancel := context.WithTimeout(parent, requestTimeout)
		defer cancel()
		msg := RefreshedMsg{controlSeq: seq}
		var errs [3]error
		msg.Factors, errs[0] = client.ListFactors(ctx, user, true)
		msg.Challenges, errs[1] = client.ListChallenges(ctx, user)
		msg.Events, errs[2] = client.WebhookEvents(ctx, true)
		msg.Err = errors.Join(errs[:]...)
		msg.Faults, msg.Clock, msg.Deliveries, msg.ControlErr = readControl(ctx, client, deliveries)
		return msg
	}
}

// deliveriesRead is how many of the newest webhook deliveries a refresh
// looks at for ones the sink refused.
const deliveriesRead = 50

// readControl reads the faults in force, the server's clock and, when
// asked, the webhook deliveries.
func readControl(ctx context.Context, client *backendclient.Client, deliveries bool) (*backendclient.Faults, *backendclient.ServerClock, []backendclient.Delivery, error) {
	faults, err := client.Faults(ctx)
	if err != nil {
		return nil, nil, nil, err
	}
	clock, err := client.ServerClock(ctx)
	if err != nil {
		return nil, nil, nil, err
	}
	var log []backendclient.Delivery
	if deliveries {
		if log, err = client.WebhookDeliveries(ctx, deliveriesRead); err != nil {
			return nil, nil, nil, err
		}
		if log == nil {
			log = []backendclient.Delivery{}
		}
	}
	return &faults, &clock, log, nil
}

// controlRead keeps what the control API said, unless the console changed
// something since the refresh began: its own answer is newer.
func (c *Console) controlRead(msg RefreshedMsg) {
	if msg.controlSeq != c.controlSeq {
		return
	}
	if msg.ControlErr != nil {
		c.controlErr = msg.ControlErr
		return
	}
	c.controlErr = nil
	if msg.Faults != nil {
		c.faults, c.controlKnown = shownFaults(*msg.Faults), true
	}
	if msg.Clock != nil {
		c.clockOffset = msg.Clock.Offset
	}
	if msg.Deliveries != nil {
		c.deliveries = nil
		for _, d := range shownDeliveries(msg.Deliveries) {
			if d.Failing() && strings.HasSuffix(d.URL, sinkPath) {
				c.deliveries = append(c.deliveries, d)
			}
		}
	}
}

// sinkPath is where the sample backend's webhook sink listens: the
// deliveries the webhook fault can refuse.
const sinkPath = "/backend/webhook"

// refreshed stores the lists and reports challenges the backend has
// withdrawn since the last look.
func (c *Console) refreshed(msg RefreshedMsg) tea.Cmd {
	c.refreshing = false
	var again tea.Cmd
	if c.refreshAgain {
		c.refreshAgain = false
		again = c.refresh()
	}
	c.controlRead(msg)
	c.offline = msg.Err
	if msg.Err != nil {
		return again
	}
	c.factors, c.challenges, c.events, c.loaded = shownFactors(msg.Factors), shownChallenges(msg.Challenges), shownEvents(msg.Events), true
	c.follow()
	c.noteSettled()
	var withdrawn []string
	for _, ch := range c.challenges {
		if ch.Status == verifyclient.ChallengeExpired && ch.RespondedReason == respondedNotNeeded && !c.withdrawn[ch.Sid] {
			c.withdrawn[ch.Sid] = true
			withdrawn = append(withdrawn, ch.Sid)
		}
	}
	if len(withdrawn) > 0 {
		return tea.Batch(again, cmdOf(WithdrawnMsg{ChallengeSids: withdrawn}))
	}
	return again
}

// loadHash asks the sample backend what it sends Verify for the user.
func (c *Console) loadHash() tea.Cmd {
	client, user, parent := c.client, c.user, c.com.Context
	return func() tea.Msg {
		ctx, cancel := context.WithTimeout(parent, requestTimeout)
		defer cancel()
		hashed, err := client.HashIdentity(ctx, user)
		return HashedMsg{Hashed: hashed, Err: err}
	}
}
